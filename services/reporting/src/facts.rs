//! The items reporting counts — allegations and cases — as their fact rows hold them.
//!
//! An event becomes an item here, normalised once (values sorted and without repetition, enum
//! values by name, a missing week or place as `unknown`), and both the fact tables and the
//! rollups are written from that item; the item as stored before a change is read back from the
//! fact tables, so the rollups can take away exactly what they were given.

use sea_orm::{ConnectionTrait, DbErr, Value};

use crate::counting;
use crate::named::NamedRow;
use crate::sql::{execute, query};

/// What an unknown week or place is counted as.
pub const UNKNOWN: &str = "unknown";

/// An allegation, as counted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AllegationItem {
    pub id: String,
    pub status: String,
    pub received_time: chrono::DateTime<chrono::Utc>,
    /// ISO week of the incident, such as `2020-W41`, or [`UNKNOWN`].
    pub week: String,
    /// Place name of the incident, or [`UNKNOWN`].
    pub place: String,
    pub violations: Vec<String>,
    pub parties: Vec<String>,
}

impl AllegationItem {
    /// Its level of verification, by the counting rule.
    pub fn verification(&self) -> String {
        counting::allegation_verification(&self.status)
    }
}

/// WGS 84 coordinates of an incident, in degrees: used only to find its region, never shown.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub latitude: f64,
    pub longitude: f64,
}

// Coordinates are finite (checked by [`Point::new`]), so equality is an equivalence.
impl Eq for Point {}

impl Point {
    /// The point at `latitude`, `longitude` when both are given, finite and in range.
    pub fn new(latitude: Option<f64>, longitude: Option<f64>) -> Option<Self> {
        let (latitude, longitude) = (latitude?, longitude?);
        ((-90.0..=90.0).contains(&latitude) && (-180.0..=180.0).contains(&longitude)).then_some(
            Self {
                latitude,
                longitude,
            },
        )
    }
}

/// A case, as counted.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CaseItem {
    pub id: String,
    /// `CASE-YYYY-NNNNNN`; shown by exports, not counted.
    pub reference: Option<String>,
    /// When the case was opened; shown by exports, not counted.
    pub opened_time: Option<chrono::DateTime<chrono::Utc>>,
    pub status: String,
    pub week: String,
    pub place: String,
    /// Where the incident happened, when its location has coordinates; `None` for cases
    /// projected before reporting kept them.
    pub coordinates: Option<Point>,
    pub parties: Vec<String>,
    pub crimes: Vec<String>,
    /// What is counted of its victims: its groups with its named victims in their places
    /// (see [`crate::named`]).
    pub victims: Vec<VictimRow>,
    /// Its casualty figures as the case reports them; empty with no `named` means `victims`.
    pub reported: Vec<VictimRow>,
    /// Its victims known individually.
    pub named: Vec<NamedRow>,
    pub charges: Vec<ChargeRow>,
    /// Why it was closed, such as `CLOSE_REASON_NOT_A_CRIME`; `None` while it is not.
    pub close_reason: Option<String>,
    /// Whether it rests only on evidence judged fabricated.
    pub only_fabricated_evidence: bool,
}

impl CaseItem {
    /// Its victim groups as reported.
    pub fn reported_groups(&self) -> &[VictimRow] {
        if self.reported.is_empty() && self.named.is_empty() {
            &self.victims
        } else {
            &self.reported
        }
    }

    /// Whether it counts, or why not (`DIMENSION_COUNTING`), by the counting rule.
    pub fn counting(&self) -> String {
        counting::case_counting(self).to_owned()
    }

    /// Its level of verification (`DIMENSION_VERIFICATION`), by the counting rule.
    pub fn verification(&self) -> String {
        counting::case_verification(self).to_owned()
    }
}

/// One group of a case's casualty figures.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VictimRow {
    pub count: i64,
    pub status: String,
    pub harm: String,
    pub age_group: String,
    pub sex: String,
    /// The victims' side, a party code, or [`UNKNOWN`].
    pub party: String,
    /// `DIMENSION_AGE_BAND`: the children's band where known, the age group otherwise.
    pub age_band: String,
}

/// One charge of a case.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChargeRow {
    pub charge_id: String,
    pub person_id: String,
    pub crime: String,
    /// `true` or `false`, as the row key shows it.
    pub in_absentia: String,
    pub status: String,
}

/// `values` sorted, without repetition or blanks.
pub fn normalised(mut values: Vec<String>) -> Vec<String> {
    values.retain(|v| !v.trim().is_empty());
    values.sort();
    values.dedup();
    values
}

/// `value` trimmed, or [`UNKNOWN`] when blank.
pub fn or_unknown(value: Option<&str>) -> String {
    match value.map(str::trim) {
        Some(v) if !v.is_empty() => v.to_owned(),
        _ => UNKNOWN.to_owned(),
    }
}

/// `NULL` for [`UNKNOWN`], as the fact tables keep it.
fn nullable(value: &str) -> Value {
    (value != UNKNOWN).then(|| value.to_owned()).into()
}

const ALLEGATION_TABLES: [&str; 3] = [
    "allegation_violations",
    "allegation_parties",
    "allegation_facts",
];

const CASE_TABLES: [&str; 7] = [
    "case_parties",
    "case_crime_types",
    "case_victims",
    "case_reported_groups",
    "case_named_victims",
    "case_charges",
    "case_facts",
];

async fn delete_rows<C: ConnectionTrait>(
    conn: &C,
    tables: &[&str],
    key: &str,
    id: &str,
) -> Result<(), DbErr> {
    for table in tables {
        execute(
            conn,
            &format!("DELETE FROM {table} WHERE {key} = ?"),
            vec![id.into()],
        )
        .await?;
    }
    Ok(())
}

async fn strings<C: ConnectionTrait>(conn: &C, sql: &str, id: &str) -> Result<Vec<String>, DbErr> {
    query(conn, sql, vec![id.into()])
        .await?
        .iter()
        .map(|row| row.try_get_by_index(0))
        .collect()
}

/// Which of `ids` have their allegation stored.
pub async fn stored_allegations<C: ConnectionTrait>(
    conn: &C,
    ids: &[&str],
) -> Result<std::collections::HashSet<String>, DbErr> {
    let mut stored = std::collections::HashSet::new();
    for chunk in ids.chunks(500) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let rows = query(
            conn,
            &format!("SELECT allegation_id FROM allegation_facts WHERE allegation_id IN ({marks})"),
            chunk.iter().map(|&id| id.into()).collect(),
        )
        .await?;
        for row in rows {
            stored.insert(row.try_get_by_index(0)?);
        }
    }
    Ok(stored)
}

/// The allegation `id` as stored, if it is.
pub async fn load_allegation<C: ConnectionTrait>(
    conn: &C,
    id: &str,
) -> Result<Option<AllegationItem>, DbErr> {
    let rows = query(
        conn,
        "SELECT status, received_time, incident_week, place FROM allegation_facts \
         WHERE allegation_id = ?",
        vec![id.into()],
    )
    .await?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let week: Option<String> = row.try_get_by_index(2)?;
    let place: Option<String> = row.try_get_by_index(3)?;
    Ok(Some(AllegationItem {
        id: id.to_owned(),
        status: row.try_get_by_index(0)?,
        received_time: row.try_get_by_index(1)?,
        week: or_unknown(week.as_deref()),
        place: or_unknown(place.as_deref()),
        violations: strings(
            conn,
            "SELECT violation_type FROM allegation_violations WHERE allegation_id = ? \
             ORDER BY violation_type",
            id,
        )
        .await?,
        parties: strings(
            conn,
            "SELECT party_code FROM allegation_parties WHERE allegation_id = ? ORDER BY party_code",
            id,
        )
        .await?,
    }))
}

/// Replaces the stored allegation with `item`.
pub async fn store_allegation<C: ConnectionTrait>(
    conn: &C,
    item: &AllegationItem,
) -> Result<(), DbErr> {
    delete_rows(conn, &ALLEGATION_TABLES, "allegation_id", &item.id).await?;
    insert_allegations(conn, std::slice::from_ref(item)).await
}

/// Inserts `items`, none of them stored yet, with a few statements for all of them.
pub async fn insert_allegations<C: ConnectionTrait>(
    conn: &C,
    items: &[AllegationItem],
) -> Result<(), DbErr> {
    let mut facts = Rows::new(
        "allegation_facts (allegation_id, status, received_time, incident_week, place, \
         verification)",
        6,
    );
    let mut violations = Rows::new("allegation_violations (allegation_id, violation_type)", 2);
    let mut parties = Rows::new("allegation_parties (allegation_id, party_code)", 2);
    for item in items {
        facts
            .push(
                conn,
                vec![
                    item.id.clone().into(),
                    item.status.clone().into(),
                    item.received_time.into(),
                    nullable(&item.week),
                    nullable(&item.place),
                    item.verification().into(),
                ],
            )
            .await?;
        for violation in &item.violations {
            violations
                .push(conn, vec![item.id.clone().into(), violation.clone().into()])
                .await?;
        }
        for party in &item.parties {
            parties
                .push(conn, vec![item.id.clone().into(), party.clone().into()])
                .await?;
        }
    }
    facts.flush(conn).await?;
    violations.flush(conn).await?;
    parties.flush(conn).await
}

/// The case `id` as stored, if it is.
pub async fn load_case<C: ConnectionTrait>(conn: &C, id: &str) -> Result<Option<CaseItem>, DbErr> {
    let rows = query(
        conn,
        "SELECT status, incident_week, place, reference, opened_time, close_reason, \
         only_fabricated_evidence, latitude, longitude FROM case_facts WHERE case_id = ?",
        vec![id.into()],
    )
    .await?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let week: Option<String> = row.try_get_by_index(1)?;
    let place: Option<String> = row.try_get_by_index(2)?;
    let victims = victim_rows(conn, "case_victims", id).await?;
    let reported = victim_rows(conn, "case_reported_groups", id).await?;
    let named = named_rows(conn, id).await?;
    let charges = query(
        conn,
        "SELECT charge_id, person_id, crime_type_code, in_absentia, status FROM case_charges \
         WHERE case_id = ? ORDER BY charge_id",
        vec![id.into()],
    )
    .await?
    .iter()
    .map(|row| {
        Ok(ChargeRow {
            charge_id: row.try_get_by_index(0)?,
            person_id: row.try_get_by_index(1)?,
            crime: row.try_get_by_index(2)?,
            in_absentia: row.try_get_by_index(3)?,
            status: row.try_get_by_index(4)?,
        })
    })
    .collect::<Result<_, DbErr>>()?;
    Ok(Some(CaseItem {
        id: id.to_owned(),
        reference: row.try_get_by_index(3)?,
        opened_time: row.try_get_by_index(4)?,
        status: row.try_get_by_index(0)?,
        week: or_unknown(week.as_deref()),
        place: or_unknown(place.as_deref()),
        coordinates: Point::new(row.try_get_by_index(7)?, row.try_get_by_index(8)?),
        parties: strings(
            conn,
            "SELECT party_code FROM case_parties WHERE case_id = ? ORDER BY party_code",
            id,
        )
        .await?,
        crimes: strings(
            conn,
            "SELECT crime_type_code FROM case_crime_types WHERE case_id = ? \
             ORDER BY crime_type_code",
            id,
        )
        .await?,
        victims,
        reported,
        named,
        charges,
        close_reason: row.try_get_by_index(5)?,
        only_fabricated_evidence: row.try_get_by_index(6)?,
    }))
}

/// The victim rows of case `id` in `table` (`case_victims` or `case_reported_groups`).
async fn victim_rows<C: ConnectionTrait>(
    conn: &C,
    table: &str,
    id: &str,
) -> Result<Vec<VictimRow>, DbErr> {
    query(
        conn,
        &format!(
            "SELECT count, victim_status, harm, age_group, sex, victim_party, age_band \
             FROM {table} WHERE case_id = ? ORDER BY position"
        ),
        vec![id.into()],
    )
    .await?
    .iter()
    .map(|row| {
        Ok(VictimRow {
            count: row.try_get_by_index(0)?,
            status: row.try_get_by_index(1)?,
            harm: row.try_get_by_index(2)?,
            age_group: row.try_get_by_index(3)?,
            sex: row.try_get_by_index(4)?,
            party: or_unknown(row.try_get_by_index::<Option<String>>(5)?.as_deref()),
            age_band: row.try_get_by_index(6)?,
        })
    })
    .collect()
}

/// The named victims of case `id`.
async fn named_rows<C: ConnectionTrait>(conn: &C, id: &str) -> Result<Vec<NamedRow>, DbErr> {
    query(
        conn,
        "SELECT register_id, victim_status, harm, age_group, sex, victim_party, age_band \
         FROM case_named_victims WHERE case_id = ? ORDER BY position",
        vec![id.into()],
    )
    .await?
    .iter()
    .map(|row| {
        Ok(NamedRow {
            register_id: row.try_get_by_index(0)?,
            status: row.try_get_by_index(1)?,
            harm: row.try_get_by_index(2)?,
            age_group: row.try_get_by_index(3)?,
            sex: row.try_get_by_index(4)?,
            party: or_unknown(row.try_get_by_index::<Option<String>>(5)?.as_deref()),
            age_band: row.try_get_by_index(6)?,
        })
    })
    .collect()
}

/// Replaces what case `id` counts of its victims with `victims`.
pub async fn store_counted_victims<C: ConnectionTrait>(
    conn: &C,
    id: &str,
    victims: &[VictimRow],
) -> Result<(), DbErr> {
    execute(
        conn,
        "DELETE FROM case_victims WHERE case_id = ?",
        vec![id.into()],
    )
    .await?;
    let mut rows = Rows::new(VICTIMS_INTO, 9);
    for (position, group) in victims.iter().enumerate() {
        rows.push(conn, victim_values(id, position, group)).await?;
    }
    rows.flush(conn).await
}

/// The `(register id, case id, counting)` of every case naming one of `entries`.
pub async fn cases_naming<C: ConnectionTrait>(
    conn: &C,
    entries: &[String],
) -> Result<Vec<(String, String, String)>, DbErr> {
    let mut out = Vec::new();
    for chunk in entries.chunks(500) {
        let marks = vec!["?"; chunk.len()].join(", ");
        let rows = query(
            conn,
            &format!(
                "SELECT DISTINCT n.register_id, n.case_id, f.counting FROM case_named_victims n \
                 JOIN case_facts f ON f.case_id = n.case_id WHERE n.register_id IN ({marks})"
            ),
            chunk.iter().map(|id| id.clone().into()).collect(),
        )
        .await?;
        for row in rows {
            out.push((
                row.try_get_by_index(0)?,
                row.try_get_by_index(1)?,
                row.try_get_by_index(2)?,
            ));
        }
    }
    Ok(out)
}

const VICTIMS_INTO: &str = "case_victims (case_id, position, count, victim_status, harm, \
     age_group, sex, victim_party, age_band)";

fn victim_values(id: &str, position: usize, group: &VictimRow) -> Vec<Value> {
    vec![
        id.to_owned().into(),
        (position as i64).into(),
        group.count.into(),
        group.status.clone().into(),
        group.harm.clone().into(),
        group.age_group.clone().into(),
        group.sex.clone().into(),
        nullable(&group.party),
        group.age_band.clone().into(),
    ]
}

/// Replaces the stored case with `item`.
pub async fn store_case<C: ConnectionTrait>(conn: &C, item: &CaseItem) -> Result<(), DbErr> {
    delete_rows(conn, &CASE_TABLES, "case_id", &item.id).await?;
    insert_cases(conn, std::slice::from_ref(item)).await
}

/// Inserts `items`, none of them stored yet, with a few statements for all of them.
pub async fn insert_cases<C: ConnectionTrait>(conn: &C, items: &[CaseItem]) -> Result<(), DbErr> {
    let mut facts = Rows::new(
        "case_facts (case_id, status, incident_week, place, reference, opened_time, \
         close_reason, only_fabricated_evidence, counting, verification, latitude, longitude)",
        12,
    );
    let mut parties = Rows::new("case_parties (case_id, party_code)", 2);
    let mut crimes = Rows::new("case_crime_types (case_id, crime_type_code)", 2);
    let mut victims = Rows::new(VICTIMS_INTO, 9);
    let mut reported = Rows::new(
        "case_reported_groups (case_id, position, count, victim_status, harm, age_group, sex, \
         victim_party, age_band)",
        9,
    );
    let mut named = Rows::new(
        "case_named_victims (case_id, position, register_id, victim_status, harm, age_group, \
         sex, victim_party, age_band)",
        9,
    );
    let mut charges = Rows::new(
        "case_charges (charge_id, case_id, person_id, crime_type_code, in_absentia, status)",
        6,
    );
    for item in items {
        let id = || Value::from(item.id.clone());
        facts
            .push(
                conn,
                vec![
                    id(),
                    item.status.clone().into(),
                    nullable(&item.week),
                    nullable(&item.place),
                    item.reference.clone().into(),
                    item.opened_time.into(),
                    item.close_reason.clone().into(),
                    item.only_fabricated_evidence.into(),
                    item.counting().into(),
                    item.verification().into(),
                    item.coordinates.map(|p| p.latitude).into(),
                    item.coordinates.map(|p| p.longitude).into(),
                ],
            )
            .await?;
        for party in &item.parties {
            parties.push(conn, vec![id(), party.clone().into()]).await?;
        }
        for crime in &item.crimes {
            crimes.push(conn, vec![id(), crime.clone().into()]).await?;
        }
        for (position, group) in item.victims.iter().enumerate() {
            victims
                .push(conn, victim_values(&item.id, position, group))
                .await?;
        }
        for (position, group) in item.reported_groups().iter().enumerate() {
            reported
                .push(conn, victim_values(&item.id, position, group))
                .await?;
        }
        for (position, person) in item.named.iter().enumerate() {
            named
                .push(
                    conn,
                    vec![
                        id(),
                        (position as i64).into(),
                        person.register_id.clone().into(),
                        person.status.clone().into(),
                        person.harm.clone().into(),
                        person.age_group.clone().into(),
                        person.sex.clone().into(),
                        nullable(&person.party),
                        person.age_band.clone().into(),
                    ],
                )
                .await?;
        }
        for charge in &item.charges {
            charges
                .push(
                    conn,
                    vec![
                        charge.charge_id.clone().into(),
                        id(),
                        charge.person_id.clone().into(),
                        charge.crime.clone().into(),
                        charge.in_absentia.clone().into(),
                        charge.status.clone().into(),
                    ],
                )
                .await?;
        }
    }
    facts.flush(conn).await?;
    parties.flush(conn).await?;
    crimes.flush(conn).await?;
    victims.flush(conn).await?;
    reported.flush(conn).await?;
    named.flush(conn).await?;
    charges.flush(conn).await
}

/// Rows for one table, inserted many to a statement.
pub struct Rows {
    into: &'static str,
    width: usize,
    suffix: &'static str,
    values: Vec<Value>,
}

impl Rows {
    /// Values per statement: well under SQLite's limit of 32 766 parameters.
    const MAX_VALUES: usize = 4_000;

    pub fn new(into: &'static str, width: usize) -> Self {
        Self::with_suffix(into, width, "")
    }

    /// Rows inserted with `suffix` (such as an `ON CONFLICT` clause) after the values.
    pub fn with_suffix(into: &'static str, width: usize, suffix: &'static str) -> Self {
        Self {
            into,
            width,
            suffix,
            values: Vec::new(),
        }
    }

    /// Adds one row; inserts the rows gathered so far when there are enough.
    pub async fn push<C: ConnectionTrait>(
        &mut self,
        conn: &C,
        row: Vec<Value>,
    ) -> Result<(), DbErr> {
        debug_assert_eq!(row.len(), self.width);
        self.values.extend(row);
        if self.values.len() + self.width > Self::MAX_VALUES {
            self.flush(conn).await?;
        }
        Ok(())
    }

    /// Inserts the rows gathered so far.
    pub async fn flush<C: ConnectionTrait>(&mut self, conn: &C) -> Result<(), DbErr> {
        if self.values.is_empty() {
            return Ok(());
        }
        let row = format!("({})", vec!["?"; self.width].join(", "));
        let rows = vec![row; self.values.len() / self.width].join(", ");
        let sql = format!("INSERT INTO {} VALUES {rows}{}", self.into, self.suffix);
        execute(conn, &sql, std::mem::take(&mut self.values)).await
    }
}
