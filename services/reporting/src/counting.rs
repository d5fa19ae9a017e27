//! What counts: the one place where the office's rule for its figures is written down. The
//! statistics, the rollups and the report all take it from here, and the report states it in
//! [`RULE`].
//!
//! - A case closed as not a crime, closed as merged into another case (its victims are counted
//!   in that case), or resting only on evidence judged fabricated does not count: neither the
//!   case nor its victims, charges or accused. It stays in the projections and is counted when
//!   asked for (`include_uncounted`), under [`DIMENSION_COUNTING`]'s value saying why.
//! - A withdrawn charge or one that ended in acquittal is not a charge filed: it is left out of
//!   charges and accused unless asked for (`include_uncounted`, or a filter on the charge
//!   status that names it).
//! - Every item has a level of verification: how far the office has taken it.
//!
//! [`DIMENSION_COUNTING`]: docket_proto::docket::reporting::v1::Dimension::Counting

use crate::facts::CaseItem;

/// The rule, as the report states it.
pub const RULE: &str = "What counts: every figure counts cases, their victims and their charges \
     except cases closed as not a crime, cases closed as merged into another case (their victims \
     are counted in that case), and cases resting only on evidence judged fabricated. Charges \
     withdrawn or ended in acquittal are not counted as charges filed. Victims are counted from \
     the cases' casualty figures, each group once, so a report received twice adds no one. \
     Victims known by name count once however many reports and cases name them (in the first \
     case that counts), and within their case's figures of the same side, status and harm, not \
     on top of them: such a figure counts at least its named victims. Allegations are counted \
     as received; grouped by the material they rest on, those whose every evidence file is \
     judged fabricated (by the latest verdict on its content) are shown apart.";

/// The value of `DIMENSION_COUNTING` of a case that counts.
pub const COUNTED: &str = "counted";
/// Closed as not a crime.
pub const NOT_A_CRIME: &str = "not_a_crime";
/// Closed as merged into another case.
pub const MERGED: &str = "merged";
/// Resting only on evidence judged fabricated.
pub const FABRICATED_EVIDENCE: &str = "fabricated_evidence";

/// Charge statuses that are not charges filed unless asked for.
pub const ENDED_CHARGES: [&str; 2] = ["CHARGE_STATUS_WITHDRAWN", "CHARGE_STATUS_ACQUITTED"];

/// Whether a charge in `status` counts as a charge filed.
pub fn charge_counts(status: &str) -> bool {
    !ENDED_CHARGES.contains(&status)
}

/// Whether `case` counts, or why not: [`COUNTED`], [`NOT_A_CRIME`], [`MERGED`] or
/// [`FABRICATED_EVIDENCE`].
pub fn case_counting(case: &CaseItem) -> &'static str {
    let reason = case.close_reason.as_deref().unwrap_or_default();
    if reason == "CLOSE_REASON_NOT_A_CRIME" {
        NOT_A_CRIME
    } else if reason == "CLOSE_REASON_MERGED" {
        MERGED
    } else if case.only_fabricated_evidence {
        FABRICATED_EVIDENCE
    } else {
        COUNTED
    }
}

/// How far a case has been taken: `charged` (a charge counted as filed), `accepted` (open),
/// `closed` (closed without one) or `under_investigation`.
pub fn case_verification(case: &CaseItem) -> &'static str {
    if case.charges.iter().any(|c| charge_counts(&c.status)) {
        return "charged";
    }
    match case.status.as_str() {
        "CASE_STATUS_OPEN" => "accepted",
        "CASE_STATUS_CLOSED" => "closed",
        _ => "under_investigation",
    }
}

/// How far an allegation in `status` has been taken: `reported` (received or under review),
/// `accepted`, `rejected` or `duplicate`.
pub fn allegation_verification(status: &str) -> String {
    match status {
        "ALLEGATION_STATUS_ACCEPTED" => "accepted",
        "ALLEGATION_STATUS_REJECTED" => "rejected",
        "ALLEGATION_STATUS_DUPLICATE" => "duplicate",
        _ => "reported",
    }
    .to_owned()
}

/// The `DIMENSION_AGE_BAND` value of a victim group: the children's band where known, the age
/// group otherwise.
pub fn age_band(age_group: &str, band: Option<&str>) -> String {
    match band.filter(|_| age_group == "AGE_GROUP_CHILD") {
        Some(band) => band.to_owned(),
        None => age_group.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::facts::ChargeRow;

    fn case(status: &str, close_reason: Option<&str>) -> CaseItem {
        CaseItem {
            status: status.into(),
            close_reason: close_reason.map(str::to_owned),
            ..CaseItem::default()
        }
    }

    #[test]
    fn cases_closed_as_not_a_crime_or_merged_do_not_count() {
        let closed = |reason: &str| case("CASE_STATUS_CLOSED", Some(reason));
        assert_eq!(
            case_counting(&closed("CLOSE_REASON_NOT_A_CRIME")),
            NOT_A_CRIME
        );
        assert_eq!(case_counting(&closed("CLOSE_REASON_MERGED")), MERGED);
        assert_eq!(
            case_counting(&closed("CLOSE_REASON_INSUFFICIENT_EVIDENCE")),
            COUNTED
        );
        assert_eq!(case_counting(&case("CASE_STATUS_OPEN", None)), COUNTED);
        let fabricated = CaseItem {
            only_fabricated_evidence: true,
            ..case("CASE_STATUS_OPEN", None)
        };
        assert_eq!(case_counting(&fabricated), FABRICATED_EVIDENCE);
    }

    #[test]
    fn a_case_is_charged_only_by_a_charge_that_counts() {
        let charge = |status: &str| ChargeRow {
            status: status.into(),
            ..ChargeRow::default()
        };
        let mut item = case("CASE_STATUS_CHARGES_FILED", None);
        item.charges = vec![charge("CHARGE_STATUS_WITHDRAWN")];
        assert_eq!(case_verification(&item), "under_investigation");
        item.charges.push(charge("CHARGE_STATUS_FILED"));
        assert_eq!(case_verification(&item), "charged");
        assert_eq!(
            case_verification(&case("CASE_STATUS_OPEN", None)),
            "accepted"
        );
        assert_eq!(
            allegation_verification("ALLEGATION_STATUS_RECEIVED"),
            "reported"
        );
    }

    #[test]
    fn children_are_banded_where_their_age_is_known() {
        assert_eq!(
            age_band("AGE_GROUP_CHILD", Some("AGE_BAND_UNDER_5")),
            "AGE_BAND_UNDER_5"
        );
        assert_eq!(age_band("AGE_GROUP_CHILD", None), "AGE_GROUP_CHILD");
        assert_eq!(age_band("AGE_GROUP_ADULT", None), "AGE_GROUP_ADULT");
    }
}
