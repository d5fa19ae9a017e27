//! A case as its history describes it: each field and each part (person, charge, evidence,
//! assessment) as a short readable value. Persons appear by id and role, never by name, so that
//! a history never holds an identity that is, or may later be, sealed.

use docket_domain::history::{self, FieldValue, Fields};
use docket_proto::describe;
use docket_proto::docket::cases::v1 as pb;
use sea_orm::entity::prelude::*;
use sea_orm::{ConnectionTrait, QueryOrder};

use crate::entity::{assessment, case_allegation, case_person, evidence, split_codes};
use crate::error::CaseError;

/// The fields of case `case` (as read in `conn`) with its `charges`.
pub(in crate::store) async fn of<C: ConnectionTrait>(
    conn: &C,
    case: &pb::Case,
    charges: &[pb::Charge],
) -> Result<Fields, CaseError> {
    let id: Uuid = case
        .id
        .parse()
        .map_err(|_| CaseError::Unexpected(anyhow::anyhow!("a stored case id is not a UUID")))?;
    let mut fields = Fields::new();
    let mut put = |field: String, value: Option<String>| {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            fields.insert(field, FieldValue::plain(value));
        }
    };
    put("title".into(), Some(case.title.clone()));
    put("summary".into(), Some(case.summary.clone()));
    put(
        "status".into(),
        Some(short(case.status().as_str_name(), "CASE_STATUS_")),
    );
    if case.close_reason != 0 {
        put(
            "close_reason".into(),
            Some(short(case.close_reason().as_str_name(), "CLOSE_REASON_")),
        );
    }
    put(
        "merged_into_case_id".into(),
        Some(case.merged_into_case_id.clone()),
    );
    put("party_codes".into(), history::list(&case.party_codes));
    put(
        "violation_types".into(),
        history::list(
            case.violation_types
                .iter()
                .map(|t| describe::violation_type(*t)),
        ),
    );
    put(
        "crime_type_codes".into(),
        history::list(&case.crime_type_codes),
    );
    put(
        "victims".into(),
        history::list(case.victims.iter().map(describe::victim_group)),
    );
    put(
        "incident_period".into(),
        case.incident_period.as_ref().map(describe::period),
    );
    put(
        "location".into(),
        case.location.as_ref().map(describe::location),
    );
    put(
        "assigned_investigator".into(),
        Some(case.assigned_investigator.clone()),
    );
    put(
        "assigned_prosecutor".into(),
        Some(case.assigned_prosecutor.clone()),
    );

    let allegations = case_allegation::Entity::find()
        .filter(case_allegation::Column::CaseId.eq(id))
        .order_by_asc(case_allegation::Column::LinkedAt)
        .order_by_asc(case_allegation::Column::AllegationId)
        .all(conn)
        .await?;
    put(
        "allegations".into(),
        history::list(allegations.iter().map(|a| match a.duplicate_of_id {
            Some(original) => format!("{} (duplicate of {original})", a.reference),
            None => a.reference.clone(),
        })),
    );
    for person in case_person::Entity::find()
        .filter(case_person::Column::CaseId.eq(id))
        .all(conn)
        .await?
    {
        put(
            format!("persons[{}]", person.person_id),
            Some(role(&person)),
        );
    }
    for charge in charges {
        put(
            format!("charges[{}]", charge.id),
            Some(describe_charge(charge)),
        );
    }
    for item in evidence::Entity::find()
        .filter(evidence::Column::CaseId.eq(id))
        .filter(evidence::Column::UnlinkedAt.is_null())
        .all(conn)
        .await?
    {
        put(
            format!("evidence[{}]", item.evidence_id),
            Some(item.description),
        );
    }
    for a in assessment::Entity::find()
        .filter(assessment::Column::CaseId.eq(id))
        .all(conn)
        .await?
    {
        put(
            format!("assessments[{}]", a.id),
            Some(format!(
                "{} by {} ({}) of evidence {}",
                a.verdict, a.examiner, a.method, a.evidence_id
            )),
        );
    }
    Ok(fields)
}

/// A wire enum name without its prefix, in lower case: `under_investigation`.
fn short(name: &str, prefix: &str) -> String {
    name.strip_prefix(prefix).unwrap_or(name).to_lowercase()
}

/// A person's role in the case and its details, without their identity.
fn role(person: &case_person::Model) -> String {
    let mut parts = vec![person.role.clone()];
    let details = [
        ("mode of liability", person.mode_of_liability.as_deref()),
        ("position", person.position_title.as_deref()),
        ("party", person.affiliation_party_code.as_deref()),
        ("pseudonym", person.pseudonym.as_deref()),
    ];
    for (label, value) in details {
        if let Some(value) = value.filter(|v| !v.is_empty()) {
            parts.push(format!("{label} {value}"));
        }
    }
    let measures: Vec<&str> = split_codes(&person.protective_measures).collect();
    if !measures.is_empty() {
        parts.push(format!("protective measures {}", measures.join(" ")));
    }
    parts.join(", ")
}

fn describe_charge(charge: &pb::Charge) -> String {
    format!(
        "{} against person {}, filed {}{}, {}",
        charge.crime_type_code,
        charge.person_id,
        charge.filed_date,
        if charge.in_absentia {
            " in absentia"
        } else {
            ""
        },
        short(charge.status().as_str_name(), "CHARGE_STATUS_"),
    )
}
