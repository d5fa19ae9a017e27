//! Bearer tokens: every way a token can be wrong is `UNAUTHENTICATED`, and says nothing more.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use docket_e2e::{Backend, Bearer, TestApp};
use docket_platform::Mode;
use docket_platform::auth::{Claims, Role};
use docket_proto::docket::intake::v1 as pb;
use jsonwebtoken::{Algorithm, EncodingKey, Header, encode, get_current_timestamp};
use tonic::Code;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/keys");

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{name}")).unwrap()
}

/// Claims that are right in every respect, for `role`.
fn claims(role: Role) -> Claims {
    let now = get_current_timestamp();
    Claims {
        sub: "tester".into(),
        role: role.as_str().into(),
        iss: "docket".into(),
        aud: "docket".into(),
        iat: now,
        nbf: now,
        exp: now + 600,
    }
}

fn hs256(claims: &Claims, secret: &[u8]) -> String {
    encode(
        &Header::new(Algorithm::HS256),
        claims,
        &EncodingKey::from_secret(secret),
    )
    .unwrap()
}

/// What listing allegations answers with `bearer`.
async fn list_with(app: &TestApp, bearer: Bearer) -> Result<(), tonic::Status> {
    let mut intake = app.intake_with(bearer).await;
    intake
        .list_allegations(pb::ListAllegationsRequest::default())
        .await
        .map(|_| ())
}

async fn assert_refused(app: &TestApp, case: &str, bearer: Bearer) {
    let status = list_with(app, bearer).await.expect_err(case);
    assert_eq!(status.code(), Code::Unauthenticated, "{case}");
    assert_eq!(
        status.message(),
        "a valid bearer token is required",
        "{case}: says nothing more"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_bad_token_is_unauthenticated() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let secret = std::fs::read(app.settings.data_dir.join("auth-hs256.secret")).unwrap();
    let good = claims(Role::IntakeOfficer);
    list_with(&app, Bearer::token(&hs256(&good, &secret)))
        .await
        .expect("a good token passes");

    assert_refused(&app, "no token", Bearer::none()).await;
    assert_refused(
        &app,
        "not a bearer",
        Bearer::header("Basic b2ZmaWNlcjpwdw=="),
    )
    .await;
    assert_refused(&app, "an empty bearer", Bearer::header("Bearer ")).await;
    assert_refused(&app, "garbage", Bearer::token("not.a.jwt")).await;
    let expired = Claims {
        exp: get_current_timestamp() - 3_600,
        nbf: get_current_timestamp() - 7_200,
        ..good.clone()
    };
    assert_refused(&app, "expired", Bearer::token(&hs256(&expired, &secret))).await;
    let early = Claims {
        nbf: get_current_timestamp() + 3_600,
        ..good.clone()
    };
    assert_refused(
        &app,
        "not yet valid",
        Bearer::token(&hs256(&early, &secret)),
    )
    .await;
    let foreign_issuer = Claims {
        iss: "someone-else".into(),
        ..good.clone()
    };
    assert_refused(
        &app,
        "wrong issuer",
        Bearer::token(&hs256(&foreign_issuer, &secret)),
    )
    .await;
    let foreign_audience = Claims {
        aud: "another-system".into(),
        ..good.clone()
    };
    assert_refused(
        &app,
        "wrong audience",
        Bearer::token(&hs256(&foreign_audience, &secret)),
    )
    .await;
    let unknown_role = Claims {
        role: "admin".into(),
        ..good.clone()
    };
    assert_refused(
        &app,
        "unknown role",
        Bearer::token(&hs256(&unknown_role, &secret)),
    )
    .await;
    let forged = hs256(
        &good,
        b"a secret that is not the deployment's secret at all",
    );
    assert_refused(&app, "forged signature", Bearer::token(&forged)).await;

    // `alg: none`: a token with no signature at all.
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&good).unwrap());
    assert_refused(
        &app,
        "alg none",
        Bearer::token(&format!("{header}.{payload}.")),
    )
    .await;
    // A good signature pasted onto altered claims.
    let signed = hs256(&good, &secret);
    let signature = signed.rsplit('.').next().unwrap();
    let promoted = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&claims(Role::Supervisor)).unwrap());
    let header = signed.split('.').next().unwrap();
    assert_refused(
        &app,
        "altered claims",
        Bearer::token(&format!("{header}.{promoted}.{signature}")),
    )
    .await;
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn production_accepts_eddsa_and_rs256_from_its_keys_and_nothing_else() {
    let keys = tempfile::tempdir().unwrap();
    let public_keys = keys.path().join("public-keys.pem");
    let mut pem = fixture("ed25519-public.pem");
    pem.extend(fixture("rsa-public.pem"));
    std::fs::write(&public_keys, &pem).unwrap();
    // Intake's own token for its calls to case management (its content is not used here).
    let service_token = keys.path().join("intake-service.token");
    std::fs::write(&service_token, "not-used-in-this-test").unwrap();
    let configure = |settings: &mut docket_platform::Settings| {
        settings.mode = Mode::Production;
        settings.auth.public_keys_file = Some(public_keys.clone());
        settings.sealing.current_key_id = Some("k1".into());
        settings.sealing.keys.insert("k1".into(), "ab".repeat(32));
        settings.intake.receipt_key = Some("a receipt key of at least thirty-two bytes".into());
        settings.auth.service_token_file = Some(service_token.clone());
        // Production also needs the office's release signing key (64 hex characters).
        settings.reporting.release.signing_key = Some("cd".repeat(32));
    };
    let app = TestApp::spawn_with(Backend::Sqlite, configure)
        .await
        .unwrap();
    let good = claims(Role::Analyst);

    let eddsa = encode(
        &Header::new(Algorithm::EdDSA),
        &good,
        &EncodingKey::from_ed_pem(&fixture("ed25519-private.pem")).unwrap(),
    )
    .unwrap();
    list_with(&app, Bearer::token(&eddsa))
        .await
        .expect("EdDSA from a configured key");
    let rs256 = encode(
        &Header::new(Algorithm::RS256),
        &good,
        &EncodingKey::from_rsa_pem(&fixture("rsa-private.pem")).unwrap(),
    )
    .unwrap();
    list_with(&app, Bearer::token(&rs256))
        .await
        .expect("RS256 from a configured key");

    // Algorithm confusion: HS256 "signed" with the public key as the secret.
    let confused = hs256(&good, &fixture("rsa-public.pem"));
    assert_refused(
        &app,
        "HS256 with the public key as secret",
        Bearer::token(&confused),
    )
    .await;
    let confused = hs256(&good, &fixture("ed25519-public.pem"));
    assert_refused(
        &app,
        "HS256 with the Ed25519 key as secret",
        Bearer::token(&confused),
    )
    .await;
    // A key pair that is not configured.
    let other = jsonwebtoken::EncodingKey::from_secret(b"x");
    let stranger = encode(&Header::new(Algorithm::HS256), &good, &other).unwrap();
    assert_refused(&app, "an unknown key", Bearer::token(&stranger)).await;
    // The algorithm of one key with the other key's signature.
    let mut swapped_header = Header::new(Algorithm::RS256);
    swapped_header.typ = Some("JWT".into());
    let rs_header = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&swapped_header).unwrap());
    let rest = eddsa.split_once('.').unwrap().1;
    assert_refused(
        &app,
        "RS256 header on an EdDSA signature",
        Bearer::token(&format!("{rs_header}.{rest}")),
    )
    .await;
    app.stop().await;
}
