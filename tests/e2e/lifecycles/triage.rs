//! Triage: reviews, acceptances, rejections, duplicates and reopenings of allegations, and the
//! model of what the API's contract answers to each.

use docket_e2e::{IntakeClient, TestApp, allegation, submit};
use docket_platform::auth::Role;
use docket_proto::docket::intake::v1 as intake;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use tonic::Code;

use super::{Etag, Lifecycle, Outcome, SUBJECTS, etag, refused};

/// The allegations of one history.
#[derive(Debug)]
pub(super) struct Triage {
    supervisor: IntakeClient,
    ids: Vec<String>,
}

impl Lifecycle for Triage {
    const SUBJECT: &'static str = "allegation";
    type Client = IntakeClient;
    type Call = TriageCall;
    type Model = AllegationModel;
    type Round = ();

    async fn client(app: &TestApp) -> IntakeClient {
        app.intake_as(Role::Supervisor).await
    }

    fn history() -> impl Strategy<Value = Vec<Vec<TriageCall>>> {
        triage_history()
    }

    async fn begin(mut supervisor: IntakeClient) -> (Self, Vec<AllegationModel>) {
        let mut ids = Vec::new();
        for _ in 0..SUBJECTS {
            ids.push(submit(&mut supervisor, allegation()).await);
        }
        let model = vec![
            AllegationModel {
                status: intake::AllegationStatus::Received,
                duplicate_of: None,
                version: 0,
            };
            SUBJECTS
        ];
        (Self { supervisor, ids }, model)
    }

    async fn read(&mut self) -> (Vec<AllegationModel>, Vec<String>) {
        read_allegations(&mut self.supervisor, &self.ids).await
    }

    fn round(&self, _: &[AllegationModel]) {}

    fn playable(_: &TriageCall, (): &()) -> bool {
        true
    }

    fn subject(call: &TriageCall) -> usize {
        allegation_of(call)
    }

    /// Only a reopening sends an etag.
    fn etag(call: &TriageCall) -> Etag {
        match call {
            TriageCall::Reopen { etag, .. } => *etag,
            TriageCall::StartReview(_)
            | TriageCall::Accept(_)
            | TriageCall::Reject(_)
            | TriageCall::MarkDuplicate { .. } => Etag::None,
        }
    }

    fn send(
        &self,
        call: TriageCall,
        etag: Option<String>,
        (): &(),
    ) -> impl std::future::Future<Output = Outcome> + Send + 'static {
        send_triage_call(self.supervisor.clone(), call, etag, &self.ids)
    }

    fn step(
        model: &mut [AllegationModel],
        call: &TriageCall,
        sent: Option<u32>,
        (): &(),
        _: &Outcome,
    ) -> Outcome {
        triage_step(model, call, sent)
    }

    fn version(model: &AllegationModel) -> u32 {
        model.version
    }

    fn set_version(model: &mut AllegationModel, version: u32) {
        model.version = version;
    }

    fn invariants(_: &[AllegationModel]) -> Result<(), TestCaseError> {
        Ok(())
    }
}

#[derive(Debug, Clone)]
pub(super) enum TriageCall {
    StartReview(usize),
    Accept(usize),
    Reject(usize),
    MarkDuplicate { allegation: usize, of: usize },
    Reopen { allegation: usize, etag: Etag },
}

pub(super) fn triage_call() -> impl Strategy<Value = TriageCall> {
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

pub(super) fn triage_history() -> impl Strategy<Value = Vec<Vec<TriageCall>>> {
    proptest::collection::vec(proptest::collection::vec(triage_call(), 1..=3), 1..=12)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct AllegationModel {
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

/// The allegations as the service holds them now, in the model's terms, with their etags.
async fn read_allegations(
    supervisor: &mut IntakeClient,
    ids: &[String],
) -> (Vec<AllegationModel>, Vec<String>) {
    let mut read = Vec::new();
    let mut etags = Vec::new();
    for id in ids {
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
            // Counted by the caller from the calls taken.
            version: 0,
        });
        etags.push(a.etag);
    }
    (read, etags)
}

fn send_triage_call(
    mut supervisor: IntakeClient,
    call: TriageCall,
    etag: Option<String>,
    ids: &[String],
) -> impl std::future::Future<Output = Outcome> + Send + 'static {
    let etag = etag.unwrap_or_default();
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
}
