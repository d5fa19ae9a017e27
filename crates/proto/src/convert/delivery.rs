//! What intake delivers to case management of an allegation. One definition of the snapshot,
//! used by intake to write each delivery and by case management to compare a delivery with
//! what intake holds, so that the two sides can never disagree on what a true delivery is.

use crate::docket::cases::v1 as cases;
use crate::docket::intake::v1 as intake;

/// The snapshot of `allegation` that case management receives: the incident without the source
/// or the narrative, which stay in intake.
impl From<&intake::Allegation> for cases::AllegationSnapshot {
    fn from(allegation: &intake::Allegation) -> Self {
        Self {
            id: allegation.id.clone(),
            reference: allegation.reference.clone(),
            received_at: allegation.received_at,
            violation_types: allegation.violation_types.clone(),
            alleged_perpetrators: allegation.alleged_perpetrators.clone(),
            victims: allegation.victims.clone(),
            incident_period: allegation.incident_period,
            location: allegation.location.clone(),
            duplicate_of_id: allegation.duplicate_of_id.clone(),
            join_case_id: allegation.joined_case_id.clone(),
        }
    }
}

/// An open review flag of intake as a case shows it on a linked item.
impl From<&intake::ContentReviewFlag> for cases::ContentReviewFlag {
    fn from(flag: &intake::ContentReviewFlag) -> Self {
        let verdict = flag
            .near_duplicate_verdict
            .as_ref()
            .and_then(|assessment| {
                docket_domain::case::Verdict::try_from(assessment.verdict()).ok()
            })
            .map_or(0, |verdict| cases::Verdict::from(verdict).into());
        Self {
            id: flag.id.clone(),
            near_duplicate_sha256: flag.near_duplicate_sha256.clone(),
            near_duplicate_evidence_ids: flag.near_duplicate_evidence_ids.clone(),
            near_duplicate_verdict: verdict,
            distance_bits: flag.distance_bits,
            raised_time: flag.raised_time,
        }
    }
}
