//! Full-text search over allegations, and the allegations that probably describe the same
//! incident.
//!
//! Search is a projection (DESIGN.md, "Trust"): every replica keeps its own tantivy index under
//! its data directory, fed by intake's event stream. The index's commit carries the last event
//! sequence it holds, so a restart resumes after it; when the directory is lost — at start or
//! under a running service — the follower notices, starts an empty index and replays the stream
//! from its beginning. Events carry no free text, so for each allegation an event names the
//! follower reads the allegation as it now is from intake's database and replaces its document.
//!
//! It lives in intake rather than in reporting because it must read narratives, which stay in
//! intake (events and reporting never hold free text), and because it serves staff roles only,
//! while reporting also serves the public. Sources' names and contacts are sealed and never
//! read here; narratives, places and units are not sealed.

mod collect;
pub mod fold;
mod index;
pub mod similar;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use docket_platform::events::EventLog;
use docket_platform::shutdown::ShutdownSignal;
use docket_proto::docket::events::v1::event_payload::Kind;
use docket_proto::docket::intake::v1 as pb;
use sea_orm::DatabaseConnection;
use sea_orm::entity::prelude::*;

pub use index::{Ask, Found, Indexed, Live, Total};

use crate::entity::allegation;
use crate::error::IntakeError;

/// The most events applied in one commit of the index.
const BATCH: u64 = 2_000;
/// How long the follower waits for new events before looking again (events committed by other
/// replicas wake no one here).
const POLL: Duration = Duration::from_millis(500);

/// This replica's search index and the follower that keeps it current.
#[derive(Debug, Clone)]
pub struct SearchIndex {
    dir: PathBuf,
    live: Arc<RwLock<Option<Arc<Live>>>>,
    applied: Arc<AtomicI64>,
    db: DatabaseConnection,
    events: EventLog,
}

impl SearchIndex {
    pub fn new(dir: PathBuf, db: DatabaseConnection, events: EventLog) -> Self {
        Self {
            dir,
            live: Arc::default(),
            applied: Arc::new(AtomicI64::new(0)),
            db,
            events,
        }
    }

    /// The last event sequence the index holds.
    pub fn applied(&self) -> i64 {
        self.applied.load(Ordering::Acquire)
    }

    fn current(&self) -> Result<Arc<Live>, IntakeError> {
        self.live
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or_else(|| {
                IntakeError::Unavailable("the search index is being opened or rebuilt".into())
            })
    }

    /// Opens the index (a new, empty one when the directory holds none), in place of the one
    /// open now, which is closed first.
    async fn reopen(&self) -> Result<(), IntakeError> {
        let old = self
            .live
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        let dir = self.dir.clone();
        let (live, applied) = tokio::task::spawn_blocking(move || {
            if let Some(old) = old {
                old.close();
            }
            Live::open(&dir)
        })
        .await
        .map_err(|e| IntakeError::Unexpected(e.into()))?
        .map_err(search_error)?;
        if applied == 0 {
            tracing::info!(dir = %self.dir.display(), "building the search index from intake's event stream");
        }
        self.applied.store(applied, Ordering::Release);
        *self.live.write().unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(live));
        Ok(())
    }

    /// Keeps the index current until `shutdown`.
    pub async fn follow(self, shutdown: ShutdownSignal) {
        let stop = shutdown.wait();
        tokio::pin!(stop);
        loop {
            let outcome = tokio::select! {
                () = &mut stop => return,
                outcome = self.step() => outcome,
            };
            match outcome {
                Ok(true) => continue,
                Ok(false) => {
                    let notified = self.events.notified();
                    tokio::select! {
                        () = &mut stop => return,
                        () = notified => {}
                        () = tokio::time::sleep(POLL) => {}
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "updating the search index failed; reopening it");
                    self.close().await;
                    tokio::select! {
                        () = &mut stop => return,
                        () = tokio::time::sleep(POLL) => {}
                    }
                }
            }
        }
    }

    /// Closes the index open now, if any: searches answer `UNAVAILABLE` until it is reopened.
    async fn close(&self) {
        let old = self
            .live
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        if let Some(old) = old {
            let _ = tokio::task::spawn_blocking(move || old.close()).await;
        }
    }

    /// Applies the next batch of events; true when there may be more right away.
    async fn step(&self) -> Result<bool, IntakeError> {
        let lost = !self.dir.join("meta.json").exists();
        if lost
            && self
                .live
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .is_some()
        {
            tracing::warn!(dir = %self.dir.display(), "the search index was lost; rebuilding it");
        }
        if lost
            || self
                .live
                .read()
                .unwrap_or_else(PoisonError::into_inner)
                .is_none()
        {
            self.reopen().await?;
        }
        let live = self.current()?;
        let after = self.applied();
        let events = self.events.read(after, BATCH).await?;
        let Some(last) = events.last().map(|e| e.sequence) else {
            return Ok(false);
        };
        let mut ids = BTreeSet::new();
        for event in &events {
            let Some(kind) = event.payload.as_ref().and_then(|p| p.kind.as_ref()) else {
                continue;
            };
            let id = match kind {
                Kind::AllegationRecorded(a) => &a.allegation_id,
                Kind::AllegationCorrected(c) => match &c.allegation {
                    Some(a) => &a.allegation_id,
                    None => continue,
                },
                Kind::AllegationStatusChanged(s) => &s.allegation_id,
                Kind::EvidenceRecorded(_) | Kind::CaseChanged(_) | Kind::ContentAssessed(_) => {
                    continue;
                }
            };
            if let Ok(id) = Uuid::parse_str(id) {
                ids.insert(id);
            }
        }
        let docs = self.load(ids.into_iter().collect()).await?;
        let writing = Arc::clone(&live);
        tokio::task::spawn_blocking(move || writing.write(&docs, &[], last))
            .await
            .map_err(|e| IntakeError::Unexpected(e.into()))?
            .map_err(search_error)?;
        self.applied.store(last, Ordering::Release);
        metrics::gauge!("docket_search_indexed_sequence").set(last as f64);
        Ok(events.len() as u64 >= BATCH)
    }

    /// The documents of `ids` as the allegations stand now.
    async fn load(&self, ids: Vec<Uuid>) -> Result<Vec<Indexed>, IntakeError> {
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

    /// Runs `ask` on the index, on a blocking thread.
    pub async fn search(
        &self,
        ask: Ask,
        circle: Option<similar::Circle>,
        offset: usize,
        limit: usize,
    ) -> Result<(Vec<Found>, Total, i64), IntakeError> {
        let live = self.current()?;
        let applied = self.applied();
        let (found, total) =
            tokio::task::spawn_blocking(move || live.search(&ask, circle, offset, limit, true))
                .await
                .map_err(|e| IntakeError::Unexpected(e.into()))?
                .map_err(search_error)?;
        Ok((found, total, applied))
    }

    /// The allegations that probably describe the same incident as `id`, best first.
    pub async fn similar(
        &self,
        id: Uuid,
        limit: usize,
    ) -> Result<(Vec<similar::Scored>, i64), IntakeError> {
        let live = self.current()?;
        let applied = self.applied();
        // The allegation as it is now, even when the index has not seen it yet.
        let this = self
            .load(vec![id])
            .await?
            .pop()
            .ok_or(IntakeError::AllegationNotFound(id))?;
        let scored = tokio::task::spawn_blocking(move || similar::candidates(&live, &this, limit))
            .await
            .map_err(|e| IntakeError::Unexpected(e.into()))?
            .map_err(search_error)?;
        Ok((scored, applied))
    }
}

fn search_error(error: tantivy::TantivyError) -> IntakeError {
    IntakeError::Unexpected(anyhow::anyhow!("search index: {error}"))
}

/// What the index keeps of `a`: never its source.
pub fn indexed(a: &pb::Allegation) -> Indexed {
    let mut other = Vec::new();
    let mut place_name = String::new();
    let (mut latitude, mut longitude) = (None, None);
    if let Some(location) = &a.location {
        place_name.clone_from(&location.place_name);
        other.push(location.place_name.clone());
        other.push(location.admin_area.clone());
        latitude = location.latitude;
        longitude = location.longitude;
    }
    let mut party_codes = BTreeSet::new();
    for p in &a.alleged_perpetrators {
        other.push(p.unit.clone());
        other.push(p.description.clone());
        if !p.party_code.is_empty() {
            party_codes.insert(p.party_code.clone());
        }
    }
    let period = a.incident_period.as_ref().and_then(|p| {
        let start = p.start_time.as_ref()?.seconds;
        let end = p.end_time.as_ref().map_or(start, |t| t.seconds);
        Some((start, end))
    });
    Indexed {
        id: a.id.clone(),
        reference: a.reference.clone(),
        status: a.status,
        channel: a.channel,
        language: a.language.to_ascii_lowercase(),
        narrative: a.narrative.clone(),
        other_text: other
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("\n"),
        place_name,
        violation_types: a.violation_types.clone(),
        party_codes: party_codes.into_iter().collect(),
        latitude,
        longitude,
        period,
        received: a.received_at.as_ref().map_or(0, |t| t.seconds),
    }
}

/// The answer to a checked `SearchAllegations`.
pub async fn answer_search(
    index: &SearchIndex,
    query: crate::request::search::SearchQuery,
) -> Result<pb::SearchAllegationsResponse, IntakeError> {
    let (found, total, applied) = index
        .search(query.ask.clone(), query.circle, query.offset, query.limit)
        .await?;
    let returned = found.len();
    // Past the count's cap, a full page says there may be more.
    let more = if total.more {
        returned == query.limit
    } else {
        query.offset + returned < usize::try_from(total.count).unwrap_or(usize::MAX)
    };
    let next_page_token = if more && returned > 0 {
        query.next_token(returned)
    } else {
        String::new()
    };
    Ok(pb::SearchAllegationsResponse {
        hits: found
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
        next_page_token,
        total_size: i64::try_from(total.count).unwrap_or(i64::MAX),
        total_size_is_lower_bound: total.more,
        indexed_sequence: applied,
    })
}

/// The answer to a checked `ListSimilarAllegations`.
pub async fn answer_similar(
    index: &SearchIndex,
    id: Uuid,
    limit: usize,
) -> Result<pb::ListSimilarAllegationsResponse, IntakeError> {
    let (scored, applied) = index.similar(id, limit).await?;
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
