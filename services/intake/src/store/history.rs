//! An allegation's history after its receipt: each change (a triage step, a correction, a
//! reopening) with every field it touched, its value before and after, who made it, when and
//! why. A source's name and contact are kept in the sealed form the allegation holds them in, and
//! read back only as "sealed": never in clear, nor as anything computed from them.
//!
//! A change is numbered by the version of the allegation it produced, which the change's own
//! conditional update made unique; the allegation as received is version 1.

use docket_domain::history::{self, FieldValue, Fields};
use docket_platform::history::{Change, ChangesQuery};
use docket_proto::describe;
use docket_proto::docket::common::v1 as common;
use docket_proto::docket::intake::v1 as pb;
use sea_orm::DatabaseTransaction;
use sea_orm::entity::prelude::*;

use super::{AllegationStore, now};
use crate::entity::allegation;
use crate::error::IntakeError;
use crate::migration::HISTORY;

/// Records the change of allegation `id` from `before` to `after` (both as stored: sources
/// sealed) as `revision`, the version it produced.
pub(super) async fn record(
    txn: &DatabaseTransaction,
    id: Uuid,
    revision: i64,
    change: Change<'_>,
    before: &pb::Allegation,
    after: &pb::Allegation,
) -> Result<(), DbErr> {
    let fields = history::diff(&fields(before), &fields(after));
    docket_platform::history::write(txn, &HISTORY, id, revision, change, now(), fields).await
}

/// The fields of an allegation as its history keeps them. `message` is as stored, so a source's
/// name and contact are in their sealed form.
pub(super) fn fields(message: &pb::Allegation) -> Fields {
    let mut fields = Fields::new();
    let mut put = |field: &str, value: Option<String>| {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            fields.insert(field.to_owned(), FieldValue::plain(value));
        }
    };
    put(
        "status",
        Some(short(message.status().as_str_name(), "ALLEGATION_STATUS_")),
    );
    put(
        "channel",
        Some(short(message.channel().as_str_name(), "CHANNEL_")),
    );
    put("narrative", Some(message.narrative.clone()));
    put("language", Some(message.language.clone()));
    put(
        "incident_period",
        message.incident_period.as_ref().map(describe::period),
    );
    put(
        "location",
        message.location.as_ref().map(describe::location),
    );
    put(
        "violation_types",
        history::list(
            message
                .violation_types
                .iter()
                .map(|t| describe::violation_type(*t)),
        ),
    );
    put(
        "alleged_perpetrators",
        history::list(
            message
                .alleged_perpetrators
                .iter()
                .map(describe::perpetrator),
        ),
    );
    put(
        "victims",
        history::list(message.victims.iter().map(describe::victim_group)),
    );
    put("source_urls", history::list(&message.source_urls));
    put("reviewed_by", Some(message.reviewed_by.clone()));
    put("rejection_reason", Some(message.rejection_reason.clone()));
    put("duplicate_of_id", Some(message.duplicate_of_id.clone()));
    put(
        "message_for_source",
        Some(message.message_for_source.clone()),
    );
    put("joined_case_id", Some(message.joined_case_id.clone()));
    if let Some(source) = &message.source {
        put("source.anonymous", Some(source.anonymous.to_string()));
        for (field, sealed) in [
            ("source.name", &source.name),
            ("source.contact", &source.contact),
        ] {
            if !sealed.is_empty() {
                fields.insert(field.to_owned(), FieldValue::sealed(sealed.clone()));
            }
        }
    }
    fields
}

/// A wire enum name without its prefix, in lower case: `under_review`.
fn short(name: &str, prefix: &str) -> String {
    name.strip_prefix(prefix).unwrap_or(name).to_lowercase()
}

impl AllegationStore {
    /// One page of the changes of an allegation, oldest first, and the next page's token.
    pub async fn changes(
        &self,
        query: &ChangesQuery,
    ) -> Result<(Vec<common::Change>, String), IntakeError> {
        allegation::Entity::find_by_id(query.id)
            .one(&self.db)
            .await?
            .ok_or(IntakeError::AllegationNotFound(query.id))?;
        Ok(docket_platform::history::read(&self.db, &HISTORY, query).await?)
    }
}
