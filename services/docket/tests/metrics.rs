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
