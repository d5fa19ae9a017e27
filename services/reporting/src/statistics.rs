//! `QueryStatistics`: one measure, grouped and filtered, as SQL over the fact tables.
//!
//! Many-valued dimensions (parties, crime types, violation types) are joined when grouped by,
//! so a case alleged against two parties appears once in each party's row, and are filtered
//! with semi-joins (`IN (SELECT …)`), so that filtering never counts an item twice. The total is
//! a separate query without the grouping joins: every item once.

use docket_domain::Violations;
use docket_proto::docket::reporting::v1 as pb;
use sea_orm::{ConnectionTrait, DbErr, Value};

use crate::counting;
use crate::rollup;
use crate::sql::query;
use crate::suppress::{Cell, suppress};

/// A valid `QueryStatisticsRequest`.
#[derive(Debug, Clone)]
pub struct Query {
    pub measure: pb::Measure,
    pub group_by: Vec<pb::Dimension>,
    pub filters: Vec<(pb::Dimension, Vec<String>)>,
    pub public: bool,
    /// Count what the counting rule leaves out too (`crate::counting`).
    pub include_uncounted: bool,
}

/// How the measure is computed: its base tables, the id it counts, the aggregate.
struct Base {
    from: &'static str,
    item: &'static str,
    aggregate: &'static str,
}

fn base(measure: pb::Measure) -> Option<Base> {
    use pb::Measure::*;
    let base = match measure {
        Allegations => Base {
            from: "allegation_facts f",
            item: "f.allegation_id",
            aggregate: "COUNT(DISTINCT f.allegation_id)",
        },
        Cases => Base {
            from: "case_facts f",
            item: "f.case_id",
            aggregate: "COUNT(DISTINCT f.case_id)",
        },
        Victims => Base {
            from: "case_victims v JOIN case_facts f ON f.case_id = v.case_id",
            item: "f.case_id",
            aggregate: "CAST(COALESCE(SUM(v.count), 0) AS BIGINT)",
        },
        Charges => Base {
            from: "case_charges g JOIN case_facts f ON f.case_id = g.case_id",
            item: "f.case_id",
            aggregate: "COUNT(DISTINCT g.charge_id)",
        },
        Accused => Base {
            from: "case_charges g JOIN case_facts f ON f.case_id = g.case_id",
            item: "f.case_id",
            aggregate: "COUNT(DISTINCT g.person_id)",
        },
        Unspecified => return None,
    };
    Some(base)
}

/// Where a dimension's values are: a column of the base tables, or a many-valued table joined
/// by the item's id (`table`, `key column`, `value column`).
enum Source {
    Column(&'static str),
    Many(&'static str, &'static str, &'static str),
}

fn source(measure: pb::Measure, dimension: pb::Dimension) -> Option<Source> {
    use pb::Dimension as D;
    use pb::Measure as M;
    let allegations = measure == M::Allegations;
    let victims = measure == M::Victims;
    let charges = matches!(measure, M::Charges | M::Accused);
    Some(match dimension {
        D::Party if allegations => {
            Source::Many("allegation_parties", "allegation_id", "party_code")
        }
        D::Party => Source::Many("case_parties", "case_id", "party_code"),
        D::CrimeType if charges => Source::Column("g.crime_type_code"),
        D::CrimeType if !allegations => {
            Source::Many("case_crime_types", "case_id", "crime_type_code")
        }
        D::ViolationType if allegations => {
            Source::Many("allegation_violations", "allegation_id", "violation_type")
        }
        D::CaseStatus if !allegations => Source::Column("f.status"),
        D::AllegationStatus if allegations => Source::Column("f.status"),
        D::VictimStatus if victims => Source::Column("v.victim_status"),
        D::Harm if victims => Source::Column("v.harm"),
        D::AgeGroup if victims => Source::Column("v.age_group"),
        D::Sex if victims => Source::Column("v.sex"),
        D::InAbsentia if charges => Source::Column("g.in_absentia"),
        D::VictimParty if victims => Source::Column("COALESCE(v.victim_party, 'unknown')"),
        D::AgeBand if victims => Source::Column("v.age_band"),
        D::Verification => Source::Column("f.verification"),
        D::ChargeStatus if charges => Source::Column("g.status"),
        D::Counting if !allegations => Source::Column("f.counting"),
        D::Material if allegations => Source::Column(crate::content::ALLEGATION_MATERIAL),
        D::IncidentWeek => Source::Column("COALESCE(f.incident_week, 'unknown')"),
        D::Place => Source::Column("COALESCE(f.place, 'unknown')"),
        D::Unspecified
        | D::CrimeType
        | D::ViolationType
        | D::CaseStatus
        | D::AllegationStatus
        | D::VictimStatus
        | D::Harm
        | D::AgeGroup
        | D::Sex
        | D::InAbsentia
        | D::VictimParty
        | D::AgeBand
        | D::ChargeStatus
        | D::Counting
        | D::Material => return None,
    })
}

/// Whether `dimension` applies to `measure`.
pub fn applies(measure: pb::Measure, dimension: pb::Dimension) -> bool {
    source(measure, dimension).is_some()
}

/// The SQL condition that keeps only the items of `measure` (their base tables aliased as
/// `measure`'s base has them: `f` for the facts) whose `dimension` is one of the `marks`
/// placeholders: a column compared, or a semi-join, so that no item counts twice.
pub fn filter_condition(
    measure: pb::Measure,
    dimension: pb::Dimension,
    marks: &str,
) -> Option<String> {
    let base = base(measure)?;
    Some(match source(measure, dimension)? {
        Source::Column(column) => format!("{column} IN ({marks})"),
        Source::Many(table, key, column) => format!(
            "{} IN (SELECT {key} FROM {table} WHERE {column} IN ({marks}))",
            base.item
        ),
    })
}

/// The values of the filter at `field`: 1 to 100, each at most 200 characters with no control
/// character (they are bound into SQL, and PostgreSQL refuses a NUL in text).
pub fn filter_values(v: &mut Violations, field: &str, values: Vec<String>) -> Option<Vec<String>> {
    if values.is_empty() || values.len() > 100 {
        v.add(format!("{field}.values"), "give 1 to 100 values");
        return None;
    }
    let mut fine = true;
    for (i, value) in values.iter().enumerate() {
        if value.chars().count() > 200 || value.chars().any(char::is_control) {
            v.add(
                format!("{field}.values[{i}]"),
                "give at most 200 characters, no control character",
            );
            fine = false;
        }
    }
    fine.then_some(values)
}

/// Parses a request.
pub fn parse(request: pb::QueryStatisticsRequest) -> Result<Query, Violations> {
    let mut v = Violations::default();
    let measure = pb::Measure::try_from(request.measure).unwrap_or(pb::Measure::Unspecified);
    if measure == pb::Measure::Unspecified {
        v.add("measure", "is required");
    }
    let public = crate::audience::parse(request.audience, &mut v);
    if request.group_by.len() > 3 {
        v.add("group_by", "at most three dimensions");
    }
    let mut group_by = Vec::new();
    for (i, raw) in request.group_by.iter().enumerate() {
        let field = format!("group_by[{i}]");
        match pb::Dimension::try_from(*raw) {
            Ok(pb::Dimension::Unspecified) => v.add(field, "is not a dimension"),
            Ok(d) if group_by.contains(&d) => v.add(field, "repeats a dimension"),
            Ok(d) if measure != pb::Measure::Unspecified && !applies(measure, d) => v.add(
                field,
                format!(
                    "{} does not apply to {}",
                    d.as_str_name(),
                    measure.as_str_name()
                ),
            ),
            Ok(d) => group_by.push(d),
            Err(_) => v.add(field, "is not a dimension"),
        }
    }
    let mut filters = Vec::new();
    for (i, filter) in request.filters.into_iter().enumerate() {
        let field = format!("filters[{i}]");
        match pb::Dimension::try_from(filter.dimension) {
            Ok(d)
                if d != pb::Dimension::Unspecified
                    && (measure == pb::Measure::Unspecified || applies(measure, d)) =>
            {
                if let Some(values) = filter_values(&mut v, &field, filter.values) {
                    filters.push((d, values));
                }
            }
            Ok(_) | Err(_) => v.add(
                format!("{field}.dimension"),
                "is not a dimension of this measure",
            ),
        }
    }
    v.into_result().map(|()| Query {
        measure,
        group_by,
        filters,
        public,
        include_uncounted: request.include_uncounted,
    })
}

/// Runs `query`; with the public audience, suppresses small counts at `threshold`.
pub async fn run<C: ConnectionTrait>(
    conn: &C,
    query: &Query,
    threshold: i64,
) -> Result<pb::QueryStatisticsResponse, DbErr> {
    let (total, mut cells) = if rollup::covers(
        query.measure,
        &query.group_by,
        query.filters.len(),
        query.include_uncounted,
    ) {
        rollup::read(conn, query.measure, &query.group_by).await?
    } else {
        count(conn, query).await?
    };
    let total_suppressed = if query.public {
        suppress(&mut cells, total, threshold)
    } else {
        false
    };
    Ok(pb::QueryStatisticsResponse {
        total: if total_suppressed { 0 } else { total },
        total_suppressed,
        rows: cells
            .into_iter()
            .map(|c| pb::StatisticsRow {
                keys: c.keys,
                value: c.value,
                suppressed: c.suppressed,
            })
            .collect(),
        as_of: None,
    })
}

/// Counts `query` from the fact tables: the total and the cells, ordered by their keys.
pub async fn count<C: ConnectionTrait>(conn: &C, query: &Query) -> Result<(i64, Vec<Cell>), DbErr> {
    let Some(base) = base(query.measure) else {
        return Ok((0, Vec::new()));
    };
    let mut conditions = rule_conditions(query);
    let mut values: Vec<Value> = Vec::new();
    for (dimension, accepted) in &query.filters {
        let marks = vec!["?"; accepted.len()].join(", ");
        let Some(condition) = filter_condition(query.measure, *dimension, &marks) else {
            continue;
        };
        conditions.push(condition);
        values.extend(accepted.iter().map(|a| Value::from(a.clone())));
    }
    let filter = if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    };

    let total_rows = crate::sql::query(
        conn,
        &format!("SELECT {} FROM {}{filter}", base.aggregate, base.from),
        values.clone(),
    )
    .await?;
    let total: i64 = match total_rows.first() {
        Some(row) => row.try_get_by_index(0)?,
        None => 0,
    };

    let mut cells = Vec::new();
    if !query.group_by.is_empty() {
        let mut joins = String::new();
        let mut keys = Vec::new();
        for (i, dimension) in query.group_by.iter().enumerate() {
            match source(query.measure, *dimension) {
                Some(Source::Column(column)) => keys.push(column.to_owned()),
                Some(Source::Many(table, key, column)) => {
                    let alias = format!("d{i}");
                    joins.push_str(&format!(
                        " JOIN {table} {alias} ON {alias}.{key} = {}",
                        base.item
                    ));
                    keys.push(format!("{alias}.{column}"));
                }
                None => {}
            }
        }
        let key_list = keys.join(", ");
        let sql = format!(
            "SELECT {key_list}, {} FROM {}{joins}{filter} GROUP BY {key_list}",
            base.aggregate, base.from
        );
        cells = query_rows(conn, &sql, values, keys.len()).await?;
        // A cell where nothing is counted (a victim group of 0) is not listed, as in the rollups.
        cells.retain(|cell| cell.value != 0);
        // Ordered here rather than in SQL, so both databases (whatever their collation) and the
        // rollups give the same order.
        cells.sort_by(|a, b| a.keys.cmp(&b.keys));
    }
    Ok((total, cells))
}

/// The counting rule (`crate::counting`) as SQL conditions over `query`'s base tables: only
/// cases that count, and only charges filed, unless the query asks for the others — by
/// `include_uncounted`, or, for charges, by filtering on the charge status.
fn rule_conditions(query: &Query) -> Vec<String> {
    use pb::Measure as M;
    let mut conditions = Vec::new();
    if query.include_uncounted {
        return conditions;
    }
    if matches!(
        query.measure,
        M::Cases | M::Victims | M::Charges | M::Accused
    ) {
        conditions.push(format!("f.counting = '{}'", counting::COUNTED));
    }
    let charge_status_asked = query
        .filters
        .iter()
        .any(|(dimension, _)| *dimension == pb::Dimension::ChargeStatus);
    if matches!(query.measure, M::Charges | M::Accused) && !charge_status_asked {
        let ended = counting::ENDED_CHARGES
            .iter()
            .map(|status| format!("'{status}'"))
            .collect::<Vec<_>>()
            .join(", ");
        conditions.push(format!("g.status NOT IN ({ended})"));
    }
    conditions
}

async fn query_rows<C: ConnectionTrait>(
    conn: &C,
    sql: &str,
    values: Vec<Value>,
    keys: usize,
) -> Result<Vec<Cell>, DbErr> {
    query(conn, sql, values)
        .await?
        .into_iter()
        .map(|row| {
            let mut key_values = Vec::with_capacity(keys);
            for i in 0..keys {
                key_values.push(row.try_get_by_index::<String>(i)?);
            }
            let value: i64 = row.try_get_by_index(keys)?;
            Ok(Cell {
                keys: key_values,
                value,
                suppressed: false,
            })
        })
        .collect()
}
