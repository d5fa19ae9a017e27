//! The audit chain catches every single change: generated histories of entries, appended through
//! `audit::append_many` into a real database, then changed in one way with plain SQL (as
//! someone with write access to the database would), and verified.
//!
//! What the design promises (see `audit` in `docket-platform`): an untouched chain verifies; an
//! altered, deleted, inserted, swapped or truncated entry is reported at its own sequence. A
//! forger who also recomputes the changed entry's hash (the hash has no key) moves the report to
//! the entry after it, whose link no longer holds — or, for the newest entry, to the head. What
//! it does not promise: a change that rewrites the head with it (the whole chain and head
//! rewritten) goes unnoticed; operators keep copies of the head hash for that. Truncation is
//! caught against the head row, the only record of how long the chain was.
//!
//! Runs on SQLite, and on PostgreSQL too when `DOCKET_TEST_DATABASE_URL` names a server. The
//! number of cases is fixed with a fixed seed; `PROPTEST_CASES=5000` runs more with a random
//! seed (`PROPTEST_RNG_SEED` repeats one).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests: failing loudly is their job

use std::num::NonZeroU64;

use chrono::{DateTime, Utc};
use docket_platform::audit::{AddAuditEntryCount, AuditRecord, CreateAuditLog, append_many};
use docket_platform::db::placeholder;
use docket_platform::settings::DatabaseSettings;
use proptest::prelude::*;
use proptest::test_runner::{Config, RngSeed, TestError, TestRunner};
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement, TransactionTrait, Value};
use sea_orm_migration::{MigrationTrait, MigratorTrait};
use sha2::{Digest, Sha256};

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// Cases run by `cargo test` (per database), with a fixed seed.
const CASES: u32 = 96;

#[derive(Debug)]
struct Migrator;

#[sea_orm_migration::async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(CreateAuditLog), Box::new(AddAuditEntryCount)]
    }
}

/// A bounded run with a fixed seed, unless `PROPTEST_CASES` asks for a longer one.
fn config() -> Config {
    let mut config = Config {
        failure_persistence: None,
        max_shrink_iters: 20_000,
        ..Config::default()
    };
    if std::env::var_os("PROPTEST_CASES").is_none() {
        config.cases = CASES;
        config.rng_seed = RngSeed::Fixed(0x0d0c_6e7a_0000_0002);
    }
    config
}

/// One column changed in place.
#[derive(Debug, Clone)]
enum Change {
    Text(&'static str, String),
    Count(i64),
    /// Microseconds added to `occurred_at` (never 0).
    Time(i64),
    Hash(&'static str, String),
    /// The entry renumbered past the end of the chain.
    Renumber(i64),
}

/// The one thing done to the chain.
#[derive(Debug, Clone)]
enum Tamper {
    Nothing,
    /// `at` changed; with `rehash` its hash recomputed to match (a forger who knows the format).
    Alter {
        at: i64,
        change: Change,
        rehash: bool,
    },
    Delete {
        at: i64,
    },
    /// A forged entry put in at `at`, the later ones moved up one, linked to the one before it
    /// and hashed like a real one; at the end of the chain it is not recorded in the head.
    Insert {
        at: i64,
        record: AuditRecord,
    },
    /// The contents of two entries exchanged, their sequence numbers kept.
    Swap {
        first: i64,
        second: i64,
    },
    /// Every entry after `keep` removed.
    Truncate {
        keep: i64,
    },
}

fn text() -> impl Strategy<Value = String> {
    // Any text but control characters: the chain stores what callers send, and PostgreSQL has
    // no NUL in text.
    prop_oneof!["[a-z]{0,6}", "\\PC{0,10}"]
}

fn record() -> impl Strategy<Value = AuditRecord> {
    (
        (text(), text(), text()),
        proptest::collection::vec("[a-z0-9-]{1,8}", 0..3),
        (text(), text(), text()),
        prop_oneof![Just(1u64), 0..5u64, any::<u64>()],
    )
        .prop_map(
            |((subject, role, method), target_ids, (outcome, request_id, action), count)| {
                AuditRecord {
                    subject,
                    role,
                    method,
                    target_ids,
                    outcome,
                    request_id,
                    action,
                    count,
                }
            },
        )
}

fn change(length: i64) -> impl Strategy<Value = Change> {
    let texts = prop_oneof![
        Just("subject"),
        Just("role"),
        Just("method"),
        Just("target_ids"),
        Just("outcome"),
        Just("request_id"),
        Just("action"),
    ];
    prop_oneof![
        (texts, text()).prop_map(|(column, value)| Change::Text(column, value)),
        any::<i64>().prop_map(Change::Count),
        prop_oneof![1..1_000_000_000_000i64, -1_000_000_000_000..0i64].prop_map(Change::Time),
        (
            prop_oneof![Just("previous_hash"), Just("entry_hash")],
            "[0-9a-f]{64}"
        )
            .prop_map(|(column, value)| Change::Hash(column, value)),
        (1..1_000i64).prop_map(move |past| Change::Renumber(length + past)),
    ]
}

fn tamper(length: i64) -> impl Strategy<Value = Tamper> {
    let mut options: Vec<(u32, BoxedStrategy<Tamper>)> = vec![
        (1, Just(Tamper::Nothing).boxed()),
        (
            4,
            (1..=length, change(length), any::<bool>())
                .prop_map(|(at, change, rehash)| Tamper::Alter { at, change, rehash })
                .boxed(),
        ),
        (2, (1..=length).prop_map(|at| Tamper::Delete { at }).boxed()),
        (
            2,
            (1..=length + 1, record())
                .prop_map(|(at, record)| Tamper::Insert { at, record })
                .boxed(),
        ),
        (
            1,
            (0..length)
                .prop_map(|keep| Tamper::Truncate { keep })
                .boxed(),
        ),
    ];
    if length >= 2 {
        options.push((
            2,
            (1..length, 1..=length)
                .prop_map(move |(first, offset)| Tamper::Swap {
                    first,
                    second: first + 1 + (offset - 1) % (length - first),
                })
                .boxed(),
        ));
    }
    proptest::strategy::Union::new_weighted(options)
}

/// A history appended in batches of the given sizes, and what is done to it.
fn scenario() -> impl Strategy<Value = (Vec<Vec<AuditRecord>>, Tamper)> {
    proptest::collection::vec(proptest::collection::vec(record(), 1..4), 1..8).prop_flat_map(
        |batches| {
            let length = batches.iter().map(Vec::len).sum::<usize>() as i64;
            (Just(batches), tamper(length))
        },
    )
}

/// The sequence at which verification must report the chain broken, `None` when intact.
fn expected(tamper: &Tamper, length: i64) -> Option<i64> {
    match tamper {
        Tamper::Nothing => None,
        Tamper::Alter {
            at,
            change: Change::Text(..) | Change::Count(_) | Change::Time(_),
            rehash: true,
        } => {
            // The entry is consistent in itself: the next one's link breaks, or for the newest
            // the head's hash no longer matches.
            Some((*at + 1).min(length))
        }
        Tamper::Alter { at, .. } | Tamper::Delete { at } => Some(*at),
        // The forged entry is consistent: the one it pushed up no longer follows it; one put
        // past the end is the first the head does not cover.
        Tamper::Insert { at, .. } => Some(*at + 1).filter(|_| *at <= length).or(Some(*at)),
        Tamper::Swap { first, .. } => Some(*first),
        Tamper::Truncate { keep } => Some(keep + 1),
    }
}

/// A database for the run, migrated; `None` for PostgreSQL when no server is named.
async fn database(postgres: bool, dir: &std::path::Path) -> Option<DatabaseConnection> {
    let settings = DatabaseSettings {
        connect_timeout_ms: NonZeroU64::new(10_000).unwrap(),
        acquire_timeout_ms: NonZeroU64::new(10_000).unwrap(),
    };
    let url = if postgres {
        let admin_url = std::env::var("DOCKET_TEST_DATABASE_URL")
            .ok()
            .filter(|u| !u.is_empty())?;
        let name = format!("docket_test_{}", uuid::Uuid::now_v7().simple());
        let admin = sea_orm::Database::connect(admin_url.as_str())
            .await
            .unwrap();
        admin
            .execute_unprepared(&format!("CREATE DATABASE {name}"))
            .await
            .unwrap();
        admin.close().await.unwrap();
        let mut url = url::Url::parse(&admin_url).unwrap();
        url.set_path(&name);
        url.to_string()
    } else {
        format!("sqlite://{}?mode=rwc", dir.join("audit.db").display())
    };
    Some(
        docket_platform::db::connect_and_migrate::<Migrator>(&url, &settings)
            .await
            .unwrap(),
    )
}

async fn drop_database(db: DatabaseConnection) {
    if db.get_database_backend() != DbBackend::Postgres {
        return;
    }
    let name: String = db
        .query_one_raw(Statement::from_string(
            DbBackend::Postgres,
            "SELECT current_database()",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index(0)
        .unwrap();
    db.close().await.unwrap();
    let admin_url = std::env::var("DOCKET_TEST_DATABASE_URL").unwrap();
    let admin = sea_orm::Database::connect(admin_url.as_str())
        .await
        .unwrap();
    admin
        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .await
        .unwrap();
}

async fn sql(db: &DatabaseConnection, text: &str, values: Vec<Value>) {
    let backend = db.get_database_backend();
    let mut n = 0;
    // `?` marks each parameter in `text`; PostgreSQL wants `$n`.
    let text: String = text
        .split('?')
        .enumerate()
        .map(|(i, part)| {
            if i == 0 {
                part.to_owned()
            } else {
                n += 1;
                format!("{}{part}", placeholder(backend, n))
            }
        })
        .collect();
    db.execute_raw(Statement::from_sql_and_values(backend, text, values))
        .await
        .unwrap();
}

/// One stored entry, every column.
#[derive(Debug, Clone)]
struct Row {
    sequence: i64,
    occurred_at: DateTime<Utc>,
    texts: [String; 7],
    count: i64,
    previous_hash: String,
    entry_hash: String,
}

const TEXT_COLUMNS: [&str; 7] = [
    "subject",
    "role",
    "method",
    "target_ids",
    "outcome",
    "request_id",
    "action",
];

async fn row(db: &DatabaseConnection, sequence: i64) -> Row {
    let backend = db.get_database_backend();
    let found = db
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            format!(
                "SELECT sequence, occurred_at, {}, count, previous_hash, entry_hash \
                 FROM audit_entries WHERE sequence = {}",
                TEXT_COLUMNS.join(", "),
                placeholder(backend, 1)
            ),
            [sequence.into()],
        ))
        .await
        .unwrap()
        .unwrap();
    let text = |i: usize| found.try_get_by_index::<String>(i).unwrap();
    Row {
        sequence: found.try_get_by_index(0).unwrap(),
        occurred_at: found.try_get_by_index(1).unwrap(),
        texts: [
            text(2),
            text(3),
            text(4),
            text(5),
            text(6),
            text(7),
            text(8),
        ],
        count: found.try_get_by_index(9).unwrap(),
        previous_hash: found.try_get_by_index(10).unwrap(),
        entry_hash: found.try_get_by_index(11).unwrap(),
    }
}

/// Writes every column of `row` but its sequence onto entry `at`.
async fn overwrite(db: &DatabaseConnection, at: i64, row: &Row) {
    let mut values: Vec<Value> = vec![row.occurred_at.into()];
    values.extend(row.texts.iter().map(|t| Value::from(t.clone())));
    values.extend([
        row.count.into(),
        row.previous_hash.clone().into(),
        row.entry_hash.clone().into(),
        at.into(),
    ]);
    let sets: Vec<String> = TEXT_COLUMNS.iter().map(|c| format!("{c} = ?")).collect();
    sql(
        db,
        &format!(
            "UPDATE audit_entries SET occurred_at = ?, {}, count = ?, previous_hash = ?, \
             entry_hash = ? WHERE sequence = ?",
            sets.join(", ")
        ),
        values,
    )
    .await;
}

async fn insert(db: &DatabaseConnection, row: &Row) {
    let mut values: Vec<Value> = vec![row.sequence.into(), row.occurred_at.into()];
    values.extend(row.texts.iter().map(|t| Value::from(t.clone())));
    values.extend([
        row.count.into(),
        row.previous_hash.clone().into(),
        row.entry_hash.clone().into(),
    ]);
    sql(
        db,
        &format!(
            "INSERT INTO audit_entries (sequence, occurred_at, {}, count, previous_hash, \
             entry_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            TEXT_COLUMNS.join(", ")
        ),
        values,
    )
    .await;
}

/// The entry hash as the audit module documents it: SHA-256 over each field prefixed with its
/// length, the count only when it is not 1.
fn forged_hash(row: &Row) -> String {
    let sequence = row.sequence.to_string();
    let micros = row.occurred_at.timestamp_micros().to_string();
    let count = (row.count != 1).then(|| row.count.to_string());
    let mut hasher = Sha256::new();
    let fields = [sequence.as_str(), micros.as_str()]
        .into_iter()
        .chain(row.texts.iter().map(String::as_str))
        .chain([row.previous_hash.as_str()])
        .chain(count.as_deref());
    for field in fields {
        hasher.update((field.len() as u64).to_be_bytes());
        hasher.update(field.as_bytes());
    }
    hex::encode(hasher.finalize())
}

async fn rehash(db: &DatabaseConnection, at: i64) {
    let mut changed = row(db, at).await;
    changed.entry_hash = forged_hash(&changed);
    overwrite(db, at, &changed).await;
}

async fn apply(db: &DatabaseConnection, tamper: &Tamper) {
    match tamper {
        Tamper::Nothing => {}
        Tamper::Alter { at, change, rehash } => {
            let mut changed = row(db, *at).await;
            match change {
                Change::Text(column, value) => {
                    let i = TEXT_COLUMNS.iter().position(|c| c == column).unwrap();
                    changed.texts[i] = if changed.texts[i] == *value {
                        format!("{value}x")
                    } else {
                        value.clone()
                    };
                }
                Change::Count(count) => {
                    changed.count = if changed.count == *count {
                        count.wrapping_add(1)
                    } else {
                        *count
                    };
                }
                Change::Time(micros) => {
                    changed.occurred_at += chrono::Duration::microseconds(*micros);
                }
                Change::Hash(column, value) => {
                    let hash = if *column == "entry_hash" {
                        &mut changed.entry_hash
                    } else {
                        &mut changed.previous_hash
                    };
                    *hash = if *hash == *value {
                        let flipped = if value.starts_with('0') { "1" } else { "0" };
                        format!("{flipped}{}", &value[1..])
                    } else {
                        value.clone()
                    };
                }
                Change::Renumber(to) => {
                    sql(
                        db,
                        "UPDATE audit_entries SET sequence = ? WHERE sequence = ?",
                        vec![(*to).into(), (*at).into()],
                    )
                    .await;
                    return;
                }
            }
            overwrite(db, *at, &changed).await;
            if *rehash && !matches!(change, Change::Hash(..)) {
                self::rehash(db, *at).await;
            }
        }
        Tamper::Delete { at } => {
            sql(
                db,
                "DELETE FROM audit_entries WHERE sequence = ?",
                vec![(*at).into()],
            )
            .await;
        }
        Tamper::Insert { at, record } => {
            // Two steps, so that no moved number meets one not yet moved.
            sql(
                db,
                "UPDATE audit_entries SET sequence = -sequence - 1 WHERE sequence >= ?",
                vec![(*at).into()],
            )
            .await;
            sql(
                db,
                "UPDATE audit_entries SET sequence = -sequence WHERE sequence < 0",
                vec![],
            )
            .await;
            let previous_hash = if *at == 1 {
                GENESIS.to_owned()
            } else {
                row(db, at - 1).await.entry_hash
            };
            let occurred_at = if *at == 1 {
                row(db, 2).await.occurred_at
            } else {
                row(db, at - 1).await.occurred_at
            };
            let mut forged = Row {
                sequence: *at,
                occurred_at,
                texts: [
                    record.subject.clone(),
                    record.role.clone(),
                    record.method.clone(),
                    if record.target_ids.is_empty() {
                        String::new()
                    } else {
                        format!(",{},", record.target_ids.join(","))
                    },
                    record.outcome.clone(),
                    record.request_id.clone(),
                    record.action.clone(),
                ],
                count: i64::try_from(record.count).unwrap_or(1),
                previous_hash,
                entry_hash: String::new(),
            };
            forged.entry_hash = forged_hash(&forged);
            insert(db, &forged).await;
        }
        Tamper::Swap { first, second } => {
            let a = row(db, *first).await;
            let b = row(db, *second).await;
            overwrite(db, *first, &b).await;
            overwrite(db, *second, &a).await;
        }
        Tamper::Truncate { keep } => {
            sql(
                db,
                "DELETE FROM audit_entries WHERE sequence > ?",
                vec![(*keep).into()],
            )
            .await;
        }
    }
}

async fn reset(db: &DatabaseConnection) {
    sql(db, "DELETE FROM audit_entries", vec![]).await;
    sql(
        db,
        "UPDATE audit_head SET last_sequence = 0, last_hash = ? WHERE id = 1",
        vec![GENESIS.into()],
    )
    .await;
}

async fn check(
    db: &DatabaseConnection,
    batches: &[Vec<AuditRecord>],
    tamper: &Tamper,
) -> Result<(), TestCaseError> {
    reset(db).await;
    for batch in batches {
        let transaction = db.begin().await.unwrap();
        append_many(&transaction, batch).await.unwrap();
        transaction.commit().await.unwrap();
    }
    let length = batches.iter().map(Vec::len).sum::<usize>() as i64;
    apply(db, tamper).await;
    let verification = docket_platform::audit::verify(db).await.unwrap();
    let found = verification.broken.as_ref().map(|(at, _)| *at);
    prop_assert_eq!(
        found,
        expected(tamper, length),
        "chain of {} entries: {:?}",
        length,
        verification.broken
    );
    if found.is_none() {
        prop_assert_eq!(verification.entries_checked, length);
    }
    Ok(())
}

fn run(postgres: bool) {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let Some(db) = runtime.block_on(database(postgres, dir.path())) else {
        eprintln!("DOCKET_TEST_DATABASE_URL is not set: PostgreSQL not tested");
        return;
    };
    let mut runner = TestRunner::new(config());
    let result = runner.run(&scenario(), |(batches, tamper)| {
        runtime.block_on(check(&db, &batches, &tamper))
    });
    runtime.block_on(drop_database(db));
    match result {
        Ok(()) => {}
        Err(TestError::Fail(why, (batches, tamper))) => panic!(
            "{why}\nminimal counter-example:\nhistory (batches) = {batches:#?}\ntamper = \
             {tamper:#?}"
        ),
        Err(error) => panic!("{error}"),
    }
}

mod properties {
    #[test]
    fn every_single_change_to_the_chain_is_reported_at_its_sequence_on_sqlite() {
        super::run(false);
    }

    #[test]
    fn every_single_change_to_the_chain_is_reported_at_its_sequence_on_postgres() {
        super::run(true);
    }
}

/// Counter-examples the properties found, each a fixed bug.
mod found {
    use super::*;

    fn one(record: AuditRecord) -> Vec<Vec<AuditRecord>> {
        vec![vec![record]]
    }

    fn entry(count: u64) -> AuditRecord {
        AuditRecord {
            subject: "officer".into(),
            role: "supervisor".into(),
            method: "/docket.intake.v1.IntakeService/AcceptAllegation".into(),
            target_ids: vec!["a1".into()],
            outcome: "OK".into(),
            request_id: "r1".into(),
            action: "accept".into(),
            count,
        }
    }

    fn outcome(batches: &[Vec<AuditRecord>], tamper: &Tamper) -> Result<(), TestCaseError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let db = runtime.block_on(database(false, dir.path())).unwrap();
        runtime.block_on(check(&db, batches, tamper))
    }

    /// A forged entry after the newest, its head left alone, was reported at the newest (an
    /// intact entry) as if entries had been removed from the end.
    #[test]
    fn an_entry_added_past_the_head_is_reported_at_its_own_sequence() {
        let tamper = Tamper::Insert {
            at: 2,
            record: entry(1),
        };
        outcome(&one(entry(1)), &tamper).unwrap();
    }

    /// A count beyond `i64::MAX` was stored clamped but hashed as given: the untouched chain
    /// failed to verify.
    #[test]
    fn an_untouched_entry_with_a_count_beyond_what_is_stored_verifies() {
        outcome(&one(entry(u64::MAX)), &Tamper::Nothing).unwrap();
    }

    /// A negative count was hashed as 0, so an entry counting 0 could be changed to count -1
    /// (or any negative number) unnoticed.
    #[test]
    fn a_count_changed_from_zero_to_a_negative_number_is_reported() {
        let tamper = Tamper::Alter {
            at: 1,
            change: Change::Count(-1),
            rehash: false,
        };
        outcome(&one(entry(0)), &tamper).unwrap();
    }
}
