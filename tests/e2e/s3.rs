//! Evidence in S3-compatible storage, tested against a real S3 API server (moto's, from PyPI:
//! `pip install 'moto[server]'`). Skipped when `moto_server` is not on `PATH`, unless
//! `DOCKET_TEST_REQUIRE_S3=1` (as in CI).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use docket_e2e::{Backend, TestApp, allegation, submit_request};
use docket_proto::docket::intake::v1 as pb;
use docket_proto::docket::intake::v1::upload_evidence_request::Payload;

use crate::evidence::{download, mismatches, verify};
use crate::repair::{custody, repairs};

struct S3Server {
    child: Child,
    addr: SocketAddr,
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_s3() -> Option<S3Server> {
    let found = std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|dir| dir.join("moto_server").is_file())
    });
    if !found {
        assert!(
            std::env::var("DOCKET_TEST_REQUIRE_S3").as_deref() != Ok("1"),
            "DOCKET_TEST_REQUIRE_S3=1 but moto_server is not on PATH"
        );
        eprintln!("moto_server is not on PATH: S3 storage is not tested");
        return None;
    }
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("moto_server")
        .args(["-H", "127.0.0.1", "-p", &port.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    while TcpStream::connect(addr).is_err() {
        assert!(Instant::now() < deadline, "moto_server did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    Some(S3Server { child, addr })
}

/// Creates `bucket` with a bare HTTP request (moto does not check signatures).
fn create_bucket(addr: SocketAddr, bucket: &str) {
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "PUT /{bucket} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "bucket not created: {answer}"
    );
}

/// Overwrites object `key` of `bucket` with `body`, behind the service's back. (moto checks no
/// signature, but refuses an anonymous overwrite: the request names a key, any key.)
fn overwrite_object(addr: SocketAddr, bucket: &str, key: &str, body: &[u8]) {
    let mut stream = TcpStream::connect(addr).unwrap();
    let authorization = "AWS4-HMAC-SHA256 Credential=test/20261130/us-east-1/s3/aws4_request, \
                         SignedHeaders=host, Signature=0";
    write!(
        stream,
        "PUT /{bucket}/{key} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: {authorization}\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .unwrap();
    stream.write_all(body).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(
        answer.starts_with("HTTP/1.1 200"),
        "object not written: {answer}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evidence_can_live_in_s3_compatible_storage() {
    let Some(s3) = start_s3() else { return };
    create_bucket(s3.addr, "docket-evidence");
    let endpoint = format!("http://{}", s3.addr);
    let configure = |settings: &mut docket_platform::Settings| {
        settings.intake.blob_store_url = Some("s3://docket-evidence/office-a".into());
        for (key, value) in [
            ("aws_endpoint", endpoint.as_str()),
            ("aws_allow_http", "true"),
            ("aws_region", "us-east-1"),
            ("aws_access_key_id", "test"),
            ("aws_secret_access_key", "test"),
        ] {
            settings
                .intake
                .blob_store_options
                .insert(key.into(), value.into());
        }
    };
    let app = TestApp::spawn_with(Backend::Sqlite, configure)
        .await
        .unwrap();
    let mut intake = app.intake().await;
    let allegation_id = intake
        .submit_allegation(submit_request(allegation()))
        .await
        .unwrap()
        .into_inner()
        .allegation
        .unwrap()
        .id;
    let video: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
    let uploader = intake.clone();
    let upload = |bytes: Vec<u8>| {
        let mut intake = uploader.clone();
        let allegation_id = allegation_id.clone();
        async move {
            let metadata = pb::EvidenceMetadata {
                allegation_id,
                file_name: "clip.mp4".into(),
                collected_time: Some(prost_types::Timestamp {
                    seconds: 1_603_000_000,
                    nanos: 0,
                }),
                collected_by: "analyst.petrosyan".into(),
                collection_method: pb::CollectionMethod::WebCapture.into(),
                ..Default::default()
            };
            let mut messages = vec![pb::UploadEvidenceRequest {
                payload: Some(Payload::Metadata(metadata)),
            }];
            messages.extend(
                bytes
                    .chunks(1024 * 1024)
                    .map(|c| pb::UploadEvidenceRequest {
                        payload: Some(Payload::Chunk(c.to_vec().into())),
                    }),
            );
            intake
                .upload_evidence(tokio_stream::iter(messages))
                .await
                .unwrap()
                .into_inner()
        }
    };
    let first = upload(video.clone()).await;
    let second = upload(video.clone()).await;
    assert_eq!(
        second.same_content.len(),
        1,
        "the same bytes are recognised in S3 too"
    );
    let id = first.evidence.unwrap().id;
    assert_eq!(download(&mut intake, &id).await.unwrap(), video);
    let verified = verify(
        &mut app.intake_as(docket_platform::auth::Role::Supervisor).await,
        "",
    )
    .await
    .unwrap();
    assert_eq!((verified.len(), mismatches(&verified).len()), (1, 0));

    // Someone with write access to the bucket alters the object; the same video uploaded again
    // heals it, and the custody of the first record says so.
    let digest = second.evidence.unwrap().sha256;
    let key = format!("office-a/sha256/{}/{digest}", &digest[..2]);
    let mut altered = video.clone();
    altered[1_000_000] ^= 0x01;
    overwrite_object(s3.addr, "docket-evidence", &key, &altered);
    let third = upload(video.clone()).await;
    assert_eq!(third.same_content.len(), 2);
    assert_eq!(
        download(&mut intake, &id).await.unwrap(),
        video,
        "the first record's file is whole again"
    );
    let custody = custody(&mut intake, &id).await;
    let [repair] = repairs(&custody).try_into().unwrap();
    assert_eq!(repair.sha256, digest);
    app.stop().await;
}
