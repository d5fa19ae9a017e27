//! Charges and their lifecycle: FILED → WARRANT_ISSUED → CONFIRMED → CONVICTED or ACQUITTED;
//! WARRANT_ISSUED may be skipped; a charge not yet decided may be WITHDRAWN.

use chrono::{DateTime, NaiveDate, Utc};

use crate::coded::coded_enum;
use crate::incident::CLOCK_SKEW;

coded_enum! {
    /// Where a charge stands.
    pub enum ChargeStatus {
        Filed => "filed",
        WarrantIssued => "warrant_issued",
        Confirmed => "confirmed",
        Withdrawn => "withdrawn",
        Convicted => "convicted",
        Acquitted => "acquitted",
    }
}

/// A move of a charge its lifecycle does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a charge that is {from} cannot become {to}; allowed: {allowed}")]
pub struct IllegalChargeMove {
    pub from: ChargeStatus,
    pub to: ChargeStatus,
    pub allowed: String,
}

impl ChargeStatus {
    /// The statuses a charge in this status may move to.
    pub fn next(self) -> &'static [ChargeStatus] {
        use ChargeStatus::*;
        match self {
            Filed => &[WarrantIssued, Confirmed, Withdrawn],
            WarrantIssued => &[Confirmed, Withdrawn],
            Confirmed => &[Convicted, Acquitted, Withdrawn],
            Withdrawn | Convicted | Acquitted => &[],
        }
    }

    pub fn move_to(self, to: ChargeStatus) -> Result<ChargeStatus, IllegalChargeMove> {
        if self.next().contains(&to) {
            return Ok(to);
        }
        let allowed: Vec<&str> = self.next().iter().map(|s| s.code()).collect();
        Err(IllegalChargeMove {
            from: self,
            to,
            allowed: if allowed.is_empty() {
                "none, the charge is decided".to_owned()
            } else {
                allowed.join(", ")
            },
        })
    }
}

/// The day a charge was filed: a calendar date, not after today.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct FiledDate(NaiveDate);

impl FiledDate {
    /// Parses `YYYY-MM-DD`, refusing a day after `now` (with the usual clock skew).
    pub fn parse(value: &str, now: DateTime<Utc>) -> Result<Self, String> {
        if value.is_empty() {
            return Err("is required".to_owned());
        }
        let date = NaiveDate::parse_from_str(value, "%Y-%m-%d")
            .ok()
            // Years 1 to 9999, as everywhere else in the contract.
            .filter(|date| (1..=9999).contains(&chrono::Datelike::year(date)))
            .ok_or_else(|| format!("{value:?} is not a date of the form YYYY-MM-DD"))?;
        if date > (now + CLOCK_SKEW).date_naive() {
            return Err("must not be in the future".to_owned());
        }
        Ok(Self(date))
    }

    /// A date as stored.
    pub fn from_stored(value: &str) -> Option<Self> {
        NaiveDate::parse_from_str(value, "%Y-%m-%d").ok().map(Self)
    }

    /// `YYYY-MM-DD`.
    pub fn to_text(self) -> String {
        self.0.format("%Y-%m-%d").to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ChargeStatus::*;

    #[test]
    fn a_charge_is_decided_only_once_confirmed() {
        assert_eq!(Filed.move_to(WarrantIssued), Ok(WarrantIssued));
        assert_eq!(Filed.move_to(Confirmed), Ok(Confirmed));
        assert_eq!(Confirmed.move_to(Convicted), Ok(Convicted));
        let error = Filed.move_to(Convicted).unwrap_err();
        assert_eq!(error.allowed, "warrant_issued, confirmed, withdrawn");
        for decided in [Withdrawn, Convicted, Acquitted] {
            assert!(decided.move_to(Confirmed).is_err());
        }
    }

    #[test]
    fn a_filing_date_is_a_real_day_not_in_the_future() {
        let now = Utc::now();
        assert_eq!(
            FiledDate::parse("2020-12-02", now).map(FiledDate::to_text),
            Ok("2020-12-02".to_owned())
        );
        assert!(FiledDate::parse("2020-02-30", now).is_err());
        assert!(FiledDate::parse("2.12.2020", now).is_err());
        assert!(FiledDate::parse("2999-01-01", now).is_err());
    }
}
