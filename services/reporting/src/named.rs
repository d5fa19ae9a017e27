//! Named victims and group counts: how a case's victims known individually (register entries)
//! and its anonymous casualty figures (victim groups) combine into what is counted, without
//! counting anyone twice. The rule, also stated in the report ([`crate::counting::RULE`]) and in
//! the README ("The casualty register"):
//!
//! 1. Within a case, a named victim belongs to the case's groups of the same side, status and
//!    harm: named persons *replace*, never add to, the group count they belong to. Each named
//!    person takes the place of one anonymous person of the group that fits them best (same age
//!    band and sex, then same age group, then any of that side, status and harm); a cell of
//!    side, status and harm counts `max(group count, named persons)`.
//! 2. A register entry counts once however many reports name it: twice in one case counts once,
//!    and across cases it counts in one case only — the first, by case id, among the cases that
//!    count (or, when none does, among all). In the other cases it still takes its place in the
//!    groups (rule 1), so it is not counted again as anonymous either.

use std::collections::{BTreeMap, HashSet};

use crate::counting;
use crate::facts::VictimRow;

/// A victim known individually, as a case reports them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NamedRow {
    /// Their register entry.
    pub register_id: String,
    pub status: String,
    pub harm: String,
    pub age_group: String,
    pub sex: String,
    /// The victims' side, or `unknown`.
    pub party: String,
    /// `DIMENSION_AGE_BAND`, as for a group.
    pub age_band: String,
}

/// How well group `g` fits named person `n` of the same side, status and harm.
fn fit(g: &VictimRow, n: &NamedRow) -> u8 {
    let sex = g.sex == n.sex;
    if g.age_band == n.age_band && sex {
        3
    } else if g.age_group == n.age_group && sex {
        2
    } else if g.age_group == n.age_group || sex {
        1
    } else {
        0
    }
}

/// What case counts: its `groups` with named persons taking their places, and its `named`
/// persons, except those whose register entries count in another case (`elsewhere`).
pub fn counted_victims(
    groups: &[VictimRow],
    named: &[NamedRow],
    elsewhere: &HashSet<String>,
) -> Vec<VictimRow> {
    let mut seen = HashSet::new();
    let mut persons: Vec<&NamedRow> = named
        .iter()
        .filter(|n| seen.insert(n.register_id.as_str()))
        .collect();
    persons.sort_by(|a, b| a.register_id.cmp(&b.register_id));
    let mut left: Vec<i64> = groups.iter().map(|g| g.count).collect();
    for person in &persons {
        let best = groups
            .iter()
            .enumerate()
            .filter(|(i, g)| {
                left[*i] > 0
                    && g.party == person.party
                    && g.status == person.status
                    && g.harm == person.harm
            })
            .max_by_key(|(i, g)| (fit(g, person), std::cmp::Reverse(*i)));
        if let Some((i, _)) = best {
            left[i] -= 1;
        }
    }
    let mut counted: Vec<VictimRow> = groups
        .iter()
        .zip(&left)
        .filter(|(_, left)| **left > 0)
        .map(|(g, left)| VictimRow {
            count: *left,
            ..g.clone()
        })
        .collect();
    let mut individuals: BTreeMap<(&str, &str, &str, &str, &str, &str), i64> = BTreeMap::new();
    for person in persons
        .iter()
        .filter(|p| !elsewhere.contains(&p.register_id))
    {
        *individuals
            .entry((
                &person.status,
                &person.harm,
                &person.age_group,
                &person.sex,
                &person.party,
                &person.age_band,
            ))
            .or_default() += 1;
    }
    for ((status, harm, age_group, sex, party, age_band), count) in individuals {
        counted.push(VictimRow {
            count,
            status: status.to_owned(),
            harm: harm.to_owned(),
            age_group: age_group.to_owned(),
            sex: sex.to_owned(),
            party: party.to_owned(),
            age_band: age_band.to_owned(),
        });
    }
    counted
}

/// The case whose count includes a register entry, among `(case id, counting)` of the cases
/// naming it: the first that counts, or the first of all when none does.
pub fn owner<'a>(cases: impl Iterator<Item = (&'a str, &'a str)>) -> Option<&'a str> {
    cases
        .min_by_key(|(id, counting)| (*counting != counting::COUNTED, *id))
        .map(|(id, _)| id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(count: i64, age_group: &str, sex: &str) -> VictimRow {
        VictimRow {
            count,
            status: "VICTIM_STATUS_CIVILIAN".into(),
            harm: "HARM_KILLED".into(),
            age_group: age_group.into(),
            sex: sex.into(),
            party: "AZ".into(),
            age_band: age_group.into(),
        }
    }

    fn person(id: &str, age_group: &str, sex: &str) -> NamedRow {
        NamedRow {
            register_id: id.into(),
            status: "VICTIM_STATUS_CIVILIAN".into(),
            harm: "HARM_KILLED".into(),
            age_group: age_group.into(),
            sex: sex.into(),
            party: "AZ".into(),
            age_band: age_group.into(),
        }
    }

    fn total(rows: &[VictimRow]) -> i64 {
        rows.iter().map(|r| r.count).sum()
    }

    #[test]
    fn named_persons_replace_the_group_count_they_belong_to() {
        let groups = [
            group(3, "AGE_GROUP_ADULT", "SEX_UNKNOWN"),
            group(1, "AGE_GROUP_CHILD", "SEX_UNKNOWN"),
        ];
        let named = [
            person("a", "AGE_GROUP_CHILD", "SEX_FEMALE"),
            person("b", "AGE_GROUP_ADULT", "SEX_MALE"),
        ];
        let counted = counted_victims(&groups, &named, &HashSet::new());
        assert_eq!(total(&counted), 4);
        // The child took the child's place: no anonymous child is left.
        assert!(
            counted
                .iter()
                .all(|r| r.age_group != "AGE_GROUP_CHILD" || r.sex == "SEX_FEMALE")
        );
        // More named persons than the groups hold: the named count wins.
        let many: Vec<NamedRow> = (0..6)
            .map(|i| person(&i.to_string(), "AGE_GROUP_ADULT", "SEX_MALE"))
            .collect();
        assert_eq!(total(&counted_victims(&groups, &many, &HashSet::new())), 6);
        // The same entry twice in one case counts once.
        let twice = vec![person("a", "AGE_GROUP_ADULT", "SEX_MALE"); 2];
        assert_eq!(total(&counted_victims(&[], &twice, &HashSet::new())), 1);
    }

    #[test]
    fn an_entry_counted_in_another_case_still_takes_its_place_here() {
        let groups = [group(2, "AGE_GROUP_ADULT", "SEX_MALE")];
        let named = [person("a", "AGE_GROUP_ADULT", "SEX_MALE")];
        let elsewhere = HashSet::from(["a".to_owned()]);
        assert_eq!(total(&counted_victims(&groups, &named, &elsewhere)), 1);
        assert_eq!(total(&counted_victims(&[], &named, &elsewhere)), 0);
    }

    #[test]
    fn an_entry_counts_in_the_first_case_that_counts() {
        let cases = [("b", "counted"), ("a", "not_a_crime"), ("c", "counted")];
        assert_eq!(owner(cases.iter().map(|(i, c)| (*i, *c))), Some("b"));
        let none = [("b", "merged"), ("a", "not_a_crime")];
        assert_eq!(owner(none.iter().map(|(i, c)| (*i, *c))), Some("a"));
    }
}
