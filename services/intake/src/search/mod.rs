//! Full-text search over allegations, and the allegations that probably describe the same
//! incident.
//!
//! The index is `docket_search`'s, kept current from intake's event stream (see that crate for
//! how it is rebuilt when lost); this module says what an allegation contributes to it and which
//! events touch one.
//!
//! It lives in intake rather than in reporting because it must read narratives, which stay in
//! intake (events and reporting never hold free text), and because it serves staff roles only,
//! while reporting also serves the public. Sources' names and contacts are sealed and never
//! read here; narratives, places and units are not sealed.

pub mod similar;

use std::collections::BTreeSet;

use docket_proto::docket::events::v1::event_payload::Kind;
use docket_proto::docket::intake::v1 as pb;
use docket_search::request::SearchQuery;
use docket_search::{Indexed, SearchError, Source, Whereabouts};
use sea_orm::DatabaseConnection;
use sea_orm::entity::prelude::*;

use crate::entity::allegation;
use crate::error::IntakeError;

/// This replica's index of allegations.
pub type SearchIndex = docket_search::SearchIndex<Allegations>;

/// Allegations as intake's database holds them now.
#[derive(Debug, Clone)]
pub struct Allegations {
    db: DatabaseConnection,
}

impl Allegations {
    pub fn new(db: DatabaseConnection) -> Self {
        Self { db }
    }

    /// The documents of `ids` as the allegations stand now.
    async fn documents(&self, ids: Vec<Uuid>) -> Result<Vec<Indexed>, IntakeError> {
        let mut docs = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(500) {
            let rows = allegation::Entity::find()
                .filter(allegation::Column::Id.is_in(chunk.to_vec()))
                .all(&self.db)
                .await?;
            let messages = crate::store::read::load_many(&self.db, rows).await?;
            docs.extend(messages.iter().map(indexed));
        }
        Ok(docs)
    }
}

impl Source for Allegations {
    fn touched(event: &Kind) -> Option<&str> {
        match event {
            Kind::AllegationRecorded(a) => Some(&a.allegation_id),
            Kind::AllegationCorrected(c) => c.allegation.as_ref().map(|a| a.allegation_id.as_str()),
            Kind::AllegationStatusChanged(s) => Some(&s.allegation_id),
            Kind::EvidenceRecorded(_) | Kind::CaseChanged(_) | Kind::ContentAssessed(_) => None,
        }
    }

    async fn load(&self, ids: Vec<Uuid>) -> anyhow::Result<Vec<Indexed>> {
        Ok(self.documents(ids).await?)
    }
}

/// What the index keeps of `a`: never its source.
pub fn indexed(a: &pb::Allegation) -> Indexed {
    let at = Whereabouts::of(a.location.as_ref(), a.incident_period.as_ref());
    let mut other = at.place_text;
    let mut party_codes = BTreeSet::new();
    for p in &a.alleged_perpetrators {
        other.push(p.unit.clone());
        other.push(p.description.clone());
        if !p.party_code.is_empty() {
            party_codes.insert(p.party_code.clone());
        }
    }
    Indexed {
        id: a.id.clone(),
        reference: a.reference.clone(),
        status: a.status,
        channel: a.channel,
        language: a.language.to_ascii_lowercase(),
        title: String::new(),
        narrative: a.narrative.clone(),
        other_text: other
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("\n"),
        place_name: at.place_name,
        violation_types: a.violation_types.clone(),
        party_codes: party_codes.into_iter().collect(),
        latitude: at.latitude,
        longitude: at.longitude,
        period: at.period,
        received: a.received_at.as_ref().map_or(0, |t| t.seconds),
    }
}

/// The answer to a checked `SearchAllegations`.
pub async fn answer_search(
    index: &SearchIndex,
    query: SearchQuery,
) -> Result<pb::SearchAllegationsResponse, IntakeError> {
    let page = index.page(&query).await?;
    Ok(pb::SearchAllegationsResponse {
        hits: page
            .hits
            .into_iter()
            .map(|f| pb::AllegationHit {
                allegation_id: f.doc.id,
                reference: f.doc.reference,
                score: f.score,
                highlight: f.highlight,
                status: f.doc.status,
                channel: f.doc.channel,
                language: f.doc.language,
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

/// The answer to a checked `ListSimilarAllegations`.
pub async fn answer_similar(
    index: &SearchIndex,
    id: Uuid,
    limit: usize,
) -> Result<pb::ListSimilarAllegationsResponse, IntakeError> {
    let (live, applied) = index.current()?;
    // The allegation as it is now, even when the index has not seen it yet.
    let this = index
        .source()
        .documents(vec![id])
        .await?
        .pop()
        .ok_or(IntakeError::AllegationNotFound(id))?;
    let scored = tokio::task::spawn_blocking(move || similar::candidates(&live, &this, limit))
        .await
        .map_err(|e| IntakeError::Unexpected(e.into()))?
        .map_err(SearchError::from)?;
    Ok(pb::ListSimilarAllegationsResponse {
        candidates: scored
            .into_iter()
            .map(|s| pb::SimilarAllegation {
                allegation_id: s.doc.id,
                reference: s.doc.reference,
                score: s.score,
                distance_km: s.distance_km,
                periods_overlap: s.periods_overlap,
                text_similarity: s.text_similarity,
                status: s.doc.status,
                channel: s.doc.channel,
            })
            .collect(),
        indexed_sequence: applied,
    })
}
