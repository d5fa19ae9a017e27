//! An office's database from before the victims' side and the casualty register: case
//! management's schema as its first migrations made it, rows written in that shape, then the
//! later migrations and the services started. The figures are those the data gave before, except
//! where the counting rule of issue 13 (item 4) says otherwise: a case closed as not a crime no
//! longer counts, and stays queryable as such.

use docket_e2e::{Backend, TestApp, TestDatabases, on_every_backend};
use docket_platform::ServiceKind;
use docket_platform::auth::Role;
use docket_platform::settings::Settings;
use docket_proto::docket::cases::v1 as pb;
use docket_proto::docket::reporting::v1 as rep;
use sea_orm::sea_query::{Alias, Query, SimpleExpr};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use sea_orm_migration::MigratorTrait;
use uuid::Uuid;

use super::register::{filter, until, victims};

on_every_backend!(figures_of_an_old_database_survive_its_migration_but_for_the_counting_rule);

use rep::Dimension as D;

/// Case management's migrations before the victims' side (`m20261216_050001`): audit log, event
/// log, cases, persons, case changes and the audit entry count.
const OLD_MIGRATIONS: u32 = 6;

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
    groups: &[(i32, &str, &str, &str, &str)],
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

async fn figures_of_an_old_database_survive_its_migration_but_for_the_counting_rule(
    backend: Backend,
) {
    let Some(databases) = TestDatabases::create(backend).await else {
        return;
    };
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
    old_case(
        &db,
        3,
        "closed",
        "AM",
        Some("not_a_crime"),
        &[(5, "civilian", "injured", "adult", "unknown")],
    )
    .await;
    let commander = old_person(&db, execution, "Commander of unit 7", "suspect", "AZ").await;
    let at = chrono::Utc::now();
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
            Uuid::now_v7().into(),
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
    db.close().await.unwrap();

    // The later migrations run as the services start.
    let mut settings = Settings::defaults().unwrap();
    settings.data_dir = databases.data_dir().to_owned();
    for kind in ServiceKind::ALL {
        settings.set_listen(kind, "127.0.0.1:0".parse().unwrap());
        settings.set_database_url(kind, databases.url(kind));
    }
    let app = TestApp::start_on(databases, settings).await;
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
