//! Registering a new allegation, idempotently by request id, with a gap-free reference.
//!
//! Group commit: every submission takes the year's reference counter, the audit head and the
//! event head until its transaction commits, so submissions are committed one at a time
//! whatever the concurrency, and each would pay a durable commit of its own. Instead they
//! queue, and one task commits them in batches: each submission in a savepoint of the batch's
//! transaction (so one that fails takes nothing else with it), one durable commit for all, and
//! only then is each answered. Durability and every ordering guarantee stay as they were; the
//! commit and the locks are paid once per batch.

use chrono::{DateTime, Datelike, SubsecRound, Utc};
use docket_domain::Violations;
use docket_domain::allegation::{
    AllegationReference, AllegationStatus, NewAllegation, RequestId, Source,
};
use docket_platform::audit::AuditRecord;
use docket_platform::auth::CallContext;
use docket_platform::db::begin_write;
use docket_platform::journal;
use docket_proto::docket::common::v1 as common;
use docket_proto::docket::events::v1 as ev;
use docket_proto::docket::intake::v1 as pb;
use docket_proto::timestamp;
use sea_orm::entity::prelude::*;
use sea_orm::{
    ActiveValue::Set, ConnectionTrait, DatabaseTransaction, DbBackend, DbErr, EntityTrait,
    QueryFilter, SqlErr, Statement, TransactionTrait,
};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use super::AllegationStore;
use super::disclose::context;
use crate::entity::{allegation, perpetrator, source_url, victim_group, violation_type};
use crate::error::IntakeError;

/// A valid submission, ready to store.
#[derive(Debug)]
pub struct Submission {
    /// The id the allegation gets if this is not a retry.
    pub id: Uuid,
    pub request_id: RequestId,
    /// SHA-256 of the submitted message, to recognise a retry.
    pub fingerprint: String,
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
        let fingerprint = submission.fingerprint.clone();
        match self.queue(submission, call).await {
            // A concurrent call with the same request id committed first. (Only on PostgreSQL:
            // SQLite's IMMEDIATE transactions serialise the check in `try_submit`.)
            Err(IntakeError::Database(error)) if is_unique_violation(&error) => {
                let row = allegation::Entity::find()
                    .filter(allegation::Column::RequestId.eq(request_id.as_str()))
                    .one(&self.db)
                    .await?
                    .ok_or(IntakeError::Database(error))?;
                check_same_request(&row, &fingerprint)?;
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

    /// Commits `batch` in one transaction and tells each job its outcome.
    async fn commit_batch(&self, batch: Vec<Job>) {
        let txn = match begin_write(&self.db).await {
            Ok(txn) => txn,
            Err(error) => {
                let message = error.to_string();
                for job in batch {
                    let _ = job.outcome.send(Err(batch_failed(&message)));
                }
                return;
            }
        };
        let started = std::time::Instant::now();
        let size = batch.len();
        let mut outcomes = Vec::with_capacity(size);
        for job in batch {
            let outcome = self.submit_one(&txn, job.submission, &job.call).await;
            outcomes.push((job.outcome, outcome));
        }
        let written = started.elapsed();
        match txn.commit().await {
            Ok(()) => {
                tracing::debug!(
                    size,
                    written_ms = written.as_secs_f64() * 1e3,
                    committed_ms = (started.elapsed() - written).as_secs_f64() * 1e3,
                    "committed a batch of submissions"
                );
                self.events.committed();
                for (sender, outcome) in outcomes {
                    let _ = sender.send(outcome);
                }
            }
            Err(error) => {
                let message = error.to_string();
                for (sender, outcome) in outcomes {
                    // A submission refused on its own merits stays refused; the others were
                    // not stored.
                    let _ = sender.send(outcome.and_then(|_| Err(batch_failed(&message))));
                }
            }
        }
    }

    /// Stores one submission inside the batch's transaction, in a savepoint of its own.
    async fn submit_one(
        &self,
        txn: &DatabaseTransaction,
        submission: Submission,
        call: &CallContext,
    ) -> Result<Submitted, IntakeError> {
        let savepoint = txn.begin().await?;
        match self.submit_in(&savepoint, submission, call).await {
            Ok(submitted) => {
                savepoint.commit().await?;
                Ok(submitted)
            }
            Err(error) => {
                savepoint.rollback().await?;
                Err(error)
            }
        }
    }

    async fn submit_in(
        &self,
        txn: &DatabaseTransaction,
        submission: Submission,
        call: &CallContext,
    ) -> Result<Submitted, IntakeError> {
        if let Some(existing) = self.replay(txn, &submission).await? {
            return Ok(existing);
        }
        let id = submission.id;
        let sealed = self.seal_source(id, submission.allegation.source())?;
        let event = insert(txn, submission, sealed).await?;
        let audit = AuditRecord::succeeded(call, "submit allegation", vec![id.to_string()]);
        journal::record(txn, &audit, Some(&event)).await?;
        let allegation = self.load_one(txn, id).await?;
        Ok(Submitted {
            allegation,
            created: true,
        })
    }

    /// The sealed name and contact of an identified source.
    fn seal_source(&self, id: Uuid, source: &Source) -> Result<SealedSource, IntakeError> {
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

    async fn replay(
        &self,
        txn: &DatabaseTransaction,
        submission: &Submission,
    ) -> Result<Option<Submitted>, IntakeError> {
        let Some(row) = allegation::Entity::find()
            .filter(allegation::Column::RequestId.eq(submission.request_id.as_str()))
            .one(txn)
            .await?
        else {
            return Ok(None);
        };
        check_same_request(&row, &submission.fingerprint)?;
        Ok(Some(Submitted {
            allegation: self.load_one(txn, row.id).await?,
            created: false,
        }))
    }
}

fn check_same_request(row: &allegation::Model, fingerprint: &str) -> Result<(), IntakeError> {
    if row.request_fingerprint == fingerprint {
        Ok(())
    } else {
        Err(Violations::single(
            "request_id",
            format!(
                "was already used for a different allegation ({}); use a new request id",
                row.reference
            ),
        )
        .into())
    }
}

/// An identified source's name and contact, sealed; both `None` for an anonymous source.
#[derive(Debug, Default)]
struct SealedSource {
    name: Option<String>,
    contact: Option<String>,
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
                    .map(|g| common::VictimGroup::from(*g))
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

fn batch_failed(cause: &str) -> IntakeError {
    IntakeError::Database(DbErr::Custom(format!(
        "the submissions committed with this one could not be committed: {cause}"
    )))
}

fn is_unique_violation(error: &DbErr) -> bool {
    matches!(error.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}

/// Inserts the allegation and its parts; returns the event that records it for others.
async fn insert(
    txn: &DatabaseTransaction,
    submission: Submission,
    sealed: SealedSource,
) -> Result<ev::EventPayload, DbErr> {
    // PostgreSQL keeps microseconds; keep the same everywhere so reads agree with writes.
    let received_at = Utc::now().trunc_subsecs(6);
    let reference = next_reference(txn, received_at).await?;
    let Submission {
        id,
        request_id,
        fingerprint,
        receipt_hash,
        allegation: new,
    } = submission;
    let period = new.incident_period();
    let location = new.location();
    let row = allegation::ActiveModel {
        id: Set(id),
        reference: Set(reference.to_string()),
        request_id: Set(request_id.as_str().to_owned()),
        request_fingerprint: Set(fingerprint),
        status: Set(AllegationStatus::Received.code().to_owned()),
        received_at: Set(received_at),
        status_changed_at: Set(received_at),
        channel: Set(new.channel().code().to_owned()),
        source_anonymous: Set(new.source().is_anonymous()),
        source_name: Set(sealed.name),
        source_contact: Set(sealed.contact),
        receipt_hash: Set(receipt_hash),
        narrative: Set(new.narrative().as_str().to_owned()),
        language: Set(new.language().as_str().to_owned()),
        period_start: Set(period.map(|p| p.start().trunc_subsecs(6))),
        period_end: Set(period.and_then(|p| p.end()).map(|t| t.trunc_subsecs(6))),
        period_precision: Set(period.map(|p| p.precision().code().to_owned())),
        place_name: Set(location.and_then(|l| l.place_name()).map(str::to_owned)),
        admin_area: Set(location.and_then(|l| l.admin_area()).map(str::to_owned)),
        country_code: Set(location.and_then(|l| l.country_code()).map(str::to_owned)),
        latitude: Set(location.and_then(|l| l.coordinates()).map(|(lat, _)| lat)),
        longitude: Set(location.and_then(|l| l.coordinates()).map(|(_, lon)| lon)),
        location_precision: Set(location.map(|l| l.precision().code().to_owned())),
        reviewed_by: Set(None),
        rejection_reason: Set(None),
        duplicate_of_id: Set(None),
        message_for_source: Set(None),
    };
    allegation::Entity::insert(row)
        .exec_without_returning(txn)
        .await?;
    let event = recorded(id, &reference, received_at, &new);

    let positions = (0..).map(|p: i32| p);
    insert_children(
        txn,
        new.violation_types()
            .iter()
            .zip(positions.clone())
            .map(|(t, position)| violation_type::ActiveModel {
                allegation_id: Set(id),
                position: Set(position),
                violation_type: Set(t.code().to_owned()),
            }),
    )
    .await?;
    insert_children(
        txn,
        new.alleged_perpetrators()
            .iter()
            .zip(positions.clone())
            .map(|(p, position)| perpetrator::ActiveModel {
                allegation_id: Set(id),
                position: Set(position),
                party_code: Set(p.party().map(|c| c.as_str().to_owned())),
                unit: Set(p.unit().map(str::to_owned)),
                description: Set(p.description().map(str::to_owned)),
            }),
    )
    .await?;
    insert_children(
        txn,
        new.victims()
            .iter()
            .zip(positions.clone())
            .map(|(g, position)| victim_group::ActiveModel {
                allegation_id: Set(id),
                position: Set(position),
                // At most 1 000 000, checked by the domain.
                count: Set(i32::try_from(g.count).unwrap_or(i32::MAX)),
                status: Set(g.status.code().to_owned()),
                harm: Set(g.harm.code().to_owned()),
                age_group: Set(g.age_group.code().to_owned()),
                sex: Set(g.sex.code().to_owned()),
            }),
    )
    .await?;
    insert_children(
        txn,
        new.source_urls()
            .iter()
            .zip(positions)
            .map(|(url, position)| source_url::ActiveModel {
                allegation_id: Set(id),
                position: Set(position),
                url: Set(url.as_str().to_owned()),
            }),
    )
    .await?;
    Ok(event)
}

async fn insert_children<A>(
    txn: &DatabaseTransaction,
    rows: impl Iterator<Item = A>,
) -> Result<(), DbErr>
where
    A: ActiveModelTrait + Send,
{
    let rows: Vec<A> = rows.collect();
    if rows.is_empty() {
        return Ok(());
    }
    A::Entity::insert_many(rows)
        .exec_without_returning(txn)
        .await?;
    Ok(())
}

/// The next reference of `received_at`'s year. The counter row is locked until the transaction
/// ends, so references are given out in commit order without gaps: a rolled-back submission
/// gives its number back.
async fn next_reference(
    txn: &DatabaseTransaction,
    received_at: DateTime<Utc>,
) -> Result<AllegationReference, DbErr> {
    let year = received_at.year();
    let backend = txn.get_database_backend();
    let placeholder = if backend == DbBackend::Postgres {
        "$1"
    } else {
        "?"
    };
    let sql = format!(
        "INSERT INTO reference_counters (year, last_number) VALUES ({placeholder}, 1) \
         ON CONFLICT (year) DO UPDATE SET last_number = reference_counters.last_number + 1 \
         RETURNING last_number"
    );
    let row = txn
        .query_one_raw(Statement::from_sql_and_values(backend, sql, [year.into()]))
        .await?
        .ok_or_else(|| DbErr::Custom("the reference counter returned no row".to_owned()))?;
    let number: i64 = row.try_get_by_index(0)?;
    u32::try_from(number)
        .ok()
        .and_then(|number| AllegationReference::new(year, number))
        .ok_or_else(|| {
            DbErr::Custom(format!(
                "reference number {number} of {year} is out of range"
            ))
        })
}
