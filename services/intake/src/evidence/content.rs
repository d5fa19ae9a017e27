//! Verdicts on content: assessments keyed by the SHA-256 of the bytes, so every record of the
//! same file shows the same verdict, at triage and in every case that links one of them.

use std::collections::HashMap;

use chrono::{SubsecRound, Utc};
use docket_domain::case::Verdict;
use docket_domain::content::{Confidence, ContentJudgement, ContentMethod};
use docket_platform::audit::AuditRecord;
use docket_platform::auth::CallContext;
use docket_platform::db::begin_write;
use docket_platform::journal;
use docket_proto::docket::events::v1 as ev;
use docket_proto::docket::intake::v1 as pb;
use docket_proto::timestamp;
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, IntoActiveModel, QueryOrder};

use super::request::ContentSubject;
use super::{records, review};
use crate::entity::{content_assessment, evidence};
use crate::error::IntakeError;
use crate::similar::Candidate;

/// The SHA-256 of the content `subject` names, checked to be held by some record.
pub async fn resolve<C: ConnectionTrait>(
    conn: &C,
    subject: &ContentSubject,
) -> Result<(String, Option<Uuid>), IntakeError> {
    match subject {
        ContentSubject::Evidence(id) => {
            let row = records::find(conn, *id).await?;
            Ok((row.sha256, Some(*id)))
        }
        ContentSubject::Sha256(sha256) => {
            let held = evidence::Entity::find()
                .filter(evidence::Column::Sha256.eq(sha256.as_str()))
                .one(conn)
                .await?;
            match held {
                Some(_) => Ok((sha256.as_str().to_owned(), None)),
                None => Err(IntakeError::ContentNotFound(sha256.as_str().to_owned())),
            }
        }
    }
}

/// Records `judgement` of the content `subject` names, with its audit entry and its
/// `ContentAssessed` event, in one transaction.
pub async fn assess(
    db: &sea_orm::DatabaseConnection,
    call: &CallContext,
    subject: &ContentSubject,
    judgement: ContentJudgement,
    near: &[Candidate],
) -> Result<content_assessment::Model, IntakeError> {
    let txn = begin_write(db).await?;
    let (sha256, evidence_id) = resolve(&txn, subject).await?;
    let row = content_assessment::Model {
        id: Uuid::now_v7(),
        sha256,
        evidence_id,
        verdict: judgement.verdict.code().to_owned(),
        method: judgement.method.code().to_owned(),
        confidence: judgement.confidence.code().to_owned(),
        examiner: judgement.examiner.into_inner(),
        notes: judgement.notes.into_inner(),
        recorded_by: call.subject().to_owned(),
        recorded_at: Utc::now().trunc_subsecs(6),
    };
    content_assessment::Entity::insert(row.clone().into_active_model().reset_all())
        .exec_without_returning(&txn)
        .await?;
    let holders: Vec<String> = evidence::Entity::find()
        .filter(evidence::Column::Sha256.eq(row.sha256.as_str()))
        .order_by_asc(evidence::Column::Id)
        .all(&txn)
        .await?
        .into_iter()
        .map(|held| held.id.to_string())
        .collect();
    let mut targets = vec![row.sha256.clone(), row.id.to_string()];
    if let Some(id) = evidence_id {
        targets.push(id.to_string());
    }
    let event = ev::EventPayload {
        kind: Some(ev::event_payload::Kind::ContentAssessed(
            ev::ContentAssessed {
                assessment_id: row.id.to_string(),
                sha256: row.sha256.clone(),
                verdict: pb::ContentVerdict::from(judgement.verdict)
                    .as_str_name()
                    .to_owned(),
                recorded_time: Some(timestamp(row.recorded_at)),
                evidence_ids: holders,
            },
        )),
    };
    let mut audits = vec![AuditRecord::succeeded(call, "assess content", targets)];
    audits.extend(review::after_assessment(&txn, call, &row, judgement.verdict, near).await?);
    journal::record_many(&txn, &audits, std::slice::from_ref(&event)).await?;
    txn.commit().await?;
    tracing::info!(sha256 = %row.sha256, verdict = %row.verdict, "content assessed");
    Ok(row)
}

/// Every assessment of `sha256`, oldest first (ids are UUID v7).
pub async fn history<C: ConnectionTrait>(
    conn: &C,
    sha256: &str,
) -> Result<Vec<content_assessment::Model>, DbErr> {
    content_assessment::Entity::find()
        .filter(content_assessment::Column::Sha256.eq(sha256))
        .order_by_asc(content_assessment::Column::Id)
        .all(conn)
        .await
}

/// The latest assessment of each of `hashes` that has one.
pub async fn latest<C: ConnectionTrait>(
    conn: &C,
    hashes: &[String],
) -> Result<HashMap<String, content_assessment::Model>, DbErr> {
    let mut latest = HashMap::new();
    if hashes.is_empty() {
        return Ok(latest);
    }
    for row in content_assessment::Entity::find()
        .filter(content_assessment::Column::Sha256.is_in(hashes.iter().cloned()))
        .order_by_asc(content_assessment::Column::Id)
        .all(conn)
        .await?
    {
        latest.insert(row.sha256.clone(), row);
    }
    Ok(latest)
}

pub fn assessment_message(
    row: content_assessment::Model,
) -> Result<pb::ContentAssessment, IntakeError> {
    Ok(pb::ContentAssessment {
        id: row.id.to_string(),
        sha256: row.sha256,
        evidence_id: row.evidence_id.map(|id| id.to_string()).unwrap_or_default(),
        verdict: pb::ContentVerdict::from(Verdict::from_code(&row.verdict)?).into(),
        method: pb::ContentAssessmentMethod::from(ContentMethod::from_code(&row.method)?).into(),
        confidence: pb::AssessmentConfidence::from(Confidence::from_code(&row.confidence)?).into(),
        examiner: row.examiner,
        notes: row.notes,
        recorded_by: row.recorded_by,
        recorded_time: Some(timestamp(row.recorded_at)),
    })
}

/// `rows` as wire records, each with the current verdict on its bytes, their open review
/// flags and their Content Credentials.
pub async fn with_verdicts<C: ConnectionTrait>(
    conn: &C,
    rows: Vec<evidence::Model>,
) -> Result<Vec<pb::Evidence>, IntakeError> {
    let hashes: Vec<String> = rows.iter().map(|row| row.sha256.clone()).collect();
    let latest = latest(conn, &hashes).await?;
    let flags = review::open_on(conn, &hashes).await?;
    let credentials = crate::credentials::shown(conn, &hashes).await?;
    let mut messages = Vec::with_capacity(rows.len());
    for row in rows {
        let verdict = latest.get(&row.sha256).cloned();
        let open = flags.get(&row.sha256).cloned().unwrap_or_default();
        let mut message = records::evidence_message(row)?;
        message.content_verdict = verdict.map(assessment_message).transpose()?;
        message.review_flags = review::messages(conn, open).await?;
        message.content_credentials = credentials.get(&message.sha256).cloned();
        messages.push(message);
    }
    Ok(messages)
}
