//! Listing allegations a page at a time, oldest first, with AIP-132 page tokens.

use chrono::{DateTime, Utc};
use docket_domain::allegation::AllegationStatus;
use docket_domain::incident::ViolationType;
use docket_domain::party::PartyCode;
use docket_platform::auth::CallContext;
use docket_platform::paging::{decode_token, encode_token};
use docket_proto::docket::intake::v1 as pb;
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::Query;
use sea_orm::{QueryOrder, QuerySelect};

use super::AllegationStore;
use super::read::load_many;
use crate::entity::{allegation, perpetrator, violation_type};
use crate::error::IntakeError;

/// A valid `ListAllegations` request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AllegationQuery {
    pub page_size: u64,
    /// The last allegation of the previous page.
    pub after: Option<Uuid>,
    pub status: Option<AllegationStatus>,
    pub violation_type: Option<ViolationType>,
    pub party: Option<PartyCode>,
    pub received_after: Option<DateTime<Utc>>,
    pub received_before: Option<DateTime<Utc>>,
}

impl AllegationQuery {
    pub const DEFAULT_PAGE_SIZE: u64 = 50;

    /// The filters, as bound into page tokens.
    fn filters(&self) -> String {
        format!(
            "{:?}|{:?}|{:?}|{:?}|{:?}",
            self.status.map(AllegationStatus::code),
            self.violation_type.map(ViolationType::code),
            self.party.as_ref().map(PartyCode::as_str),
            self.received_after.map(|t| t.timestamp_micros()),
            self.received_before.map(|t| t.timestamp_micros()),
        )
    }

    /// The opaque token that continues after allegation `last`.
    pub fn page_token(&self, last: Uuid) -> String {
        encode_token(last.as_bytes(), &self.filters())
    }

    /// The allegation a token continues after, if the token belongs to these filters.
    pub fn parse_page_token(&self, token: &str) -> Result<Uuid, String> {
        let position = decode_token(token, &self.filters())?;
        Uuid::from_slice(&position).map_err(|_| "is not a page token of ListAllegations".to_owned())
    }
}

impl AllegationStore {
    /// One page of allegations matching `query`, and the token of the next page if there is one.
    pub async fn list(
        &self,
        query: &AllegationQuery,
        call: &CallContext,
    ) -> Result<(Vec<pb::Allegation>, String), IntakeError> {
        let mut select = allegation::Entity::find();
        if let Some(after) = query.after {
            select = select.filter(allegation::Column::Id.gt(after));
        }
        if let Some(status) = query.status {
            select = select.filter(allegation::Column::Status.eq(status.code()));
        }
        if let Some(violation) = query.violation_type {
            select = select.filter(
                allegation::Column::Id.in_subquery(
                    Query::select()
                        .column(violation_type::Column::AllegationId)
                        .from(violation_type::Entity)
                        .and_where(violation_type::Column::ViolationType.eq(violation.code()))
                        .to_owned(),
                ),
            );
        }
        if let Some(party) = &query.party {
            select = select.filter(
                allegation::Column::Id.in_subquery(
                    Query::select()
                        .column(perpetrator::Column::AllegationId)
                        .from(perpetrator::Entity)
                        .and_where(perpetrator::Column::PartyCode.eq(party.as_str()))
                        .to_owned(),
                ),
            );
        }
        if let Some(after) = query.received_after {
            select = select.filter(allegation::Column::ReceivedAt.gte(after));
        }
        if let Some(before) = query.received_before {
            select = select.filter(allegation::Column::ReceivedAt.lt(before));
        }
        // One more than asked tells whether another page follows.
        let mut rows = select
            .order_by_asc(allegation::Column::Id)
            .limit(query.page_size + 1)
            .all(&self.db)
            .await?;
        let more = rows.len() as u64 > query.page_size;
        rows.truncate(usize::try_from(query.page_size).unwrap_or(usize::MAX));
        let next_page_token = match rows.last() {
            Some(last) if more => query.page_token(last.id),
            _ => String::new(),
        };
        let mut messages = load_many(&self.db, rows).await?;
        self.disclose(call, &mut messages, true).await?;
        Ok((messages, next_page_token))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_token_is_honoured_only_with_its_own_filters() {
        let query = AllegationQuery {
            page_size: 10,
            status: Some(AllegationStatus::Received),
            ..AllegationQuery::default()
        };
        let last = Uuid::now_v7();
        let token = query.page_token(last);
        assert_eq!(query.parse_page_token(&token), Ok(last));
        let other = AllegationQuery {
            status: Some(AllegationStatus::Accepted),
            ..query.clone()
        };
        assert!(other.parse_page_token(&token).is_err());
        assert!(query.parse_page_token("not-a-token").is_err());
    }
}
