//! The public report: one release, rendered for people to read and print.
//!
//! Modelled on the monthly civilian-casualty updates of the UN human-rights office: who
//! publishes and for which period, what is counted and what is not, that the figures are
//! allegations under investigation, how small counts are withheld; then the figures by party
//! first, the victims' side and status, age band and sex, the trends by month and week, regions,
//! crime types and charges. Everything comes from the signed document alone (the parties' names
//! and the crimes' titles travel in it), so the report of a release never changes.
//!
//! Withheld figures never show a number, and a chart does not list them one by one: categories
//! wholly withheld are named once beneath it. Cases and people are never drawn on one scale.

use std::collections::BTreeMap;
use std::fmt::Write;

use super::chart::{Chart, Shown};
use super::html::escape;
use super::svg::{bar_chart, columns};
use crate::facts::UNKNOWN;
use crate::release::catalogue::{Dim, Measure};
use crate::release::document::{Document, Table};

const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:52rem;margin:2rem auto;\
padding:0 1rem;color:#222;line-height:1.4}h1{font-size:1.7rem;margin:.2rem 0}\
h2{font-size:1.25rem;margin-top:2.2rem;border-bottom:2px solid #1f5f8b}\
h3{font-size:1.05rem;margin:1.6rem 0 .3rem}.office{text-transform:uppercase;\
letter-spacing:.06em;color:#1f5f8b;font-weight:bold;margin:0}.meta{color:#444}\
table{border-collapse:collapse;margin-top:.5rem;font-size:.9rem}\
th,td{border:1px solid #ccc;padding:.15rem .5rem}td{text-align:right}th{text-align:left}\
.withheld{color:#777;font-style:italic}.note{color:#444;font-size:.9rem}\
dl.figures{display:grid;grid-template-columns:repeat(4,1fr);gap:.6rem;margin:0}\
dl.figures div{border:1px solid #ccc;border-radius:4px;padding:.5rem .7rem}\
dl.figures dt{font-size:.85rem;color:#444}dl.figures dd{margin:0;font-size:1.6rem;\
font-weight:bold}dl.series{display:grid;grid-template-columns:repeat(6,max-content auto);\
gap:.1rem .6rem;font-size:.8rem}dl.series dt{color:#444}dl.series dd{margin:0;\
text-align:right}svg{max-width:100%;height:auto}svg text{font-size:12px;fill:#222}\
svg text.withheld{fill:#777;font-style:italic}svg text.axis{font-size:10px;fill:#555}\
code{font-size:.8rem;word-break:break-all}\
@page{size:A4;margin:16mm 14mm}@media print{body{max-width:none;margin:0;padding:0;\
font-size:10pt}h2{break-before:page}h2.first{break-before:auto}section.chart,\
dl.figures,table{break-inside:avoid}h3{break-after:avoid}}";

/// The Content-Security-Policy of the public report: nothing but its own style.
fn policy() -> String {
    use base64::Engine;
    use sha2::Digest;
    let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(STYLE));
    format!("default-src 'none'; style-src 'sha256-{hash}'; base-uri 'none'; form-action 'none'")
}

/// A release and what its signature says of it.
#[derive(Debug)]
pub struct Signed<'a> {
    pub document: &'a Document,
    pub document_sha256: &'a str,
    pub public_key: &'a str,
}

fn measure_name(measure: &str) -> &'static str {
    match Measure::parse(measure) {
        Some(Measure::Cases) => "Cases",
        Some(Measure::Victims) => "People harmed",
        Some(Measure::Charges) => "Charges filed",
        Some(Measure::Accused) => "Persons charged",
        None => "Figures",
    }
}

fn dimension_name(dim: Option<Dim>) -> &'static str {
    match dim {
        Some(Dim::Party) => "alleged party",
        Some(Dim::CrimeType) => "crime type",
        Some(Dim::Harm) => "harm",
        Some(Dim::VictimStatus) => "status of the victims",
        Some(Dim::AgeGroup) => "age group",
        Some(Dim::Sex) => "sex",
        Some(Dim::VictimParty) => "the victims' side",
        Some(Dim::AgeBand) => "age",
        Some(Dim::Month) => "month of the incident",
        Some(Dim::Week) => "week of the incident",
        Some(Dim::Region) => "region",
        Some(Dim::InAbsentia) => "in absentia or in person",
        None => "category",
    }
}

/// Where a table's chart stands: party first, then the victims, trends, places and charges.
fn rank(table: &Table) -> u8 {
    match table.dimensions.first().and_then(|d| Dim::parse(d)) {
        Some(Dim::Party) => 0,
        Some(Dim::VictimParty) => 1,
        Some(Dim::VictimStatus) => 2,
        Some(Dim::AgeBand | Dim::AgeGroup | Dim::Sex) => 3,
        Some(Dim::Harm) => 4,
        Some(Dim::Month) => 5,
        Some(Dim::Week) => 6,
        Some(Dim::Region) => 7,
        Some(Dim::CrimeType) => 8,
        Some(Dim::InAbsentia) => 9,
        None => 10,
    }
}

/// How the value `key` of `dim` reads.
fn value_name(document: &Document, dim: Option<Dim>, key: &str) -> String {
    let publication = &document.settings.publication;
    match dim {
        _ if key == UNKNOWN => match dim {
            Some(Dim::VictimParty) => "side not known".to_owned(),
            Some(Dim::Region) => "region not known".to_owned(),
            _ => "not known".to_owned(),
        },
        Some(Dim::Party | Dim::VictimParty) => publication
            .parties
            .get(key)
            .cloned()
            .unwrap_or_else(|| key.to_owned()),
        Some(Dim::CrimeType) => publication
            .crime_types
            .get(key)
            .cloned()
            .unwrap_or_else(|| key.to_owned()),
        Some(Dim::Month) => month_name(key),
        Some(Dim::Week) => key.replace("-W", " week "),
        Some(Dim::InAbsentia) => match key {
            "true" => "in absentia".to_owned(),
            "false" => "in person".to_owned(),
            other => other.to_owned(),
        },
        Some(Dim::AgeBand) => match key {
            "AGE_BAND_UNDER_5" => "child under 5".to_owned(),
            "AGE_BAND_5_TO_11" => "child 5 to 11".to_owned(),
            "AGE_BAND_12_TO_17" => "child 12 to 17".to_owned(),
            "AGE_GROUP_CHILD" => "child, age not known".to_owned(),
            other => super::chart::label(other),
        },
        _ => super::chart::label(key),
    }
}

fn month_name(key: &str) -> String {
    chrono::NaiveDate::parse_from_str(&format!("{key}-01"), "%Y-%m-%d")
        .map_or_else(|_| key.to_owned(), |d| d.format("%B %Y").to_string())
}

fn shown(withheld: bool, value: i64) -> Shown {
    if withheld {
        Shown::Suppressed
    } else {
        Shown::Count(value)
    }
}

/// The chart of a table with one or two dimensions.
fn chart_of(document: &Document, table: &Table) -> Chart {
    let dims: Vec<Option<Dim>> = table.dimensions.iter().map(|d| Dim::parse(d)).collect();
    let measure = measure_name(&table.measure);
    let first = dims.first().copied().flatten();
    let second = dims.get(1).copied().flatten();
    let title = match table.dimensions.len() {
        1 => format!("{measure}, by {}", dimension_name(first)),
        _ => format!(
            "{measure}, by {} and {}",
            dimension_name(first),
            dimension_name(second)
        ),
    };
    let lower = measure.to_lowercase();
    let mut categories: Vec<String> = Vec::new();
    let mut series: Vec<String> = Vec::new();
    let mut cells = BTreeMap::new();
    let mut names = BTreeMap::new();
    for cell in &table.cells {
        let Some(category) = cell.keys.first() else {
            continue;
        };
        let name = cell.keys.get(1).cloned().unwrap_or_else(|| lower.clone());
        if !categories.contains(category) {
            categories.push(category.clone());
        }
        if !series.contains(&name) {
            series.push(name.clone());
        }
        names.insert(category.clone(), value_name(document, first, category));
        if let Some(key) = cell.keys.get(1) {
            names.insert(key.clone(), value_name(document, second, key));
        } else {
            names.insert(lower.clone(), lower.clone());
        }
        cells.insert((category.clone(), name), shown(cell.withheld, cell.value));
    }
    // Places and parties read best largest first; time and ordered scales in their order.
    if matches!(first, Some(Dim::Party | Dim::Region | Dim::CrimeType)) {
        let total = |c: &String| -> i64 {
            series
                .iter()
                .filter_map(|s| cells.get(&(c.clone(), s.clone())))
                .map(|s: &Shown| s.count())
                .sum()
        };
        categories.sort_by_key(|c| std::cmp::Reverse(total(c)));
    }
    Chart::of_cells(
        table.name.clone(),
        title,
        dimension_name(first).to_owned(),
        (categories, series),
        cells,
        names,
    )
}

/// `n` with thousands separated by commas, as the UN's updates print them.
fn grouped(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    if n < 0 { format!("-{out}") } else { out }
}

fn count_text(value: Shown) -> String {
    match value {
        Shown::Count(n) => format!("<span class=\"count\">{}</span>", grouped(n)),
        Shown::Suppressed => "<span class=\"withheld\">withheld</span>".to_owned(),
    }
}

/// The period the report covers: as set, or the months of the incidents counted.
fn period(document: &Document) -> String {
    let set = document.settings.publication.period.trim();
    if !set.is_empty() {
        return set.to_owned();
    }
    let months: Vec<&str> = document
        .tables
        .iter()
        .filter(|t| t.dimensions.first().map(String::as_str) == Some("month"))
        .flat_map(|t| t.cells.iter().filter_map(|c| c.keys.first()))
        .map(String::as_str)
        .filter(|m| *m != UNKNOWN)
        .collect();
    let recorded = document.created_time.get(..10).unwrap_or_default();
    match (months.iter().min(), months.iter().max()) {
        (Some(first), Some(last)) if first == last => format!(
            "incidents in {}, as recorded up to {recorded}",
            month_name(first)
        ),
        (Some(first), Some(last)) => format!(
            "incidents from {} to {}, as recorded up to {recorded}",
            month_name(first),
            month_name(last)
        ),
        _ => format!("incidents recorded up to {recorded}"),
    }
}

/// The whole public report of a release.
pub fn document(signed: &Signed<'_>) -> String {
    let document = signed.document;
    let publication = &document.settings.publication;
    let mut html = format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"Content-Security-Policy\" content=\"{policy}\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"referrer\" content=\"no-referrer\">\
         <title>{title}</title><style>{STYLE}</style></head><body>\
         <header><p class=\"office\">{office}</p><h1>{title}</h1>\
         <p class=\"meta\" id=\"edition\" data-audience=\"public\" data-release=\"{number}\">\
         Release {number}, published <time datetime=\"{created}\">{created_day}</time>. \
         Reporting period: {period}.</p></header>",
        policy = policy(),
        title = escape(&document.title),
        office = escape(&publication.office_name),
        number = document.number,
        created = escape(&document.created_time),
        created_day = escape(document.created_time.get(..10).unwrap_or_default()),
        period = escape(&period(document)),
    );
    key_figures(&mut html, document);
    scope_and_method(&mut html, document);
    let mut charts: Vec<&Table> = document
        .tables
        .iter()
        .filter(|t| !t.dimensions.is_empty())
        .collect();
    charts.sort_by_key(|t| rank(t));
    html.push_str("<h2 id=\"figures\">The figures</h2>");
    for table in charts {
        chart_section(&mut html, document, table);
    }
    about(&mut html, signed);
    html.push_str("</body></html>\n");
    html
}

fn key_figures(html: &mut String, document: &Document) {
    html.push_str("<h2 class=\"first\">Key figures</h2><dl class=\"figures\" id=\"totals\">");
    for table in document.tables.iter().filter(|t| t.dimensions.is_empty()) {
        let Some(cell) = table.cells.first() else {
            continue;
        };
        let _ = write!(
            html,
            "<div><dt>{}</dt><dd data-cell=\"{}\">{}</dd></div>",
            measure_name(&table.measure),
            escape(&table.name),
            count_text(shown(cell.withheld, cell.value)),
        );
    }
    html.push_str("</dl>");
}

fn scope_and_method(html: &mut String, document: &Document) {
    let publication = &document.settings.publication;
    let cells: usize = document.tables.iter().map(|t| t.cells.len()).sum();
    let audit = &document.audit;
    let _ = write!(
        html,
        "<h2 id=\"scope-and-method\">Scope and method</h2>\
         <p id=\"scope\">{scope}</p><p id=\"method\">{method}</p>\
         <h3>What is counted</h3><p id=\"counting-rule\">{rule}</p>\
         <h3>How small counts are withheld</h3><p id=\"withholding\">To protect the people \
         behind them, counts from 1 to {t} are withheld, and so are enough other counts that \
         none can be worked out by subtraction, from this release or together with any earlier \
         one. An audit by linear programming over everything published checks that each \
         withheld count could lie anywhere within a range at least {r} wide. Withheld counts read \
         <span class=\"withheld\">withheld</span>; a category whose counts are all withheld is \
         named beneath its chart instead of being drawn; zero is always shown. This release \
         withholds {w} of its {cells} figures: {p} small counts and {s} that would give them \
         away.</p>",
        scope = escape(&publication.scope),
        method = escape(&publication.method),
        rule = escape(crate::counting::RULE),
        t = audit.threshold,
        r = audit.min_range,
        w = audit.primary_withheld + audit.secondary_withheld,
        p = audit.primary_withheld,
        s = audit.secondary_withheld,
    );
}

fn chart_section(html: &mut String, document: &Document, table: &Table) {
    let mut chart = chart_of(document, table);
    let trend = matches!(
        table.dimensions.first().and_then(|d| Dim::parse(d)),
        Some(Dim::Month | Dim::Week)
    ) && chart.series.len() == 1;
    let id = escape(&chart.id);
    let _ = write!(
        html,
        "<section class=\"chart\" id=\"{id}\"><h3>{}</h3>",
        escape(&chart.title)
    );
    if table.cells.is_empty() {
        html.push_str("<p class=\"note\">Nothing to show.</p></section>");
        return;
    }
    if trend {
        // The whole run of periods stays in place, withheld ones as grey ticks, so the trend
        // reads true; the values are listed compactly beneath.
        html.push_str(&columns(&chart));
        let _ = write!(html, "<dl class=\"series\">");
        let series = chart.series.first().cloned().unwrap_or_default();
        for category in &chart.categories {
            let _ = write!(
                html,
                "<dt>{}</dt><dd data-cell=\"{id}/{}\">{}</dd>",
                escape(&chart.name(category)),
                escape(category),
                count_text(chart.cell(category, &series)),
            );
        }
        html.push_str("</dl></section>");
        return;
    }
    let withheld = chart.take_withheld_categories();
    let withheld_names: Vec<String> = withheld.iter().map(|c| escape(&chart.name(c))).collect();
    if chart.categories.is_empty() {
        let _ = write!(
            html,
            "<p class=\"note withheld-categories\">All {} figures of this table are withheld \
             ({}: {}): too few to publish without putting people at risk.</p></section>",
            table.cells.len(),
            escape(&chart.category_label),
            withheld_names.join(", ")
        );
        return;
    }
    // A chart with no count above zero to draw would be a column of zeros and withheld marks:
    // the table says it better.
    let drawn = chart
        .categories
        .iter()
        .any(|c| chart.series.iter().any(|s| chart.cell(c, s).count() > 0));
    if drawn {
        html.push_str(&bar_chart(&chart));
    }
    let _ = write!(
        html,
        "<table><thead><tr><th scope=\"col\">{}</th>",
        escape(&chart.category_label)
    );
    for series in &chart.series {
        let _ = write!(
            html,
            "<th scope=\"col\">{}</th>",
            escape(&chart.name(series))
        );
    }
    html.push_str("</tr></thead><tbody>");
    let single = table.dimensions.len() == 1;
    for category in &chart.categories {
        let _ = write!(
            html,
            "<tr><th scope=\"row\">{}</th>",
            escape(&chart.name(category))
        );
        for series in &chart.series {
            let key = if single {
                category.clone()
            } else {
                format!("{category}/{series}")
            };
            let _ = write!(
                html,
                "<td data-cell=\"{id}/{}\">{}</td>",
                escape(&key),
                count_text(chart.cell(category, series)),
            );
        }
        html.push_str("</tr>");
    }
    html.push_str("</tbody></table>");
    if !withheld.is_empty() {
        let _ = write!(
            html,
            "<p class=\"note withheld-categories\">Withheld for {}: {}.</p>",
            escape(&chart.category_label),
            withheld_names.join(", ")
        );
    }
    html.push_str("</section>");
}

fn about(html: &mut String, signed: &Signed<'_>) {
    let _ = write!(
        html,
        "<h2 id=\"about\">About this release</h2><p class=\"note\">This report renders release \
         {number} exactly as signed by the office. The signed file (from <code>ExportRelease\
         </code>) holds every table as JSON and CSV, the positions in the records it was computed \
         at, the settings that shaped it and the audit; <code>docket release verify FILE \
         --public-key KEY</code> checks it offline. Document SHA-256: <code>{sha}</code>. \
         Signed with the Ed25519 key <code>{key}</code>.</p>",
        number = signed.document.number,
        sha = escape(signed.document_sha256),
        key = escape(signed.public_key),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn large_counts_read_with_thousands_separated() {
        assert_eq!(grouped(0), "0");
        assert_eq!(grouped(999), "999");
        assert_eq!(grouped(10_000), "10,000");
        assert_eq!(grouped(1_234_567), "1,234,567");
    }
}
