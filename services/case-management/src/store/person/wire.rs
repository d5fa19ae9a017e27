//! A person's role details to and from their stored columns and wire message.

use docket_domain::UnknownCode;
use docket_domain::case::{ModeOfLiability, PersonRole, PersonRoleDetails, ProtectiveMeasure};
use docket_proto::docket::cases::v1 as pb;
use docket_proto::timestamp;
use sea_orm::ActiveValue::Set;

use crate::entity::{case_person, join_codes, split_codes};

/// Sets the role and its details on `row`, clearing the details of other roles.
pub(super) fn set_details(row: &mut case_person::ActiveModel, details: &PersonRoleDetails) {
    row.role = Set(details.role().code().to_owned());
    row.position_title = Set(None);
    row.affiliation_party_code = Set(None);
    row.mode_of_liability = Set(None);
    row.pseudonym = Set(None);
    row.protective_measures = Set(String::new());
    match details {
        PersonRoleDetails::Suspect {
            position,
            affiliation,
            mode_of_liability,
        } => {
            row.position_title = Set(position.as_ref().map(|p| p.as_str().to_owned()));
            row.affiliation_party_code = Set(affiliation.as_ref().map(|p| p.as_str().to_owned()));
            row.mode_of_liability = Set(Some(mode_of_liability.code().to_owned()));
        }
        PersonRoleDetails::Victim { affiliation } => {
            row.affiliation_party_code = Set(affiliation.as_ref().map(|p| p.as_str().to_owned()));
        }
        PersonRoleDetails::Witness {
            pseudonym,
            protective_measures,
        } => {
            row.pseudonym = Set(pseudonym.as_ref().map(|p| p.as_str().to_owned()));
            row.protective_measures = Set(join_codes(protective_measures.iter().map(|m| m.code())));
        }
    }
}

/// The wire message of a person in a case, with the identity as this caller may see it.
pub(super) fn person(
    link: case_person::Model,
    display_name: String,
    contact: Option<String>,
    redacted: bool,
) -> Result<pb::Person, UnknownCode> {
    Ok(pb::Person {
        id: link.person_id.to_string(),
        role: pb::PersonRole::from(PersonRole::from_code(&link.role)?).into(),
        display_name,
        contact: contact.unwrap_or_default(),
        redacted,
        position: link.position_title.unwrap_or_default(),
        affiliation_party_code: link.affiliation_party_code.unwrap_or_default(),
        mode_of_liability: match link.mode_of_liability {
            Some(code) => pb::ModeOfLiability::from(ModeOfLiability::from_code(&code)?).into(),
            None => 0,
        },
        pseudonym: link.pseudonym.unwrap_or_default(),
        protective_measures: split_codes(&link.protective_measures)
            .map(|code| {
                ProtectiveMeasure::from_code(code).map(|m| pb::ProtectiveMeasure::from(m).into())
            })
            .collect::<Result<_, _>>()?,
        added_at: Some(timestamp(link.added_at)),
    })
}
