//! The projections as they stood at a release's positions, rebuilt to reproduce it on a live
//! service whose own projections have moved on: a scratch SQLite database in `data_dir`,
//! filled from the sources' event streams up to exactly the recorded sequences, read as a
//! release reads the projections, then deleted. The live projections are never touched.
//!
//! SQLite serves whichever database the service runs on: a release's tables are computed in
//! memory from the cases read, the same cases giving the same bytes on either.

use std::path::PathBuf;

use anyhow::Context;
use chrono::{SubsecRound, Utc};
use docket_platform::auth::ServiceCredentials;
use docket_platform::db::begin_write;
use docket_platform::settings::{DatabaseSettings, TlsSettings};
use docket_proto::docket::events::v1 as ev;
use docket_proto::docket::events::v1::event_service_client::EventServiceClient;
use sea_orm::DatabaseConnection;

use crate::projector::apply_events;
use crate::sql::execute;

/// Events applied per transaction while rebuilding.
const BATCH: usize = 500;

/// One event stream reporting follows.
#[derive(Debug, Clone)]
pub struct Source {
    pub stream: &'static str,
    pub url: String,
    pub tls: TlsSettings,
    pub credentials: ServiceCredentials,
}

/// Where the projections can be rebuilt from, and where the scratch database goes.
#[derive(Debug, Clone)]
pub struct Sources {
    pub streams: Vec<Source>,
    pub data_dir: PathBuf,
    pub database: DatabaseSettings,
}

/// Why the projections could not be rebuilt at the positions asked: said to the caller.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct Unreachable(pub String);

/// A scratch database holding the projections at given positions; [`Scratch::remove`] deletes it.
#[derive(Debug)]
pub struct Scratch {
    pub db: DatabaseConnection,
    dir: tempfile::TempDir,
}

impl Scratch {
    /// Closes and deletes the scratch database.
    pub async fn remove(self) {
        if let Err(error) = self.db.close().await {
            tracing::warn!(%error, "closing the scratch projections failed");
        }
        if let Err(error) = self.dir.close() {
            tracing::warn!(%error, "deleting the scratch projections failed");
        }
    }
}

/// The outcome of a rebuild: the scratch database, or why the positions cannot be reached.
pub type Rebuilt = Result<Scratch, Unreachable>;

impl Sources {
    /// The projections at `positions` (stream name, last sequence applied), rebuilt from the
    /// streams. A stream the release names that this service does not follow, or one that
    /// ends before its position, gives [`Unreachable`].
    pub async fn rebuild(&self, positions: &[(String, i64)]) -> anyhow::Result<Rebuilt> {
        for (stream, _) in positions {
            if !self.streams.iter().any(|s| s.stream == stream.as_str()) {
                return Ok(Err(Unreachable(format!(
                    "the release was computed from stream {stream:?}, which this service does \
                     not follow"
                ))));
            }
        }
        let dir = tempfile::Builder::new()
            .prefix("reproduce-")
            .tempdir_in(&self.data_dir)
            .context("cannot make a scratch directory for the projections")?;
        let url = format!(
            "sqlite://{}?mode=rwc",
            dir.path().join("reporting.db").display()
        );
        let db = docket_platform::db::connect_and_migrate::<crate::Migrator>(&url, &self.database)
            .await
            .context("cannot make the scratch projections")?;
        let scratch = Scratch { db, dir };
        for (stream, upto) in positions {
            let Some(source) = self.streams.iter().find(|s| s.stream == stream.as_str()) else {
                continue;
            };
            let reached = match replay(&scratch.db, source, *upto).await {
                Ok(reached) => reached,
                Err(error) => {
                    scratch.remove().await;
                    return Err(error);
                }
            };
            if reached != *upto {
                scratch.remove().await;
                return Ok(Err(Unreachable(format!(
                    "stream {stream:?} ends at {reached}, the release was computed at {upto}"
                ))));
            }
        }
        Ok(Ok(scratch))
    }
}

/// Applies the events of `source` from the first up to `upto` to `db`, and records the
/// stream's cursor there; returns the last sequence applied.
async fn replay(db: &DatabaseConnection, source: &Source, upto: i64) -> anyhow::Result<i64> {
    let channel = docket_platform::grpc::tls::channel(&source.url, &source.tls)?;
    let mut client = EventServiceClient::with_interceptor(channel, source.credentials.clone());
    let mut stream = client
        .stream_events(ev::StreamEventsRequest {
            after_sequence: 0,
            follow: false,
        })
        .await
        .with_context(|| format!("cannot read stream {}", source.stream))?
        .into_inner();
    let mut batch = Vec::new();
    let mut last = 0;
    let mut last_time = None;
    while last < upto {
        let Some(message) = stream
            .message()
            .await
            .with_context(|| format!("stream {} broke off", source.stream))?
        else {
            break;
        };
        let Some(event) = message
            .event
            .filter(|e| e.sequence > last && e.sequence <= upto)
        else {
            continue;
        };
        last = event.sequence;
        last_time = event
            .occurred_time
            .as_ref()
            .and_then(|t| docket_proto::parse_time(t).ok());
        batch.push(event);
        if batch.len() >= BATCH {
            apply(db, &std::mem::take(&mut batch)).await?;
        }
    }
    apply(db, &batch).await?;
    if last > 0 {
        execute(
            db,
            "INSERT INTO stream_cursors \
             (stream, last_sequence, last_event_time, last_applied_time, source_head) \
             VALUES (?, ?, ?, ?, ?)",
            vec![
                source.stream.into(),
                last.into(),
                last_time.into(),
                Utc::now().trunc_subsecs(6).into(),
                last.into(),
            ],
        )
        .await?;
    }
    Ok(last)
}

async fn apply(db: &DatabaseConnection, events: &[ev::Event]) -> anyhow::Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let txn = begin_write(db).await?;
    apply_events(&txn, events).await?;
    txn.commit().await?;
    Ok(())
}
