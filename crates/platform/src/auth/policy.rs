//! The per-service tables of which roles may call which method. Default: deny.

use std::collections::HashMap;

use super::Role;

/// Who may call a method.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, with no token.
    Public,
    /// Holders of a valid token with one of these roles.
    Roles(&'static [Role]),
}

/// One row of a service's access table: a method (its name without the service) and who may
/// call it.
pub type MethodAccess = (&'static str, Access);

/// Every method a host serves, by full path, with who may call it.
#[derive(Debug, Clone, Default)]
pub struct AccessPolicy {
    methods: HashMap<String, Access>,
}

/// Paths every host serves to anyone: probes and tools must work without a token.
const INFRASTRUCTURE: [&str; 3] = [
    "/grpc.health.v1.Health/",
    "/grpc.reflection.v1.ServerReflection/",
    "/grpc.reflection.v1alpha.ServerReflection/",
];

/// A host's access tables: each service it serves, by full name, with its table.
pub type AccessTables = [(&'static str, &'static [MethodAccess])];

impl AccessPolicy {
    /// The policy of a host serving the services of `tables`.
    pub fn from_tables(tables: &AccessTables) -> Self {
        tables
            .iter()
            .fold(Self::default(), |policy, (service, table)| {
                policy.with_service(service, table)
            })
    }

    /// Adds the table of `service` (its full name, such as `docket.intake.v1.IntakeService`).
    pub fn with_service(mut self, service: &str, table: &[MethodAccess]) -> Self {
        for (method, access) in table {
            self.methods.insert(format!("/{service}/{method}"), *access);
        }
        self
    }

    /// Who may call `path`; `None` for a method no table names, which nobody may call.
    pub fn access(&self, path: &str) -> Option<Access> {
        if INFRASTRUCTURE.iter().any(|prefix| path.starts_with(prefix)) {
            return Some(Access::Public);
        }
        self.methods.get(path).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_not_in_a_table_are_denied_and_probes_are_public() {
        let policy = AccessPolicy::default().with_service(
            "docket.x.v1.XService",
            &[("Read", Access::Roles(&[Role::Analyst]))],
        );
        assert_eq!(
            policy.access("/docket.x.v1.XService/Read"),
            Some(Access::Roles(&[Role::Analyst]))
        );
        assert_eq!(policy.access("/docket.x.v1.XService/Write"), None);
        assert_eq!(
            policy.access("/grpc.health.v1.Health/Check"),
            Some(Access::Public)
        );
    }
}
