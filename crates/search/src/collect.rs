//! Collectors of the index's answers: the page of a question ranked by score with the key
//! breaking ties, pruned as tantivy's own top-k is; a count that stops at a cap; and every match
//! within a circle. Periods, boxes and circles are checked on each candidate's fast fields
//! ([`Checks`]).

use std::cmp::Ordering;
use std::collections::BinaryHeap;
use std::sync::Arc;
use std::sync::atomic::{self, AtomicU32, AtomicU64};

use tantivy::collector::{Collector, SegmentCollector};
use tantivy::columnar::Column;
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
    /// What its fast fields must also hold.
    pub checks: Checks,
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
        let checked = self.checks.of_segment(reader)?;
        weight.for_each_pruning(Score::MIN, reader, &mut |doc, score| {
            let admitted = alive.is_none_or(|alive| alive.is_alive(doc))
                && checked.as_ref().is_none_or(|checked| checked.holds(doc))
                && filter
                    .as_mut()
                    .is_none_or(|filter| holds(filter.as_mut(), doc));
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

/// What a document's fast fields must hold besides: its incident period overlapping a period,
/// its coordinates inside a box and within a circle. Looked up for each candidate the words give,
/// rather than asked as range queries, which read on past each candidate to the next document in
/// range.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Checks {
    /// From and to, in seconds; either may be open.
    pub period: (Option<i64>, Option<i64>),
    /// Min latitude, min longitude, max latitude, max longitude, bounds included.
    pub boxed: Option<(f64, f64, f64, f64)>,
    pub circle: Option<Circle>,
}

impl Checks {
    /// Only within `circle`.
    pub fn within(circle: Circle) -> Self {
        Checks {
            circle: Some(circle),
            ..Checks::default()
        }
    }

    fn of_segment(self, reader: &SegmentReader) -> tantivy::Result<Option<Checked>> {
        let fast = reader.fast_fields();
        let period = if self.period == (None, None) {
            None
        } else {
            Some((fast.i64("period_start")?, fast.i64("period_end")?))
        };
        let place = if self.boxed.is_none() && self.circle.is_none() {
            None
        } else {
            Some((fast.f64("latitude")?, fast.f64("longitude")?))
        };
        Ok((period.is_some() || place.is_some()).then_some(Checked {
            checks: self,
            period,
            place,
        }))
    }
}

/// [`Checks`] with the columns of one segment's documents.
struct Checked {
    checks: Checks,
    period: Option<(Column<i64>, Column<i64>)>,
    place: Option<(Column<f64>, Column<f64>)>,
}

impl Checked {
    fn holds(&self, doc: DocId) -> bool {
        if let Some((start, end)) = &self.period {
            let (Some(start), Some(end)) = (start.first(doc), end.first(doc)) else {
                return false;
            };
            let (from, to) = self.checks.period;
            if to.is_some_and(|to| start > to) || from.is_some_and(|from| end < from) {
                return false;
            }
        }
        if let Some((latitude, longitude)) = &self.place {
            let (Some(lat), Some(lon)) = (latitude.first(doc), longitude.first(doc)) else {
                return false;
            };
            if let Some((min_lat, min_lon, max_lat, max_lon)) = self.checks.boxed
                && !(min_lat <= lat && lat <= max_lat && min_lon <= lon && lon <= max_lon)
            {
                return false;
            }
            if let Some(c) = self.checks.circle
                && km(c.latitude, c.longitude, lat, lon) > c.radius_km
            {
                return false;
            }
        }
        true
    }
}

/// How many documents match and hold the checks, counted up to `cap` and no further: what is
/// past it would cost a read of every match for a figure no one reads exactly.
///
/// The cap is of all segments together: a segment stops once what it and the segments before
/// it counted reach it, rather than each counting up to the cap.
pub struct CountUpTo {
    pub cap: u64,
    pub checks: Checks,
    /// What the segments done so far counted.
    pub counted: Arc<AtomicU64>,
}

impl CountUpTo {
    pub fn new(cap: u64, checks: Checks) -> Self {
        CountUpTo {
            cap,
            checks,
            counted: Arc::default(),
        }
    }
}

/// How many matches a segment counts between two looks at what the others counted.
const COUNT_STRIDE: u64 = 256;

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
        let checked = self.checks.of_segment(reader)?;
        let mut docs = weight.scorer(reader, 1.0)?;
        let mut counted = 0;
        let mut others = self.counted.load(atomic::Ordering::Relaxed);
        let mut doc = docs.doc();
        while doc != TERMINATED && others + counted < self.cap {
            if alive.is_none_or(|alive| alive.is_alive(doc))
                && checked.as_ref().is_none_or(|checked| checked.holds(doc))
            {
                counted += 1;
                if counted % COUNT_STRIDE == 0 {
                    others = self.counted.load(atomic::Ordering::Relaxed);
                }
            }
            doc = docs.advance();
        }
        self.counted.fetch_add(counted, atomic::Ordering::Relaxed);
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
    within: Option<Checked>,
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
            within: Checks::within(self.circle).of_segment(reader)?,
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
        if self.within.as_ref().is_some_and(|within| within.holds(doc)) {
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
