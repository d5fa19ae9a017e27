//! Reading cases from the projections a page at a time: a page of `case_facts` by id, then the
//! many-valued rows of just those cases, so memory holds one page whatever the number of cases.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use docket_proto::docket::reporting::v1 as pb;
use sea_orm::{ConnectionTrait, DbErr, QueryResult, Value};

use crate::sql::query;
use crate::statistics;

/// One case as the projections hold it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CaseRow {
    pub case_id: String,
    pub reference: Option<String>,
    pub status: String,
    /// Whether the counting rule counts the case, or why not (`crate::counting`).
    pub counting: String,
    pub opened_time: Option<DateTime<Utc>>,
    pub incident_week: Option<String>,
    pub place: Option<String>,
    pub parties: Vec<String>,
    pub crime_types: Vec<String>,
    pub casualties: Vec<Casualties>,
    pub charges: Vec<Charge>,
}

/// One casualty figure of a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Casualties {
    pub status: String,
    pub harm: String,
    pub age_group: String,
    pub sex: String,
    pub count: i64,
}

/// One charge of a case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Charge {
    pub person_id: String,
    pub crime_type: String,
    pub in_absentia: bool,
    /// Its status name, such as `CHARGE_STATUS_FILED`.
    pub status: String,
}

/// Whether cases can be exported filtered by `dimension`: as statistics filter cases, but
/// never by place, which an export does not show.
pub fn filterable(dimension: pb::Dimension) -> bool {
    use pb::Dimension as D;
    matches!(
        dimension,
        D::Party | D::CrimeType | D::CaseStatus | D::IncidentWeek
    )
}

/// The SQL condition on `case_facts f` for one filter, the one statistics apply to cases.
fn condition(dimension: pb::Dimension, marks: &str) -> Option<String> {
    filterable(dimension)
        .then(|| statistics::filter_condition(pb::Measure::Cases, dimension, marks))
        .flatten()
}

/// Up to `limit` cases with an id after `after` that pass `filters`, ordered by id.
pub async fn page<C: ConnectionTrait>(
    conn: &C,
    filters: &[(pb::Dimension, Vec<String>)],
    after: &str,
    limit: u64,
) -> Result<Vec<CaseRow>, DbErr> {
    let mut sql = String::from(
        "SELECT f.case_id, f.reference, f.status, f.opened_time, f.incident_week, f.place, \
         f.counting FROM case_facts f WHERE f.case_id > ?",
    );
    let mut values: Vec<Value> = vec![after.into()];
    for (dimension, accepted) in filters {
        let marks = vec!["?"; accepted.len()].join(", ");
        if let Some(condition) = condition(*dimension, &marks) {
            sql.push_str(" AND ");
            sql.push_str(&condition);
            values.extend(accepted.iter().map(|a| Value::from(a.clone())));
        }
    }
    sql.push_str(&format!(" ORDER BY f.case_id LIMIT {limit}"));
    let mut cases = Vec::new();
    for row in query(conn, &sql, values).await? {
        cases.push(CaseRow {
            case_id: row.try_get_by_index(0)?,
            reference: row.try_get_by_index(1)?,
            status: row.try_get_by_index(2)?,
            opened_time: row.try_get_by_index(3)?,
            incident_week: row.try_get_by_index(4)?,
            place: row.try_get_by_index(5)?,
            counting: row.try_get_by_index(6)?,
            ..CaseRow::default()
        });
    }
    if !cases.is_empty() {
        complete(conn, &mut cases).await?;
    }
    Ok(cases)
}

/// Fills in the parties, crime types, casualties and charges of `cases`.
async fn complete<C: ConnectionTrait>(conn: &C, cases: &mut [CaseRow]) -> Result<(), DbErr> {
    let position: HashMap<String, usize> = cases
        .iter()
        .enumerate()
        .map(|(i, c)| (c.case_id.clone(), i))
        .collect();
    let ids: Vec<Value> = cases.iter().map(|c| c.case_id.clone().into()).collect();
    let marks = vec!["?"; ids.len()].join(", ");
    let rows = |template: &str| {
        let sql = template.replace("{ids}", &marks);
        let ids = ids.clone();
        async move { query(conn, &sql, ids).await }
    };

    for row in rows(
        "SELECT case_id, party_code FROM case_parties WHERE case_id IN ({ids}) \
         ORDER BY case_id, party_code",
    )
    .await?
    {
        let party = row.try_get_by_index(1)?;
        owner(cases, &position, &row)?.parties.push(party);
    }
    for row in rows(
        "SELECT case_id, crime_type_code FROM case_crime_types WHERE case_id IN ({ids}) \
         ORDER BY case_id, crime_type_code",
    )
    .await?
    {
        let crime = row.try_get_by_index(1)?;
        owner(cases, &position, &row)?.crime_types.push(crime);
    }
    for row in rows(
        "SELECT case_id, victim_status, harm, age_group, sex, count FROM case_victims \
         WHERE case_id IN ({ids}) ORDER BY case_id, position",
    )
    .await?
    {
        let group = Casualties {
            status: row.try_get_by_index(1)?,
            harm: row.try_get_by_index(2)?,
            age_group: row.try_get_by_index(3)?,
            sex: row.try_get_by_index(4)?,
            count: row.try_get_by_index(5)?,
        };
        owner(cases, &position, &row)?.casualties.push(group);
    }
    for row in rows(
        "SELECT case_id, person_id, crime_type_code, in_absentia, status FROM case_charges \
         WHERE case_id IN ({ids}) ORDER BY case_id, charge_id",
    )
    .await?
    {
        let in_absentia: String = row.try_get_by_index(3)?;
        let charge = Charge {
            person_id: row.try_get_by_index(1)?,
            crime_type: row.try_get_by_index(2)?,
            in_absentia: in_absentia == "true",
            status: row.try_get_by_index(4)?,
        };
        owner(cases, &position, &row)?.charges.push(charge);
    }
    Ok(())
}

/// The case of the page that `row` (whose first column is a case id) belongs to.
fn owner<'a>(
    cases: &'a mut [CaseRow],
    position: &HashMap<String, usize>,
    row: &QueryResult,
) -> Result<&'a mut CaseRow, DbErr> {
    let case_id: String = row.try_get_by_index(0)?;
    position
        .get(&case_id)
        .and_then(|&i| cases.get_mut(i))
        .ok_or_else(|| DbErr::Custom(format!("case {case_id} is not in the page read")))
}
