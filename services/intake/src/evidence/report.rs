//! The custody report of one evidence record, for disclosure: everything intake knows of the
//! item's life, in the order it happened, as one JSON document signed with the office's key
//! (`platform::signed_file`), so that a court can check it offline and see that no byte of it
//! changed after export.
//!
//! The events are sorted by when they happened, not when they were recorded: a collection is
//! recorded at upload but happened at its declared time, and a link is dated when it committed
//! in case management, however late its notice reached intake.

use std::collections::BTreeMap;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, SecondsFormat, Utc};
use docket_platform::audit::AuditRecord;
use docket_platform::auth::CallContext;
use docket_platform::db::begin_write;
use docket_platform::journal;
use docket_platform::signed_file;
use docket_proto::docket::intake::v1 as pb;
use sea_orm::prelude::Uuid;
use serde_json::{Value, json};

use super::EvidenceDesk;
use super::content::{self, assessment_message, with_verdicts};
use super::records::{self, custody_message};
use crate::error::IntakeError;

/// The report's `format`: readers refuse any other.
pub const FORMAT: &str = "docket.custody-report.v1";

impl EvidenceDesk {
    /// The signed custody report of evidence `id`; the export is audited.
    pub async fn custody_report(
        &self,
        call: &CallContext,
        id: Uuid,
    ) -> Result<pb::ExportCustodyReportResponse, IntakeError> {
        let Some(key) = self.signing_key.clone() else {
            return Err(IntakeError::NoSigningKey);
        };
        let row = records::find(&self.db, id).await?;
        let sha256 = row.sha256.clone();
        let record = with_verdicts(&self.db, vec![row])
            .await?
            .pop()
            .ok_or(IntakeError::EvidenceNotFound(id))?;
        let mut events = records::custody(&self.db, id).await?;
        events.sort_by_key(|event| (event.occurred_at, event.id));
        let events = events
            .into_iter()
            .map(custody_message)
            .collect::<Result<Vec<_>, _>>()?;
        let assessments = content::history(&self.db, &sha256)
            .await?
            .into_iter()
            .map(assessment_message)
            .collect::<Result<Vec<_>, _>>()?;
        let stamp = match &self.trusted_time {
            Some(trusted_time) => trusted_time.proof(&sha256).await?,
            None => None,
        };
        let document = report(call, &record, &events, &assessments, stamp.as_ref());
        // A `Value` of strings, numbers and arrays always serialises.
        let body = serde_json::to_vec(&document).unwrap_or_default();
        let signed = signed_file::sign(&body, &key);
        let txn = begin_write(&self.db).await?;
        journal::record(
            &txn,
            &AuditRecord::succeeded(
                call,
                "export custody report",
                vec![id.to_string(), signed.document_sha256.clone()],
            ),
            None,
        )
        .await?;
        txn.commit().await?;
        Ok(pb::ExportCustodyReportResponse {
            report: signed.file.into(),
            document_sha256: signed.document_sha256,
            public_key: signed.public_key,
        })
    }
}

/// The report's document.
fn report(
    call: &CallContext,
    record: &pb::Evidence,
    events: &[pb::CustodyEvent],
    assessments: &[pb::ContentAssessment],
    stamp: Option<&pb::TrustedTimestamp>,
) -> Value {
    json!({
        "format": FORMAT,
        "generated_time": rfc3339(Utc::now()),
        "generated_by": call.subject(),
        "evidence": {
            "id": record.id,
            "allegation_id": record.allegation_id,
            "case_id": record.case_id,
            "sha256": record.sha256,
            "size_bytes": record.size_bytes,
            "file_name": record.file_name,
            "declared_media_type": record.declared_media_type,
            "detected_media_type": record.detected_media_type,
            "source_url": record.source_url,
            "captured_time": time(record.captured_time.as_ref()),
            "collected_time": time(record.collected_time.as_ref()),
            "collected_by": record.collected_by,
            "collection_method": record.collection_method().as_str_name(),
            "derived_from_evidence_id": record.derived_from_evidence_id,
            "uploaded_by": record.uploaded_by,
            "uploaded_time": time(record.uploaded_time.as_ref()),
        },
        "custody_events": events.iter().map(|event| json!({
            "id": event.id,
            "kind": event.kind().as_str_name(),
            "occurred_time": time(event.occurred_time.as_ref()),
            "actor": event.actor,
            "sha256": event.sha256,
            "note": event.note,
            "case_id": event.case_id,
        })).collect::<Vec<_>>(),
        "cases": cases(events),
        "trusted_timestamp": stamp.map(|stamp| json!({
            "time": time(stamp.time.as_ref()),
            "authority": stamp.authority,
            "policy": stamp.policy,
            "serial_number": stamp.serial_number,
            "verified": stamp.verified,
            "problem": stamp.problem,
            "token_der_base64": STANDARD.encode(&stamp.token),
        })),
        "content_assessments": assessments.iter().map(|a| json!({
            "id": a.id,
            "verdict": a.verdict().as_str_name(),
            "method": a.method().as_str_name(),
            "confidence": a.confidence().as_str_name(),
            "examiner": a.examiner,
            "notes": a.notes,
            "recorded_by": a.recorded_by,
            "recorded_time": time(a.recorded_time.as_ref()),
            "through_evidence_id": a.evidence_id,
        })).collect::<Vec<_>>(),
        "review_flags": record.review_flags.iter().map(|flag| json!({
            "id": flag.id,
            "near_duplicate_sha256": flag.near_duplicate_sha256,
            "distance_bits": flag.distance_bits,
            "matched_fraction": flag.matched_fraction,
            "raised_time": time(flag.raised_time.as_ref()),
        })).collect::<Vec<_>>(),
    })
}

/// Each case the item was ever linked to, whether it is linked now, and when it last changed,
/// from the link and unlink events in the order they happened.
fn cases(events: &[pb::CustodyEvent]) -> Vec<Value> {
    let mut cases: BTreeMap<&str, (bool, Option<&prost_types::Timestamp>)> = BTreeMap::new();
    for event in events {
        let linked = match event.kind() {
            pb::CustodyEventKind::LinkedToCase | pb::CustodyEventKind::RegisteredToCase => true,
            pb::CustodyEventKind::UnlinkedFromCase => false,
            pb::CustodyEventKind::Unspecified
            | pb::CustodyEventKind::Collected
            | pb::CustodyEventKind::Uploaded
            | pb::CustodyEventKind::Accessed
            | pb::CustodyEventKind::Verified
            | pb::CustodyEventKind::Transferred
            | pb::CustodyEventKind::Repaired => continue,
        };
        cases.insert(&event.case_id, (linked, event.occurred_time.as_ref()));
    }
    cases
        .into_iter()
        .map(|(case_id, (linked, since))| {
            json!({ "case_id": case_id, "linked_now": linked, "since": time(since) })
        })
        .collect()
}

fn time(timestamp: Option<&prost_types::Timestamp>) -> Value {
    timestamp
        .and_then(|t| DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).ok()?))
        .map_or(Value::Null, |t| Value::String(rfc3339(t)))
}

fn rfc3339(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(SecondsFormat::Micros, true)
}
