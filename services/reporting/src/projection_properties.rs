//! Projections equal a rebuild: a generated history of events (allegations recorded, their
//! status changed, corrected; cases changed again and again, ids repeating) is applied as the
//! projector applies it, in batches cut at generated points — each cut is where a projector
//! could stop and a new one resume after the cursor — and every statistic the rollups answer
//! must equal both the GROUP BY over the same database's fact tables and the figures of a
//! second database that applied the same events in one go.
//!
//! The number of cases is fixed with a fixed seed; `PROPTEST_CASES=500` runs more with a random
//! seed (`PROPTEST_RNG_SEED` repeats one). A failure prints the smallest history found.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: failing loudly is their job

use docket_platform::db::{begin_write, connect_and_migrate};
use docket_proto::docket::events::v1 as ev;
use docket_proto::docket::events::v1::event_payload::Kind;
use docket_proto::docket::reporting::v1 as pb;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestError, TestRunner};
use sea_orm::DatabaseConnection;

use crate::Migrator;
use crate::projector::apply_events;
use crate::rollup;
use crate::rollup_tests::{DIMENSIONS, Dice, allegation, case, recorded};
use crate::statistics::{self, Query};

fn config() -> Config {
    let mut config = Config {
        failure_persistence: None,
        max_shrink_iters: 20_000,
        ..Config::default()
    };
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = 12;
        config.rng_seed = RngSeed::Fixed(0x0d0c_6e7a_0000_0007);
    }
    config
}

/// One generated event: what kind, about which item, its contents rolled from a seed; and
/// whether a projector stops after it.
#[derive(Debug, Clone)]
struct Step {
    kind: u8,
    item: u64,
    seed: u64,
    restart_after: bool,
}

fn history() -> impl Strategy<Value = Vec<Step>> {
    proptest::collection::vec(
        (
            0..4u8,
            0..12u64,
            any::<u64>(),
            proptest::bool::weighted(0.3),
        )
            .prop_map(|(kind, item, seed, restart_after)| Step {
                kind,
                item,
                seed,
                restart_after,
            }),
        1..40,
    )
}

/// The events of `history` as a source writes them: an allegation is corrected only once it
/// was recorded (a correction of one not yet recorded is recorded instead).
fn events(history: &[Step]) -> Vec<ev::Event> {
    let mut recorded = std::collections::HashSet::new();
    history
        .iter()
        .map(|step| {
            let mut step = step.clone();
            if step.kind == 2 && !recorded.contains(&step.item) {
                step.kind = 0;
            }
            if step.kind == 0 {
                recorded.insert(step.item);
            }
            event(&step)
        })
        .collect()
}

fn event(step: &Step) -> ev::Event {
    let mut dice = Dice(step.seed);
    let n = step.item;
    let kind = match step.kind {
        0 => allegation(&mut dice, n),
        1 => Kind::AllegationStatusChanged(ev::AllegationStatusChanged {
            allegation_id: format!("a{n}"),
            status: dice
                .pick(&["ALLEGATION_STATUS_ACCEPTED", "ALLEGATION_STATUS_REJECTED"])
                .to_owned(),
            ..Default::default()
        }),
        2 => Kind::AllegationCorrected(ev::AllegationCorrected {
            allegation: Some(recorded(&mut dice, n)),
        }),
        _ => case(&mut dice, n),
    };
    ev::Event {
        payload: Some(ev::EventPayload { kind: Some(kind) }),
        ..Default::default()
    }
}

async fn database(dir: &std::path::Path, name: &str) -> DatabaseConnection {
    let url = format!("sqlite://{}?mode=rwc", dir.join(name).display());
    let settings = docket_platform::Settings::defaults().unwrap();
    connect_and_migrate::<Migrator>(&url, &settings.database)
        .await
        .unwrap()
}

async fn apply(db: &DatabaseConnection, events: &[ev::Event]) {
    if events.is_empty() {
        return;
    }
    let txn = begin_write(db).await.unwrap();
    apply_events(&txn, events).await.unwrap();
    txn.commit().await.unwrap();
}

/// Every statistic of up to two dimensions the rollups answer.
fn queries() -> Vec<Query> {
    let mut queries = Vec::new();
    for measure in [
        pb::Measure::Allegations,
        pb::Measure::Cases,
        pb::Measure::Victims,
        pb::Measure::Charges,
    ] {
        let applicable: Vec<pb::Dimension> = DIMENSIONS
            .into_iter()
            .filter(|d| statistics::applies(measure, *d))
            .collect();
        let mut groupings = vec![vec![]];
        for (i, a) in applicable.iter().enumerate() {
            groupings.push(vec![*a]);
            for b in &applicable[i + 1..] {
                groupings.push(vec![*a, *b]);
            }
        }
        queries.extend(groupings.into_iter().map(|group_by| Query {
            measure,
            group_by,
            filters: vec![],
            public: false,
            include_uncounted: false,
        }));
    }
    queries
}

async fn check(history: &[Step]) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().unwrap();
    let restarted = database(dir.path(), "restarted.db").await;
    let rebuilt = database(dir.path(), "rebuilt.db").await;
    let events = events(history);
    let mut batch = Vec::new();
    for (step, event) in history.iter().zip(&events) {
        batch.push(event.clone());
        if step.restart_after {
            apply(&restarted, &std::mem::take(&mut batch)).await;
        }
    }
    apply(&restarted, &batch).await;
    apply(&rebuilt, &events).await;
    for query in queries() {
        let rolled = rollup::read(&restarted, query.measure, &query.group_by)
            .await
            .unwrap();
        let counted = statistics::count(&restarted, &query).await.unwrap();
        let from_scratch = rollup::read(&rebuilt, query.measure, &query.group_by)
            .await
            .unwrap();
        prop_assert_eq!(
            &rolled,
            &counted,
            "{:?} by {:?}: rollup against its GROUP BY",
            query.measure,
            query.group_by
        );
        prop_assert_eq!(
            &rolled,
            &from_scratch,
            "{:?} by {:?}: with restarts against applied in one go",
            query.measure,
            query.group_by
        );
    }
    Ok(())
}

#[test]
fn figures_after_any_restarts_equal_a_rebuild_from_the_same_events() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut runner = TestRunner::new(config());
    let result = runner.run(&history(), |history| runtime.block_on(check(&history)));
    match result {
        Ok(()) => {}
        Err(TestError::Fail(why, history)) => {
            let events = events(&history);
            panic!("{why}\nminimal counter-example:\n{history:#?}\nas events:\n{events:#?}")
        }
        Err(error) => panic!("{error}"),
    }
}
