//! An office's database from before the victims' side and the casualty register: case
//! management's schema as its first migrations made it, rows written in that shape, then the
//! later migrations and the services started. The figures are those the data gave before, except
//! where the counting rule of issue 13 (item 4) says otherwise: a case closed as not a crime no
//! longer counts, and stays queryable as such.
//!
//! Twice: once with reporting starting from an empty database, rebuilt from what case management
//! republishes; once with reporting's own database as the old version left it, holding the
//! projections, rollups and stream positions it had made from case management's old events
//! (which counted the case closed as not a crime). The figures must be the same both times: no
//! stale cell survives, and nothing counts twice.

use docket_e2e::{Backend, TestApp, TestDatabases, on_every_backend};
use docket_platform::ServiceKind;
use docket_platform::auth::Role;
use docket_platform::settings::Settings;
use docket_proto::docket::cases::v1 as pb;
use docket_proto::docket::common::v1 as common;
use docket_proto::docket::events::v1 as ev;
use docket_proto::docket::reporting::v1 as rep;
use sea_orm::sea_query::{Alias, Query, SimpleExpr};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, TransactionTrait};
use sea_orm_migration::MigratorTrait;
use uuid::Uuid;

use super::register::{filter, until, victims};

on_every_backend!(figures_of_an_old_database_survive_its_migration_but_for_the_counting_rule);
on_every_backend!(an_old_reporting_database_is_rebuilt_without_a_stale_or_double_count);

use rep::Dimension as D;

/// Case management's migrations before the victims' side (`m20261216_050001`): audit log, event
/// log, cases, persons, case changes and the audit entry count.
const OLD_MIGRATIONS: u32 = 6;

/// Reporting's migrations before the victims' side (`m20261216_050001`): audit log, projections,
/// rollups, leases, case references, lease incarnation and the audit entry count.
const OLD_REPORTING_MIGRATIONS: u32 = 7;

/// A victim group as the first schema kept it: count, status, harm, age group, sex.
type OldGroup = (i32, &'static str, &'static str, &'static str, &'static str);

/// What an old office's case management holds, with what it published of each case.
struct OldOffice {
    shelling: Uuid,
    execution: Uuid,
    victim: Uuid,
    /// The snapshots the old version published, oldest first: no close reason, no victims' side,
    /// no named victims.
    published: Vec<ev::EventPayload>,
}

async fn insert(db: &DatabaseConnection, table: &str, columns: &[&str], values: Vec<SimpleExpr>) {
    let mut insert = Query::insert();
    insert
        .into_table(Alias::new(table))
        .columns(columns.iter().map(|c| Alias::new(*c)))
        .values_panic(values);
    db.execute(&insert).await.unwrap();
}

/// A case row as the first schema had it.
async fn old_case(
    db: &DatabaseConnection,
    number: u32,
    status: &str,
    party: &str,
    close_reason: Option<&str>,
    groups: &[OldGroup],
) -> Uuid {
    let id = Uuid::now_v7();
    let at = chrono::Utc::now();
    insert(
        db,
        "cases",
        &[
            "id",
            "reference",
            "title",
            "status",
            "version",
            "party_codes",
            "violation_types",
            "crime_type_codes",
            "place_name",
            "opened_at",
            "updated_at",
            "close_reason",
        ],
        vec![
            id.into(),
            format!("CASE-2020-{number:06}").into(),
            format!("Case {number} of the old register").into(),
            status.into(),
            3_i64.into(),
            format!(",{party},").into(),
            ",killing,".into(),
            if party == "AZ" { ",icc.8.2.a.i," } else { "" }.into(),
            "Ganja".into(),
            at.into(),
            at.into(),
            close_reason.map(str::to_owned).into(),
        ],
    )
    .await;
    for (position, (count, status, harm, age_group, sex)) in groups.iter().enumerate() {
        insert(
            db,
            "case_victim_groups",
            &[
                "case_id",
                "position",
                "count",
                "status",
                "harm",
                "age_group",
                "sex",
            ],
            vec![
                id.into(),
                i32::try_from(position).unwrap().into(),
                (*count).into(),
                (*status).into(),
                (*harm).into(),
                (*age_group).into(),
                (*sex).into(),
            ],
        )
        .await;
    }
    id
}

async fn old_person(
    db: &DatabaseConnection,
    case_id: Uuid,
    name: &str,
    role: &str,
    party: &str,
) -> Uuid {
    let id = Uuid::now_v7();
    let at = chrono::Utc::now();
    insert(
        db,
        "persons",
        &["id", "display_name", "identity_sealed", "created_at"],
        vec![id.into(), name.into(), false.into(), at.into()],
    )
    .await;
    insert(
        db,
        "case_persons",
        &[
            "case_id",
            "person_id",
            "role",
            "affiliation_party_code",
            "protective_measures",
            "added_at",
            "updated_at",
        ],
        vec![
            case_id.into(),
            id.into(),
            role.into(),
            party.into(),
            "".into(),
            at.into(),
            at.into(),
        ],
    )
    .await;
    id
}

async fn by(reporting: &mut docket_e2e::ReportingClient, dimension: D) -> Vec<(String, i64)> {
    let mut rows: Vec<(String, i64)> = reporting
        .query_statistics(rep::QueryStatisticsRequest {
            measure: rep::Measure::Victims.into(),
            group_by: vec![dimension.into()],
            audience: rep::Audience::Internal.into(),
            include_uncounted: dimension == D::Counting,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .rows
        .iter()
        .map(|row| (row.keys.join("/"), row.value))
        .collect();
    rows.sort();
    rows
}

fn pairs(expected: &[(&str, i64)]) -> Vec<(String, i64)> {
    expected
        .iter()
        .map(|(k, v)| ((*k).to_owned(), *v))
        .collect()
}

/// An old event's status name for a case status of the first schema.
fn status_name(status: &str) -> String {
    format!("CASE_STATUS_{}", status.to_uppercase())
}

/// The snapshot the old version published of a case: the fields events then carried.
fn old_snapshot(
    case_id: Uuid,
    number: u32,
    status: &str,
    party: &str,
    groups: &[OldGroup],
    charges: Vec<ev::ChargeState>,
) -> ev::EventPayload {
    let enum_value = |prefix: &str, value: &str| format!("{prefix}_{}", value.to_uppercase());
    let victims = groups
        .iter()
        .map(
            |(count, status, harm, age_group, sex)| common::VictimGroup {
                count: *count,
                status: common::VictimStatus::from_str_name(&enum_value("VICTIM_STATUS", status))
                    .unwrap()
                    .into(),
                harm: common::Harm::from_str_name(&enum_value("HARM", harm))
                    .unwrap()
                    .into(),
                age_group: common::AgeGroup::from_str_name(&enum_value("AGE_GROUP", age_group))
                    .unwrap()
                    .into(),
                sex: common::Sex::from_str_name(&enum_value("SEX", sex))
                    .unwrap()
                    .into(),
                ..Default::default()
            },
        )
        .collect();
    ev::EventPayload {
        kind: Some(ev::event_payload::Kind::CaseChanged(ev::CaseChanged {
            case_id: case_id.to_string(),
            reference: format!("CASE-2020-{number:06}"),
            status: status_name(status),
            party_codes: vec![party.to_owned()],
            crime_type_codes: if party == "AZ" {
                vec!["icc.8.2.a.i".to_owned()]
            } else {
                Vec::new()
            },
            victims,
            place_name: "Ganja".to_owned(),
            charges,
            ..Default::default()
        })),
    }
}

/// Case management's database as the old version left it, at its first migrations.
async fn old_case_management(databases: &TestDatabases) -> OldOffice {
    let db = Database::connect(databases.url(ServiceKind::CaseManagement))
        .await
        .unwrap();
    docket_case_management::Migrator::up(&db, Some(OLD_MIGRATIONS))
        .await
        .unwrap();
    // Shelling of civilians by AM; prisoners of war killed by AZ, with a commander charged in
    // absentia and one victim recorded by name, in clear as victims then were; a case closed as
    // not a crime.
    let shelling = old_case(
        &db,
        1,
        "open",
        "AM",
        None,
        &[
            (3, "civilian", "killed", "adult", "male"),
            (1, "civilian", "killed", "child", "female"),
            (2, "civilian", "ill_treated", "adult", "unknown"),
        ],
    )
    .await;
    let execution = old_case(
        &db,
        2,
        "under_investigation",
        "AZ",
        None,
        &[(2, "prisoner_of_war", "killed", "adult", "male")],
    )
    .await;
    let closed_groups: [OldGroup; 1] = [(5, "civilian", "injured", "adult", "unknown")];
    let closed = old_case(&db, 3, "closed", "AM", Some("not_a_crime"), &closed_groups).await;
    let commander = old_person(&db, execution, "Commander of unit 7", "suspect", "AZ").await;
    let at = chrono::Utc::now();
    let charge = Uuid::now_v7();
    insert(
        &db,
        "charges",
        &[
            "id",
            "case_id",
            "person_id",
            "crime_type_code",
            "in_absentia",
            "filed_date",
            "status",
            "filed_by",
            "filed_at",
            "status_changed_at",
        ],
        vec![
            charge.into(),
            execution.into(),
            commander.into(),
            "icc.8.2.a.i".into(),
            true.into(),
            "2020-12-02".into(),
            "filed".into(),
            "prosecutor".into(),
            at.into(),
            at.into(),
        ],
    )
    .await;
    let victim = old_person(&db, execution, "Armen Petrosyan", "victim", "AM").await;
    let shelling_groups: [OldGroup; 3] = [
        (3, "civilian", "killed", "adult", "male"),
        (1, "civilian", "killed", "child", "female"),
        (2, "civilian", "ill_treated", "adult", "unknown"),
    ];
    let execution_groups: [OldGroup; 1] = [(2, "prisoner_of_war", "killed", "adult", "male")];
    let published = vec![
        old_snapshot(shelling, 1, "open", "AM", &shelling_groups, Vec::new()),
        old_snapshot(closed, 3, "closed", "AM", &closed_groups, Vec::new()),
        old_snapshot(
            execution,
            2,
            "under_investigation",
            "AZ",
            &execution_groups,
            vec![ev::ChargeState {
                charge_id: charge.to_string(),
                person_id: commander.to_string(),
                crime_type_code: "icc.8.2.a.i".to_owned(),
                in_absentia: true,
                status: "CHARGE_STATUS_FILED".to_owned(),
            }],
        ),
    ];
    db.close().await.unwrap();
    OldOffice {
        shelling,
        execution,
        victim,
        published,
    }
}

/// Settings for the services on `databases`, which already hold data.
fn settings_on(databases: &TestDatabases) -> Settings {
    let mut settings = Settings::defaults().unwrap();
    settings.data_dir = databases.data_dir().to_owned();
    for kind in ServiceKind::ALL {
        settings.set_listen(kind, "127.0.0.1:0".parse().unwrap());
        settings.set_database_url(kind, databases.url(kind));
    }
    settings
}

async fn figures_of_an_old_database_survive_its_migration_but_for_the_counting_rule(
    backend: Backend,
) {
    let Some(databases) = TestDatabases::create(backend).await else {
        return;
    };
    let office = old_case_management(&databases).await;
    // The later migrations run as the services start.
    let settings = settings_on(&databases);
    let app = TestApp::start_on(databases, settings).await;
    figures_of_the_old_office(&app, &office).await;
    lists_of_the_old_cases(&app, &office).await;
}

/// The cases' lists of codes, kept as `,a,b,` text by the old schema, read and filtered on as
/// rows of `case_codes` (`m20261220_100001`).
async fn lists_of_the_old_cases(app: &TestApp, office: &OldOffice) {
    let mut cases = app.cases_as(Role::Analyst).await;
    let mut get = async |id: Uuid| {
        cases
            .get_case(pb::GetCaseRequest {
                case_id: id.to_string(),
            })
            .await
            .unwrap()
            .into_inner()
            .r#case
            .unwrap()
    };
    let shelling = get(office.shelling).await;
    assert_eq!(shelling.party_codes, ["AM"]);
    assert_eq!(
        shelling.violation_types,
        [i32::from(common::ViolationType::Killing)]
    );
    assert!(shelling.crime_type_codes.is_empty());
    let execution = get(office.execution).await;
    assert_eq!(execution.party_codes, ["AZ"]);
    assert_eq!(execution.crime_type_codes, ["icc.8.2.a.i"]);
    let listed = |request: pb::ListCasesRequest| {
        let mut cases = cases.clone();
        async move {
            cases
                .list_cases(request)
                .await
                .unwrap()
                .into_inner()
                .cases
                .into_iter()
                .map(|c| c.reference)
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        listed(pb::ListCasesRequest {
            party_code: "AM".into(),
            ..Default::default()
        })
        .await,
        ["CASE-2020-000001", "CASE-2020-000003"]
    );
    assert_eq!(
        listed(pb::ListCasesRequest {
            crime_type_code: "icc.8.2.a.i".into(),
            ..Default::default()
        })
        .await,
        ["CASE-2020-000002"]
    );
}

async fn an_old_reporting_database_is_rebuilt_without_a_stale_or_double_count(backend: Backend) {
    let Some(databases) = TestDatabases::create(backend).await else {
        return;
    };
    let office = old_case_management(&databases).await;
    // What the old version published, in its event log.
    let db = Database::connect(databases.url(ServiceKind::CaseManagement))
        .await
        .unwrap();
    let txn = db.begin().await.unwrap();
    let head = docket_platform::events::append_many(&txn, &office.published)
        .await
        .unwrap();
    txn.commit().await.unwrap();
    db.close().await.unwrap();
    old_reporting(&databases, head).await;

    let settings = settings_on(&databases);
    let app = TestApp::start_on(databases, settings).await;
    figures_of_the_old_office(&app, &office).await;
}

/// Reporting's database as the old version left it after following case management up to
/// `head`: the three cases projected as their old events gave them (the case closed as not a
/// crime counted, for those events said nothing of why it closed), the rollups of those figures,
/// and the stream position.
async fn old_reporting(databases: &TestDatabases, head: i64) {
    let db = Database::connect(databases.url(ServiceKind::Reporting))
        .await
        .unwrap();
    docket_reporting::Migrator::up(&db, Some(OLD_REPORTING_MIGRATIONS))
        .await
        .unwrap();
    let at = chrono::Utc::now();
    let cases: [(u32, &str, &str, &[OldGroup]); 3] = [
        (
            1,
            "open",
            "AM",
            &[
                (3, "civilian", "killed", "adult", "male"),
                (1, "civilian", "killed", "child", "female"),
                (2, "civilian", "ill_treated", "adult", "unknown"),
            ],
        ),
        (
            2,
            "under_investigation",
            "AZ",
            &[(2, "prisoner_of_war", "killed", "adult", "male")],
        ),
        (
            3,
            "closed",
            "AM",
            &[(5, "civilian", "injured", "adult", "unknown")],
        ),
    ];
    for (number, status, party, groups) in cases {
        // Ids unknown to case management: were they kept, they would count beside the real ones.
        let case_id = Uuid::now_v7().to_string();
        insert(
            &db,
            "case_facts",
            &["case_id", "status", "place", "reference", "opened_time"],
            vec![
                case_id.clone().into(),
                status_name(status).into(),
                "Ganja".into(),
                format!("CASE-2020-{number:06}").into(),
                at.into(),
            ],
        )
        .await;
        insert(
            &db,
            "case_parties",
            &["case_id", "party_code"],
            vec![case_id.clone().into(), party.into()],
        )
        .await;
        for (position, (count, status, harm, age_group, sex)) in groups.iter().enumerate() {
            insert(
                &db,
                "case_victims",
                &[
                    "case_id",
                    "position",
                    "count",
                    "victim_status",
                    "harm",
                    "age_group",
                    "sex",
                ],
                vec![
                    case_id.clone().into(),
                    i64::try_from(position).unwrap().into(),
                    i64::from(*count).into(),
                    format!("VICTIM_STATUS_{}", status.to_uppercase()).into(),
                    format!("HARM_{}", harm.to_uppercase()).into(),
                    format!("AGE_GROUP_{}", age_group.to_uppercase()).into(),
                    format!("SEX_{}", sex.to_uppercase()).into(),
                ],
            )
            .await;
        }
    }
    // The old figures: 13 victims, 11 by AM and 2 by AZ, in three cases.
    for (measure, dims, key, value) in [
        ("MEASURE_VICTIMS", "", "", 13_i64),
        ("MEASURE_VICTIMS", "DIMENSION_PARTY", "AM", 11),
        ("MEASURE_VICTIMS", "DIMENSION_PARTY", "AZ", 2),
        ("MEASURE_CASES", "", "", 3),
    ] {
        insert(
            &db,
            "stat_rollups",
            &["measure", "dims", "key1", "key2", "value"],
            vec![
                measure.into(),
                dims.into(),
                key.into(),
                "".into(),
                value.into(),
            ],
        )
        .await;
    }
    insert(
        &db,
        "stream_cursors",
        &["stream", "last_sequence", "source_head"],
        vec!["case-management".into(), head.into(), head.into()],
    )
    .await;
    db.close().await.unwrap();
}

/// The old office's figures after the upgrade: what the old rule counted, less the 5 injured of
/// the case closed as not a crime, which remain queryable as such.
async fn figures_of_the_old_office(app: &TestApp, office: &OldOffice) {
    let OldOffice {
        shelling,
        execution,
        victim,
        ..
    } = *office;
    let mut reporting = app.reporting_as(Role::Analyst).await;
    until(&mut reporting, vec![], 8).await;
    // What the old rule counted, less the 5 injured of the case closed as not a crime, which
    // remain queryable as such.
    assert_eq!(
        by(&mut reporting, D::Counting).await,
        pairs(&[("counted", 8), ("not_a_crime", 5)])
    );
    assert_eq!(
        by(&mut reporting, D::Party).await,
        pairs(&[("AM", 6), ("AZ", 2)])
    );
    assert_eq!(
        by(&mut reporting, D::Harm).await,
        pairs(&[("HARM_ILL_TREATED", 2), ("HARM_KILLED", 6)])
    );
    assert_eq!(
        by(&mut reporting, D::AgeGroup).await,
        pairs(&[("AGE_GROUP_ADULT", 7), ("AGE_GROUP_CHILD", 1)])
    );
    // Groups recorded before the victims' side was asked have it unknown.
    assert_eq!(
        by(&mut reporting, D::VictimParty).await,
        pairs(&[("unknown", 8)])
    );
    let killed_children = victims(
        &mut reporting,
        vec![
            filter(D::Harm, &["HARM_KILLED"]),
            filter(D::AgeGroup, &["AGE_GROUP_CHILD"]),
        ],
    )
    .await;
    assert_eq!(killed_children, 1);
    let charges = reporting
        .query_statistics(rep::QueryStatisticsRequest {
            measure: rep::Measure::Charges.into(),
            filters: vec![filter(D::InAbsentia, &["true"])],
            audience: rep::Audience::Internal.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .total;
    assert_eq!(charges, 1);

    // The victim kept in clear is sealed now: an analyst sees no name, an investigator does.
    let persons = |role| {
        let app = &app;
        async move {
            app.cases_as(role)
                .await
                .list_persons(pb::ListPersonsRequest {
                    case_id: execution.to_string(),
                    role: pb::PersonRole::Victim.into(),
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner()
                .persons
        }
    };
    let seen = persons(Role::Analyst).await;
    assert_eq!(seen.len(), 1);
    assert!(seen[0].redacted && seen[0].display_name.is_empty());
    let seen = persons(Role::Investigator).await;
    assert_eq!(seen[0].id, victim.to_string());
    assert_eq!(seen[0].display_name, "Armen Petrosyan");
    // The cases are those of before: shelling still open and counted.
    let case = app
        .cases()
        .await
        .get_case(pb::GetCaseRequest {
            case_id: shelling.to_string(),
        })
        .await
        .unwrap()
        .into_inner()
        .r#case
        .unwrap();
    assert_eq!(case.victims.len(), 3);
}
