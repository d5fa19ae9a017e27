//! Every gRPC method a Docket host can serve, read once from the compiled-in descriptor sets:
//! the stream layers need to know a method's shape, and the metrics label only methods that
//! exist (a path a caller made up must not become a series of its own).

use std::collections::HashMap;
use std::sync::LazyLock;

use prost::Message as _;

/// Whether a method's requests and answers are streams.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct Shape {
    pub(super) client_streaming: bool,
    pub(super) server_streaming: bool,
}

/// A method served by some Docket host.
#[derive(Debug)]
pub(super) struct Method {
    /// `/package.Service/Method`, as in the request's path.
    pub(super) path: String,
    pub(super) shape: Shape,
}

/// The method at `path` (`/package.Service/Method`), if any Docket host serves one there.
pub(super) fn method(path: &str) -> Option<&'static Method> {
    static METHODS: LazyLock<HashMap<String, Method>> = LazyLock::new(|| {
        [
            docket_proto::FILE_DESCRIPTOR_SET,
            tonic_health::pb::FILE_DESCRIPTOR_SET,
            tonic_reflection::pb::v1::FILE_DESCRIPTOR_SET,
            tonic_reflection::pb::v1alpha::FILE_DESCRIPTOR_SET,
        ]
        .into_iter()
        .flat_map(methods)
        .map(|method| (method.path.clone(), method))
        .collect()
    });
    METHODS.get(path)
}

/// The shape of the method at `path`; unary when unknown.
pub(super) fn shape_of(path: &str) -> Shape {
    method(path).map(|method| method.shape).unwrap_or_default()
}

/// Every method of the descriptor set `encoded`.
fn methods(encoded: &[u8]) -> Vec<Method> {
    let Ok(set) = prost_types::FileDescriptorSet::decode(encoded) else {
        // Compiled-in descriptor sets decode, or reflection would have failed at start-up.
        tracing::error!("a descriptor set does not decode: its methods are unknown");
        return Vec::new();
    };
    let mut found = Vec::new();
    for file in set.file {
        let package = file.package();
        for service in &file.service {
            let service_name = match package {
                "" => service.name().to_owned(),
                package => format!("{package}.{}", service.name()),
            };
            for method in &service.method {
                found.push(Method {
                    path: format!("/{service_name}/{}", method.name()),
                    shape: Shape {
                        client_streaming: method.client_streaming(),
                        server_streaming: method.server_streaming(),
                    },
                });
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streaming_methods_are_known_from_the_descriptor_sets() {
        let upload = shape_of("/docket.intake.v1.IntakeService/UploadEvidence");
        assert!(upload.client_streaming && !upload.server_streaming);
        let download = shape_of("/docket.intake.v1.IntakeService/DownloadEvidence");
        assert!(!download.client_streaming && download.server_streaming);
        let reflection = shape_of("/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo");
        assert!(reflection.client_streaming && reflection.server_streaming);
        assert!(shape_of("/grpc.health.v1.Health/Watch").server_streaming);
        assert_eq!(
            shape_of("/docket.intake.v1.IntakeService/SubmitAllegation"),
            Shape::default()
        );
        assert_eq!(shape_of("/no.such.Service/Method"), Shape::default());
    }

    #[test]
    fn only_served_paths_are_methods() {
        assert!(method("/docket.audit.v1.AuditService/VerifyAuditChain").is_some());
        assert!(method("/docket.audit.v1.AuditService/Nope").is_none());
        assert!(method("/").is_none());
    }
}
