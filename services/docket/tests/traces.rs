//! OTLP traces from the real binary to a collector the test runs: one allegation, from its
//! submission through its acceptance, intake's outbox and the delivery that opens its case in
//! case management, is one trace (the client's, carried in `traceparent`), of spans named after
//! OpenTelemetry's RPC conventions (`package.Service/Method`), SERVER and CLIENT, each with
//! `rpc.system`, `rpc.service`, `rpc.method` and `rpc.grpc.status_code`; `service.name` is
//! `OTEL_SERVICE_NAME` when set.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use docket_e2e::{Bearer, allegation, submit_request};
use docket_proto::docket::intake::v1 as pb;
use docket_proto::docket::intake::v1::intake_service_client::IntakeServiceClient;
use opentelemetry_proto::tonic::collector::trace::v1::trace_service_server::{
    TraceService, TraceServiceServer,
};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::{Span, status::StatusCode};
use process::Server;
use tonic::transport::Channel;
use tonic::{Request, Response, Status};

mod process;

/// An OTLP collector that keeps every span it is sent, with its resource's `service.name`.
#[derive(Debug, Clone, Default)]
struct Collector(Arc<Mutex<Vec<(String, Span)>>>);

#[tonic::async_trait]
impl TraceService for Collector {
    async fn export(
        &self,
        request: Request<ExportTraceServiceRequest>,
    ) -> Result<Response<ExportTraceServiceResponse>, Status> {
        let mut kept = self.0.lock().unwrap();
        for resource_spans in request.into_inner().resource_spans {
            let service = resource_spans
                .resource
                .as_ref()
                .and_then(|r| string(&r.attributes, "service.name"))
                .unwrap_or_default();
            for span in resource_spans.scope_spans.into_iter().flat_map(|s| s.spans) {
                kept.push((service.clone(), span));
            }
        }
        Ok(Response::new(ExportTraceServiceResponse {
            partial_success: None,
        }))
    }
}

fn attribute<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a Value> {
    attributes
        .iter()
        .find(|a| a.key == key)
        .and_then(|a| a.value.as_ref())
        .and_then(|v| v.value.as_ref())
}

fn string(attributes: &[KeyValue], key: &str) -> Option<String> {
    match attribute(attributes, key) {
        Some(Value::StringValue(value)) => Some(value.clone()),
        _ => None,
    }
}

fn int(attributes: &[KeyValue], key: &str) -> Option<i64> {
    match attribute(attributes, key) {
        Some(Value::IntValue(value)) => Some(*value),
        _ => None,
    }
}

impl Collector {
    /// The spans of trace `trace_id` named `name` and of `kind`.
    fn spans(&self, trace_id: &[u8], name: &str, kind: SpanKind) -> Vec<(String, Span)> {
        self.0
            .lock()
            .unwrap()
            .iter()
            .filter(|(_, s)| s.trace_id == trace_id && s.name == name && s.kind == kind as i32)
            .cloned()
            .collect()
    }
}

const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

/// `message` with the trace context of a client span of trace [`TRACE_ID`].
fn traced<T>(message: T) -> Request<T> {
    let mut request = Request::new(message);
    request.metadata_mut().insert(
        "traceparent",
        format!("00-{TRACE_ID}-00f067aa0ba902b7-01")
            .parse()
            .unwrap(),
    );
    request
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn submission_acceptance_delivery_and_the_case_opened_are_one_trace_of_named_rpc_spans() {
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
        &[
            ("DOCKET__TRACES__OTLP_ENDPOINT", endpoint.as_str()),
            ("OTEL_SERVICE_NAME", "docket-under-test"),
        ],
    );
    let bearer = Bearer::token(&server.token("intake_officer", "officer.aliyev"));
    let channel = Channel::from_shared(format!("http://{}", server.intake()))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut intake = IntakeServiceClient::with_interceptor(channel, bearer);

    let mut bad = allegation();
    bad.narrative.clear();
    let refused = intake
        .submit_allegation(traced(submit_request(bad)))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::InvalidArgument);
    let id = intake
        .submit_allegation(traced(submit_request(allegation())))
        .await
        .unwrap()
        .into_inner()
        .allegation
        .unwrap()
        .id;
    intake
        .accept_allegation(traced(pb::AcceptAllegationRequest {
            id,
            ..Default::default()
        }))
        .await
        .unwrap();

    let trace_id = hex::decode(TRACE_ID).unwrap();
    let received = "docket.cases.v1.CaseService/ReceiveAllegation";
    // Spans are exported in batches, every few seconds.
    let deadline = Instant::now() + Duration::from_secs(30);
    while collector
        .spans(&trace_id, received, SpanKind::Server)
        .is_empty()
    {
        assert!(
            Instant::now() < deadline,
            "no span of the case opened in the client's trace"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await;

    let one = |name: &str, kind: SpanKind| -> Span {
        let spans = collector.spans(&trace_id, name, kind);
        assert!(
            !spans.is_empty(),
            "no {kind:?} span {name} in the trace; spans: {:?}",
            collector
                .0
                .lock()
                .unwrap()
                .iter()
                .map(|(_, s)| (s.name.clone(), s.kind))
                .collect::<Vec<_>>()
        );
        for (service, _) in &spans {
            assert_eq!(
                service, "docket-under-test",
                "OTEL_SERVICE_NAME is honoured"
            );
        }
        spans.into_iter().next().unwrap().1
    };
    let submitted = collector.spans(
        &trace_id,
        "docket.intake.v1.IntakeService/SubmitAllegation",
        SpanKind::Server,
    );
    assert_eq!(submitted.len(), 2, "both submissions are in the trace");
    let codes: Vec<Option<i64>> = submitted
        .iter()
        .map(|(_, s)| int(&s.attributes, "rpc.grpc.status_code"))
        .collect();
    assert!(
        codes.contains(&Some(0)) && codes.contains(&Some(3)),
        "{codes:?}"
    );
    for (_, span) in &submitted {
        assert_eq!(
            string(&span.attributes, "rpc.system").as_deref(),
            Some("grpc")
        );
        assert_eq!(
            string(&span.attributes, "rpc.service").as_deref(),
            Some("docket.intake.v1.IntakeService")
        );
        assert_eq!(
            string(&span.attributes, "rpc.method").as_deref(),
            Some("SubmitAllegation")
        );
        // A caller's mistake is no error of the server's (the conventions leave it unset).
        let status = span.status.as_ref().map_or(0, |s| s.code);
        assert_ne!(status, StatusCode::Error as i32);
    }
    let accepted = one(
        "docket.intake.v1.IntakeService/AcceptAllegation",
        SpanKind::Server,
    );
    assert_eq!(int(&accepted.attributes, "rpc.grpc.status_code"), Some(0));
    let delivery = one(
        "deliver case_management.receive_allegation",
        SpanKind::Producer,
    );
    let client = one(received, SpanKind::Client);
    let served = one(received, SpanKind::Server);
    assert_eq!(int(&client.attributes, "rpc.grpc.status_code"), Some(0));
    assert_eq!(int(&served.attributes, "rpc.grpc.status_code"), Some(0));
    assert_eq!(
        string(&served.attributes, "rpc.service").as_deref(),
        Some("docket.cases.v1.CaseService")
    );
    // Parent to child: acceptance -> delivery (through the outbox) -> client call -> server.
    assert_eq!(delivery.parent_span_id, accepted.span_id);
    assert_eq!(client.parent_span_id, delivery.span_id);
    assert_eq!(served.parent_span_id, client.span_id);
    assert!(server.terminate().success());
}
