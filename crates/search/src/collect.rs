//! Collectors of the index's answers: the page of a question ranked by score with the key
//! breaking ties, pruned as tantivy's own top-k is; a count that stops at a cap; and every match
//! within a circle.

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::sync::atomic::{self, AtomicU32};

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::query::Weight;
use tantivy::{DocAddress, DocId, DocSet, Score, SegmentOrdinal, SegmentReader, TERMINATED};

use crate::geo::{Circle, km};

/// The best `window` matches of a question's words by score, ties by key (smaller first), among
/// the documents its filters admit, as (score, address).
///
/// tantivy's own `order_by_score` prunes (block-WAND skips the documents that cannot beat the
/// last of the page) but breaks ties by the documents' places in the index, which change when
/// it is rebuilt; a sort by (score, key) breaks them the same way however the index was built,
/// but scores every match. This does both: the threshold it hands the pruning is a little under
/// the page's last score ([`SLACK`]), so that what ties with it still comes, and only what ranks
/// below it is skipped. Filters are not part of the pruned query (a conjunction is not pruned): each
/// candidate the words give is looked up in them instead, in the order the candidates come.
///
/// Segments are searched apart (in parallel when the index has a multi-threaded executor), but
/// share their floor: once one segment holds a full page, no segment needs what scores under
/// that page's last, so a segment searched later is pruned from its first block.
pub struct TopByScore {
    pub window: usize,
    /// What a document must also match (a weight that does not score).
    pub filter: Option<Box<dyn Weight>>,
    pub circle: Option<Circle>,
    /// Whether the query is a union of terms, which tantivy prunes with block-WAND, whose
    /// scores are then scored again (see [`SLACK`]); other queries give the scorer's own.
    pub wand: bool,
    /// The best last score of a full page any segment has held so far.
    pub floor: Floor,
}

/// A score every segment's page can rise to but never falls under, shared across segments.
#[derive(Debug, Clone, Default)]
pub struct Floor(Arc<AtomicU32>);

impl Floor {
    /// The floor now: 0 until a segment holds a full page.
    fn get(&self) -> Score {
        Score::from_bits(self.0.load(atomic::Ordering::Relaxed))
    }

    /// Raises the floor to `score` when it is higher. Scores are not negative, and the bits of
    /// non-negative floats order as the floats do.
    fn raise(&self, score: Score) {
        if score > 0.0 {
            self.0.fetch_max(score.to_bits(), atomic::Ordering::Relaxed);
        }
    }
}

/// A match, ordered from best to worst.
#[derive(Debug, Clone, Copy)]
struct Ranked {
    score: Score,
    key: u64,
    address: DocAddress,
}

impl Ord for Ranked {
    fn cmp(&self, other: &Self) -> Ordering {
        other
            .score
            .total_cmp(&self.score)
            .then_with(|| self.key.cmp(&other.key))
            .then_with(|| self.address.cmp(&other.address))
    }
}

impl PartialOrd for Ranked {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Ranked {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Ranked {}

pub struct TopByScoreSegment {
    window: usize,
    floor: Floor,
    segment: SegmentOrdinal,
    key: tantivy::columnar::Column<u64>,
    /// The best `window` matches so far, the worst on top.
    best: BinaryHeap<Ranked>,
    /// Every match that scored over the threshold when it came, as (score, document).
    candidates: Vec<(Score, DocId)>,
}

/// How far under the page's last score a match is still kept, relatively. Block-WAND adds a
/// document's term scores in another order than the scorer does, so a score may differ in its
/// last bits from the one a full sort gives; every candidate within this slack is scored again
/// by the scorer itself, and the page is ranked on those scores.
const SLACK: Score = 1e-4;

impl TopByScoreSegment {
    /// What a match must score more than to matter: a little under the page's last score once
    /// the page is full, in this segment or another (the floor).
    fn threshold(&self) -> Score {
        let last = match self.best.peek() {
            Some(worst) if self.best.len() >= self.window => worst.score,
            _ => 0.0,
        }
        .max(self.floor.get());
        if last > 0.0 {
            last * (1.0 - SLACK)
        } else {
            Score::MIN
        }
    }

    /// Keeps the candidates still over the threshold, each with the score `score` gives it
    /// (asked in the order of the documents; `None` drops it).
    fn score_again(&mut self, mut score: impl FnMut(DocId) -> Option<Score>) {
        let threshold = self.threshold();
        let mut docs: Vec<DocId> = std::mem::take(&mut self.candidates)
            .into_iter()
            .filter(|(score, _)| *score > threshold)
            .map(|(_, doc)| doc)
            .collect();
        docs.sort_unstable();
        docs.dedup();
        self.candidates = docs
            .into_iter()
            .filter_map(|doc| Some((score(doc)?, doc)))
            .collect();
    }

    fn ranked(&self, doc: DocId, score: Score) -> Ranked {
        Ranked {
            score,
            key: self.key.first(doc).unwrap_or(u64::MAX),
            address: DocAddress::new(self.segment, doc),
        }
    }
}

impl Collector for TopByScore {
    type Fruit = Vec<(Score, DocAddress)>;
    type Child = TopByScoreSegment;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<TopByScoreSegment> {
        Ok(TopByScoreSegment {
            window: self.window.max(1),
            floor: self.floor.clone(),
            segment,
            key: reader.fast_fields().u64("key")?,
            best: BinaryHeap::with_capacity(self.window.max(1) + 1),
            candidates: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        true
    }

    fn merge_fruits(
        &self,
        pages: Vec<Vec<(Score, u64, DocAddress)>>,
    ) -> tantivy::Result<Self::Fruit> {
        let mut all: Vec<Ranked> = pages
            .into_iter()
            .flatten()
            .map(|(score, key, address)| Ranked {
                score,
                key,
                address,
            })
            .collect();
        all.sort_unstable();
        all.truncate(self.window.max(1));
        Ok(all.into_iter().map(|r| (r.score, r.address)).collect())
    }

    /// As the default, but through the pruning loop, told after each match what the next must
    /// beat.
    fn collect_segment(
        &self,
        weight: &dyn Weight,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<Vec<(Score, u64, DocAddress)>> {
        let mut child = self.for_segment(segment, reader)?;
        let alive = reader.alive_bitset();
        let mut filter = match &self.filter {
            Some(filter) => Some(filter.scorer(reader, 1.0)?),
            None => None,
        };
        let within = self.circle.map(|c| Within::new(c, reader)).transpose()?;
        weight.for_each_pruning(Score::MIN, reader, &mut |doc, score| {
            let admitted = alive.is_none_or(|alive| alive.is_alive(doc))
                && filter
                    .as_mut()
                    .is_none_or(|filter| holds(filter.as_mut(), doc))
                && within.as_ref().is_none_or(|within| within.holds(doc));
            if admitted {
                child.collect(doc, score);
            }
            child.threshold()
        })?;
        if self.wand {
            let mut scorer = weight.scorer(reader, 1.0)?;
            child.score_again(|doc| holds(scorer.as_mut(), doc).then(|| scorer.score()));
        }
        Ok(child.harvest())
    }
}

/// Whether `docs` holds `doc`, moving it forward to it: asked in increasing order of `doc`.
fn holds(docs: &mut dyn DocSet, doc: DocId) -> bool {
    if docs.doc() < doc {
        docs.seek(doc);
    }
    docs.doc() == doc
}

/// A circle, with the coordinates of a segment's documents.
struct Within {
    circle: Circle,
    latitude: tantivy::columnar::Column<f64>,
    longitude: tantivy::columnar::Column<f64>,
}

impl Within {
    fn new(circle: Circle, reader: &SegmentReader) -> tantivy::Result<Self> {
        let fast = reader.fast_fields();
        Ok(Within {
            circle,
            latitude: fast.f64("latitude")?,
            longitude: fast.f64("longitude")?,
        })
    }

    fn holds(&self, doc: DocId) -> bool {
        let (Some(lat), Some(lon)) = (self.latitude.first(doc), self.longitude.first(doc)) else {
            return false;
        };
        km(self.circle.latitude, self.circle.longitude, lat, lon) <= self.circle.radius_km
    }
}

/// How many documents match, within a circle if one is given, counted up to `cap` and no
/// further: what is past it would cost a read of every match for a figure no one reads exactly.
pub struct CountUpTo {
    pub cap: u64,
    pub circle: Option<Circle>,
}

impl Collector for CountUpTo {
    type Fruit = u64;
    type Child = Counted;

    fn for_segment(&self, _: SegmentOrdinal, _: &SegmentReader) -> tantivy::Result<Counted> {
        Ok(Counted(0))
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(&self, counts: Vec<u64>) -> tantivy::Result<u64> {
        Ok(counts.into_iter().sum::<u64>().min(self.cap))
    }

    fn collect_segment(
        &self,
        weight: &dyn Weight,
        _: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<u64> {
        let alive = reader.alive_bitset();
        let within = self.circle.map(|c| Within::new(c, reader)).transpose()?;
        let mut docs = weight.scorer(reader, 1.0)?;
        let mut counted = 0;
        let mut doc = docs.doc();
        while doc != TERMINATED && counted < self.cap {
            if alive.is_none_or(|alive| alive.is_alive(doc))
                && within.as_ref().is_none_or(|within| within.holds(doc))
            {
                counted += 1;
            }
            doc = docs.advance();
        }
        Ok(counted)
    }
}

/// A segment's count, when counted through the default loop.
pub struct Counted(u64);

impl SegmentCollector for Counted {
    type Fruit = u64;

    fn collect(&mut self, _: DocId, _: Score) {
        self.0 += 1;
    }

    fn harvest(self) -> u64 {
        self.0
    }
}

impl SegmentCollector for TopByScoreSegment {
    type Fruit = Vec<(Score, u64, DocAddress)>;

    fn collect(&mut self, doc: DocId, score: Score) {
        if score <= self.threshold() {
            return;
        }
        self.candidates.push((score, doc));
        let ranked = self.ranked(doc, score);
        if self.best.len() < self.window {
            self.best.push(ranked);
        } else if self.best.peek().is_some_and(|worst| ranked < *worst) {
            self.best.pop();
            self.best.push(ranked);
        }
        if self.best.len() >= self.window
            && let Some(worst) = self.best.peek()
        {
            self.floor.raise(worst.score);
        }
        if self.candidates.len() > 4 * self.window + 64 {
            let threshold = self.threshold();
            self.candidates.retain(|(score, _)| *score > threshold);
        }
    }

    /// The page, ranked on the candidates' scores (the scorer's own once scored again).
    fn harvest(self) -> Self::Fruit {
        let window = self.window;
        let mut page: Vec<Ranked> = self
            .candidates
            .iter()
            .map(|&(score, doc)| self.ranked(doc, score))
            .collect();
        page.sort_unstable();
        page.truncate(window);
        page.into_iter()
            .map(|r| (r.score, r.key, r.address))
            .collect()
    }
}

/// Every matching document within a circle, with its incident start and key: for questions
/// without words, which rank by incident start.
pub struct InCircle {
    pub circle: Circle,
}

pub struct InCircleSegment {
    segment: SegmentOrdinal,
    within: Within,
    start: tantivy::columnar::Column<i64>,
    key: tantivy::columnar::Column<u64>,
    found: Vec<(i64, u64, DocAddress)>,
}

impl Collector for InCircle {
    type Fruit = Vec<(i64, u64, DocAddress)>;
    type Child = InCircleSegment;

    fn for_segment(
        &self,
        segment: SegmentOrdinal,
        reader: &SegmentReader,
    ) -> tantivy::Result<InCircleSegment> {
        let fast = reader.fast_fields();
        Ok(InCircleSegment {
            segment,
            within: Within::new(self.circle, reader)?,
            start: fast.i64("period_start")?,
            key: fast.u64("key")?,
            found: Vec::new(),
        })
    }

    fn requires_scoring(&self) -> bool {
        false
    }

    fn merge_fruits(
        &self,
        fruits: Vec<Vec<(i64, u64, DocAddress)>>,
    ) -> tantivy::Result<Self::Fruit> {
        Ok(fruits.into_iter().flatten().collect())
    }
}

impl SegmentCollector for InCircleSegment {
    type Fruit = Vec<(i64, u64, DocAddress)>;

    fn collect(&mut self, doc: DocId, _: Score) {
        if self.within.holds(doc) {
            let start = self.start.first(doc).unwrap_or(i64::MIN);
            let key = self.key.first(doc).unwrap_or(u64::MAX);
            self.found
                .push((start, key, DocAddress::new(self.segment, doc)));
        }
    }

    fn harvest(self) -> Self::Fruit {
        self.found
    }
}
