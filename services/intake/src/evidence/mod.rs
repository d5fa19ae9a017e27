//! Evidence: files streamed in and hashed as they come, kept once per content in the blob store,
//! never altered or removed by any call, with a chain of custody per record.
//!
//! An upload becomes a blob only when its stream ended cleanly, its size is within the limits
//! and its hash is the declared one; otherwise the temporary file is removed and nothing is
//! recorded. The record, its `collected` and `uploaded` custody events and the audit entry
//! commit in one transaction, after the blob is in place. When the bytes were stored already,
//! the stored copy is checked against them first, and a damaged one is replaced by them: the
//! repair is recorded in the custody of every record of that file (see `blobs` and `verify`).
//!
//! A file belongs to an allegation, or is registered directly to a case: see `registration`.

mod blobs;
mod case_custody;
mod content;
mod download;
mod extract;
mod receive;
mod records;
mod registration;
mod report;
pub mod request;
mod resumable;
pub(crate) mod review;
mod sessions;
mod staging;
mod verify;

use chrono::{SubsecRound, Utc};
use docket_domain::Violations;
use docket_domain::content::ContentJudgement;
use docket_domain::evidence::{CustodyEventKind, CustodyNote, PersonOrOffice};
use docket_platform::audit::AuditRecord;
use docket_platform::auth::CallContext;
use docket_platform::db::begin_write;
use docket_platform::events::EventLog;
use docket_platform::journal;
use docket_platform::paging::Page;
use docket_proto::docket::events::v1 as ev;
use docket_proto::docket::intake::v1 as pb;
use docket_proto::docket::intake::v1::upload_evidence_request::Payload;
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveModelTrait, DatabaseConnection, IntoActiveModel};
use tonic::Streaming;

pub use blobs::BlobStore;
use blobs::Committed;
pub use case_custody::case_custody;
use content::{assessment_message, with_verdicts};
pub use download::DownloadStream;
use receive::{Limits, Received, receive};
use records::{custody_message, record_custody, record_custody_at};
use request::{ContentSubject, EvidenceQuery, Owner, UploadHeader, upload_header};
pub use sessions::UploadSessions;
pub use verify::VerifyStream;

use crate::delivery::ToCaseManagement;
use crate::entity::{allegation, evidence};
use crate::error::IntakeError;
use crate::jobs::{JobKind, JobQueue, Runner};
use crate::similar::{HashState, Media, Similarity};
use crate::timestamp::TrustedTime;

/// Evidence records, their files and their custody.
#[derive(Debug, Clone)]
pub struct EvidenceDesk {
    db: DatabaseConnection,
    blobs: BlobStore,
    events: EventLog,
    max_bytes: u64,
    sessions: std::sync::Arc<UploadSessions>,
    /// Post-upload work, woken by each upload.
    jobs: Runner,
    similarity: Similarity,
    /// RFC 3161 timestamps of the contents; `None` until [`Self::with_trusted_time`].
    trusted_time: Option<TrustedTime>,
    /// The office's key, which signs custody reports; `None` until [`Self::with_signing_key`].
    signing_key: Option<std::sync::Arc<ed25519_dalek::SigningKey>>,
    /// Asked whether a case a file is registered to exists and is open.
    cases: ToCaseManagement,
    /// Woken when an upload registered to a case leaves a delivery in the outbox.
    dispatcher: docket_platform::outbox::Dispatcher,
}

/// Where evidence is stored and what it is checked against.
#[derive(Debug)]
pub struct EvidenceDeskParts {
    pub db: DatabaseConnection,
    pub blobs: BlobStore,
    pub events: EventLog,
    pub max_bytes: u64,
    pub sessions: UploadSessions,
    pub jobs: Runner,
    pub similarity: Similarity,
    pub cases: ToCaseManagement,
    pub dispatcher: docket_platform::outbox::Dispatcher,
}

impl EvidenceDesk {
    pub fn new(parts: EvidenceDeskParts) -> Self {
        let EvidenceDeskParts {
            db,
            blobs,
            events,
            max_bytes,
            sessions,
            jobs,
            similarity,
            cases,
            dispatcher,
        } = parts;
        Self {
            db,
            blobs,
            events,
            max_bytes,
            sessions: std::sync::Arc::new(sessions),
            jobs,
            similarity,
            trusted_time: None,
            signing_key: None,
            cases,
            dispatcher,
        }
    }

    /// Signs custody reports with the office's signing key (`reporting.release.signing_key`,
    /// generated in development). A production deployment without one serves everything else,
    /// and refuses custody reports.
    pub fn with_signing_key_from(
        mut self,
        settings: &docket_platform::Settings,
    ) -> anyhow::Result<Self> {
        if settings.reporting.release.signing_key.is_none()
            && settings.mode == docket_platform::Mode::Production
        {
            tracing::warn!(
                "no `reporting.release.signing_key`: custody reports cannot be exported"
            );
            return Ok(self);
        }
        let key = docket_platform::signed_file::office_key(settings)?;
        self.signing_key = Some(std::sync::Arc::new(key));
        Ok(self)
    }

    /// Timestamps each upload's content with `trusted_time`'s authority (when one is
    /// configured) and shows the stored timestamps in `VerifyEvidence`.
    pub fn with_trusted_time(mut self, trusted_time: TrustedTime) -> Self {
        self.trusted_time = Some(trusted_time);
        self
    }

    /// Receives one upload: metadata first, then the bytes.
    pub async fn upload(
        &self,
        call: &CallContext,
        mut stream: Streaming<pb::UploadEvidenceRequest>,
    ) -> Result<pb::UploadEvidenceResponse, IntakeError> {
        let first = stream.message().await.map_err(IntakeError::UploadBroken)?;
        let Some(pb::UploadEvidenceRequest {
            payload: Some(Payload::Metadata(metadata)),
        }) = first
        else {
            return Err(Violations::single(
                "metadata",
                "the first message must carry the metadata",
            )
            .into());
        };
        let mut metadata = metadata;
        request::one_owner_at_most(&metadata)?;
        crate::request::reference::resolve(&self.db, Some(&self.cases), &mut metadata).await?;
        let mut header = upload_header(metadata, Utc::now())?;
        // Refuse unknown references and closed cases before a single byte is stored.
        self.check_references(&mut header).await?;
        let limits = Limits {
            max_bytes: self.max_bytes,
            declared_size: header.declared_size,
        };
        let received = receive(&self.blobs, &mut stream, limits).await?;
        self.keep(call, header, received).await
    }

    /// Refuses an upload whose allegation or original is not known, or whose case case
    /// management does not hold open (asking it); notes the case's reference in `header`.
    async fn check_references(&self, header: &mut UploadHeader) -> Result<(), IntakeError> {
        if let Some(original) = header.derived_from {
            records::find(&self.db, original).await?;
        }
        match header.owner {
            Owner::Allegation(id) => {
                if allegation::Entity::find_by_id(id)
                    .one(&self.db)
                    .await?
                    .is_none()
                {
                    return Err(IntakeError::AllegationNotFound(id));
                }
            }
            Owner::Case(id) => {
                header.case_reference = Some(self.cases.check_registrable(id).await?);
            }
        }
        Ok(())
    }

    /// Keeps a file received in full, of either kind of upload, if its hash is the declared
    /// one: the blob, then the record, its custody and its event in one transaction.
    async fn keep(
        &self,
        call: &CallContext,
        header: UploadHeader,
        received: Received,
    ) -> Result<pb::UploadEvidenceResponse, IntakeError> {
        if let Some(declared) = &header.metadata.declared_sha256
            && *declared != received.sha256
        {
            self.blobs.discard(&received.pending).await;
            return Err(Violations::single(
                "metadata.declared_sha256",
                format!(
                    "the bytes received hash to {}, not the declared {}: nothing was kept",
                    received.sha256.as_str(),
                    declared.as_str()
                ),
            )
            .into());
        }
        let extracted = extract::extract(&received.prefix);
        let committed = self
            .blobs
            .commit(received.pending, received.sha256.as_str(), received.size)
            .await
            .map_err(IntakeError::Blob)?;
        // Bytes written to the store: new content, or a damaged copy replaced; not the same
        // bytes uploaded again.
        if !matches!(committed, Committed::AlreadyStored) {
            metrics::counter!("docket_evidence_bytes_stored_total").increment(received.size);
        }
        if let Committed::Repaired { found } = &committed {
            self.record_repair(call, received.sha256.as_str(), found)
                .await?;
        }

        let now = Utc::now().trunc_subsecs(6);
        let metadata = header.metadata;
        let row = evidence::Model {
            id: Uuid::now_v7(),
            allegation_id: header.owner.allegation(),
            case_id: header.owner.case(),
            sha256: received.sha256.as_str().to_owned(),
            size_bytes: i64::try_from(received.size).unwrap_or(i64::MAX),
            file_name: metadata.file_name.as_str().to_owned(),
            declared_media_type: metadata.media_type.clone(),
            detected_media_type: extracted.media_type,
            source_url: metadata.source_url.as_ref().map(|u| u.as_str().to_owned()),
            captured_at: metadata.captured_time.map(|t| t.trunc_subsecs(6)),
            collected_at: metadata.collected_time.trunc_subsecs(6),
            collected_by: metadata.collected_by.as_str().to_owned(),
            collection_method: metadata.collection_method.code().to_owned(),
            derived_from_id: header.derived_from,
            uploaded_by: call.subject().to_owned(),
            uploaded_at: now,
            exif_capture_time: extracted.exif_capture_time,
            exif_latitude: extracted.exif_position.map(|(lat, _)| lat),
            exif_longitude: extracted.exif_position.map(|(_, lon)| lon),
        };
        let txn = begin_write(&self.db).await?;
        evidence::Entity::insert(row.clone().into_active_model().reset_all())
            .exec_without_returning(&txn)
            .await?;
        // The collection happened when the uploader declares it did, not now: a court reads the
        // chain in the order things happened. The upload time is on the `uploaded` event.
        let how = format!(
            "collected by {} ({}); declared at upload by {} at {}",
            row.collected_by,
            row.collection_method,
            call.subject(),
            now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
        );
        record_custody_at(
            &txn,
            row.id,
            CustodyEventKind::Collected,
            &row.collected_by,
            &row.sha256,
            &how,
            row.collected_at,
        )
        .await?;
        let note = match committed {
            Committed::Stored => format!("{} bytes, stored", received.size),
            Committed::AlreadyStored => {
                format!("{} bytes, same bytes already stored", received.size)
            }
            Committed::Repaired { found } => format!(
                "{} bytes, same bytes already stored but damaged ({found}): repaired from these",
                received.size
            ),
        };
        record_custody_at(
            &txn,
            row.id,
            CustodyEventKind::Uploaded,
            call.subject(),
            &row.sha256,
            &note,
            row.uploaded_at,
        )
        .await?;
        if let Owner::Case(case_id) = header.owner {
            self.register_to_case(&txn, call, &row, case_id, header.case_reference.as_deref())
                .await?;
        }
        let owner_id = match header.owner {
            Owner::Allegation(id) | Owner::Case(id) => id.to_string(),
        };
        let targets = vec![row.id.to_string(), owner_id];
        let recorded = ev::EvidenceRecorded {
            evidence_id: row.id.to_string(),
            allegation_id: row
                .allegation_id
                .map(|id| id.to_string())
                .unwrap_or_default(),
            sha256: row.sha256.clone(),
            size_bytes: row.size_bytes,
            case_id: row.case_id.map(|id| id.to_string()).unwrap_or_default(),
        };
        let event = ev::EventPayload {
            kind: Some(ev::event_payload::Kind::EvidenceRecorded(recorded)),
        };
        let audit = AuditRecord::succeeded(call, "upload evidence", targets);
        journal::record(&txn, &audit, Some(&event)).await?;
        // In the same transaction: once the upload is answered, its hashing cannot be lost.
        JobQueue::enqueue(&txn, JobKind::PerceptualHash, &row.sha256).await?;
        JobQueue::enqueue(&txn, JobKind::ContentCredentials, &row.sha256).await?;
        if self
            .trusted_time
            .as_ref()
            .is_some_and(TrustedTime::configured)
        {
            JobQueue::enqueue(&txn, JobKind::TrustedTime, &row.sha256).await?;
        }
        txn.commit().await?;
        self.events.committed();
        self.jobs.enqueued();
        if row.case_id.is_some() {
            self.dispatcher.committed();
        }
        tracing::info!(evidence = %row.id, sha256 = %row.sha256, size = received.size, "evidence received");

        let same = evidence::Entity::find()
            .filter(evidence::Column::Sha256.eq(row.sha256.as_str()))
            .filter(evidence::Column::Id.ne(row.id))
            .all(&self.db)
            .await?;
        let mut records = with_verdicts(&self.db, vec![row]).await?;
        Ok(pb::UploadEvidenceResponse {
            evidence: records.pop(),
            same_content: with_verdicts(&self.db, same).await?,
        })
    }

    /// Stored contents that look like the bytes of evidence `id`, best first.
    pub async fn find_similar(
        &self,
        id: Uuid,
        limit: usize,
    ) -> Result<pb::FindSimilarEvidenceResponse, IntakeError> {
        let row = records::find(&self.db, id).await?;
        let state = self
            .similarity
            .state_of(self.jobs.queue(), &row.sha256)
            .await?;
        let (hash_state, detail) = match state {
            HashState::Pending => (pb::PerceptualHashState::Pending, String::new()),
            HashState::Hashed => (pb::PerceptualHashState::Hashed, String::new()),
            HashState::NotHashable(why) => (pb::PerceptualHashState::NotHashable, why),
            HashState::Unsupported(why) => (pb::PerceptualHashState::Unsupported, why),
            HashState::Failed(why) => (pb::PerceptualHashState::Failed, why),
        };
        let found = self
            .similarity
            .similar_to(&row.sha256, limit)
            .unwrap_or_default();
        let sha256s: Vec<String> = found.iter().map(|c| c.sha256.clone()).collect();
        let mut records = crate::similar::records_of(&self.db, &sha256s, 20).await?;
        let candidates = found
            .into_iter()
            .map(|candidate| pb::SimilarContent {
                evidence_ids: records
                    .remove(&candidate.sha256)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|id| id.to_string())
                    .collect(),
                sha256: candidate.sha256,
                media: match candidate.media {
                    Media::Image => pb::PerceptualMedia::Image,
                    Media::Video => pb::PerceptualMedia::Video,
                }
                .into(),
                distance_bits: candidate.distance_bits,
                matched_fraction: candidate.matched_fraction,
            })
            .collect();
        Ok(pb::FindSimilarEvidenceResponse {
            hash_state: hash_state.into(),
            hash_state_detail: detail,
            candidates,
        })
    }

    /// One record, with the current verdict on its bytes.
    pub async fn get(&self, id: Uuid) -> Result<pb::Evidence, IntakeError> {
        let row = records::find(&self.db, id).await?;
        with_verdicts(&self.db, vec![row])
            .await?
            .pop()
            .ok_or(IntakeError::EvidenceNotFound(id))
    }

    pub async fn list(
        &self,
        query: &EvidenceQuery,
    ) -> Result<pb::ListEvidenceResponse, IntakeError> {
        let (rows, next_page_token) = records::list(&self.db, query).await?;
        Ok(pb::ListEvidenceResponse {
            evidence: with_verdicts(&self.db, rows).await?,
            next_page_token,
        })
    }

    /// The first 1 000 evidence records of allegation `id`, oldest first, with the verdicts
    /// on their content and its open review flags.
    pub async fn of_allegation(&self, id: Uuid) -> Result<Vec<pb::Evidence>, IntakeError> {
        let query = EvidenceQuery {
            allegation_id: Some(id),
            case_id: None,
            sha256: None,
            page_size: docket_platform::paging::MAX_PAGE_SIZE,
            after: None,
        };
        let (rows, _) = records::list(&self.db, &query).await?;
        with_verdicts(&self.db, rows).await
    }

    /// Records an assessment of the content `subject` names.
    pub async fn assess(
        &self,
        call: &CallContext,
        subject: &ContentSubject,
        judgement: ContentJudgement,
    ) -> Result<pb::ContentAssessment, IntakeError> {
        // Near-duplicates come from the in-memory index, before the transaction; bytes hashed
        // meanwhile are flagged by their own hashing job (`review::after_hashing`).
        let near = if judgement.verdict.judged_fabricated() {
            let (sha256, _) = content::resolve(&self.db, subject).await?;
            self.similarity
                .similar_to(&sha256, review::MAX_FLAGGED)
                .unwrap_or_default()
        } else {
            Vec::new()
        };
        let row = content::assess(&self.db, call, subject, judgement, &near).await?;
        self.events.committed();
        assessment_message(row)
    }

    /// Every assessment of the content `subject` names, oldest first.
    pub async fn assessments(
        &self,
        subject: &ContentSubject,
    ) -> Result<Vec<pb::ContentAssessment>, IntakeError> {
        let (sha256, _) = content::resolve(&self.db, subject).await?;
        content::history(&self.db, &sha256)
            .await?
            .into_iter()
            .map(assessment_message)
            .collect()
    }

    /// One page of review flags for `query`; the call is audited with the flags it shows.
    pub async fn review_flags(
        &self,
        call: &CallContext,
        query: &request::ReviewFlagQuery,
    ) -> Result<pb::ListReviewFlagsResponse, IntakeError> {
        let txn = begin_write(&self.db).await?;
        let (rows, next_page_token) = review::list(&txn, query).await?;
        let targets = rows.iter().map(|flag| flag.id.to_string()).collect();
        journal::record(
            &txn,
            &AuditRecord::succeeded(call, "list review flags", targets),
            None,
        )
        .await?;
        let flags = review::messages(&txn, rows).await?;
        txn.commit().await?;
        Ok(pb::ListReviewFlagsResponse {
            flags,
            next_page_token,
        })
    }

    pub async fn custody(
        &self,
        id: Uuid,
        page: &Page,
    ) -> Result<(Vec<pb::CustodyEvent>, String), IntakeError> {
        records::find(&self.db, id).await?;
        let mut rows = records::custody_page(&self.db, id, page).await?;
        let token = page.finish(&mut rows, |row| row.id.as_bytes().to_vec());
        let events = rows
            .into_iter()
            .map(custody_message)
            .collect::<Result<_, _>>()?;
        Ok((events, token))
    }

    /// Records a hand-over of evidence `id` to `recipient`.
    pub async fn transfer(
        &self,
        call: &CallContext,
        id: Uuid,
        recipient: &PersonOrOffice,
        note: Option<&CustodyNote>,
    ) -> Result<pb::CustodyEvent, IntakeError> {
        let txn = begin_write(&self.db).await?;
        let row = records::find(&txn, id).await?;
        let text = match note {
            Some(note) => format!("to {}: {}", recipient.as_str(), note.as_str()),
            None => format!("to {}", recipient.as_str()),
        };
        let event = record_custody(
            &txn,
            id,
            CustodyEventKind::Transferred,
            call.subject(),
            &row.sha256,
            &text,
        )
        .await?;
        journal::record(
            &txn,
            &AuditRecord::succeeded(call, "transfer evidence", vec![id.to_string()]),
            None,
        )
        .await?;
        txn.commit().await?;
        custody_message(event)
    }
}
