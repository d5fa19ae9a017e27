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

//!
//! One loop, [`play`], plays every lifecycle; each one ([`case_service::Cases`], [`triage::Triage`])
//! says how its subjects are made, read and called, and what its model answers.

mod case_service;
mod cases;
mod triage;

use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestCaseError, TestRunner};
use tonic::Code;

use docket_e2e::{Backend, TestApp};

/// How many histories run with the fixed seed, per backend and lifecycle.
const HISTORIES: u32 = 12;
/// The cases (or allegations) one history plays with.
const SUBJECTS: usize = 3;

#[test]
fn case_lifecycles_follow_their_model_on_sqlite() {
    check::<case_service::Cases>(Backend::Sqlite);
}

#[test]
fn case_lifecycles_follow_their_model_on_postgres() {
    if Backend::postgres_configured() {
        check::<case_service::Cases>(Backend::Postgres);
    }
}

#[test]
fn triage_follows_its_model_on_sqlite() {
    check::<triage::Triage>(Backend::Sqlite);
}

#[test]
fn triage_follows_its_model_on_postgres() {
    if Backend::postgres_configured() {
        check::<triage::Triage>(Backend::Postgres);
    }
}

/// One lifecycle, played against its model by [`play`].
trait Lifecycle: Sized {
    /// What the subjects are called in a failure's message ("case", "allegation").
    const SUBJECT: &'static str;
    /// The client the calls go through.
    type Client: Clone + Send + 'static;
    /// One call of a round.
    type Call: Clone + std::fmt::Debug + Send + 'static;
    /// One subject as the model holds it and as it is read back.
    type Model: Clone + PartialEq + std::fmt::Debug;
    /// What a round's calls name as the round began (a case's charges).
    type Round;

    async fn client(app: &TestApp) -> Self::Client;
    fn history() -> impl Strategy<Value = Vec<Vec<Self::Call>>>;
    /// Makes the [`SUBJECTS`] of one history on the service, and their models.
    async fn begin(client: Self::Client) -> (Self, Vec<Self::Model>);
    /// The subjects as the service holds them now, in the model's terms (version 0), with
    /// their etags.
    async fn read(&mut self) -> (Vec<Self::Model>, Vec<String>);
    fn round(&self, model: &[Self::Model]) -> Self::Round;
    /// Whether `call` has anything to name this round.
    fn playable(call: &Self::Call, round: &Self::Round) -> bool;
    /// The subject `call` is about.
    fn subject(call: &Self::Call) -> usize;
    /// The etag `call` sends.
    fn etag(call: &Self::Call) -> Etag;
    fn send(
        &self,
        call: Self::Call,
        etag: Option<String>,
        round: &Self::Round,
    ) -> impl std::future::Future<Output = Outcome> + Send + 'static;
    /// The model's answer to `call` (sent with the etag of version `sent`), applying it.
    fn step(
        model: &mut [Self::Model],
        call: &Self::Call,
        sent: Option<u32>,
        round: &Self::Round,
        answered: &Outcome,
    ) -> Outcome;
    /// How many changes the model counts on a subject.
    fn version(model: &Self::Model) -> u32;
    fn set_version(model: &mut Self::Model, version: u32);
    /// What must hold after every round, whatever the calls.
    fn invariants(model: &[Self::Model]) -> Result<(), TestCaseError>;
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

/// Runs the histories of lifecycle `L` against one set of services on `backend`.
fn check<L: Lifecycle>(backend: Backend) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a runtime");
    let Some(app) = runtime.block_on(TestApp::spawn(backend)) else {
        return;
    };
    let client = runtime.block_on(L::client(&app));
    let result = TestRunner::new(config())
        .run(&L::history(), |history| {
            runtime.block_on(play::<L>(client.clone(), history))
        })
        .map_err(|failure| failure.to_string());
    runtime.block_on(app.stop());
    if let Err(failure) = result {
        panic!("{failure}");
    }
}

/// Plays one history: each round's calls sent at once, then the subjects read back and the
/// round linearized against the model.
async fn play<L: Lifecycle>(
    client: L::Client,
    history: Vec<Vec<L::Call>>,
) -> Result<(), TestCaseError> {
    let (mut lifecycle, mut model) = L::begin(client).await;
    let (_, first) = lifecycle.read().await;
    let mut etags: Vec<Etags> = first
        .into_iter()
        .map(|etag| {
            let mut known = Etags::default();
            known.saw(0, etag);
            known
        })
        .collect();
    for round in history {
        let context = lifecycle.round(&model);
        let calls: Vec<L::Call> = round
            .into_iter()
            .filter(|call| L::playable(call, &context))
            .collect();
        let sent: Vec<Option<(u32, String)>> = calls
            .iter()
            .map(|call| etags[L::subject(call)].pick(L::etag(call)))
            .collect();
        let outcomes = futures_join(calls.iter().zip(&sent).map(|(call, sent)| {
            lifecycle.send(
                call.clone(),
                sent.as_ref().map(|(_, e)| e.clone()),
                &context,
            )
        }))
        .await;

        let (mut observed, now) = lifecycle.read().await;
        for n in 0..SUBJECTS {
            let before = L::version(&model[n]);
            L::set_version(&mut observed[n], before + taken::<L>(&calls, &outcomes, n));
            prop_assert_eq!(
                L::version(&observed[n]) != before,
                etags[n].known.last().map(|(_, e)| e) != Some(&now[n]),
                "{} {}'s etag moved otherwise than its changes",
                L::SUBJECT,
                n
            );
        }
        let indexed: Vec<(L::Call, Option<u32>)> = calls
            .into_iter()
            .zip(sent.iter().map(|s| s.as_ref().map(|(v, _)| *v)))
            .collect();
        model = linearize(
            &model,
            &indexed,
            &outcomes,
            &observed,
            |state, (call, v), answered| L::step(state, call, *v, &context, answered),
        )?;
        for (n, etag) in now.into_iter().enumerate() {
            etags[n].saw(L::version(&model[n]), etag);
        }
        L::invariants(&model)?;
    }
    Ok(())
}

/// How many of `calls` about subject `n` were taken: each is one change, one new version.
fn taken<L: Lifecycle>(calls: &[L::Call], outcomes: &[Outcome], n: usize) -> u32 {
    calls
        .iter()
        .zip(outcomes)
        .filter(|(call, outcome)| L::subject(call) == n && outcome.is_ok())
        .count() as u32
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
