//! The baseline: a bare tonic server on the same runtime, with none of Docket's layers, that
//! echoes, that hashes uploads without storing them, and that stores each submission with one
//! `INSERT` (the naive service `SubmitAllegation` is measured against).

use std::net::SocketAddr;

use docket_proto::docket::bench::v1 as pb;
use docket_proto::docket::bench::v1::bench_service_server::{BenchService, BenchServiceServer};
use prost::Message;
use sea_orm::sea_query::{Alias, ColumnDef, Expr, Query, Table};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;
use tonic::{Request, Response, Status, Streaming};
use uuid::Uuid;

/// The naive service's table, in intake's database; dropped at the end of the run.
const NAIVE_TABLE: &str = "bench_naive_allegations";

#[derive(Debug)]
struct Baseline {
    /// Intake's database, for the naive service.
    db: DatabaseConnection,
}

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

    async fn naive_submit(
        &self,
        request: Request<pb::NaiveSubmitRequest>,
    ) -> Result<Response<pb::NaiveSubmitResponse>, Status> {
        let request = request.into_inner();
        let id = Uuid::now_v7();
        let body = request
            .allegation
            .map(|a| a.encode_to_vec())
            .unwrap_or_default();
        let insert = Query::insert()
            .into_table(Alias::new(NAIVE_TABLE))
            .columns(["id", "request_id", "received_at", "allegation"].map(Alias::new))
            .values_panic([
                Expr::val(id.to_string()),
                Expr::val(request.request_id),
                Expr::val(chrono::Utc::now()),
                Expr::val(body),
            ])
            .to_owned();
        self.db
            .execute(&insert)
            .await
            .map_err(|e| Status::internal(e.to_string()))?;
        Ok(Response::new(pb::NaiveSubmitResponse {
            id: id.to_string(),
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

/// Starts the baseline on a free loopback port, its naive service storing into `db` (intake's
/// database, where it creates its table); it runs until the process ends.
pub async fn start(db: DatabaseConnection) -> anyhow::Result<SocketAddr> {
    let create = Table::create()
        .table(Alias::new(NAIVE_TABLE))
        .if_not_exists()
        .col(
            ColumnDef::new(Alias::new("id"))
                .text()
                .not_null()
                .primary_key(),
        )
        .col(
            ColumnDef::new(Alias::new("request_id"))
                .text()
                .not_null()
                .unique_key(),
        )
        .col(
            ColumnDef::new(Alias::new("received_at"))
                .timestamp_with_time_zone()
                .not_null(),
        )
        .col(ColumnDef::new(Alias::new("allegation")).blob().not_null())
        .to_owned();
    db.execute(&create).await?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let service =
        BenchServiceServer::new(Baseline { db }).max_decoding_message_size(4 * 1024 * 1024);
    tokio::spawn(
        Server::builder()
            .http2_adaptive_window(Some(true))
            .add_service(service)
            .serve_with_incoming(TcpIncoming::from(listener).with_nodelay(Some(true))),
    );
    Ok(addr)
}

/// Drops the naive service's table.
pub async fn drop_naive(db: &DatabaseConnection) -> anyhow::Result<()> {
    db.execute(
        &Table::drop()
            .table(Alias::new(NAIVE_TABLE))
            .if_exists()
            .to_owned(),
    )
    .await?;
    Ok(())
}
