//! Applying one event to the projections. Applying is idempotent (an allegation or a case is
//! replaced as a whole), and runs in the transaction that also advances the stream's cursor.

use chrono::{DateTime, Datelike, Utc};
use docket_proto::docket::common::v1 as common;
use docket_proto::docket::events::v1 as ev;
use docket_proto::docket::events::v1::event_payload::Kind;
use docket_proto::parse_time;
use sea_orm::{ConnectionTrait, DbErr, Value};

use crate::sql::execute;

/// The ISO week of `time`, such as `2020-W41`.
pub fn iso_week(time: DateTime<Utc>) -> String {
    let week = time.iso_week();
    format!("{}-W{:02}", week.year(), week.week())
}

fn week_of(time: Option<&prost_types::Timestamp>) -> Value {
    time.and_then(|t| parse_time(t).ok()).map(iso_week).into()
}

fn place(name: &str) -> Value {
    (!name.trim().is_empty())
        .then(|| name.trim().to_owned())
        .into()
}

fn enum_name<E: TryFrom<i32>>(raw: i32, name: impl Fn(&E) -> &'static str) -> String {
    E::try_from(raw).map_or_else(|_| format!("UNKNOWN_{raw}"), |e| name(&e).to_owned())
}

/// Applies `payload` to the projections in `conn`.
pub async fn apply<C: ConnectionTrait>(conn: &C, payload: &ev::EventPayload) -> Result<(), DbErr> {
    match &payload.kind {
        Some(Kind::AllegationRecorded(a)) => allegation(conn, a).await,
        Some(Kind::AllegationStatusChanged(c)) => {
            execute(
                conn,
                "UPDATE allegation_facts SET status = ? WHERE allegation_id = ?",
                vec![c.status.clone().into(), c.allegation_id.clone().into()],
            )
            .await
        }
        Some(Kind::CaseChanged(c)) => case(conn, c).await,
        // Evidence is not counted yet; unknown kinds from a newer source are skipped.
        Some(Kind::EvidenceRecorded(_)) | None => Ok(()),
    }
}

async fn allegation<C: ConnectionTrait>(conn: &C, a: &ev::AllegationRecorded) -> Result<(), DbErr> {
    let id: Value = a.allegation_id.clone().into();
    for table in [
        "allegation_violations",
        "allegation_parties",
        "allegation_facts",
    ] {
        execute(
            conn,
            &format!("DELETE FROM {table} WHERE allegation_id = ?"),
            vec![id.clone()],
        )
        .await?;
    }
    let received = a
        .received_time
        .as_ref()
        .and_then(|t| parse_time(t).ok())
        .unwrap_or_default();
    execute(
        conn,
        "INSERT INTO allegation_facts (allegation_id, status, received_time, incident_week, place) \
         VALUES (?, ?, ?, ?, ?)",
        vec![
            id.clone(),
            a.status.clone().into(),
            received.into(),
            week_of(a.incident_start_time.as_ref()),
            place(&a.place_name),
        ],
    )
    .await?;
    let mut types: Vec<String> = a
        .violation_types
        .iter()
        .map(|raw| enum_name(*raw, common::ViolationType::as_str_name))
        .collect();
    types.sort();
    types.dedup();
    for violation in types {
        execute(
            conn,
            "INSERT INTO allegation_violations (allegation_id, violation_type) VALUES (?, ?)",
            vec![id.clone(), violation.into()],
        )
        .await?;
    }
    let mut parties = a.party_codes.clone();
    parties.sort();
    parties.dedup();
    for party in parties {
        execute(
            conn,
            "INSERT INTO allegation_parties (allegation_id, party_code) VALUES (?, ?)",
            vec![id.clone(), party.into()],
        )
        .await?;
    }
    Ok(())
}

async fn case<C: ConnectionTrait>(conn: &C, c: &ev::CaseChanged) -> Result<(), DbErr> {
    let id: Value = c.case_id.clone().into();
    for table in [
        "case_parties",
        "case_crime_types",
        "case_victims",
        "case_charges",
        "case_facts",
    ] {
        execute(
            conn,
            &format!("DELETE FROM {table} WHERE case_id = ?"),
            vec![id.clone()],
        )
        .await?;
    }
    execute(
        conn,
        "INSERT INTO case_facts (case_id, status, incident_week, place) VALUES (?, ?, ?, ?)",
        vec![
            id.clone(),
            c.status.clone().into(),
            week_of(c.incident_start_time.as_ref()),
            place(&c.place_name),
        ],
    )
    .await?;
    let mut parties = c.party_codes.clone();
    parties.sort();
    parties.dedup();
    for party in parties {
        execute(
            conn,
            "INSERT INTO case_parties (case_id, party_code) VALUES (?, ?)",
            vec![id.clone(), party.into()],
        )
        .await?;
    }
    let mut crimes = c.crime_type_codes.clone();
    crimes.sort();
    crimes.dedup();
    for crime in crimes {
        execute(
            conn,
            "INSERT INTO case_crime_types (case_id, crime_type_code) VALUES (?, ?)",
            vec![id.clone(), crime.into()],
        )
        .await?;
    }
    for (position, group) in c.victims.iter().enumerate() {
        execute(
            conn,
            "INSERT INTO case_victims (case_id, position, count, victim_status, harm, age_group, sex) \
             VALUES (?, ?, ?, ?, ?, ?, ?)",
            vec![
                id.clone(),
                (position as i64).into(),
                i64::from(group.count).into(),
                enum_name(group.status, common::VictimStatus::as_str_name).into(),
                enum_name(group.harm, common::Harm::as_str_name).into(),
                enum_name(group.age_group, common::AgeGroup::as_str_name).into(),
                enum_name(group.sex, common::Sex::as_str_name).into(),
            ],
        )
        .await?;
    }
    for charge in &c.charges {
        execute(
            conn,
            "INSERT INTO case_charges (charge_id, case_id, person_id, crime_type_code, in_absentia, status) \
             VALUES (?, ?, ?, ?, ?, ?)",
            vec![
                charge.charge_id.clone().into(),
                id.clone(),
                charge.person_id.clone().into(),
                charge.crime_type_code.clone().into(),
                charge.in_absentia.to_string().into(),
                charge.status.clone().into(),
            ],
        )
        .await?;
    }
    Ok(())
}
