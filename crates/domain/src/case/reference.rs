//! Readable case references, `CASE-YYYY-NNNNNN`, numbered without gaps within a year.

use std::fmt;

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
}
