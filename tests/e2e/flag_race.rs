//! Review flags under concurrent verdicts: however many analysts judge the same picture
//! fabricated at once, its near-duplicate carries one open flag for it, not one per verdict.
//! (SQLite serialises the verdicts' transactions. On PostgreSQL this run did not reproduce the
//! interleaving that doubled flags: it passes without the partial unique index too, so it guards
//! the outcome, not the race; the index, `m20261219_200002`, is what closes it.)

use docket_e2e::{Backend, TestApp, on_every_backend};
use docket_platform::auth::Role;
use docket_proto::docket::intake::v1 as pb;

use crate::similar::{ffmpeg, similar, upload_file};
use crate::verdicts::{judgement, new_allegation};

on_every_backend!(concurrent_fabricated_verdicts_flag_a_near_duplicate_once);

/// How many analysts judge at once.
const AT_ONCE: usize = 8;

async fn concurrent_fabricated_verdicts_flag_a_near_duplicate_once(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let original = dir.path().join("execution.png");
    let copy = dir.path().join("execution-small.png");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc2=size=320x240:rate=1",
        "-frames:v",
        "1",
        original.to_str().unwrap(),
    ]);
    ffmpeg(&[
        "-i",
        original.to_str().unwrap(),
        "-vf",
        "scale=iw/2:ih/2",
        copy.to_str().unwrap(),
    ]);
    let mut officer = app.intake().await;
    let first = new_allegation(&mut officer).await;
    let second = new_allegation(&mut officer).await;
    let one = upload_file(&mut officer, &first, &original).await;
    let other = upload_file(&mut officer, &second, &copy).await;
    let mut analyst = app.intake_as(Role::Analyst).await;
    similar(&mut analyst, &one).await;
    let near = similar(&mut analyst, &other).await;
    assert!(
        near.candidates
            .iter()
            .any(|c| c.evidence_ids.contains(&one)),
        "the resized copy is a near-duplicate: {near:?}"
    );

    let mut verdicts = tokio::task::JoinSet::new();
    for _ in 0..AT_ONCE {
        let mut analyst = app.intake_as(Role::Analyst).await;
        let request = judgement(&one, pb::ContentVerdict::FabricatedOrManipulated);
        verdicts.spawn(async move { analyst.assess_content(request).await });
    }
    while let Some(answer) = verdicts.join_next().await {
        answer.unwrap().unwrap();
    }
    let copy_sha256 = officer
        .get_evidence(pb::GetEvidenceRequest {
            evidence_id: other.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .evidence
        .unwrap()
        .sha256;
    let open = analyst
        .list_review_flags(pb::ListReviewFlagsRequest {
            sha256: copy_sha256,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .flags;
    assert_eq!(
        open.len(),
        1,
        "{AT_ONCE} verdicts at once flag the copy once: {open:?}"
    );
    app.stop().await;
}
