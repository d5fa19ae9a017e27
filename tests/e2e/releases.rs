//! Releases: the public reads fixed tables, protected together and against earlier releases,
//! signed, and reproducible — never live figures.
//!
//! The situation plays the attacks: victims by party with AM small beside a published
//! total, a week's harm with killed small, places that single out a village or name a
//! filtration point, and a second release that adds two victims to the first.

mod attacks;
mod regions;

use std::time::Duration;

use docket_e2e::{Backend, ReportingClient, TestApp, on_every_backend, snapshot};
use docket_platform::auth::Role;
use docket_proto::docket::common::v1 as common;
use docket_proto::docket::reporting::v1 as rep;
use tonic::Code;

on_every_backend!(
    the_public_reads_only_protected_releases,
    a_release_is_signed_verified_and_reproduced_byte_for_byte,
    creating_a_release_outlasts_the_request_timeout_and_nothing_else_does,
);

fn victims(count: i32, harm: common::Harm, age_group: common::AgeGroup) -> common::VictimGroup {
    common::VictimGroup {
        count,
        status: common::VictimStatus::Civilian.into(),
        harm: harm.into(),
        age_group: age_group.into(),
        sex: common::Sex::Female.into(),
        ..Default::default()
    }
}

/// Delivers an incident attributed to `party` at `place` with `groups` harmed.
async fn incident(
    app: &TestApp,
    number: u32,
    party: &str,
    place: &str,
    groups: Vec<common::VictimGroup>,
) {
    let mut sent = snapshot(number);
    sent.alleged_perpetrators[0].party_code = party.into();
    sent.location.as_mut().unwrap().place_name = place.into();
    sent.victims = groups;
    docket_e2e::deliver(app, sent).await;
}

/// The free-text places of the situation: none may reach the public.
pub const PLACES: [&str; 6] = [
    "Small village",
    "Tesk bus depot",
    "Big town",
    "Lowfield",
    "a farm near Tesk",
    "Shahriyar",
];

/// Builds the situation: 39 victims, AM 2 (a child killed and one injured in a small village),
/// TRS 4 (held at the Tesk bus depot), VAL 33.
async fn situation(app: &TestApp) {
    use common::AgeGroup::{Adult, Child};
    use common::Harm::{Injured, Killed};
    incident(
        app,
        701,
        "AM",
        "Small village, Small",
        vec![victims(1, Killed, Child), victims(1, Injured, Adult)],
    )
    .await;
    incident(
        app,
        702,
        "TRS",
        "Tesk bus depot",
        vec![victims(4, common::Harm::IllTreated, Adult)],
    )
    .await;
    incident(
        app,
        703,
        "VAL",
        "Big town, Big",
        vec![victims(20, Injured, Adult)],
    )
    .await;
    incident(
        app,
        704,
        "VAL",
        "Lowfield",
        vec![victims(13, Killed, Adult)],
    )
    .await;
}

/// Waits until reporting counts `cases` cases.
async fn settled(app: &TestApp, addr: Option<std::net::SocketAddr>, cases: i64) {
    let mut analyst = match addr {
        Some(addr) => app.reporting_at(addr, Role::Analyst).await,
        None => app.reporting_as(Role::Analyst).await,
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let counted = analyst
            .query_statistics(rep::QueryStatisticsRequest {
                measure: rep::Measure::Cases.into(),
                audience: rep::Audience::Internal.into(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .total;
        if counted == cases {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{counted} cases, not {cases}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the reporting at `addr` has applied every event its sources announced, or
/// (with `positions`) exactly those.
async fn caught_up(
    app: &TestApp,
    addr: Option<std::net::SocketAddr>,
    positions: Option<&[rep::ReleasePosition]>,
) {
    let mut analyst = match addr {
        Some(addr) => app.reporting_at(addr, Role::Analyst).await,
        None => app.reporting_as(Role::Analyst).await,
    };
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let status = analyst
            .get_projection_status(rep::GetProjectionStatusRequest {})
            .await
            .unwrap()
            .into_inner();
        let done = match positions {
            None => status
                .streams
                .iter()
                .all(|s| s.connected && s.lag_events == 0),
            Some(positions) => positions.iter().all(|p| {
                status
                    .streams
                    .iter()
                    .any(|s| s.stream == p.stream && s.last_sequence == p.sequence)
            }),
        };
        if done {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "{status:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn create(client: &mut ReportingClient, title: &str) -> Result<rep::Release, tonic::Status> {
    Ok(client
        .create_release(rep::CreateReleaseRequest {
            title: title.into(),
        })
        .await?
        .into_inner()
        .release
        .unwrap())
}

async fn get(client: &mut ReportingClient, number: i64) -> rep::Release {
    client
        .get_release(rep::GetReleaseRequest { number })
        .await
        .unwrap()
        .into_inner()
        .release
        .unwrap()
}

async fn render(client: &mut ReportingClient, number: i64) -> String {
    client
        .render_release(rep::RenderReleaseRequest { number })
        .await
        .unwrap()
        .into_inner()
        .html
}

async fn export(client: &mut ReportingClient, number: i64) -> Vec<u8> {
    client
        .export_release(rep::ExportReleaseRequest { number })
        .await
        .unwrap()
        .into_inner()
        .file
        .to_vec()
}

async fn the_public_reads_only_protected_releases(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    situation(&app).await;
    settled(&app, None, 4).await;
    let mut public = app.reporting_as(Role::PublicReporter).await;
    let mut supervisor = app.reporting_as(Role::Supervisor).await;

    // Live figures are closed to the public, whatever it asks.
    attacks::live_figures_are_refused(&mut public).await;
    let refused = create(&mut public, "Mine").await.unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
    let refused = create(&mut app.reporting_as(Role::Analyst).await, "Mine")
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);

    // Bad input writes nothing.
    let invalid = create(&mut supervisor, " ").await.unwrap_err();
    assert_eq!(docket_e2e::field_violations(&invalid), ["title"]);
    let invalid = public
        .get_release(rep::GetReleaseRequest { number: 0 })
        .await
        .unwrap_err();
    assert_eq!(docket_e2e::field_violations(&invalid), ["number"]);
    let missing = public
        .get_release(rep::GetReleaseRequest { number: 9 })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    let listed = public
        .list_releases(rep::ListReleasesRequest {})
        .await
        .unwrap();
    assert!(listed.into_inner().releases.is_empty());

    let first = create(&mut supervisor, "October 2020").await.unwrap();
    assert_eq!(first.number, 1);
    let first = get(&mut public, 1).await;
    let audit = first.audit.as_ref().unwrap();
    eprintln!(
        "release 1: {} of {} figures withheld ({} primary, {} secondary)",
        audit.primary_withheld + audit.secondary_withheld,
        first.tables.iter().map(|t| t.cells.len()).sum::<usize>(),
        audit.primary_withheld,
        audit.secondary_withheld
    );
    attacks::nothing_withheld_can_be_worked_out(&first);
    attacks::no_place_is_published(&first, &export(&mut public, 1).await);

    // Two more victims for AM: the new total is within the threshold of the old one, so the
    // second release must not show both totals, nor AM's two.
    incident(
        &app,
        705,
        "AM",
        "a farm near Tesk",
        vec![victims(2, common::Harm::Killed, common::AgeGroup::Elderly)],
    )
    .await;
    settled(&app, None, 5).await;
    create(&mut supervisor, "November 2020").await.unwrap();
    let second = get(&mut public, 2).await;
    attacks::nothing_withheld_can_be_worked_out(&second);
    attacks::no_place_is_published(&second, &export(&mut public, 2).await);
    attacks::successive_releases_give_nothing_away(&first, &second);
    // The published report of each release: its figures as released, nothing withheld shown,
    // no free-text place; the office's words, names and titles around them.
    for release in [&first, &second] {
        let html = render(&mut public, release.number).await;
        attacks::the_report_shows_the_release_and_nothing_withheld(release, &html);
    }
    let missing = public
        .render_release(rep::RenderReleaseRequest { number: 9 })
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
    let invalid = public
        .render_release(rep::RenderReleaseRequest { number: -1 })
        .await
        .unwrap_err();
    assert_eq!(docket_e2e::field_violations(&invalid), ["number"]);
    let listed = public
        .list_releases(rep::ListReleasesRequest {})
        .await
        .unwrap()
        .into_inner()
        .releases;
    assert_eq!(listed.iter().map(|r| r.number).collect::<Vec<_>>(), [2, 1]);
    assert!(listed.iter().all(|r| r.tables.is_empty()));
    app.stop().await;
}

async fn a_release_is_signed_verified_and_reproduced_byte_for_byte(backend: Backend) {
    use docket_reporting::release::document::{self, VerifyError};
    let Some(mut app) = TestApp::spawn(backend).await else {
        return;
    };
    situation(&app).await;
    settled(&app, None, 4).await;
    caught_up(&app, None, None).await;
    let mut supervisor = app.reporting_as(Role::Supervisor).await;
    let release = create(&mut supervisor, "October 2020").await.unwrap();
    let file = export(&mut app.reporting_as(Role::PublicReporter).await, 1).await;

    // The office's key, as its settings give it, made the signature.
    let key = docket_reporting::release::service::signing_key(&app.settings).unwrap();
    let office = document::public_key(&key);
    assert_eq!(release.public_key, office);
    let verified = document::verify(&file, Some(&office)).unwrap();
    assert_eq!(verified.document_sha256, release.document_sha256);
    // One flipped byte anywhere in the document breaks it.
    for at in [
        10,
        file.len() / 3,
        file.iter().position(|b| *b == b'\n').unwrap() - 2,
    ] {
        let mut altered = file.clone();
        altered[at] ^= 0x01;
        assert!(
            matches!(
                document::verify(&altered, Some(&office)),
                Err(VerifyError::BadSignature | VerifyError::Malformed(_))
            ),
            "byte {at}"
        );
    }

    // A second reporting, its projections rebuilt from the streams at the same positions,
    // computes the same tables, byte for byte.
    let other = app.start_another_reporting("reproduced").await;
    caught_up(&app, Some(other.addr), Some(&release.positions)).await;
    let mut elsewhere = app.reporting_at(other.addr, Role::Supervisor).await;
    let again = create(&mut elsewhere, "October 2020, again").await.unwrap();
    let reproduced = document::verify(&export(&mut elsewhere, again.number).await, Some(&office))
        .unwrap()
        .document;
    assert_eq!(reproduced.positions, verified.document.positions);
    assert_eq!(
        serde_json::to_vec(&reproduced.tables).unwrap(),
        serde_json::to_vec(&verified.document.tables).unwrap()
    );
    assert_eq!(reproduced.tables_csv, verified.document.tables_csv);
    assert_eq!(reproduced.audit, verified.document.audit);

    // And the whole signed file, byte for byte: the other reporting's database, at the same
    // positions, with the release's number, title and creation time, signed with the same key.
    let url = other.database_url.clone();
    other.stop().await;
    let db = sea_orm::Database::connect(url.as_str()).await.unwrap();
    let releases =
        docket_reporting::release::service::Releases::from_settings(db, &app.settings).unwrap();
    let again = releases.reproduce(&verified.document).await.unwrap();
    assert!(
        again == file,
        "the reproduced file differs from the published one:\n{}\n{}",
        String::from_utf8_lossy(&again),
        String::from_utf8_lossy(&file)
    );
    eprintln!(
        "release 1 reproduced byte for byte ({} bytes, document SHA-256 {})",
        file.len(),
        release.document_sha256
    );
    // Recomputed elsewhere than at its positions, it is refused rather than passed off.
    let mut moved = verified.document.clone();
    moved.positions[0].sequence += 1;
    let refused = releases.reproduce(&moved).await.unwrap_err();
    assert!(refused.to_string().contains("stand at"), "{refused}");
    app.stop().await;
}

/// Holds reporting's write lock (SQLite's, or an EXCLUSIVE lock on `releases` on PostgreSQL,
/// which readers pass) for `hold`, so that a call that publishes a release waits that long
/// whatever the size of the docket. Returns once the lock is held.
async fn hold_the_release_table(app: &TestApp, hold: Duration) -> tokio::task::JoinHandle<()> {
    use sea_orm::{ConnectionTrait, DbBackend, TransactionTrait};
    let url = app
        .settings
        .database_url(docket_platform::ServiceKind::Reporting);
    let db = sea_orm::Database::connect(url.as_str()).await.unwrap();
    let txn = if db.get_database_backend() == DbBackend::Postgres {
        let txn = db.begin().await.unwrap();
        txn.execute_unprepared("LOCK TABLE releases IN EXCLUSIVE MODE")
            .await
            .unwrap();
        txn
    } else {
        docket_platform::db::begin_write(&db).await.unwrap()
    };
    tokio::spawn(async move {
        tokio::time::sleep(hold).await;
        txn.rollback().await.unwrap();
        db.close().await.unwrap();
    })
}

/// `CreateRelease` reads and audits the whole docket (a minute at 10^6 cases), so settings give
/// it its own limit (`method_timeouts`, by default 600 s); every other call keeps the request
/// timeout. Here the request timeout is 1 s and the release table is held locked for 3 s, so
/// that publishing takes longer than the request timeout without a large docket.
async fn creating_a_release_outlasts_the_request_timeout_and_nothing_else_does(backend: Backend) {
    const HOLD: Duration = Duration::from_secs(3);
    let Some(mut app) = TestApp::spawn(backend).await else {
        return;
    };
    situation(&app).await;
    settled(&app, None, 4).await;
    app.stop_reporting().await;
    app.start_reporting_with(|settings| {
        settings.request_timeout_seconds = 1;
        assert!(
            settings
                .method_timeouts
                .iter()
                .any(|m| m.method.ends_with("ReportingService/CreateRelease")),
            "the default settings give CreateRelease its own limit"
        );
    })
    .await;
    let mut supervisor = app.reporting_as(Role::Supervisor).await;
    let held = hold_the_release_table(&app, HOLD).await;
    let started = std::time::Instant::now();
    let created = create(&mut supervisor, "October 2020")
        .await
        .expect("CreateRelease runs past the request timeout within its own limit");
    let took = started.elapsed();
    held.await.unwrap();
    assert_eq!(created.number, 1);
    assert!(
        took > Duration::from_secs(2),
        "it waited for the lock: {took:?}"
    );
    eprintln!("CreateRelease took {took:?} against a request timeout of 1 s");

    // The same slow call of CreateRelease when the allowance is another method's: cut at the
    // request timeout, and nothing is published.
    app.stop_reporting().await;
    app.start_reporting_with(|settings| {
        settings.request_timeout_seconds = 1;
        settings.method_timeouts = vec![docket_platform::MethodTimeout {
            method: "docket.reporting.v1.ReportingService/ListReleases".into(),
            timeout_seconds: 600,
        }];
    })
    .await;
    let held = hold_the_release_table(&app, HOLD).await;
    let started = std::time::Instant::now();
    let cut = create(
        &mut app.reporting_as(Role::Supervisor).await,
        "November 2020",
    )
    .await
    .unwrap_err();
    let took = started.elapsed();
    held.await.unwrap();
    assert_eq!(cut.code(), Code::Cancelled, "{cut:?}");
    assert!(cut.message().contains("request timeout"), "{cut:?}");
    assert!(
        took < HOLD,
        "cut at the request timeout, not at the lock's end: {took:?}"
    );
    let listed = app
        .reporting_as(Role::PublicReporter)
        .await
        .list_releases(rep::ListReleasesRequest {})
        .await
        .unwrap()
        .into_inner()
        .releases;
    assert_eq!(listed.iter().map(|r| r.number).collect::<Vec<_>>(), [1]);
    app.stop().await;
}
