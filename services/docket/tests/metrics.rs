//! `/metrics` of the running binary, as a stranger on the network could try to swell it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use bytes::{Buf as _, BufMut as _, Bytes};
use tonic::codec::{Codec, DecodeBuf, Decoder, EncodeBuf, Encoder};
use tonic::transport::Channel;

use process::Server;

mod process;

/// Request and answer bodies passed as they are: a call to any path at all.
#[derive(Debug, Clone, Copy, Default)]
struct Raw;

impl Codec for Raw {
    type Encode = Bytes;
    type Decode = Bytes;
    type Encoder = Raw;
    type Decoder = Raw;

    fn encoder(&mut self) -> Raw {
        Raw
    }

    fn decoder(&mut self) -> Raw {
        Raw
    }
}

impl Encoder for Raw {
    type Item = Bytes;
    type Error = tonic::Status;

    fn encode(&mut self, item: Bytes, dst: &mut EncodeBuf<'_>) -> Result<(), tonic::Status> {
        dst.put(item);
        Ok(())
    }
}

impl Decoder for Raw {
    type Item = Bytes;
    type Error = tonic::Status;

    fn decode(&mut self, src: &mut DecodeBuf<'_>) -> Result<Option<Bytes>, tonic::Status> {
        Ok(Some(src.copy_to_bytes(src.remaining())))
    }
}

/// Calls `path` with no token and an empty message; the answer's code.
async fn call(channel: &Channel, path: &str) -> tonic::Code {
    let mut client = tonic::client::Grpc::new(channel.clone());
    client.ready().await.unwrap();
    let path = path.parse().unwrap();
    client
        .unary(tonic::Request::new(Bytes::new()), path, Raw)
        .await
        .map_or_else(|status| status.code(), |_| tonic::Code::Ok)
}

/// The series of the RPC metrics in a scrape of `/metrics`.
fn rpc_series(metrics: &str) -> Vec<&str> {
    metrics
        .lines()
        .filter(|line| line.starts_with("docket_rpc_"))
        .collect()
}

#[test]
fn made_up_paths_add_no_series_to_the_metrics() {
    let server = Server::start();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let channel = runtime.block_on(async {
        Channel::from_shared(format!("http://{}", server.intake()))
            .unwrap()
            .connect()
            .await
            .unwrap()
    });
    // A real method and one made-up path, so that every series either leaves exists.
    for path in [
        "/docket.intake.v1.IntakeService/ListAllegations",
        "/docket.flood.v1.Flood/Warm",
    ] {
        let code = runtime.block_on(call(&channel, path));
        assert_eq!(code, tonic::Code::Unauthenticated, "{path}");
    }
    let before = server.scrape();
    let before = rpc_series(&before);
    assert!(
        before
            .iter()
            .any(|line| line.contains(r#"method="unknown""#)),
        "made-up paths are counted, under one label: {before:#?}"
    );

    runtime.block_on(async {
        for i in 0..300 {
            let path = format!("/docket.flood{i}.v1.Flood/Method{i}");
            assert_eq!(call(&channel, &path).await, tonic::Code::Unauthenticated);
        }
    });

    let after = server.scrape();
    let after = rpc_series(&after);
    assert_eq!(
        before.len(),
        after.len(),
        "300 made-up paths added series: {:#?}",
        after
            .iter()
            .filter(|line| line.contains("flood"))
            .take(5)
            .collect::<Vec<_>>()
    );
    assert!(server.terminate().success());
}

/// The value of the series `series` (its name and labels, exactly as rendered), if present.
fn value(metrics: &str, series: &str) -> Option<f64> {
    metrics.lines().find_map(|line| {
        line.strip_prefix(series)
            .and_then(|rest| rest.strip_prefix(' '))
            .and_then(|v| v.trim().parse().ok())
    })
}

/// Whether some series of the metric `name` is present.
fn has(metrics: &str, name: &str) -> bool {
    metrics
        .lines()
        .any(|line| line.starts_with(&format!("{name} ")) || line.starts_with(&format!("{name}{{")))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metrics_operators_need_are_emitted() {
    use docket_proto::docket::intake::v1 as pb;
    use docket_proto::docket::intake::v1::intake_service_client::IntakeServiceClient;
    use docket_proto::docket::intake::v1::upload_evidence_request::Payload;

    let server = Server::start();
    let bearer = docket_e2e::Bearer::token(&server.token("intake_officer", "officer.aliyev"));
    let channel = Channel::from_shared(format!("http://{}", server.intake()))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut intake = IntakeServiceClient::with_interceptor(channel, bearer);
    let allegation_id = docket_e2e::accept_new(&mut intake).await;
    let content = vec![7u8; 12_345];
    let messages = [
        pb::UploadEvidenceRequest {
            payload: Some(Payload::Metadata(pb::EvidenceMetadata {
                allegation_id,
                file_name: "video.mp4".into(),
                collected_time: Some(prost_types::Timestamp {
                    seconds: 1_603_000_000,
                    nanos: 0,
                }),
                collected_by: "analyst.petrosyan".into(),
                collection_method: pb::CollectionMethod::PlatformDownload.into(),
                ..Default::default()
            })),
        },
        pb::UploadEvidenceRequest {
            payload: Some(Payload::Chunk(content.clone().into())),
        },
    ];
    intake
        .upload_evidence(tokio_stream::iter(messages))
        .await
        .unwrap();

    // The gauges are refreshed every few seconds (pool use, process, outbox, projections).
    let wanted = [
        "docket_build_info",
        "docket_rpc_in_flight",
        "docket_db_pool_connections",
        "docket_db_pool_max_connections",
        "docket_outbox_oldest_undelivered_age_seconds",
        "docket_projection_lag_seconds",
        "docket_lease_held",
        "process_resident_memory_bytes",
        "process_open_fds",
        "process_start_time_seconds",
    ];
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let metrics = loop {
        let metrics = server.scrape();
        if wanted.iter().all(|name| has(&metrics, name)) {
            break metrics;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "missing {:?} in:\n{metrics}",
            wanted
                .iter()
                .filter(|name| !has(&metrics, name))
                .collect::<Vec<_>>()
        );
        tokio::time::sleep(std::time::Duration::from_millis(250)).await;
    };
    assert_eq!(
        value(&metrics, "docket_evidence_bytes_stored_total"),
        Some(content.len() as f64),
        "the bytes of the one upload are counted"
    );
    // Every lease is exported by every replica, 1 where held, 0 where not.
    for lease in [
        "intake-outbox-dispatcher",
        "reporting-projector-intake",
        "reporting-projector-case-management",
    ] {
        let held = value(&metrics, &format!("docket_lease_held{{lease=\"{lease}\"}}"));
        assert!(
            matches!(held, Some(v) if v == 0.0 || v == 1.0),
            "{lease}: {held:?}"
        );
    }
    assert!(server.terminate().success());
}
