//! Evidence: what an upload declares about its file, and the kinds of custody events.

use chrono::{DateTime, Utc};

use crate::Violations;
use crate::allegation::SourceUrl;
use crate::coded::coded_enum;
use crate::incident::CLOCK_SKEW;
use crate::text::{bounded, bounded_text, optional_bounded};

coded_enum! {
    /// How a file was collected.
    pub enum CollectionMethod {
        SourceSubmission => "source_submission",
        WebCapture => "web_capture",
        PlatformDownload => "platform_download",
        DeviceExtraction => "device_extraction",
        OfficeRecording => "office_recording",
        AuthorityTransfer => "authority_transfer",
        Other => "other",
    }
}

coded_enum! {
    /// What happened to a piece of evidence.
    pub enum CustodyEventKind {
        Collected => "collected",
        Uploaded => "uploaded",
        Accessed => "accessed",
        Verified => "verified",
        Transferred => "transferred",
        Repaired => "repaired",
        LinkedToCase => "linked_to_case",
        UnlinkedFromCase => "unlinked_from_case",
        RegisteredToCase => "registered_to_case",
    }
}

/// A SHA-256 digest as 64 lower-case hex characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Sha256Hex(String);

impl Sha256Hex {
    pub fn parse(value: &str) -> Result<Self, String> {
        if value.len() == 64
            && value
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        {
            Ok(Self(value.to_owned()))
        } else {
            Err("must be a SHA-256 digest: 64 lower-case hex characters".to_owned())
        }
    }

    /// The digest of bytes hashed here.
    pub fn from_digest(digest: &[u8; 32]) -> Self {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let text = digest
            .iter()
            .flat_map(|b| [HEX[usize::from(b >> 4)], HEX[usize::from(b & 15)]])
            .map(char::from)
            .collect();
        Self(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An original file name: no directories, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileName(String);

impl FileName {
    pub const MAX_CHARS: usize = 255;

    pub fn parse(value: String) -> Result<Self, String> {
        let name = bounded(value, Self::MAX_CHARS)?;
        if name.contains(['/', '\\'])
            || name.chars().any(char::is_control)
            || name == "."
            || name == ".."
        {
            return Err("must be a file name without directories or control characters".to_owned());
        }
        // A name shown to an analyst must read as what it is: `CON\u{202E}gpj.exe` shows as
        // `CONexe.jpg`.
        if let Some(c) = name.chars().find(|&c| crate::text::is_invisible_format(c)) {
            return Err(format!(
                "must not contain invisible formatting characters such as bidirectional \
                 controls (found U+{:04X}): the name would not read as what it is",
                u32::from(c)
            ));
        }
        Ok(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

bounded_text!(
    /// Who collected a file, or who received it in a transfer.
    PersonOrOffice,
    200
);

bounded_text!(
    /// A note on a custody event.
    CustodyNote,
    2_000
);

/// The raw metadata of an upload.
#[derive(Debug, Clone, Default)]
pub struct EvidenceMetadataInput {
    pub file_name: String,
    pub media_type: String,
    pub declared_sha256: String,
    pub source_url: String,
    pub captured_time: Option<DateTime<Utc>>,
    pub collected_time: Option<DateTime<Utc>>,
    pub collected_by: String,
    pub collection_method: Option<CollectionMethod>,
}

/// What an upload declares about its file, checked.
#[derive(Debug, Clone, PartialEq)]
pub struct EvidenceMetadata {
    pub file_name: FileName,
    pub media_type: Option<String>,
    pub declared_sha256: Option<Sha256Hex>,
    pub source_url: Option<SourceUrl>,
    pub captured_time: Option<DateTime<Utc>>,
    pub collected_time: DateTime<Utc>,
    pub collected_by: PersonOrOffice,
    pub collection_method: CollectionMethod,
}

impl EvidenceMetadata {
    /// Checks metadata received at `now`. Field paths are those of `EvidenceMetadata` in the
    /// contract.
    pub fn parse(input: EvidenceMetadataInput, now: DateTime<Utc>) -> Result<Self, Violations> {
        let mut v = Violations::default();
        let latest = now + CLOCK_SKEW;
        let file_name = v.check("file_name", FileName::parse(input.file_name));
        let media_type = v
            .check("media_type", media_type(input.media_type))
            .flatten();
        let declared_sha256 = match input.declared_sha256.as_str() {
            "" => None,
            digest => v.check("declared_sha256", Sha256Hex::parse(digest)),
        };
        let source_url = match input.source_url.as_str() {
            "" => None,
            url => v.check("source_url", SourceUrl::parse(url)),
        };
        if input.captured_time.is_some_and(|t| t > latest) {
            v.add("captured_time", "must not be in the future");
        }
        match input.collected_time {
            None => v.add("collected_time", "is required"),
            Some(t) if t > latest => v.add("collected_time", "must not be in the future"),
            Some(_) => {}
        }
        let collected_by = v.check("collected_by", PersonOrOffice::parse(input.collected_by));
        if input.collection_method.is_none() {
            v.add("collection_method", "is required");
        }
        match (
            file_name,
            input.collected_time,
            collected_by,
            input.collection_method,
        ) {
            (
                Some(file_name),
                Some(collected_time),
                Some(collected_by),
                Some(collection_method),
            ) if v.is_empty() => Ok(Self {
                file_name,
                media_type,
                declared_sha256,
                source_url,
                captured_time: input.captured_time,
                collected_time,
                collected_by,
                collection_method,
            }),
            _ => Err(v),
        }
    }
}

/// A media type such as `video/mp4`: `type/subtype`, at most 100 characters.
fn media_type(value: String) -> Result<Option<String>, String> {
    let Some(value) = optional_bounded(value, 100)? else {
        return Ok(None);
    };
    let token = |part: &str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
    };
    match value.split_once('/') {
        Some((kind, sub)) if token(kind) && token(sub) => Ok(Some(value.to_ascii_lowercase())),
        _ => Err("must be a media type such as `video/mp4`".to_owned()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 28, 12, 0, 0).unwrap()
    }

    fn input() -> EvidenceMetadataInput {
        EvidenceMetadataInput {
            file_name: "execution-video.mp4".into(),
            media_type: "video/mp4".into(),
            collected_time: Some(now()),
            collected_by: "analyst.petrosyan".into(),
            collection_method: Some(CollectionMethod::WebCapture),
            ..EvidenceMetadataInput::default()
        }
    }

    #[test]
    fn good_metadata_parses() {
        let metadata = EvidenceMetadata::parse(input(), now()).unwrap();
        assert_eq!(metadata.file_name.as_str(), "execution-video.mp4");
        assert_eq!(metadata.media_type.as_deref(), Some("video/mp4"));
    }

    #[test]
    fn every_bad_field_is_named() {
        let bad = EvidenceMetadataInput {
            file_name: "../etc/passwd".into(),
            media_type: "video".into(),
            declared_sha256: "ABC".into(),
            source_url: "nope".into(),
            captured_time: Some(now() + chrono::Duration::days(1)),
            collected_time: None,
            collected_by: String::new(),
            collection_method: None,
        };
        let error = EvidenceMetadata::parse(bad, now()).unwrap_err();
        let fields: Vec<&str> = error.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            [
                "file_name",
                "media_type",
                "declared_sha256",
                "source_url",
                "captured_time",
                "collected_time",
                "collected_by",
                "collection_method"
            ]
        );
    }

    #[test]
    fn file_names_that_would_not_read_as_what_they_are_are_refused() {
        for name in [
            "CON\u{202E}gpj.exe",
            "a\u{2067}b.mp4",
            "video\u{200B}.mp4",
            "\u{FEFF}x.jpg",
        ] {
            assert!(FileName::parse(name.into()).is_err(), "{name:?}");
        }
        for name in ["video.mp4", "ویدیو\u{200C}ها.mp4", "տեսանյութ.mp4"] {
            assert!(FileName::parse(name.into()).is_ok(), "{name:?}");
        }
    }

    #[test]
    fn digests_are_lower_case_hex_of_32_bytes() {
        let digest = Sha256Hex::from_digest(&[0xab; 32]);
        assert_eq!(digest.as_str(), "ab".repeat(32));
        assert!(Sha256Hex::parse(digest.as_str()).is_ok());
        assert!(Sha256Hex::parse(&"AB".repeat(32)).is_err());
        assert!(Sha256Hex::parse(&"ab".repeat(31)).is_err());
    }
}
