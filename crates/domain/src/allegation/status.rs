//! Triage: an allegation is received, may be put under review, and is then accepted, rejected or
//! marked as a duplicate. Only `RECEIVED` and `UNDER_REVIEW` allegations can still move, or be
//! corrected; a rejection alone can be undone, by reopening the allegation for review.

use crate::coded::coded_enum;
use crate::text::bounded_text;

coded_enum! {
    /// Where an allegation stands in triage.
    pub enum AllegationStatus {
        Received => "received",
        UnderReview => "under_review",
        Accepted => "accepted",
        Rejected => "rejected",
        Duplicate => "duplicate",
    }
}

/// A triage decision or step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TriageAction {
    StartReview,
    Accept,
    Reject,
    MarkDuplicate,
    /// Undoes a rejection: the allegation is under review again.
    Reopen,
}

/// A triage action attempted on an allegation whose status does not allow it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("an allegation that is {from} cannot be {action}; only {allowed} allegations can")]
pub struct IllegalTriage {
    pub from: AllegationStatus,
    pub action: &'static str,
    pub allowed: String,
}

impl TriageAction {
    /// The statuses from which this action may be taken.
    pub fn allowed_from(self) -> &'static [AllegationStatus] {
        use AllegationStatus::{Received, UnderReview};
        match self {
            TriageAction::StartReview => &[Received],
            TriageAction::Accept | TriageAction::Reject | TriageAction::MarkDuplicate => {
                &[Received, UnderReview]
            }
            // Accepted and duplicate allegations are in a case already; a rejected one is in none.
            TriageAction::Reopen => &[AllegationStatus::Rejected],
        }
    }

    /// The status the allegation has after this action.
    pub fn outcome(self) -> AllegationStatus {
        match self {
            TriageAction::StartReview | TriageAction::Reopen => AllegationStatus::UnderReview,
            TriageAction::Accept => AllegationStatus::Accepted,
            TriageAction::Reject => AllegationStatus::Rejected,
            TriageAction::MarkDuplicate => AllegationStatus::Duplicate,
        }
    }

    fn past_tense(self) -> &'static str {
        match self {
            TriageAction::StartReview => "put under review",
            TriageAction::Accept => "accepted",
            TriageAction::Reject => "rejected",
            TriageAction::MarkDuplicate => "marked as a duplicate",
            TriageAction::Reopen => "reopened",
        }
    }

    /// The status after this action when taken on an allegation that is `from`.
    pub fn apply(self, from: AllegationStatus) -> Result<AllegationStatus, IllegalTriage> {
        if self.allowed_from().contains(&from) {
            Ok(self.outcome())
        } else {
            let allowed: Vec<&str> = self.allowed_from().iter().map(|s| s.code()).collect();
            Err(IllegalTriage {
                from,
                action: self.past_tense(),
                allowed: allowed.join(" or "),
            })
        }
    }
}

/// Refuses to correct an allegation that is `status`: only one still in triage (received or
/// under review) can be corrected, since a decided one has been delivered as it was, or
/// rejected as it was (reopen it first).
pub fn check_correctable(status: AllegationStatus) -> Result<(), IllegalTriage> {
    use AllegationStatus::{Received, UnderReview};
    if matches!(status, Received | UnderReview) {
        Ok(())
    } else {
        Err(IllegalTriage {
            from: status,
            action: "corrected",
            allowed: "received or under_review".to_owned(),
        })
    }
}

bounded_text!(
    /// The officer who reviews an allegation.
    ReviewerName,
    200
);

bounded_text!(
    /// Why an allegation was rejected.
    RejectionReason,
    2_000
);

bounded_text!(
    /// What the office tells the source with a triage decision; shown to whoever holds the
    /// receipt, so it must hold nothing confidential.
    SourceMessage,
    2_000
);

#[cfg(test)]
mod tests {
    use super::*;
    use AllegationStatus::*;

    #[test]
    fn only_received_allegations_can_be_put_under_review() {
        assert_eq!(TriageAction::StartReview.apply(Received), Ok(UnderReview));
        for status in [UnderReview, Accepted, Rejected, Duplicate] {
            assert!(TriageAction::StartReview.apply(status).is_err(), "{status}");
        }
    }

    #[test]
    fn decisions_are_taken_only_on_open_allegations() {
        for action in [
            TriageAction::Accept,
            TriageAction::Reject,
            TriageAction::MarkDuplicate,
        ] {
            assert_eq!(action.apply(Received), Ok(action.outcome()));
            assert_eq!(action.apply(UnderReview), Ok(action.outcome()));
            for closed in [Accepted, Rejected, Duplicate] {
                let error = action.apply(closed).unwrap_err();
                assert_eq!(error.from, closed);
                assert!(
                    error.to_string().contains("received or under_review"),
                    "{error}"
                );
            }
        }
    }

    #[test]
    fn only_a_rejected_allegation_can_be_reopened_and_it_is_under_review_again() {
        assert_eq!(TriageAction::Reopen.apply(Rejected), Ok(UnderReview));
        for status in [Received, UnderReview, Accepted, Duplicate] {
            assert!(TriageAction::Reopen.apply(status).is_err(), "{status}");
        }
    }

    #[test]
    fn only_allegations_in_triage_can_be_corrected() {
        assert!(check_correctable(Received).is_ok());
        assert!(check_correctable(UnderReview).is_ok());
        for decided in [Accepted, Rejected, Duplicate] {
            let error = check_correctable(decided).unwrap_err();
            assert!(error.to_string().contains("cannot be corrected"), "{error}");
        }
    }
}
