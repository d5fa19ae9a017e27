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
    /// The existing case intake accepted it into, if any: it joins that case, victims and all.
    pub join_case: Option<Uuid>,
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

/// A case's casualty figures once the victims of an allegation that joins it are added: a group
/// of the same people (every category equal) grows by its count, any other is added after the
/// case's own. Counts are summed only up to [`VictimGroup::MAX_COUNT`]; beyond it a group is
/// added beside the other, so nobody is left out.
pub fn join_victims(case: Vec<VictimGroup>, joining: Vec<VictimGroup>) -> Vec<VictimGroup> {
    let mut groups = case;
    for group in joining {
        let fits = |existing: &mut VictimGroup| {
            same_people(existing, &group)
                && i64::from(existing.count) + i64::from(group.count) <= VictimGroup::MAX_COUNT
        };
        match (0..groups.len()).find(|&i| fits(&mut groups[i])) {
            Some(i) => groups[i].count += group.count,
            None => groups.push(group),
        }
    }
    groups
}

/// True when `a` and `b` differ at most in their count: every category (whatever categories a
/// group comes to hold) is compared, without copying either.
fn same_people(a: &mut VictimGroup, b: &VictimGroup) -> bool {
    let count = std::mem::replace(&mut a.count, b.count);
    let same = *a == *b;
    a.count = count;
    same
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::incident::{AgeGroup, Harm, Sex, VictimStatus};

    fn civilians(count: u32, harm: Harm, age_group: AgeGroup) -> VictimGroup {
        VictimGroup {
            count,
            status: VictimStatus::Civilian,
            harm,
            age_group,
            sex: Sex::Female,
            affiliation: None,
            age_band: None,
        }
    }

    #[test]
    fn victims_of_another_side_are_not_the_same_people() {
        let side = |code: &str| {
            let mut group = civilians(2, Harm::Killed, AgeGroup::Adult);
            group.affiliation = crate::party::PartyCode::parse(code).ok();
            group
        };
        let joined = join_victims(vec![side("AZ")], vec![side("AM"), side("AZ")]);
        assert_eq!(joined.len(), 2);
        assert_eq!((joined[0].count, joined[1].count), (4, 2));
    }

    #[test]
    fn joining_victims_add_to_the_same_group_or_beside_it() {
        let case = vec![
            civilians(2, Harm::Killed, AgeGroup::Adult),
            civilians(1, Harm::Injured, AgeGroup::Child),
        ];
        let joining = vec![
            civilians(3, Harm::Killed, AgeGroup::Adult),
            civilians(1, Harm::Killed, AgeGroup::Elderly),
        ];
        let total = |groups: &[VictimGroup]| groups.iter().map(|g| g.count).sum::<u32>();
        let expected_total = total(&case) + total(&joining);
        let joined = join_victims(case, joining);
        assert_eq!(
            joined,
            [
                civilians(5, Harm::Killed, AgeGroup::Adult),
                civilians(1, Harm::Injured, AgeGroup::Child),
                civilians(1, Harm::Killed, AgeGroup::Elderly),
            ]
        );
        assert_eq!(total(&joined), expected_total);
    }

    #[test]
    fn a_group_at_its_largest_count_is_not_overfilled() {
        let full = civilians(1_000_000, Harm::Killed, AgeGroup::Adult);
        let joined = join_victims(
            vec![full],
            vec![civilians(4, Harm::Killed, AgeGroup::Adult)],
        );
        assert_eq!(joined.len(), 2);
        assert_eq!(joined[1].count, 4);
    }

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
            join_case: None,
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
