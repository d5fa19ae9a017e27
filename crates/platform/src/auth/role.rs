//! The roles a token can carry.

use std::fmt;
use std::str::FromStr;

/// What a caller is to the office. A token carries exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    /// Registers what comes in and triages it.
    IntakeOfficer,
    /// Verifies evidence.
    Analyst,
    /// Builds cases.
    Investigator,
    /// Qualifies cases and charges suspects.
    Prosecutor,
    /// Oversees the work; may read the audit log.
    Supervisor,
    /// Reads the audit log, nothing else.
    Auditor,
    /// Publishes statistics; sees only what is safe to publish.
    PublicReporter,
    /// Another Docket service or a trusted system calling service to service.
    Service,
}

/// A role name that is not one of Docket's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?}; roles are {roles}", roles = Role::names())]
pub struct UnknownRole(pub String);

impl Role {
    pub const ALL: [Role; 8] = [
        Role::IntakeOfficer,
        Role::Analyst,
        Role::Investigator,
        Role::Prosecutor,
        Role::Supervisor,
        Role::Auditor,
        Role::PublicReporter,
        Role::Service,
    ];

    /// The name tokens carry in their `role` claim.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::IntakeOfficer => "intake_officer",
            Role::Analyst => "analyst",
            Role::Investigator => "investigator",
            Role::Prosecutor => "prosecutor",
            Role::Supervisor => "supervisor",
            Role::Auditor => "auditor",
            Role::PublicReporter => "public_reporter",
            Role::Service => "service",
        }
    }

    /// Whether this role may see sealed identities (of sources, later of witnesses) in clear.
    pub fn sees_sealed_identities(self) -> bool {
        matches!(
            self,
            Role::IntakeOfficer | Role::Investigator | Role::Prosecutor
        )
    }

    fn names() -> String {
        Role::ALL.map(Role::as_str).join(", ")
    }
}

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == name)
            .ok_or_else(|| UnknownRole(name.to_owned()))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_names_round_trip() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse(), Ok(role));
        }
        assert!("admin".parse::<Role>().is_err());
    }

    #[test]
    fn only_case_builders_and_intake_see_identities() {
        let seeing: Vec<Role> = Role::ALL
            .into_iter()
            .filter(|r| r.sees_sealed_identities())
            .collect();
        assert_eq!(
            seeing,
            [Role::IntakeOfficer, Role::Investigator, Role::Prosecutor]
        );
    }
}
