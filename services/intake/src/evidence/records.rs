//! Evidence records and custody events in the database, and their wire form.

use chrono::{DateTime, SubsecRound, Utc};
use docket_domain::evidence::{CollectionMethod, CustodyEventKind};
use docket_proto::docket::intake::v1 as pb;
use docket_proto::timestamp;
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, ConnectionTrait, QueryOrder, QuerySelect};

use super::request::EvidenceQuery;
use crate::entity::{custody_event, evidence};
use crate::error::IntakeError;

/// Appends a custody event that happens now.
pub async fn record_custody<C: ConnectionTrait>(
    conn: &C,
    evidence_id: Uuid,
    kind: CustodyEventKind,
    actor: &str,
    sha256: &str,
    note: &str,
) -> Result<custody_event::Model, DbErr> {
    record_custody_at(conn, evidence_id, kind, actor, sha256, note, Utc::now()).await
}

/// Appends a custody event that happened at `occurred_at` (a collection, as declared).
pub async fn record_custody_at<C: ConnectionTrait>(
    conn: &C,
    evidence_id: Uuid,
    kind: CustodyEventKind,
    actor: &str,
    sha256: &str,
    note: &str,
    occurred_at: DateTime<Utc>,
) -> Result<custody_event::Model, DbErr> {
    insert_custody(
        conn,
        evidence_id,
        kind,
        actor,
        sha256,
        note,
        occurred_at,
        None,
    )
    .await
}

/// Appends a custody event concerning case `case_id` that happened at `occurred_at` (a
/// registration to the case at upload).
#[expect(clippy::too_many_arguments, reason = "one column each")]
pub async fn record_case_custody_at<C: ConnectionTrait>(
    conn: &C,
    evidence_id: Uuid,
    kind: CustodyEventKind,
    actor: &str,
    sha256: &str,
    note: &str,
    occurred_at: DateTime<Utc>,
    case_id: Uuid,
) -> Result<custody_event::Model, DbErr> {
    insert_custody(
        conn,
        evidence_id,
        kind,
        actor,
        sha256,
        note,
        occurred_at,
        Some(case_id),
    )
    .await
}

#[expect(clippy::too_many_arguments, reason = "one column each")]
async fn insert_custody<C: ConnectionTrait>(
    conn: &C,
    evidence_id: Uuid,
    kind: CustodyEventKind,
    actor: &str,
    sha256: &str,
    note: &str,
    occurred_at: DateTime<Utc>,
    case_id: Option<Uuid>,
) -> Result<custody_event::Model, DbErr> {
    let event = custody_event::Model {
        id: Uuid::now_v7(),
        evidence_id,
        kind: kind.code().to_owned(),
        actor: actor.to_owned(),
        occurred_at: occurred_at.trunc_subsecs(6),
        sha256: sha256.to_owned(),
        note: note.to_owned(),
        case_id,
    };
    custody_event::Entity::insert(custody_event::ActiveModel {
        id: Set(event.id),
        evidence_id: Set(event.evidence_id),
        kind: Set(event.kind.clone()),
        actor: Set(event.actor.clone()),
        occurred_at: Set(event.occurred_at),
        sha256: Set(event.sha256.clone()),
        note: Set(event.note.clone()),
        case_id: Set(event.case_id),
    })
    .exec_without_returning(conn)
    .await?;
    Ok(event)
}

/// One record by id.
pub async fn find<C: ConnectionTrait>(conn: &C, id: Uuid) -> Result<evidence::Model, IntakeError> {
    evidence::Entity::find_by_id(id)
        .one(conn)
        .await?
        .ok_or(IntakeError::EvidenceNotFound(id))
}

/// One page of records for `query`, and the next page's token.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    query: &EvidenceQuery,
) -> Result<(Vec<evidence::Model>, String), IntakeError> {
    let mut select = evidence::Entity::find();
    if let Some(allegation) = query.allegation_id {
        select = select.filter(evidence::Column::AllegationId.eq(allegation));
    }
    if let Some(case) = query.case_id {
        select = select.filter(evidence::Column::CaseId.eq(case));
    }
    if let Some(sha256) = &query.sha256 {
        select = select.filter(evidence::Column::Sha256.eq(sha256.as_str()));
    }
    if let Some(after) = query.after {
        select = select.filter(evidence::Column::Id.gt(after));
    }
    let mut rows = select
        .order_by_asc(evidence::Column::Id)
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

/// One page of the custody events of evidence `evidence_id`, oldest first (UUID v7 ids), with
/// one more than the page holds when another page follows.
/// Every custody event of the item `evidence_id`, in the order they were recorded (for the
/// custody report, which holds them all).
pub async fn custody<C: ConnectionTrait>(
    conn: &C,
    evidence_id: Uuid,
) -> Result<Vec<custody_event::Model>, DbErr> {
    custody_event::Entity::find()
        .filter(custody_event::Column::EvidenceId.eq(evidence_id))
        .order_by_asc(custody_event::Column::Id)
        .all(conn)
        .await
}

pub async fn custody_page<C: ConnectionTrait>(
    conn: &C,
    evidence_id: Uuid,
    page: &docket_platform::paging::Page,
) -> Result<Vec<custody_event::Model>, DbErr> {
    let mut select =
        custody_event::Entity::find().filter(custody_event::Column::EvidenceId.eq(evidence_id));
    if let Some(after) = page.after.as_deref().and_then(|p| Uuid::from_slice(p).ok()) {
        select = select.filter(custody_event::Column::Id.gt(after));
    }
    select
        .order_by_asc(custody_event::Column::Id)
        .limit(page.limit())
        .all(conn)
        .await
}

pub fn evidence_message(row: evidence::Model) -> Result<pb::Evidence, IntakeError> {
    let method = CollectionMethod::from_code(&row.collection_method)?;
    Ok(pb::Evidence {
        id: row.id.to_string(),
        allegation_id: row
            .allegation_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
        case_id: row.case_id.map(|id| id.to_string()).unwrap_or_default(),
        sha256: row.sha256,
        size_bytes: row.size_bytes,
        file_name: row.file_name,
        declared_media_type: row.declared_media_type.unwrap_or_default(),
        detected_media_type: row.detected_media_type.unwrap_or_default(),
        source_url: row.source_url.unwrap_or_default(),
        captured_time: row.captured_at.map(timestamp),
        collected_time: Some(timestamp(row.collected_at)),
        collected_by: row.collected_by,
        collection_method: pb::CollectionMethod::from(method).into(),
        derived_from_evidence_id: row
            .derived_from_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
        uploaded_by: row.uploaded_by,
        uploaded_time: Some(timestamp(row.uploaded_at)),
        extracted: Some(pb::ExtractedMetadata {
            exif_capture_time: row.exif_capture_time.unwrap_or_default(),
            exif_latitude: row.exif_latitude,
            exif_longitude: row.exif_longitude,
        }),
        // Filled in by `content::with_verdicts`, which reads the verdicts of many at once.
        content_verdict: None,
        review_flags: Vec::new(),
        content_credentials: None,
    })
}

pub fn custody_message(row: custody_event::Model) -> Result<pb::CustodyEvent, IntakeError> {
    let kind = CustodyEventKind::from_code(&row.kind)?;
    Ok(pb::CustodyEvent {
        id: row.id.to_string(),
        evidence_id: row.evidence_id.to_string(),
        kind: pb::CustodyEventKind::from(kind).into(),
        actor: row.actor,
        occurred_time: Some(timestamp(row.occurred_at)),
        sha256: row.sha256,
        note: row.note,
        case_id: row.case_id.map(|id| id.to_string()).unwrap_or_default(),
    })
}
