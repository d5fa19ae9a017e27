//! Readable allegation references, `ALG-YYYY-NNNNNN`, numbered without gaps within a year.

use std::fmt;
use std::str::FromStr;

/// The readable reference of an allegation: its year of receipt and its number within that year.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct AllegationReference {
    year: i32,
    number: u32,
}

impl AllegationReference {
    pub const PREFIX: &'static str = "ALG";

    /// The `number`th allegation (counting from 1) received in `year`.
    pub fn new(year: i32, number: u32) -> Option<Self> {
        ((1..=9999).contains(&year) && number >= 1).then_some(Self { year, number })
    }

    pub fn year(&self) -> i32 {
        self.year
    }

    pub fn number(&self) -> u32 {
        self.number
    }
}

impl fmt::Display for AllegationReference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{:04}-{:06}", Self::PREFIX, self.year, self.number)
    }
}

impl FromStr for AllegationReference {
    type Err = String;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let malformed = || format!("{value:?} is not a reference of the form ALG-YYYY-NNNNNN");
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
    fn references_are_zero_padded_and_parse_back() {
        let reference = AllegationReference::new(2026, 42).unwrap();
        assert_eq!(reference.to_string(), "ALG-2026-000042");
        assert_eq!("ALG-2026-000042".parse(), Ok(reference));
        assert_eq!(
            AllegationReference::new(2026, 1_234_567)
                .unwrap()
                .to_string(),
            "ALG-2026-1234567"
        );
    }

    #[test]
    fn malformed_references_are_refused() {
        for text in [
            "",
            "ALG-2026-42",
            "CASE-2026-000001",
            "ALG-26-000001",
            "ALG-2026-00000x",
            "ALG-2026-000000",
        ] {
            assert!(text.parse::<AllegationReference>().is_err(), "{text}");
        }
    }
}
