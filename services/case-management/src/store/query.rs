//! Listing cases a page at a time, oldest first, with AIP-132 page tokens.

use chrono::{DateTime, Utc};
use docket_domain::case::{CaseStatus, CrimeTypeCode};
use docket_domain::incident::ViolationType;
use docket_domain::party::PartyCode;
use docket_platform::paging::{decode_token, encode_token};
use docket_proto::docket::cases::v1 as pb;
use sea_orm::entity::prelude::*;
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Func, Query};
use sea_orm::{Condition, JoinType, Order, QueryOrder, QuerySelect, RelationDef, Select};

use super::CaseStore;
use super::read::load_many;
use crate::entity::case_code::{self, CodeList};
use crate::entity::{case, case_allegation, case_person};
use crate::error::CaseError;

/// A valid `ListCases` request.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CaseQuery {
    pub page_size: u64,
    /// The last case of the previous page.
    pub after: Option<Uuid>,
    pub status: Option<CaseStatus>,
    pub party: Option<PartyCode>,
    pub crime_type: Option<CrimeTypeCode>,
    pub allegation: Option<Uuid>,
    pub opened_after: Option<DateTime<Utc>>,
    pub opened_before: Option<DateTime<Utc>>,
    /// Cases naming this person, in any role.
    pub person: Option<Uuid>,
    /// Cases whose investigator or prosecutor is this.
    pub assignee: Option<String>,
    /// Cases whose incident period ends at or after this time.
    pub incident_from: Option<DateTime<Utc>>,
    /// Cases whose incident period starts at or before this time.
    pub incident_to: Option<DateTime<Utc>>,
    /// Cases whose place name is this, letter case aside (compared lowered by the database).
    pub place: Option<String>,
    pub violation_type: Option<ViolationType>,
}

impl CaseQuery {
    pub const DEFAULT_PAGE_SIZE: u64 = 50;

    /// The filters, as bound into page tokens.
    fn filters(&self) -> String {
        format!(
            "cases|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
            self.status.map(CaseStatus::code),
            self.party.as_ref().map(PartyCode::as_str),
            self.crime_type.as_ref().map(CrimeTypeCode::as_str),
            self.allegation,
            self.opened_after.map(|t| t.timestamp_micros()),
            self.opened_before.map(|t| t.timestamp_micros()),
            self.person,
            self.assignee,
            self.incident_from.map(|t| t.timestamp_micros()),
            self.incident_to.map(|t| t.timestamp_micros()),
            self.place,
            self.violation_type.map(ViolationType::code),
        )
    }

    /// The opaque token that continues after case `last`.
    pub fn page_token(&self, last: Uuid) -> String {
        encode_token(last.as_bytes(), &self.filters())
    }

    /// The case a token continues after, if the token belongs to these filters.
    pub fn parse_page_token(&self, token: &str) -> Result<Uuid, String> {
        let position = decode_token(token, &self.filters())?;
        Uuid::from_slice(&position).map_err(|_| "is not a page token of ListCases".to_owned())
    }
}

/// The cases matching `query` after its page token, and the column their page is ordered by.
fn select(query: &CaseQuery) -> (Select<case::Entity>, Expr) {
    let mut select = case::Entity::find();
    // The page is read in id order. Filtered by a code, it is read in the order of that
    // code's index (list, code, case id) and stops at the page's end; the other filters
    // then drop what they do not match.
    let codes = [
        (CodeList::Party, query.party.as_ref().map(PartyCode::as_str)),
        (
            CodeList::Crime,
            query.crime_type.as_ref().map(CrimeTypeCode::as_str),
        ),
        (
            CodeList::Violation,
            query.violation_type.map(ViolationType::code),
        ),
    ];
    let mut order = None;
    for (list, code) in codes {
        let Some(code) = code else { continue };
        let alias = Alias::new(list.code());
        order.get_or_insert_with(|| Expr::col((alias.clone(), case_code::Column::CaseId)));
        select = select
            .join_as(JoinType::InnerJoin, codes_of_case(), alias.clone())
            .filter(Expr::col((alias.clone(), case_code::Column::List)).eq(list.code()))
            .filter(Expr::col((alias, case_code::Column::Code)).eq(code));
    }
    let order = order.unwrap_or_else(|| Expr::col((case::Entity, case::Column::Id)));
    if let Some(after) = query.after {
        select = select.filter(order.clone().gt(after));
    }
    if let Some(status) = query.status {
        select = select.filter(case::Column::Status.eq(status.code()));
    }
    if let Some(allegation) = query.allegation {
        select = select.filter(
            case::Column::Id.in_subquery(
                Query::select()
                    .column(case_allegation::Column::CaseId)
                    .from(case_allegation::Entity)
                    .and_where(case_allegation::Column::AllegationId.eq(allegation))
                    .to_owned(),
            ),
        );
    }
    if let Some(after) = query.opened_after {
        select = select.filter(case::Column::OpenedAt.gte(after));
    }
    if let Some(before) = query.opened_before {
        select = select.filter(case::Column::OpenedAt.lt(before));
    }
    if let Some(person) = query.person {
        select = select.filter(
            case::Column::Id.in_subquery(
                Query::select()
                    .column(case_person::Column::CaseId)
                    .from(case_person::Entity)
                    .and_where(case_person::Column::PersonId.eq(person))
                    .to_owned(),
            ),
        );
    }
    if let Some(assignee) = &query.assignee {
        select = select.filter(
            Condition::any()
                .add(case::Column::AssignedInvestigator.eq(assignee.as_str()))
                .add(case::Column::AssignedProsecutor.eq(assignee.as_str())),
        );
    }
    // Periods overlap: the case's starts before the filter's ends, and ends (or, open-ended,
    // starts) after the filter's starts.
    if let Some(to) = query.incident_to {
        select = select.filter(case::Column::PeriodStart.lte(to));
    }
    if let Some(from) = query.incident_from {
        select = select.filter(
            Condition::any().add(case::Column::PeriodEnd.gte(from)).add(
                Condition::all()
                    .add(case::Column::PeriodEnd.is_null())
                    .add(case::Column::PeriodStart.gte(from)),
            ),
        );
    }
    if let Some(place) = &query.place {
        select = select.filter(
            Expr::expr(Func::lower(Expr::col((
                case::Entity,
                case::Column::PlaceName,
            ))))
            .eq(Func::lower(Expr::val(place.as_str()))),
        );
    }
    (select, order)
}

impl CaseStore {
    /// One page of cases matching `query`, and the token of the next page if there is one.
    pub async fn list(&self, query: &CaseQuery) -> Result<(Vec<pb::Case>, String), CaseError> {
        let (select, order) = select(query);
        // One more than asked tells whether another page follows. UUID v7 ids sort by opening.
        let mut rows = select
            .order_by(order, Order::Asc)
            .limit(query.page_size + 1)
            .all(&self.db)
            .await?;
        let more = rows.len() as u64 > query.page_size;
        rows.truncate(usize::try_from(query.page_size).unwrap_or(usize::MAX));
        let next_page_token = match rows.last() {
            Some(last) if more => query.page_token(last.id),
            _ => String::new(),
        };
        Ok((load_many(&self.db, rows).await?, next_page_token))
    }
}

/// From a case to its codes, for a join.
fn codes_of_case() -> RelationDef {
    RelationDef::from(
        case_code::Entity::belongs_to(case::Entity)
            .from(case_code::Column::CaseId)
            .to(case::Column::Id),
    )
    .rev()
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU64;

    use docket_platform::settings::DatabaseSettings;
    use sea_orm::{ConnectionTrait, DbBackend, QueryTrait, Statement};
    use sea_orm_migration::MigratorTrait;

    use super::*;

    /// SQLite's plan for the page `query` asks for.
    async fn plan(query: &CaseQuery) -> String {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("cases.db").display());
        let settings = DatabaseSettings {
            connect_timeout_ms: NonZeroU64::new(5_000).unwrap(),
            acquire_timeout_ms: NonZeroU64::new(5_000).unwrap(),
        };
        let db = docket_platform::db::connect(&url, &settings).await.unwrap();
        crate::Migrator::up(&db, None).await.unwrap();
        let (select, order) = select(query);
        let built = select
            .order_by(order, Order::Asc)
            .limit(51)
            .build(DbBackend::Sqlite);
        let explain = Statement::from_sql_and_values(
            DbBackend::Sqlite,
            format!("EXPLAIN QUERY PLAN {}", built.sql),
            built.values.map(|v| v.0).unwrap_or_default(),
        );
        db.query_all_raw(explain)
            .await
            .unwrap()
            .iter()
            .map(|row| row.try_get::<String>("", "detail").unwrap())
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// A party's page is a range of the codes' index, read in id order: not a scan of the
    /// cases, nor a sort of every case of the party (with `LIKE '%,AM,%'` it was `SCAN cases`).
    #[tokio::test]
    async fn a_page_of_one_party_reads_the_index_of_codes_in_order() {
        for query in [
            CaseQuery {
                party: Some(PartyCode::parse("AM").unwrap()),
                page_size: 50,
                ..CaseQuery::default()
            },
            CaseQuery {
                party: Some(PartyCode::parse("AM").unwrap()),
                after: Some(Uuid::now_v7()),
                status: Some(CaseStatus::Open),
                page_size: 50,
                ..CaseQuery::default()
            },
            CaseQuery {
                crime_type: Some(CrimeTypeCode::parse("icc.8.2.a.i").unwrap()),
                page_size: 50,
                ..CaseQuery::default()
            },
        ] {
            let plan = plan(&query).await;
            assert!(plan.contains("ix_case_codes_code"), "{query:?}:\n{plan}");
            assert!(!plan.contains("SCAN cases"), "{query:?}:\n{plan}");
            assert!(!plan.contains("TEMP B-TREE"), "{query:?}:\n{plan}");
        }
    }
}
