//! The history of a record, field by field: each change keeps every field it touched with its
//! value before and after, as readable text, and who made it, when and why.
//!
//! A record is described as [`Fields`], a map from field path to value, before and after a
//! change; [`diff`] gives what changed. Sealed values take part as their sealed form, so that a
//! history holds them sealed and never derives anything from them in clear.

use std::collections::BTreeMap;

use crate::text::bounded_text;

bounded_text!(
    /// Why a record was changed, as the caller said.
    ChangeReason,
    2_000
);

/// The value of one field, as text. A sealed value is its sealed form: it is stored as such and
/// never shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldValue {
    pub text: String,
    pub sealed: bool,
}

impl FieldValue {
    /// A value anyone who may read the record may read.
    pub fn plain(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            sealed: false,
        }
    }

    /// The sealed form of a confidential value.
    pub fn sealed(sealed_form: impl Into<String>) -> Self {
        Self {
            text: sealed_form.into(),
            sealed: true,
        }
    }
}

/// A record's fields by path. A field without a value is absent.
pub type Fields = BTreeMap<String, FieldValue>;

/// One field as a change left it; `None` where it had, or has, no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    pub field: String,
    pub old: Option<FieldValue>,
    pub new: Option<FieldValue>,
}

impl FieldChange {
    /// True when either value is sealed: the change is shown without its values.
    pub fn sealed(&self) -> bool {
        self.old.as_ref().is_some_and(|v| v.sealed) || self.new.as_ref().is_some_and(|v| v.sealed)
    }
}

/// Every field whose value differs between `before` and `after`, in the order of their paths.
pub fn diff(before: &Fields, after: &Fields) -> Vec<FieldChange> {
    let mut changes = Vec::new();
    for (field, old) in before {
        match after.get(field) {
            Some(new) if new == old => {}
            new => changes.push(FieldChange {
                field: field.clone(),
                old: Some(old.clone()),
                new: new.cloned(),
            }),
        }
    }
    for (field, new) in after {
        if !before.contains_key(field) {
            changes.push(FieldChange {
                field: field.clone(),
                old: None,
                new: Some(new.clone()),
            });
        }
    }
    changes.sort_by(|a, b| a.field.cmp(&b.field));
    changes
}

/// `items` joined into one readable value, or `None` when there are none.
pub fn list<I: IntoIterator<Item = S>, S: AsRef<str>>(items: I) -> Option<String> {
    let joined: Vec<String> = items.into_iter().map(|s| s.as_ref().to_owned()).collect();
    (!joined.is_empty()).then(|| joined.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(pairs: &[(&str, FieldValue)]) -> Fields {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }

    #[test]
    fn a_change_names_each_field_it_set_cleared_or_altered() {
        let before = fields(&[
            ("narrative", FieldValue::plain("Shelling at dawn")),
            ("language", FieldValue::plain("az")),
            ("location", FieldValue::plain("Ganja")),
        ]);
        let after = fields(&[
            ("narrative", FieldValue::plain("Shelling at night")),
            ("language", FieldValue::plain("az")),
            ("source_urls", FieldValue::plain("https://example.org/v")),
        ]);
        let changes = diff(&before, &after);
        let names: Vec<&str> = changes.iter().map(|c| c.field.as_str()).collect();
        assert_eq!(names, ["location", "narrative", "source_urls"]);
        assert_eq!(changes[0].new, None);
        assert_eq!(changes[2].old, None);
        assert_eq!(
            changes[1].new.as_ref().map(|v| v.text.as_str()),
            Some("Shelling at night")
        );
    }

    #[test]
    fn an_unchanged_record_has_no_change_and_a_sealed_change_says_so() {
        let same = fields(&[("title", FieldValue::plain("A"))]);
        assert!(diff(&same, &same).is_empty());
        let before = fields(&[("source.name", FieldValue::sealed("v1:k:n:c1"))]);
        let after = fields(&[("source.name", FieldValue::sealed("v1:k:n:c2"))]);
        let changes = diff(&before, &after);
        assert_eq!(changes.len(), 1);
        assert!(changes[0].sealed());
    }

    #[test]
    fn lists_are_joined_and_empty_lists_are_no_value() {
        assert_eq!(list(["a", "b"]).as_deref(), Some("a; b"));
        assert_eq!(list(Vec::<String>::new()), None);
    }
}
