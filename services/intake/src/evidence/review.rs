//! Review flags: when some bytes are judged fabricated, their near-duplicates (other bytes that
//! perceptual hashing finds to be the same picture or video) are flagged for a person to
//! examine. A verdict never travels to other bytes by itself — a re-encoded copy may be the
//! authentic original of a doctored clip — so the flag asks, it does not judge.
//!
//! Flags are raised in the transaction of the verdict (near-duplicates already hashed) or of the
//! hashing of a later copy (near-duplicates judged before it was hashed), so neither order loses
//! one. A flag clears when its content gets its own verdict, or when the content that raised it
//! is assessed again and no longer judged fabricated.

use std::collections::HashMap;

use chrono::{DateTime, SubsecRound, Utc};
use docket_domain::case::Verdict;
use docket_platform::audit::AuditRecord;
use docket_proto::docket::intake::v1 as pb;
use docket_proto::timestamp;
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ConnectionTrait, IntoActiveModel, QueryOrder, QuerySelect};

use super::content::{assessment_message, latest};
use super::request::ReviewFlagQuery;
use crate::entity::{content_assessment, content_review_flag};
use crate::error::IntakeError;
use crate::similar::{Candidate, records_of};

/// At most this many near-duplicates are flagged for one verdict.
pub const MAX_FLAGGED: usize = 100;

/// Why a flag was cleared.
const ASSESSED: &str = "the content was assessed";
const REVISED: &str = "the near-duplicate is no longer judged fabricated";

fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// Flags each of `near` (near-duplicates of `because_sha256`) for review because assessment
/// `because_assessment_id` judged `because_sha256` fabricated; a content already flagged for
/// that same near-duplicate is left as it is. Returns the flags raised.
pub async fn raise<C: ConnectionTrait>(
    conn: &C,
    because_sha256: &str,
    because_assessment_id: Uuid,
    near: &[Candidate],
) -> Result<Vec<content_review_flag::Model>, DbErr> {
    if near.is_empty() {
        return Ok(Vec::new());
    }
    let open: std::collections::HashSet<String> = content_review_flag::Entity::find()
        .filter(content_review_flag::Column::BecauseSha256.eq(because_sha256))
        .filter(content_review_flag::Column::ClearedAt.is_null())
        .all(conn)
        .await?
        .into_iter()
        .map(|flag| flag.sha256)
        .collect();
    // Content already judged fabricated needs no second look on this account; content judged
    // otherwise does (its examiner may not have known of the copy).
    let hashes: Vec<String> = near.iter().map(|c| c.sha256.clone()).collect();
    let judged = latest(conn, &hashes).await?;
    let raised_at = now();
    let mut raised = Vec::new();
    for candidate in near.iter().take(MAX_FLAGGED) {
        let already_fabricated = judged.get(&candidate.sha256).is_some_and(|row| {
            Verdict::from_code(&row.verdict).is_ok_and(|verdict| verdict.judged_fabricated())
        });
        if candidate.sha256 == because_sha256
            || open.contains(&candidate.sha256)
            || already_fabricated
        {
            continue;
        }
        let flag = content_review_flag::Model {
            id: Uuid::now_v7(),
            sha256: candidate.sha256.clone(),
            because_sha256: because_sha256.to_owned(),
            because_assessment_id,
            distance_bits: candidate.distance_bits,
            matched_fraction: candidate.matched_fraction,
            raised_at,
            cleared_at: None,
            cleared_by: None,
            cleared_reason: None,
        };
        // A concurrent verdict or hashing job may have flagged the same content for the same
        // near-duplicate after the read above: the unique index on open flags keeps one.
        let inserted =
            content_review_flag::Entity::insert(flag.clone().into_active_model().reset_all())
                .on_conflict(OnConflict::new().do_nothing().to_owned())
                .exec_without_returning(conn)
                .await?;
        if inserted > 0 {
            raised.push(flag);
        }
    }
    Ok(raised)
}

/// Clears the open flags matching `column = sha256`, recording `assessment_id` and `reason`.
async fn clear<C: ConnectionTrait>(
    conn: &C,
    column: content_review_flag::Column,
    sha256: &str,
    assessment_id: Uuid,
    reason: &str,
) -> Result<Vec<Uuid>, DbErr> {
    let open: Vec<Uuid> = content_review_flag::Entity::find()
        .filter(column.eq(sha256))
        .filter(content_review_flag::Column::ClearedAt.is_null())
        .all(conn)
        .await?
        .into_iter()
        .map(|flag| flag.id)
        .collect();
    if open.is_empty() {
        return Ok(open);
    }
    content_review_flag::Entity::update_many()
        .col_expr(content_review_flag::Column::ClearedAt, Expr::value(now()))
        .col_expr(
            content_review_flag::Column::ClearedBy,
            Expr::value(assessment_id),
        )
        .col_expr(
            content_review_flag::Column::ClearedReason,
            Expr::value(reason.to_owned()),
        )
        .filter(content_review_flag::Column::Id.is_in(open.clone()))
        .exec(conn)
        .await?;
    Ok(open)
}

/// What a new assessment of `sha256` does to flags: it clears the flags on `sha256` (it has its
/// own verdict now); judged fabricated, it flags `near`; otherwise it clears the flags it raised
/// before. Returns the audit entries to record with the assessment.
pub async fn after_assessment<C: ConnectionTrait>(
    conn: &C,
    call: &docket_platform::auth::CallContext,
    assessment: &content_assessment::Model,
    verdict: Verdict,
    near: &[Candidate],
) -> Result<Vec<AuditRecord>, DbErr> {
    let mut audits = Vec::new();
    let mut cleared = clear(
        conn,
        content_review_flag::Column::Sha256,
        &assessment.sha256,
        assessment.id,
        ASSESSED,
    )
    .await?;
    if verdict.judged_fabricated() {
        let raised = raise(conn, &assessment.sha256, assessment.id, near).await?;
        if !raised.is_empty() {
            audits.push(AuditRecord::succeeded(
                call,
                "flag near-duplicates of fabricated content for review",
                flag_targets(&raised),
            ));
        }
    } else {
        cleared.extend(
            clear(
                conn,
                content_review_flag::Column::BecauseSha256,
                &assessment.sha256,
                assessment.id,
                REVISED,
            )
            .await?,
        );
    }
    if !cleared.is_empty() {
        audits.push(AuditRecord::succeeded(
            call,
            "clear review flags",
            cleared.iter().map(Uuid::to_string).collect(),
        ));
    }
    Ok(audits)
}

/// What the hashing of `sha256` does to flags, `near` being its near-duplicates: when it is
/// judged fabricated, they are flagged; each of them judged fabricated flags it (unless it is
/// judged fabricated itself). Returns the flags raised.
pub async fn after_hashing<C: ConnectionTrait>(
    conn: &C,
    sha256: &str,
    near: &[Candidate],
) -> Result<Vec<content_review_flag::Model>, DbErr> {
    if near.is_empty() {
        return Ok(Vec::new());
    }
    let mut hashes: Vec<String> = near.iter().map(|c| c.sha256.clone()).collect();
    hashes.push(sha256.to_owned());
    let verdicts = latest(conn, &hashes).await?;
    let fabricated = |hash: &str| {
        verdicts.get(hash).filter(|row| {
            Verdict::from_code(&row.verdict).is_ok_and(|verdict| verdict.judged_fabricated())
        })
    };
    let mut raised = Vec::new();
    if let Some(own) = fabricated(sha256) {
        raised.extend(raise(conn, sha256, own.id, near).await?);
    }
    {
        for candidate in near {
            if let Some(theirs) = fabricated(&candidate.sha256) {
                let reverse = Candidate {
                    sha256: sha256.to_owned(),
                    ..candidate.clone()
                };
                raised.extend(
                    raise(
                        conn,
                        &candidate.sha256,
                        theirs.id,
                        std::slice::from_ref(&reverse),
                    )
                    .await?,
                );
            }
        }
    }
    Ok(raised)
}

/// What an audit entry names of raised flags: each flag and the content it flags.
pub fn flag_targets(flags: &[content_review_flag::Model]) -> Vec<String> {
    flags
        .iter()
        .flat_map(|flag| [flag.id.to_string(), flag.sha256.clone()])
        .collect()
}

/// The open flags on each of `hashes` that has any, oldest first.
pub async fn open_on<C: ConnectionTrait>(
    conn: &C,
    hashes: &[String],
) -> Result<HashMap<String, Vec<content_review_flag::Model>>, DbErr> {
    let mut open: HashMap<String, Vec<content_review_flag::Model>> = HashMap::new();
    if hashes.is_empty() {
        return Ok(open);
    }
    for flag in content_review_flag::Entity::find()
        .filter(content_review_flag::Column::Sha256.is_in(hashes.iter().cloned()))
        .filter(content_review_flag::Column::ClearedAt.is_null())
        .order_by_asc(content_review_flag::Column::Id)
        .all(conn)
        .await?
    {
        open.entry(flag.sha256.clone()).or_default().push(flag);
    }
    Ok(open)
}

/// One page of flags for `query`, and the next page's token.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    query: &ReviewFlagQuery,
) -> Result<(Vec<content_review_flag::Model>, String), DbErr> {
    let mut select = content_review_flag::Entity::find();
    if !query.include_cleared {
        select = select.filter(content_review_flag::Column::ClearedAt.is_null());
    }
    if let Some(sha256) = &query.sha256 {
        select = select.filter(content_review_flag::Column::Sha256.eq(sha256.as_str()));
    }
    if let Some(after) = query.after {
        select = select.filter(content_review_flag::Column::Id.gt(after));
    }
    let mut rows = select
        .order_by_asc(content_review_flag::Column::Id)
        .limit(query.page_size + 1)
        .all(conn)
        .await?;
    let more = rows.len() as u64 > query.page_size;
    rows.truncate(usize::try_from(query.page_size).unwrap_or(usize::MAX));
    let token = match rows.last() {
        Some(last) if more => {
            docket_platform::paging::encode_token(last.id.as_bytes(), &query.filters())
        }
        _ => String::new(),
    };
    Ok((rows, token))
}

/// `flags` as wire messages, with the records holding both contents and the verdict that raised
/// each.
pub async fn messages<C: ConnectionTrait>(
    conn: &C,
    flags: Vec<content_review_flag::Model>,
) -> Result<Vec<pb::ContentReviewFlag>, IntakeError> {
    if flags.is_empty() {
        return Ok(Vec::new());
    }
    let mut hashes: Vec<String> = flags
        .iter()
        .flat_map(|flag| [flag.sha256.clone(), flag.because_sha256.clone()])
        .collect();
    hashes.sort();
    hashes.dedup();
    let records = records_of(conn, &hashes, 100).await?;
    let verdict_ids: Vec<Uuid> = flags.iter().map(|f| f.because_assessment_id).collect();
    let verdicts: HashMap<Uuid, content_assessment::Model> = content_assessment::Entity::find()
        .filter(content_assessment::Column::Id.is_in(verdict_ids))
        .all(conn)
        .await?
        .into_iter()
        .map(|row| (row.id, row))
        .collect();
    let ids = |sha256: &str| -> Vec<String> {
        records
            .get(sha256)
            .map(|ids| ids.iter().map(Uuid::to_string).collect())
            .unwrap_or_default()
    };
    flags
        .into_iter()
        .map(|flag| {
            let verdict = verdicts
                .get(&flag.because_assessment_id)
                .cloned()
                .map(assessment_message)
                .transpose()?;
            Ok(pb::ContentReviewFlag {
                id: flag.id.to_string(),
                evidence_ids: ids(&flag.sha256),
                near_duplicate_evidence_ids: ids(&flag.because_sha256),
                sha256: flag.sha256,
                near_duplicate_sha256: flag.because_sha256,
                near_duplicate_verdict: verdict,
                distance_bits: flag.distance_bits,
                matched_fraction: flag.matched_fraction,
                raised_time: Some(timestamp(flag.raised_at)),
                cleared_time: flag.cleared_at.map(timestamp),
                cleared_by_assessment_id: flag
                    .cleared_by
                    .map(|id| id.to_string())
                    .unwrap_or_default(),
                cleared_reason: flag.cleared_reason.unwrap_or_default(),
            })
        })
        .collect()
}
