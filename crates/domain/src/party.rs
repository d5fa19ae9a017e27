//! Parties to the conflict, named by short upper-case codes, the same way for every party.

use std::collections::BTreeSet;
use std::fmt;

/// A party code such as `AZ`, `AM` or `AM-NK`: two or three upper-case letters, then optional
/// `-` suffixes of upper-case letters and digits; at most 16 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PartyCode(String);

impl PartyCode {
    pub const MAX_CHARS: usize = 16;

    pub fn parse(value: &str) -> Result<Self, String> {
        const FORM: &str = "must be 2 or 3 upper-case letters with optional `-` suffixes of \
                            upper-case letters and digits, such as `AM` or `AM-NK`";
        if value.len() > Self::MAX_CHARS {
            return Err(format!("must be at most {} characters", Self::MAX_CHARS));
        }
        let mut parts = value.split('-');
        let head_ok = parts.next().is_some_and(|head| {
            (2..=3).contains(&head.len()) && head.bytes().all(|b| b.is_ascii_uppercase())
        });
        let tail_ok = parts.all(|part| {
            !part.is_empty()
                && part
                    .bytes()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        });
        if head_ok && tail_ok {
            Ok(Self(value.to_owned()))
        } else {
            Err(FORM.to_owned())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PartyCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The parties to the conflict a deployment knows. When it lists none, any well-formed code is
/// accepted; when it lists some, only those.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KnownParties(BTreeSet<PartyCode>);

impl KnownParties {
    /// Parses the configured codes; every malformed one is reported.
    pub fn parse<S: AsRef<str>>(codes: &[S]) -> Result<Self, Violations> {
        let mut violations = Violations::default();
        let mut known = BTreeSet::new();
        for (index, code) in codes.iter().enumerate() {
            if let Some(code) =
                violations.check(&format!("[{index}]"), PartyCode::parse(code.as_ref()))
            {
                known.insert(code);
            }
        }
        violations.into_result().map(|()| Self(known))
    }

    /// Whether `code` may be used in this deployment.
    pub fn admits(&self, code: &PartyCode) -> bool {
        self.0.is_empty() || self.0.contains(code)
    }

    /// The reason to give when `code` is not admitted.
    pub fn refusal(&self) -> String {
        let listed: Vec<&str> = self.0.iter().map(PartyCode::as_str).collect();
        format!(
            "is not a party to the conflict in this deployment; known parties: {}",
            listed.join(", ")
        )
    }
}

use crate::Violations;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_formed_party_codes_are_accepted() {
        for code in ["AZ", "AM", "AM-NK", "RUS", "UA-43", "XX-A1-B2"] {
            assert!(PartyCode::parse(code).is_ok(), "{code}");
        }
    }

    #[test]
    fn malformed_party_codes_are_refused() {
        for code in [
            "",
            "a",
            "am",
            "A",
            "ABCD",
            "AM-",
            "AM--NK",
            "AM NK",
            "AM-nk",
            "ABC-DEFGHIJKLMNOP",
        ] {
            assert!(PartyCode::parse(code).is_err(), "{code:?}");
        }
    }

    #[test]
    fn an_empty_party_list_admits_every_code_and_a_list_only_its_own() {
        let code = PartyCode::parse("AM-NK").unwrap();
        assert!(KnownParties::default().admits(&code));
        let known = KnownParties::parse(&["AZ", "AM"]).unwrap();
        assert!(!known.admits(&code));
        assert!(known.admits(&PartyCode::parse("AZ").unwrap()));
    }

    #[test]
    fn a_malformed_configured_party_is_reported_by_position() {
        let error = KnownParties::parse(&["AZ", "bad"]).unwrap_err();
        assert_eq!(error.iter().next().unwrap().field, "[1]");
    }
}
