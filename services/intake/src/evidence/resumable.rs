//! Resumable uploads over the wire: `StartUpload` checks the metadata and opens a session,
//! `WriteUpload` appends at the offset the session holds, `GetUploadStatus` says where that is.
//! The stream that brings the last byte completes the upload exactly as `UploadEvidence` does
//! (see [`EvidenceDesk::keep`]): the declared hash over all the bytes, then the record.

use chrono::Utc;
use docket_domain::Violations;
use docket_domain::evidence::Sha256Hex;
use docket_platform::auth::CallContext;
use docket_proto::docket::intake::v1 as pb;
use sha2::Digest;
use tokio::io::AsyncWriteExt;
use tonic::Streaming;
use uuid::Uuid;

use super::EvidenceDesk;
use super::extract::PREFIX_BYTES;
use super::receive::{MAX_CHUNK_BYTES, Received};
use super::request::upload_header;
use super::sessions::{Session, SessionState, remove_part};
use crate::error::IntakeError;
use crate::request::parse_id;

impl EvidenceDesk {
    /// Opens a resumable upload of the file `request` announces.
    pub async fn start_upload(
        &self,
        call: &CallContext,
        request: pb::StartUploadRequest,
    ) -> Result<pb::StartUploadResponse, IntakeError> {
        let Some(metadata) = request.metadata else {
            return Err(Violations::single("metadata", "is required").into());
        };
        let mut header = upload_header(metadata, Utc::now())?;
        let mut v = Violations::default();
        let declared_sha256 = header.metadata.declared_sha256.clone();
        if declared_sha256.is_none() {
            v.add(
                "metadata.declared_sha256",
                "is required for a resumable upload",
            );
        }
        match header.declared_size {
            None => v.add(
                "metadata.declared_size_bytes",
                "is required for a resumable upload (and more than zero)",
            ),
            Some(size) if size > self.max_bytes => v.add(
                "metadata.declared_size_bytes",
                format!("the file exceeds the limit of {} bytes", self.max_bytes),
            ),
            Some(_) => {}
        }
        v.into_result()?;
        let (Some(declared_sha256), Some(size)) = (declared_sha256, header.declared_size) else {
            // Both were checked just above.
            return Err(Violations::single("metadata", "is incomplete").into());
        };
        self.check_references(&mut header).await?;
        let session = self
            .sessions
            .start(call.subject(), header, size, declared_sha256)
            .await?;
        tracing::info!(upload = %session.id, size, "upload session opened");
        Ok(pb::StartUploadResponse {
            upload_id: session.id.to_string(),
            expire_time: Some(docket_proto::timestamp(self.sessions.expire_time(&session))),
        })
    }

    /// How far the upload `id` has come.
    pub async fn upload_status(
        &self,
        call: &CallContext,
        request: &pb::GetUploadStatusRequest,
    ) -> Result<pb::GetUploadStatusResponse, IntakeError> {
        let id = parse_id("upload_id", &request.upload_id)?;
        let session = self.sessions.find(call.subject(), id).await?;
        Ok(pb::GetUploadStatusResponse {
            received_bytes: wire_size(session.received()),
            size_bytes: wire_size(session.size),
            expire_time: Some(docket_proto::timestamp(self.sessions.expire_time(&session))),
            evidence_id: session
                .evidence_id()
                .map(|id| id.to_string())
                .unwrap_or_default(),
        })
    }

    /// Appends the chunks of `stream` to their session, and completes the upload when the
    /// stream ends with the whole file. What arrived before a broken stream stays.
    pub async fn write_upload(
        &self,
        call: &CallContext,
        mut stream: Streaming<pb::WriteUploadRequest>,
    ) -> Result<pb::WriteUploadResponse, IntakeError> {
        let Some(first) = stream.message().await.map_err(IntakeError::UploadBroken)? else {
            return Err(Violations::single(
                "upload_id",
                "send at least one message naming the upload session",
            )
            .into());
        };
        let id = parse_id("upload_id", &first.upload_id)?;
        let session = self.sessions.find(call.subject(), id).await?;
        let Ok(mut state) = session.state.try_lock() else {
            return Err(IntakeError::UploadBusy(id));
        };
        let mut next = Some(first);
        let mut written = Ok(());
        while let Some(message) = next {
            written = append(&session, &mut state, message).await;
            if written.is_err() {
                break;
            }
            next = match stream.message().await {
                Ok(message) => message,
                Err(cause) => {
                    written = Err(IntakeError::UploadBroken(cause));
                    None
                }
            };
        }
        let flushed = match state.file.as_mut() {
            Some(file) => file.flush().await,
            None => Ok(()),
        };
        if let Err(error) = flushed {
            written = Err(IntakeError::UploadFile(error));
        }
        if let Err(error @ IntakeError::UploadFile(_)) = written {
            // The file may not hold what the session counts: it cannot be resumed.
            drop(state);
            self.sessions.remove(id).await;
            return Err(error);
        }
        written?;
        if let Some(completed) = &state.completed {
            return Ok(pb::WriteUploadResponse {
                received_bytes: wire_size(session.size),
                completed: Some(completed.clone()),
            });
        }
        if state.received < session.size {
            return Ok(pb::WriteUploadResponse {
                received_bytes: wire_size(state.received),
                completed: None,
            });
        }
        let completed = self.complete(call, &session, &mut state).await?;
        Ok(pb::WriteUploadResponse {
            received_bytes: wire_size(session.size),
            completed: Some(completed),
        })
    }

    /// Keeps the whole file of `session`. A hash that is not the declared one drops the
    /// session with its bytes; any other failure leaves it whole, to be completed again by a
    /// stream with no bytes.
    async fn complete(
        &self,
        call: &CallContext,
        session: &Session,
        state: &mut SessionState,
    ) -> Result<pb::UploadEvidenceResponse, IntakeError> {
        let path = self.sessions.part_path(session.id);
        if let Some(file) = state.file.as_mut() {
            file.sync_all().await.map_err(IntakeError::UploadFile)?;
        }
        let sha256 = Sha256Hex::from_digest(&state.hasher.clone().finalize().into());
        let pending = self.blobs.adopt(&path).await.map_err(IntakeError::Blob)?;
        let received = Received {
            pending,
            sha256,
            size: state.received,
            prefix: state.prefix.clone(),
        };
        match self.keep(call, session.header.clone(), received).await {
            Ok(response) => {
                if let Some(evidence) = &response.evidence
                    && let Ok(evidence_id) = Uuid::parse_str(&evidence.id)
                {
                    session.complete(evidence_id);
                }
                state.file = None;
                state.completed = Some(response.clone());
                remove_part(&path).await;
                tracing::info!(upload = %session.id, "upload session complete");
                Ok(response)
            }
            Err(error @ IntakeError::Invalid(_)) => {
                state.file = None;
                self.sessions.remove(session.id).await;
                Err(error)
            }
            Err(error) => Err(error),
        }
    }
}

/// Writes one message's chunk at the session's end, after checking where it goes.
async fn append(
    session: &Session,
    state: &mut SessionState,
    message: pb::WriteUploadRequest,
) -> Result<(), IntakeError> {
    if message.upload_id != session.id.to_string() {
        return Err(Violations::single(
            "upload_id",
            "every message of a stream must name the same upload session",
        )
        .into());
    }
    let offset = u64::try_from(message.offset)
        .map_err(|_| Violations::single("offset", "must not be negative"))?;
    if message.chunk.len() > MAX_CHUNK_BYTES {
        return Err(Violations::single("chunk", "a chunk may hold at most 1 MiB").into());
    }
    if state.completed.is_some() {
        // A client that missed the answer of the stream that completed it asks again.
        return if message.chunk.is_empty() && offset == session.size {
            Ok(())
        } else {
            Err(IntakeError::UploadComplete(session.id))
        };
    }
    if offset != state.received {
        return Err(IntakeError::UploadOffset {
            id: session.id,
            expected: state.received,
            offset,
        });
    }
    let end = state.received + message.chunk.len() as u64;
    if end > session.size {
        return Err(Violations::single(
            "chunk",
            format!(
                "more bytes than the declared size of {} bytes",
                session.size
            ),
        )
        .into());
    }
    let Some(file) = state.file.as_mut() else {
        return Err(IntakeError::UploadComplete(session.id));
    };
    if let Err(error) = file.write_all(&message.chunk).await {
        return Err(IntakeError::UploadFile(error));
    }
    state.hasher.update(&message.chunk);
    if state.prefix.len() < PREFIX_BYTES {
        let take = (PREFIX_BYTES - state.prefix.len()).min(message.chunk.len());
        state.prefix.extend_from_slice(&message.chunk[..take]);
    }
    state.received = end;
    session.advanced(end);
    Ok(())
}

fn wire_size(size: u64) -> i64 {
    i64::try_from(size).unwrap_or(i64::MAX)
}
