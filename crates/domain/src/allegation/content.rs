//! The content of an allegation as submitted: who, what, when, where, to whom.

use chrono::{DateTime, Utc};

use crate::Violations;
use crate::coded::coded_enum;
use crate::incident::{
    AllegedPerpetrator, IncidentPeriod, Location, LocationInput, TimePrecision, VictimGroup,
    ViolationType,
};
use crate::party::KnownParties;
use crate::text::{bounded_text, optional_bounded};

coded_enum! {
    /// How an allegation reached the office.
    pub enum Channel {
        WalkIn => "walk_in",
        Hotline => "hotline",
        NgoSubmission => "ngo_submission",
        SocialMediaMonitoring => "social_media_monitoring",
        StateReferral => "state_referral",
        PartnerAgency => "partner_agency",
    }
}

bounded_text!(
    /// What happened, in the source's words.
    Narrative,
    100_000
);

bounded_text!(
    /// The name of an identified source. Confidential.
    SourceName,
    200
);

bounded_text!(
    /// How to reach an identified source. Confidential.
    ContactDetails,
    500
);

/// Who an allegation came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The source gave no name; it follows up with the receipt it was given.
    Anonymous,
    Identified {
        name: SourceName,
        contact: Option<ContactDetails>,
    },
}

/// The raw parts of a [`Source`].
#[derive(Debug, Clone, Default)]
pub struct SourceInput {
    pub anonymous: bool,
    pub name: String,
    pub contact: String,
}

impl Source {
    /// Field paths: `name`, `contact`.
    pub fn parse(input: SourceInput) -> Result<Self, Violations> {
        let mut violations = Violations::default();
        if input.anonymous {
            // Refuse rather than drop: an identity sent by mistake must not be stored quietly.
            if !input.name.trim().is_empty() {
                violations.add("name", "must be empty for an anonymous source");
            }
            if !input.contact.trim().is_empty() {
                violations.add("contact", "must be empty for an anonymous source");
            }
            return violations.into_result().map(|()| Source::Anonymous);
        }
        let name = violations.check("name", SourceName::parse(input.name));
        let contact = match optional_bounded(input.contact, ContactDetails::MAX_CHARS) {
            Ok(contact) => contact.map(ContactDetails),
            Err(reason) => {
                violations.add("contact", reason);
                None
            }
        };
        match name {
            Some(name) if violations.is_empty() => Ok(Source::Identified { name, contact }),
            _ => Err(violations),
        }
    }

    pub fn is_anonymous(&self) -> bool {
        matches!(self, Source::Anonymous)
    }
}

/// A BCP 47 language tag such as `hy`, `az-Latn` or `en-GB`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LanguageTag(String);

impl LanguageTag {
    pub fn parse(value: &str) -> Result<Self, String> {
        let mut subtags = value.split('-');
        let primary_ok = subtags.next().is_some_and(|primary| {
            (2..=3).contains(&primary.len()) && primary.bytes().all(|b| b.is_ascii_alphabetic())
        });
        let rest_ok = subtags.all(|subtag| {
            (1..=8).contains(&subtag.len()) && subtag.bytes().all(|b| b.is_ascii_alphanumeric())
        });
        if value.is_empty() {
            Err("is required".to_owned())
        } else if primary_ok && rest_ok && value.len() <= 35 {
            Ok(Self(value.to_owned()))
        } else {
            Err("must be a BCP 47 language tag such as `hy`, `az` or `en-GB`".to_owned())
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An absolute http or https URL where material was seen.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SourceUrl(url::Url);

impl SourceUrl {
    pub const MAX_CHARS: usize = 2_048;

    pub fn parse(value: &str) -> Result<Self, String> {
        if value.len() > Self::MAX_CHARS {
            return Err(format!("must be at most {} characters", Self::MAX_CHARS));
        }
        let url = url::Url::parse(value).map_err(|error| format!("is not a valid URL: {error}"))?;
        match url.scheme() {
            "http" | "https" if url.host().is_some() => Ok(Self(url)),
            _ => Err("must be an absolute http or https URL".to_owned()),
        }
    }

    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

/// The caller's key that makes a submission safe to retry.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RequestId(String);

impl RequestId {
    pub const MAX_CHARS: usize = 64;

    pub fn parse(value: &str) -> Result<Self, String> {
        if value.is_empty() {
            return Err("is required".to_owned());
        }
        let allowed = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':');
        if value.len() > Self::MAX_CHARS || !value.chars().all(allowed) {
            return Err(format!(
                "must be 1 to {} letters, digits, `-`, `_`, `.` or `:`",
                Self::MAX_CHARS
            ));
        }
        Ok(Self(value.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The raw parts of an incident period.
#[derive(Debug, Clone, Default)]
pub struct PeriodInput {
    pub start: Option<DateTime<Utc>>,
    pub end: Option<DateTime<Utc>>,
    pub precision: Option<TimePrecision>,
}

/// The raw parts of an alleged perpetrator.
#[derive(Debug, Clone, Default)]
pub struct PerpetratorInput {
    pub party_code: String,
    pub unit: String,
    pub description: String,
}

pub use crate::incident::VictimGroupInput;

/// A submission as it arrives, decoded from the wire but not yet checked. A `None` enum was left
/// unspecified.
#[derive(Debug, Clone, Default)]
pub struct NewAllegationInput {
    pub channel: Option<Channel>,
    pub source: Option<SourceInput>,
    pub narrative: String,
    pub language: String,
    pub incident_period: Option<PeriodInput>,
    pub location: Option<LocationInput>,
    pub violation_types: Vec<Option<ViolationType>>,
    pub alleged_perpetrators: Vec<PerpetratorInput>,
    pub victims: Vec<VictimGroupInput>,
    pub source_urls: Vec<String>,
}

/// A submission that passed every check that needs no storage.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAllegation {
    channel: Channel,
    source: Source,
    narrative: Narrative,
    language: LanguageTag,
    incident_period: Option<IncidentPeriod>,
    location: Option<Location>,
    violation_types: Vec<ViolationType>,
    alleged_perpetrators: Vec<AllegedPerpetrator>,
    victims: Vec<VictimGroup>,
    source_urls: Vec<SourceUrl>,
}

impl NewAllegation {
    /// The most items any repeated field may hold.
    pub const MAX_ITEMS: usize = 100;

    /// Checks a submission received at `now`. Field paths are those of the proto `Allegation`
    /// message (`narrative`, `victims[2].count`, …).
    pub fn parse(input: NewAllegationInput, now: DateTime<Utc>) -> Result<Self, Violations> {
        let mut v = Violations::default();
        if input.channel.is_none() {
            v.add("channel", "is required");
        }
        let source = match input.source {
            Some(source) => v.nest("source", Source::parse(source)),
            None => {
                v.add("source", "is required");
                None
            }
        };
        let narrative = v.check("narrative", Narrative::parse(input.narrative));
        let language = v.check("language", LanguageTag::parse(&input.language));
        let incident_period = match input.incident_period {
            Some(period) => v
                .nest(
                    "incident_period",
                    IncidentPeriod::parse(period.start, period.end, period.precision, now),
                )
                .map(Some),
            None => Some(None),
        };
        let location = match input.location {
            Some(location) => v.nest("location", Location::parse(location)).map(Some),
            None => Some(None),
        };

        let violation_types = parse_violation_types(&mut v, input.violation_types);
        let alleged_perpetrators = parse_list(
            &mut v,
            "alleged_perpetrators",
            input.alleged_perpetrators,
            |p| AllegedPerpetrator::parse(&p.party_code, p.unit, p.description),
        );
        let victims = parse_list(&mut v, "victims", input.victims, VictimGroup::parse);
        let source_urls = parse_list(&mut v, "source_urls", input.source_urls, |url| {
            SourceUrl::parse(&url).map_err(|reason| Violations::single("", reason))
        });

        match (
            input.channel,
            source,
            narrative,
            language,
            incident_period,
            location,
        ) {
            (
                Some(channel),
                Some(source),
                Some(narrative),
                Some(language),
                Some(incident_period),
                Some(location),
            ) if v.is_empty() => Ok(Self {
                channel,
                source,
                narrative,
                language,
                incident_period,
                location,
                violation_types,
                alleged_perpetrators,
                victims,
                source_urls,
            }),
            _ => Err(v),
        }
    }

    /// Checks every perpetrator's party and every victims' side against the deployment's list
    /// of parties.
    pub fn check_parties(&self, known: &KnownParties) -> Result<(), Violations> {
        let mut violations = Violations::default();
        for (index, group) in self.victims.iter().enumerate() {
            if let Some(party) = &group.affiliation
                && !known.admits(party)
            {
                violations.add(
                    format!("victims[{index}].affiliation_party_code"),
                    known.refusal(),
                );
            }
        }
        for (index, perpetrator) in self.alleged_perpetrators.iter().enumerate() {
            if let Some(party) = perpetrator.party()
                && !known.admits(party)
            {
                violations.add(
                    format!("alleged_perpetrators[{index}].party_code"),
                    known.refusal(),
                );
            }
        }
        violations.into_result()
    }

    pub fn channel(&self) -> Channel {
        self.channel
    }

    pub fn source(&self) -> &Source {
        &self.source
    }

    pub fn narrative(&self) -> &Narrative {
        &self.narrative
    }

    pub fn language(&self) -> &LanguageTag {
        &self.language
    }

    pub fn incident_period(&self) -> Option<&IncidentPeriod> {
        self.incident_period.as_ref()
    }

    pub fn location(&self) -> Option<&Location> {
        self.location.as_ref()
    }

    pub fn violation_types(&self) -> &[ViolationType] {
        &self.violation_types
    }

    pub fn alleged_perpetrators(&self) -> &[AllegedPerpetrator] {
        &self.alleged_perpetrators
    }

    pub fn victims(&self) -> &[VictimGroup] {
        &self.victims
    }

    pub fn source_urls(&self) -> &[SourceUrl] {
        &self.source_urls
    }
}

fn parse_violation_types(
    v: &mut Violations,
    input: Vec<Option<ViolationType>>,
) -> Vec<ViolationType> {
    if input.is_empty() {
        v.add("violation_types", "at least one violation type is required");
    }
    let mut types = Vec::with_capacity(input.len());
    for (index, violation_type) in input.into_iter().enumerate() {
        let field = format!("violation_types[{index}]");
        match violation_type {
            None => v.add(field, "is required"),
            Some(t) if types.contains(&t) => v.add(field, format!("repeats {t}")),
            Some(t) => types.push(t),
        }
    }
    types
}

/// Parses each item of a repeated field, bounded to [`NewAllegation::MAX_ITEMS`].
fn parse_list<I, T>(
    v: &mut Violations,
    field: &str,
    items: Vec<I>,
    parse: impl Fn(I) -> Result<T, Violations>,
) -> Vec<T> {
    if items.len() > NewAllegation::MAX_ITEMS {
        v.add(
            field,
            format!(
                "must hold at most {} items, got {}",
                NewAllegation::MAX_ITEMS,
                items.len()
            ),
        );
        return Vec::new();
    }
    let mut parsed = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        if let Some(item) = v.nest(&format!("{field}[{index}]"), parse(item)) {
            parsed.push(item);
        }
    }
    parsed
}
