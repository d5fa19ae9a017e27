//! A record's history of changes, kept and read the same way in every service: each service
//! keeps the changes of one kind of record in two tables of its own ([`HistoryTables`], created
//! by [`create_tables`]), written by [`write`] in the transaction of the change and read a page
//! at a time by [`read`] as `docket.common.v1.Change` messages. A sealed field is stored in its
//! sealed form and shown without its values.

mod migration;
mod store;

pub use migration::{create_tables, drop_tables};
pub use store::{Change, read, write};

/// Where a service keeps the history of one kind of record.
#[derive(Debug, Clone, Copy)]
pub struct HistoryTables {
    /// One row per change, such as `allegation_changes`.
    pub changes: &'static str,
    /// One row per field a change touched, such as `allegation_field_changes`.
    pub fields: &'static str,
    /// The column naming the record in both, such as `allegation_id`.
    pub record: &'static str,
    /// The table of the records themselves and its key, such as (`allegations`, `id`).
    pub parent: (&'static str, &'static str),
}

use chrono::{DateTime, Utc};
use docket_domain::Violations;
use docket_proto::docket::common::v1 as common;
use docket_proto::timestamp;
use uuid::Uuid;

use crate::paging::{decode_token, encode_token};

/// A valid request for one page of the changes of record `id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangesQuery {
    /// What the record is (`allegation`, `case`), so that a token of one kind of record never
    /// pages through another's.
    pub kind: &'static str,
    pub id: Uuid,
    pub page_size: u64,
    /// The last revision of the previous page.
    pub after: Option<i64>,
}

impl ChangesQuery {
    pub const DEFAULT_PAGE_SIZE: u64 = 50;

    /// The query for record `id` of `kind`, from a request's page size and token; problems are
    /// recorded in `v` against `page_size` and `page_token`.
    pub fn parse(
        v: &mut Violations,
        kind: &'static str,
        id: Uuid,
        page_size: i32,
        page_token: &str,
    ) -> Self {
        let page_size = crate::paging::page_size(v, page_size, Self::DEFAULT_PAGE_SIZE);
        let mut query = Self {
            kind,
            id,
            page_size,
            after: None,
        };
        if !page_token.is_empty() {
            query.after = v.check("page_token", query.parse_page_token(page_token));
        }
        query
    }

    fn filters(&self) -> String {
        format!("{}-changes|{}", self.kind, self.id)
    }

    fn parse_page_token(&self, token: &str) -> Result<i64, String> {
        let position = decode_token(token, &self.filters())?;
        <[u8; 8]>::try_from(position.as_slice())
            .map(i64::from_be_bytes)
            .map_err(|_| "is not a page token of this history".to_owned())
    }

    /// How many changes to read: one more than a page, to know whether another follows.
    fn limit(&self) -> u64 {
        self.page_size + 1
    }

    /// The changes of a page and the next page's token, from up to [`ChangesQuery::limit`]
    /// stored changes (in revision order) and the fields of those changes (in revision order).
    fn page(
        &self,
        mut changes: Vec<StoredChange>,
        fields: Vec<StoredField>,
    ) -> (Vec<common::Change>, String) {
        let more = changes.len() as u64 > self.page_size;
        changes.truncate(usize::try_from(self.page_size).unwrap_or(usize::MAX));
        let next = match (more, changes.last()) {
            (true, Some(last)) => encode_token(&last.revision.to_be_bytes(), &self.filters()),
            _ => String::new(),
        };
        let mut fields = fields.into_iter().peekable();
        let page = changes
            .into_iter()
            .map(|change| {
                let mut touched = Vec::new();
                while let Some(field) = fields.next_if(|f| f.revision <= change.revision) {
                    if field.revision == change.revision {
                        touched.push(field.into_wire());
                    }
                }
                common::Change {
                    revision: change.revision,
                    action: change.action,
                    changed_by: change.changed_by,
                    changed_at: Some(timestamp(change.changed_at)),
                    reason: change.reason.unwrap_or_default(),
                    fields: touched,
                }
            })
            .collect();
        (page, next)
    }
}

/// A change as it is stored.
#[derive(Debug, Clone)]
struct StoredChange {
    revision: i64,
    action: String,
    changed_by: String,
    changed_at: DateTime<Utc>,
    reason: Option<String>,
}

/// A field of a change as it is stored; the values of a sealed one are its sealed forms.
#[derive(Debug, Clone)]
struct StoredField {
    revision: i64,
    field: String,
    old_value: Option<String>,
    new_value: Option<String>,
    sealed: bool,
}

impl StoredField {
    /// The wire field: a sealed one says only that it changed, never what it held.
    fn into_wire(self) -> common::FieldChange {
        if self.sealed {
            return common::FieldChange {
                field: self.field,
                sealed: true,
                ..Default::default()
            };
        }
        common::FieldChange {
            field: self.field,
            old_value: self.old_value.unwrap_or_default(),
            new_value: self.new_value.unwrap_or_default(),
            sealed: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(revision: i64) -> StoredChange {
        StoredChange {
            revision,
            action: "correct allegation".into(),
            changed_by: "officer.aliyev".into(),
            changed_at: Utc::now(),
            reason: Some("typo".into()),
        }
    }

    fn field(revision: i64, name: &str, sealed: bool) -> StoredField {
        StoredField {
            revision,
            field: name.into(),
            old_value: Some("v1:key:nonce:old".into()),
            new_value: Some("v1:key:nonce:new".into()),
            sealed,
        }
    }

    #[test]
    fn a_page_groups_fields_under_their_change_and_hides_sealed_values() {
        let mut v = Violations::default();
        let query = ChangesQuery::parse(&mut v, "allegation", Uuid::now_v7(), 2, "");
        let (page, next) = query.page(
            vec![change(2), change(3), change(5)],
            vec![
                field(2, "narrative", false),
                field(3, "source.name", true),
                field(3, "victims", false),
            ],
        );
        assert_eq!(page.len(), 2);
        assert_eq!(page[0].fields.len(), 1);
        assert_eq!(page[1].fields[0].field, "source.name");
        assert!(page[1].fields[0].sealed);
        assert!(page[1].fields[0].old_value.is_empty() && page[1].fields[0].new_value.is_empty());
        assert_eq!(page[1].fields[1].old_value, "v1:key:nonce:old");

        let resumed = ChangesQuery::parse(&mut v, "allegation", query.id, 2, &next);
        assert!(v.is_empty());
        assert_eq!(resumed.after, Some(3));
        let other_record = ChangesQuery::parse(&mut v, "allegation", Uuid::now_v7(), 2, &next);
        assert_eq!(other_record.after, None);
        assert!(!v.is_empty());
    }
}
