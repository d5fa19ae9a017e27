//! The seed situation's figures, checked through `QueryStatistics` for both audiences and
//! through `ExportCases` in CSV and JSON lines for both audiences.

use std::collections::HashMap;
use std::time::Duration;

use docket_e2e::{Backend, ReportingClient, TestApp, on_every_backend};
use docket_platform::auth::Role;
use docket_proto::docket::reporting::v1 as rep;
use serde_json::Value;
use tonic::Code;

use super::situation::{self, LEADERS, Situation};
use super::{ask, keys, rows};

on_every_backend!(the_seed_situation_adds_up_in_statistics_and_exports);

use rep::Audience::{Internal, Public};
use rep::Dimension as D;
use rep::Measure as M;

/// Waits until reporting has applied the whole situation (its last event is the last charge).
pub async fn settled(client: &mut ReportingClient) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let charges = ask(client, M::Charges, &[], vec![], Internal).await.total;
        let cases = ask(client, M::Cases, &[], vec![], Internal).await.total;
        if (cases, charges) == (6, 5) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "projections did not catch up: {cases} cases, {charges} charges"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn filter(dimension: D, values: &[&str]) -> rep::Filter {
    rep::Filter {
        dimension: dimension.into(),
        values: values.iter().map(|v| (*v).to_owned()).collect(),
    }
}

/// The lines of an export.
pub async fn export(
    client: &mut ReportingClient,
    format: rep::ExportFormat,
    audience: rep::Audience,
    filters: Vec<rep::Filter>,
) -> Result<Vec<String>, tonic::Status> {
    let mut stream = client
        .export_cases(rep::ExportCasesRequest {
            format: format.into(),
            audience: audience.into(),
            filters,
        })
        .await?
        .into_inner();
    let mut lines = Vec::new();
    while let Some(message) = stream.message().await? {
        lines.push(message.line);
    }
    Ok(lines)
}

/// One CSV record's fields (RFC 4180 quoting).
fn fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                chars.next();
                fields.last_mut().unwrap().push('"');
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(String::new()),
            (c, _) => fields.last_mut().unwrap().push(c),
        }
    }
    fields
}

/// A CSV export as one map of column to value per case, keyed by reference.
fn csv_by_reference(lines: &[String]) -> HashMap<String, HashMap<String, String>> {
    let header = fields(&lines[0]);
    lines[1..]
        .iter()
        .map(|line| {
            let row: HashMap<String, String> = header.iter().cloned().zip(fields(line)).collect();
            (row["reference"].clone(), row)
        })
        .collect()
}

/// A JSON lines export keyed by reference.
fn json_by_reference(lines: &[String]) -> HashMap<String, Value> {
    lines
        .iter()
        .map(|line| {
            let row: Value = serde_json::from_str(line).unwrap();
            (row["reference"].as_str().unwrap().to_owned(), row)
        })
        .collect()
}

async fn the_seed_situation_adds_up_in_statistics_and_exports(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let seed = situation::build(&app).await;
    let mut analyst = app.reporting_as(Role::Analyst).await;
    settled(&mut analyst).await;
    office_statistics(&mut analyst).await;
    // The public audience of live figures is the office's preview; the public reads releases.
    let mut public = app.reporting_as(Role::Analyst).await;
    public_statistics(&mut public).await;
    office_exports(&mut analyst, &seed).await;
    public_exports(&mut public, &seed).await;
    // A public reader gets no live export at all, whichever edition: it reads releases.
    let mut reader = app.reporting_as(Role::PublicReporter).await;
    for audience in [Internal, Public] {
        let refused = export(&mut reader, rep::ExportFormat::Csv, audience, vec![])
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::PermissionDenied);
    }
    app.stop().await;
}

async fn office_statistics(analyst: &mut ReportingClient) {
    let by_crime = ask(
        analyst,
        M::Cases,
        &[D::CrimeType, D::Party],
        vec![],
        Internal,
    )
    .await;
    assert_eq!(by_crime.total, 6);
    assert_eq!(
        rows(&by_crime),
        [
            (keys(&["icc.8.2.a.i", "AZ"]), 2, false),
            (keys(&["icc.8.2.b.i", "AM"]), 3, false),
            (keys(&["icc.8.2.b.xxi", "AM"]), 1, false),
        ]
    );
    let harm = ask(analyst, M::Victims, &[D::Harm], vec![], Internal).await;
    assert_eq!(harm.total, 30, "the duplicate report adds no victims");
    assert_eq!(
        rows(&harm),
        [
            (keys(&["HARM_BODY_DEFILED"]), 3, false),
            (keys(&["HARM_INJURED"]), 1, false),
            (keys(&["HARM_KILLED"]), 26, false),
        ]
    );
    let killed = ask(
        analyst,
        M::Victims,
        &[D::AgeGroup, D::Sex],
        vec![
            filter(D::Harm, &["HARM_KILLED"]),
            filter(D::VictimStatus, &["VICTIM_STATUS_CIVILIAN"]),
        ],
        Internal,
    )
    .await;
    assert_eq!(killed.total, 23, "civilians killed in the shelling");
    assert_eq!(
        rows(&killed),
        [
            (keys(&["AGE_GROUP_ADULT", "SEX_FEMALE"]), 10, false),
            (keys(&["AGE_GROUP_ADULT", "SEX_MALE"]), 5, false),
            (keys(&["AGE_GROUP_CHILD", "SEX_FEMALE"]), 2, false),
            (keys(&["AGE_GROUP_CHILD", "SEX_MALE"]), 3, false),
            (keys(&["AGE_GROUP_ELDERLY", "SEX_FEMALE"]), 2, false),
            (keys(&["AGE_GROUP_ELDERLY", "SEX_MALE"]), 1, false),
        ]
    );
    let pows = ask(
        analyst,
        M::Victims,
        &[D::VictimStatus],
        vec![filter(D::Party, &["AZ"])],
        Internal,
    )
    .await;
    assert_eq!(
        rows(&pows),
        [(keys(&["VICTIM_STATUS_PRISONER_OF_WAR"]), 3, false)]
    );
    for measure in [M::Charges, M::Accused] {
        let charged = ask(analyst, measure, &[D::InAbsentia], vec![], Internal).await;
        assert_eq!(charged.total, 5);
        assert_eq!(
            rows(&charged),
            [(keys(&["false"]), 1, false), (keys(&["true"]), 4, false)]
        );
    }
    let weeks = ask(analyst, M::Cases, &[D::IncidentWeek], vec![], Internal).await;
    assert_eq!(
        rows(&weeks),
        [
            (keys(&["2020-W41"]), 2, false),
            (keys(&["2020-W42"]), 1, false),
            (keys(&["unknown"]), 3, false),
        ]
    );
}

async fn public_statistics(public: &mut ReportingClient) {
    // By age group and sex every cell goes: within each sex the small cells of children and the
    // elderly add up to 5 or less, so the adults' cell would give them back.
    let people = ask(public, M::Victims, &[D::AgeGroup, D::Sex], vec![], Public).await;
    assert_eq!((people.total, people.total_suppressed), (30, false));
    assert_eq!(people.rows.len(), 6);
    assert!(people.rows.iter().all(|r| r.suppressed && r.value == 0));
    let weeks = ask(public, M::Victims, &[D::IncidentWeek], vec![], Public).await;
    assert_eq!(
        rows(&weeks),
        [
            (keys(&["2020-W41"]), 17, false),
            (keys(&["2020-W42"]), 7, false),
            (keys(&["unknown"]), 6, false),
        ]
    );
    let parties = ask(public, M::Cases, &[D::Party], vec![], Public).await;
    assert_eq!((parties.total, parties.total_suppressed), (6, false));
    assert!(parties.rows.iter().all(|r| r.suppressed && r.value == 0));
    let charges = ask(public, M::Charges, &[D::InAbsentia], vec![], Public).await;
    assert!(charges.total_suppressed && charges.total == 0);
}

async fn office_exports(analyst: &mut ReportingClient, seed: &Situation) {
    use rep::ExportFormat::{Csv, JsonLines};
    let csv = export(analyst, Csv, Internal, vec![]).await.unwrap();
    assert_eq!(csv.len(), 7, "a header and six cases: {csv:#?}");
    let cases = csv_by_reference(&csv);
    let first = &cases[&seed.shelling[0]];
    assert!(seed.shelling[0].starts_with("CASE-") && seed.shelling[0].len() == 16);
    for (column, value) in [
        ("status", "CASE_STATUS_CHARGES_FILED"),
        ("incident_week", "2020-W41"),
        ("parties", "AM"),
        ("crime_types", "icc.8.2.b.i"),
        ("victims", "10"),
        ("killed", "9"),
        ("injured", "1"),
        ("charges", "4"),
        ("charges_in_absentia", "4"),
        ("accused", "4"),
        ("charged_crime_types", "icc.8.2.b.i"),
        ("place", "Ganja, Shahriyar street"),
    ] {
        assert_eq!(first[column], value, "{column}");
    }
    assert_eq!(first["opened_date"].len(), 10);
    assert!(
        first["casualty_groups"]
            .contains("VICTIM_STATUS_CIVILIAN/HARM_KILLED/AGE_GROUP_CHILD/SEX_MALE=3")
    );
    let sum = |column: &str| -> i64 {
        cases
            .values()
            .map(|c| c[column].parse::<i64>().unwrap())
            .sum()
    };
    assert_eq!(
        (sum("victims"), sum("killed"), sum("body_defiled")),
        (30, 26, 3)
    );
    assert_eq!(cases[&seed.defilement]["body_defiled"], "3");
    assert_eq!(cases[&seed.executions[0]]["charges_in_absentia"], "0");

    let json = json_by_reference(&export(analyst, JsonLines, Internal, vec![]).await.unwrap());
    assert_eq!(json.len(), 6);
    let third = &json[&seed.shelling[2]];
    assert_eq!(third["incident_week"], "2020-W42");
    assert_eq!(third["killed"], 7);
    assert_eq!(third["parties"], serde_json::json!(["AM"]));
    assert_eq!(third["casualty_groups"][0]["count"], 6);
    assert_eq!(json[&seed.executions[1]]["incident_week"], Value::Null);
    let total: i64 = json.values().map(|c| c["victims"].as_i64().unwrap()).sum();
    assert_eq!(total, 30);

    let against_az = export(analyst, Csv, Internal, vec![filter(D::Party, &["AZ"])])
        .await
        .unwrap();
    let mut found: Vec<String> = csv_by_reference(&against_az).into_keys().collect();
    found.sort();
    assert_eq!(found, seed.executions);
    let charged = export(
        analyst,
        JsonLines,
        Internal,
        vec![
            filter(D::CaseStatus, &["CASE_STATUS_CHARGES_FILED"]),
            filter(D::CrimeType, &["icc.8.2.b.i"]),
        ],
    )
    .await
    .unwrap();
    assert_eq!(
        json_by_reference(&charged).into_keys().collect::<Vec<_>>(),
        [seed.shelling[0].clone()]
    );
}

async fn public_exports(public: &mut ReportingClient, seed: &Situation) {
    use rep::ExportFormat::{Csv, JsonLines};
    let csv = export(public, Csv, Public, vec![]).await.unwrap();
    let json = export(public, JsonLines, Public, vec![]).await.unwrap();
    let everything = format!("{csv:?}{json:?}");
    for secret in LEADERS
        .iter()
        .chain(&["Ganja", "Shahriyar", "Execution", "Soldier", "rocket"])
    {
        assert!(
            !everything.contains(secret),
            "the public export shows {secret}"
        );
    }
    let columns = fields(&csv[0]);
    assert!(
        !columns
            .iter()
            .any(|c| c == "place" || c == "casualty_groups"),
        "{columns:?}"
    );
    let cases = csv_by_reference(&csv);
    let first = &cases[&seed.shelling[0]];
    for (column, value) in [
        ("victims", "6-10"),
        ("killed", "6-10"),
        ("injured", "1-5"),
        ("body_defiled", "0"),
        ("charges", "1-5"),
        ("charges_in_absentia", "1-5"),
        ("accused", "1-5"),
        ("status", "CASE_STATUS_CHARGES_FILED"),
    ] {
        assert_eq!(first[column], value, "{column}");
    }
    let json = json_by_reference(&json);
    assert_eq!(json[&seed.shelling[2]]["killed"], "6-10");
    assert_eq!(json[&seed.defilement]["body_defiled"], "1-5");
    assert_eq!(json[&seed.executions[1]]["killed"], "1-5");
    assert!(json.values().all(|c| c.get("place").is_none()));
}
