//! Persons in a case: suspects with their mode of liability, victims, and witnesses whose
//! identity is sealed and who may be granted protective measures.

use crate::Violations;
use crate::coded::coded_enum;
use crate::party::PartyCode;
use crate::text::bounded_text;

use super::victim::{CasualtyDetails, CasualtyInput};

coded_enum! {
    /// The role a person has in a case.
    pub enum PersonRole {
        Suspect => "suspect",
        Victim => "victim",
        Witness => "witness",
    }
}

coded_enum! {
    /// How a suspect is alleged to be responsible (Rome Statute articles 25 and 28).
    pub enum ModeOfLiability {
        DirectPerpetration => "direct_perpetration",
        CoPerpetration => "co_perpetration",
        Ordering => "ordering",
        AidingAndAbetting => "aiding_and_abetting",
        CommandResponsibility => "command_responsibility",
    }
}

coded_enum! {
    /// A protective measure granted to a witness.
    pub enum ProtectiveMeasure {
        Pseudonym => "pseudonym",
        FaceAndVoiceDistortion => "face_and_voice_distortion",
        ClosedSession => "closed_session",
        DelayedDisclosure => "delayed_disclosure",
        Relocation => "relocation",
    }
}

bounded_text!(
    /// A person's name. Sealed at rest for witnesses.
    PersonName,
    200
);

bounded_text!(
    /// A suspect's position or rank.
    Position,
    200
);

bounded_text!(
    /// The name a protected witness appears under, such as `W-017`.
    Pseudonym,
    50
);

impl PersonRole {
    /// Whether a person in this role has their identity sealed: a witness's name can cost them
    /// their life, and a victim's name exposes their family. Once sealed, an identity stays
    /// sealed in every case.
    pub fn seals_identity(self) -> bool {
        matches!(self, PersonRole::Witness | PersonRole::Victim)
    }
}

/// A role's details as they arrive; `None` enums were left unspecified.
#[derive(Debug, Clone, Default)]
pub struct PersonRoleInput {
    pub role: Option<PersonRole>,
    pub position: String,
    pub affiliation_party_code: String,
    pub mode_of_liability: Option<ModeOfLiability>,
    pub pseudonym: String,
    pub protective_measures: Vec<Option<ProtectiveMeasure>>,
    /// A victim's register details, when given.
    pub casualty: Option<CasualtyInput>,
}

/// A person's role in a case with the details that belong to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PersonRoleDetails {
    Suspect {
        position: Option<Position>,
        affiliation: Option<PartyCode>,
        mode_of_liability: ModeOfLiability,
    },
    /// A victim, with the party they belong to (the victims' side) when known, and what the
    /// casualty register records of them when they are known individually.
    Victim {
        affiliation: Option<PartyCode>,
        casualty: Option<CasualtyDetails>,
    },
    Witness {
        pseudonym: Option<Pseudonym>,
        protective_measures: Vec<ProtectiveMeasure>,
    },
}

impl PersonRoleDetails {
    /// Field paths: `role`, `position`, `affiliation_party_code`, `mode_of_liability`,
    /// `pseudonym`, `protective_measures[i]`, `victim.*`. Details of another role are refused
    /// rather than dropped, so that nothing sent is silently lost. `today` bounds a victim's
    /// dates.
    pub fn parse(input: PersonRoleInput, today: chrono::NaiveDate) -> Result<Self, Violations> {
        let mut v = Violations::default();
        let Some(role) = input.role else {
            v.add("role", "is required");
            return Err(v);
        };
        let suspect = role == PersonRole::Suspect;
        let witness = role == PersonRole::Witness;
        let refuse = |v: &mut Violations, field: &str, present: bool, only: &str| {
            if present {
                v.add(field, format!("is only given for a {only}"));
            }
        };
        refuse(
            &mut v,
            "position",
            !suspect && !input.position.trim().is_empty(),
            "suspect",
        );
        refuse(
            &mut v,
            "affiliation_party_code",
            witness && !input.affiliation_party_code.is_empty(),
            "suspect or a victim",
        );
        refuse(
            &mut v,
            "mode_of_liability",
            !suspect && input.mode_of_liability.is_some(),
            "suspect",
        );
        refuse(
            &mut v,
            "pseudonym",
            !witness && !input.pseudonym.trim().is_empty(),
            "witness",
        );
        refuse(
            &mut v,
            "protective_measures",
            !witness && !input.protective_measures.is_empty(),
            "witness",
        );
        refuse(
            &mut v,
            "victim",
            role != PersonRole::Victim && input.casualty.is_some(),
            "victim",
        );
        let casualty = match input.casualty {
            Some(casualty) if role == PersonRole::Victim => {
                v.nest("victim", CasualtyDetails::parse(casualty, today))
            }
            _ => None,
        };
        let affiliation = match input.affiliation_party_code.as_str() {
            "" => None,
            _ if witness => None,
            code => v.check("affiliation_party_code", PartyCode::parse(code)),
        };
        let details = match role {
            PersonRole::Victim => Some(PersonRoleDetails::Victim {
                affiliation,
                casualty,
            }),
            PersonRole::Suspect => {
                let position = if input.position.trim().is_empty() {
                    None
                } else {
                    v.check("position", Position::parse(input.position))
                };
                if input.mode_of_liability.is_none() {
                    v.add("mode_of_liability", "is required for a suspect");
                }
                input
                    .mode_of_liability
                    .map(|mode_of_liability| PersonRoleDetails::Suspect {
                        position,
                        affiliation,
                        mode_of_liability,
                    })
            }
            PersonRole::Witness => {
                let pseudonym = if input.pseudonym.trim().is_empty() {
                    None
                } else {
                    v.check("pseudonym", Pseudonym::parse(input.pseudonym))
                };
                let mut measures = Vec::new();
                for (index, measure) in input.protective_measures.into_iter().enumerate() {
                    let field = format!("protective_measures[{index}]");
                    match measure {
                        None => v.add(field, "is required"),
                        Some(m) if measures.contains(&m) => v.add(field, format!("repeats {m}")),
                        Some(m) => measures.push(m),
                    }
                }
                Some(PersonRoleDetails::Witness {
                    pseudonym,
                    protective_measures: measures,
                })
            }
        };
        match details {
            Some(details) if v.is_empty() => Ok(details),
            _ => Err(v),
        }
    }

    pub fn role(&self) -> PersonRole {
        match self {
            PersonRoleDetails::Suspect { .. } => PersonRole::Suspect,
            PersonRoleDetails::Victim { .. } => PersonRole::Victim,
            PersonRoleDetails::Witness { .. } => PersonRole::Witness,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn today() -> chrono::NaiveDate {
        chrono::NaiveDate::from_ymd_opt(2026, 11, 30).unwrap()
    }

    fn fields(v: &Violations) -> Vec<&str> {
        v.iter().map(|v| v.field.as_str()).collect()
    }

    #[test]
    fn a_suspect_needs_a_mode_of_liability() {
        let error = PersonRoleDetails::parse(
            PersonRoleInput {
                role: Some(PersonRole::Suspect),
                affiliation_party_code: "am".into(),
                ..PersonRoleInput::default()
            },
            today(),
        )
        .unwrap_err();
        assert_eq!(
            fields(&error),
            ["affiliation_party_code", "mode_of_liability"]
        );
        let suspect = PersonRoleDetails::parse(
            PersonRoleInput {
                role: Some(PersonRole::Suspect),
                position: "President".into(),
                affiliation_party_code: "AM-NK".into(),
                mode_of_liability: Some(ModeOfLiability::CommandResponsibility),
                ..PersonRoleInput::default()
            },
            today(),
        )
        .unwrap();
        assert_eq!(suspect.role(), PersonRole::Suspect);
    }

    #[test]
    fn a_victim_records_their_side_and_a_witness_none() {
        let victim = PersonRoleDetails::parse(
            PersonRoleInput {
                role: Some(PersonRole::Victim),
                affiliation_party_code: "AZ".into(),
                ..PersonRoleInput::default()
            },
            today(),
        )
        .unwrap();
        assert!(matches!(
            victim,
            PersonRoleDetails::Victim { affiliation: Some(ref p), .. } if p.as_str() == "AZ"
        ));
        let error = PersonRoleDetails::parse(
            PersonRoleInput {
                role: Some(PersonRole::Witness),
                affiliation_party_code: "AZ".into(),
                ..PersonRoleInput::default()
            },
            today(),
        )
        .unwrap_err();
        assert_eq!(fields(&error), ["affiliation_party_code"]);
    }

    #[test]
    fn details_of_another_role_are_refused() {
        let error = PersonRoleDetails::parse(
            PersonRoleInput {
                role: Some(PersonRole::Victim),
                mode_of_liability: Some(ModeOfLiability::Ordering),
                pseudonym: "W-1".into(),
                ..PersonRoleInput::default()
            },
            today(),
        )
        .unwrap_err();
        assert_eq!(fields(&error), ["mode_of_liability", "pseudonym"]);
    }

    #[test]
    fn a_witness_takes_each_protective_measure_once() {
        let error = PersonRoleDetails::parse(
            PersonRoleInput {
                role: Some(PersonRole::Witness),
                protective_measures: vec![
                    Some(ProtectiveMeasure::Pseudonym),
                    Some(ProtectiveMeasure::Pseudonym),
                    None,
                ],
                ..PersonRoleInput::default()
            },
            today(),
        )
        .unwrap_err();
        assert_eq!(
            fields(&error),
            ["protective_measures[1]", "protective_measures[2]"]
        );
        assert!(PersonRole::Witness.seals_identity());
        assert!(PersonRole::Victim.seals_identity());
        assert!(!PersonRole::Suspect.seals_identity());
    }
}
