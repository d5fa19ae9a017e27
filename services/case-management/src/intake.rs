//! What case management asks intake, with its own `service` token: whether an evidence id names
//! evidence intake holds (and, for evidence delivered as registered to a case, whether intake
//! holds it registered to that case), and whether a delivered allegation is one intake
//! accepted, exactly as intake holds it.
//!
//! A `service` token alone proves only that the caller is one of Docket's services (or holds
//! one's key): `ReceiveAllegation` does not open a case on its word. Asking intake, which owns
//! the allegation, costs one call per delivery and needs no key shared between the services; it
//! leaves availability as it was, since the deliveries come from intake's own dispatcher, and an
//! intake that cannot answer makes the delivery UNAVAILABLE, which the dispatcher retries.

use std::collections::HashMap;

use docket_domain::case::Verdict;
use docket_platform::auth::ServiceCredentials;
use docket_platform::grpc::ClientSpans;
use docket_platform::settings::TlsSettings;
use docket_proto::docket::cases::v1 as cases;
use docket_proto::docket::intake::v1 as intake;
use docket_proto::docket::intake::v1::intake_service_client::IntakeServiceClient;
use tonic::Code;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use uuid::Uuid;

use crate::error::CaseError;

/// What intake holds on an item's content: its verdict, and its open review flags (a
/// near-duplicate judged fabricated).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContentStanding {
    pub verdict: Option<Verdict>,
    pub review_flags: Vec<cases::ContentReviewFlag>,
}

impl ContentStanding {
    /// What intake's record `evidence` says of its content.
    pub fn of(evidence: &intake::Evidence) -> Self {
        Self {
            verdict: evidence
                .content_verdict
                .as_ref()
                .and_then(|assessment| Verdict::try_from(assessment.verdict()).ok()),
            review_flags: evidence
                .review_flags
                .iter()
                .map(cases::ContentReviewFlag::from)
                .collect(),
        }
    }
}

/// An evidence record of a delivered allegation, as intake holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllegationEvidence {
    pub id: Uuid,
    pub file_name: String,
}

/// An evidence record as intake holds it, for a delivery of evidence registered to a case.
#[derive(Debug, Clone, PartialEq)]
pub struct RegisteredEvidence {
    pub id: Uuid,
    /// The case intake holds it registered to; `None` for evidence of an allegation.
    pub case_id: Option<Uuid>,
    pub file_name: String,
    /// Who uploaded it into intake (and so registered it to the case).
    pub uploaded_by: String,
    pub content: ContentStanding,
}

/// A client of intake's evidence records and allegations.
#[derive(Debug, Clone)]
pub struct IntakeEvidence {
    pub(crate) client:
        IntakeServiceClient<InterceptedService<ClientSpans<Channel>, ServiceCredentials>>,
}

impl IntakeEvidence {
    /// A client of intake at `url` (TLS for `https://`); it connects when first used.
    pub fn new(
        url: &str,
        tls: &TlsSettings,
        credentials: ServiceCredentials,
    ) -> anyhow::Result<Self> {
        // Each call a CLIENT span, whose trace the server continues.
        let channel = ClientSpans::new(docket_platform::grpc::tls::channel(url, tls)?);
        Ok(Self {
            client: IntakeServiceClient::with_interceptor(channel, credentials),
        })
    }

    /// Succeeds when intake holds evidence `id`, with what it holds on its content.
    pub async fn check(&self, id: Uuid) -> Result<ContentStanding, CaseError> {
        let request = intake::GetEvidenceRequest {
            evidence_id: id.to_string(),
        };
        match self.client.clone().get_evidence(request).await {
            Ok(answer) => Ok(ContentStanding::of(
                &answer.into_inner().evidence.unwrap_or_default(),
            )),
            Err(status) if status.code() == Code::NotFound => Err(CaseError::EvidenceUnknown(id)),
            Err(status) => Err(CaseError::IntakeUnavailable(status)),
        }
    }

    /// Intake's record of evidence `id`: the case it is registered to, if any, and who uploaded
    /// it. Unknown: [`CaseError::EvidenceUnknown`].
    pub async fn registration(&self, id: Uuid) -> Result<RegisteredEvidence, CaseError> {
        let request = intake::GetEvidenceRequest {
            evidence_id: id.to_string(),
        };
        let evidence = match self.client.clone().get_evidence(request).await {
            Ok(answer) => answer.into_inner().evidence.unwrap_or_default(),
            Err(status) if status.code() == Code::NotFound => {
                return Err(CaseError::EvidenceUnknown(id));
            }
            Err(status) => return Err(CaseError::IntakeUnavailable(status)),
        };
        Ok(RegisteredEvidence {
            id,
            case_id: Uuid::parse_str(&evidence.case_id).ok(),
            content: ContentStanding::of(&evidence),
            file_name: evidence.file_name,
            uploaded_by: evidence.uploaded_by,
        })
    }

    /// What intake holds on the content of each of `ids`, by evidence id. One call per item: a
    /// case links tens of items, not thousands.
    pub async fn content_verdicts(
        &self,
        ids: impl IntoIterator<Item = Uuid>,
    ) -> Result<HashMap<String, ContentStanding>, CaseError> {
        let mut standing = HashMap::new();
        for id in ids {
            standing.insert(id.to_string(), self.check(id).await?);
        }
        Ok(standing)
    }

    /// Records a link or unlink in the item's chain of custody (see `crate::custody`).
    pub async fn record_case_custody(
        &self,
        request: intake::RecordCaseCustodyRequest,
    ) -> Result<(), tonic::Status> {
        self.client
            .clone()
            .record_case_custody(request)
            .await
            .map(|_| ())
    }

    /// Succeeds when `delivered` (allegation `id`) is what intake delivers of it: an allegation
    /// intake holds, accepted or marked a duplicate, whose snapshot is exactly `delivered`.
    /// (Both are final in intake, so a true delivery matches however late or often it comes.)
    /// Returns the allegation's evidence records as intake holds them now (the first 1 000),
    /// which follow the allegation into its case.
    pub async fn confirm(
        &self,
        id: Uuid,
        delivered: &cases::AllegationSnapshot,
    ) -> Result<Vec<AllegationEvidence>, CaseError> {
        let request = intake::GetAllegationRequest { id: id.to_string() };
        let (held, evidence) = match self.client.clone().get_allegation(request).await {
            Ok(answer) => {
                let answer = answer.into_inner();
                let held = answer.allegation.ok_or_else(|| {
                    CaseError::IntakeUnavailable(tonic::Status::internal(
                        "intake answered GetAllegation without an allegation",
                    ))
                })?;
                let evidence = answer
                    .evidence
                    .into_iter()
                    .filter_map(|item| {
                        Some(AllegationEvidence {
                            id: Uuid::parse_str(&item.id).ok()?,
                            file_name: item.file_name,
                        })
                    })
                    .collect();
                (held, evidence)
            }
            Err(status) if status.code() == Code::NotFound => {
                return Err(CaseError::AllegationUnknown(id));
            }
            Err(status) => return Err(CaseError::IntakeUnavailable(status)),
        };
        let status = held.status();
        if !matches!(
            status,
            intake::AllegationStatus::Accepted | intake::AllegationStatus::Duplicate
        ) {
            return Err(CaseError::AllegationNotAccepted {
                reference: held.reference,
                status: status.as_str_name().to_owned(),
            });
        }
        let expected = cases::AllegationSnapshot::from(&held);
        if expected == *delivered {
            return Ok(evidence);
        }
        Err(CaseError::SnapshotMismatch {
            reference: held.reference,
            fields: differing_fields(&expected, delivered).join(", "),
        })
    }
}

/// The fields of `delivered` that differ from `expected`, as paths in the request.
fn differing_fields(
    expected: &cases::AllegationSnapshot,
    delivered: &cases::AllegationSnapshot,
) -> Vec<&'static str> {
    let fields = [
        ("allegation.id", expected.id == delivered.id),
        (
            "allegation.reference",
            expected.reference == delivered.reference,
        ),
        (
            "allegation.received_at",
            expected.received_at == delivered.received_at,
        ),
        (
            "allegation.violation_types",
            expected.violation_types == delivered.violation_types,
        ),
        (
            "allegation.alleged_perpetrators",
            expected.alleged_perpetrators == delivered.alleged_perpetrators,
        ),
        ("allegation.victims", expected.victims == delivered.victims),
        (
            "allegation.incident_period",
            expected.incident_period == delivered.incident_period,
        ),
        (
            "allegation.location",
            expected.location == delivered.location,
        ),
        (
            "allegation.duplicate_of_id",
            expected.duplicate_of_id == delivered.duplicate_of_id,
        ),
        (
            "allegation.join_case_id",
            expected.join_case_id == delivered.join_case_id,
        ),
    ];
    let differing: Vec<&'static str> = fields
        .into_iter()
        .filter_map(|(field, same)| (!same).then_some(field))
        .collect();
    // A field added to the snapshot and not named above still counts.
    if differing.is_empty() {
        vec!["allegation"]
    } else {
        differing
    }
}
