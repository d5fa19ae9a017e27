//! Applying one event to the projections: the event becomes an item ([`facts`]), which
//! replaces the stored one in the fact tables, and the rollups take the difference. Applying is
//! idempotent (an item is replaced as a whole) and runs in the transaction that also advances
//! the stream's cursor.

use std::collections::{BTreeSet, HashSet};

use chrono::{DateTime, Datelike, Utc};
use docket_proto::docket::common::v1 as common;
use docket_proto::docket::events::v1 as ev;
use docket_proto::docket::events::v1::event_payload::Kind;
use docket_proto::parse_time;
use sea_orm::{ConnectionTrait, DbErr};

use crate::content;
use crate::counting;
use crate::facts::{
    self, AllegationItem, CaseItem, ChargeRow, Point, VictimRow, normalised, or_unknown,
};
use crate::named::{self, NamedRow};
use crate::rollup::Delta;

/// The ISO week of `time`, such as `2020-W41`.
pub fn iso_week(time: DateTime<Utc>) -> String {
    let week = time.iso_week();
    format!("{}-W{:02}", week.year(), week.week())
}

fn week_of(time: Option<&prost_types::Timestamp>) -> String {
    or_unknown(
        time.and_then(|t| parse_time(t).ok())
            .map(iso_week)
            .as_deref(),
    )
}

fn enum_name<E: TryFrom<i32>>(raw: i32, name: impl Fn(&E) -> &'static str) -> String {
    E::try_from(raw).map_or_else(|_| format!("UNKNOWN_{raw}"), |e| name(&e).to_owned())
}

/// Applies `payload` to the fact tables in `conn` and adds what it changes in the rollups to
/// `delta`, for the caller to write once for many events (their changes to one cell add up to
/// one update).
pub async fn apply_facts<C: ConnectionTrait>(
    conn: &C,
    payload: &ev::EventPayload,
    delta: &mut Delta,
) -> Result<(), DbErr> {
    match &payload.kind {
        Some(Kind::AllegationRecorded(a)) => {
            let before = facts::load_allegation(conn, &a.allegation_id).await?;
            replace_allegation(conn, before, allegation(a), delta).await
        }
        Some(Kind::AllegationStatusChanged(c)) => {
            let Some(before) = facts::load_allegation(conn, &c.allegation_id).await? else {
                // Intake records an allegation before any change of its status, so this is a
                // fault at the source; stopping the stream for it would stop every figure.
                tracing::error!(
                    allegation = %c.allegation_id,
                    "a status change of an allegation that was never recorded; skipped"
                );
                return Ok(());
            };
            let after = AllegationItem {
                status: c.status.clone(),
                ..before.clone()
            };
            replace_allegation(conn, Some(before), after, delta).await
        }
        Some(Kind::AllegationCorrected(c)) => {
            let Some(a) = &c.allegation else {
                tracing::error!("a correction without its allegation; skipped");
                return Ok(());
            };
            // The corrected allegation replaces the one counted: its violations and parties are
            // taken away from the rollups and the new ones added, so nothing counts twice.
            let before = facts::load_allegation(conn, &a.allegation_id).await?;
            replace_allegation(conn, before, allegation(a), delta).await
        }
        Some(Kind::CaseChanged(c)) => {
            let before = facts::load_case(conn, &c.case_id).await?;
            let mut after = case(c);
            content::store_links(
                conn,
                &c.case_id,
                &c.evidence_ids,
                &c.case_fabricated_evidence_ids,
            )
            .await?;
            // An event written before verdicts on content names no evidence: its flag stands.
            if !c.evidence_ids.is_empty() {
                after.only_fabricated_evidence = content::only_fabricated(conn, &c.case_id).await?;
            }
            replace_case(conn, before, after, delta).await
        }
        Some(Kind::EvidenceRecorded(e)) => {
            content::record_evidence(conn, &e.evidence_id, &e.sha256).await?;
            // Evidence registered directly to a case rests no allegation on its material; it
            // reaches the counting rule through the case that links it.
            if !e.allegation_id.is_empty() {
                content::record_allegation(conn, &e.evidence_id, &e.allegation_id).await?;
            }
            // A case may have linked it before this event of the other stream arrived.
            for case_id in content::cases_linking(conn, &e.evidence_id).await? {
                rejudge_case(conn, &case_id, delta).await?;
            }
            Ok(())
        }
        Some(Kind::ContentAssessed(a)) => {
            for evidence_id in &a.evidence_ids {
                content::record_evidence(conn, evidence_id, &a.sha256).await?;
            }
            content::record_verdict(conn, &a.sha256, &a.verdict).await?;
            for case_id in content::cases_linking_content(conn, &a.sha256).await? {
                rejudge_case(conn, &case_id, delta).await?;
            }
            Ok(())
        }
        // Unknown kinds from a newer source are skipped.
        None => Ok(()),
    }
}

/// Stores `after` in place of `before`, with what it counts of its victims, and recounts the
/// other cases naming a register entry it names or named: where an entry counts depends on
/// every case naming it (see [`crate::named`]).
async fn replace_case<C: ConnectionTrait>(
    conn: &C,
    before: Option<CaseItem>,
    mut after: CaseItem,
    delta: &mut Delta,
) -> Result<(), DbErr> {
    // Where an entry counts depends on which cases name it and whether each counts: the other
    // cases to recount are those naming an entry this case starts or stops naming, or any entry
    // it names when whether it counts changed. (A list naming many persons would otherwise
    // recount every case naming one of them at each of its changes.)
    let named_by = |case: &CaseItem| -> BTreeSet<String> {
        case.named.iter().map(|n| n.register_id.clone()).collect()
    };
    let after_entries = named_by(&after);
    let entries: Vec<String> = match &before {
        Some(before) if before.counting() == after.counting() => named_by(before)
            .symmetric_difference(&after_entries)
            .cloned()
            .collect(),
        Some(before) => named_by(before).union(&after_entries).cloned().collect(),
        None => after_entries.iter().cloned().collect(),
    };
    // Stored first with its groups as they are, so that the owners below see its new state.
    after.victims = after.reported.clone();
    facts::store_case(conn, &after).await?;
    let mut neighbours: Vec<String> = facts::cases_naming(conn, &entries)
        .await?
        .into_iter()
        .map(|(_, case, _)| case)
        .filter(|case| *case != after.id)
        .collect();
    neighbours.sort();
    neighbours.dedup();
    let mut others = Vec::with_capacity(neighbours.len());
    for id in &neighbours {
        if let Some(item) = facts::load_case(conn, id).await? {
            others.push(item);
        }
    }
    let mut all_entries: Vec<String> = others
        .iter()
        .chain(std::iter::once(&after))
        .flat_map(|c| c.named.iter().map(|n| n.register_id.clone()))
        .collect();
    all_entries.sort();
    all_entries.dedup();
    let naming = facts::cases_naming(conn, &all_entries).await?;
    let elsewhere = |case: &CaseItem| -> HashSet<String> {
        case.named
            .iter()
            .filter(|n| {
                let cases = naming
                    .iter()
                    .filter(|(entry, _, _)| *entry == n.register_id)
                    .map(|(_, c, counting)| (c.as_str(), counting.as_str()));
                named::owner(cases).is_some_and(|owner| owner != case.id)
            })
            .map(|n| n.register_id.clone())
            .collect()
    };
    after.victims = named::counted_victims(&after.reported, &after.named, &elsewhere(&after));
    facts::store_counted_victims(conn, &after.id, &after.victims).await?;
    delta.case(before.as_ref(), Some(&after));
    for other in others {
        let victims =
            named::counted_victims(other.reported_groups(), &other.named, &elsewhere(&other));
        if victims != other.victims {
            facts::store_counted_victims(conn, &other.id, &victims).await?;
            let recounted = CaseItem {
                victims,
                ..other.clone()
            };
            delta.case(Some(&other), Some(&recounted));
        }
    }
    Ok(())
}

/// Judges again whether case `case_id` rests only on fabricated material, after a verdict on
/// content (or the bytes of an item) it links became known, and recounts it if that changed —
/// through [`replace_case`], the one path that stores a case, since whether it counts decides
/// where the register entries it names count.
async fn rejudge_case<C: ConnectionTrait>(
    conn: &C,
    case_id: &str,
    delta: &mut Delta,
) -> Result<(), DbErr> {
    let Some(before) = facts::load_case(conn, case_id).await? else {
        return Ok(());
    };
    let fabricated = content::only_fabricated(conn, case_id).await?;
    if fabricated == before.only_fabricated_evidence {
        return Ok(());
    }
    let after = CaseItem {
        only_fabricated_evidence: fabricated,
        // A case stored before groups and named victims were kept apart holds its groups in
        // `victims` only.
        reported: before.reported_groups().to_vec(),
        ..before.clone()
    };
    replace_case(conn, Some(before), after, delta).await
}

async fn replace_allegation<C: ConnectionTrait>(
    conn: &C,
    before: Option<AllegationItem>,
    after: AllegationItem,
    delta: &mut Delta,
) -> Result<(), DbErr> {
    facts::store_allegation(conn, &after).await?;
    delta.allegation(before.as_ref(), Some(&after));
    Ok(())
}

/// The allegation an event records.
pub fn allegation(a: &ev::AllegationRecorded) -> AllegationItem {
    AllegationItem {
        id: a.allegation_id.clone(),
        status: a.status.clone(),
        received_time: a
            .received_time
            .as_ref()
            .and_then(|t| parse_time(t).ok())
            .unwrap_or_default(),
        week: week_of(a.incident_start_time.as_ref()),
        place: or_unknown(Some(&a.place_name)),
        violations: normalised(
            a.violation_types
                .iter()
                .map(|raw| enum_name(*raw, common::ViolationType::as_str_name))
                .collect(),
        ),
        parties: normalised(a.party_codes.clone()),
    }
}

/// The case an event carries.
pub fn case(c: &ev::CaseChanged) -> CaseItem {
    CaseItem {
        id: c.case_id.clone(),
        reference: Some(c.reference.trim())
            .filter(|r| !r.is_empty())
            .map(str::to_owned),
        opened_time: c.opened_time.as_ref().and_then(|t| parse_time(t).ok()),
        status: c.status.clone(),
        week: week_of(c.incident_start_time.as_ref()),
        place: or_unknown(Some(&c.place_name)),
        coordinates: Point::new(c.latitude, c.longitude),
        parties: normalised(c.party_codes.clone()),
        crimes: normalised(c.crime_type_codes.clone()),
        victims: Vec::new(),
        reported: c.victims.iter().map(victim_row).collect(),
        named: c.named_victims.iter().map(named_row).collect(),
        charges: c
            .charges
            .iter()
            .map(|charge| ChargeRow {
                charge_id: charge.charge_id.clone(),
                person_id: charge.person_id.clone(),
                crime: charge.crime_type_code.clone(),
                in_absentia: charge.in_absentia.to_string(),
                status: charge.status.clone(),
            })
            .collect(),
        close_reason: Some(c.close_reason.trim())
            .filter(|r| !r.is_empty())
            .map(str::to_owned),
        only_fabricated_evidence: c.only_fabricated_evidence,
    }
}

/// A victim known individually, as counted: like a group of one.
fn named_row(n: &ev::NamedVictim) -> NamedRow {
    let age_group = enum_name(n.age_group, common::AgeGroup::as_str_name);
    let band = (n.age_band != 0).then(|| enum_name(n.age_band, common::AgeBand::as_str_name));
    NamedRow {
        register_id: n.register_id.clone(),
        status: enum_name(n.status, common::VictimStatus::as_str_name),
        harm: enum_name(n.harm, common::Harm::as_str_name),
        age_band: counting::age_band(&age_group, band.as_deref()),
        age_group,
        sex: enum_name(n.sex, common::Sex::as_str_name),
        party: or_unknown(Some(&n.affiliation_party_code)),
    }
}

/// One casualty figure as counted: the victims' side `unknown` when not given, children by
/// their age band where known (see `crate::counting::age_band`).
fn victim_row(group: &common::VictimGroup) -> VictimRow {
    let age_group = enum_name(group.age_group, common::AgeGroup::as_str_name);
    let band =
        (group.age_band != 0).then(|| enum_name(group.age_band, common::AgeBand::as_str_name));
    VictimRow {
        count: i64::from(group.count),
        status: enum_name(group.status, common::VictimStatus::as_str_name),
        harm: enum_name(group.harm, common::Harm::as_str_name),
        age_band: counting::age_band(&age_group, band.as_deref()),
        age_group,
        sex: enum_name(group.sex, common::Sex::as_str_name),
        party: or_unknown(Some(&group.affiliation_party_code)),
    }
}
