//! `RenderReport` on the seed situation: every figure of the report is the figure
//! `QueryStatistics` gives, withheld ones read "suppressed", nothing personal is shown, and
//! headless Chromium renders it. Bad requests to the new methods are refused field by field.
//!
//! The browser check is skipped when `chromium` is not installed, unless
//! `DOCKET_TEST_REQUIRE_CHROMIUM=1` (as in CI), which makes a missing browser a failure.

use std::path::PathBuf;
use std::process::Command;

use docket_e2e::{Backend, ReportingClient, TestApp, field_violations, on_every_backend};
use docket_platform::auth::Role;
use docket_proto::docket::reporting::v1 as rep;
use tonic::Code;

use super::ask;
use super::seed::settled;
use super::situation::{self, LEADERS};

on_every_backend!(the_report_shows_the_figures_of_the_statistics_in_a_browser);

use rep::Dimension as D;
use rep::Measure as M;

pub(super) async fn render(client: &mut ReportingClient, audience: rep::Audience) -> String {
    client
        .render_report(rep::RenderReportRequest {
            audience: audience.into(),
        })
        .await
        .unwrap()
        .into_inner()
        .html
}

/// The text of the element carrying `data-cell="{key}"`, its tags stripped.
pub(super) fn cell(html: &str, key: &str) -> String {
    let marker = format!("data-cell=\"{key}\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("the report has no cell {key}"));
    let rest = &html[start..];
    let open = rest.find('>').unwrap() + 1;
    let close = rest
        .find("</td>")
        .into_iter()
        .chain(rest.find("</dd>"))
        .min()
        .unwrap();
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
    text
}

/// Checks that each chart of `html` agrees with `QueryStatistics` for `audience`.
async fn agrees_with_statistics(client: &mut ReportingClient, html: &str, audience: rep::Audience) {
    for (chart, measure, group_by) in [
        (
            "cases-by-crime-type",
            M::Cases,
            vec![D::CrimeType, D::Party],
        ),
        (
            "victims-by-age-and-sex",
            M::Victims,
            vec![D::AgeGroup, D::Sex],
        ),
        ("victims-by-harm", M::Victims, vec![D::Harm]),
    ] {
        let answer = ask(client, measure, &group_by, vec![], audience).await;
        assert!(!answer.rows.is_empty());
        for row in &answer.rows {
            let series = row.keys.get(1).map_or("count", String::as_str);
            let key = format!("{chart}/{}/{series}", row.keys[0]);
            let expected = if row.suppressed {
                "suppressed".to_owned()
            } else {
                row.value.to_string()
            };
            assert_eq!(cell(html, &key), expected, "{key}");
        }
    }
}

async fn the_report_shows_the_figures_of_the_statistics_in_a_browser(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    situation::build(&app).await;
    let mut analyst = app.reporting_as(Role::Analyst).await;
    settled(&mut analyst).await;

    let internal = render(&mut analyst, rep::Audience::Internal).await;
    agrees_with_statistics(&mut analyst, &internal, rep::Audience::Internal).await;
    for (key, value) in [
        ("totals/cases", "6"),
        ("totals/victims", "30"),
        ("totals/charges", "5"),
        ("totals/accused", "5"),
        ("cases-by-crime-type/icc.8.2.b.i/AM", "3"),
        ("cases-and-victims-by-week/2020-W41/people harmed", "17"),
        ("cases-and-victims-by-week/2020-W42/cases", "1"),
        ("charges-and-accused/in absentia/charges", "4"),
        ("charges-and-accused/in person/persons charged", "1"),
    ] {
        assert_eq!(cell(&internal, key), value, "{key}");
    }

    // The office previews the public edition; the public itself reads releases.
    let mut public = app.reporting_as(Role::Analyst).await;
    let published = render(&mut public, rep::Audience::Public).await;
    agrees_with_statistics(&mut public, &published, rep::Audience::Public).await;
    assert_eq!(cell(&published, "totals/victims"), "30");
    assert_eq!(cell(&published, "totals/charges"), "suppressed");
    assert_eq!(
        cell(
            &published,
            "victims-by-age-and-sex/AGE_GROUP_CHILD/SEX_MALE"
        ),
        "suppressed"
    );
    assert!(published.contains("counts from 1 to 5 are not published"));
    for html in [&internal, &published] {
        assert!(
            html.contains("http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'")
        );
        for banned in ["<script", "src=\"http", "href=\"http", "<link", "<iframe"] {
            assert!(!html.contains(banned), "the report holds {banned}");
        }
        for secret in LEADERS.iter().chain(&["Ganja", "Shahriyar"]) {
            assert!(!html.contains(secret), "the report shows {secret}");
        }
    }
    // A public reader renders nothing live, whichever edition: it reads releases.
    let mut reader = app.reporting_as(Role::PublicReporter).await;
    for audience in [rep::Audience::Internal, rep::Audience::Public] {
        let refused = reader
            .render_report(rep::RenderReportRequest {
                audience: audience.into(),
            })
            .await
            .unwrap_err();
        assert_eq!(refused.code(), Code::PermissionDenied);
    }
    bad_requests_are_refused_field_by_field(&mut analyst).await;

    if let Some(dom) = rendered_by_chromium(&published).await {
        assert_eq!(cell(&dom, "totals/victims"), "30");
        assert_eq!(cell(&dom, "totals/cases"), "6");
        assert_eq!(
            cell(&dom, "cases-and-victims-by-week/2020-W41/people harmed"),
            "17"
        );
        assert_eq!(
            cell(&dom, "victims-by-age-and-sex/AGE_GROUP_ADULT/SEX_MALE"),
            "suppressed"
        );
        assert!(dom.contains("<svg"), "the charts render");
    }
    app.stop().await;
}

async fn bad_requests_are_refused_field_by_field(analyst: &mut ReportingClient) {
    let bad = analyst
        .export_cases(rep::ExportCasesRequest {
            format: 9,
            audience: 0,
            filters: vec![
                rep::Filter {
                    dimension: D::Harm.into(),
                    values: vec!["HARM_KILLED".into()],
                },
                rep::Filter {
                    dimension: D::Party.into(),
                    values: vec![],
                },
            ],
        })
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert_eq!(
        field_violations(&bad),
        [
            "format",
            "audience",
            "filters[0].dimension",
            "filters[1].values"
        ]
    );
    let bad = analyst
        .render_report(rep::RenderReportRequest { audience: 7 })
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert_eq!(field_violations(&bad), ["audience"]);
}

/// The DOM Chromium builds from `html`, or `None` when Chromium is not installed (and not
/// required).
async fn rendered_by_chromium(html: &str) -> Option<String> {
    let Some(chromium) = chromium() else {
        assert!(
            std::env::var("DOCKET_TEST_REQUIRE_CHROMIUM").as_deref() != Ok("1"),
            "DOCKET_TEST_REQUIRE_CHROMIUM=1 but chromium is not installed"
        );
        eprintln!("chromium is not installed: the report is not rendered in a browser");
        return None;
    };
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("report.html");
    std::fs::write(&page, html).unwrap();
    let profile = dir.path().join("profile");
    let output = tokio::task::spawn_blocking(move || {
        Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-extensions",
                "--virtual-time-budget=2000",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("--dump-dom")
            .arg(format!("file://{}", page.display()))
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let dom = String::from_utf8(output.stdout).unwrap();
    assert!(
        dom.contains("</html>"),
        "chromium printed no document: {dom}"
    );
    Some(dom)
}

fn chromium() -> Option<PathBuf> {
    ["/usr/bin/chromium", "/usr/bin/chromium-browser"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())
}
