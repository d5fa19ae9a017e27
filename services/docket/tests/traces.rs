//! OTLP traces from the real binary to a collector: one allegation's acceptance is one trace,
//! from intake's RPC through its outbox into case management's.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use docket_e2e::{Bearer, accept_new};
use docket_proto::docket::intake::v1::intake_service_client::IntakeServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::Span;
use process::Server;
use tonic::transport::Channel;
use tonic::{Request, Response, Status};

mod process;

/// An OTLP collector that keeps every span it is sent.
#[derive(Debug, Clone, Default)]
struct Collector(Arc<Mutex<Vec<Span>>>);

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        let spans = request
            .into_inner()
            .resource_spans
            .into_iter()
            .flat_map(|r| r.scope_spans)
            .flat_map(|s| s.spans);
        self.0.lock().unwrap().extend(spans);
        Ok(Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

impl Collector {
    /// The trace id of the `rpc` span of a call to `method`, once one arrived.
    fn trace_of(&self, method: &str) -> Option<Vec<u8>> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .find(|span| {
                span.name == "rpc"
                    && span.attributes.iter().any(|a| {
                        a.key == "method"
                            && matches!(
                                a.value.as_ref().and_then(|v| v.value.as_ref()),
                                Some(Value::StringValue(path)) if path.ends_with(method)
                            )
                    })
            })
            .map(|span| span.trace_id.clone())
    }

    fn named_in(&self, name: &str, trace_id: &[u8]) -> bool {
        self.0
            .lock()
            .unwrap()
            .iter()
            .any(|span| span.name == name && span.trace_id == trace_id)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_acceptance_is_one_trace_across_intake_and_case_management() {
    let collector = Collector::default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(TraceServiceServer::new(collector.clone()))
            .serve_with_incoming(tokio_stream::wrappers::TcpListenerStream::new(listener)),
    );
    let data = tempfile::tempdir().unwrap();
    let server = Server::start_in(
        data.path(),
        &[("DOCKET__TRACES__OTLP_ENDPOINT", endpoint.as_str())],
    );
    let bearer = Bearer::token(&server.token("intake_officer", "officer.aliyev"));
    let channel = Channel::from_shared(format!("http://{}", server.intake()))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut intake = IntakeServiceClient::with_interceptor(channel, bearer);
    accept_new(&mut intake).await;

    // Spans are exported in batches, every few seconds.
    let deadline = Instant::now() + Duration::from_secs(30);
    let (accepted, received) = loop {
        if let (Some(accepted), Some(received)) = (
            collector.trace_of("/AcceptAllegation"),
            collector.trace_of("/ReceiveAllegation"),
        ) {
            break (accepted, received);
        }
        assert!(Instant::now() < deadline, "no traces of the acceptance");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(
        accepted, received,
        "case management's ReceiveAllegation continues intake's AcceptAllegation trace"
    );
    assert!(collector.named_in("outbox_delivery", &accepted));
    assert!(server.terminate().success());
}
