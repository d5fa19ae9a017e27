//! A damaged evidence file is healed when its bytes come again: the upload checks the stored
//! copy against the bytes it just received, puts them in place of a damaged one, and the custody
//! of every record of that file says so. An intact copy is left alone.

use docket_e2e::{Backend, IntakeClient, TestApp, on_every_backend};
use docket_platform::auth::Role;
use docket_proto::docket::intake::v1 as pb;

use crate::evidence::{
    blobs, bytes_of, download, metadata, mismatches, new_allegation, sha256, upload, verify,
};

on_every_backend!(the_same_bytes_uploaded_again_heal_a_damaged_file);

/// The custody events of evidence `id`.
pub(crate) async fn custody(intake: &mut IntakeClient, id: &str) -> Vec<pb::CustodyEvent> {
    intake
        .list_custody_events(pb::ListCustodyEventsRequest {
            evidence_id: id.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .events
}

pub(crate) fn repairs(events: &[pb::CustodyEvent]) -> Vec<&pb::CustodyEvent> {
    events
        .iter()
        .filter(|e| e.kind() == pb::CustodyEventKind::Repaired)
        .collect()
}

async fn the_same_bytes_uploaded_again_heal_a_damaged_file(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut intake = app.intake().await;
    let allegation_id = new_allegation(&mut intake).await;
    let video = bytes_of(2_500_000, 4);
    let digest = sha256(&video);
    let send = |intake: &mut IntakeClient| {
        let mut intake = intake.clone();
        let metadata = metadata(&allegation_id, "");
        let video = video.clone();
        async move {
            upload(&mut intake, metadata, &video, 1024 * 1024)
                .await
                .unwrap()
        }
    };
    let first = send(&mut intake).await.evidence.unwrap();
    let second = send(&mut intake).await;
    assert!(
        repairs(&custody(&mut intake, &first.id).await).is_empty(),
        "an intact copy is not touched"
    );

    // Someone flips one byte in the stored file.
    let [file] = blobs(&app).try_into().unwrap();
    let mut damaged = std::fs::read(&file).unwrap();
    damaged[1_234_567] ^= 0x01;
    let damaged_digest = sha256(&damaged);
    std::fs::write(&file, &damaged).unwrap();
    assert!(download(&mut intake, &first.id).await.is_err());

    // The same video comes again, from another source.
    let third = send(&mut intake).await;
    assert_eq!(third.same_content.len(), 2, "the answer names both records");
    let third = third.evidence.unwrap();
    for id in [&first.id, &second.evidence.as_ref().unwrap().id, &third.id] {
        assert_eq!(download(&mut intake, id).await.unwrap(), video, "{id}");
    }
    for id in [&first.id, &second.evidence.as_ref().unwrap().id] {
        let events = custody(&mut intake, id).await;
        let [repair] = repairs(&events).try_into().unwrap();
        assert_eq!(repair.sha256, digest, "the hash of the good bytes");
        assert!(
            repair.note.contains(&damaged_digest),
            "the note says what was found: {}",
            repair.note
        );
        assert_eq!(repair.actor, "officer.aliyev");
    }
    let uploaded = custody(&mut intake, &third.id).await;
    let upload_note = &uploaded
        .iter()
        .find(|e| e.kind() == pb::CustodyEventKind::Uploaded)
        .unwrap()
        .note;
    assert!(upload_note.contains("repaired"), "{upload_note}");

    // A file cut short is caught by its size alone, and healed the same way.
    std::fs::write(&file, &video[..1_000_000]).unwrap();
    send(&mut intake).await;
    let events = custody(&mut intake, &first.id).await;
    let repaired = repairs(&events);
    assert_eq!(repaired.len(), 2);
    assert!(
        repaired[1]
            .note
            .contains("1000000 bytes instead of 2500000"),
        "{}",
        repaired[1].note
    );
    let verified = verify(&mut app.intake_as(Role::Supervisor).await, "")
        .await
        .unwrap();
    assert_eq!((verified.len(), mismatches(&verified).len()), (1, 0));
    assert_eq!(std::fs::read(&file).unwrap(), video);
    app.stop().await;
}
