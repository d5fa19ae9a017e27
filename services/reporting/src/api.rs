//! The gRPC face of reporting.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use docket_proto::docket::reporting::v1 as pb;
use docket_proto::docket::reporting::v1::reporting_service_server::ReportingService;
use docket_proto::timestamp;
use sea_orm::DatabaseConnection;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status};

use crate::error::ReportingError;
use crate::release::replay::Sources;
use crate::release::service::Releases;
use crate::{audience, export, projector, report, statistics};

/// The reporting service.
#[derive(Debug, Clone)]
pub struct ReportingApi {
    db: DatabaseConnection,
    threshold: i64,
    streams: Vec<(&'static str, Arc<AtomicBool>)>,
    releases: Releases,
    /// Where a release's projections are rebuilt from to reproduce it.
    sources: Arc<Sources>,
}

impl ReportingApi {
    pub fn new(
        db: DatabaseConnection,
        threshold: i64,
        streams: Vec<(&'static str, Arc<AtomicBool>)>,
        releases: Releases,
        sources: Sources,
    ) -> Self {
        Self {
            db,
            threshold,
            streams,
            releases,
            sources: Arc::new(sources),
        }
    }
}

#[tonic::async_trait]
impl ReportingService for ReportingApi {
    async fn query_statistics(
        &self,
        request: Request<pb::QueryStatisticsRequest>,
    ) -> Result<Response<pb::QueryStatisticsResponse>, Status> {
        let public_only = audience::public_only(&request);
        let query = statistics::parse(request.into_inner()).map_err(ReportingError::from)?;
        audience::check(public_only, query.public)?;
        let mut answer = statistics::run(&self.db, &query, self.threshold)
            .await
            .map_err(ReportingError::from)?;
        answer.as_of = Some(timestamp(chrono::Utc::now()));
        Ok(Response::new(answer))
    }

    type ExportCasesStream = ReceiverStream<Result<pb::ExportCasesResponse, Status>>;

    async fn export_cases(
        &self,
        request: Request<pb::ExportCasesRequest>,
    ) -> Result<Response<Self::ExportCasesStream>, Status> {
        let public_only = audience::public_only(&request);
        let export = export::parse(request.into_inner()).map_err(ReportingError::from)?;
        audience::check(public_only, export.public)?;
        Ok(Response::new(export::stream(
            self.db.clone(),
            export,
            self.threshold,
        )))
    }

    async fn render_report(
        &self,
        request: Request<pb::RenderReportRequest>,
    ) -> Result<Response<pb::RenderReportResponse>, Status> {
        let public_only = audience::public_only(&request);
        let report = report::parse(request.into_inner()).map_err(ReportingError::from)?;
        audience::check(public_only, report.public)?;
        let html = report::render(&self.db, &report, self.threshold)
            .await
            .map_err(ReportingError::from)?;
        Ok(Response::new(pb::RenderReportResponse {
            html,
            as_of: Some(timestamp(chrono::Utc::now())),
        }))
    }

    async fn get_projection_status(
        &self,
        _request: Request<pb::GetProjectionStatusRequest>,
    ) -> Result<Response<pb::GetProjectionStatusResponse>, Status> {
        let mut streams = Vec::new();
        for (stream, connected) in &self.streams {
            let standing = projector::standing(&self.db, stream)
                .await
                .map_err(ReportingError::from)?
                .unwrap_or_default();
            streams.push(pb::StreamStatus {
                stream: (*stream).to_owned(),
                connected: connected.load(Ordering::Relaxed),
                last_sequence: standing.last_sequence,
                head_sequence: standing.source_head,
                lag_events: (standing.source_head - standing.last_sequence).max(0),
                last_event_time: standing.last_event_time.map(timestamp),
                last_applied_time: standing.last_applied_time.map(timestamp),
            });
        }
        Ok(Response::new(pb::GetProjectionStatusResponse { streams }))
    }

    async fn create_release(
        &self,
        request: Request<pb::CreateReleaseRequest>,
    ) -> Result<Response<pb::CreateReleaseResponse>, Status> {
        let release = self.releases.create(&request.into_inner().title).await?;
        Ok(Response::new(pb::CreateReleaseResponse {
            release: Some(release),
        }))
    }

    async fn list_releases(
        &self,
        _request: Request<pb::ListReleasesRequest>,
    ) -> Result<Response<pb::ListReleasesResponse>, Status> {
        Ok(Response::new(pb::ListReleasesResponse {
            releases: self.releases.list().await?,
        }))
    }

    async fn get_release(
        &self,
        request: Request<pb::GetReleaseRequest>,
    ) -> Result<Response<pb::GetReleaseResponse>, Status> {
        let release = self.releases.get(request.into_inner().number).await?;
        Ok(Response::new(pb::GetReleaseResponse {
            release: Some(release),
        }))
    }

    async fn export_release(
        &self,
        request: Request<pb::ExportReleaseRequest>,
    ) -> Result<Response<pb::ExportReleaseResponse>, Status> {
        let number = request.into_inner().number;
        let file = self.releases.signed_file(number).await?;
        Ok(Response::new(pb::ExportReleaseResponse {
            file: file.into_bytes().into(),
            file_name: format!("docket-release-{number:06}.json"),
        }))
    }

    async fn render_release(
        &self,
        request: Request<pb::RenderReleaseRequest>,
    ) -> Result<Response<pb::RenderReleaseResponse>, Status> {
        let number = request.into_inner().number;
        let html = self.releases.render(number).await?;
        Ok(Response::new(pb::RenderReleaseResponse { html }))
    }

    async fn reproduce_release(
        &self,
        request: Request<pb::ReproduceReleaseRequest>,
    ) -> Result<Response<pb::ReproduceReleaseResponse>, Status> {
        let sent = request.into_inner().file;
        let file = self
            .releases
            .reproduce_published(&self.sources, &sent)
            .await?;
        Ok(Response::new(pb::ReproduceReleaseResponse {
            identical: file.as_slice() == &sent[..],
            file: file.into(),
        }))
    }
}
