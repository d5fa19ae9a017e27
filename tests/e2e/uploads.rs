//! Moving large files: resumable upload sessions that keep what arrived across broken streams
//! and say where to resume, refuse what is wrong with clear answers, expire, and are bounded;
//! downloads of a byte range.

use std::time::Duration;

use docket_e2e::{Backend, IntakeClient, TestApp, field_violations, on_every_backend};
use docket_platform::auth::Role;
use docket_proto::docket::intake::v1 as pb;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Code;
use tonic_types::StatusExt;

use crate::evidence::{bytes_of, metadata, new_allegation, sha256};

on_every_backend!(
    an_upload_broken_off_resumes_from_the_offset_intake_holds,
    an_upload_session_refuses_what_is_wrong_and_keeps_nothing_of_a_lying_file,
    upload_sessions_are_bounded,
    an_abandoned_upload_session_expires_with_its_bytes,
    a_download_takes_the_byte_range_asked_for,
);

const MIB: usize = 1024 * 1024;

fn session_metadata(allegation_id: &str, bytes: &[u8]) -> pb::EvidenceMetadata {
    pb::EvidenceMetadata {
        declared_size_bytes: i64::try_from(bytes.len()).unwrap(),
        ..metadata(allegation_id, &sha256(bytes))
    }
}

async fn start(
    intake: &mut IntakeClient,
    metadata: pb::EvidenceMetadata,
) -> Result<String, tonic::Status> {
    intake
        .start_upload(pb::StartUploadRequest {
            metadata: Some(metadata),
        })
        .await
        .map(|answer| answer.into_inner().upload_id)
}

/// Writes `bytes` from `offset` in 1 MiB chunks, in one stream.
async fn write(
    intake: &mut IntakeClient,
    upload_id: &str,
    offset: usize,
    bytes: &[u8],
) -> Result<pb::WriteUploadResponse, tonic::Status> {
    let mut messages: Vec<_> = bytes
        .chunks(MIB)
        .enumerate()
        .map(|(i, chunk)| pb::WriteUploadRequest {
            upload_id: upload_id.to_owned(),
            offset: i64::try_from(offset + i * MIB).unwrap(),
            chunk: chunk.to_vec().into(),
        })
        .collect();
    if messages.is_empty() {
        messages.push(pb::WriteUploadRequest {
            upload_id: upload_id.to_owned(),
            offset: i64::try_from(offset).unwrap(),
            chunk: Vec::new().into(),
        });
    }
    intake
        .write_upload(tokio_stream::iter(messages))
        .await
        .map(tonic::Response::into_inner)
}

/// An empty write at `offset`.
async fn write_at(
    intake: &mut IntakeClient,
    upload_id: &str,
    offset: i64,
) -> Result<pb::WriteUploadResponse, tonic::Status> {
    let message = pb::WriteUploadRequest {
        upload_id: upload_id.to_owned(),
        offset,
        chunk: Vec::new().into(),
    };
    intake
        .write_upload(tokio_stream::iter([message]))
        .await
        .map(tonic::Response::into_inner)
}

async fn status(
    intake: &mut IntakeClient,
    upload_id: &str,
) -> Result<pb::GetUploadStatusResponse, tonic::Status> {
    intake
        .get_upload_status(pb::GetUploadStatusRequest {
            upload_id: upload_id.to_owned(),
        })
        .await
        .map(tonic::Response::into_inner)
}

async fn download_range(
    intake: &mut IntakeClient,
    id: &str,
    offset: i64,
    length: i64,
) -> Result<Vec<u8>, tonic::Status> {
    let mut stream = intake
        .download_evidence(pb::DownloadEvidenceRequest {
            evidence_id: id.to_owned(),
            offset,
            length,
        })
        .await?
        .into_inner();
    let mut bytes = Vec::new();
    while let Some(message) = stream.message().await? {
        bytes.extend_from_slice(&message.chunk);
    }
    Ok(bytes)
}

async fn an_upload_broken_off_resumes_from_the_offset_intake_holds(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut intake = app.intake().await;
    let allegation_id = new_allegation(&mut intake).await;
    let bytes = bytes_of(10 * MIB + 12_345, 7);
    let upload_id = start(&mut intake, session_metadata(&allegation_id, &bytes))
        .await
        .unwrap();

    // A stream that breaks off (the client vanishes) after three chunks.
    let (sender, receiver) = mpsc::channel(8);
    let mut writer = intake.clone();
    let call =
        tokio::spawn(async move { writer.write_upload(ReceiverStream::new(receiver)).await });
    for i in 0..3 {
        sender
            .send(pb::WriteUploadRequest {
                upload_id: upload_id.clone(),
                offset: i64::try_from(i * MIB).unwrap(),
                chunk: bytes[i * MIB..(i + 1) * MIB].to_vec().into(),
            })
            .await
            .unwrap();
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while status(&mut intake, &upload_id)
        .await
        .unwrap()
        .received_bytes
        < 3 * MIB as i64
    {
        assert!(tokio::time::Instant::now() < deadline, "the chunks arrive");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    call.abort();
    let _ = call.await;
    // Intake learns of the broken stream when the reset reaches it; until then the session is
    // still being written, and a second writer is told to try again (ABORTED), as a resuming
    // client would be.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while let Err(busy) = write_at(&mut intake, &upload_id, 3 * MIB as i64).await
        && busy.code() == Code::Aborted
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the broken stream ends: {busy:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // What arrived is kept, and the status says where to go on from.
    let held = status(&mut intake, &upload_id).await.unwrap();
    assert_eq!(held.received_bytes, 3 * MIB as i64);
    assert_eq!(held.size_bytes, bytes.len() as i64);
    assert!(held.evidence_id.is_empty());

    // Writing anywhere else is refused with the offset to write at.
    let refused = write(&mut intake, &upload_id, 2 * MIB, &bytes[2 * MIB..3 * MIB])
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition, "{refused:?}");
    let info = refused.get_details_error_info().expect("an ErrorInfo");
    assert_eq!(info.reason, "UPLOAD_OFFSET_MISMATCH");
    assert_eq!(info.metadata["expected_offset"], (3 * MIB).to_string());

    // Another person cannot see or write the session.
    let mut analyst = app.intake_as(Role::Analyst).await;
    let hidden = status(&mut analyst, &upload_id).await.unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound);
    let hidden = write(&mut analyst, &upload_id, 3 * MIB, &bytes[3 * MIB..])
        .await
        .unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound);

    // Half of the rest, a clean end of stream: not complete yet.
    let partway = write(&mut intake, &upload_id, 3 * MIB, &bytes[3 * MIB..6 * MIB])
        .await
        .unwrap();
    assert_eq!(partway.received_bytes, 6 * MIB as i64);
    assert!(partway.completed.is_none());

    // The rest completes it, with the hash over all the bytes.
    let done = write(&mut intake, &upload_id, 6 * MIB, &bytes[6 * MIB..])
        .await
        .unwrap();
    let evidence = done.completed.unwrap().evidence.unwrap();
    assert_eq!(evidence.sha256, sha256(&bytes));
    assert_eq!(evidence.size_bytes, bytes.len() as i64);
    assert_eq!(
        crate::evidence::download(&mut intake, &evidence.id)
            .await
            .unwrap(),
        bytes
    );
    assert_eq!(
        status(&mut intake, &upload_id).await.unwrap().evidence_id,
        evidence.id
    );
    // A client that missed the answer asks again with no bytes and gets the same evidence.
    let again = write(&mut intake, &upload_id, bytes.len(), &[]).await;
    let again = match again {
        Ok(answer) => answer,
        Err(status) => panic!("asked again: {status:?}"),
    };
    assert_eq!(again.completed.unwrap().evidence.unwrap().id, evidence.id);
    let closed = write(&mut intake, &upload_id, bytes.len(), b"more")
        .await
        .unwrap_err();
    assert_eq!(closed.code(), Code::FailedPrecondition);
    // No partial file is left.
    assert!(
        std::fs::read_dir(app.settings.data_dir.join("uploads"))
            .unwrap()
            .next()
            .is_none()
    );
}

async fn an_upload_session_refuses_what_is_wrong_and_keeps_nothing_of_a_lying_file(
    backend: Backend,
) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut intake = app.intake().await;
    let allegation_id = new_allegation(&mut intake).await;
    let bytes = bytes_of(3 * MIB, 9);

    let no_hash = start(
        &mut intake,
        pb::EvidenceMetadata {
            declared_sha256: String::new(),
            ..session_metadata(&allegation_id, &bytes)
        },
    )
    .await
    .unwrap_err();
    assert_eq!(no_hash.code(), Code::InvalidArgument);
    assert_eq!(field_violations(&no_hash), ["metadata.declared_sha256"]);
    let no_size = start(&mut intake, metadata(&allegation_id, &sha256(&bytes)))
        .await
        .unwrap_err();
    assert_eq!(field_violations(&no_size), ["metadata.declared_size_bytes"]);
    let no_metadata = intake
        .start_upload(pb::StartUploadRequest { metadata: None })
        .await
        .unwrap_err();
    assert_eq!(field_violations(&no_metadata), ["metadata"]);
    let unknown = start(
        &mut intake,
        session_metadata(&uuid::Uuid::now_v7().to_string(), &bytes),
    )
    .await
    .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    let bad_id = status(&mut intake, "not-a-uuid").await.unwrap_err();
    assert_eq!(field_violations(&bad_id), ["upload_id"]);
    let nobody = status(&mut intake, &uuid::Uuid::now_v7().to_string())
        .await
        .unwrap_err();
    assert_eq!(nobody.code(), Code::NotFound);

    // More bytes than declared: the chunk is refused whole.
    let small = bytes_of(1000, 4);
    let upload_id = start(&mut intake, session_metadata(&allegation_id, &small))
        .await
        .unwrap();
    let mut longer = small.clone();
    longer.push(0);
    let too_long = write(&mut intake, &upload_id, 0, &longer)
        .await
        .unwrap_err();
    assert_eq!(too_long.code(), Code::InvalidArgument);
    assert_eq!(field_violations(&too_long), ["chunk"]);
    assert_eq!(
        status(&mut intake, &upload_id)
            .await
            .unwrap()
            .received_bytes,
        0
    );
    let empty = write(&mut intake, &upload_id, 0, &[]).await;
    assert_eq!(
        empty.unwrap().received_bytes,
        0,
        "an empty write is harmless"
    );
    let negative = write_at(&mut intake, &upload_id, -1).await.unwrap_err();
    assert_eq!(field_violations(&negative), ["offset"]);

    // Bytes that are not the declared file: refused at completion, the session and its bytes
    // gone, no evidence recorded.
    let upload_id = start(&mut intake, session_metadata(&allegation_id, &bytes))
        .await
        .unwrap();
    let mut other = bytes.clone();
    other[MIB] ^= 1;
    let lying = write(&mut intake, &upload_id, 0, &other).await.unwrap_err();
    assert_eq!(lying.code(), Code::InvalidArgument, "{lying:?}");
    assert_eq!(field_violations(&lying), ["metadata.declared_sha256"]);
    assert_eq!(
        status(&mut intake, &upload_id).await.unwrap_err().code(),
        Code::NotFound
    );
    let listed = intake
        .list_evidence(pb::ListEvidenceRequest {
            allegation_id: allegation_id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(listed.evidence.is_empty());
    let part = app
        .settings
        .data_dir
        .join("uploads")
        .join(format!("{upload_id}.part"));
    assert!(!part.exists(), "the refused bytes are gone");
}

async fn upload_sessions_are_bounded(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |settings| {
        settings.intake.max_upload_sessions = 2;
    })
    .await
    else {
        return;
    };
    let mut intake = app.intake().await;
    let allegation_id = new_allegation(&mut intake).await;
    let bytes = bytes_of(1000, 3);
    let first = start(&mut intake, session_metadata(&allegation_id, &bytes))
        .await
        .unwrap();
    start(&mut intake, session_metadata(&allegation_id, &bytes))
        .await
        .unwrap();
    let third = start(&mut intake, session_metadata(&allegation_id, &bytes))
        .await
        .unwrap_err();
    assert_eq!(third.code(), Code::ResourceExhausted, "{third:?}");
    // A completed session no longer counts.
    write(&mut intake, &first, 0, &bytes).await.unwrap();
    start(&mut intake, session_metadata(&allegation_id, &bytes))
        .await
        .unwrap();
}

async fn an_abandoned_upload_session_expires_with_its_bytes(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, |settings| {
        settings.intake.upload_session_expiry_seconds = 1;
    })
    .await
    else {
        return;
    };
    let mut intake = app.intake().await;
    let allegation_id = new_allegation(&mut intake).await;
    let bytes = bytes_of(1000, 3);
    let abandoned = start(&mut intake, session_metadata(&allegation_id, &bytes))
        .await
        .unwrap();
    write(&mut intake, &abandoned, 0, &bytes[..500])
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(
        status(&mut intake, &abandoned).await.unwrap_err().code(),
        Code::NotFound
    );
    assert!(
        std::fs::read_dir(app.settings.data_dir.join("uploads"))
            .unwrap()
            .next()
            .is_none(),
        "an expired session leaves no partial file"
    );
}

async fn a_download_takes_the_byte_range_asked_for(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let bytes = bytes_of(3 * MIB + 17, 5);
    let mut officer = app.intake().await;
    let allegation_id = new_allegation(&mut officer).await;
    let upload_id = start(&mut officer, session_metadata(&allegation_id, &bytes))
        .await
        .unwrap();
    let id = write(&mut officer, &upload_id, 0, &bytes)
        .await
        .unwrap()
        .completed
        .unwrap()
        .evidence
        .unwrap()
        .id;
    let mut intake = app.intake_as(Role::Analyst).await;
    let size = bytes.len() as i64;

    assert_eq!(download_range(&mut intake, &id, 0, 0).await.unwrap(), bytes);
    assert_eq!(
        download_range(&mut intake, &id, 10, 100).await.unwrap(),
        bytes[10..110]
    );
    assert_eq!(
        download_range(&mut intake, &id, 2 * MIB as i64 + 3, 0)
            .await
            .unwrap(),
        bytes[2 * MIB + 3..]
    );
    assert!(
        download_range(&mut intake, &id, size, 0)
            .await
            .unwrap()
            .is_empty()
    );
    let past = download_range(&mut intake, &id, size + 1, 0)
        .await
        .unwrap_err();
    assert_eq!(past.code(), Code::OutOfRange, "{past:?}");
    let long = download_range(&mut intake, &id, 10, size)
        .await
        .unwrap_err();
    assert_eq!(long.code(), Code::OutOfRange);
    let negative = download_range(&mut intake, &id, -1, -2).await.unwrap_err();
    assert_eq!(negative.code(), Code::InvalidArgument);
    assert_eq!(field_violations(&negative), ["offset", "length"]);

    // Each ranged read is in the custody, saying which bytes.
    let custody = intake
        .list_custody_events(pb::ListCustodyEventsRequest {
            evidence_id: id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .events;
    assert!(
        custody
            .iter()
            .any(|event| event.note == format!("downloaded bytes 10 to 110 of {size}")),
        "{custody:?}"
    );
}
