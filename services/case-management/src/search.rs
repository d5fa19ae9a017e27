//! Full-text search over cases (`SearchCases`).
//!
//! The index is `docket_search`'s, kept current from case management's event stream: each
//! `CaseChanged` names a case, which is read as it now is and replaces its document. A case
//! contributes its title and summary, its place and administrative area, and its filters
//! (status, parties, violations, coordinates, incident period); never its persons, whose names
//! may be sealed.

use docket_proto::docket::cases::v1 as pb;
use docket_proto::docket::events::v1::event_payload::Kind;
use docket_search::request::SearchQuery;
use docket_search::{Indexed, Source, Whereabouts};
use uuid::Uuid;

use crate::error::CaseError;
use crate::store::CaseStore;

/// This replica's index of cases.
pub type SearchIndex = docket_search::SearchIndex<Cases>;

/// Cases as case management's database holds them now.
#[derive(Debug, Clone)]
pub struct Cases {
    store: CaseStore,
}

impl Cases {
    pub fn new(store: CaseStore) -> Self {
        Self { store }
    }
}

impl Source for Cases {
    fn touched(event: &Kind) -> Option<&str> {
        match event {
            Kind::CaseChanged(c) => Some(&c.case_id),
            Kind::AllegationRecorded(_)
            | Kind::AllegationCorrected(_)
            | Kind::AllegationStatusChanged(_)
            | Kind::EvidenceRecorded(_)
            | Kind::ContentAssessed(_) => None,
        }
    }

    async fn load(&self, ids: Vec<Uuid>) -> anyhow::Result<Vec<Indexed>> {
        let cases = self.store.get_many(ids).await?;
        Ok(cases.iter().map(indexed).collect())
    }
}

/// What the index keeps of case `c`: never its persons.
pub fn indexed(c: &pb::Case) -> Indexed {
    let at = Whereabouts::of(c.location.as_ref(), c.incident_period.as_ref());
    Indexed {
        id: c.id.clone(),
        reference: c.reference.clone(),
        status: c.status,
        channel: 0,
        // A case's text has no language of its own: it is stemmed in every language that has a
        // stemmer.
        language: docket_search::UNDETERMINED.to_owned(),
        title: c.title.clone(),
        narrative: if c.summary.is_empty() {
            c.title.clone()
        } else {
            format!("{}\n{}", c.title, c.summary)
        },
        other_text: at.place_text.join("\n"),
        place_name: at.place_name,
        violation_types: c.violation_types.clone(),
        party_codes: c.party_codes.clone(),
        latitude: at.latitude,
        longitude: at.longitude,
        period: at.period,
        received: c.opened_at.as_ref().map_or(0, |t| t.seconds),
    }
}

/// The answer to a checked `SearchCases`.
pub async fn answer(
    index: &SearchIndex,
    query: SearchQuery,
) -> Result<pb::SearchCasesResponse, CaseError> {
    let page = index.page(&query).await?;
    Ok(pb::SearchCasesResponse {
        hits: page
            .hits
            .into_iter()
            .map(|f| pb::CaseHit {
                case_id: f.doc.id,
                reference: f.doc.reference,
                score: f.score,
                highlight: f.highlight,
                status: f.doc.status,
                title: f.doc.title,
                place_name: f.doc.place_name,
                incident_start_time: f.doc.period.map(|(start, _)| prost_types::Timestamp {
                    seconds: start,
                    nanos: 0,
                }),
            })
            .collect(),
        next_page_token: page.next_page_token,
        total_size: page.total_size,
        total_size_is_lower_bound: page.total_size_is_lower_bound,
        indexed_sequence: page.indexed_sequence,
    })
}
