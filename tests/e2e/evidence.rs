//! Evidence: streamed in and out intact, stored once per content, refused without a trace when
//! anything is wrong, and followed by its chain of custody.

use std::path::{Path, PathBuf};
use std::time::Duration;

use docket_e2e::{Backend, IntakeClient, TestApp, allegation, on_every_backend, submit_request};
use docket_platform::auth::Role;
use docket_proto::docket::intake::v1 as pb;
use docket_proto::docket::intake::v1::upload_evidence_request::Payload;
use sha2::{Digest, Sha256};
use tonic::Code;

on_every_backend!(
    files_of_many_sizes_come_back_byte_for_byte_with_their_custody,
    the_same_video_from_two_sources_is_one_file_and_two_records,
    a_lying_or_broken_upload_leaves_nothing_behind,
    a_file_altered_on_disk_is_refused_and_reported,
    a_working_copy_is_its_own_record_linked_to_its_original,
);

pub(crate) fn bytes_of(size: usize, seed: u8) -> Vec<u8> {
    (0..size)
        .map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed))
        .collect()
}

pub(crate) fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

pub(crate) fn metadata(allegation_id: &str, declared: &str) -> pb::EvidenceMetadata {
    pb::EvidenceMetadata {
        allegation_id: allegation_id.into(),
        file_name: "execution-video.mp4".into(),
        media_type: "video/mp4".into(),
        declared_sha256: declared.into(),
        source_url: "https://example.org/watch?v=123".into(),
        collected_time: Some(prost_types::Timestamp {
            seconds: 1_603_000_000,
            nanos: 0,
        }),
        collected_by: "analyst.petrosyan".into(),
        collection_method: pb::CollectionMethod::PlatformDownload.into(),
        ..Default::default()
    }
}

/// Uploads `bytes` after `metadata` in chunks of `chunk` bytes.
pub(crate) async fn upload(
    intake: &mut IntakeClient,
    metadata: pb::EvidenceMetadata,
    bytes: &[u8],
    chunk: usize,
) -> Result<pb::UploadEvidenceResponse, tonic::Status> {
    let mut messages = vec![pb::UploadEvidenceRequest {
        payload: Some(Payload::Metadata(metadata)),
    }];
    messages.extend(bytes.chunks(chunk).map(|piece| pb::UploadEvidenceRequest {
        payload: Some(Payload::Chunk(piece.to_vec().into())),
    }));
    intake
        .upload_evidence(tokio_stream::iter(messages))
        .await
        .map(tonic::Response::into_inner)
}

/// Downloads evidence `id` whole.
pub(crate) async fn download(
    intake: &mut IntakeClient,
    id: &str,
) -> Result<Vec<u8>, tonic::Status> {
    let mut stream = intake
        .download_evidence(pb::DownloadEvidenceRequest {
            evidence_id: id.into(),
            ..Default::default()
        })
        .await?
        .into_inner();
    let mut bytes = Vec::new();
    while let Some(message) = stream.message().await? {
        assert!(
            message.chunk.len() <= 1024 * 1024,
            "chunks of at most 1 MiB"
        );
        bytes.extend_from_slice(&message.chunk);
    }
    Ok(bytes)
}

/// Verifies evidence `id`, or every stored file when `id` is empty: the messages streamed.
pub(crate) async fn verify(
    intake: &mut IntakeClient,
    id: &str,
) -> Result<Vec<pb::VerifyEvidenceResponse>, tonic::Status> {
    let mut stream = intake
        .verify_evidence(pb::VerifyEvidenceRequest {
            evidence_id: id.into(),
        })
        .await?
        .into_inner();
    let mut messages = Vec::new();
    while let Some(message) = stream.message().await? {
        messages.push(message);
    }
    Ok(messages)
}

/// The files a verification found damaged.
pub(crate) fn mismatches(messages: &[pb::VerifyEvidenceResponse]) -> Vec<pb::BlobCheck> {
    messages
        .iter()
        .filter_map(|message| message.check.clone())
        .filter(|check| !check.intact)
        .collect()
}

pub(crate) async fn new_allegation(intake: &mut IntakeClient) -> String {
    let answer = intake
        .submit_allegation(submit_request(allegation()))
        .await
        .unwrap();
    answer.into_inner().allegation.unwrap().id
}

/// Every file under `dir`, recursively.
fn files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .flat_map(|entry| {
            let path = entry.path();
            if path.is_dir() {
                files(&path)
            } else {
                vec![path]
            }
        })
        .collect()
}

pub(crate) fn blobs(app: &TestApp) -> Vec<PathBuf> {
    files(&app.settings.data_dir.join("blobs"))
}

async fn evidence_count(intake: &mut IntakeClient, allegation_id: &str) -> usize {
    intake
        .list_evidence(pb::ListEvidenceRequest {
            allegation_id: allegation_id.into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .evidence
        .len()
}

async fn files_of_many_sizes_come_back_byte_for_byte_with_their_custody(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut officer = app.intake().await;
    let allegation_id = new_allegation(&mut officer).await;
    let mut analyst = app.intake_as(Role::Analyst).await;
    for (size, chunk) in [
        (1, 1),
        (1024 * 1024, 1024 * 1024),
        (3_500_000, 300_000),
        (9_000_001, 1024 * 1024),
    ] {
        let bytes = bytes_of(size, size as u8);
        let answer = upload(
            &mut analyst,
            metadata(&allegation_id, &sha256(&bytes)),
            &bytes,
            chunk,
        )
        .await
        .unwrap();
        let stored = answer.evidence.unwrap();
        assert_eq!(stored.sha256, sha256(&bytes));
        assert_eq!(stored.size_bytes, size as i64);
        assert_eq!(stored.uploaded_by, "analyst");
        assert_eq!(
            download(&mut analyst, &stored.id).await.unwrap(),
            bytes,
            "size {size}"
        );
        let kinds: Vec<pb::CustodyEventKind> = analyst
            .list_custody_events(pb::ListCustodyEventsRequest {
                evidence_id: stored.id.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner()
            .events
            .iter()
            .map(|e| e.kind())
            .collect();
        assert_eq!(
            kinds,
            [
                pb::CustodyEventKind::Collected,
                pb::CustodyEventKind::Uploaded,
                pb::CustodyEventKind::Accessed
            ]
        );
    }
    // A PNG is recognised by its bytes, whatever it claims to be.
    let png = [
        &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A][..],
        &bytes_of(100, 1),
    ]
    .concat();
    let stored = upload(&mut analyst, metadata(&allegation_id, ""), &png, 64)
        .await
        .unwrap();
    assert_eq!(stored.evidence.unwrap().detected_media_type, "image/png");
    app.stop().await;
}

async fn the_same_video_from_two_sources_is_one_file_and_two_records(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut intake = app.intake().await;
    let first_allegation = new_allegation(&mut intake).await;
    let second_allegation = new_allegation(&mut intake).await;
    let video = bytes_of(2_000_000, 7);
    let first = upload(
        &mut intake,
        metadata(&first_allegation, ""),
        &video,
        500_000,
    )
    .await
    .unwrap();
    assert!(first.same_content.is_empty());
    let second = upload(
        &mut intake,
        metadata(&second_allegation, &sha256(&video)),
        &video,
        700_000,
    )
    .await
    .unwrap();
    let first = first.evidence.unwrap();
    assert_eq!(second.same_content.len(), 1);
    assert_eq!(second.same_content[0].id, first.id);
    assert_eq!(second.same_content[0].allegation_id, first_allegation);
    assert_ne!(second.evidence.unwrap().id, first.id);
    assert_eq!(blobs(&app).len(), 1, "one file for the same bytes");
    let by_hash = intake
        .list_evidence(pb::ListEvidenceRequest {
            sha256: sha256(&video),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .evidence;
    assert_eq!(by_hash.len(), 2);
    app.stop().await;
}

async fn a_lying_or_broken_upload_leaves_nothing_behind(backend: Backend) {
    let configure = |s: &mut docket_platform::Settings| s.intake.max_evidence_bytes = 3_000_000;
    let Some(app) = TestApp::spawn_with(backend, configure).await else {
        return;
    };
    let mut intake = app.intake().await;
    let allegation_id = new_allegation(&mut intake).await;
    let file = bytes_of(1_000_000, 3);
    let cases: Vec<(&str, pb::EvidenceMetadata, Vec<u8>, Code, &str)> = vec![
        (
            "a hash that does not match",
            metadata(&allegation_id, &sha256(b"other")),
            file.clone(),
            Code::InvalidArgument,
            "metadata.declared_sha256",
        ),
        (
            "a hash that is not 64 hex",
            metadata(&allegation_id, "ABCDEF"),
            file.clone(),
            Code::InvalidArgument,
            "metadata.declared_sha256",
        ),
        (
            "an unknown allegation",
            metadata(&uuid::Uuid::now_v7().to_string(), ""),
            file.clone(),
            Code::NotFound,
            "",
        ),
        (
            "a file over the limit",
            metadata(&allegation_id, ""),
            bytes_of(3_000_001, 1),
            Code::InvalidArgument,
            "chunk",
        ),
        (
            "chunks after the declared size",
            pb::EvidenceMetadata {
                declared_size_bytes: 999_999,
                ..metadata(&allegation_id, "")
            },
            file.clone(),
            Code::InvalidArgument,
            "metadata.declared_size_bytes",
        ),
        (
            "no bytes",
            metadata(&allegation_id, ""),
            Vec::new(),
            Code::InvalidArgument,
            "chunk",
        ),
        (
            "no file name",
            pb::EvidenceMetadata {
                file_name: String::new(),
                ..metadata(&allegation_id, "")
            },
            file.clone(),
            Code::InvalidArgument,
            "metadata.file_name",
        ),
    ];
    for (case, metadata, bytes, code, field) in cases {
        let status = upload(&mut intake, metadata, &bytes, 256 * 1024)
            .await
            .expect_err(case);
        assert_eq!(status.code(), code, "{case}: {status:?}");
        if !field.is_empty() {
            assert_eq!(docket_e2e::field_violations(&status), [field], "{case}");
        }
        assert!(blobs(&app).is_empty(), "{case} left a file");
    }
    // Metadata missing: the stream starts with bytes.
    let status = intake
        .upload_evidence(tokio_stream::iter([pb::UploadEvidenceRequest {
            payload: Some(Payload::Chunk(file.clone().into())),
        }]))
        .await
        .unwrap_err();
    assert_eq!(docket_e2e::field_violations(&status), ["metadata"]);

    // A client whose connection breaks halfway: its own TCP connection, cut from under it.
    let socket: std::sync::Arc<std::sync::Mutex<Option<std::net::TcpStream>>> = Default::default();
    let kept = socket.clone();
    let addr = app.intake_addr;
    let channel = tonic::transport::Endpoint::from_shared(format!("http://{addr}"))
        .unwrap()
        .connect_with_connector(tower::service_fn(move |_: http::Uri| {
            let kept = kept.clone();
            async move {
                let stream = tokio::net::TcpStream::connect(addr).await?;
                let std = stream.into_std()?;
                *kept.lock().unwrap() = Some(std.try_clone()?);
                Ok::<_, std::io::Error>(hyper_util::rt::TokioIo::new(
                    tokio::net::TcpStream::from_std(std)?,
                ))
            }
        }))
        .await
        .unwrap();
    let token = app.token(Role::IntakeOfficer, "officer.aliyev");
    let mut client = pb::intake_service_client::IntakeServiceClient::with_interceptor(
        channel,
        docket_e2e::Bearer::token(&token),
    );
    let (sender, receiver) = tokio::sync::mpsc::channel(4);
    sender
        .send(pb::UploadEvidenceRequest {
            payload: Some(Payload::Metadata(metadata(&allegation_id, ""))),
        })
        .await
        .unwrap();
    sender
        .send(pb::UploadEvidenceRequest {
            payload: Some(Payload::Chunk(file.clone().into())),
        })
        .await
        .unwrap();
    let call = tokio::spawn(async move {
        client
            .upload_evidence(tokio_stream::wrappers::ReceiverStream::new(receiver))
            .await
    });
    // Wait until the server holds a partial file, then cut the connection.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while blobs(&app).is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    if let Some(socket) = socket.lock().unwrap().take() {
        socket.shutdown(std::net::Shutdown::Both).unwrap();
    }
    assert!(
        call.await.unwrap().is_err(),
        "the cut call fails on the client too"
    );
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !blobs(&app).is_empty() && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        blobs(&app).is_empty(),
        "a broken upload left {:?}",
        blobs(&app)
    );
    assert_eq!(
        evidence_count(&mut intake, &allegation_id).await,
        0,
        "no record of any refused upload"
    );
    app.stop().await;
}

async fn a_file_altered_on_disk_is_refused_and_reported(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut intake = app.intake().await;
    let allegation_id = new_allegation(&mut intake).await;
    let original = bytes_of(1_500_000, 9);
    let stored = upload(
        &mut intake,
        metadata(&allegation_id, ""),
        &original,
        1024 * 1024,
    )
    .await
    .unwrap()
    .evidence
    .unwrap();
    let mut supervisor = app.intake_as(Role::Supervisor).await;
    let intact = verify(&mut supervisor, "").await.unwrap();
    assert_eq!((intact.len(), mismatches(&intact).len()), (1, 0));

    // Someone flips one byte in the stored file.
    let [file] = blobs(&app).try_into().unwrap();
    let mut altered = std::fs::read(&file).unwrap();
    altered[700_000] ^= 0xff;
    std::fs::write(&file, altered).unwrap();

    let status = download(&mut intake, &stored.id).await.unwrap_err();
    assert_eq!(status.code(), Code::DataLoss);
    let report = mismatches(&verify(&mut supervisor, &stored.id).await.unwrap());
    assert_eq!(report.len(), 1);
    assert_eq!(report[0].evidence_ids, vec![stored.id.clone()]);
    assert_ne!(report[0].problem, stored.sha256);
    let events = intake
        .list_custody_events(pb::ListCustodyEventsRequest {
            evidence_id: stored.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .events;
    let last = events.last().unwrap();
    assert_eq!(last.kind(), pb::CustodyEventKind::Verified);
    assert!(last.note.starts_with("MISMATCH"), "{}", last.note);
    app.stop().await;
}

async fn a_working_copy_is_its_own_record_linked_to_its_original(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut intake = app.intake().await;
    let allegation_id = new_allegation(&mut intake).await;
    let video = bytes_of(400_000, 11);
    let original = upload(&mut intake, metadata(&allegation_id, ""), &video, 100_000)
        .await
        .unwrap()
        .evidence
        .unwrap();
    let still = bytes_of(10_000, 12);
    let copy = upload(
        &mut intake,
        pb::EvidenceMetadata {
            derived_from_evidence_id: original.id.clone(),
            file_name: "still-00-41.png".into(),
            ..metadata(&allegation_id, "")
        },
        &still,
        4_096,
    )
    .await
    .unwrap()
    .evidence
    .unwrap();
    assert_eq!(copy.derived_from_evidence_id, original.id);
    assert_eq!(
        download(&mut intake, &original.id).await.unwrap(),
        video,
        "the original is untouched"
    );
    let status = upload(
        &mut intake,
        pb::EvidenceMetadata {
            derived_from_evidence_id: uuid::Uuid::now_v7().to_string(),
            ..metadata(&allegation_id, "")
        },
        &still,
        4_096,
    )
    .await
    .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);

    let mut investigator = app.intake_as(Role::Investigator).await;
    let transfer = investigator
        .record_transfer(pb::RecordTransferRequest {
            evidence_id: original.id.clone(),
            recipient: "CASE-2026-000001".into(),
            note: "linked to the case file".into(),
        })
        .await
        .unwrap()
        .into_inner()
        .event
        .unwrap();
    assert_eq!(transfer.kind(), pb::CustodyEventKind::Transferred);
    assert_eq!(transfer.sha256, original.sha256);
    app.stop().await;
}
