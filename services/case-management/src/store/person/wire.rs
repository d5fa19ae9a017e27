//! A person's role details to and from their stored columns and wire message.

use docket_domain::UnknownCode;
use docket_domain::case::{ModeOfLiability, PersonRole, PersonRoleDetails, ProtectiveMeasure};
use docket_domain::incident::{Harm, Sex, VictimStatus};
use docket_proto::docket::cases::v1 as pb;
use docket_proto::docket::common::v1 as common;
use docket_proto::timestamp;
use sea_orm::ActiveValue::Set;
use uuid::Uuid;

use crate::entity::{case_person, join_codes, split_codes};

/// Sets the role and its details on `row`, clearing the details of other roles.
pub(super) fn set_details(row: &mut case_person::ActiveModel, details: &PersonRoleDetails) {
    row.role = Set(details.role().code().to_owned());
    row.position_title = Set(None);
    row.affiliation_party_code = Set(None);
    row.mode_of_liability = Set(None);
    row.pseudonym = Set(None);
    row.protective_measures = Set(String::new());
    row.victim_status = Set(None);
    row.harm = Set(None);
    row.sex = Set(None);
    row.age_years = Set(None);
    row.birth_year = Set(None);
    row.harm_date = Set(None);
    row.harm_place = Set(None);
    row.source_allegation_ids = Set(None);
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
        PersonRoleDetails::Victim {
            affiliation,
            casualty,
        } => {
            row.affiliation_party_code = Set(affiliation.as_ref().map(|p| p.as_str().to_owned()));
            if let Some(c) = casualty {
                row.victim_status = Set(Some(c.status.code().to_owned()));
                row.harm = Set(Some(c.harm.code().to_owned()));
                row.sex = Set(Some(c.sex.code().to_owned()));
                row.age_years = Set(c.age_years.and_then(|a| i32::try_from(a).ok()));
                row.birth_year = Set(c.birth_year);
                row.harm_date = Set(c.harm_date.map(|d| d.format("%Y-%m-%d").to_string()));
                row.harm_place = Set(c.harm_place.as_ref().map(|p| p.as_str().to_owned()));
                let ids: Vec<String> = c.allegation_ids.iter().map(Uuid::to_string).collect();
                row.source_allegation_ids = Set(Some(join_codes(ids.iter().map(String::as_str))));
            }
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

/// A named victim's register details as stored in `link`, with their register entry; `None`
/// for anyone else.
pub(crate) fn victim(
    link: &case_person::Model,
    register_id: Uuid,
) -> Result<Option<pb::VictimDetails>, UnknownCode> {
    let (Some(status), Some(harm), Some(sex)) = (&link.victim_status, &link.harm, &link.sex) else {
        return Ok(None);
    };
    Ok(Some(pb::VictimDetails {
        status: common::VictimStatus::from(VictimStatus::from_code(status)?).into(),
        harm: common::Harm::from(Harm::from_code(harm)?).into(),
        sex: common::Sex::from(Sex::from_code(sex)?).into(),
        age_years: link.age_years,
        birth_year: link.birth_year,
        harm_date: link.harm_date.clone().unwrap_or_default(),
        harm_place: link.harm_place.clone().unwrap_or_default(),
        allegation_ids: link
            .source_allegation_ids
            .as_deref()
            .map(|ids| split_codes(ids).map(str::to_owned).collect())
            .unwrap_or_default(),
        register_id: register_id.to_string(),
    }))
}

/// The wire message of a person in a case, with the identity as this caller may see it.
pub(super) fn person(
    link: case_person::Model,
    display_name: String,
    contact: Option<String>,
    redacted: bool,
    register_id: Uuid,
) -> Result<pb::Person, UnknownCode> {
    let victim = victim(&link, register_id)?;
    Ok(pb::Person {
        victim,
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
