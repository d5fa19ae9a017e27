//! The authenticity of evidence linked to a case: each examination records a verdict and a
//! method; the latest verdict is the item's standing.

use crate::coded::coded_enum;
use crate::text::bounded_text;

coded_enum! {
    /// What an examination concluded.
    pub enum Verdict {
        Authentic => "authentic",
        LikelyAuthentic => "likely_authentic",
        Inconclusive => "inconclusive",
        LikelyFabricated => "likely_fabricated",
        FabricatedOrManipulated => "fabricated_or_manipulated",
    }
}

coded_enum! {
    /// How an item was examined.
    pub enum AssessmentMethod {
        Metadata => "metadata",
        Geolocation => "geolocation",
        Chronolocation => "chronolocation",
        SourceAnalysis => "source_analysis",
        ForensicMediaAnalysis => "forensic_media_analysis",
    }
}

bounded_text!(
    /// Who examined an item: a person or a laboratory.
    Examiner,
    200
);

bounded_text!(
    /// What an examination found.
    Findings,
    10_000
);

bounded_text!(
    /// What a linked item of evidence is.
    EvidenceDescription,
    500
);

impl Verdict {
    /// Whether an item with this standing may be relied on in court.
    pub fn supports_reliance(self) -> bool {
        matches!(self, Verdict::Authentic | Verdict::LikelyAuthentic)
    }

    /// Whether an item with this standing is judged fabricated: a case resting only on such
    /// items is left out of the office's figures.
    pub fn judged_fabricated(self) -> bool {
        matches!(
            self,
            Verdict::LikelyFabricated | Verdict::FabricatedOrManipulated
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_authentic_verdicts_support_reliance() {
        let relied: Vec<Verdict> = Verdict::ALL
            .iter()
            .copied()
            .filter(|v| v.supports_reliance())
            .collect();
        assert_eq!(relied, [Verdict::Authentic, Verdict::LikelyAuthentic]);
    }
}
