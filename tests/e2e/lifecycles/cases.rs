//! Case lifecycles: transitions, merges, qualifications, charges filed and moved, and the
//! model of what the API's contract answers to each.

use std::collections::{BTreeMap, BTreeSet};

use docket_proto::docket::cases::v1 as pb;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use tonic::Code;

use super::{Etag, Outcome, SUBJECTS, etag};

/// The crime types histories qualify cases with and charge.
pub(super) const CRIMES: [&str; 3] = ["icc.8.2.a.i", "icc.8.2.a.ii", "icc.8.2.b.i"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Target {
    Open,
    UnderInvestigation,
    ChargesFiled,
    ReferredToCourt,
    Closed,
    /// Closed as merged into this case.
    Merged(usize),
}

impl Target {
    /// The status, reason and case merged into that a transition to the target asks for.
    pub(super) fn request(self) -> (pb::CaseStatus, pb::CloseReason, Option<usize>) {
        use pb::CaseStatus::*;
        use pb::CloseReason::{InsufficientEvidence, Merged, Unspecified};
        match self {
            Target::Open => (Open, Unspecified, None),
            Target::UnderInvestigation => (UnderInvestigation, Unspecified, None),
            Target::ChargesFiled => (ChargesFiled, Unspecified, None),
            Target::ReferredToCourt => (ReferredToCourt, Unspecified, None),
            Target::Closed => (Closed, InsufficientEvidence, None),
            Target::Merged(into) => (Closed, Merged, Some(into)),
        }
    }
}

#[derive(Debug, Clone)]
pub(super) enum CaseCall {
    Move {
        case: usize,
        to: Target,
        etag: Etag,
    },
    Qualify {
        case: usize,
        add: BTreeSet<usize>,
        remove: BTreeSet<usize>,
        etag: Etag,
    },
    /// A charge of the case's suspect (or, to be refused, of its witness).
    File {
        case: usize,
        suspect: bool,
        crime: usize,
        etag: Etag,
    },
    /// A move of the case's charge `charge` (counted among those it had as the round began).
    Charge {
        case: usize,
        charge: usize,
        to: pb::ChargeStatus,
        etag: Etag,
    },
}

pub(super) fn case_call() -> impl Strategy<Value = CaseCall> {
    let case = 0..SUBJECTS;
    let target = prop_oneof![
        1 => Just(Target::Open),
        3 => Just(Target::UnderInvestigation),
        2 => Just(Target::ChargesFiled),
        1 => Just(Target::ReferredToCourt),
        1 => Just(Target::Closed),
        2 => (0..SUBJECTS).prop_map(Target::Merged),
    ];
    let crimes = || proptest::collection::btree_set(0..CRIMES.len(), 0..=2);
    prop_oneof![
        3 => (case.clone(), target, etag()).prop_map(|(case, to, etag)| CaseCall::Move {
            case,
            to,
            etag
        }),
        3 => (case.clone(), crimes(), crimes(), etag())
            .prop_filter("a qualification adds or removes something", |(_, a, r, _)| {
                !(a.is_empty() && r.is_empty()) && a.is_disjoint(r)
            })
            .prop_map(|(case, add, remove, etag)| CaseCall::Qualify {
                case,
                add,
                remove,
                etag
            }),
        3 => (case.clone(), proptest::bool::weighted(0.85), 0..CRIMES.len(), etag())
            .prop_map(|(case, suspect, crime, etag)| CaseCall::File {
                case,
                suspect,
                crime,
                etag
            }),
        2 => (
            case,
            0..3usize,
            proptest::sample::select(vec![
                pb::ChargeStatus::WarrantIssued,
                pb::ChargeStatus::Confirmed,
                pb::ChargeStatus::Withdrawn,
                pb::ChargeStatus::Convicted,
                pb::ChargeStatus::Acquitted,
            ]),
            etag()
        )
            .prop_map(|(case, charge, to, etag)| CaseCall::Charge {
                case,
                charge,
                to,
                etag
            }),
    ]
    .prop_filter("a case is not merged into itself", |call| {
        !matches!(call, CaseCall::Move { case, to: Target::Merged(into), .. } if into == case)
    })
}

pub(super) fn case_history() -> impl Strategy<Value = Vec<Vec<CaseCall>>> {
    proptest::collection::vec(proptest::collection::vec(case_call(), 1..=3), 1..=14)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct ChargeModel {
    pub(super) crime: usize,
    pub(super) status: pb::ChargeStatus,
}

/// A case as the model holds it, and as it is read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct CaseModel {
    pub(super) status: pb::CaseStatus,
    pub(super) reason: pb::CloseReason,
    pub(super) merged_into: Option<usize>,
    pub(super) crimes: BTreeSet<usize>,
    /// By charge id.
    pub(super) charges: BTreeMap<String, ChargeModel>,
    /// Counts the changes made; compared with the service's as "changed in the round or not".
    pub(super) version: u32,
}

pub(super) fn next_statuses(from: pb::CaseStatus) -> &'static [pb::CaseStatus] {
    use pb::CaseStatus::*;
    match from {
        Open => &[UnderInvestigation, Closed],
        UnderInvestigation => &[ChargesFiled, Closed],
        ChargesFiled => &[ReferredToCourt, Closed],
        ReferredToCourt => &[Closed],
        Closed | Unspecified => &[],
    }
}

pub(super) fn next_charge_statuses(from: pb::ChargeStatus) -> &'static [pb::ChargeStatus] {
    use pb::ChargeStatus::*;
    match from {
        Filed => &[WarrantIssued, Confirmed, Withdrawn],
        WarrantIssued => &[Confirmed, Withdrawn],
        Confirmed => &[Convicted, Acquitted, Withdrawn],
        Withdrawn | Convicted | Acquitted | Unspecified => &[],
    }
}

pub(super) fn live(charge: &ChargeModel) -> bool {
    !matches!(
        charge.status,
        pb::ChargeStatus::Withdrawn | pb::ChargeStatus::Acquitted
    )
}

/// The charge ids of each case as the round began, in id order: what `CaseCall::Charge` counts.
pub(super) type ChargeIds = Vec<Vec<String>>;

/// A call with an etag naming another version than the case's is ABORTED, before anything else.
pub(super) fn stale(case: &CaseModel, sent: Option<u32>) -> bool {
    sent.is_some_and(|version| version != case.version)
}

/// The model's answer to `call` (sent with the etag of version `sent`) on `cases`, applying it.
pub(super) fn case_step(
    cases: &mut [CaseModel],
    call: &CaseCall,
    sent: Option<u32>,
    charge_ids: &ChargeIds,
    answered: &Outcome,
) -> Outcome {
    let refuse = |code| Err(code);
    // Moves and qualifications require an etag (the proto says so); then any call whose etag
    // names another version than the case's is ABORTED, before anything else.
    if let CaseCall::Move { etag, .. } | CaseCall::Qualify { etag, .. } = call
        && *etag == Etag::None
    {
        return refuse(Code::InvalidArgument);
    }
    if stale(&cases[case_of(call)], sent) {
        return refuse(Code::Aborted);
    }
    match call {
        CaseCall::Move { case, to, .. } => {
            let (status, reason, merged_into) = to.request();
            if !next_statuses(cases[*case].status).contains(&status) {
                return refuse(Code::FailedPrecondition);
            }
            if let Some(into) = merged_into
                && cases[into].status == pb::CaseStatus::Closed
            {
                return refuse(Code::FailedPrecondition);
            }
            let c = &mut cases[*case];
            c.status = status;
            c.reason = reason;
            c.merged_into = merged_into;
            c.version += 1;
            Ok(None)
        }
        CaseCall::Qualify {
            case, add, remove, ..
        } => {
            let c = &mut cases[*case];
            if c.status == pb::CaseStatus::Closed {
                return refuse(Code::FailedPrecondition);
            }
            if c.charges
                .values()
                .any(|charge| live(charge) && remove.contains(&charge.crime))
            {
                return refuse(Code::FailedPrecondition);
            }
            c.crimes.extend(add.iter().copied());
            c.crimes.retain(|crime| !remove.contains(crime));
            c.version += 1;
            Ok(None)
        }
        CaseCall::File {
            case,
            suspect,
            crime,
            ..
        } => {
            let c = &mut cases[*case];
            if c.status == pb::CaseStatus::Closed
                || c.status == pb::CaseStatus::Open
                || !suspect
                || !c.crimes.contains(crime)
            {
                return refuse(Code::FailedPrecondition);
            }
            // The id is the service's: the model cannot make it up, only take it.
            let Ok(Some(id)) = answered else {
                return Ok(Some("(a new charge)".into()));
            };
            c.charges.insert(
                id.clone(),
                ChargeModel {
                    crime: *crime,
                    status: pb::ChargeStatus::Filed,
                },
            );
            if c.status == pb::CaseStatus::UnderInvestigation {
                c.status = pb::CaseStatus::ChargesFiled;
            }
            c.version += 1;
            Ok(Some(id.clone()))
        }
        CaseCall::Charge {
            case, charge, to, ..
        } => {
            let c = &mut cases[*case];
            if c.status == pb::CaseStatus::Closed {
                return refuse(Code::FailedPrecondition);
            }
            let id = &charge_ids[*case][*charge % charge_ids[*case].len()];
            let Some(charge) = c.charges.get_mut(id) else {
                return refuse(Code::NotFound);
            };
            if !next_charge_statuses(charge.status).contains(to) {
                return refuse(Code::FailedPrecondition);
            }
            charge.status = *to;
            c.version += 1;
            Ok(None)
        }
    }
}

/// The case a call is about.
pub(super) fn case_of(call: &CaseCall) -> usize {
    match call {
        CaseCall::Move { case, .. }
        | CaseCall::Qualify { case, .. }
        | CaseCall::File { case, .. }
        | CaseCall::Charge { case, .. } => *case,
    }
}

pub(super) fn etag_of(call: &CaseCall) -> Etag {
    match call {
        CaseCall::Move { etag, .. }
        | CaseCall::Qualify { etag, .. }
        | CaseCall::File { etag, .. }
        | CaseCall::Charge { etag, .. } => *etag,
    }
}

pub(super) fn no_merge_cycle(cases: &[CaseModel]) -> Result<(), TestCaseError> {
    for start in 0..cases.len() {
        let mut seen = BTreeSet::from([start]);
        let mut at = start;
        while let Some(next) = cases[at].merged_into {
            prop_assert!(seen.insert(next), "merges form a cycle: {cases:?}");
            at = next;
        }
    }
    Ok(())
}
