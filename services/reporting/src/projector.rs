//! Following one service's event stream into the projections. Each event is applied and the
//! stream's cursor advanced in one transaction, so a crash at any point neither loses nor
//! repeats an event; after a restart (or a broken stream) it resumes after the cursor.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use chrono::{SubsecRound, Utc};
use docket_platform::auth::ServiceCredentials;
use docket_platform::db::begin_write;
use docket_platform::lease::Fence;
use docket_platform::settings::TlsSettings;
use docket_platform::shutdown::ShutdownSignal;
use docket_proto::docket::events::v1 as ev;
use docket_proto::docket::events::v1::event_payload::Kind;
use docket_proto::docket::events::v1::event_service_client::EventServiceClient;
use docket_proto::parse_time;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};

use crate::apply::{allegation, apply_facts};
use crate::facts;
use crate::rollup::Delta;
use crate::sql::{execute, query};

/// The first and the longest wait before reconnecting to a stream.
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// The most events applied in one transaction.
const BATCH: usize = 500;

/// One followed stream.
#[derive(Debug, Clone)]
pub struct Projector {
    pub stream: &'static str,
    pub url: String,
    pub tls: TlsSettings,
    pub credentials: ServiceCredentials,
    pub db: DatabaseConnection,
    pub connected: Arc<AtomicBool>,
}

/// The last sequence applied from `stream`.
pub async fn cursor(db: &DatabaseConnection, stream: &str) -> Result<i64, DbErr> {
    let rows = query(
        db,
        "SELECT last_sequence FROM stream_cursors WHERE stream = ?",
        vec![stream.into()],
    )
    .await?;
    match rows.first() {
        Some(row) => row.try_get_by_index(0),
        None => Ok(0),
    }
}

/// Where a stream's projection stands, as its cursor says.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Standing {
    pub last_sequence: i64,
    pub last_event_time: Option<chrono::DateTime<Utc>>,
    pub last_applied_time: Option<chrono::DateTime<Utc>>,
    /// The source's last sequence when last asked.
    pub source_head: i64,
}

/// Where `stream`'s projection stands; `None` before its first event.
pub async fn standing(db: &DatabaseConnection, stream: &str) -> Result<Option<Standing>, DbErr> {
    let rows = query(
        db,
        "SELECT last_sequence, last_event_time, last_applied_time, source_head \
         FROM stream_cursors WHERE stream = ?",
        vec![stream.into()],
    )
    .await?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    Ok(Some(Standing {
        last_sequence: row.try_get_by_index(0)?,
        last_event_time: row.try_get_by_index(1)?,
        last_applied_time: row.try_get_by_index(2)?,
        source_head: row.try_get_by_index(3)?,
    }))
}

impl Projector {
    /// Follows the stream until `shutdown`, while its lease, renewed in each transaction
    /// through `fence`, is this replica's.
    pub async fn run(self, shutdown: ShutdownSignal, fence: Fence) {
        let stop = shutdown.wait();
        tokio::pin!(stop);
        let mut backoff = FIRST_BACKOFF;
        loop {
            let outcome = tokio::select! {
                () = &mut stop => return,
                outcome = self.follow(&fence) => outcome,
            };
            self.connected.store(false, Ordering::Relaxed);
            if let Err(error) = outcome {
                tracing::warn!(stream = self.stream, %error, "following the stream failed; retrying");
            }
            tokio::select! {
                () = &mut stop => return,
                () = tokio::time::sleep(backoff) => {}
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }

    /// Applies events until the stream ends or fails. Events that have already arrived are
    /// applied together, up to [`BATCH`] to a transaction, so catching up after a restart costs
    /// one commit per batch rather than per event.
    async fn follow(&self, fence: &Fence) -> Result<(), String> {
        let after = cursor(&self.db, self.stream)
            .await
            .map_err(|e| e.to_string())?;
        let channel =
            docket_platform::grpc::tls::channel(&self.url, &self.tls).map_err(|e| e.to_string())?;
        let mut client = EventServiceClient::with_interceptor(channel, self.credentials.clone());
        let mut stream = client
            .stream_events(ev::StreamEventsRequest {
                after_sequence: after,
                follow: true,
            })
            .await
            .map_err(|s| format!("{:?}: {}", s.code(), s.message()))?
            .into_inner();
        self.connected.store(true, Ordering::Relaxed);
        let mut last = after;
        let mut batch = Vec::new();
        let mut head = after;
        let mut applied_time: Option<chrono::DateTime<chrono::Utc>> = None;
        while let Some(message) = stream.message().await.map_err(|s| s.message().to_owned())? {
            let mut next = Some(message);
            while let Some(message) = next.take() {
                head = head.max(message.head_sequence);
                if let Some(event) = message.event.filter(|e| e.sequence > last) {
                    last = event.sequence;
                    batch.push(event);
                }
                if batch.len() >= BATCH {
                    break;
                }
                // Only what has already arrived: waiting here would delay what is ready.
                next = match tokio::time::timeout(Duration::ZERO, stream.message()).await {
                    Ok(message) => message.map_err(|s| s.message().to_owned())?,
                    Err(_) => None,
                };
            }
            if let Some(time) = batch
                .last()
                .and_then(|event| event.occurred_time.as_ref())
                .and_then(|t| chrono::DateTime::from_timestamp(t.seconds, t.nanos.max(0) as u32))
            {
                applied_time = Some(time);
            }
            if !batch.is_empty() {
                self.apply(&batch, head, fence)
                    .await
                    .map_err(|e| e.to_string())?;
                batch.clear();
            }
            metrics::gauge!("docket_projection_lag_events", "stream" => self.stream)
                .set((head - last).max(0) as f64);
            // Seconds: how long ago the last event applied happened at the source, or 0 when
            // none is waiting (a quiet stream is not behind).
            let seconds = match (head > last, applied_time) {
                (true, Some(time)) => {
                    (chrono::Utc::now() - time).num_milliseconds().max(0) as f64 / 1000.0
                }
                _ => 0.0,
            };
            metrics::gauge!("docket_projection_lag_seconds", "stream" => self.stream).set(seconds);
        }
        Ok(())
    }

    /// Applies `events` (in order) and moves the cursor past the last, in one transaction that
    /// also renews the projector's lease (and so commits only while it is still this
    /// replica's); `head` is the source's last sequence as the stream last said.
    async fn apply(&self, events: &[ev::Event], head: i64, fence: &Fence) -> Result<(), DbErr> {
        let Some(last) = events.last() else {
            return Ok(());
        };
        let txn = begin_write(&self.db).await?;
        let Some(renewal) = fence.renew(&txn).await? else {
            return Err(DbErr::Custom(format!(
                "the lease of stream {} is no longer this replica's",
                self.stream
            )));
        };
        apply_events(&txn, events).await?;
        let event_time = last.occurred_time.as_ref().and_then(|t| parse_time(t).ok());
        execute(
            &txn,
            "INSERT INTO stream_cursors \
             (stream, last_sequence, last_event_time, last_applied_time, source_head) \
             VALUES (?, ?, ?, ?, ?) ON CONFLICT (stream) DO UPDATE SET \
             last_sequence = excluded.last_sequence, last_event_time = excluded.last_event_time, \
             last_applied_time = excluded.last_applied_time, source_head = excluded.source_head",
            vec![
                self.stream.into(),
                last.sequence.into(),
                event_time.into(),
                Utc::now().trunc_subsecs(6).into(),
                head.max(last.sequence).into(),
            ],
        )
        .await?;
        txn.commit().await?;
        fence.committed(renewal);
        Ok(())
    }
}

/// Applies `events`, in order, to the projections in `txn`.
///
/// Allegations recorded for the first time (nearly every event of a busy intake) need nothing
/// read or deleted first: they are gathered and inserted together, before any other event
/// (which may read them) and at the end. The rollups' changes are summed over all the events
/// and written once.
pub(crate) async fn apply_events<C: ConnectionTrait>(
    txn: &C,
    events: &[ev::Event],
) -> Result<(), DbErr> {
    let recorded: Vec<&str> = events
        .iter()
        .filter_map(|event| {
            let kind = event.payload.as_ref()?.kind.as_ref()?;
            if let Kind::AllegationRecorded(a) = kind {
                Some(a.allegation_id.as_str())
            } else {
                None
            }
        })
        .collect();
    let mut known = facts::stored_allegations(txn, &recorded).await?;
    let mut new = Vec::new();
    let mut delta = Delta::default();
    for payload in events.iter().filter_map(|event| event.payload.as_ref()) {
        if let Some(Kind::AllegationRecorded(a)) = &payload.kind
            && known.insert(a.allegation_id.clone())
        {
            let item = allegation(a);
            delta.allegation(None, Some(&item));
            new.push(item);
            continue;
        }
        facts::insert_allegations(txn, &std::mem::take(&mut new)).await?;
        apply_facts(txn, payload, &mut delta).await?;
    }
    facts::insert_allegations(txn, &new).await?;
    delta.apply(txn).await
}
