//! A public reader's attacks, played with what a `public_reporter` token can read.

use std::collections::BTreeMap;

use docket_e2e::ReportingClient;
use docket_proto::docket::reporting::v1 as rep;
use tonic::Code;

use super::PLACES;

const THRESHOLD: i64 = 5;

/// Live statistics, exports and reports: all refused, for either audience, with any filter.
pub async fn live_figures_are_refused(public: &mut ReportingClient) {
    for audience in [rep::Audience::Public, rep::Audience::Internal] {
        // The differencing: a party total, then the same filtered.
        for filters in [
            vec![],
            vec![rep::Filter {
                dimension: rep::Dimension::Party.into(),
                values: vec!["TRS".into(), "VAL".into()],
            }],
        ] {
            let refused = public
                .query_statistics(rep::QueryStatisticsRequest {
                    measure: rep::Measure::Victims.into(),
                    group_by: vec![rep::Dimension::Party.into()],
                    filters,
                    audience: audience.into(),
                    ..Default::default()
                })
                .await
                .unwrap_err();
            assert_eq!(refused.code(), Code::PermissionDenied);
        }
        let refused = public
            .export_cases(rep::ExportCasesRequest {
                format: rep::ExportFormat::Csv.into(),
                audience: audience.into(),
                filters: vec![],
            })
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::PermissionDenied);
        let refused = public
            .render_report(rep::RenderReportRequest {
                audience: audience.into(),
            })
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::PermissionDenied);
    }
}

fn table<'a>(release: &'a rep::Release, name: &str) -> &'a rep::ReleaseTable {
    release
        .tables
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("release {} has no table {name}", release.number))
}

/// What a reader learns of the withheld cells of a table whose cells add up to `total` (each
/// item in one cell): their sum. Exactly one withheld cell, or a small sum, gives them away.
fn remainder(table: &rep::ReleaseTable, total: i64) -> Option<(usize, i64)> {
    let withheld = table.cells.iter().filter(|c| c.withheld).count();
    let published: i64 = table
        .cells
        .iter()
        .filter(|c| !c.withheld)
        .map(|c| c.value)
        .sum();
    (withheld > 0).then_some((withheld, total - published))
}

/// The attacks within one release: every partition of a published total minus its published
/// cells, and every withheld cell's range in the release's own audit.
pub fn nothing_withheld_can_be_worked_out(release: &rep::Release) {
    let audit = release.audit.as_ref().unwrap();
    assert!(audit.primary_withheld > 0, "the situation has small counts");
    let withheld: usize = release
        .tables
        .iter()
        .map(|t| t.cells.iter().filter(|c| c.withheld).count())
        .sum();
    assert_eq!(
        audit.cells.len(),
        withheld,
        "every withheld cell is audited"
    );
    for cell in &audit.cells {
        let width = cell.upper.map_or(f64::INFINITY, |u| u - cell.lower);
        assert!(width >= audit.min_range as f64, "{cell:?}");
    }
    for cell in release.tables.iter().flat_map(|t| &t.cells) {
        assert!(
            cell.withheld || cell.value == 0 || cell.value > THRESHOLD,
            "{cell:?}"
        );
        assert!(
            !cell.withheld || cell.value == 0,
            "a withheld cell shows no value"
        );
    }
    // Tables that split the total (one party per case here, one harm per victim group, one
    // region per case): the total minus the published cells.
    let partitions = [
        ("victims", "victims_by_party"),
        ("victims", "victims_by_harm"),
        ("victims", "victims_by_month"),
        ("victims", "victims_by_region"),
        ("cases", "cases_by_region"),
    ];
    for (total_table, split) in partitions {
        let total = &table(release, total_table).cells[0];
        if total.withheld {
            continue;
        }
        if let Some((count, sum)) = remainder(table(release, split), total.value) {
            assert!(
                count >= 2 && sum >= audit.min_range,
                "{split}: {count} withheld cells summing to {sum} in release {}",
                release.number
            );
        }
    }
}

/// No free-text place in the release as read, or in its exported file (the document line).
pub fn no_place_is_published(release: &rep::Release, file: &[u8]) {
    let read = format!("{release:?}");
    let document = std::str::from_utf8(file)
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .to_owned();
    for text in [read, document] {
        for place in PLACES {
            assert!(!text.contains(place), "{place:?} is published");
        }
        for word in ["Small", "Big", "Tesk", "farm"] {
            assert!(!text.contains(word), "{word:?} is published");
        }
    }
    let regions: Vec<&str> = table(release, "cases_by_region")
        .cells
        .iter()
        .map(|c| c.keys[0].as_str())
        .collect();
    assert!(
        regions
            .iter()
            .all(|r| ["North", "South", "unknown"].contains(r)),
        "{regions:?}"
    );
}

/// Between two releases: a cell published in both changed by 0 or by more than the
/// threshold, so no difference gives a small group away.
pub fn successive_releases_give_nothing_away(first: &rep::Release, second: &rep::Release) {
    let cells = |release: &rep::Release| -> BTreeMap<(String, Vec<String>), Option<i64>> {
        release
            .tables
            .iter()
            .flat_map(|t| {
                t.cells.iter().map(|c| {
                    (
                        (t.name.clone(), c.keys.clone()),
                        (!c.withheld).then_some(c.value),
                    )
                })
            })
            .collect()
    };
    let (before, after) = (cells(first), cells(second));
    let mut compared = 0;
    for (key, now) in &after {
        if let (Some(Some(then)), Some(now)) = (before.get(key), now) {
            let change = (now - then).abs();
            assert!(
                change == 0 || change > THRESHOLD,
                "{key:?}: {then} then {now}"
            );
            compared += 1;
        }
    }
    assert!(compared > 0);
    // The total moved by two: it cannot be published in both.
    assert!(
        before[&("victims".to_owned(), vec![])].is_none()
            || after[&("victims".to_owned(), vec![])].is_none()
    );
}

/// The text of the element carrying `data-cell="{key}"`, tags stripped; `None` if absent.
fn report_cell(html: &str, key: &str) -> Option<String> {
    let marker = format!("data-cell=\"{key}\"");
    let rest = &html[html.find(&marker)?..];
    let open = rest.find('>')? + 1;
    let close = ["</td>", "</dd>"]
        .iter()
        .filter_map(|end| rest.find(end))
        .min()?;
    let mut text = String::new();
    let mut in_tag = false;
    for c in rest[open..close].chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    Some(text)
}

/// The public report of `release`: each figure as released (withheld ones read "withheld"
/// or are left out), no free-text place, the office's words and the parties' names.
pub fn the_report_shows_the_release_and_nothing_withheld(release: &rep::Release, html: &str) {
    let mut shown = 0;
    for table in &release.tables {
        for cell in &table.cells {
            let key = if cell.keys.is_empty() {
                table.name.clone()
            } else {
                format!("{}/{}", table.name, cell.keys.join("/"))
            };
            match report_cell(html, &key) {
                Some(text) if cell.withheld => assert_eq!(text, "withheld", "{key}"),
                Some(text) => {
                    assert_eq!(text.replace(',', ""), cell.value.to_string(), "{key}");
                    shown += 1;
                }
                None => assert!(cell.withheld, "{key} is released but not in the report"),
            }
        }
    }
    assert!(shown > 0);
    // AM's two victims, withheld in the release, are named as withheld beneath the chart.
    assert!(matches!(
        report_cell(html, "victims_by_party/AM").as_deref(),
        None | Some("withheld")
    ));
    assert!(
        html.contains("withheld (alleged party: AM, TRS, VAL)")
            || html.contains("Withheld for alleged party: AM"),
        "{html}"
    );
    for place in PLACES {
        assert!(!html.contains(place), "{place:?} is in the report");
    }
    for word in ["Small", "Big", "Tesk", "farm"] {
        assert!(!html.contains(word), "{word:?} is in the report");
    }
    for words in [
        "Reporting period",
        "Scope and method",
        "allegations under investigation",
        "How small counts are withheld",
        "People harmed, by alleged party",
    ] {
        assert!(html.contains(words), "the report lacks {words:?}");
    }
    for banned in ["<script", "src=\"http", "href=\"http", "<link", "<iframe"] {
        assert!(!html.contains(banned), "the report holds {banned}");
    }
}
