//! The casualty register in the store: loading it at start, keeping its index in step with the
//! persons of cases, proposing candidates, and recording analysts' decisions, each audited and
//! published to reporting as the snapshots of every case naming a person whose register entry
//! the decision changes.

use chrono::{Datelike, NaiveDate, Utc};
use docket_domain::incident::{AgeBand, AgeGroup, Sex};
use docket_platform::audit::AuditRecord;
use docket_platform::auth::CallContext;
use docket_platform::db::begin_write;
use docket_platform::journal;
use docket_proto::docket::cases::v1 as pb;
use docket_proto::docket::common::v1 as common;
use docket_proto::docket::events::v1 as ev;
use docket_proto::timestamp;
use sea_orm::ActiveValue::Set;
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, IntoActiveModel, QueryOrder};

use super::{CaseStore, now};
use crate::entity::{case_person, casualty_match, person};
use crate::error::CaseError;
use crate::register::{Decision, Decisions, Report, affected, pair};

/// A victim's year of birth, given or estimated from their age when harmed.
fn born(link: &case_person::Model) -> Option<i32> {
    link.birth_year.or_else(|| {
        let year = link
            .harm_date
            .as_deref()
            .and_then(harm_day)
            .map_or(Utc::now().year(), |d| d.year());
        link.age_years.map(|age| year - age)
    })
}

fn harm_day(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()
}

/// Whether `link` is a victim with register details.
fn is_named_victim(link: &case_person::Model) -> bool {
    link.role == "victim" && link.victim_status.is_some()
}

/// The age group and band of a named victim, as counted.
fn age_of(link: &case_person::Model) -> (AgeGroup, Option<AgeBand>) {
    let age = link
        .age_years
        .and_then(|a| u32::try_from(a).ok())
        .or_else(|| {
            let year = link
                .harm_date
                .as_deref()
                .and_then(harm_day)
                .map_or(Utc::now().year(), |d| d.year());
            link.birth_year.and_then(|b| u32::try_from(year - b).ok())
        });
    age.map_or(
        (AgeGroup::Unknown, None),
        docket_domain::casualty::age_band_of,
    )
}

fn decision_wire(decision: Option<Decision>) -> i32 {
    match decision {
        None => pb::CasualtyMatchDecision::Unspecified,
        Some(Decision::Confirmed) => pb::CasualtyMatchDecision::Confirmed,
        Some(Decision::Rejected) => pb::CasualtyMatchDecision::Rejected,
    }
    .into()
}

/// The named victims of case `case_id` as reporting counts them, under `decisions`.
pub(super) async fn named_victims<C: ConnectionTrait>(
    conn: &C,
    case_id: Uuid,
    decisions: &Decisions,
) -> Result<Vec<ev::NamedVictim>, CaseError> {
    let links = case_person::Entity::find()
        .filter(case_person::Column::CaseId.eq(case_id))
        .filter(case_person::Column::Role.eq("victim"))
        .filter(case_person::Column::VictimStatus.is_not_null())
        .order_by_asc(case_person::Column::PersonId)
        .all(conn)
        .await?;
    let mut out = Vec::with_capacity(links.len());
    for link in links {
        let Some(details) = super::person::wire::victim(&link, link.person_id)? else {
            continue;
        };
        let (age_group, band) = age_of(&link);
        out.push(ev::NamedVictim {
            register_id: decisions.entry_of(link.person_id).to_string(),
            status: details.status,
            harm: details.harm,
            age_group: common::AgeGroup::from(age_group).into(),
            sex: details.sex,
            affiliation_party_code: link.affiliation_party_code.clone().unwrap_or_default(),
            age_band: band.map_or(0, |b| common::AgeBand::from(b).into()),
        });
    }
    Ok(out)
}

impl CaseStore {
    /// Loads the register: seals the names of victims kept in clear before victims' identities
    /// were sealed, opens every named victim's name into the index, and reads the decisions in
    /// force. Runs once at start.
    pub async fn load_register(&self) -> Result<(), CaseError> {
        let victims: Vec<Uuid> = case_person::Entity::find()
            .filter(case_person::Column::Role.eq("victim"))
            .all(&self.db)
            .await?
            .into_iter()
            .map(|l| l.person_id)
            .collect();
        let unsealed = person::Entity::find()
            .filter(person::Column::IdentitySealed.eq(false))
            .filter(person::Column::Id.is_in(victims))
            .all(&self.db)
            .await?;
        if !unsealed.is_empty() {
            let txn = begin_write(&self.db).await?;
            let count = unsealed.len();
            for known in unsealed {
                let (name, contact) =
                    self.seal(known.id, &known.display_name, known.contact.as_deref())?;
                let mut sealed = known.into_active_model();
                sealed.display_name = Set(name);
                sealed.contact = Set(contact);
                sealed.identity_sealed = Set(true);
                sealed.update(&txn).await?;
            }
            txn.commit().await?;
            tracing::info!(count, "sealed the identities of victims kept in clear");
        }
        let links = case_person::Entity::find()
            .filter(case_person::Column::Role.eq("victim"))
            .filter(case_person::Column::VictimStatus.is_not_null())
            .all(&self.db)
            .await?;
        for chunk in links.chunks(500) {
            let ids: Vec<Uuid> = chunk.iter().map(|l| l.person_id).collect();
            let registry: std::collections::HashMap<Uuid, person::Model> = person::Entity::find()
                .filter(person::Column::Id.is_in(ids))
                .all(&self.db)
                .await?
                .into_iter()
                .map(|p| (p.id, p))
                .collect();
            for link in chunk {
                if let Some(registered) = registry.get(&link.person_id) {
                    self.index_report(link, registered)?;
                }
            }
        }
        let mut decisions = Decisions::default();
        for row in casualty_match::Entity::find()
            .filter(casualty_match::Column::UndoneAt.is_null())
            .order_by_asc(casualty_match::Column::Id)
            .all(&self.db)
            .await?
        {
            decisions.set(
                row.person_id,
                row.other_person_id,
                Decision::from_code(&row.decision),
            );
        }
        self.register.set_decisions(decisions);
        tracing::info!(
            reports = self.register.index().len(),
            "casualty register loaded"
        );
        Ok(())
    }

    /// Puts (or takes out) `link`'s report in the index, opening the name. Call after commit.
    pub(super) fn index_report(
        &self,
        link: &case_person::Model,
        registered: &person::Model,
    ) -> Result<(), CaseError> {
        if !is_named_victim(link) {
            self.register
                .index_mut()
                .remove(link.person_id, link.case_id);
            return Ok(());
        }
        let name = if registered.identity_sealed {
            self.open_sealed(registered.id, "display_name", &registered.display_name)?
        } else {
            registered.display_name.clone()
        };
        let sex = link
            .sex
            .as_deref()
            .map(Sex::from_code)
            .transpose()?
            .unwrap_or(Sex::Unknown);
        let report = Report::new(
            link.person_id,
            link.case_id,
            &name,
            sex,
            born(link),
            link.harm_date.as_deref().and_then(harm_day),
            link.harm_place.as_deref(),
        );
        self.register.index_mut().put(report);
        Ok(())
    }

    /// Candidates for the person `person_id`, a named victim, most similar first.
    pub async fn casualty_candidates(
        &self,
        person_id: Uuid,
    ) -> Result<Vec<pb::CasualtyCandidate>, CaseError> {
        let decisions = self.register.decisions();
        let index = self.register.index();
        let reports = index.reports_of(person_id);
        if reports.is_empty() {
            return Err(CaseError::NotNamedVictim(person_id));
        }
        let mut found: Vec<pb::CasualtyCandidate> = Vec::new();
        let mut push = |person: Uuid, case: Uuid, similarity: f64| {
            if found
                .iter()
                .any(|c| c.person_id == person.to_string() && c.case_id == case.to_string())
            {
                return;
            }
            found.push(pb::CasualtyCandidate {
                person_id: person.to_string(),
                case_id: case.to_string(),
                name_similarity: similarity,
                decision: decision_wire(decisions.get(person_id, person)),
                register_id: decisions.entry_of(person).to_string(),
            });
        };
        for member in decisions.members(person_id) {
            if member == person_id {
                continue;
            }
            for report in index.reports_of(member) {
                push(report.person, report.case, 1.0);
            }
        }
        for report in reports {
            for (other, similarity) in index.candidates(report) {
                push(other.person, other.case, similarity);
            }
        }
        found.sort_by(|a, b| b.name_similarity.total_cmp(&a.name_similarity));
        Ok(found)
    }

    /// Records `decision` (`None`: undoes the latest decision) about persons `a` and `b`, both
    /// named victims, audited and published; returns the pair's decision now in force.
    pub async fn decide_casualty_match(
        &self,
        a: Uuid,
        b: Uuid,
        decision: Option<Decision>,
        reason: &str,
        call: &CallContext,
    ) -> Result<pb::CasualtyMatch, CaseError> {
        for person in [a, b] {
            if !self.register.index().knows(person) {
                return Err(CaseError::NotNamedVictim(person));
            }
        }
        let (low, high) = pair(a, b);
        let _deciding = self.register.deciding().await;
        let before = self.register.decisions();
        let txn = begin_write(&self.db).await?;
        let at = now();
        let (action, kept) = match decision {
            Some(decision) => {
                let row = casualty_match::Entity::insert(casualty_match::ActiveModel {
                    id: Set(Uuid::now_v7()),
                    person_id: Set(low),
                    other_person_id: Set(high),
                    decision: Set(decision.code().to_owned()),
                    reason: Set(reason.to_owned()),
                    decided_by: Set(call.subject().to_owned()),
                    decided_at: Set(at),
                    undone_at: Set(None),
                    undone_by: Set(None),
                })
                .exec_with_returning(&txn)
                .await?;
                let action = match decision {
                    Decision::Confirmed => "confirm casualty match",
                    Decision::Rejected => "reject casualty match",
                };
                (action, Some(row))
            }
            None => {
                let in_force = self.decisions_of(&txn, low, high).await?;
                let Some(latest) = in_force.first().cloned() else {
                    return Err(CaseError::Precondition(format!(
                        "persons {low} and {high} have no decision to undo"
                    )));
                };
                let mut undone = latest.into_active_model();
                undone.undone_at = Set(Some(at));
                undone.undone_by = Set(Some(call.subject().to_owned()));
                undone.update(&txn).await?;
                ("undo casualty match", in_force.get(1).cloned())
            }
        };
        let now_in_force = kept.as_ref().and_then(|r| Decision::from_code(&r.decision));
        let mut after = before.clone();
        after.set(low, high, now_in_force);
        let persons: Vec<Uuid> = affected(&before, &after, &[low, high])
            .into_iter()
            .collect();
        let mut cases: Vec<Uuid> = case_person::Entity::find()
            .filter(case_person::Column::PersonId.is_in(persons))
            .all(&txn)
            .await?
            .into_iter()
            .map(|l| l.case_id)
            .collect();
        cases.sort();
        cases.dedup();
        let audit = AuditRecord::succeeded(call, action, vec![low.to_string(), high.to_string()]);
        let mut events = Vec::with_capacity(cases.len());
        for case_id in cases {
            events.push(self.snapshot(&txn, case_id, &after).await?);
        }
        journal::record_many(&txn, &[audit], &events).await?;
        txn.commit().await?;
        self.register.set_decisions(after.clone());
        self.committed();
        Ok(pb::CasualtyMatch {
            person_id: low.to_string(),
            other_person_id: high.to_string(),
            decision: decision_wire(now_in_force),
            decided_by: kept
                .as_ref()
                .map(|r| r.decided_by.clone())
                .unwrap_or_default(),
            decided_time: kept.as_ref().map(|r| timestamp(r.decided_at)),
            register_id: after.entry_of(low).to_string(),
            other_register_id: after.entry_of(high).to_string(),
        })
    }

    /// The decisions about a pair not undone, latest first.
    async fn decisions_of<C: ConnectionTrait>(
        &self,
        conn: &C,
        low: Uuid,
        high: Uuid,
    ) -> Result<Vec<casualty_match::Model>, CaseError> {
        Ok(casualty_match::Entity::find()
            .filter(casualty_match::Column::PersonId.eq(low))
            .filter(casualty_match::Column::OtherPersonId.eq(high))
            .filter(casualty_match::Column::UndoneAt.is_null())
            .order_by_desc(casualty_match::Column::Id)
            .all(conn)
            .await?)
    }
}
