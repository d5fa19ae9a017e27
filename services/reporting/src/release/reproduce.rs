//! Reproducing a release: recomputing it at the stream positions it records, with the earlier
//! releases it names, and signing it again, so that the published file can be shown to be what
//! the office's data give, byte for byte.

use anyhow::Context;
use docket_domain::Violations;
use sea_orm::DatabaseConnection;

use super::document::{self, Document};
use super::service::Releases;
use super::{replay, store, tables};
use crate::error::ReportingError;

/// The release a `ReproduceRelease` request sends: a signed file whose signature verifies
/// (against the key it names: whether that is the office's is for the reproduction to show).
pub fn parse_file(file: &[u8]) -> Result<Document, Violations> {
    if file.is_empty() {
        return Err(Violations::single(
            "file",
            "is required: a release file as ExportRelease gives it",
        ));
    }
    document::verify(file, None)
        .map(|verified| verified.document)
        .map_err(|e| Violations::single("file", e.to_string()))
}

impl Releases {
    /// Recomputes the release `original` from this database, at the stream positions it
    /// records, with the earlier releases it names, and signs it again: the signed file, which
    /// is the published one byte for byte when the figures, the settings that shape them and
    /// the key are the same (Ed25519 signatures are deterministic; the number, title and
    /// creation time are the original's). Refused, with what differs, when the projections do
    /// not stand at the release's positions or this database holds other earlier releases.
    pub async fn reproduce(&self, original: &Document) -> Result<Vec<u8>, ReportingError> {
        self.reproduce_from(&self.db, original).await
    }

    /// Reproduces the published release `file` on a live service: its projections are rebuilt
    /// at the release's positions from the event streams of `sources` (see [`replay`]), and the
    /// release is recomputed there as by [`Releases::reproduce`], with the earlier releases
    /// this database holds. Returns the file signed again.
    pub async fn reproduce_published(
        &self,
        sources: &replay::Sources,
        file: &[u8],
    ) -> Result<Vec<u8>, ReportingError> {
        let original = parse_file(file).map_err(ReportingError::Invalid)?;
        let positions: Vec<(String, i64)> = original
            .positions
            .iter()
            .map(|p| (p.stream.clone(), p.sequence))
            .collect();
        let scratch = sources
            .rebuild(&positions)
            .await?
            .map_err(|e| ReportingError::Irreproducible(e.0))?;
        let reproduced = self.reproduce_from(&scratch.db, &original).await;
        scratch.remove().await;
        reproduced
    }

    /// [`Releases::reproduce`], with the projections read from `projections` and the earlier
    /// releases from this service's database.
    async fn reproduce_from(
        &self,
        projections: &DatabaseConnection,
        original: &Document,
    ) -> Result<Vec<u8>, ReportingError> {
        let earlier: Vec<store::Earlier> = store::earlier(&self.db)
            .await?
            .into_iter()
            .filter(|e| e.number < original.number)
            .collect();
        let named: Vec<(i64, &str)> = earlier
            .iter()
            .map(|e| (e.number, e.document_sha256.as_str()))
            .collect();
        let recorded: Vec<(i64, &str)> = original
            .earlier_releases
            .iter()
            .map(|e| (e.number, e.document_sha256.as_str()))
            .collect();
        if named != recorded {
            return Err(ReportingError::Irreproducible(format!(
                "release {} was protected against earlier releases {recorded:?}, this database \
                 holds {named:?}",
                original.number
            )));
        }
        let mut accumulator = tables::Accumulator::new(&self.catalogue, &self.gazetteer);
        let positions = store::snapshot(projections, |case| accumulator.add(case)).await?;
        let at: Vec<(String, i64)> = original
            .positions
            .iter()
            .map(|p| (p.stream.clone(), p.sequence))
            .collect();
        if positions != at {
            return Err(ReportingError::Irreproducible(format!(
                "release {} was computed at {at:?}, the projections stand at {positions:?}",
                original.number
            )));
        }
        let created_time = chrono::DateTime::parse_from_rfc3339(&original.created_time)
            .context("the release's creation time does not read")?
            .with_timezone(&chrono::Utc);
        let (document, _) = self.compose(
            original.number,
            &original.title,
            created_time,
            &positions,
            accumulator.finish(),
            &earlier,
        )?;
        Ok(document::sign(&document, &self.key)
            .context("cannot write the release")?
            .file)
    }
}
