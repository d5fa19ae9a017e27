//! Case lifecycles on the service: the cases of a history opened, read back and called.

use std::collections::BTreeSet;

use docket_e2e::{CaseClient, TestApp, case_message};
use docket_platform::auth::Role;
use docket_proto::docket::cases::v1 as pb;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

use super::cases::{
    CRIMES, CaseCall, CaseModel, ChargeIds, ChargeModel, case_history, case_of, case_step, etag_of,
    live, no_merge_cycle,
};
use super::{Etag, Lifecycle, Outcome, SUBJECTS, refused};

/// The cases of one history, each with a suspect and a witness.
#[derive(Debug)]
pub(super) struct Cases {
    prosecutor: CaseClient,
    ids: Vec<String>,
    opened: Vec<(pb::Case, String, String)>,
}

impl Lifecycle for Cases {
    const SUBJECT: &'static str = "case";
    type Client = CaseClient;
    type Call = CaseCall;
    type Model = CaseModel;
    type Round = ChargeIds;

    async fn client(app: &TestApp) -> CaseClient {
        app.cases_as(Role::Prosecutor).await
    }

    fn history() -> impl Strategy<Value = Vec<Vec<CaseCall>>> {
        case_history()
    }

    async fn begin(mut prosecutor: CaseClient) -> (Self, Vec<CaseModel>) {
        let opened = open_cases(&mut prosecutor).await;
        let ids = opened.iter().map(|(c, _, _)| c.id.clone()).collect();
        let model = vec![
            CaseModel {
                status: pb::CaseStatus::Open,
                reason: pb::CloseReason::Unspecified,
                merged_into: None,
                crimes: BTreeSet::new(),
                charges: Default::default(),
                version: 0,
            };
            SUBJECTS
        ];
        (
            Self {
                prosecutor,
                ids,
                opened,
            },
            model,
        )
    }

    async fn read(&mut self) -> (Vec<CaseModel>, Vec<String>) {
        read_cases(&mut self.prosecutor, &self.ids).await
    }

    fn round(&self, model: &[CaseModel]) -> ChargeIds {
        model
            .iter()
            .map(|c| c.charges.keys().cloned().collect())
            .collect()
    }

    /// A charge call on a case without charges has nothing to name: it is left out.
    fn playable(call: &CaseCall, charge_ids: &ChargeIds) -> bool {
        match call {
            CaseCall::Charge { case, .. } => !charge_ids[*case].is_empty(),
            CaseCall::Move { .. } | CaseCall::Qualify { .. } | CaseCall::File { .. } => true,
        }
    }

    fn subject(call: &CaseCall) -> usize {
        case_of(call)
    }

    fn etag(call: &CaseCall) -> Etag {
        etag_of(call)
    }

    fn send(
        &self,
        call: CaseCall,
        etag: Option<String>,
        charge_ids: &ChargeIds,
    ) -> impl std::future::Future<Output = Outcome> + Send + 'static {
        send_case_call(
            self.prosecutor.clone(),
            call,
            etag,
            &self.ids,
            &self.opened,
            charge_ids,
        )
    }

    fn step(
        model: &mut [CaseModel],
        call: &CaseCall,
        sent: Option<u32>,
        charge_ids: &ChargeIds,
        answered: &Outcome,
    ) -> Outcome {
        case_step(model, call, sent, charge_ids, answered)
    }

    fn version(model: &CaseModel) -> u32 {
        model.version
    }

    fn set_version(model: &mut CaseModel, version: u32) {
        model.version = version;
    }

    fn invariants(model: &[CaseModel]) -> Result<(), TestCaseError> {
        no_merge_cycle(model)?;
        for case in model {
            for charge in case.charges.values().filter(|c| live(c)) {
                prop_assert!(
                    case.crimes.contains(&charge.crime),
                    "a live charge on a crime type the case is not qualified with: {case:?}"
                );
            }
        }
        Ok(())
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
async fn read_cases(prosecutor: &mut CaseClient, ids: &[String]) -> (Vec<CaseModel>, Vec<String>) {
    let mut cases = Vec::new();
    let mut etags = Vec::new();
    for id in ids {
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
            // Counted by the caller from the calls taken.
            version: 0,
        });
        etags.push(case.etag);
    }
    (cases, etags)
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
                let (target, reason, into) = to.request();
                let into = into.map(|n| ids[n].clone()).unwrap_or_default();
                prosecutor
                    .transition_case(pb::TransitionCaseRequest {
                        case_id,
                        etag,
                        target_status: target.into(),
                        reason: reason.into(),
                        note: String::new(),
                        merged_into_case_id: into,
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
