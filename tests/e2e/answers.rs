//! Error answers clients can read and believe: a long list of bad fields is cut to what clients
//! accept and says how many more there are; a request that is not well-formed protobuf is the
//! caller's fault; a token's subject and a client's request id must be usable before they
//! enter logs and the audit chain.

use docket_e2e::{Backend, Bearer, TestApp, allegation, channel, on_every_backend, submit_request};
use docket_platform::auth::{Claims, Role};
use docket_proto::docket::audit::v1 as audit;
use docket_proto::docket::common::v1 as common;
use docket_proto::docket::intake::v1 as pb;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode, get_current_timestamp};
use prost::bytes::{Buf, BufMut};
use tonic::Code;
use tonic_types::StatusExt;

on_every_backend!(
    three_hundred_bad_fields_are_listed_up_to_fifty_and_counted,
    a_request_that_is_not_protobuf_is_invalid_argument,
    a_token_whose_subject_names_no_one_is_unauthenticated,
    an_unusable_request_id_is_replaced_before_it_is_logged_or_audited,
);

async fn three_hundred_bad_fields_are_listed_up_to_fifty_and_counted(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut sent = allegation();
    sent.source_urls = (0..100).map(|n| format!("not a url {n}")).collect();
    sent.victims = vec![common::VictimGroup::default(); 100];
    let status = app
        .intake()
        .await
        .submit_allegation(submit_request(sent))
        .await
        .expect_err("refused");
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let listed = status
        .get_details_bad_request()
        .expect("the list of bad fields")
        .field_violations;
    assert_eq!(
        listed.len(),
        51,
        "fifty listed, and one saying how many more"
    );
    assert_eq!(listed[0].field, "allegation.victims[0].count");
    let more = &listed[50];
    assert_eq!(more.field, "…");
    let left_out: usize = more
        .description
        .split_whitespace()
        .find_map(|word| word.parse().ok())
        .expect("a count");
    assert!(left_out >= 250, "{}", more.description);
    assert!(
        status.message().starts_with(&format!(
            "invalid request: {} fields are invalid",
            left_out + 50
        )),
        "{}",
        status.message()
    );
    app.stop().await;
}

/// A message of whatever bytes a test chooses: protobuf or not.
#[derive(Debug, Clone, Default, PartialEq)]
struct Raw(Vec<u8>);

impl prost::Message for Raw {
    fn encode_raw(&self, buf: &mut impl BufMut) {
        buf.put_slice(&self.0);
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: prost::encoding::WireType,
        buf: &mut impl Buf,
        ctx: prost::encoding::DecodeContext,
    ) -> Result<(), prost::DecodeError> {
        prost::encoding::skip_field(wire_type, tag, buf, ctx)
    }

    fn encoded_len(&self) -> usize {
        self.0.len()
    }

    fn clear(&mut self) {
        self.0.clear();
    }
}

/// Calls `method` of intake with `bytes` as the request message, bearing `token` if any.
async fn call_raw(app: &TestApp, method: &str, bytes: &[u8], token: Option<&str>) -> tonic::Status {
    let mut grpc = tonic::client::Grpc::new(channel(app.intake_addr).await);
    grpc.ready().await.unwrap();
    let mut request = tonic::Request::new(Raw(bytes.to_vec()));
    if let Some(token) = token {
        request
            .metadata_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
    }
    let path = format!("/docket.intake.v1.IntakeService/{method}");
    let codec = tonic_prost::ProstCodec::<Raw, Raw>::default();
    grpc.unary(request, path.parse().unwrap(), codec)
        .await
        .expect_err("a malformed request is refused")
}

async fn a_request_that_is_not_protobuf_is_invalid_argument(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let officer = app.token(Role::IntakeOfficer, "officer.aliyev");
    let cases: [(&str, &str, &[u8], Option<&str>); 4] = [
        // Field 1 (`receipt`, a string) holding bytes that are not UTF-8.
        (
            "a receipt not in UTF-8",
            "CheckAllegationStatus",
            &[0x0a, 0x02, 0xff, 0xfe],
            None,
        ),
        (
            "an id not in UTF-8",
            "GetAllegation",
            &[0x0a, 0x02, 0xc3, 0x28],
            Some(&officer),
        ),
        // Field 2 (`allegation`) whose field 3 says 16 bytes follow and one does.
        (
            "a message cut short",
            "SubmitAllegation",
            &[0x12, 0x03, 0x1a, 0x10, 0x41],
            Some(&officer),
        ),
        // A varint that never ends.
        (
            "a broken varint",
            "ListAllegations",
            &[0x08, 0xff, 0xff],
            Some(&officer),
        ),
    ];
    for (case, method, bytes, token) in cases {
        let status = call_raw(&app, method, bytes, token).await;
        assert_eq!(status.code(), Code::InvalidArgument, "{case}: {status:?}");
        assert!(
            status
                .message()
                .contains("not a well-formed protobuf message"),
            "{case}: {}",
            status.message()
        );
    }
    // Refused before anything was written.
    let listed = app
        .intake()
        .await
        .list_allegations(pb::ListAllegationsRequest::default())
        .await
        .unwrap()
        .into_inner()
        .allegations;
    assert!(listed.is_empty());
    app.stop().await;
}

async fn a_token_whose_subject_names_no_one_is_unauthenticated(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let secret = std::fs::read(app.settings.data_dir.join("auth-hs256.secret")).unwrap();
    let token = |sub: &str| {
        let now = get_current_timestamp();
        let claims = Claims {
            sub: sub.into(),
            role: Role::IntakeOfficer.as_str().into(),
            iss: "docket".into(),
            aud: "docket".into(),
            iat: now,
            nbf: now,
            exp: now + 600,
        };
        encode(
            &Header::new(Algorithm::HS256),
            &claims,
            &EncodingKey::from_secret(&secret),
        )
        .unwrap()
    };
    let list = |sub: String| {
        let bearer = Bearer::token(&token(&sub));
        let app = &app;
        async move {
            app.intake_with(bearer)
                .await
                .list_allegations(pb::ListAllegationsRequest::default())
                .await
                .map(|_| ())
        }
    };
    list("officer.aliyev".into())
        .await
        .expect("a usable subject");
    for (case, sub) in [
        ("empty", String::new()),
        ("blank", "   ".into()),
        ("with a line break", "officer\nforged audit line".into()),
        ("with a control character", "officer\u{7}".into()),
        ("reversed by a bidi override", "admin\u{202E}verof".into()),
        ("absurdly long", "o".repeat(10_000)),
    ] {
        let status = list(sub).await.expect_err(case);
        assert_eq!(status.code(), Code::Unauthenticated, "{case}");
    }
    app.stop().await;
}

async fn an_unusable_request_id_is_replaced_before_it_is_logged_or_audited(backend: Backend) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let mut intake = app.intake().await;
    let long = "x".repeat(4_000);
    let mut echoed = Vec::new();
    for given in [
        "job-42.retry_3",
        long.as_str(),
        "id with spaces",
        "forged\tfield",
    ] {
        let mut request = tonic::Request::new(submit_request(allegation()));
        request
            .metadata_mut()
            .insert("x-request-id", given.parse().unwrap());
        let answer = intake.submit_allegation(request).await.unwrap();
        let id = answer
            .metadata()
            .get("x-request-id")
            .expect("the request id is echoed")
            .to_str()
            .unwrap()
            .to_owned();
        echoed.push(id);
    }
    assert_eq!(echoed[0], "job-42.retry_3", "a short safe id is kept");
    for id in &echoed[1..] {
        assert!(
            uuid::Uuid::parse_str(id).is_ok(),
            "replaced by a new one: {id:?}"
        );
    }
    let audited: Vec<String> = app
        .audit_as(app.intake_addr, Role::Supervisor)
        .await
        .list_audit_entries(audit::ListAuditEntriesRequest::default())
        .await
        .unwrap()
        .into_inner()
        .entries
        .into_iter()
        .map(|entry| entry.request_id)
        .collect();
    assert_eq!(
        audited, echoed,
        "the audit chain holds the ids the client was given"
    );
    app.stop().await;
}
