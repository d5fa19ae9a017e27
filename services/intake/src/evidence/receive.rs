//! Receiving an upload's bytes: hashed and counted while they stream into a temporary file, so
//! memory stays flat whatever the size, and refused the moment they break a limit.

use docket_domain::Violations;
use docket_domain::evidence::Sha256Hex;
use docket_proto::docket::intake::v1 as pb;
use docket_proto::docket::intake::v1::upload_evidence_request::Payload;
use object_store::path::Path;
use sha2::{Digest, Sha256};
use tonic::Streaming;

use super::blobs::{BlobStore, PendingBlob};
use super::extract::PREFIX_BYTES;
use crate::error::IntakeError;

/// The largest chunk accepted.
pub const MAX_CHUNK_BYTES: usize = 1024 * 1024;

/// Limits on one upload.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_bytes: u64,
    pub declared_size: Option<u64>,
}

/// A file received in full, waiting in a temporary file for its hash to be accepted.
#[derive(Debug)]
pub struct Received {
    pub pending: Path,
    pub sha256: Sha256Hex,
    pub size: u64,
    /// The first bytes, for media type detection and EXIF.
    pub prefix: Vec<u8>,
}

/// Streams the rest of an upload into a temporary file of `blobs`. On any error the temporary
/// file is gone.
pub async fn receive(
    blobs: &BlobStore,
    stream: &mut Streaming<pb::UploadEvidenceRequest>,
    limits: Limits,
) -> Result<Received, IntakeError> {
    let mut pending = blobs.begin().await.map_err(IntakeError::Blob)?;
    match pump(&mut pending, stream, limits).await {
        Ok((sha256, size, prefix)) => {
            let path = pending.finish().await.map_err(IntakeError::Blob)?;
            Ok(Received {
                pending: path,
                sha256,
                size,
                prefix,
            })
        }
        Err(error) => {
            pending.abort().await;
            Err(error)
        }
    }
}

async fn pump(
    pending: &mut PendingBlob,
    stream: &mut Streaming<pb::UploadEvidenceRequest>,
    limits: Limits,
) -> Result<(Sha256Hex, u64, Vec<u8>), IntakeError> {
    let mut hasher = Sha256::new();
    let mut size = 0u64;
    let mut prefix = Vec::new();
    while let Some(message) = stream.message().await.map_err(IntakeError::UploadBroken)? {
        let chunk = match message.payload {
            Some(Payload::Chunk(chunk)) => chunk,
            Some(Payload::Metadata(_)) => {
                return Err(invalid(
                    "metadata",
                    "only the first message may carry metadata",
                ));
            }
            None => {
                return Err(invalid(
                    "payload",
                    "each message must carry metadata or a chunk",
                ));
            }
        };
        if chunk.len() > MAX_CHUNK_BYTES {
            return Err(invalid("chunk", "a chunk may hold at most 1 MiB"));
        }
        size += chunk.len() as u64;
        if size > limits.max_bytes {
            return Err(invalid(
                "chunk",
                format!("the file exceeds the limit of {} bytes", limits.max_bytes),
            ));
        }
        if limits.declared_size.is_some_and(|declared| size > declared) {
            return Err(invalid(
                "metadata.declared_size_bytes",
                "more bytes came than the declared size",
            ));
        }
        hasher.update(&chunk);
        if prefix.len() < PREFIX_BYTES {
            let take = (PREFIX_BYTES - prefix.len()).min(chunk.len());
            prefix.extend_from_slice(&chunk[..take]);
        }
        pending.write(chunk).await.map_err(IntakeError::Blob)?;
    }
    if size == 0 {
        return Err(invalid(
            "chunk",
            "the file is empty: send its bytes after the metadata",
        ));
    }
    if let Some(declared) = limits.declared_size
        && declared != size
    {
        return Err(invalid(
            "metadata.declared_size_bytes",
            format!("the stream ended after {size} bytes, not the declared {declared}"),
        ));
    }
    Ok((
        Sha256Hex::from_digest(&hasher.finalize().into()),
        size,
        prefix,
    ))
}

fn invalid(field: &str, description: impl Into<String>) -> IntakeError {
    IntakeError::Invalid(Violations::single(field, description))
}
