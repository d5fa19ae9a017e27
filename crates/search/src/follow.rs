//! Keeping a service's index current from its event stream.
//!
//! The index is a projection (DESIGN.md, "Trust"): every replica keeps its own under its data
//! directory. Its commit carries the last event sequence it holds, so a restart resumes after it;
//! when the directory is lost — at start or under a running service — the follower notices,
//! starts an empty index and replays the stream from its beginning. Events carry no free text,
//! so for each record an event names, the follower reads the record as it now is from the
//! service's database ([`Source::load`]) and replaces its document.

use std::collections::BTreeSet;
use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use docket_platform::events::EventLog;
use docket_platform::shutdown::ShutdownSignal;
use docket_proto::docket::events::v1::event_payload::Kind;
use uuid::Uuid;

use crate::request::SearchQuery;
use crate::{Found, Indexed, Live};

/// The most events applied in one commit of the index.
const BATCH: u64 = 2_000;
/// How long the follower waits for new events before looking again (events committed by other
/// replicas wake no one here).
const POLL: Duration = Duration::from_millis(500);

/// Where an index's documents come from: which record each event touches, and the records as
/// they stand now.
pub trait Source: Clone + Send + Sync + 'static {
    /// The id of the record `event` touches, if it touches one this index holds.
    fn touched(event: &Kind) -> Option<&str>;

    /// The documents of the records `ids` as they stand now; records that are gone are left out.
    fn load(&self, ids: Vec<Uuid>) -> impl Future<Output = anyhow::Result<Vec<Indexed>>> + Send;
}

/// Why an index could not answer.
#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    /// The index is being opened or rebuilt: ask again shortly.
    #[error("the search index is being opened or rebuilt; try again shortly")]
    Unavailable,
    #[error("search index: {0}")]
    Unexpected(#[from] anyhow::Error),
}

impl From<tantivy::TantivyError> for SearchError {
    fn from(error: tantivy::TantivyError) -> Self {
        SearchError::Unexpected(anyhow::anyhow!("{error}"))
    }
}

impl From<tokio::task::JoinError> for SearchError {
    fn from(error: tokio::task::JoinError) -> Self {
        SearchError::Unexpected(error.into())
    }
}

/// A replica's index of one service's records, and the follower that keeps it current.
#[derive(Debug, Clone)]
pub struct SearchIndex<S> {
    /// What the index is of, for the log: "allegations", "cases".
    what: &'static str,
    dir: PathBuf,
    live: Arc<RwLock<Option<Arc<Live>>>>,
    applied: Arc<AtomicI64>,
    source: S,
    events: EventLog,
}

impl<S: Source> SearchIndex<S> {
    /// The index of `what` in `dir`, fed by `events` and `source`.
    pub fn new(what: &'static str, dir: PathBuf, source: S, events: EventLog) -> Self {
        Self {
            what,
            dir,
            live: Arc::default(),
            applied: Arc::new(AtomicI64::new(0)),
            source,
            events,
        }
    }

    /// Where the documents come from.
    pub fn source(&self) -> &S {
        &self.source
    }

    /// The last event sequence the index holds.
    pub fn applied(&self) -> i64 {
        self.applied.load(Ordering::Acquire)
    }

    /// The index open now, and the last event sequence it holds at least (read after the
    /// index, so that a rebuild starting in between lowers it rather than lending the new index
    /// the old one's).
    pub fn current(&self) -> Result<(Arc<Live>, i64), SearchError> {
        let live = self
            .live
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
            .ok_or(SearchError::Unavailable)?;
        Ok((live, self.applied()))
    }

    fn is_open(&self) -> bool {
        self.live
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .is_some()
    }

    /// Opens the index (a new, empty one when the directory holds none), in place of the one
    /// open now, which is closed first.
    async fn reopen(&self) -> Result<(), SearchError> {
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
        .await??;
        if applied == 0 {
            tracing::info!(index = self.what, dir = %self.dir.display(), "building the search index from the event stream");
        }
        self.applied.store(applied, Ordering::Release);
        *self.live.write().unwrap_or_else(PoisonError::into_inner) = Some(Arc::new(live));
        Ok(())
    }

    /// Keeps the index current until `shutdown`, then closes it: once this returns, nothing
    /// of this replica writes to the index's directory (a merge left running would).
    pub async fn follow(self, shutdown: ShutdownSignal) {
        self.follow_until(shutdown).await;
        self.close().await;
    }

    async fn follow_until(&self, shutdown: ShutdownSignal) {
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
                    tracing::warn!(index = self.what, %error, "updating the search index failed; reopening it");
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
    async fn step(&self) -> Result<bool, SearchError> {
        let lost = !self.dir.join("meta.json").exists();
        if lost && self.is_open() {
            tracing::warn!(index = self.what, dir = %self.dir.display(), "the search index was lost; rebuilding it");
        }
        if lost || !self.is_open() {
            self.reopen().await?;
        }
        let (live, after) = self.current()?;
        let events = self
            .events
            .read(after, BATCH)
            .await
            .map_err(anyhow::Error::from)?;
        let Some(last) = events.last().map(|e| e.sequence) else {
            return Ok(false);
        };
        let ids: BTreeSet<Uuid> = events
            .iter()
            .filter_map(|e| e.payload.as_ref()?.kind.as_ref())
            .filter_map(S::touched)
            .filter_map(|id| Uuid::parse_str(id).ok())
            .collect();
        let docs = self.source.load(ids.into_iter().collect()).await?;
        tokio::task::spawn_blocking(move || live.write(&docs, &[], last)).await??;
        self.applied.store(last, Ordering::Release);
        metrics::gauge!("docket_search_indexed_sequence", "index" => self.what).set(last as f64);
        Ok(events.len() as u64 >= BATCH)
    }

    /// Answers `query` on the index, on a blocking thread: one page of hits, with what the
    /// response around them says of the whole.
    pub async fn page(&self, query: &SearchQuery) -> Result<Page, SearchError> {
        let (live, applied) = self.current()?;
        let (ask, circle, offset, limit) =
            (query.ask.clone(), query.circle, query.offset, query.limit);
        let (hits, total) =
            tokio::task::spawn_blocking(move || live.search(&ask, circle, offset, limit, true))
                .await??;
        Ok(Page {
            next_page_token: query.next_page_token(hits.len(), total),
            total_size: i64::try_from(total.count).unwrap_or(i64::MAX),
            total_size_is_lower_bound: total.more,
            indexed_sequence: applied,
            hits,
        })
    }
}

/// One page of a search's answer, as `SearchAllegations` and `SearchCases` respond it.
#[derive(Debug, Clone)]
pub struct Page {
    pub hits: Vec<Found>,
    /// Empty on the last page.
    pub next_page_token: String,
    /// How many match, or [`crate::COUNT_CAP`] when `total_size_is_lower_bound`.
    pub total_size: i64,
    pub total_size_is_lower_bound: bool,
    /// The last event the index held when asked.
    pub indexed_sequence: i64,
}
