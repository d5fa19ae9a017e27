//! Every method of every service, called with no token and with each role, answers as its
//! service's access table says; and `docs/ACCESS.md` shows those same tables.

use std::str::FromStr;

use docket_e2e::{Backend, TestApp, channel};
use docket_platform::auth::{Access, AccessTables, Role};
use prost::Message;
use tonic::Code;
use tonic_reflection::pb::v1::ServerReflectionRequest;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

/// Each host: its name, its address, and the tables it enforces.
fn hosts(app: &TestApp) -> [(&'static str, std::net::SocketAddr, &'static AccessTables); 3] {
    [
        ("intake", app.intake_addr, docket_intake::ACCESS),
        (
            "case management",
            app.case_management_addr,
            docket_case_management::ACCESS,
        ),
        ("reporting", app.reporting_addr, docket_reporting::ACCESS),
    ]
}

/// The Docket services a host says, through reflection, that it serves.
async fn served_services(addr: std::net::SocketAddr) -> Vec<String> {
    let mut reflection = ServerReflectionClient::new(channel(addr).await);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut answers = reflection
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let answer = answers.message().await.unwrap().unwrap();
    let Some(MessageResponse::ListServicesResponse(list)) = answer.message_response else {
        panic!("reflection did not list services")
    };
    list.service
        .into_iter()
        .map(|s| s.name)
        .filter(|name| name.starts_with("docket."))
        .collect()
}

/// The methods of `service` in the contract.
fn methods(service: &str) -> Vec<String> {
    let set = prost_types::FileDescriptorSet::decode(docket_proto::FILE_DESCRIPTOR_SET).unwrap();
    set.file
        .iter()
        .flat_map(|file| {
            file.service
                .iter()
                .filter(move |s| format!("{}.{}", file.package(), s.name()) == service)
        })
        .flat_map(|s| s.method.iter().map(|m| m.name().to_owned()))
        .collect()
}

/// Calls `/service/method` with an empty message (valid protobuf for any request) and `token`.
async fn call(addr: std::net::SocketAddr, path: &str, token: Option<&str>) -> Code {
    let mut grpc = tonic::client::Grpc::new(channel(addr).await);
    grpc.ready().await.unwrap();
    let mut request = tonic::Request::new(());
    if let Some(token) = token {
        request
            .metadata_mut()
            .insert("authorization", format!("Bearer {token}").parse().unwrap());
    }
    let codec = tonic_prost::ProstCodec::<(), ()>::default();
    let path = http::uri::PathAndQuery::from_str(path).unwrap();
    match grpc.unary(request, path, codec).await {
        Ok(_) => Code::Ok,
        Err(status) => status.code(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_method_answers_each_role_as_its_table_says() {
    let app = TestApp::spawn(Backend::Sqlite).await.unwrap();
    let tokens: Vec<(Role, String)> = Role::ALL
        .into_iter()
        .map(|role| (role, app.token(role, &format!("walker.{role}"))))
        .collect();
    let mut checked = 0;
    for (host, addr, tables) in hosts(&app) {
        let served = served_services(addr).await;
        assert!(!served.is_empty(), "{host} serves no Docket service");
        for service in served {
            let table = tables
                .iter()
                .find(|(name, _)| *name == service)
                .unwrap_or_else(|| panic!("{host} serves {service} but has no access table for it"))
                .1;
            for method in methods(&service) {
                let access = table
                    .iter()
                    .find(|(name, _)| *name == method)
                    .unwrap_or_else(|| panic!("{service}/{method} has no row in its access table"))
                    .1;
                let path = format!("/{service}/{method}");
                let anonymous = call(addr, &path, None).await;
                match access {
                    Access::Public => assert_ne!(anonymous, Code::Unauthenticated, "{path}"),
                    Access::Roles(_) => assert_eq!(anonymous, Code::Unauthenticated, "{path}"),
                }
                for (role, token) in &tokens {
                    let code = call(addr, &path, Some(token)).await;
                    let allowed = match access {
                        Access::Public => true,
                        Access::Roles(roles) => roles.contains(role),
                    };
                    if allowed {
                        assert!(
                            !matches!(code, Code::PermissionDenied | Code::Unauthenticated),
                            "{role} may call {path} but got {code:?}"
                        );
                    } else {
                        assert_eq!(code, Code::PermissionDenied, "{role} may not call {path}");
                    }
                    checked += 1;
                }
            }
        }
    }
    assert!(checked >= 8 * 10, "walked only {checked} calls");
    app.stop().await;
}

/// The access tables as `docs/ACCESS.md` shows them.
fn render() -> String {
    let mut out = String::new();
    for (host, tables) in [
        ("intake", docket_intake::ACCESS),
        ("case management", docket_case_management::ACCESS),
        ("reporting", docket_reporting::ACCESS),
    ] {
        out.push_str(&format!(
            "\n### {host}\n\n| method | who may call |\n|---|---|\n"
        ));
        for (service, table) in tables {
            for (method, access) in *table {
                let who = match access {
                    Access::Public => "anyone, without a token".to_owned(),
                    Access::Roles(roles) => roles
                        .iter()
                        .map(|r| format!("`{r}`"))
                        .collect::<Vec<_>>()
                        .join(", "),
                };
                out.push_str(&format!("| `{service}/{method}` | {who} |\n"));
            }
        }
    }
    out
}

#[test]
fn the_access_document_shows_the_tables_the_services_enforce() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/ACCESS.md");
    let document = std::fs::read_to_string(path).unwrap();
    let begin = "<!-- tables: begin (regenerate: DOCKET_UPDATE_DOCS=1 cargo test -p docket-e2e the_access_document) -->";
    let end = "<!-- tables: end -->";
    let start = document
        .find(begin)
        .expect("docs/ACCESS.md marks its tables")
        + begin.len();
    let stop = document
        .find(end)
        .expect("docs/ACCESS.md marks the end of its tables");
    let expected = render();
    if std::env::var_os("DOCKET_UPDATE_DOCS").is_some() {
        let updated = format!(
            "{}\n{}\n{}",
            &document[..start],
            expected.trim(),
            &document[stop..]
        );
        std::fs::write(path, updated).unwrap();
        return;
    }
    assert_eq!(
        document[start..stop].trim(),
        expected.trim(),
        "docs/ACCESS.md is out of date: run this test with DOCKET_UPDATE_DOCS=1, or between \
         the markers write:\n{expected}"
    );
}
