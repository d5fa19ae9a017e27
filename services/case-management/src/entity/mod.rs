//! sea-orm entities of the case-management tables. Enumerations are stored as the domain's
//! stable codes. A case's lists of codes, which `ListCases` filters on, are rows of
//! `case_codes`; a person's short lists (protective measures, source allegations), which
//! nothing searches, are `,a,b,` text.

pub mod assessment;
pub mod case;
pub mod case_allegation;
pub mod case_code;
pub mod case_field;
pub mod case_person;
pub mod case_republish;
pub mod casualty_match;
pub mod charge;
pub mod evidence;
pub mod person;
pub mod status_change;
pub mod victim_group;

/// Codes as stored: each between commas.
pub fn join_codes<'a>(codes: impl IntoIterator<Item = &'a str>) -> String {
    let codes: Vec<&str> = codes.into_iter().collect();
    if codes.is_empty() {
        String::new()
    } else {
        format!(",{},", codes.join(","))
    }
}

/// The codes of a stored list.
pub fn split_codes(stored: &str) -> impl Iterator<Item = &str> {
    stored.split(',').filter(|code| !code.is_empty())
}
