//! Releases through the real binary, offline: `docket release verify` accepts a signed file and
//! refuses it after one flipped byte; `docket release render` turns releases of 10 and 10 000
//! cases into the public report, and headless Chromium prints and screenshots it, with no
//! withheld value and no free-text place anywhere in it. And online: `docket release
//! reproduce` has a running reporting recompute a published release at its positions.
//!
//! The browser part is skipped when `chromium` is not installed, unless
//! `DOCKET_TEST_REQUIRE_CHROMIUM=1` (as in CI). With `DOCKET_REPORT_SCREENSHOTS=DIR` the
//! screenshots are kept in DIR (that is how `docs/report-*-cases.png` were made).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use docket_platform::Settings;
use docket_reporting::bulk::{CaseItem, ChargeRow, VictimRow};
use docket_reporting::release::document;
use docket_reporting::release::gazetteer::Gazetteer;
use docket_reporting::release::service::Releases;
use docket_reporting::release::{catalogue, tables};

fn docket(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_docket"))
        .args(args)
        .output()
        .unwrap()
}

/// Free-text places of the generated cases: a few the gazetteer knows, the rest not.
fn place(i: usize) -> String {
    match i % 5 {
        0 => "Ganja, Shahriyar street".to_owned(),
        1 => "Tesk bus depot".to_owned(),
        2 => format!("Hamlet number {i} by the river"),
        3 => "Hadrut".to_owned(),
        _ => format!("Orchard lane {}", i % 37),
    }
}

/// The i-th generated case of a docket of `n`, spread over parties, crimes, weeks and people.
fn case(i: usize, n: usize) -> CaseItem {
    const HARMS: [&str; 4] = [
        "HARM_KILLED",
        "HARM_INJURED",
        "HARM_ILL_TREATED",
        "HARM_MISSING",
    ];
    const AGES: [&str; 3] = ["AGE_GROUP_ADULT", "AGE_GROUP_CHILD", "AGE_GROUP_ELDERLY"];
    const SEXES: [&str; 2] = ["SEX_FEMALE", "SEX_MALE"];
    const CRIMES: [&str; 4] = ["icc.8.2.a.i", "icc.8.2.b.i", "icc.8.2.a.ii", "icc.8.2.b.ii"];
    let hash = i.wrapping_mul(2_654_435_761) >> 5;
    let mut parties = vec![["AM", "AZ"][hash % 2].to_owned()];
    if i.is_multiple_of(13) {
        parties.push("AM-NK".to_owned());
    }
    parties.sort();
    let weeks = (n / 60).clamp(4, 104);
    let week_index = 40 + (hash / 7) % weeks;
    let week = format!("{}-W{:02}", 2020 + week_index / 52, 1 + week_index % 52);
    let victims = (0..1 + hash % 2)
        .map(|g| {
            let age_group = AGES[(hash / 3 + g) % 3].to_owned();
            VictimRow {
                count: 1 + ((hash / 11 + g) % 4) as i64,
                status: if g == 0 {
                    "VICTIM_STATUS_CIVILIAN"
                } else {
                    "VICTIM_STATUS_PRISONER_OF_WAR"
                }
                .into(),
                harm: HARMS[(hash / 13 + g) % 4].into(),
                age_band: age_group.clone(),
                age_group,
                sex: SEXES[(hash / 17 + g) % 2].into(),
                party: ["AZ", "AM", "unknown"][(hash / 19 + g) % 3].into(),
            }
        })
        .collect();
    // A few rare values, so that a large docket has small cells too.
    let crimes = if i % 997 == 5 {
        vec!["icc.8.2.b.xxvi".to_owned()]
    } else {
        vec![CRIMES[(hash / 23) % 4].to_owned()]
    };
    let charges = if i.is_multiple_of(7) {
        vec![ChargeRow {
            charge_id: format!("g-{i}"),
            person_id: format!("p-{}", i % 50),
            crime: crimes[0].clone(),
            in_absentia: (!i.is_multiple_of(3)).to_string(),
            status: "CHARGE_STATUS_FILED".into(),
        }]
    } else {
        Vec::new()
    };
    CaseItem {
        id: format!("c-{i}"),
        status: "CASE_STATUS_UNDER_INVESTIGATION".into(),
        week,
        place: if i % 1_500 == 7 {
            "Barda".to_owned()
        } else {
            place(i)
        },
        parties,
        crimes,
        victims,
        charges,
        ..Default::default()
    }
}

/// A release of `n` generated cases, signed with `key`, and the true value of every cell.
async fn release_of(n: usize, data: &Path) -> (Vec<u8>, Vec<(String, Vec<String>, i64, bool)>) {
    let mut settings = Settings::defaults().unwrap();
    settings.data_dir = data.to_path_buf();
    settings.reporting.release.publication.office_name = "Office of the Prosecutor General".into();
    for (code, name) in [
        ("AM", "Armenia"),
        ("AZ", "Azerbaijan"),
        ("AM-NK", "De facto authorities"),
    ] {
        settings
            .reporting
            .release
            .publication
            .party_names
            .insert(code.to_lowercase(), name.into());
    }
    let db = sea_orm::Database::connect("sqlite::memory:").await.unwrap();
    let releases = Releases::from_settings(db, &settings).unwrap();
    let catalogue = catalogue::parse(&settings.reporting.release.tables).unwrap();
    let gazetteer = Gazetteer::load(None).unwrap();
    let mut accumulator = tables::Accumulator::new(&catalogue, &gazetteer);
    for i in 0..n {
        accumulator.add(&case(i, n));
    }
    let created = chrono::DateTime::parse_from_rfc3339("2026-11-30T12:00:00Z")
        .unwrap()
        .with_timezone(&chrono::Utc);
    let (document, kept) = releases
        .compose(
            1,
            "Monthly update",
            created,
            &vec![("case-management".to_owned(), n as i64)],
            accumulator.finish(),
            &[],
        )
        .unwrap();
    let key = docket_reporting::release::service::signing_key(&settings).unwrap();
    let signed = document::sign(&document, &key).unwrap();
    let truth = kept
        .into_iter()
        .map(|c| (c.table, c.keys, c.value, c.withheld))
        .collect();
    (signed.file, truth)
}

#[tokio::test]
async fn a_release_verifies_through_the_binary_and_one_flipped_byte_fails_it() {
    let dir = tempfile::tempdir().unwrap();
    let (file, _) = release_of(40, dir.path()).await;
    let path = dir.path().join("release-1.json");
    std::fs::write(&path, &file).unwrap();
    let verified = docket(&["release", "verify", path.to_str().unwrap()]);
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stderr)
    );
    assert!(String::from_utf8_lossy(&verified.stdout).contains("verified"));

    // One byte of the document flipped: a figure, say.
    let at = file.windows(8).position(|w| w == b"\"value\":").unwrap() + 8;
    let mut altered = file.clone();
    altered[at] ^= 0x01;
    let path = dir.path().join("altered.json");
    std::fs::write(&path, &altered).unwrap();
    let refused = docket(&["release", "verify", path.to_str().unwrap()]);
    assert!(!refused.status.success());
    let message = String::from_utf8_lossy(&refused.stderr);
    assert!(
        message.contains("does not verify")
            && message.contains("the signature does not match the document"),
        "{message}"
    );
    assert!(refused.stdout.is_empty());
}

/// The text of the element carrying `data-cell="{key}"`, tags stripped; `None` if absent.
fn cell(html: &str, key: &str) -> Option<String> {
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

fn require_chromium() -> bool {
    let installed = Path::new("/usr/bin/chromium").is_file();
    assert!(
        installed || std::env::var("DOCKET_TEST_REQUIRE_CHROMIUM").as_deref() != Ok("1"),
        "DOCKET_TEST_REQUIRE_CHROMIUM=1 but chromium is not installed"
    );
    installed
}

#[tokio::test]
async fn the_public_report_of_10_and_10_000_cases_shows_no_withheld_value_and_prints() {
    let chromium = require_chromium();
    for n in [10, 10_000] {
        let dir = tempfile::tempdir().unwrap();
        let (file, truth) = release_of(n, dir.path()).await;
        let path = dir.path().join("release.json");
        std::fs::write(&path, &file).unwrap();
        let html_path = dir.path().join("report.html");
        let shots: PathBuf = std::env::var_os("DOCKET_REPORT_SCREENSHOTS")
            .map_or_else(|| dir.path().to_path_buf(), PathBuf::from);
        let png = shots.join(format!("report-{n}-cases.png"));
        let pdf = dir.path().join("report.pdf");
        let mut args = vec![
            "release".to_owned(),
            "render".to_owned(),
            path.display().to_string(),
            "--out".to_owned(),
            html_path.display().to_string(),
        ];
        if chromium {
            args.extend([
                "--pdf".to_owned(),
                pdf.display().to_string(),
                "--screenshot".to_owned(),
                png.display().to_string(),
            ]);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let rendered = docket(&args);
        assert!(
            rendered.status.success(),
            "{}",
            String::from_utf8_lossy(&rendered.stderr)
        );
        let html = std::fs::read_to_string(&html_path).unwrap();

        // Every published figure is there as published; no withheld one shows a number.
        let mut withheld = 0;
        for (table, keys, value, is_withheld) in &truth {
            let key = if keys.is_empty() {
                table.clone()
            } else {
                format!("{table}/{}", keys.join("/"))
            };
            match cell(&html, &key) {
                Some(text) if *is_withheld => {
                    withheld += 1;
                    assert_eq!(text, "withheld", "{key} (truly {value}) at {n} cases");
                }
                Some(text) => assert_eq!(
                    text.replace(',', ""),
                    value.to_string(),
                    "{key} at {n} cases"
                ),
                None => assert!(*is_withheld, "{key} is published but not shown"),
            }
        }
        assert!(
            truth.iter().any(|t| t.3),
            "{n} cases: some figure is withheld"
        );
        eprintln!(
            "{n} cases: {} cells, {withheld} withheld ones shown as withheld",
            truth.len()
        );
        for free_text in ["Shahriyar", "Hamlet", "Orchard", "Tesk", "river"] {
            assert!(!html.contains(free_text), "{free_text} is in the report");
        }
        for words in [
            "Office of the Prosecutor General",
            "Reporting period",
            "Scope and method",
            "allegations under investigation",
            "Armenia",
            "Wilful killing",
            "How small counts are withheld",
        ] {
            assert!(html.contains(words), "the report lacks {words:?}");
        }
        assert!(!html.contains("<script"));

        if chromium {
            let pdf = std::fs::read(&pdf).unwrap();
            assert!(pdf.starts_with(b"%PDF-"), "a PDF at {n} cases");
            let png = std::fs::read(&png).unwrap();
            assert!(png.starts_with(b"\x89PNG"), "a screenshot at {n} cases");
        }
    }
}

/// Cases reporting at `addr` counts, waited for until they are `cases`.
async fn counted(app: &docket_e2e::TestApp, cases: i64) {
    use docket_proto::docket::reporting::v1 as rep;
    let mut analyst = app.reporting_as(docket_platform::auth::Role::Analyst).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        let total = analyst
            .query_statistics(rep::QueryStatisticsRequest {
                measure: rep::Measure::Cases.into(),
                audience: rep::Audience::Internal.into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .total;
        if total == cases {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{total} cases, not {cases}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// `docket release reproduce` against the running reporting of `app`, as `role`; the process
/// is waited for off the runtime, which serves the call meanwhile.
async fn reproduce(
    app: &docket_e2e::TestApp,
    file: &Path,
    role: docket_platform::auth::Role,
    key: &str,
) -> Output {
    let token = app
        .settings
        .data_dir
        .join(format!("{}.token", role.as_str()));
    std::fs::write(&token, app.token(role, "auditor.mammadova")).unwrap();
    let mut command = Command::new(env!("CARGO_BIN_EXE_docket"));
    command
        .args([
            "release",
            "reproduce",
            file.to_str().unwrap(),
            "--public-key",
            key,
        ])
        .args(["--url", &format!("http://{}", app.reporting_addr)])
        .args(["--token-file", token.to_str().unwrap()])
        .env("DOCKET__DATA_DIR", &app.settings.data_dir);
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

/// An incident with twenty people killed: figures large enough to publish.
fn incident(number: u32) -> docket_proto::docket::cases::v1::AllegationSnapshot {
    use docket_proto::docket::common::v1 as common;
    let mut sent = docket_e2e::snapshot(number);
    sent.victims = vec![common::VictimGroup {
        count: 20,
        status: common::VictimStatus::Civilian.into(),
        harm: common::Harm::Killed.into(),
        age_group: common::AgeGroup::Adult.into(),
        sex: common::Sex::Female.into(),
        ..Default::default()
    }];
    sent
}

docket_e2e::on_every_backend!(
    a_published_release_reproduces_on_the_live_service_and_a_forged_one_does_not
);

/// A release published, then more cases counted: the service rebuilds its projections at the
/// release's positions and gives back the published file byte for byte. A file the office's
/// key signed over a figure the data do not give is caught, with the figure named.
async fn a_published_release_reproduces_on_the_live_service_and_a_forged_one_does_not(
    backend: docket_e2e::Backend,
) {
    use docket_platform::auth::Role;
    use docket_proto::docket::reporting::v1 as rep;
    let Some(app) = docket_e2e::TestApp::spawn(backend).await else {
        return;
    };
    for number in 901..904 {
        docket_e2e::deliver(&app, incident(number)).await;
    }
    counted(&app, 3).await;
    let mut supervisor = app.reporting_as(Role::Supervisor).await;
    supervisor
        .create_release(rep::CreateReleaseRequest {
            title: "October 2020".into(),
        })
        .await
        .unwrap();
    let file = supervisor
        .export_release(rep::ExportReleaseRequest { number: 1 })
        .await
        .unwrap()
        .into_inner()
        .file
        .to_vec();
    // The live projections move on past the release.
    docket_e2e::deliver(&app, incident(904)).await;
    counted(&app, 4).await;

    let key = docket_reporting::release::service::signing_key(&app.settings).unwrap();
    let office = document::public_key(&key);
    let path = app.settings.data_dir.join("release-1.json");
    std::fs::write(&path, &file).unwrap();
    let reproduced = reproduce(&app, &path, Role::Auditor, &office).await;
    let said = String::from_utf8_lossy(&reproduced.stdout);
    assert!(
        reproduced.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&reproduced.stderr)
    );
    assert!(said.contains("reproduced byte for byte"), "{said}");

    // The office's key over a figure one higher than the data give.
    let mut forged = document::verify(&file, Some(&office)).unwrap().document;
    let (table, cell) = forged
        .tables
        .iter()
        .enumerate()
        .find_map(|(t, table)| Some((t, table.cells.iter().position(|c| !c.withheld)?)))
        .expect("a published figure");
    forged.tables[table].cells[cell].value += 1;
    let path = app.settings.data_dir.join("forged.json");
    std::fs::write(&path, document::sign(&forged, &key).unwrap().file).unwrap();
    let refused = reproduce(&app, &path, Role::Supervisor, &office).await;
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "{said}");
    assert!(
        said.contains("does not reproduce")
            && said.contains(&format!("tables[{table}].cells[{cell}].value is")),
        "{said}"
    );

    // Neither the public nor an analyst may have it recomputed.
    let denied = reproduce(&app, &path, Role::PublicReporter, &office).await;
    assert!(!denied.status.success());
    assert!(
        String::from_utf8_lossy(&denied.stderr).contains("PermissionDenied"),
        "{}",
        String::from_utf8_lossy(&denied.stderr)
    );
    app.stop().await;
}
