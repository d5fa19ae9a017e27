//! `RenderReport`: the figures people ask for, as one HTML document anyone can open.
//!
//! Every figure comes from [`statistics::run`] with the audience's suppression, the very
//! queries `QueryStatistics` answers, so the report and the statistics never disagree. The
//! document ([`html`]) draws each table as an inline SVG chart ([`svg`]) beside the table
//! itself; it carries no script and fetches nothing.

mod chart;
mod html;
pub mod published;
mod svg;

use chrono::Utc;
use docket_domain::Violations;
use docket_proto::docket::reporting::v1 as pb;
use sea_orm::{ConnectionTrait, DbErr};

use crate::statistics::{self, Query};
use chart::{Chart, Series};

/// A valid `RenderReportRequest`.
#[derive(Debug, Clone)]
pub struct Report {
    pub public: bool,
}

/// Parses a request.
pub fn parse(request: pb::RenderReportRequest) -> Result<Report, Violations> {
    let mut v = Violations::default();
    let public = crate::audience::parse(request.audience, &mut v);
    v.into_result().map(|()| Report { public })
}

/// The report for `report`'s audience; the public one suppressed at `threshold`.
pub async fn render<C: ConnectionTrait>(
    conn: &C,
    report: &Report,
    threshold: i64,
) -> Result<String, DbErr> {
    let ask = |measure: pb::Measure, group_by: Vec<pb::Dimension>| Query {
        measure,
        group_by,
        filters: Vec::new(),
        public: report.public,
        // The report gives the office's figures: what the counting rule counts.
        include_uncounted: false,
    };
    let run = |query: Query| async move { statistics::run(conn, &query, threshold).await };
    use pb::Dimension as D;
    use pb::Measure as M;
    let crimes = run(ask(M::Cases, vec![D::CrimeType, D::Party])).await?;
    let harm = run(ask(M::Victims, vec![D::Harm])).await?;
    let sides = run(ask(M::Victims, vec![D::VictimParty, D::Harm])).await?;
    let age_sex = run(ask(M::Victims, vec![D::AgeGroup, D::Sex])).await?;
    let weekly_cases = run(ask(M::Cases, vec![D::IncidentWeek])).await?;
    let weekly_victims = run(ask(M::Victims, vec![D::IncidentWeek])).await?;
    let charges = run(ask(M::Charges, vec![D::InAbsentia])).await?;
    let accused = run(ask(M::Accused, vec![D::InAbsentia])).await?;

    let totals = vec![
        ("cases", "Cases", chart::total(&crimes)),
        ("victims", "People harmed", chart::total(&age_sex)),
        ("charges", "Charges", chart::total(&charges)),
        ("accused", "Persons charged", chart::total(&accused)),
    ];
    let absentia = |key: &str| match key {
        "true" => "in absentia".to_owned(),
        "false" => "in person".to_owned(),
        other => other.to_owned(),
    };
    let charts = vec![
        Chart::crossed(
            "cases-by-crime-type",
            "Cases by crime type, per alleged party (cases qualified so far)",
            "crime type",
            &crimes,
        ),
        Chart::crossed("victims-by-harm", "People harmed, by harm", "harm", &harm),
        Chart::crossed(
            "victims-by-side",
            "People harmed, by the victims' side and harm",
            "victims' side",
            &sides,
        ),
        Chart::crossed(
            "victims-by-age-and-sex",
            "People harmed, by age group and sex",
            "age group",
            &age_sex,
        ),
        Chart::side_by_side(
            "cases-and-victims-by-week",
            "Cases and people harmed, by week of the incident",
            "week",
            vec![
                Series::new("cases", &weekly_cases, &str::to_owned),
                Series::new("people harmed", &weekly_victims, &str::to_owned),
            ],
        ),
        Chart::side_by_side(
            "charges-and-accused",
            "Charges and persons charged, in absentia or in person",
            "charged",
            vec![
                Series::new("charges", &charges, &absentia),
                Series::new("persons charged", &accused, &absentia),
            ],
        ),
    ];
    Ok(html::document(&html::Page {
        public: report.public,
        threshold,
        as_of: Utc::now(),
        totals,
        charts,
    }))
}
