//! `docket.audit.v1.AuditService`, served by every service over its own audit log.

use docket_domain::Violations;
use docket_proto::docket::audit::v1 as pb;
use docket_proto::docket::audit::v1::audit_service_server::AuditService;
use docket_proto::{parse_time, timestamp};
use sea_orm::entity::prelude::*;
use sea_orm::{DatabaseConnection, QueryOrder, QuerySelect};
use tonic::{Request, Response, Status};

use super::{entity, verify};
use crate::auth::{Access, MethodAccess, Role};
use crate::error;
use crate::paging::{decode_token, encode_token};

/// Who may read the audit log: auditors and supervisors, nobody else.
pub const AUDIT_ACCESS: &[MethodAccess] = &[
    (
        "ListAuditEntries",
        Access::Roles(&[Role::Auditor, Role::Supervisor]),
    ),
    (
        "VerifyAuditChain",
        Access::Roles(&[Role::Auditor, Role::Supervisor]),
    ),
];

const DEFAULT_PAGE_SIZE: u64 = 100;

/// What a service knows of the trusted timestamps of its chain's head (a service with a
/// time-stamping authority has its head stamped periodically, and says so here).
pub trait HeadTimestamps: std::fmt::Debug + Send + Sync + 'static {
    /// The latest timestamp of a head of the chain, verified again now; `None` when there is
    /// none.
    fn latest(
        &self,
    ) -> std::pin::Pin<Box<dyn Future<Output = Result<Option<pb::HeadTimestamp>, DbErr>> + Send + '_>>;
}

/// The audit API over one service's database.
#[derive(Debug, Clone)]
pub struct AuditApi {
    db: DatabaseConnection,
    head_timestamps: Option<std::sync::Arc<dyn HeadTimestamps>>,
}

impl AuditApi {
    pub fn new(db: DatabaseConnection) -> Self {
        Self {
            db,
            head_timestamps: None,
        }
    }

    /// Shows the latest timestamp of the chain's head in `VerifyAuditChain`.
    pub fn with_head_timestamps(mut self, stamps: std::sync::Arc<dyn HeadTimestamps>) -> Self {
        self.head_timestamps = Some(stamps);
        self
    }
}

/// A valid `ListAuditEntries` request.
struct Query {
    page_size: u64,
    after: i64,
    subject: String,
    method: String,
    target_id: String,
    occurred_after: Option<chrono::DateTime<chrono::Utc>>,
    occurred_before: Option<chrono::DateTime<chrono::Utc>>,
}

impl Query {
    fn filters(&self) -> String {
        format!(
            "{}|{}|{}|{:?}|{:?}",
            self.subject,
            self.method,
            self.target_id,
            self.occurred_after.map(|t| t.timestamp_micros()),
            self.occurred_before.map(|t| t.timestamp_micros())
        )
    }

    fn parse(request: pb::ListAuditEntriesRequest) -> Result<Self, Violations> {
        let mut v = Violations::default();
        let page_size = crate::paging::page_size(&mut v, request.page_size, DEFAULT_PAGE_SIZE);
        if request.target_id.contains([',', '%', '_']) {
            v.add("target_id", "must be a single id");
        }
        let occurred_after = request
            .occurred_after
            .and_then(|t| v.check("occurred_after", parse_time(&t)));
        let occurred_before = request
            .occurred_before
            .and_then(|t| v.check("occurred_before", parse_time(&t)));
        let mut query = Self {
            page_size,
            after: 0,
            subject: request.subject,
            method: request.method,
            target_id: request.target_id,
            occurred_after,
            occurred_before,
        };
        if !request.page_token.is_empty() {
            let position = v.check(
                "page_token",
                decode_token(&request.page_token, &query.filters()),
            );
            if let Some(position) = position {
                match <[u8; 8]>::try_from(position.as_slice()) {
                    Ok(bytes) => query.after = i64::from_be_bytes(bytes),
                    Err(_) => v.add("page_token", "is not a page token of ListAuditEntries"),
                }
            }
        }
        v.into_result().map(|()| query)
    }
}

#[tonic::async_trait]
impl AuditService for AuditApi {
    async fn list_audit_entries(
        &self,
        request: Request<pb::ListAuditEntriesRequest>,
    ) -> Result<Response<pb::ListAuditEntriesResponse>, Status> {
        let query = Query::parse(request.into_inner()).map_err(|v| error::invalid_argument(&v))?;
        let mut select = entity::Entity::find().filter(entity::Column::Sequence.gt(query.after));
        if !query.subject.is_empty() {
            select = select.filter(entity::Column::Subject.eq(query.subject.as_str()));
        }
        if !query.method.is_empty() {
            select = select.filter(entity::Column::Method.eq(query.method.as_str()));
        }
        if !query.target_id.is_empty() {
            // Target ids are stored between commas: match the id as a whole item.
            select =
                select.filter(entity::Column::TargetIds.like(format!("%,{},%", query.target_id)));
        }
        if let Some(after) = query.occurred_after {
            select = select.filter(entity::Column::OccurredAt.gte(after));
        }
        if let Some(before) = query.occurred_before {
            select = select.filter(entity::Column::OccurredAt.lt(before));
        }
        let mut rows = select
            .order_by_asc(entity::Column::Sequence)
            .limit(query.page_size + 1)
            .all(&self.db)
            .await
            .map_err(|e| error::database(&e))?;
        let more = rows.len() as u64 > query.page_size;
        rows.truncate(usize::try_from(query.page_size).unwrap_or(usize::MAX));
        let next_page_token = match rows.last() {
            Some(last) if more => encode_token(&last.sequence.to_be_bytes(), &query.filters()),
            _ => String::new(),
        };
        Ok(Response::new(pb::ListAuditEntriesResponse {
            entries: rows.into_iter().map(message).collect(),
            next_page_token,
        }))
    }

    async fn verify_audit_chain(
        &self,
        _request: Request<pb::VerifyAuditChainRequest>,
    ) -> Result<Response<pb::VerifyAuditChainResponse>, Status> {
        let verification = verify(&self.db).await.map_err(|e| error::database(&e))?;
        if let Some((sequence, problem)) = &verification.broken {
            tracing::error!(sequence, %problem, "the audit chain is broken");
        }
        let latest_head_timestamp = match &self.head_timestamps {
            Some(stamps) => stamps.latest().await.map_err(|e| error::database(&e))?,
            None => None,
        };
        if let Some(stamp) = &latest_head_timestamp
            && !stamp.verified
        {
            tracing::error!(problem = %stamp.problem, sequence = stamp.sequence,
                "THE TIMESTAMP OF THE AUDIT CHAIN'S HEAD FAILED VERIFICATION");
        }
        let (first_broken_sequence, problem) = verification.broken.unwrap_or_default();
        Ok(Response::new(pb::VerifyAuditChainResponse {
            intact: problem.is_empty(),
            entries_checked: verification.entries_checked,
            first_broken_sequence,
            problem,
            head_hash: verification.head_hash,
            latest_head_timestamp,
        }))
    }
}

fn message(row: entity::Model) -> pb::AuditEntry {
    pb::AuditEntry {
        sequence: row.sequence,
        occurred_at: Some(timestamp(row.occurred_at)),
        subject: row.subject,
        role: row.role,
        method: row.method,
        target_ids: row
            .target_ids
            .split(',')
            .filter(|id| !id.is_empty())
            .map(str::to_owned)
            .collect(),
        outcome: row.outcome,
        request_id: row.request_id,
        action: row.action,
        count: row.count,
        previous_hash: row.previous_hash,
        entry_hash: row.entry_hash,
    }
}
