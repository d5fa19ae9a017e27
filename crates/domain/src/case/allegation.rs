//! An accepted allegation as intake delivers it, and the case it opens.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::content::{CaseContent, Title};
use crate::allegation::AllegationReference;
use crate::incident::{AllegedPerpetrator, IncidentPeriod, Location, VictimGroup, ViolationType};
use crate::party::PartyCode;

/// An accepted allegation delivered by intake: only what a case takes from it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReceivedAllegation {
    pub id: Uuid,
    pub reference: AllegationReference,
    pub received_at: Option<DateTime<Utc>>,
    pub violation_types: Vec<ViolationType>,
    pub perpetrators: Vec<AllegedPerpetrator>,
    pub victims: Vec<VictimGroup>,
    pub incident_period: Option<IncidentPeriod>,
    pub location: Option<Location>,
    /// The allegation this one duplicates, if intake marked it so.
    pub duplicate_of: Option<Uuid>,
}

impl ReceivedAllegation {
    /// The parties its perpetrators belong to, each once, in the order first named.
    pub fn parties(&self) -> Vec<PartyCode> {
        let mut parties: Vec<PartyCode> = Vec::new();
        for party in self
            .perpetrators
            .iter()
            .filter_map(AllegedPerpetrator::party)
        {
            if !parties.contains(party) {
                parties.push(party.clone());
            }
        }
        parties
    }

    /// The fields of the case it opens: its violations, parties, casualty figures, period and
    /// place become the case's.
    pub fn case_content(&self) -> Vec<CaseContent> {
        let title = format!("Allegation {}", self.reference);
        let mut content = Vec::with_capacity(6);
        if let Ok(title) = Title::parse(title) {
            content.push(CaseContent::Title(title));
        }
        content.extend([
            CaseContent::PartyCodes(self.parties()),
            CaseContent::ViolationTypes(self.violation_types.clone()),
            CaseContent::Victims(self.victims.clone()),
            CaseContent::IncidentPeriod(self.incident_period.clone()),
            CaseContent::Location(self.location.clone()),
        ]);
        content
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_case_names_each_party_once() {
        let perpetrator =
            |party: &str| AllegedPerpetrator::parse(party, "unit".into(), String::new()).unwrap();
        let allegation = ReceivedAllegation {
            id: Uuid::now_v7(),
            reference: AllegationReference::new(2020, 1).unwrap(),
            received_at: None,
            violation_types: vec![ViolationType::Killing],
            perpetrators: vec![perpetrator("AM"), perpetrator("AZ"), perpetrator("AM")],
            victims: Vec::new(),
            incident_period: None,
            location: None,
            duplicate_of: None,
        };
        let parties = allegation.parties();
        let parties: Vec<&str> = parties.iter().map(|p| p.as_str()).collect();
        assert_eq!(parties, ["AM", "AZ"]);
        assert!(matches!(
            &allegation.case_content()[0],
            CaseContent::Title(t) if t.as_str() == "Allegation ALG-2020-000001"
        ));
    }
}
