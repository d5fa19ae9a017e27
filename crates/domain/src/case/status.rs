//! The lifecycle of a case: OPEN → UNDER_INVESTIGATION → CHARGES_FILED → REFERRED_TO_COURT, and
//! CLOSED, with a reason, from any status but CLOSED itself.

use uuid::Uuid;

use crate::Violations;
use crate::coded::coded_enum;
use crate::text::bounded_text;

coded_enum! {
    /// Where a case stands.
    pub enum CaseStatus {
        Open => "open",
        UnderInvestigation => "under_investigation",
        ChargesFiled => "charges_filed",
        ReferredToCourt => "referred_to_court",
        Closed => "closed",
    }
}

coded_enum! {
    /// Why a case was closed.
    pub enum CloseReason {
        InsufficientEvidence => "insufficient_evidence",
        NotACrime => "not_a_crime",
        Merged => "merged",
        Other => "other",
    }
}

bounded_text!(
    /// The explanation recorded with a move of a case.
    StatusNote,
    2_000
);

/// A requested move, checked for its own coherence (a reason exactly when closing).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    /// To a status other than CLOSED.
    Advance {
        to: CaseStatus,
        note: Option<StatusNote>,
    },
    Close {
        reason: CloseReason,
        note: Option<StatusNote>,
        /// The case merged into, exactly when `reason` is `Merged`.
        merged_into: Option<Uuid>,
    },
}

/// A move the lifecycle does not allow.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a case that is {from} cannot move to {to}; allowed: {allowed}")]
pub struct IllegalTransition {
    pub from: CaseStatus,
    pub to: CaseStatus,
    pub allowed: String,
}

impl CaseStatus {
    /// The statuses a case in this status may move to.
    pub fn next(self) -> &'static [CaseStatus] {
        use CaseStatus::*;
        match self {
            Open => &[UnderInvestigation, Closed],
            UnderInvestigation => &[ChargesFiled, Closed],
            ChargesFiled => &[ReferredToCourt, Closed],
            ReferredToCourt => &[Closed],
            Closed => &[],
        }
    }

    /// Checks the move from this status to `to`.
    pub fn move_to(self, to: CaseStatus) -> Result<CaseStatus, IllegalTransition> {
        if self.next().contains(&to) {
            return Ok(to);
        }
        let allowed: Vec<&str> = self.next().iter().map(|s| s.code()).collect();
        Err(IllegalTransition {
            from: self,
            to,
            allowed: if allowed.is_empty() {
                "none, the case is final".to_owned()
            } else {
                allowed.join(", ")
            },
        })
    }
}

impl Transition {
    /// Checks a requested move. Field paths: `target_status`, `reason`, `note`,
    /// `merged_into_case_id`. `this_case` may not be merged into itself.
    pub fn parse(
        target: Option<CaseStatus>,
        reason: Option<CloseReason>,
        note: String,
        merged_into: Option<Uuid>,
        this_case: Uuid,
    ) -> Result<Self, Violations> {
        let mut v = Violations::default();
        let note = if note.trim().is_empty() {
            None
        } else {
            v.check("note", StatusNote::parse(note))
        };
        let Some(target) = target else {
            v.add("target_status", "is required");
            return Err(v);
        };
        if target != CaseStatus::Closed {
            if reason.is_some() {
                v.add("reason", "is only given when closing a case");
            }
            if merged_into.is_some() {
                v.add(
                    "merged_into_case_id",
                    "is only given when closing as merged",
                );
            }
            return v
                .into_result()
                .map(|()| Transition::Advance { to: target, note });
        }
        match reason {
            None => v.add("reason", "is required to close a case"),
            Some(CloseReason::Other) if note.is_none() && v.is_empty() => {
                v.add("note", "is required when closing for another reason");
            }
            Some(CloseReason::Merged) if merged_into.is_none() => {
                v.add("merged_into_case_id", "is required when closing as merged");
            }
            Some(CloseReason::Merged) if merged_into == Some(this_case) => {
                v.add("merged_into_case_id", "must be another case");
            }
            Some(_) if reason != Some(CloseReason::Merged) && merged_into.is_some() => {
                v.add(
                    "merged_into_case_id",
                    "is only given when closing as merged",
                );
            }
            Some(_) => {}
        }
        match reason {
            Some(reason) if v.is_empty() => Ok(Transition::Close {
                reason,
                note,
                merged_into,
            }),
            _ => Err(v),
        }
    }

    pub fn target(&self) -> CaseStatus {
        match self {
            Transition::Advance { to, .. } => *to,
            Transition::Close { .. } => CaseStatus::Closed,
        }
    }

    pub fn note(&self) -> Option<&StatusNote> {
        match self {
            Transition::Advance { note, .. } | Transition::Close { note, .. } => note.as_ref(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use CaseStatus::*;

    #[test]
    fn the_lifecycle_moves_one_step_forward_or_to_closed() {
        assert_eq!(Open.move_to(UnderInvestigation), Ok(UnderInvestigation));
        assert_eq!(UnderInvestigation.move_to(ChargesFiled), Ok(ChargesFiled));
        assert_eq!(ChargesFiled.move_to(ReferredToCourt), Ok(ReferredToCourt));
        for from in [Open, UnderInvestigation, ChargesFiled, ReferredToCourt] {
            assert_eq!(from.move_to(Closed), Ok(Closed), "{from}");
        }
    }

    #[test]
    fn illegal_moves_name_the_allowed_ones() {
        let error = Open.move_to(ChargesFiled).unwrap_err();
        assert_eq!(error.allowed, "under_investigation, closed");
        assert!(error.to_string().contains("cannot move to charges_filed"));
        assert!(UnderInvestigation.move_to(Open).is_err());
        let error = Closed.move_to(Open).unwrap_err();
        assert!(error.allowed.contains("final"));
    }

    fn fields(v: &Violations) -> Vec<&str> {
        v.iter().map(|v| v.field.as_str()).collect()
    }

    #[test]
    fn closing_needs_a_reason_and_only_closing_takes_one() {
        let id = Uuid::now_v7();
        let error = Transition::parse(Some(Closed), None, String::new(), None, id).unwrap_err();
        assert_eq!(fields(&error), ["reason"]);
        let error = Transition::parse(
            Some(UnderInvestigation),
            Some(CloseReason::NotACrime),
            String::new(),
            None,
            id,
        )
        .unwrap_err();
        assert_eq!(fields(&error), ["reason"]);
        let error = Transition::parse(Some(Closed), Some(CloseReason::Other), " ".into(), None, id)
            .unwrap_err();
        assert_eq!(fields(&error), ["note"]);
    }

    #[test]
    fn a_merge_names_another_case() {
        let id = Uuid::now_v7();
        let close = |into| {
            Transition::parse(
                Some(Closed),
                Some(CloseReason::Merged),
                String::new(),
                into,
                id,
            )
        };
        assert_eq!(fields(&close(None).unwrap_err()), ["merged_into_case_id"]);
        assert_eq!(
            fields(&close(Some(id)).unwrap_err()),
            ["merged_into_case_id"]
        );
        let other = Uuid::now_v7();
        assert!(matches!(
            close(Some(other)),
            Ok(Transition::Close { merged_into: Some(m), .. }) if m == other
        ));
    }
}
