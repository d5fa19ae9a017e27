//! Verdicts on content: an authenticity assessment belongs to a file's bytes (its SHA-256), so
//! every record of those bytes, in intake and in every case, shows the same verdict.

use crate::Violations;
use crate::case::{Examiner, Findings, Verdict};
use crate::coded::coded_enum;

coded_enum! {
    /// How a file's content was examined.
    pub enum ContentMethod {
        Geolocation => "geolocation",
        Chronolocation => "chronolocation",
        Metadata => "metadata",
        ReverseImageSearch => "reverse_image_search",
        SourceVerification => "source_verification",
        ExpertExamination => "expert_examination",
    }
}

coded_enum! {
    /// How sure an examiner is of a verdict.
    pub enum Confidence {
        Low => "low",
        Medium => "medium",
        High => "high",
    }
}

/// A checked assessment of content, without its subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContentJudgement {
    pub verdict: Verdict,
    pub method: ContentMethod,
    pub confidence: Confidence,
    pub examiner: Examiner,
    pub notes: Findings,
}

/// What a request gives for a [`ContentJudgement`], decoded but unchecked.
#[derive(Debug, Clone, Default)]
pub struct ContentJudgementInput {
    pub verdict: Option<Verdict>,
    pub method: Option<ContentMethod>,
    pub confidence: Option<Confidence>,
    pub examiner: String,
    pub notes: String,
}

impl ContentJudgement {
    /// Every problem at once, with paths `verdict`, `method`, `confidence`, `examiner`, `notes`.
    pub fn parse(input: ContentJudgementInput) -> Result<Self, Violations> {
        let mut v = Violations::default();
        if input.verdict.is_none() {
            v.add("verdict", "is required");
        }
        if input.method.is_none() {
            v.add("method", "is required");
        }
        if input.confidence.is_none() {
            v.add("confidence", "is required");
        }
        let examiner = v.check("examiner", Examiner::parse(input.examiner));
        let notes = v.check("notes", Findings::parse(input.notes));
        match (
            input.verdict,
            input.method,
            input.confidence,
            examiner,
            notes,
        ) {
            (Some(verdict), Some(method), Some(confidence), Some(examiner), Some(notes))
                if v.is_empty() =>
            {
                Ok(Self {
                    verdict,
                    method,
                    confidence,
                    examiner,
                    notes,
                })
            }
            _ => Err(v),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_judgement_without_its_parts_names_each_missing_one() {
        let err = ContentJudgement::parse(ContentJudgementInput::default()).unwrap_err();
        let fields: Vec<&str> = err.iter().map(|v| v.field.as_str()).collect();
        assert_eq!(
            fields,
            ["verdict", "method", "confidence", "examiner", "notes"]
        );
    }
}
