//! Wire enums ⇄ domain enums. Every wire enum has an `UNSPECIFIED` zero value with no domain
//! counterpart: decoding it gives `None`, and the domain decides whether that is allowed.

use docket_domain::Violations;
use docket_domain::allegation::{AllegationStatus, Channel};
use docket_domain::content::{Confidence, ContentMethod};
use docket_domain::evidence::{CollectionMethod, CustodyEventKind};
use docket_domain::incident::{
    AgeBand, AgeGroup, Harm, LocationPrecision, Sex, TimePrecision, VictimStatus, ViolationType,
};

use docket_domain::case::{
    AssessmentMethod, CaseStatus, ChargeStatus, CloseReason, ModeOfLiability, PersonRole,
    ProtectiveMeasure, Verdict,
};

use crate::docket::cases::v1 as cases;
use crate::docket::common::v1 as common;
use crate::docket::intake::v1 as intake;

/// Decodes the raw value of a wire enum `W` into the domain enum `D`. An unspecified value gives
/// `None`; a number the contract does not define is recorded as a violation of `field`.
pub fn decode_enum<W, D>(violations: &mut Violations, field: &str, raw: i32) -> Option<D>
where
    W: TryFrom<i32>,
    D: TryFrom<W>,
{
    match W::try_from(raw) {
        Ok(wire) => D::try_from(wire).ok(),
        Err(_) => {
            violations.add(field, format!("has no value numbered {raw}"));
            None
        }
    }
}

/// The wire value is `UNSPECIFIED`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unspecified;

/// Maps a domain enum onto a wire enum variant for variant, both ways.
macro_rules! enum_map {
    ($domain:ident <=> $wire:path { $($variant:ident),+ $(,)? }) => {
        impl From<$domain> for $wire {
            fn from(value: $domain) -> Self {
                match value {
                    $($domain::$variant => <$wire>::$variant),+
                }
            }
        }

        impl TryFrom<$wire> for $domain {
            type Error = Unspecified;

            fn try_from(value: $wire) -> Result<Self, Unspecified> {
                match value {
                    <$wire>::Unspecified => Err(Unspecified),
                    $(<$wire>::$variant => Ok($domain::$variant)),+
                }
            }
        }
    };
}

enum_map!(ViolationType <=> common::ViolationType {
    Killing, IllTreatment, Torture, DesecrationOfBodies, AttackOnCivilians,
    AttackOnCivilianObjects, SexualViolence, EnforcedDisappearance, HostageTaking, Pillage,
    ForcedDisplacement, UseOfProhibitedWeapons, Other, IndiscriminateAttack, AttackOnHospitals,
    AttackOnSchools, AttackOnCulturalProperty, OutrageUponPersonalDignity,
});
enum_map!(TimePrecision <=> common::TimePrecision { Exact, Hour, Day, Week, Month, Year });
enum_map!(LocationPrecision <=> common::LocationPrecision {
    Exact, Neighbourhood, Settlement, AdminArea, Country,
});
enum_map!(VictimStatus <=> common::VictimStatus {
    Civilian, Combatant, PrisonerOfWar, HorsDeCombat, Unknown, CivilianDetainee, MedicalPersonnel,
    ReligiousPersonnel, Journalist, HumanitarianWorker,
});
enum_map!(Harm <=> common::Harm {
    Killed, Injured, IllTreated, BodyDefiled, Missing, Detained, Tortured, SexualViolence,
    Displaced,
});
enum_map!(AgeBand <=> common::AgeBand { Under5, From5To11, From12To17 });
enum_map!(AgeGroup <=> common::AgeGroup { Child, Adult, Elderly, Unknown });
enum_map!(Sex <=> common::Sex { Female, Male, Unknown });
enum_map!(Channel <=> intake::Channel {
    WalkIn, Hotline, NgoSubmission, SocialMediaMonitoring, StateReferral, PartnerAgency,
});
enum_map!(AllegationStatus <=> intake::AllegationStatus {
    Received, UnderReview, Accepted, Rejected, Duplicate,
});
enum_map!(CaseStatus <=> cases::CaseStatus {
    Open, UnderInvestigation, ChargesFiled, ReferredToCourt, Closed,
});
enum_map!(CloseReason <=> cases::CloseReason { InsufficientEvidence, NotACrime, Merged, Other });
enum_map!(PersonRole <=> cases::PersonRole { Suspect, Victim, Witness });
enum_map!(ModeOfLiability <=> cases::ModeOfLiability {
    DirectPerpetration, CoPerpetration, Ordering, AidingAndAbetting, CommandResponsibility,
});
enum_map!(ProtectiveMeasure <=> cases::ProtectiveMeasure {
    Pseudonym, FaceAndVoiceDistortion, ClosedSession, DelayedDisclosure, Relocation,
});
enum_map!(ChargeStatus <=> cases::ChargeStatus {
    Filed, WarrantIssued, Confirmed, Withdrawn, Convicted, Acquitted,
});
enum_map!(Verdict <=> cases::Verdict {
    Authentic, LikelyAuthentic, Inconclusive, LikelyFabricated, FabricatedOrManipulated,
});
enum_map!(AssessmentMethod <=> cases::AssessmentMethod {
    Metadata, Geolocation, Chronolocation, SourceAnalysis, ForensicMediaAnalysis,
});

enum_map!(CollectionMethod <=> intake::CollectionMethod {
    SourceSubmission, WebCapture, PlatformDownload, DeviceExtraction, OfficeRecording,
    AuthorityTransfer, Other,
});
enum_map!(CustodyEventKind <=> intake::CustodyEventKind {
    Collected, Uploaded, Accessed, Verified, Transferred, Repaired, LinkedToCase,
    UnlinkedFromCase, RegisteredToCase,
});
enum_map!(Verdict <=> intake::ContentVerdict {
    Authentic, LikelyAuthentic, Inconclusive, LikelyFabricated, FabricatedOrManipulated,
});
enum_map!(ContentMethod <=> intake::ContentAssessmentMethod {
    Geolocation, Chronolocation, Metadata, ReverseImageSearch, SourceVerification,
    ExpertExamination,
});
enum_map!(Confidence <=> intake::AssessmentConfidence { Low, Medium, High });

impl From<docket_domain::incident::VictimGroup> for common::VictimGroup {
    fn from(group: docket_domain::incident::VictimGroup) -> Self {
        Self {
            // At most 1 000 000, checked by the domain.
            count: i32::try_from(group.count).unwrap_or(i32::MAX),
            status: common::VictimStatus::from(group.status).into(),
            harm: common::Harm::from(group.harm).into(),
            age_group: common::AgeGroup::from(group.age_group).into(),
            sex: common::Sex::from(group.sex).into(),
            affiliation_party_code: group
                .affiliation
                .map(|party| party.as_str().to_owned())
                .unwrap_or_default(),
            age_band: group
                .age_band
                .map_or(0, |band| common::AgeBand::from(band).into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_domain_value_survives_the_wire() {
        for harm in Harm::ALL {
            let wire = common::Harm::from(*harm);
            assert_eq!(Harm::try_from(wire), Ok(*harm));
        }
        for channel in Channel::ALL {
            assert_eq!(
                Channel::try_from(intake::Channel::from(*channel)),
                Ok(*channel)
            );
        }
    }

    #[test]
    fn unspecified_is_none_and_unknown_numbers_are_violations() {
        let mut violations = Violations::default();
        assert_eq!(
            decode_enum::<common::Sex, Sex>(&mut violations, "sex", 0),
            None
        );
        assert!(violations.is_empty());
        assert_eq!(
            decode_enum::<common::Sex, Sex>(&mut violations, "sex", 99),
            None
        );
        assert_eq!(
            violations.iter().next().map(|v| v.field.as_str()),
            Some("sex")
        );
    }
}
