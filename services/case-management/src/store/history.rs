//! The history of a case, field by field: every change recorded through
//! [`CaseStore::record_change`] compares the case as it now is (its fields, persons, charges,
//! evidence and assessments, as [`fields`] describes them) with the case as the last change left
//! it (`case_fields`), and keeps each field that differs with its value before and after, who
//! made the change, when and why. Every change passes there, so none escapes the history.
//!
//! A change is numbered by the case version it produced, which the change's conditional update
//! made unique. A case opened before the history was kept gets, at its next change, a first
//! change `history begins` that holds its fields as they then were.

mod fields;

use docket_domain::history::{self, FieldValue, Fields};
use docket_platform::history::{Change, ChangesQuery};
use docket_proto::docket::cases::v1 as pb;
use docket_proto::docket::common::v1 as common;
use sea_orm::entity::prelude::*;
use sea_orm::{ActiveValue::Set, DatabaseTransaction};

use super::charge::charges_of;
use super::read::load_one;
use super::{CaseStore, now};
use crate::entity::{case, case_field};
use crate::error::CaseError;
use crate::migration::HISTORY;

/// Records what `change` changed in `case` (as read in `txn`, with its `charges`) since the last
/// recorded change, as the revision `version`.
pub(super) async fn record(
    txn: &DatabaseTransaction,
    case: &pb::Case,
    charges: &[pb::Charge],
    version: i64,
    change: Change<'_>,
) -> Result<(), CaseError> {
    let id = case_id(case)?;
    let after = fields::of(txn, case, charges).await?;
    let before = recorded_fields(txn, id).await?;
    write(txn, id, version, change, &before, &after).await
}

/// Makes sure case `row` has its fields recorded before a change touches it: a case opened
/// before the history was kept gets them now, as the change `history begins`.
pub(super) async fn ensure_begun(
    txn: &DatabaseTransaction,
    row: &case::Model,
) -> Result<(), CaseError> {
    let begun = case_field::Entity::find()
        .filter(case_field::Column::CaseId.eq(row.id))
        .one(txn)
        .await?
        .is_some();
    if begun {
        return Ok(());
    }
    let case = load_one(txn, row.id).await?;
    let charges = charges_of(txn, row.id).await?;
    let now_fields = fields::of(txn, &case, &charges).await?;
    let change = Change {
        action: "history begins",
        by: "docket",
        reason: Some("the case as it was when its changes began to be kept field by field"),
    };
    write(
        txn,
        row.id,
        row.version,
        change,
        &Fields::new(),
        &now_fields,
    )
    .await
}

fn case_id(case: &pb::Case) -> Result<Uuid, CaseError> {
    case.id
        .parse()
        .map_err(|_| CaseError::Unexpected(anyhow::anyhow!("a stored case id is not a UUID")))
}

/// The case's fields as the last recorded change left them.
async fn recorded_fields(txn: &DatabaseTransaction, id: Uuid) -> Result<Fields, DbErr> {
    Ok(case_field::Entity::find()
        .filter(case_field::Column::CaseId.eq(id))
        .all(txn)
        .await?
        .into_iter()
        .map(|row| (row.field, FieldValue::plain(row.value)))
        .collect())
}

/// Keeps the difference between `before` and `after` as revision `revision` of case `id`, and
/// `after` as the fields the next change is compared with. A change of nothing is not kept.
async fn write(
    txn: &DatabaseTransaction,
    id: Uuid,
    revision: i64,
    change: Change<'_>,
    before: &Fields,
    after: &Fields,
) -> Result<(), CaseError> {
    let changes = history::diff(before, after);
    if changes.is_empty() {
        return Ok(());
    }
    let touched: Vec<String> = changes.iter().map(|c| c.field.clone()).collect();
    case_field::Entity::delete_many()
        .filter(case_field::Column::CaseId.eq(id))
        .filter(case_field::Column::Field.is_in(touched))
        .exec(txn)
        .await?;
    let current: Vec<case_field::ActiveModel> = changes
        .iter()
        .filter_map(|c| {
            c.new.as_ref().map(|value| case_field::ActiveModel {
                case_id: Set(id),
                field: Set(c.field.clone()),
                value: Set(value.text.clone()),
            })
        })
        .collect();
    if !current.is_empty() {
        case_field::Entity::insert_many(current)
            .exec_without_returning(txn)
            .await?;
    }
    docket_platform::history::write(txn, &HISTORY, id, revision, change, now(), changes).await?;
    Ok(())
}

impl CaseStore {
    /// One page of the changes of a case, oldest first, and the next page's token.
    pub async fn changes(
        &self,
        query: &ChangesQuery,
    ) -> Result<(Vec<common::Change>, String), CaseError> {
        case::Entity::find_by_id(query.id)
            .one(&self.db)
            .await?
            .ok_or(CaseError::CaseNotFound(query.id))?;
        Ok(docket_platform::history::read(&self.db, &HISTORY, query).await?)
    }
}
