//! Streams are bounded by idleness, not by the request timeout: an upload or a verification that
//! keeps moving may outlast it, while a client that stalls (sends nothing, or takes nothing) has
//! its stream ended with DEADLINE_EXCEEDED and leaves nothing behind.

use std::num::NonZeroU64;
use std::time::{Duration, Instant};

use docket_e2e::{Backend, IntakeClient, TestApp, on_every_backend};
use docket_platform::Settings;
use docket_platform::auth::Role;
use docket_proto::docket::intake::v1 as pb;
use docket_proto::docket::intake::v1::upload_evidence_request::Payload;
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Code;

use crate::evidence::{
    blobs, bytes_of, download, metadata, new_allegation, sha256, upload, verify,
};

on_every_backend!(
    an_upload_slower_than_the_request_timeout_arrives_whole,
    an_upload_that_stalls_is_cut_and_leaves_nothing_behind,
    a_download_whose_reader_stalls_is_cut,
    verifying_the_whole_store_outlasts_the_request_timeout,
);

/// A short request timeout, and streams ended after 2 s without a message.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(2);
const IDLE: Duration = Duration::from_secs(2);

fn short_timeouts(settings: &mut Settings) {
    settings.request_timeout_seconds = REQUEST_TIMEOUT.as_secs();
    settings.stream_idle_timeout_seconds =
        NonZeroU64::new(IDLE.as_secs()).expect("a non-zero idle timeout");
}

fn message(payload: Payload) -> pb::UploadEvidenceRequest {
    pb::UploadEvidenceRequest {
        payload: Some(payload),
    }
}

/// An upload whose messages the test sends one by one, when it likes.
struct SlowUpload {
    sender: mpsc::Sender<pb::UploadEvidenceRequest>,
    answer: tokio::task::JoinHandle<Result<pb::UploadEvidenceResponse, tonic::Status>>,
}

impl SlowUpload {
    async fn start(mut intake: IntakeClient, metadata: pb::EvidenceMetadata) -> Self {
        let (sender, receiver) = mpsc::channel(1);
        sender
            .send(message(Payload::Metadata(metadata)))
            .await
            .unwrap();
        let answer = tokio::spawn(async move {
            intake
                .upload_evidence(ReceiverStream::new(receiver))
                .await
                .map(tonic::Response::into_inner)
        });
        Self { sender, answer }
    }

    async fn send(&self, chunk: &[u8]) {
        self.sender
            .send(message(Payload::Chunk(chunk.to_vec().into())))
            .await
            .unwrap();
    }
}

async fn an_upload_slower_than_the_request_timeout_arrives_whole(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, short_timeouts).await else {
        return;
    };
    let mut intake = app.intake().await;
    let allegation_id = new_allegation(&mut intake).await;
    let file = bytes_of(21 * 64 * 1024, 5);
    let started = Instant::now();
    let upload =
        SlowUpload::start(app.intake().await, metadata(&allegation_id, &sha256(&file))).await;
    // A thin field link: a 64 KiB message every 250 ms, about 5 s in all.
    for chunk in file.chunks(64 * 1024) {
        tokio::time::sleep(Duration::from_millis(250)).await;
        upload.send(chunk).await;
    }
    drop(upload.sender);
    let stored = upload
        .answer
        .await
        .unwrap()
        .expect("an upload that keeps moving is not cut by the request timeout")
        .evidence
        .unwrap();
    assert!(
        started.elapsed() > REQUEST_TIMEOUT * 2,
        "the upload took longer than the request timeout"
    );
    assert_eq!(stored.sha256, sha256(&file));
    assert_eq!(download(&mut intake, &stored.id).await.unwrap(), file);
    app.stop().await;
}

async fn an_upload_that_stalls_is_cut_and_leaves_nothing_behind(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, short_timeouts).await else {
        return;
    };
    let mut intake = app.intake().await;
    let allegation_id = new_allegation(&mut intake).await;
    let upload = SlowUpload::start(app.intake().await, metadata(&allegation_id, "")).await;
    upload.send(&bytes_of(256 * 1024, 1)).await;
    upload.send(&bytes_of(256 * 1024, 2)).await;
    // The server holds a partial file; then the client sends nothing more, but stays connected.
    let deadline = Instant::now() + Duration::from_secs(10);
    while blobs(&app).is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(!blobs(&app).is_empty(), "the upload began");
    let status = tokio::time::timeout(IDLE * 10, upload.answer)
        .await
        .expect("a stalled upload is ended, not left hanging")
        .unwrap()
        .expect_err("a stalled upload is refused");
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    assert!(status.message().contains("idle"), "{status:?}");
    assert!(
        blobs(&app).is_empty(),
        "a stalled upload left {:?}",
        blobs(&app)
    );
    let recorded = intake
        .list_evidence(pb::ListEvidenceRequest {
            allegation_id: allegation_id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .evidence;
    assert!(recorded.is_empty(), "no record of a stalled upload");
    drop(upload.sender);
    app.stop().await;
}

async fn a_download_whose_reader_stalls_is_cut(backend: Backend) {
    let Some(app) = TestApp::spawn_with(backend, short_timeouts).await else {
        return;
    };
    let mut intake = app.intake().await;
    let allegation_id = new_allegation(&mut intake).await;
    // Larger than every buffer between the file and the reader (channel, HTTP/2 windows).
    let file = bytes_of(24 * 1024 * 1024, 7);
    let stored = upload(
        &mut intake,
        metadata(&allegation_id, ""),
        &file,
        1024 * 1024,
    )
    .await
    .unwrap()
    .evidence
    .unwrap();

    let mut stream = intake
        .download_evidence(pb::DownloadEvidenceRequest {
            evidence_id: stored.id.clone(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let mut received = stream.message().await.unwrap().unwrap().chunk.len();
    // The reader stops taking chunks for longer than the idle timeout, then reads on.
    tokio::time::sleep(IDLE * 2).await;
    let status = loop {
        match stream.message().await {
            Ok(Some(message)) => received += message.chunk.len(),
            Ok(None) => panic!("a stalled download ran to its end ({received} bytes)"),
            Err(status) => break status,
        }
    };
    assert_eq!(status.code(), Code::DeadlineExceeded, "{status:?}");
    assert!(status.message().contains("idle"), "{status:?}");
    assert!(
        received < file.len(),
        "the reader did not get the whole file"
    );

    // A reader that keeps reading gets it all.
    assert_eq!(download(&mut intake, &stored.id).await.unwrap(), file);
    app.stop().await;
}

async fn verifying_the_whole_store_outlasts_the_request_timeout(backend: Backend) {
    let configure = |settings: &mut Settings| {
        short_timeouts(settings);
        settings.request_timeout_seconds = 1;
    };
    let Some(app) = TestApp::spawn_with(backend, configure).await else {
        return;
    };
    let mut intake = app.intake().await;
    let allegation_id = new_allegation(&mut intake).await;
    let mut digests = Vec::new();
    for seed in 0..FILES {
        let file = bytes_of(FILE_BYTES, seed);
        upload(
            &mut intake,
            metadata(&allegation_id, ""),
            &file,
            1024 * 1024,
        )
        .await
        .unwrap();
        digests.push(sha256(&file));
    }
    digests.sort();

    let started = Instant::now();
    let messages = verify(&mut app.intake_as(Role::Supervisor).await, "")
        .await
        .expect("verifying the whole store is not cut by the request timeout");
    eprintln!(
        "verified {FILES} files of {FILE_BYTES} bytes in {:?}",
        started.elapsed()
    );
    let total = i64::from(FILES);
    assert_eq!(messages.len(), usize::from(FILES), "a message per file");
    for (message, (checked, digest)) in messages.iter().zip((1..).zip(&digests)) {
        assert_eq!(
            (
                message.files_checked,
                message.files_total,
                message.mismatches_found
            ),
            (checked, total, 0),
            "progress is counted as it goes"
        );
        let check = message.check.as_ref().unwrap();
        assert_eq!(&check.sha256, digest);
        assert!(check.intact, "{check:?}");
        assert_eq!(check.evidence_ids.len(), 1);
    }
    app.stop().await;
}

/// Enough bytes that re-reading them all outlasts a 1 s request timeout here.
const FILES: u8 = 12;
const FILE_BYTES: usize = 6 * 1024 * 1024;
