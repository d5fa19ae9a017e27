//! Readable case references, `CASE-YYYY-NNNNNN`, numbered without gaps within a year.

use std::fmt;
use std::str::FromStr;

/// The readable reference of a case: the year it was opened and its number within that year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CaseReference {
    year: i32,
    number: u32,
}

impl CaseReference {
    pub const PREFIX: &'static str = "CASE";

    /// The `number`th case (counting from 1) opened in `year`.
    pub fn new(year: i32, number: u32) -> Option<Self> {
        ((1..=9999).contains(&year) && number >= 1).then_some(Self { year, number })
    }
}

impl fmt::Display for CaseReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{:04}-{:06}", Self::PREFIX, self.year, self.number)
    }
}

impl FromStr for CaseReference {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let malformed = || format!("{value:?} is not a reference of the form CASE-YYYY-NNNNNN");
        let mut parts = value.splitn(3, '-');
        let (Some(Self::PREFIX), Some(year), Some(number)) =
            (parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed());
        };
        if year.len() != 4 || number.len() < 6 {
            return Err(malformed());
        }
        let year = year.parse().map_err(|_| malformed())?;
        let number = number.parse().map_err(|_| malformed())?;
        Self::new(year, number).ok_or_else(malformed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_are_zero_padded() {
        assert_eq!(
            CaseReference::new(2020, 7).unwrap().to_string(),
            "CASE-2020-000007"
        );
        assert!(CaseReference::new(2020, 0).is_none());
    }

    #[test]
    fn references_parse_back_and_malformed_ones_are_refused() {
        let reference = CaseReference::new(2026, 4).unwrap();
        assert_eq!("CASE-2026-000004".parse(), Ok(reference));
        for text in [
            "",
            "CASE-2026-4",
            "ALG-2026-000004",
            "CASE-2026-000000",
            "CASE-26-000001",
        ] {
            assert!(text.parse::<CaseReference>().is_err(), "{text}");
        }
    }
}
