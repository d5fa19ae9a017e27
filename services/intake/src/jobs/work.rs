//! The work behind every [`JobKind`], for the [`Runner`](super::Runner): each kind goes to the
//! part of intake that does it.

use super::{Claimed, JobKind, JobOutcome, JobQueue, JobWork};
use crate::credentials::ContentCredentials;
use crate::similar::Similarity;
use crate::timestamp::TrustedTime;

/// Every kind of post-upload work.
#[derive(Debug, Clone)]
pub struct PostUploadWork {
    pub similarity: Similarity,
    pub trusted_time: TrustedTime,
    pub content_credentials: ContentCredentials,
}

impl JobWork for PostUploadWork {
    async fn run(&self, queue: &JobQueue, job: &Claimed) -> anyhow::Result<JobOutcome> {
        match job.kind {
            JobKind::PerceptualHash => self.similarity.run(queue, job).await,
            JobKind::TrustedTime | JobKind::AuditHeadTime => {
                self.trusted_time.run(queue, job).await
            }
            JobKind::ContentCredentials => self.content_credentials.run(queue, job).await,
        }
    }

    async fn committed(&self, job: &Claimed) {
        match job.kind {
            JobKind::PerceptualHash => self.similarity.committed(job).await,
            JobKind::TrustedTime | JobKind::ContentCredentials | JobKind::AuditHeadTime => {}
        }
    }
}
