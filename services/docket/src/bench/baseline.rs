//! The baseline: a bare tonic server on the same runtime, with none of Docket's layers, that
//! echoes and that hashes uploads without storing them.

use std::net::SocketAddr;

use docket_proto::docket::bench::v1 as pb;
use docket_proto::docket::bench::v1::bench_service_server::{BenchService, BenchServiceServer};
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic::{Request, Response, Status, Streaming};

#[derive(Debug, Default)]
struct Baseline;

#[tonic::async_trait]
impl BenchService for Baseline {
    async fn echo(
        &self,
        request: Request<pb::EchoRequest>,
    ) -> Result<Response<pb::EchoResponse>, Status> {
        Ok(Response::new(pb::EchoResponse {
            payload: request.into_inner().payload,
        }))
    }

    async fn hash_upload(
        &self,
        request: Request<Streaming<pb::HashUploadRequest>>,
    ) -> Result<Response<pb::HashUploadResponse>, Status> {
        let mut stream = request.into_inner();
        let mut hasher = Sha256::new();
        let mut size = 0i64;
        while let Some(message) = stream.message().await? {
            size += message.chunk.len() as i64;
            hasher.update(&message.chunk);
        }
        Ok(Response::new(pb::HashUploadResponse {
            sha256: hex::encode(hasher.finalize()),
            size_bytes: size,
        }))
    }
}

/// Starts the baseline on a free loopback port; it runs until the process ends.
pub async fn start() -> anyhow::Result<SocketAddr> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let service = BenchServiceServer::new(Baseline).max_decoding_message_size(4 * 1024 * 1024);
    tokio::spawn(
        Server::builder()
            .http2_adaptive_window(Some(true))
            .add_service(service)
            .serve_with_incoming(TcpIncoming::from(listener).with_nodelay(Some(true))),
    );
    Ok(addr)
}
