//! Anonymous follow-up: the receipt alone tells the status and the office's message.

use docket_e2e::{Backend, Bearer, TestApp, allegation, on_every_backend, submit_request};
use docket_platform::ServiceKind;
use docket_proto::docket::intake::v1 as pb;
use sea_orm::{ConnectionTrait, Database, Statement};
use tonic::Code;

on_every_backend!(a_receipt_alone_tells_the_status_and_the_message_for_the_source);

async fn a_receipt_alone_tells_the_status_and_the_message_for_the_source(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut officer = app.intake().await;
    let mut sent = allegation();
    sent.source = Some(pb::Source {
        anonymous: true,
        ..Default::default()
    });
    let answer = officer
        .submit_allegation(submit_request(sent))
        .await
        .unwrap()
        .into_inner();
    let receipt = answer.receipt;
    let id = answer.allegation.unwrap().id;

    let mut anonymous = app.intake_with(Bearer::none()).await;
    let status = anonymous
        .check_allegation_status(pb::CheckAllegationStatusRequest {
            receipt: receipt.clone(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(status.status(), pb::AllegationStatus::Received);
    assert!(status.message_for_source.is_empty());

    officer
        .reject_allegation(pb::RejectAllegationRequest {
            id,
            reason: "Outside the office's jurisdiction.".into(),
            message_for_source: "Thank you. Your report was passed to the competent authority."
                .into(),
        })
        .await
        .unwrap();
    // Typed by hand: lower case, no dashes.
    let typed = receipt.replace('-', "").to_lowercase();
    let status = anonymous
        .check_allegation_status(pb::CheckAllegationStatusRequest { receipt: typed })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(status.status(), pb::AllegationStatus::Rejected);
    assert_eq!(
        status.message_for_source,
        "Thank you. Your report was passed to the competent authority."
    );

    let unknown = anonymous
        .check_allegation_status(pb::CheckAllegationStatusRequest {
            receipt: "AAAA-BBBB-CCCC-DDDD-EEEE-FFFF-GGGG-HHHH".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
    let malformed = anonymous
        .check_allegation_status(pb::CheckAllegationStatusRequest {
            receipt: "not a receipt!".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(malformed.code(), Code::InvalidArgument);

    // The database holds only the receipt's hash.
    let db = Database::connect(app.settings.database_url(ServiceKind::Intake))
        .await
        .unwrap();
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT receipt_hash FROM allegations",
        ))
        .await
        .unwrap()
        .unwrap();
    let stored: String = row.try_get_by_index(0).unwrap();
    assert_eq!(stored.len(), 64);
    assert!(!stored.contains(&receipt.replace('-', "")));
    db.close().await.unwrap();
    app.stop().await;
}
