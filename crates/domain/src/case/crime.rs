//! Legal qualification: the crime-type taxonomy a deployment uses and the changes to a case's
//! qualification, checked against it.

use std::collections::BTreeSet;
use std::fmt;

use crate::Violations;

/// A crime-type code such as `icc.8.2.a.i` or `az.cc.116`: dot-separated segments of lower-case
/// letters and digits, at most 64 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CrimeTypeCode(String);

impl CrimeTypeCode {
    pub const MAX_CHARS: usize = 64;

    pub fn parse(value: &str) -> Result<Self, String> {
        if value.is_empty() {
            return Err("is required".to_owned());
        }
        let well_formed = value.len() <= Self::MAX_CHARS
            && value.split('.').all(|segment| {
                !segment.is_empty()
                    && segment
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            });
        if well_formed {
            Ok(Self(value.to_owned()))
        } else {
            Err(format!(
                "must be dot-separated segments of lower-case letters, digits and `_`, at most \
                 {} characters, such as `icc.8.2.a.i`",
                Self::MAX_CHARS
            ))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CrimeTypeCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One crime of the taxonomy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CrimeType {
    pub code: CrimeTypeCode,
    pub title: String,
    pub source: String,
    pub elements: Vec<String>,
}

/// The crime types a deployment qualifies cases with, in their published order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Taxonomy {
    crimes: Vec<CrimeType>,
}

impl Taxonomy {
    /// Checks a taxonomy as read from its file: at least one crime, codes well-formed and
    /// unique, titles not empty. Field paths: `crimes[i].code`, `crimes[i].title`.
    pub fn new(
        crimes: impl IntoIterator<Item = (String, String, String, Vec<String>)>,
    ) -> Result<Self, Violations> {
        let mut v = Violations::default();
        let mut seen = BTreeSet::new();
        let mut parsed = Vec::new();
        for (index, (code, title, source, elements)) in crimes.into_iter().enumerate() {
            let field = |name: &str| format!("crimes[{index}].{name}");
            let code = v.check(&field("code"), CrimeTypeCode::parse(&code));
            if let Some(code) = &code
                && !seen.insert(code.clone())
            {
                v.add(field("code"), format!("repeats {code}"));
            }
            if title.trim().is_empty() {
                v.add(field("title"), "must not be empty");
            }
            if let Some(code) = code {
                parsed.push(CrimeType {
                    code,
                    title: title.trim().to_owned(),
                    source: source.trim().to_owned(),
                    elements,
                });
            }
        }
        if parsed.is_empty() && v.is_empty() {
            v.add("crimes", "the taxonomy holds no crime type");
        }
        v.into_result().map(|()| Self { crimes: parsed })
    }

    pub fn crimes(&self) -> &[CrimeType] {
        &self.crimes
    }

    pub fn knows(&self, code: &CrimeTypeCode) -> bool {
        self.crimes.iter().any(|crime| &crime.code == code)
    }
}

/// A change to a case's qualification, every code known to the taxonomy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Qualification {
    add: BTreeSet<CrimeTypeCode>,
    remove: BTreeSet<CrimeTypeCode>,
}

impl Qualification {
    /// Checks the codes to add and remove. Field paths: `add_crime_type_codes[i]`,
    /// `remove_crime_type_codes[i]`.
    pub fn parse(
        add: &[String],
        remove: &[String],
        taxonomy: &Taxonomy,
    ) -> Result<Self, Violations> {
        let mut v = Violations::default();
        let mut parse_all = |field: &str, codes: &[String]| {
            let mut set = BTreeSet::new();
            for (index, raw) in codes.iter().enumerate() {
                let field = format!("{field}[{index}]");
                match CrimeTypeCode::parse(raw) {
                    Err(reason) => v.add(field, reason),
                    Ok(code) if !taxonomy.knows(&code) => v.add(
                        field,
                        format!("{code} is not a crime type of this deployment's taxonomy"),
                    ),
                    Ok(code) => {
                        if !set.insert(code.clone()) {
                            v.add(field, format!("repeats {code}"));
                        }
                    }
                }
            }
            set
        };
        let add_set = parse_all("add_crime_type_codes", add);
        let remove_set = parse_all("remove_crime_type_codes", remove);
        if add.is_empty() && remove.is_empty() {
            v.add(
                "add_crime_type_codes",
                "give a crime type to add or to remove",
            );
        }
        for (index, raw) in remove.iter().enumerate() {
            if add_set.iter().any(|code| code.as_str() == raw) {
                v.add(
                    format!("remove_crime_type_codes[{index}]"),
                    "is also to be added",
                );
            }
        }
        v.into_result().map(|()| Self {
            add: add_set,
            remove: remove_set,
        })
    }

    pub fn removed(&self) -> impl Iterator<Item = &CrimeTypeCode> {
        self.remove.iter()
    }

    /// The qualification after this change, in code order.
    pub fn apply(&self, current: &[CrimeTypeCode]) -> Vec<CrimeTypeCode> {
        let mut codes: BTreeSet<CrimeTypeCode> = current.iter().cloned().collect();
        codes.extend(self.add.iter().cloned());
        codes.retain(|code| !self.remove.contains(code));
        codes.into_iter().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn taxonomy() -> Taxonomy {
        Taxonomy::new(
            ["icc.8.2.a.i", "icc.8.2.a.ii", "icc.8.2.b.xxi"].map(|code| {
                (
                    code.to_owned(),
                    "title".to_owned(),
                    String::new(),
                    Vec::new(),
                )
            }),
        )
        .unwrap()
    }

    fn codes(raw: &[&str]) -> Vec<String> {
        raw.iter().map(|c| (*c).to_owned()).collect()
    }

    #[test]
    fn unknown_and_malformed_codes_are_named_by_position() {
        let error = Qualification::parse(
            &codes(&["icc.8.2.a.i", "icc.8.2.z", "Bad Code"]),
            &[],
            &taxonomy(),
        )
        .unwrap_err();
        let fields: Vec<_> = error.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            ["add_crime_type_codes[1]", "add_crime_type_codes[2]"]
        );
    }

    #[test]
    fn adding_and_removing_give_the_new_qualification() {
        let change = Qualification::parse(
            &codes(&["icc.8.2.b.xxi", "icc.8.2.a.ii"]),
            &codes(&["icc.8.2.a.i"]),
            &taxonomy(),
        )
        .unwrap();
        let current = [CrimeTypeCode::parse("icc.8.2.a.i").unwrap()];
        let after: Vec<String> = change
            .apply(&current)
            .into_iter()
            .map(|c| c.as_str().to_owned())
            .collect();
        assert_eq!(after, ["icc.8.2.a.ii", "icc.8.2.b.xxi"]);
    }

    #[test]
    fn a_code_cannot_be_added_and_removed_at_once_and_a_change_must_change_something() {
        let both = codes(&["icc.8.2.a.i"]);
        assert!(Qualification::parse(&both, &both, &taxonomy()).is_err());
        assert!(Qualification::parse(&[], &[], &taxonomy()).is_err());
    }

    #[test]
    fn a_taxonomy_refuses_repeated_codes() {
        let crime = |code: &str| (code.to_owned(), "t".to_owned(), String::new(), Vec::new());
        assert!(Taxonomy::new([crime("icc.8.2.a.i"), crime("icc.8.2.a.i")]).is_err());
        assert!(Taxonomy::new(Vec::new()).is_err());
    }
}
