//! Writing one case as a CSV record or a JSON object, for the office or for publication.
//!
//! Both formats come from one list of named cells, so their columns cannot drift apart. The
//! public edition leaves out the place and the casualty groups and writes every figure as a
//! band (see [`band`]).

use serde_json::{Value, json};

use super::read::{CaseRow, Casualties};
use crate::counting;

/// A figure: exact for the office, a band for publication.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Figure {
    Exact(i64),
    Band(String),
}

/// The value of one column.
#[derive(Debug, Clone)]
enum Cell {
    Text(Option<String>),
    List(Vec<String>),
    Figure(Figure),
    Groups(Vec<Casualties>),
}

/// The band a public figure is shown as: `0`, then from 1 to the threshold `t`, `t+1..2t`,
/// `2t+1..5t`, `5t+1..10t`, `10t+1..20t`, and above. No band narrower than `t` is ever
/// published, so neither a band nor a published total minus other bands gives back a small
/// count exactly.
pub fn band(value: i64, threshold: i64) -> String {
    if value <= 0 {
        return "0".to_owned();
    }
    let t = threshold.max(1);
    let mut low = 1;
    for high in [t, 2 * t, 5 * t, 10 * t, 20 * t] {
        if value <= high {
            return format!("{low}-{high}");
        }
        low = high + 1;
    }
    format!("{low}+")
}

/// How cases are written: for which audience, and the threshold of its bands.
#[derive(Debug, Clone, Copy)]
pub struct Edition {
    pub public: bool,
    pub threshold: i64,
}

impl Edition {
    fn figure(self, value: i64) -> Cell {
        Cell::Figure(if self.public {
            Figure::Band(band(value, self.threshold))
        } else {
            Figure::Exact(value)
        })
    }

    /// The columns of `case` in this edition, in export order.
    fn cells(self, case: &CaseRow) -> Vec<(&'static str, Cell)> {
        let harmed = |harm: &str| -> i64 {
            case.casualties
                .iter()
                .filter(|g| g.harm == harm)
                .map(|g| g.count)
                .sum()
        };
        // Charges filed, by the counting rule: withdrawn ones and acquittals are left out.
        let filed: Vec<_> = case
            .charges
            .iter()
            .filter(|c| counting::charge_counts(&c.status))
            .collect();
        let mut accused: Vec<&str> = filed.iter().map(|c| c.person_id.as_str()).collect();
        accused.sort_unstable();
        accused.dedup();
        let mut charged: Vec<String> = filed.iter().map(|c| c.crime_type.clone()).collect();
        charged.sort();
        charged.dedup();
        let in_absentia = filed.iter().filter(|c| c.in_absentia).count();
        let mut cells = vec![
            ("reference", Cell::Text(case.reference.clone())),
            ("status", Cell::Text(Some(case.status.clone()))),
            ("counting", Cell::Text(Some(case.counting.clone()))),
            (
                "opened_date",
                Cell::Text(case.opened_time.map(|t| t.format("%Y-%m-%d").to_string())),
            ),
            ("incident_week", Cell::Text(case.incident_week.clone())),
            ("parties", Cell::List(case.parties.clone())),
            ("crime_types", Cell::List(case.crime_types.clone())),
            (
                "victims",
                self.figure(case.casualties.iter().map(|g| g.count).sum()),
            ),
            ("killed", self.figure(harmed("HARM_KILLED"))),
            ("injured", self.figure(harmed("HARM_INJURED"))),
            ("ill_treated", self.figure(harmed("HARM_ILL_TREATED"))),
            ("body_defiled", self.figure(harmed("HARM_BODY_DEFILED"))),
            ("missing", self.figure(harmed("HARM_MISSING"))),
            ("detained", self.figure(harmed("HARM_DETAINED"))),
            ("tortured", self.figure(harmed("HARM_TORTURED"))),
            (
                "sexual_violence",
                self.figure(harmed("HARM_SEXUAL_VIOLENCE")),
            ),
            ("displaced", self.figure(harmed("HARM_DISPLACED"))),
            ("charges", self.figure(count(filed.len()))),
            ("charges_in_absentia", self.figure(count(in_absentia))),
            ("accused", self.figure(count(accused.len()))),
            ("charged_crime_types", Cell::List(charged)),
        ];
        if !self.public {
            cells.push(("place", Cell::Text(case.place.clone())));
            cells.push(("casualty_groups", Cell::Groups(case.casualties.clone())));
        }
        cells
    }

    /// The CSV header line.
    pub fn csv_header(self) -> String {
        self.cells(&CaseRow::default())
            .iter()
            .map(|(name, _)| *name)
            .collect::<Vec<_>>()
            .join(",")
    }

    /// `case` as one CSV record.
    pub fn csv(self, case: &CaseRow) -> String {
        self.cells(case)
            .into_iter()
            .map(|(_, cell)| csv_field(&csv_text(cell)))
            .collect::<Vec<_>>()
            .join(",")
    }

    /// `case` as one JSON object, its keys in column order.
    pub fn json(self, case: &CaseRow) -> String {
        let members: Vec<String> = self
            .cells(case)
            .into_iter()
            .map(|(name, cell)| format!("{}:{}", Value::from(name), json_value(cell)))
            .collect();
        format!("{{{}}}", members.join(","))
    }
}

fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn csv_text(cell: Cell) -> String {
    match cell {
        Cell::Text(text) => text.unwrap_or_default(),
        Cell::List(values) => values.join(";"),
        Cell::Figure(Figure::Exact(n)) => n.to_string(),
        Cell::Figure(Figure::Band(band)) => band,
        Cell::Groups(groups) => groups
            .iter()
            .map(|g| {
                format!(
                    "{}/{}/{}/{}={}",
                    g.status, g.harm, g.age_group, g.sex, g.count
                )
            })
            .collect::<Vec<_>>()
            .join(";"),
    }
}

fn json_value(cell: Cell) -> Value {
    match cell {
        Cell::Text(text) => text
            .map(|t| Value::from(one_line(&t)))
            .unwrap_or(Value::Null),
        Cell::List(values) => Value::from(values),
        Cell::Figure(Figure::Exact(n)) => Value::from(n),
        Cell::Figure(Figure::Band(band)) => Value::from(band),
        Cell::Groups(groups) => groups
            .iter()
            .map(|g| {
                json!({
                    "status": g.status,
                    "harm": g.harm,
                    "age_group": g.age_group,
                    "sex": g.sex,
                    "count": g.count,
                })
            })
            .collect(),
    }
}

/// `text` with every control character (line breaks included) turned into a space, so that a
/// record is always one line.
fn one_line(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// One CSV field: on one line, quoted when it holds a separator, a quote or edge spaces, and
/// with a `'` before a leading `=`, `+`, `-` or `@` so that a spreadsheet shows it rather than
/// running it as a formula. Codes and figures never start so; only free text (the place) can.
fn csv_field(text: &str) -> String {
    let mut text = one_line(text);
    if text.starts_with(['=', '+', '-', '@']) {
        text.insert(0, '\'');
    }
    if text.contains([',', '"']) || text.trim() != text {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::read::Charge;

    fn case() -> CaseRow {
        CaseRow {
            case_id: "0192".into(),
            reference: Some("CASE-2020-000001".into()),
            status: "CASE_STATUS_OPEN".into(),
            counting: "counted".into(),
            opened_time: chrono::DateTime::from_timestamp(1_602_500_000, 0),
            incident_week: Some("2020-W41".into()),
            place: Some("=Ganja, \"Shahriyar\"\nstreet".into()),
            parties: vec!["AM".into(), "AZ".into()],
            crime_types: vec!["icc.8.2.b.i".into()],
            casualties: vec![Casualties {
                status: "VICTIM_STATUS_CIVILIAN".into(),
                harm: "HARM_KILLED".into(),
                age_group: "AGE_GROUP_CHILD".into(),
                sex: "SEX_FEMALE".into(),
                count: 7,
            }],
            charges: vec![
                Charge {
                    person_id: "p1".into(),
                    crime_type: "icc.8.2.b.i".into(),
                    in_absentia: true,
                    status: "CHARGE_STATUS_FILED".into(),
                },
                Charge {
                    person_id: "p2".into(),
                    crime_type: "icc.8.2.a.i".into(),
                    in_absentia: false,
                    status: "CHARGE_STATUS_WITHDRAWN".into(),
                },
            ],
        }
    }

    #[test]
    fn bands_never_narrower_than_the_threshold() {
        let shown: Vec<String> = [0, 1, 5, 6, 10, 11, 25, 26, 50, 51, 100, 101, 9_999]
            .iter()
            .map(|v| band(*v, 5))
            .collect();
        assert_eq!(
            shown,
            [
                "0", "1-5", "1-5", "6-10", "6-10", "11-25", "11-25", "26-50", "26-50", "51-100",
                "51-100", "101+", "101+"
            ]
        );
    }

    #[test]
    fn the_office_gets_exact_figures_and_the_public_bands_without_the_place() {
        let office = Edition {
            public: false,
            threshold: 5,
        };
        assert_eq!(
            office.csv(&case()),
            "CASE-2020-000001,CASE_STATUS_OPEN,counted,2020-10-12,2020-W41,AM;AZ,icc.8.2.b.i,7,7,\
             0,0,0,0,0,0,0,0,1,1,1,icc.8.2.b.i,\"'=Ganja, \"\"Shahriyar\"\" street\",\
             VICTIM_STATUS_CIVILIAN/HARM_KILLED/AGE_GROUP_CHILD/SEX_FEMALE=7"
        );
        let public = Edition {
            public: true,
            threshold: 5,
        };
        let line = public.json(&case());
        let parsed: Value = serde_json::from_str(&line).unwrap();
        assert_eq!(parsed["killed"], "6-10");
        assert_eq!(parsed["charges_in_absentia"], "1-5");
        assert!(parsed.get("place").is_none() && parsed.get("casualty_groups").is_none());
        assert_eq!(public.csv_header().split(',').count(), 21);
        assert!(line.starts_with("{\"reference\":\"CASE-2020-000001\""));
    }
}
