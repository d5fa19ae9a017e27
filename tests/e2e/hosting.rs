//! What every service does alike: health, reflection, request ids.

use docket_e2e::{Backend, TestApp, channel, on_every_backend};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

on_every_backend!(every_service_reports_serving_and_answers_with_a_request_id);

async fn every_service_reports_serving_and_answers_with_a_request_id(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    for (addr, service) in [
        (app.intake_addr, "docket.intake.v1.IntakeService"),
        (app.case_management_addr, ""),
        (app.reporting_addr, ""),
    ] {
        let mut health = HealthClient::new(channel(addr).await);
        let answer = health
            .check(HealthCheckRequest {
                service: service.into(),
            })
            .await
            .unwrap();
        let request_id = answer
            .metadata()
            .get("x-request-id")
            .expect("every answer carries a request id")
            .to_str()
            .unwrap()
            .to_owned();
        assert!(uuid::Uuid::parse_str(&request_id).is_ok(), "{request_id}");
        assert_eq!(answer.into_inner().status(), ServingStatus::Serving);
    }

    // A request id the caller sends is kept, so that logs on both sides can be joined.
    let mut health = HealthClient::new(channel(app.intake_addr).await);
    let mut request = tonic::Request::new(HealthCheckRequest::default());
    request
        .metadata_mut()
        .insert("x-request-id", "operator-check-1".parse().unwrap());
    let answer = health.check(request).await.unwrap();
    assert_eq!(
        answer.metadata().get("x-request-id").unwrap(),
        "operator-check-1"
    );
    app.stop().await;
}
