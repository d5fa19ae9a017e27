//! What a case says about its incident: title, parties, violations, casualty figures, when,
//! where, and who works on it. Each field parses on its own, so that an update names only the
//! fields it changes and opening a case is the same changes applied to a new case.

use chrono::{DateTime, Utc};

use crate::Violations;
use crate::allegation::PeriodInput;
use crate::coded::coded_enum;
use crate::incident::{IncidentPeriod, Location, LocationInput, VictimGroup, ViolationType};
use crate::party::{KnownParties, PartyCode};
use crate::text::bounded_text;

bounded_text!(
    /// A case's short title.
    Title,
    300
);

bounded_text!(
    /// What a case is about.
    Summary,
    10_000
);

bounded_text!(
    /// An investigator or prosecutor, by token subject.
    OfficerName,
    200
);

coded_enum! {
    /// A field of a case that can be set, by its field-mask path.
    pub enum CaseField {
        Title => "title",
        Summary => "summary",
        PartyCodes => "party_codes",
        ViolationTypes => "violation_types",
        Victims => "victims",
        IncidentPeriod => "incident_period",
        Location => "location",
        AssignedInvestigator => "assigned_investigator",
        AssignedProsecutor => "assigned_prosecutor",
    }
}

/// A case's fields as they arrive, decoded from the wire but not yet checked.
#[derive(Debug, Clone, Default)]
pub struct CaseContentInput {
    pub title: String,
    pub summary: String,
    pub party_codes: Vec<String>,
    pub violation_types: Vec<Option<ViolationType>>,
    pub victims: Vec<crate::allegation::VictimGroupInput>,
    pub incident_period: Option<PeriodInput>,
    pub location: Option<LocationInput>,
    pub assigned_investigator: String,
    pub assigned_prosecutor: String,
}

/// The new value of one field of a case; `None` clears an optional field.
#[derive(Debug, Clone, PartialEq)]
pub enum CaseContent {
    Title(Title),
    Summary(Option<Summary>),
    PartyCodes(Vec<PartyCode>),
    ViolationTypes(Vec<ViolationType>),
    Victims(Vec<VictimGroup>),
    IncidentPeriod(Option<IncidentPeriod>),
    Location(Option<Location>),
    AssignedInvestigator(Option<OfficerName>),
    AssignedProsecutor(Option<OfficerName>),
}

/// The most items a repeated field of a case may hold.
pub const MAX_ITEMS: usize = 100;

impl CaseContent {
    /// The new values of `fields` in `input`, checked at `now` against the deployment's parties.
    /// Field paths are those of the proto `Case` (`victims[2].count`).
    pub fn parse(
        input: CaseContentInput,
        fields: &[CaseField],
        parties: &KnownParties,
        now: DateTime<Utc>,
    ) -> Result<Vec<CaseContent>, Violations> {
        let mut v = Violations::default();
        let mut input = input;
        let mut changes = Vec::with_capacity(fields.len());
        for field in fields {
            if let Some(change) = parse_field(&mut v, *field, &mut input, parties, now) {
                changes.push(change);
            }
        }
        v.into_result().map(|()| changes)
    }
}

fn optional<T>(
    v: &mut Violations,
    field: &str,
    value: String,
    parse: fn(String) -> Result<T, String>,
) -> Option<Option<T>> {
    if value.trim().is_empty() {
        Some(None)
    } else {
        v.check(field, parse(value)).map(Some)
    }
}

fn parse_field(
    v: &mut Violations,
    field: CaseField,
    input: &mut CaseContentInput,
    parties: &KnownParties,
    now: DateTime<Utc>,
) -> Option<CaseContent> {
    let name = field.code();
    match field {
        CaseField::Title => v
            .check(name, Title::parse(std::mem::take(&mut input.title)))
            .map(CaseContent::Title),
        CaseField::Summary => optional(v, name, std::mem::take(&mut input.summary), Summary::parse)
            .map(CaseContent::Summary),
        CaseField::AssignedInvestigator => optional(
            v,
            name,
            std::mem::take(&mut input.assigned_investigator),
            OfficerName::parse,
        )
        .map(CaseContent::AssignedInvestigator),
        CaseField::AssignedProsecutor => optional(
            v,
            name,
            std::mem::take(&mut input.assigned_prosecutor),
            OfficerName::parse,
        )
        .map(CaseContent::AssignedProsecutor),
        CaseField::PartyCodes => {
            let before = v.iter().count();
            let codes = bounded_list(v, name, &input.party_codes, |code| {
                let code = PartyCode::parse(code)?;
                if parties.admits(&code) {
                    Ok(code)
                } else {
                    Err(parties.refusal())
                }
            });
            (v.iter().count() == before).then_some(CaseContent::PartyCodes(codes))
        }
        CaseField::ViolationTypes => {
            let before = v.iter().count();
            let types = bounded_list(v, name, &input.violation_types, |t| {
                t.ok_or_else(|| "is required".to_owned())
            });
            (v.iter().count() == before).then_some(CaseContent::ViolationTypes(types))
        }
        CaseField::Victims => {
            let before = v.iter().count();
            let victims = std::mem::take(&mut input.victims);
            if victims.len() > MAX_ITEMS {
                v.add(name, format!("must hold at most {MAX_ITEMS} items"));
                return None;
            }
            let mut groups = Vec::with_capacity(victims.len());
            for (index, g) in victims.into_iter().enumerate() {
                let field = format!("{name}[{index}]");
                if let Some(group) = v.nest(&field, VictimGroup::parse(g)) {
                    if let Some(party) = &group.affiliation
                        && !parties.admits(party)
                    {
                        v.add(format!("{field}.affiliation_party_code"), parties.refusal());
                    }
                    groups.push(group);
                }
            }
            (v.iter().count() == before).then_some(CaseContent::Victims(groups))
        }
        CaseField::IncidentPeriod => match input.incident_period.take() {
            None => Some(CaseContent::IncidentPeriod(None)),
            Some(p) => v
                .nest(
                    name,
                    IncidentPeriod::parse(p.start, p.end, p.precision, now),
                )
                .map(|p| CaseContent::IncidentPeriod(Some(p))),
        },
        CaseField::Location => match input.location.take() {
            None => Some(CaseContent::Location(None)),
            Some(l) => v
                .nest(name, Location::parse(l))
                .map(|l| CaseContent::Location(Some(l))),
        },
    }
}

/// Parses each item of a list of at most [`MAX_ITEMS`], refusing repetitions.
fn bounded_list<I, T: PartialEq + std::fmt::Debug>(
    v: &mut Violations,
    field: &str,
    items: &[I],
    parse: impl Fn(&I) -> Result<T, String>,
) -> Vec<T> {
    if items.len() > MAX_ITEMS {
        v.add(field, format!("must hold at most {MAX_ITEMS} items"));
        return Vec::new();
    }
    let mut parsed = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        let path = format!("{field}[{index}]");
        match parse(item) {
            Ok(value) if parsed.contains(&value) => v.add(path, format!("repeats {value:?}")),
            Ok(value) => parsed.push(value),
            Err(reason) => v.add(path, reason),
        }
    }
    parsed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(v: &Violations) -> Vec<&str> {
        v.iter().map(|v| v.field.as_str()).collect()
    }

    #[test]
    fn only_the_named_fields_are_parsed() {
        let input = CaseContentInput {
            title: String::new(),
            assigned_prosecutor: "prosecutor.huseynov".into(),
            ..CaseContentInput::default()
        };
        let changes = CaseContent::parse(
            input,
            &[CaseField::AssignedProsecutor],
            &KnownParties::default(),
            Utc::now(),
        )
        .unwrap();
        assert!(matches!(
            &changes[..],
            [CaseContent::AssignedProsecutor(Some(name))] if name.as_str() == "prosecutor.huseynov"
        ));
    }

    #[test]
    fn every_bad_field_is_named() {
        let input = CaseContentInput {
            title: " ".into(),
            party_codes: vec!["AM".into(), "AM".into(), "am".into()],
            violation_types: vec![None],
            ..CaseContentInput::default()
        };
        let error = CaseContent::parse(input, CaseField::ALL, &KnownParties::default(), Utc::now())
            .unwrap_err();
        assert_eq!(
            fields(&error),
            [
                "title",
                "party_codes[1]",
                "party_codes[2]",
                "violation_types[0]"
            ]
        );
    }

    #[test]
    fn parties_outside_the_deployment_are_refused() {
        let known = KnownParties::parse(&["AZ", "AM"]).unwrap();
        let input = CaseContentInput {
            party_codes: vec!["RU".into()],
            ..CaseContentInput::default()
        };
        let error =
            CaseContent::parse(input, &[CaseField::PartyCodes], &known, Utc::now()).unwrap_err();
        assert_eq!(fields(&error), ["party_codes[0]"]);
    }
}
