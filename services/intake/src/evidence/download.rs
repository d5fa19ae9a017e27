//! Streaming a stored file back, re-hashing it on the way so that a file altered behind the
//! service's back ends its stream with `DATA_LOSS`.

use bytes::BytesMut;
use docket_domain::evidence::CustodyEventKind;
use docket_platform::audit::AuditRecord;
use docket_platform::auth::CallContext;
use docket_platform::db::begin_write;
use docket_platform::journal;
use docket_proto::docket::intake::v1 as pb;
use futures_util::StreamExt;
use sea_orm::prelude::Uuid;
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;

use super::EvidenceDesk;
use super::receive::MAX_CHUNK_BYTES;
use super::records::{self, record_custody};
use crate::error::IntakeError;

/// The messages of a download.
pub type DownloadStream = ReceiverStream<Result<pb::DownloadEvidenceResponse, Status>>;

/// Chunks waiting to be sent: bounds the memory of one download.
const QUEUED_CHUNKS: usize = 4;

/// The part of a file a download asks for: from `offset`, `length` bytes or up to the end.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ByteRange {
    pub offset: u64,
    pub length: Option<u64>,
}

impl EvidenceDesk {
    /// Records the access, then streams the file of evidence `id`, or the part `range` of it.
    pub async fn download(
        &self,
        call: &CallContext,
        id: Uuid,
        range: ByteRange,
    ) -> Result<DownloadStream, IntakeError> {
        let txn = begin_write(&self.db).await?;
        let row = records::find(&txn, id).await?;
        let size = u64::try_from(row.size_bytes).unwrap_or_default();
        let end = match range.length {
            Some(length) => range.offset.saturating_add(length),
            None => size,
        };
        if end > size || range.offset > size {
            return Err(IntakeError::RangeOutOfBounds {
                end: end.max(range.offset),
                size,
            });
        }
        // Only the whole file can be re-hashed on the way.
        let whole = range.offset == 0 && end == size;
        let note = if whole {
            "downloaded".to_owned()
        } else {
            format!("downloaded bytes {} to {end} of {size}", range.offset)
        };
        record_custody(
            &txn,
            id,
            CustodyEventKind::Accessed,
            call.subject(),
            &row.sha256,
            &note,
        )
        .await?;
        journal::record(
            &txn,
            &AuditRecord::succeeded(call, "download evidence", vec![id.to_string()]),
            None,
        )
        .await?;
        txn.commit().await?;

        let (sender, receiver) = mpsc::channel(QUEUED_CHUNKS);
        if range.offset == end {
            return Ok(ReceiverStream::new(receiver)); // nothing to send
        }
        let read = if whole {
            self.blobs.read(&row.sha256).await
        } else {
            self.blobs.read_range(&row.sha256, range.offset..end).await
        };
        let mut bytes = read.map_err(|error| {
            tracing::error!(evidence = %id, sha256 = %row.sha256, %error, "an evidence file cannot be read");
            IntakeError::BlobLost { sha256: row.sha256.clone() }
        })?;
        tokio::spawn(async move {
            let mut hasher = Sha256::new();
            let mut buffer = BytesMut::with_capacity(MAX_CHUNK_BYTES);
            while let Some(piece) = bytes.next().await {
                let piece = match piece {
                    Ok(piece) => piece,
                    Err(error) => {
                        tracing::error!(evidence = %id, %error, "reading an evidence file failed");
                        let _ = sender
                            .send(Err(Status::data_loss("the stored file could not be read")))
                            .await;
                        return;
                    }
                };
                hasher.update(&piece);
                buffer.extend_from_slice(&piece);
                while buffer.len() >= MAX_CHUNK_BYTES {
                    let chunk = buffer.split_to(MAX_CHUNK_BYTES).freeze();
                    if sender
                        .send(Ok(pb::DownloadEvidenceResponse { chunk }))
                        .await
                        .is_err()
                    {
                        return; // the client went away
                    }
                }
            }
            if !buffer.is_empty()
                && sender
                    .send(Ok(pb::DownloadEvidenceResponse {
                        chunk: buffer.freeze(),
                    }))
                    .await
                    .is_err()
            {
                return;
            }
            let found = hex_digest(&hasher.finalize().into());
            if whole && found != row.sha256 {
                tracing::error!(
                    evidence = %id,
                    expected = %row.sha256,
                    %found,
                    "EVIDENCE FILE ALTERED: its bytes no longer match the hash it was stored under"
                );
                let _ = sender
                    .send(Err(Status::data_loss(
                        "the stored file no longer matches its SHA-256: do not trust these bytes",
                    )))
                    .await;
            }
        });
        Ok(ReceiverStream::new(receiver))
    }
}

pub(super) fn hex_digest(digest: &[u8; 32]) -> String {
    docket_domain::evidence::Sha256Hex::from_digest(digest)
        .as_str()
        .to_owned()
}
