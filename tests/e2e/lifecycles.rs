//! The lifecycles against their models: random histories of triage decisions, case transitions,
//! merges, qualifications and charges, played through the gRPC API in rounds of up to three
//! concurrent calls, on SQLite and on PostgreSQL.
//!
//! After each round the service's answers and state must be those of the model after the
//! round's calls in *some* order (the round is linearizable): every call the model refuses in
//! that order refused with the model's code, every other one taken, and the cases or
//! allegations read back equal to the model's. The model is written from the API's contract
//! (the proto comments and the lifecycle tables), not from the stores: so a forbidden
//! transition, a merge cycle, a charge left on a crime type the case no longer carries, or a
//! call without an etag refused as a conflict shows as a difference.
//!
//! A fixed seed and a bounded number of histories run in the README's test command;
//! `PROPTEST_CASES=200 cargo test -p docket-e2e --test e2e lifecycles` runs longer with a random
//! seed (`PROPTEST_RNG_SEED` repeats one). A failure prints the shortest history found.

use std::collections::{BTreeMap, BTreeSet};

use docket_e2e::{Backend, CaseClient, IntakeClient, TestApp, allegation, case_message, submit};
use docket_platform::auth::Role;
use docket_proto::docket::cases::v1 as pb;
use docket_proto::docket::intake::v1 as intake;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};
use tonic::Code;

/// How many histories run with the fixed seed, per backend and lifecycle.
const HISTORIES: u32 = 12;
/// The cases (or allegations) one history plays with.
const SUBJECTS: usize = 3;
/// The crime types histories qualify cases with and charge.
const CRIMES: [&str; 3] = ["icc.8.2.a.i", "icc.8.2.a.ii", "icc.8.2.b.i"];

#[test]
fn case_lifecycles_follow_their_model_on_sqlite() {
    check(Backend::Sqlite, Lifecycle::Cases);
}

#[test]
fn case_lifecycles_follow_their_model_on_postgres() {
    if Backend::postgres_configured() {
        check(Backend::Postgres, Lifecycle::Cases);
    }
}

#[test]
fn triage_follows_its_model_on_sqlite() {
    check(Backend::Sqlite, Lifecycle::Triage);
}

#[test]
fn triage_follows_its_model_on_postgres() {
    if Backend::postgres_configured() {
        check(Backend::Postgres, Lifecycle::Triage);
    }
}

#[derive(Debug, Clone, Copy)]
enum Lifecycle {
    Cases,
    Triage,
}

fn config() -> Config {
    let mut config = Config {
        failure_persistence: None,
        // Each shrinking step replays a history over gRPC.
        max_shrink_iters: 300,
        ..Config::default()
    };
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = HISTORIES;
        config.rng_seed = RngSeed::Fixed(0x0d0c_6e7a_0000_0020);
    }
    config
}

/// Runs the histories of `lifecycle` against one set of services on `backend`.
fn check(backend: Backend, lifecycle: Lifecycle) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let Some(app) = runtime.block_on(TestApp::spawn(backend)) else {
        return;
    };
    let mut runner = TestRunner::new(config());
    let result = match lifecycle {
        Lifecycle::Cases => {
            let prosecutor = runtime.block_on(app.cases_as(Role::Prosecutor));
            runner
                .run(&case_history(), |history| {
                    runtime.block_on(play_cases(prosecutor.clone(), history))
                })
                .map_err(|failure| failure.to_string())
        }
        Lifecycle::Triage => {
            let supervisor = runtime.block_on(app.intake_as(Role::Supervisor));
            runner
                .run(&triage_history(), |history| {
                    runtime.block_on(play_triage(supervisor.clone(), history))
                })
                .map_err(|failure| failure.to_string())
        }
    };
    runtime.block_on(app.stop());
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

/// What a call came to: taken (with the id of what it made, if anything) or refused.
type Outcome = Result<Option<String>, Code>;

/// Which etag a call sends: none, the subject's as the round began, or one from before.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Etag {
    None,
    Current,
    Stale,
}

fn etag() -> impl Strategy<Value = Etag> {
    prop_oneof![1 => Just(Etag::None), 4 => Just(Etag::Current), 1 => Just(Etag::Stale)]
}

/// The versions of one subject the test holds an etag of, as the model numbers them.
#[derive(Debug, Clone, Default)]
struct Etags {
    known: Vec<(u32, String)>,
}

impl Etags {
    /// The etag a call with `etag` sends, and the model version it names.
    fn pick(&self, etag: Etag) -> Option<(u32, String)> {
        match etag {
            Etag::None => None,
            Etag::Current => self.known.last().cloned(),
            Etag::Stale => self
                .known
                .iter()
                .rev()
                .nth(1)
                .or(self.known.last())
                .cloned(),
        }
    }

    fn saw(&mut self, version: u32, etag: String) {
        if self.known.last().is_none_or(|(_, last)| *last != etag) {
            self.known.push((version, etag));
        }
    }
}

/// Finds an order of `calls` in which `step` (the model) gives the outcomes observed and ends
/// in `observed`; that state, or the failure with everything needed to read it.
fn linearize<S, C>(
    before: &S,
    calls: &[C],
    outcomes: &[Outcome],
    observed: &S,
    step: impl Fn(&mut S, &C, &Outcome) -> Outcome,
) -> Result<S, TestCaseError>
where
    S: Clone + PartialEq + std::fmt::Debug,
    C: std::fmt::Debug,
{
    let mut orders = Vec::new();
    permutations(calls.len(), &mut Vec::new(), &mut orders);
    let mut tried = Vec::new();
    for order in orders {
        let mut state = before.clone();
        let expected: Vec<Outcome> = order
            .iter()
            .map(|&i| step(&mut state, &calls[i], &outcomes[i]))
            .collect();
        let answered: Vec<Outcome> = order.iter().map(|&i| outcomes[i].clone()).collect();
        let same_answers = expected
            .iter()
            .zip(&answered)
            .all(|(e, a)| e.is_ok() == a.is_ok() && e.as_ref().err() == a.as_ref().err());
        if same_answers && state == *observed {
            return Ok(state);
        }
        tried.push(format!(
            "in the order {order:?} the model answers {expected:?} and ends in {state:?}"
        ));
    }
    Err(TestCaseError::fail(format!(
        "no order of the round's calls explains what the service did\n\
         before: {before:?}\ncalls: {calls:?}\nanswers: {outcomes:?}\nafter: {observed:?}\n{}",
        tried.join("\n")
    )))
}

fn permutations(n: usize, prefix: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
    if prefix.len() == n {
        out.push(prefix.clone());
        return;
    }
    for i in 0..n {
        if !prefix.contains(&i) {
            prefix.push(i);
            permutations(n, prefix, out);
            prefix.pop();
        }
    }
}

fn refused(status: &tonic::Status) -> Outcome {
    Err(status.code())
}

// ---- Cases ------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    Open,
    UnderInvestigation,
    ChargesFiled,
    ReferredToCourt,
    Closed,
    /// Closed as merged into this case.
    Merged(usize),
}

#[derive(Debug, Clone)]
enum CaseCall {
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

fn case_call() -> impl Strategy<Value = CaseCall> {
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

fn case_history() -> impl Strategy<Value = Vec<Vec<CaseCall>>> {
    proptest::collection::vec(proptest::collection::vec(case_call(), 1..=3), 1..=14)
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct ChargeModel {
    crime: usize,
    status: pb::ChargeStatus,
}

/// A case as the model holds it, and as it is read back.
#[derive(Debug, Clone, PartialEq, Eq)]
struct CaseModel {
    status: pb::CaseStatus,
    reason: pb::CloseReason,
    merged_into: Option<usize>,
    crimes: BTreeSet<usize>,
    /// By charge id.
    charges: BTreeMap<String, ChargeModel>,
    /// Counts the changes made; compared with the service's as "changed in the round or not".
    version: u32,
}

fn next_statuses(from: pb::CaseStatus) -> &'static [pb::CaseStatus] {
    use pb::CaseStatus::*;
    match from {
        Open => &[UnderInvestigation, Closed],
        UnderInvestigation => &[ChargesFiled, Closed],
        ChargesFiled => &[ReferredToCourt, Closed],
        ReferredToCourt => &[Closed],
        Closed | Unspecified => &[],
    }
}

fn next_charge_statuses(from: pb::ChargeStatus) -> &'static [pb::ChargeStatus] {
    use pb::ChargeStatus::*;
    match from {
        Filed => &[WarrantIssued, Confirmed, Withdrawn],
        WarrantIssued => &[Confirmed, Withdrawn],
        Confirmed => &[Convicted, Acquitted, Withdrawn],
        Withdrawn | Convicted | Acquitted | Unspecified => &[],
    }
}

fn live(charge: &ChargeModel) -> bool {
    !matches!(
        charge.status,
        pb::ChargeStatus::Withdrawn | pb::ChargeStatus::Acquitted
    )
}

/// The charge ids of each case as the round began, in id order: what `CaseCall::Charge` counts.
type ChargeIds = Vec<Vec<String>>;

/// A call with an etag naming another version than the case's is ABORTED, before anything else.
fn stale(case: &CaseModel, sent: Option<u32>) -> bool {
    sent.is_some_and(|version| version != case.version)
}

/// The model's answer to `call` (sent with the etag of version `sent`) on `cases`, applying it.
fn case_step(
    cases: &mut [CaseModel],
    call: &CaseCall,
    sent: Option<u32>,
    charge_ids: &ChargeIds,
    answered: &Outcome,
) -> Outcome {
    let refuse = |code| Err(code);
    match call {
        // Moves and qualifications require an etag (the proto says so).
        CaseCall::Move { etag, .. } | CaseCall::Qualify { etag, .. } if *etag == Etag::None => {
            refuse(Code::InvalidArgument)
        }
        CaseCall::Move { case, to, .. } => {
            if stale(&cases[*case], sent) {
                return refuse(Code::Aborted);
            }
            let (status, reason, merged_into) = match *to {
                Target::Open => (pb::CaseStatus::Open, pb::CloseReason::Unspecified, None),
                Target::UnderInvestigation => (
                    pb::CaseStatus::UnderInvestigation,
                    pb::CloseReason::Unspecified,
                    None,
                ),
                Target::ChargesFiled => (
                    pb::CaseStatus::ChargesFiled,
                    pb::CloseReason::Unspecified,
                    None,
                ),
                Target::ReferredToCourt => (
                    pb::CaseStatus::ReferredToCourt,
                    pb::CloseReason::Unspecified,
                    None,
                ),
                Target::Closed => (
                    pb::CaseStatus::Closed,
                    pb::CloseReason::InsufficientEvidence,
                    None,
                ),
                Target::Merged(into) => {
                    (pb::CaseStatus::Closed, pb::CloseReason::Merged, Some(into))
                }
            };
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
            if stale(c, sent) {
                return refuse(Code::Aborted);
            }
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
            if stale(c, sent) {
                return refuse(Code::Aborted);
            }
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
            if stale(c, sent) {
                return refuse(Code::Aborted);
            }
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
fn case_of(call: &CaseCall) -> usize {
    match call {
        CaseCall::Move { case, .. }
        | CaseCall::Qualify { case, .. }
        | CaseCall::File { case, .. }
        | CaseCall::Charge { case, .. } => *case,
    }
}

fn etag_of(call: &CaseCall) -> Etag {
    match call {
        CaseCall::Move { etag, .. }
        | CaseCall::Qualify { etag, .. }
        | CaseCall::File { etag, .. }
        | CaseCall::Charge { etag, .. } => *etag,
    }
}

/// Opens the cases of one history, each with a suspect and a witness.
async fn open_cases(prosecutor: &mut CaseClient) -> Vec<(pb::Case, String, String)> {
    let mut opened = Vec::new();
    for n in 0..SUBJECTS {
        let case = prosecutor
            .open_case(pb::OpenCaseRequest {
                r#case: Some(case_message(&format!("Lifecycle case {n}"), "AM")),
            })
            .await
            .expect("a case opened")
            .into_inner()
            .r#case
            .expect("a case");
        let mut people = Vec::new();
        for role in [pb::PersonRole::Suspect, pb::PersonRole::Witness] {
            let added = prosecutor
                .add_person(pb::AddPersonRequest {
                    case_id: case.id.clone(),
                    person: Some(pb::Person {
                        role: role.into(),
                        display_name: format!("Person {n} {}", role.as_str_name()),
                        mode_of_liability: if role == pb::PersonRole::Suspect {
                            pb::ModeOfLiability::Ordering.into()
                        } else {
                            pb::ModeOfLiability::Unspecified.into()
                        },
                        ..Default::default()
                    }),
                    ..Default::default()
                })
                .await
                .expect("a person added")
                .into_inner();
            people.push(added.person.expect("a person").id);
        }
        let [suspect, witness] = <[String; 2]>::try_from(people).expect("two persons");
        opened.push((case, suspect, witness));
    }
    opened
}

/// The cases as the service holds them now, in the model's terms, with their etags.
async fn read_cases(
    prosecutor: &mut CaseClient,
    ids: &[String],
    model: &[CaseModel],
) -> (Vec<CaseModel>, Vec<String>) {
    let mut cases = Vec::new();
    let mut etags = Vec::new();
    for (n, id) in ids.iter().enumerate() {
        let case = prosecutor
            .get_case(pb::GetCaseRequest {
                case_id: id.clone(),
            })
            .await
            .expect("the case is read")
            .into_inner()
            .r#case
            .expect("a case");
        let charges = prosecutor
            .list_charges(pb::ListChargesRequest {
                case_id: id.clone(),
                page_size: 100,
                ..Default::default()
            })
            .await
            .expect("its charges are read")
            .into_inner()
            .charges;
        let crime = |code: &str| {
            CRIMES
                .iter()
                .position(|c| *c == code)
                .expect("a crime type of the test")
        };
        cases.push(CaseModel {
            status: case.status(),
            reason: case.close_reason(),
            merged_into: (!case.merged_into_case_id.is_empty()).then(|| {
                ids.iter()
                    .position(|i| *i == case.merged_into_case_id)
                    .expect("merged into a case of the history")
            }),
            crimes: case.crime_type_codes.iter().map(|c| crime(c)).collect(),
            charges: charges
                .iter()
                .map(|c| {
                    (
                        c.id.clone(),
                        ChargeModel {
                            crime: crime(&c.crime_type_code),
                            status: c.status(),
                        },
                    )
                })
                .collect(),
            // Filled in by the caller from whether the etag moved.
            version: model[n].version,
        });
        etags.push(case.etag);
    }
    (cases, etags)
}

async fn play_cases(
    prosecutor: CaseClient,
    history: Vec<Vec<CaseCall>>,
) -> Result<(), TestCaseError> {
    let mut client = prosecutor.clone();
    let opened = open_cases(&mut client).await;
    let ids: Vec<String> = opened.iter().map(|(c, _, _)| c.id.clone()).collect();
    let mut model: Vec<CaseModel> = vec![
        CaseModel {
            status: pb::CaseStatus::Open,
            reason: pb::CloseReason::Unspecified,
            merged_into: None,
            crimes: BTreeSet::new(),
            charges: BTreeMap::new(),
            version: 0,
        };
        SUBJECTS
    ];
    let (_, first) = read_cases(&mut client, &ids, &model).await;
    let mut etags: Vec<Etags> = first
        .into_iter()
        .map(|etag| {
            let mut known = Etags::default();
            known.saw(0, etag);
            known
        })
        .collect();

    for round in history {
        let charge_ids: ChargeIds = model
            .iter()
            .map(|c| c.charges.keys().cloned().collect())
            .collect();
        // A charge call on a case without charges has nothing to name: it is left out.
        let calls: Vec<CaseCall> = round
            .into_iter()
            .filter(|call| match call {
                CaseCall::Charge { case, .. } => !charge_ids[*case].is_empty(),
                CaseCall::Move { .. } | CaseCall::Qualify { .. } | CaseCall::File { .. } => true,
            })
            .collect();
        let sent: Vec<Option<(u32, String)>> = calls
            .iter()
            .map(|call| etags[case_of(call)].pick(etag_of(call)))
            .collect();
        let outcomes = futures_join(calls.iter().zip(&sent).map(|(call, sent)| {
            send_case_call(
                prosecutor.clone(),
                call.clone(),
                sent.as_ref().map(|(_, e)| e.clone()),
                &ids,
                &opened,
                &charge_ids,
            )
        }))
        .await;

        let (mut observed, now) = read_cases(&mut client, &ids, &model).await;
        for n in 0..SUBJECTS {
            observed[n].version = model[n].version + taken(&calls, &outcomes, n, case_of);
            prop_assert_eq!(
                observed[n].version != model[n].version,
                etags[n].known.last().map(|(_, e)| e) != Some(&now[n]),
                "case {}'s etag moved otherwise than its changes",
                n
            );
        }
        let indexed: Vec<(CaseCall, Option<u32>)> = calls
            .into_iter()
            .zip(sent.iter().map(|s| s.as_ref().map(|(v, _)| *v)))
            .collect();
        model = linearize(
            &model,
            &indexed,
            &outcomes,
            &observed,
            |state, (call, v), answered| case_step(state, call, *v, &charge_ids, answered),
        )?;
        for (n, etag) in now.into_iter().enumerate() {
            etags[n].saw(model[n].version, etag);
        }
        no_merge_cycle(&model)?;
        for case in &model {
            for charge in case.charges.values().filter(|c| live(c)) {
                prop_assert!(
                    case.crimes.contains(&charge.crime),
                    "a live charge on a crime type the case is not qualified with: {case:?}"
                );
            }
        }
    }
    Ok(())
}

/// How many of `calls` about subject `n` were taken: each is one change, one new version.
fn taken<C>(calls: &[C], outcomes: &[Outcome], n: usize, subject: fn(&C) -> usize) -> u32 {
    calls
        .iter()
        .zip(outcomes)
        .filter(|(call, outcome)| subject(call) == n && outcome.is_ok())
        .count() as u32
}

fn no_merge_cycle(cases: &[CaseModel]) -> Result<(), TestCaseError> {
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

async fn futures_join<F: std::future::Future<Output = Outcome> + Send + 'static>(
    calls: impl Iterator<Item = F>,
) -> Vec<Outcome> {
    let tasks: Vec<_> = calls.map(tokio::spawn).collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.expect("a call's task"));
    }
    outcomes
}

fn send_case_call(
    mut prosecutor: CaseClient,
    call: CaseCall,
    etag: Option<String>,
    ids: &[String],
    opened: &[(pb::Case, String, String)],
    charge_ids: &ChargeIds,
) -> impl std::future::Future<Output = Outcome> + Send + 'static {
    let case_id = ids[case_of(&call)].clone();
    let etag = etag.unwrap_or_default();
    let ids = ids.to_vec();
    let (suspect, witness) = {
        let (_, s, w) = &opened[case_of(&call)];
        (s.clone(), w.clone())
    };
    let charge_ids = charge_ids.clone();
    async move {
        match call {
            CaseCall::Move { to, .. } => {
                let (target, reason, into) = match to {
                    Target::Open => (pb::CaseStatus::Open, pb::CloseReason::Unspecified, ""),
                    Target::UnderInvestigation => (
                        pb::CaseStatus::UnderInvestigation,
                        pb::CloseReason::Unspecified,
                        "",
                    ),
                    Target::ChargesFiled => (
                        pb::CaseStatus::ChargesFiled,
                        pb::CloseReason::Unspecified,
                        "",
                    ),
                    Target::ReferredToCourt => (
                        pb::CaseStatus::ReferredToCourt,
                        pb::CloseReason::Unspecified,
                        "",
                    ),
                    Target::Closed => (
                        pb::CaseStatus::Closed,
                        pb::CloseReason::InsufficientEvidence,
                        "",
                    ),
                    Target::Merged(into) => (
                        pb::CaseStatus::Closed,
                        pb::CloseReason::Merged,
                        ids[into].as_str(),
                    ),
                };
                prosecutor
                    .transition_case(pb::TransitionCaseRequest {
                        case_id,
                        etag,
                        target_status: target.into(),
                        reason: reason.into(),
                        note: String::new(),
                        merged_into_case_id: into.to_owned(),
                    })
                    .await
                    .map_or_else(|s| refused(&s), |_| Ok(None))
            }
            CaseCall::Qualify { add, remove, .. } => {
                let codes = |set: &BTreeSet<usize>| {
                    set.iter()
                        .map(|&i| CRIMES[i].to_owned())
                        .collect::<Vec<_>>()
                };
                prosecutor
                    .qualify_case(pb::QualifyCaseRequest {
                        case_id,
                        etag,
                        add_crime_type_codes: codes(&add),
                        remove_crime_type_codes: codes(&remove),
                    })
                    .await
                    .map_or_else(|s| refused(&s), |_| Ok(None))
            }
            CaseCall::File {
                suspect: s, crime, ..
            } => prosecutor
                .file_charge(pb::FileChargeRequest {
                    case_id,
                    etag,
                    person_id: if s { suspect } else { witness },
                    crime_type_code: CRIMES[crime].to_owned(),
                    in_absentia: false,
                    filed_date: "2021-03-01".into(),
                })
                .await
                .map_or_else(
                    |s| refused(&s),
                    |answer| Ok(answer.into_inner().charge.map(|c| c.id)),
                ),
            CaseCall::Charge {
                case, charge, to, ..
            } => {
                let of_case = &charge_ids[case];
                prosecutor
                    .update_charge_status(pb::UpdateChargeStatusRequest {
                        case_id,
                        etag,
                        charge_id: of_case[charge % of_case.len()].clone(),
                        status: to.into(),
                    })
                    .await
                    .map_or_else(|s| refused(&s), |_| Ok(None))
            }
        }
    }
}

// ---- Triage -----------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum TriageCall {
    StartReview(usize),
    Accept(usize),
    Reject(usize),
    MarkDuplicate { allegation: usize, of: usize },
    Reopen { allegation: usize, etag: Etag },
}

fn triage_call() -> impl Strategy<Value = TriageCall> {
    let a = 0..SUBJECTS;
    prop_oneof![
        2 => a.clone().prop_map(TriageCall::StartReview),
        2 => a.clone().prop_map(TriageCall::Accept),
        2 => a.clone().prop_map(TriageCall::Reject),
        2 => (a.clone(), a.clone())
            .prop_filter("not a duplicate of itself", |(x, y)| x != y)
            .prop_map(|(allegation, of)| TriageCall::MarkDuplicate { allegation, of }),
        2 => (a, etag()).prop_map(|(allegation, etag)| TriageCall::Reopen { allegation, etag }),
    ]
}

fn triage_history() -> impl Strategy<Value = Vec<Vec<TriageCall>>> {
    proptest::collection::vec(proptest::collection::vec(triage_call(), 1..=3), 1..=12)
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct AllegationModel {
    status: intake::AllegationStatus,
    duplicate_of: Option<usize>,
    version: u32,
}

fn triage_step(
    allegations: &mut [AllegationModel],
    call: &TriageCall,
    sent: Option<u32>,
) -> Outcome {
    use intake::AllegationStatus::*;
    let (a, allowed, to): (usize, &[intake::AllegationStatus], _) = match *call {
        TriageCall::StartReview(a) => (a, &[Received], UnderReview),
        TriageCall::Accept(a) => (a, &[Received, UnderReview], Accepted),
        TriageCall::Reject(a) => (a, &[Received, UnderReview], Rejected),
        TriageCall::MarkDuplicate { allegation, .. } => {
            (allegation, &[Received, UnderReview], Duplicate)
        }
        TriageCall::Reopen { allegation, .. } => (allegation, &[Rejected], UnderReview),
    };
    // The status is checked first, then the etag (of a reopening), then the original.
    if !allowed.contains(&allegations[a].status) {
        return Err(Code::FailedPrecondition);
    }
    if sent.is_some_and(|v| v != allegations[a].version) {
        return Err(Code::Aborted);
    }
    if let TriageCall::MarkDuplicate { of, .. } = *call {
        let original = &allegations[of];
        if original.duplicate_of.is_some() || original.status != Accepted {
            return Err(Code::FailedPrecondition);
        }
        allegations[a].duplicate_of = Some(of);
    }
    allegations[a].status = to;
    allegations[a].version += 1;
    Ok(None)
}

fn allegation_of(call: &TriageCall) -> usize {
    match *call {
        TriageCall::StartReview(a) | TriageCall::Accept(a) | TriageCall::Reject(a) => a,
        TriageCall::MarkDuplicate { allegation, .. } | TriageCall::Reopen { allegation, .. } => {
            allegation
        }
    }
}

async fn read_allegations(
    supervisor: &mut IntakeClient,
    ids: &[String],
    model: &[AllegationModel],
) -> (Vec<AllegationModel>, Vec<String>) {
    let mut read = Vec::new();
    let mut etags = Vec::new();
    for (n, id) in ids.iter().enumerate() {
        let a = supervisor
            .get_allegation(intake::GetAllegationRequest { id: id.clone() })
            .await
            .expect("the allegation is read")
            .into_inner()
            .allegation
            .expect("an allegation");
        read.push(AllegationModel {
            status: a.status(),
            duplicate_of: (!a.duplicate_of_id.is_empty()).then(|| {
                ids.iter()
                    .position(|i| *i == a.duplicate_of_id)
                    .expect("a duplicate of an allegation of the history")
            }),
            version: model[n].version,
        });
        etags.push(a.etag);
    }
    (read, etags)
}

async fn play_triage(
    supervisor: IntakeClient,
    history: Vec<Vec<TriageCall>>,
) -> Result<(), TestCaseError> {
    let mut client = supervisor.clone();
    let mut ids = Vec::new();
    for _ in 0..SUBJECTS {
        ids.push(submit(&mut client, allegation()).await);
    }
    let mut model = vec![
        AllegationModel {
            status: intake::AllegationStatus::Received,
            duplicate_of: None,
            version: 0,
        };
        SUBJECTS
    ];
    let (_, first) = read_allegations(&mut client, &ids, &model).await;
    let mut etags: Vec<Etags> = first
        .into_iter()
        .map(|etag| {
            let mut known = Etags::default();
            known.saw(0, etag);
            known
        })
        .collect();
    for calls in history {
        let sent: Vec<Option<(u32, String)>> = calls
            .iter()
            .map(|call| match call {
                TriageCall::Reopen { allegation, etag } => etags[*allegation].pick(*etag),
                TriageCall::StartReview(_)
                | TriageCall::Accept(_)
                | TriageCall::Reject(_)
                | TriageCall::MarkDuplicate { .. } => None,
            })
            .collect();
        let outcomes = futures_join(calls.iter().zip(&sent).map(|(call, sent)| {
            let mut supervisor = supervisor.clone();
            let call = call.clone();
            let etag = sent.as_ref().map(|(_, e)| e.clone()).unwrap_or_default();
            let id = |n: usize| ids[n].clone();
            let (a, of) = (
                id(allegation_of(&call)),
                match call {
                    TriageCall::MarkDuplicate { of, .. } => id(of),
                    TriageCall::StartReview(_)
                    | TriageCall::Accept(_)
                    | TriageCall::Reject(_)
                    | TriageCall::Reopen { .. } => String::new(),
                },
            );
            async move {
                let answer = match call {
                    TriageCall::StartReview(_) => supervisor
                        .start_review(intake::StartReviewRequest { id: a })
                        .await
                        .map(|_| ()),
                    TriageCall::Accept(_) => supervisor
                        .accept_allegation(intake::AcceptAllegationRequest {
                            id: a,
                            ..Default::default()
                        })
                        .await
                        .map(|_| ()),
                    TriageCall::Reject(_) => supervisor
                        .reject_allegation(intake::RejectAllegationRequest {
                            id: a,
                            reason: "Not enough to go on.".into(),
                            message_for_source: String::new(),
                        })
                        .await
                        .map(|_| ()),
                    TriageCall::MarkDuplicate { .. } => supervisor
                        .mark_duplicate(intake::MarkDuplicateRequest {
                            id: a,
                            duplicate_of_id: of,
                            message_for_source: String::new(),
                        })
                        .await
                        .map(|_| ()),
                    TriageCall::Reopen { .. } => supervisor
                        .reopen_allegation(intake::ReopenAllegationRequest {
                            id: a,
                            etag,
                            reason: "The source sent more.".into(),
                            message_for_source: String::new(),
                        })
                        .await
                        .map(|_| ()),
                };
                answer.map_or_else(|s| refused(&s), |()| Ok(None))
            }
        }))
        .await;
        let (mut observed, now) = read_allegations(&mut client, &ids, &model).await;
        for n in 0..SUBJECTS {
            observed[n].version = model[n].version + taken(&calls, &outcomes, n, allegation_of);
            prop_assert_eq!(
                observed[n].version != model[n].version,
                etags[n].known.last().map(|(_, e)| e) != Some(&now[n]),
                "allegation {}'s etag moved otherwise than its changes",
                n
            );
        }
        let indexed: Vec<(TriageCall, Option<u32>)> = calls
            .into_iter()
            .zip(sent.iter().map(|s| s.as_ref().map(|(v, _)| *v)))
            .collect();
        model = linearize(
            &model,
            &indexed,
            &outcomes,
            &observed,
            |state, (call, v), _| triage_step(state, call, *v),
        )?;
        for (n, etag) in now.into_iter().enumerate() {
            etags[n].saw(model[n].version, etag);
        }
    }
    Ok(())
}
