//! TLS and mutual TLS on every listener and between the services, with certificates made here.

use docket_e2e::{Backend, Bearer, TestApp, accept_new, cases_of};
use docket_platform::auth::Role;
use docket_proto::docket::cases::v1::case_service_client::CaseServiceClient;
use docket_proto::docket::intake::v1::intake_service_client::IntakeServiceClient;
use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, IsCa, KeyPair};
use tonic::Code;
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Identity};
use tonic_health::ServingStatus;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_client::HealthClient;

/// A certificate authority and what it signed, as PEM files in a directory.
struct Pki {
    dir: tempfile::TempDir,
}

fn ca(name: &str) -> CertifiedIssuer<'static, KeyPair> {
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, name);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap()
}

fn leaf(issuer: &CertifiedIssuer<'static, KeyPair>, names: &[&str]) -> (String, String) {
    let names: Vec<String> = names.iter().map(|n| (*n).to_owned()).collect();
    let params = CertificateParams::new(names).unwrap();
    let key = KeyPair::generate().unwrap();
    let cert = params.signed_by(&key, issuer).unwrap();
    (cert.pem(), key.serialize_pem())
}

impl Pki {
    fn new() -> Self {
        docket_platform::grpc::tls::install_crypto_provider();
        let dir = tempfile::tempdir().unwrap();
        let office = ca("Docket test CA");
        let stranger = ca("Someone else's CA");
        let write = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        write("ca.pem", &office.pem());
        let (cert, key) = leaf(&office, &["localhost", "127.0.0.1"]);
        write("server.pem", &cert);
        write("server.key", &key);
        let (cert, key) = leaf(&office, &["operator.one"]);
        write("client.pem", &cert);
        write("client.key", &key);
        let (cert, key) = leaf(&stranger, &["intruder"]);
        write("stranger.pem", &cert);
        write("stranger.key", &key);
        Self { dir }
    }

    fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().join(name)
    }

    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.path(name)).unwrap()
    }

    fn configure(&self, settings: &mut docket_platform::Settings, mutual: bool) {
        settings.tls.cert_file = Some(self.path("server.pem"));
        settings.tls.key_file = Some(self.path("server.key"));
        settings.tls.ca_file = Some(self.path("ca.pem"));
        if mutual {
            settings.tls.client_ca_file = Some(self.path("ca.pem"));
        }
    }

    /// A TLS channel to `addr` trusting the office CA, presenting `client` (a name of a
    /// certificate written above) when given.
    async fn channel(
        &self,
        addr: std::net::SocketAddr,
        client: Option<&str>,
    ) -> Result<Channel, tonic::transport::Error> {
        let mut tls = ClientTlsConfig::new()
            .ca_certificate(Certificate::from_pem(self.read("ca.pem")))
            .domain_name("localhost");
        if let Some(client) = client {
            tls = tls.identity(Identity::from_pem(
                self.read(&format!("{client}.pem")),
                self.read(&format!("{client}.key")),
            ));
        }
        Channel::from_shared(format!("https://{addr}"))
            .unwrap()
            .tls_config(tls)?
            .connect()
            .await
    }
}

async fn healthy(channel: Channel) -> bool {
    HealthClient::new(channel)
        .check(HealthCheckRequest::default())
        .await
        .is_ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_listener_speaks_tls_and_the_services_reach_each_other_over_it() {
    let pki = Pki::new();
    let app = TestApp::spawn_with(Backend::Sqlite, |s| pki.configure(s, false))
        .await
        .unwrap();
    for addr in [
        app.intake_addr,
        app.case_management_addr,
        app.reporting_addr,
    ] {
        assert!(
            healthy(pki.channel(addr, None).await.unwrap()).await,
            "{addr} over TLS"
        );
    }
    // Plaintext is refused.
    let plain = Channel::from_shared(format!("http://{}", app.intake_addr))
        .unwrap()
        .connect()
        .await;
    if let Ok(plain) = plain {
        assert!(!healthy(plain).await, "plaintext must not be answered");
    }

    // An accepted allegation reaches case management over TLS.
    let bearer = Bearer::token(&app.token(Role::IntakeOfficer, "officer.aliyev"));
    let mut intake = IntakeServiceClient::with_interceptor(
        pki.channel(app.intake_addr, None).await.unwrap(),
        bearer,
    );
    let id = accept_new(&mut intake).await;
    let bearer = Bearer::token(&app.token(Role::Investigator, "investigator"));
    let mut case_client = CaseServiceClient::with_interceptor(
        pki.channel(app.case_management_addr, None).await.unwrap(),
        bearer,
    );
    assert!(
        !cases_of(&mut case_client, &id).await.is_empty(),
        "the delivery over TLS never arrived"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_mutual_tls_only_clients_with_a_certificate_of_the_office_ca_are_answered() {
    let pki = Pki::new();
    let app = TestApp::spawn_with(Backend::Sqlite, |s| pki.configure(s, true))
        .await
        .unwrap();
    let addr = app.intake_addr;
    let without = pki.channel(addr, None).await;
    assert!(
        without.is_err() || !healthy(without.unwrap()).await,
        "no certificate, no answer"
    );
    let stranger = pki.channel(addr, Some("stranger")).await;
    assert!(
        stranger.is_err() || !healthy(stranger.unwrap()).await,
        "another CA's certificate is refused"
    );
    assert!(healthy(pki.channel(addr, Some("client")).await.unwrap()).await);

    // The services present their own certificates to each other.
    let bearer = Bearer::token(&app.token(Role::IntakeOfficer, "officer.aliyev"));
    let mut intake = IntakeServiceClient::with_interceptor(
        pki.channel(addr, Some("client")).await.unwrap(),
        bearer,
    );
    let id = accept_new(&mut intake).await;
    let bearer = Bearer::token(&app.token(Role::Investigator, "investigator"));
    let mut case_client = CaseServiceClient::with_interceptor(
        pki.channel(app.case_management_addr, Some("client"))
            .await
            .unwrap(),
        bearer,
    );
    assert!(
        !cases_of(&mut case_client, &id).await.is_empty(),
        "the delivery over mutual TLS never arrived"
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_health_listener_answers_plaintext_probes_and_nothing_else() {
    let pki = Pki::new();
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        pki.configure(s, true);
        let any_port = Some("127.0.0.1:0".parse().unwrap());
        s.intake.health_listen = any_port;
        s.case_management.health_listen = any_port;
        s.reporting.health_listen = any_port;
    })
    .await
    .unwrap();
    assert_eq!(
        app.health_addrs.len(),
        3,
        "each service has its health listener"
    );
    for &(kind, addr) in &app.health_addrs {
        // What the kubelet does: plaintext, no certificate, no token.
        let plain = docket_e2e::channel(addr).await;
        let status = HealthClient::new(plain.clone())
            .check(HealthCheckRequest::default())
            .await
            .unwrap_or_else(|e| panic!("{} health in plaintext: {e}", kind.name()))
            .into_inner()
            .status;
        assert_eq!(status, ServingStatus::Serving as i32, "{}", kind.name());
        // The API is not there, in plaintext or otherwise.
        let refused = IntakeServiceClient::new(plain)
            .check_allegation_status(
                docket_proto::docket::intake::v1::CheckAllegationStatusRequest::default(),
            )
            .await
            .expect_err("only health is served there");
        assert_eq!(refused.code(), Code::Unimplemented, "{}", kind.name());
    }
    // The main listeners still want a client certificate of the office CA.
    let without = pki.channel(app.intake_addr, None).await;
    assert!(without.is_err() || !healthy(without.unwrap()).await);

    let health_addrs = app.health_addrs.clone();
    app.stop().await;
    for (kind, addr) in health_addrs {
        assert!(
            tokio::net::TcpStream::connect(addr).await.is_err(),
            "{}'s health listener closes with the service",
            kind.name()
        );
    }
}
