//! Content Credentials: a JPEG signed with C2PA by a test CA's signer is read after its upload
//! and shown valid with its signer, claim generator and actions (trusted once the CA is a
//! configured anchor); the same picture with one byte flipped after signing reads invalid with
//! `assertion.dataHash.mismatch`; a plain picture reads "no manifest".
//!
//! Pictures and certificates are made here: a gradient encoded by `image`, a CA and a signing
//! certificate (emailProtection) by rcgen, the manifest by the C2PA project's own builder.

use std::io::Cursor;
use std::time::{Duration, Instant};

use docket_e2e::{Backend, IntakeClient, TestApp, on_every_backend};
use docket_platform::auth::Role;
use docket_proto::docket::intake::v1 as pb;
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

use crate::evidence::{metadata, new_allegation, upload};

on_every_backend!(
    signed_pictures_read_valid_tampered_ones_invalid_and_plain_ones_without_a_manifest,
    a_signer_under_a_configured_anchor_reads_trusted,
);

const SIGNER: &str = "Field Camera 7";
const GENERATOR: &str = "Docket test camera";

/// A test CA and a signing certificate it issued.
struct Signer {
    ca_pem: String,
    chain_pem: String,
    key_pem: String,
}

fn signer() -> Signer {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(DnType::CommonName, "Docket Test C2PA CA");
    params
        .distinguished_name
        .push(DnType::OrganizationName, "Docket Tests");
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();

    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(DnType::CommonName, SIGNER);
    params
        .distinguished_name
        .push(DnType::OrganizationName, "Docket Tests");
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::EmailProtection];
    params.use_authority_key_identifier_extension = true;
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, &ca).unwrap();
    Signer {
        ca_pem: ca.pem(),
        chain_pem: format!("{}{}", cert.pem(), ca.pem()),
        key_pem: key.serialize_pem(),
    }
}

/// A plain JPEG: a gradient, different for each `seed`.
fn picture(seed: u8) -> Vec<u8> {
    let image = image::RgbImage::from_fn(96, 64, |x, y| {
        image::Rgb([
            (x * 2) as u8 ^ seed,
            (y * 3) as u8,
            ((x + y) as u8).wrapping_add(seed),
        ])
    });
    let mut bytes = Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(image)
        .write_to(&mut bytes, image::ImageFormat::Jpeg)
        .unwrap();
    bytes.into_inner()
}

/// `jpeg` with a C2PA manifest signed by `signer`, declaring it created by a camera.
fn signed(jpeg: &[u8], signer: &Signer) -> Vec<u8> {
    let manifest = serde_json::json!({
        "claim_generator_info": [{"name": GENERATOR, "version": "1.0"}],
        "title": "checkpoint.jpg",
        "assertions": [{
            "label": "c2pa.actions",
            "data": {"actions": [{
                "action": "c2pa.created",
                "digitalSourceType":
                    "http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture",
            }]}
        }]
    });
    let mut builder = c2pa::Builder::from_context(c2pa::Context::new())
        .with_definition(manifest.to_string().as_str())
        .unwrap();
    let signer = c2pa::create_signer::from_keys(
        signer.chain_pem.as_bytes(),
        signer.key_pem.as_bytes(),
        c2pa::SigningAlg::Es256,
        None,
    )
    .unwrap();
    let mut source = Cursor::new(jpeg.to_vec());
    let mut dest = Cursor::new(Vec::new());
    builder
        .sign(signer.as_ref(), "image/jpeg", &mut source, &mut dest)
        .unwrap();
    dest.into_inner()
}

/// `jpeg` with one byte of its picture data flipped (near the end, away from any marker).
fn tampered(jpeg: &[u8]) -> Vec<u8> {
    let mut bytes = jpeg.to_vec();
    let at = (2..bytes.len() - 4)
        .rev()
        .find(|&i| bytes[i] != 0xFF && bytes[i] ^ 0x01 != 0xFF && bytes[i - 1] != 0xFF)
        .unwrap();
    bytes[at] ^= 0x01;
    bytes
}

async fn upload_picture(app: &TestApp, name: &str, bytes: &[u8]) -> String {
    let allegation_id = new_allegation(&mut app.intake().await).await;
    let mut meta = metadata(&allegation_id, "");
    meta.file_name = name.into();
    meta.media_type = "image/jpeg".into();
    let answer = upload(&mut app.intake().await, meta, bytes, 4096)
        .await
        .unwrap();
    answer.evidence.unwrap().id
}

/// Asks `GetEvidence` until evidence `id`'s Content Credentials are read.
async fn credentials_of(intake: &mut IntakeClient, id: &str) -> pb::ContentCredentials {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let evidence = intake
            .get_evidence(pb::GetEvidenceRequest {
                evidence_id: id.into(),
            })
            .await
            .unwrap()
            .into_inner()
            .evidence
            .unwrap();
        let credentials = evidence.content_credentials.unwrap();
        if credentials.state() != pb::ContentCredentialsState::Pending {
            return credentials;
        }
        assert!(
            Instant::now() < deadline,
            "the Content Credentials of {id} are still not read"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn signed_pictures_read_valid_tampered_ones_invalid_and_plain_ones_without_a_manifest(
    backend: Backend,
) {
    let Some(app) = TestApp::spawn(backend).await else {
        return;
    };
    let signer = signer();
    let good = signed(&picture(1), &signer);
    let bad = tampered(&signed(&picture(2), &signer));
    let plain = picture(3);
    let good_id = upload_picture(&app, "checkpoint.jpg", &good).await;
    let bad_id = upload_picture(&app, "checkpoint-copy.jpg", &bad).await;
    let plain_id = upload_picture(&app, "street.jpg", &plain).await;
    let mut intake = app.intake_as(Role::Analyst).await;

    let read = credentials_of(&mut intake, &good_id).await;
    assert_eq!(read.state(), pb::ContentCredentialsState::Valid, "{read:?}");
    assert!(read.failures.is_empty(), "{read:?}");
    assert!(
        read.signer_subject.contains(&format!("CN={SIGNER}")),
        "{}",
        read.signer_subject
    );
    assert!(
        read.signer_issuer.contains("CN=Docket Test C2PA CA"),
        "{}",
        read.signer_issuer
    );
    assert!(
        read.claim_generator.contains(GENERATOR),
        "{}",
        read.claim_generator
    );
    assert!(
        read.manifest_label.starts_with("urn:"),
        "{}",
        read.manifest_label
    );
    assert!(
        read.actions
            .iter()
            .any(|action| action.action == "c2pa.created"
                && action.digital_source_type.ends_with("digitalCapture")),
        "{:?}",
        read.actions
    );
    assert!(read.read_time.is_some());

    let read = credentials_of(&mut intake, &bad_id).await;
    assert_eq!(
        read.state(),
        pb::ContentCredentialsState::Invalid,
        "{read:?}"
    );
    assert!(
        read.failures
            .iter()
            .any(|failure| failure.code == "assertion.dataHash.mismatch"),
        "{:?}",
        read.failures
    );
    // What the manifest claims is still shown, beside the verdict that it does not hold.
    assert!(
        read.signer_subject.contains(SIGNER),
        "{}",
        read.signer_subject
    );

    let read = credentials_of(&mut intake, &plain_id).await;
    assert_eq!(
        read.state(),
        pb::ContentCredentialsState::NoManifest,
        "{read:?}"
    );
    assert!(read.signer_subject.is_empty());
    assert!(read.actions.is_empty());

    // Lists show them too.
    let listed = intake
        .list_evidence(pb::ListEvidenceRequest {
            sha256: hex_sha256(&good),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner()
        .evidence;
    assert_eq!(listed.len(), 1);
    assert_eq!(
        listed[0].content_credentials.as_ref().unwrap().state(),
        pb::ContentCredentialsState::Valid
    );
}

async fn a_signer_under_a_configured_anchor_reads_trusted(backend: Backend) {
    let signer = signer();
    let dir = tempfile::tempdir().unwrap();
    let anchors = dir.path().join("anchors.pem");
    std::fs::write(&anchors, &signer.ca_pem).unwrap();
    let Some(app) = TestApp::spawn_with(backend, |settings| {
        settings.intake.content_credentials.trust_anchors_file = Some(anchors.clone());
    })
    .await
    else {
        return;
    };
    let good = signed(&picture(4), &signer);
    let id = upload_picture(&app, "checkpoint.jpg", &good).await;
    let read = credentials_of(&mut app.intake_as(Role::Analyst).await, &id).await;
    assert_eq!(
        read.state(),
        pb::ContentCredentialsState::Trusted,
        "{read:?}"
    );
    assert!(
        read.signer_subject.contains(SIGNER),
        "{}",
        read.signer_subject
    );
}

fn hex_sha256(bytes: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(bytes))
}
