//! The workers: claim due jobs, at most `workers` at a time, run them, record what came of them;
//! on shutdown claim nothing more, let running jobs finish for a while, then give back the rest.

use std::sync::Arc;
use std::time::Duration;

use docket_platform::shutdown::ShutdownSignal;
use sea_orm::DatabaseTransaction;
use tokio::sync::Notify;
use tokio::task::JoinSet;

use super::{Claimed, JobQueue, JobState};

/// How often the queue is looked at when nothing woke the runner (retries fall due, another
/// replica's upload, a lease run out).
const POLL: Duration = Duration::from_secs(5);
/// How long running jobs may take to finish once shutdown began.
const GRACE: Duration = Duration::from_secs(10);

/// What came of a job that did not fail.
#[derive(Debug)]
pub enum JobOutcome {
    /// Done: its result is written in `txn`, which commits with the job's completion.
    Done {
        txn: DatabaseTransaction,
        outcome: String,
    },
    /// Cannot be done here (a missing tool): set aside until a start that has it.
    Unsupported(String),
}

/// The work behind each job kind.
pub trait JobWork: Send + Sync + 'static {
    /// Does `job`; an error is retried later. `queue.begin()` gives the transaction a result is
    /// written in.
    fn run(
        &self,
        queue: &JobQueue,
        job: &Claimed,
    ) -> impl Future<Output = anyhow::Result<JobOutcome>> + Send;

    /// Called after `job` finished and its result committed (to update what is kept in memory).
    fn committed(&self, job: &Claimed) -> impl Future<Output = ()> + Send;
}

/// Runs the jobs of one replica.
#[derive(Debug, Clone)]
pub struct Runner {
    queue: JobQueue,
    workers: usize,
    wake: Arc<Notify>,
}

impl Runner {
    pub fn new(queue: JobQueue, workers: usize) -> Self {
        Self {
            queue,
            workers: workers.max(1),
            wake: Arc::new(Notify::new()),
        }
    }

    /// Wakes the runner: a job was just enqueued.
    pub fn enqueued(&self) {
        self.wake.notify_one();
    }

    pub fn queue(&self) -> &JobQueue {
        &self.queue
    }

    /// Runs jobs until `shutdown`.
    pub async fn run<W: JobWork>(self, work: Arc<W>, shutdown: ShutdownSignal) {
        let stop = shutdown.wait();
        tokio::pin!(stop);
        let mut running: JoinSet<()> = JoinSet::new();
        let mut held: Vec<(tokio::task::Id, Claimed)> = Vec::new();
        loop {
            let free = self.workers.saturating_sub(running.len());
            let mut claimed_any = false;
            if free > 0 {
                match self.queue.claim(free).await {
                    Ok(jobs) => {
                        for job in jobs {
                            claimed_any = true;
                            let (queue, work, this) =
                                (self.queue.clone(), Arc::clone(&work), job.clone());
                            let handle =
                                running.spawn(async move { run_one(&queue, &*work, &this).await });
                            held.push((handle.id(), job));
                        }
                    }
                    Err(error) => tracing::warn!(%error, "post-upload jobs cannot be claimed"),
                }
            }
            if claimed_any && running.len() < self.workers {
                continue;
            }
            tokio::select! {
                () = &mut stop => break,
                () = self.wake.notified() => {}
                Some(ended) = running.join_next_with_id(), if !running.is_empty() => {
                    let id = match &ended {
                        Ok((id, ())) => *id,
                        Err(error) => error.id(),
                    };
                    held.retain(|(task, _)| *task != id);
                }
                () = tokio::time::sleep(POLL) => {}
            }
        }
        // Shutdown: nothing more is claimed; what runs may finish within the grace period.
        let finishing = async {
            while let Some(ended) = running.join_next_with_id().await {
                let id = match &ended {
                    Ok((id, ())) => *id,
                    Err(error) => error.id(),
                };
                held.retain(|(task, _)| *task != id);
            }
        };
        if tokio::time::timeout(GRACE, finishing).await.is_err() {
            running.abort_all();
            while running.join_next().await.is_some() {}
            for (_, job) in &held {
                if let Err(error) = self.queue.release(job).await {
                    // Its lease runs out and another worker takes it over.
                    tracing::warn!(%error, job = %job.id, "a post-upload job cannot be given back");
                }
            }
        }
    }
}

async fn run_one<W: JobWork>(queue: &JobQueue, work: &W, job: &Claimed) {
    let result = match work.run(queue, job).await {
        Ok(JobOutcome::Done { txn, outcome }) => {
            queue.finish(txn, job, JobState::Done, &outcome).await
        }
        Ok(JobOutcome::Unsupported(why)) => {
            tracing::warn!(job = %job.id, kind = job.kind.code(), subject = %job.subject, %why,
                "a post-upload job cannot be done on this installation: set aside");
            match queue.begin().await {
                Ok(txn) => queue.finish(txn, job, JobState::Unsupported, &why).await,
                Err(error) => Err(error),
            }
        }
        Err(error) => {
            let text = format!("{error:#}");
            tracing::warn!(job = %job.id, kind = job.kind.code(), subject = %job.subject,
                attempt = job.attempt, error = %text, "a post-upload job failed");
            if let Err(error) = queue.failed(job, &text).await {
                tracing::warn!(%error, job = %job.id, "a failed post-upload job cannot be recorded");
            }
            return;
        }
    };
    match result {
        Ok(true) => work.committed(job).await,
        Ok(false) => {
            tracing::info!(job = %job.id, "a post-upload job was taken over by another worker")
        }
        Err(error) => {
            tracing::warn!(%error, job = %job.id, "a post-upload job's result cannot be recorded");
        }
    }
}
