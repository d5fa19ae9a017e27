//! Registering a new allegation, idempotently by request id, with a gap-free reference.
//!
//! Group commit: every submission takes the year's reference counter, the audit head and the
//! event head until its transaction commits, so submissions are committed one at a time
//! whatever the concurrency, and each would pay a durable commit of its own. Instead they
//! queue, and one task commits them in batches, with a few statements per table for the whole
//! batch (one request-id lookup, one counter update, multi-row inserts, the audit chain and the
//! event sequence computed in memory), one durable commit for all, and only then is each
//! answered. Should a batch fail, it is written again one submission at a time, each in a
//! savepoint, so that one failure takes nothing else with it. Durability and every ordering
//! guarantee stay as they were; the commit and the locks are paid once per batch.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, SubsecRound, Utc};
use docket_domain::Violations;
use docket_domain::allegation::{
    AllegationReference, AllegationStatus, NewAllegation, RequestId, Source,
};
use docket_platform::audit::AuditRecord;
use docket_platform::auth::CallContext;
use docket_platform::db::{begin_write, insert_models, is_unavailable, placeholder};
use docket_platform::journal;
use docket_proto::docket::common::v1 as common;
use docket_proto::docket::events::v1 as ev;
use docket_proto::docket::intake::v1 as pb;
use docket_proto::timestamp;
use sea_orm::entity::prelude::*;
use sea_orm::{
    ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait, QueryFilter, SqlErr, Statement,
    TransactionTrait,
};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::AllegationStore;
use super::disclose::context;
use super::read::{Stored, load_many};
use crate::entity::{allegation, perpetrator, source_url, victim_group, violation_type};
use crate::error::IntakeError;

/// A valid submission, ready to store.
#[derive(Debug)]
pub struct Submission {
    /// The id the allegation gets if this is not a retry.
    pub id: Uuid,
    pub request_id: RequestId,
    /// The keyed fingerprint of the submitted message, stored to recognise a retry.
    pub fingerprint: String,
    /// The SHA-256 of the submitted message, never stored: it is computed from sealed values.
    pub digest: super::MessageDigest,
    /// SHA-256 of the receipt derived from `id`, for an anonymous source.
    pub receipt_hash: Option<String>,
    pub allegation: NewAllegation,
}

/// The stored allegation and whether this call created it.
#[derive(Debug)]
pub struct Submitted {
    pub allegation: pb::Allegation,
    pub created: bool,
}

/// The most submissions committed together.
const MAX_BATCH: usize = 256;
/// Submissions waiting for the committer; callers wait (and so slow down) beyond this.
const QUEUED: usize = 1_024;

/// A submission waiting to be committed, with who made it and where the outcome goes.
#[derive(Debug)]
struct Job {
    submission: Submission,
    call: CallContext,
    outcome: oneshot::Sender<Result<Submitted, IntakeError>>,
}

/// The queue of the task that commits submissions in batches.
#[derive(Debug, Clone)]
pub(super) struct Queue(mpsc::Sender<Job>);

impl Queue {
    /// Starts the committer over `store` (a store without a queue of its own).
    pub(super) fn start(store: AllegationStore) -> Self {
        let (sender, mut jobs) = mpsc::channel::<Job>(QUEUED);
        tokio::spawn(async move {
            // Ends when every sender (every clone of the store that queues) is gone.
            while let Some(first) = jobs.recv().await {
                let mut batch = vec![first];
                while batch.len() < MAX_BATCH {
                    match jobs.try_recv() {
                        Ok(job) => batch.push(job),
                        Err(_) => break,
                    }
                }
                store.commit_batch(batch).await;
            }
        });
        Self(sender)
    }
}

impl AllegationStore {
    /// Stores `submission`, or returns the allegation an earlier call with the same request id
    /// stored. The answer shows the source's identity only to roles that may see it.
    pub async fn submit(
        &self,
        submission: Submission,
        call: &CallContext,
    ) -> Result<Submitted, IntakeError> {
        let mut submitted = self.submit_sealed(submission, call).await?;
        self.disclose(call, std::slice::from_mut(&mut submitted.allegation), false)
            .await?;
        Ok(submitted)
    }

    async fn submit_sealed(
        &self,
        submission: Submission,
        call: &CallContext,
    ) -> Result<Submitted, IntakeError> {
        let request_id = submission.request_id.clone();
        let digest = submission.digest.clone();
        match self.queue(submission, call).await {
            // A concurrent call with the same request id (in another replica) committed first.
            // (Only on PostgreSQL: SQLite's IMMEDIATE transactions serialise the check in
            // `write`.)
            Err(IntakeError::Database(error)) if is_unique_violation(&error) => {
                let row = allegation::Entity::find()
                    .filter(allegation::Column::RequestId.eq(request_id.as_str()))
                    .one(&self.db)
                    .await?
                    .ok_or(IntakeError::Database(error))?;
                self.check_same_request(&row, &digest)?;
                Ok(Submitted {
                    allegation: self.load_one(&self.db, row.id).await?,
                    created: false,
                })
            }
            other => other,
        }
    }

    /// Stores `submission` with the next batch and waits until that batch has committed.
    async fn queue(
        &self,
        submission: Submission,
        call: &CallContext,
    ) -> Result<Submitted, IntakeError> {
        let (outcome, committed) = oneshot::channel();
        let job = Job {
            submission,
            call: call.clone(),
            outcome,
        };
        match &self.submissions {
            Some(Queue(queue)) => queue.send(job).await.map_err(|_| committer_gone())?,
            // The committer's own store commits directly, as a batch of one.
            None => self.commit_batch(vec![job]).await,
        }
        committed.await.map_err(|_| committer_gone())?
    }

    /// Commits `batch` in one transaction and tells each job its outcome. The whole batch is
    /// written with a few statements per table; should that fail (a request id stored by
    /// another replica meanwhile, say), the batch is written again one submission at a time,
    /// each in a savepoint of its own, so one failure takes nothing else with it.
    async fn commit_batch(&self, batch: Vec<Job>) {
        let started = std::time::Instant::now();
        let size = batch.len();
        let outcomes = match self.commit_together(&batch).await {
            Ok(outcomes) => outcomes,
            // One by one would fail the same way.
            Err(IntakeError::Database(error)) if is_unavailable(&error) => {
                batch.iter().map(|_| Err(batch_failed(&error))).collect()
            }
            Err(error) => {
                tracing::warn!(%error, size, "a batch of submissions failed; storing them one by one");
                self.commit_one_by_one(&batch).await
            }
        };
        tracing::debug!(
            size,
            elapsed_ms = started.elapsed().as_secs_f64() * 1e3,
            "committed a batch of submissions"
        );
        self.events.committed();
        for (job, outcome) in batch.into_iter().zip(outcomes) {
            let _ = job.outcome.send(outcome);
        }
    }

    async fn commit_together(
        &self,
        batch: &[Job],
    ) -> Result<Vec<Result<Submitted, IntakeError>>, IntakeError> {
        let txn = begin_write(&self.db).await?;
        let outcomes = self.write(&txn, batch).await?;
        txn.commit().await?;
        Ok(outcomes)
    }

    async fn commit_one_by_one(&self, batch: &[Job]) -> Vec<Result<Submitted, IntakeError>> {
        let txn = match begin_write(&self.db).await {
            Ok(txn) => txn,
            Err(error) => return batch.iter().map(|_| Err(batch_failed(&error))).collect(),
        };
        let mut outcomes = Vec::with_capacity(batch.len());
        for job in batch {
            outcomes.push(self.write_alone(&txn, job).await);
        }
        match txn.commit().await {
            Ok(()) => outcomes,
            // A submission refused on its own merits stays refused; the others were not stored.
            Err(error) => outcomes
                .into_iter()
                .map(|outcome| outcome.and_then(|_| Err(batch_failed(&error))))
                .collect(),
        }
    }

    /// Writes one job in a savepoint of `txn`.
    async fn write_alone(
        &self,
        txn: &DatabaseTransaction,
        job: &Job,
    ) -> Result<Submitted, IntakeError> {
        let savepoint = txn.begin().await?;
        match self.write(&savepoint, std::slice::from_ref(job)).await {
            Ok(mut outcomes) => {
                savepoint.commit().await?;
                outcomes.pop().unwrap_or_else(|| {
                    Err(IntakeError::Database(DbErr::Custom(
                        "a submission was written without an outcome".to_owned(),
                    )))
                })
            }
            Err(error) => {
                savepoint.rollback().await?;
                Err(error)
            }
        }
    }

    /// Writes the submissions of `batch` in `txn`: the outcome of each (a retry is answered
    /// with what its request id stored; a request id reused for another allegation is
    /// refused), or an error that spoils the whole transaction.
    async fn write(
        &self,
        txn: &DatabaseTransaction,
        batch: &[Job],
    ) -> Result<Vec<Result<Submitted, IntakeError>>, IntakeError> {
        let request_ids: Vec<&str> = batch
            .iter()
            .map(|j| j.submission.request_id.as_str())
            .collect();
        let stored: HashMap<String, allegation::Model> = allegation::Entity::find()
            .filter(allegation::Column::RequestId.is_in(request_ids))
            .all(txn)
            .await?
            .into_iter()
            .map(|row| (row.request_id.clone(), row))
            .collect();

        // What each job comes to, before anything is written.
        let mut plans = Vec::with_capacity(batch.len());
        let mut new: Vec<&Job> = Vec::new();
        let mut first_of: HashMap<&str, usize> = HashMap::new();
        for job in batch {
            let submission = &job.submission;
            let plan = if let Some(row) = stored.get(submission.request_id.as_str()) {
                match self.check_same_request(row, &submission.digest) {
                    Ok(()) => Plan::Stored(row.id),
                    Err(refusal) => Plan::Refused(refusal),
                }
            } else if let Some(&earlier) = first_of.get(submission.request_id.as_str()) {
                Plan::SameAs(earlier)
            } else {
                first_of.insert(submission.request_id.as_str(), new.len());
                new.push(job);
                Plan::New(new.len() - 1)
            };
            plans.push(plan);
        }

        let (references, created) = self.insert(txn, &new).await?;
        let mut answers: HashMap<Uuid, pb::Allegation> = new
            .iter()
            .map(|job| job.submission.id)
            .zip(created)
            .collect();
        // Retries of submissions committed before this batch: read back as they were stored.
        let retried: Vec<allegation::Model> = batch
            .iter()
            .zip(&plans)
            .filter_map(|(job, plan)| match plan {
                Plan::Stored(_) => stored.get(job.submission.request_id.as_str()).cloned(),
                Plan::Refused(_) | Plan::New(_) | Plan::SameAs(_) => None,
            })
            .collect();
        for message in load_many(txn, retried).await? {
            if let Ok(id) = message.id.parse() {
                answers.insert(id, message);
            }
        }
        let answer = |id: Uuid, created: bool| -> Result<Submitted, IntakeError> {
            let allegation = answers
                .get(&id)
                .cloned()
                .ok_or(IntakeError::AllegationNotFound(id))?;
            Ok(Submitted {
                allegation,
                created,
            })
        };
        let mut outcomes = Vec::with_capacity(plans.len());
        for (job, plan) in batch.iter().zip(plans) {
            let outcome = match plan {
                Plan::Stored(id) => answer(id, false),
                Plan::New(index) => answer(new[index].submission.id, true),
                Plan::SameAs(index) => {
                    let first = &new[index].submission;
                    if first.digest == job.submission.digest {
                        answer(first.id, false)
                    } else {
                        Err(reused(&references[index]))
                    }
                }
                Plan::Refused(refusal) => Err(refusal),
            };
            outcomes.push(outcome);
        }
        Ok(outcomes)
    }

    /// Inserts `new` submissions, their audit entries and their events, with a few statements
    /// for all of them; returns their references and their stored messages (still sealed), in
    /// the same order.
    async fn insert(
        &self,
        txn: &DatabaseTransaction,
        new: &[&Job],
    ) -> Result<(Vec<AllegationReference>, Vec<pb::Allegation>), IntakeError> {
        if new.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        // PostgreSQL keeps microseconds; keep the same everywhere so reads agree with writes.
        let received_at = Utc::now().trunc_subsecs(6);
        let references = next_references(txn, received_at, new.len()).await?;
        let mut rows = Stored::default();
        let mut audits = Vec::with_capacity(new.len());
        let mut events = Vec::with_capacity(new.len());
        for (job, reference) in new.iter().zip(&references) {
            let submission = &job.submission;
            let sealed = self.seal_source(submission.id, submission.allegation.source())?;
            events.push(rows.add(submission, sealed, reference, received_at));
            audits.push(AuditRecord::succeeded(
                &job.call,
                "submit allegation",
                vec![submission.id.to_string()],
            ));
        }
        rows.insert(txn).await?;
        journal::record_many(txn, &audits, &events).await?;
        Ok((references, rows.into_messages()?))
    }

    /// The sealed name and contact of an identified source.
    pub(super) fn seal_source(
        &self,
        id: Uuid,
        source: &Source,
    ) -> Result<SealedSource, IntakeError> {
        let Source::Identified { name, contact } = source else {
            return Ok(SealedSource::default());
        };
        let id = id.to_string();
        let name = self
            .sealer
            .seal(name.as_str(), &context(&id, "source_name"))
            .map_err(IntakeError::Sealing)?;
        let contact = match contact {
            Some(contact) => Some(
                self.sealer
                    .seal(contact.as_str(), &context(&id, "source_contact"))
                    .map_err(IntakeError::Sealing)?,
            ),
            None => None,
        };
        Ok(SealedSource {
            name: Some(name),
            contact,
        })
    }
}

impl AllegationStore {
    /// Whether stored `row` came from a message with the SHA-256 `digest`: a retry, or a
    /// request id reused for another allegation (refused).
    fn check_same_request(
        &self,
        row: &allegation::Model,
        digest: &super::MessageDigest,
    ) -> Result<(), IntakeError> {
        if self.same_message(&row.request_fingerprint, digest) {
            Ok(())
        } else {
            Err(reused(&row.reference))
        }
    }
}

/// The refusal of a request id already used for a different allegation, `reference`.
fn reused(reference: &dyn std::fmt::Display) -> IntakeError {
    Violations::single(
        "request_id",
        format!("was already used for a different allegation ({reference}); use a new request id"),
    )
    .into()
}

/// What one job of a batch comes to.
#[derive(Debug)]
enum Plan {
    /// Its request id stored this allegation before, with the same content.
    Stored(Uuid),
    /// Its request id stored an allegation with other content.
    Refused(IntakeError),
    /// New: the `n`-th new submission of the batch.
    New(usize),
    /// Its request id is that of the `n`-th new submission of the same batch.
    SameAs(usize),
}

/// An identified source's name and contact, sealed; both `None` for an anonymous source.
#[derive(Debug, Default)]
pub(super) struct SealedSource {
    pub name: Option<String>,
    pub contact: Option<String>,
}

/// What other services learn of a new allegation: no source, no narrative.
fn recorded(
    id: Uuid,
    reference: &AllegationReference,
    received_at: DateTime<Utc>,
    new: &NewAllegation,
) -> ev::EventPayload {
    let mut party_codes: Vec<String> = new
        .alleged_perpetrators()
        .iter()
        .filter_map(|p| p.party().map(|code| code.as_str().to_owned()))
        .collect();
    party_codes.sort();
    party_codes.dedup();
    ev::EventPayload {
        kind: Some(ev::event_payload::Kind::AllegationRecorded(
            ev::AllegationRecorded {
                allegation_id: id.to_string(),
                reference: reference.to_string(),
                received_time: Some(timestamp(received_at)),
                status: pb::AllegationStatus::Received.as_str_name().to_owned(),
                violation_types: new
                    .violation_types()
                    .iter()
                    .map(|t| common::ViolationType::from(*t).into())
                    .collect(),
                party_codes,
                victims: new
                    .victims()
                    .iter()
                    .map(|g| common::VictimGroup::from(g.clone()))
                    .collect(),
                incident_start_time: new.incident_period().map(|p| timestamp(p.start())),
                place_name: new
                    .location()
                    .and_then(|l| l.place_name())
                    .unwrap_or_default()
                    .to_owned(),
                country_code: new
                    .location()
                    .and_then(|l| l.country_code())
                    .unwrap_or_default()
                    .to_owned(),
            },
        )),
    }
}

fn committer_gone() -> IntakeError {
    IntakeError::Database(DbErr::Custom(
        "the submission committer has stopped".to_owned(),
    ))
}

/// The error each submission of a batch gets when the batch's transaction failed with `cause`.
fn batch_failed(cause: &DbErr) -> IntakeError {
    let message =
        format!("the submissions committed with this one could not be committed: {cause}");
    if is_unavailable(cause) {
        IntakeError::Unavailable(message)
    } else {
        IntakeError::Database(DbErr::Custom(message))
    }
}

fn is_unique_violation(error: &DbErr) -> bool {
    matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// The rows of new allegations, gathered to be inserted with a few statements per table.
impl Stored {
    /// Adds `submission`'s rows; returns the event that records it for others.
    fn add(
        &mut self,
        submission: &Submission,
        sealed: SealedSource,
        reference: &AllegationReference,
        received_at: DateTime<Utc>,
    ) -> ev::EventPayload {
        let id = submission.id;
        let new = &submission.allegation;
        let mut row = allegation::Model {
            id,
            reference: reference.to_string(),
            request_id: submission.request_id.as_str().to_owned(),
            request_fingerprint: submission.fingerprint.clone(),
            status: AllegationStatus::Received.code().to_owned(),
            received_at,
            status_changed_at: received_at,
            channel: String::new(),
            source_anonymous: new.source().is_anonymous(),
            source_name: sealed.name,
            source_contact: sealed.contact,
            receipt_hash: submission.receipt_hash.clone(),
            narrative: String::new(),
            language: String::new(),
            period_start: None,
            period_end: None,
            period_precision: None,
            place_name: None,
            admin_area: None,
            country_code: None,
            latitude: None,
            longitude: None,
            location_precision: None,
            reviewed_by: None,
            rejection_reason: None,
            duplicate_of_id: None,
            message_for_source: None,
            version: 1,
            joined_case_id: None,
        };
        set_content(&mut row, new);
        self.rows.push(row);
        self.add_parts(id, new);
        recorded(id, reference, received_at, new)
    }

    /// Adds the rows of the repeated parts of `new`, allegation `id`'s content.
    pub(super) fn add_parts(&mut self, id: Uuid, new: &NewAllegation) {
        for (position, t) in (0..).zip(new.violation_types()) {
            self.violation_types.push(violation_type::Model {
                allegation_id: id,
                position,
                violation_type: t.code().to_owned(),
            });
        }
        for (position, p) in (0..).zip(new.alleged_perpetrators()) {
            self.perpetrators.push(perpetrator::Model {
                allegation_id: id,
                position,
                party_code: p.party().map(|c| c.as_str().to_owned()),
                unit: p.unit().map(str::to_owned),
                description: p.description().map(str::to_owned),
            });
        }
        for (position, g) in (0..).zip(new.victims()) {
            self.victims.push(victim_group::Model {
                allegation_id: id,
                position,
                // At most 1 000 000, checked by the domain.
                count: i32::try_from(g.count).unwrap_or(i32::MAX),
                status: g.status.code().to_owned(),
                harm: g.harm.code().to_owned(),
                age_group: g.age_group.code().to_owned(),
                sex: g.sex.code().to_owned(),
                affiliation_party_code: g.affiliation.as_ref().map(|p| p.as_str().to_owned()),
                age_band: g.age_band.map(|b| b.code().to_owned()),
            });
        }
        for (position, url) in (0..).zip(new.source_urls()) {
            self.source_urls.push(source_url::Model {
                allegation_id: id,
                position,
                url: url.as_str().to_owned(),
            });
        }
    }

    /// Inserts every row gathered, a few statements per table.
    async fn insert(&self, txn: &DatabaseTransaction) -> Result<(), DbErr> {
        insert_models(txn, &self.rows).await?;
        insert_models(txn, &self.violation_types).await?;
        insert_models(txn, &self.perpetrators).await?;
        insert_models(txn, &self.victims).await?;
        insert_models(txn, &self.source_urls).await
    }
}

/// Sets the columns of `row` that hold `new`'s content, its source aside (sealed separately).
pub(super) fn set_content(row: &mut allegation::Model, new: &NewAllegation) {
    let period = new.incident_period();
    let location = new.location();
    row.channel = new.channel().code().to_owned();
    row.narrative = new.narrative().as_str().to_owned();
    row.language = new.language().as_str().to_owned();
    row.period_start = period.map(|p| p.start().trunc_subsecs(6));
    row.period_end = period.and_then(|p| p.end()).map(|t| t.trunc_subsecs(6));
    row.period_precision = period.map(|p| p.precision().code().to_owned());
    row.place_name = location.and_then(|l| l.place_name()).map(str::to_owned);
    row.admin_area = location.and_then(|l| l.admin_area()).map(str::to_owned);
    row.country_code = location.and_then(|l| l.country_code()).map(str::to_owned);
    row.latitude = location.and_then(|l| l.coordinates()).map(|(lat, _)| lat);
    row.longitude = location.and_then(|l| l.coordinates()).map(|(_, lon)| lon);
    row.location_precision = location.map(|l| l.precision().code().to_owned());
}

/// The next `count` references of `received_at`'s year. The counter row is locked until the
/// transaction ends, so references are given out in commit order without gaps: a rolled-back
/// submission gives its number back.
async fn next_references(
    txn: &DatabaseTransaction,
    received_at: DateTime<Utc>,
    count: usize,
) -> Result<Vec<AllegationReference>, DbErr> {
    let year = received_at.year();
    let count = i64::try_from(count).unwrap_or(i64::MAX);
    let backend = txn.get_database_backend();
    let sql = format!(
        "INSERT INTO reference_counters (year, last_number) VALUES ({}, {}) \
         ON CONFLICT (year) DO UPDATE SET \
         last_number = reference_counters.last_number + excluded.last_number \
         RETURNING last_number",
        placeholder(backend, 1),
        placeholder(backend, 2)
    );
    let row = txn
        .query_one_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [year.into(), count.into()],
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("the reference counter returned no row".to_owned()))?;
    let last: i64 = row.try_get_by_index(0)?;
    (last - count + 1..=last)
        .map(|number| {
            u32::try_from(number)
                .ok()
                .and_then(|number| AllegationReference::new(year, number))
                .ok_or_else(|| {
                    DbErr::Custom(format!(
                        "reference number {number} of {year} is out of range"
                    ))
                })
        })
        .collect()
}
