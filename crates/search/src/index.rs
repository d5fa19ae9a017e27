//! A tantivy index of records (allegations in intake, cases in case management): its schema,
//! writing documents and asking.
//!
//! One document per record, replaced whole whenever an event touches it. The text (an
//! allegation's narrative, place, administrative area, perpetrators' units and descriptions, never
//! its source; a case's title, summary and place) is indexed three ways: stemmed for English (`text_en`) and Russian (`text_ru`) — tantivy has no
//! Armenian, Azerbaijani or Ukrainian stemmer — as written, lower-cased (`text_plain`), and folded
//! to a script-independent key ([`crate::fold`], `fold`). Filters are exact terms (status,
//! channel, violation types, parties) and ranges over fast fields (coordinates, incident period).

use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use tantivy::collector::sort_key::SortByStaticFastValue;
use tantivy::collector::{Count, TopDocs};
use tantivy::query::{
    AllQuery, BooleanQuery, BoostQuery, ConstScoreQuery, EnableScoring, Occur, Query, QueryClone,
    RangeQuery, TermQuery,
};
use tantivy::schema::{
    Field, IndexRecordOption, NumericOptions, STORED, STRING, Schema, TextFieldIndexing,
    TextOptions, Value,
};
use tantivy::{
    DocAddress, Index, IndexReader, IndexWriter, Order, ReloadPolicy, TantivyDocument, Term,
};

use crate::analysis::{marker, primary, register_tokenizers};
use crate::collect::{Checks, CountUpTo, Floor, InCircle, TopByScore};
use crate::fold::{fold_text, fold_word};
use crate::geo::Circle;

/// Memory of the index writer (tantivy wants at least 15 MB a thread; one thread).
const WRITER_MEMORY: usize = 64 * 1024 * 1024;

/// The language tag of a text of no one language (BCP 47 "undetermined"): it is stemmed in
/// every language that has a stemmer.
pub const UNDETERMINED: &str = "und";

/// What one record contributes to the index.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Indexed {
    pub id: String,
    pub reference: String,
    /// The record's status, as its wire enum's value.
    pub status: i32,
    /// An allegation's channel, as its wire enum's value; 0 for a case.
    pub channel: i32,
    /// The text's BCP 47 language tag, or [`UNDETERMINED`].
    pub language: String,
    /// A case's title (stored, not searched apart from `narrative`); empty for an allegation.
    pub title: String,
    /// The main text, searched and highlighted: an allegation's narrative, a case's title and
    /// summary.
    pub narrative: String,
    /// The rest of the text searched: place, administrative area, and for an allegation the
    /// units and descriptions of perpetrators.
    pub other_text: String,
    pub place_name: String,
    pub violation_types: Vec<i32>,
    pub party_codes: Vec<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    /// Incident period, in seconds since the epoch; the end is the start when not given.
    pub period: Option<(i64, i64)>,
    pub received: i64,
}

#[derive(Debug, Clone, Copy)]
pub struct Fields {
    pub id: Field,
    pub reference: Field,
    pub status: Field,
    pub channel: Field,
    pub language: Field,
    pub title: Field,
    pub narrative: Field,
    pub text_en: Field,
    pub text_ru: Field,
    pub text_plain: Field,
    pub fold: Field,
    pub place_name: Field,
    pub violation: Field,
    pub party: Field,
    pub latitude: Field,
    pub longitude: Field,
    pub period_start: Field,
    pub period_end: Field,
    pub received: Field,
    /// A number unique to the allegation (the first 64 bits of its UUID v7), breaking ties of
    /// rank the same way however the index was built.
    pub key: Field,
}

fn text(tokenizer: &str) -> TextOptions {
    TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer(tokenizer)
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    )
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let number = || {
        NumericOptions::default()
            .set_indexed()
            .set_fast()
            .set_stored()
    };
    let fields = Fields {
        id: b.add_text_field("id", STRING | STORED),
        reference: b.add_text_field("reference", STORED),
        status: b.add_u64_field("status", number()),
        channel: b.add_u64_field("channel", number()),
        language: b.add_text_field("language", STORED),
        title: b.add_text_field("title", STORED),
        narrative: b.add_text_field("narrative", STORED),
        text_en: b.add_text_field("text_en", text("docket_en")),
        text_ru: b.add_text_field("text_ru", text("docket_ru")),
        text_plain: b.add_text_field("text_plain", text("docket_plain")),
        fold: b.add_text_field("fold", text("docket_fold")),
        place_name: b.add_text_field("place_name", STORED),
        violation: b.add_u64_field(
            "violation",
            NumericOptions::default().set_indexed().set_stored(),
        ),
        party: b.add_text_field("party", STRING | STORED),
        latitude: b.add_f64_field("latitude", number()),
        longitude: b.add_f64_field("longitude", number()),
        period_start: b.add_i64_field("period_start", number()),
        period_end: b.add_i64_field("period_end", number()),
        received: b.add_i64_field("received", number()),
        key: b.add_u64_field("key", NumericOptions::default().set_fast()),
    };
    (b.build(), fields)
}

pub struct Live {
    pub dir: PathBuf,
    index: Index,
    reader: IndexReader,
    /// `None` once [`Live::close`] has stopped it.
    writer: Mutex<Option<IndexWriter>>,
    pub fields: Fields,
}

impl std::fmt::Debug for Live {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Live")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

/// A query over the index, checked.
#[derive(Debug, Clone, Default)]
pub struct Ask {
    pub words: String,
    pub period: (Option<i64>, Option<i64>),
    /// min latitude, min longitude, max latitude, max longitude.
    pub boxed: Option<(f64, f64, f64, f64)>,
    pub party_codes: Vec<String>,
    pub violation_types: Vec<i32>,
    pub statuses: Vec<i32>,
    pub channels: Vec<i32>,
    /// Only documents other than this id.
    pub except: Option<String>,
}

/// One document found.
#[derive(Debug, Clone)]
pub struct Found {
    pub score: f32,
    pub doc: Indexed,
    pub highlight: String,
}

/// Questions of up to this many terms (four per word) are pruned; see [`Live::search`].
const PRUNED_TERMS: usize = 32;

/// Matches past this many are not counted: the answer says "at least" this many.
pub const COUNT_CAP: u64 = 10_000;

/// How many documents match a question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Total {
    /// Exact, or [`COUNT_CAP`] when there are more.
    pub count: u64,
    /// Whether there are more than `count`.
    pub more: bool,
}

impl Total {
    fn exact(count: u64) -> Self {
        Total { count, more: false }
    }

    /// Of a count stopped at one past the cap.
    fn of(counted: u64) -> Self {
        Total {
            count: counted.min(COUNT_CAP),
            more: counted > COUNT_CAP,
        }
    }
}

impl Live {
    /// Opens the index in `dir`, or creates an empty one when there is none. Returns the index
    /// and the last event sequence it holds (its commit payload; 0 when new).
    ///
    /// An index that cannot be opened — of another schema (an earlier version's), or damaged —
    /// is only a projection: it is dropped and built again from the event stream.
    pub fn open(dir: &Path) -> tantivy::Result<(Self, i64)> {
        match Self::open_in(dir) {
            Ok(opened) => Ok(opened),
            // Not the index's fault: the disk, or another writer (of this process, not yet
            // closed, or of another) holding the directory.
            Err(
                error
                @ (tantivy::TantivyError::IoError(_) | tantivy::TantivyError::LockFailure(..)),
            ) => Err(error),
            Err(why) => {
                tracing::warn!(dir = %dir.display(), %why, "the search index cannot be opened; rebuilding it");
                std::fs::remove_dir_all(dir)?;
                Self::open_in(dir)
            }
        }
    }

    fn open_in(dir: &Path) -> tantivy::Result<(Self, i64)> {
        std::fs::create_dir_all(dir)?;
        let (schema, fields) = schema();
        let directory = tantivy::directory::MmapDirectory::open(dir)?;
        let mut index = Index::open_or_create(directory, schema)?;
        // The segments of one question are searched in parallel, on a pool of a thread per
        // core: a lone question takes the cores an idle replica has, and under load questions
        // share them as they would anyway.
        let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
        if threads > 1 {
            index.set_multithread_executor(threads)?;
        }
        register_tokenizers(&index);
        let applied = index
            .load_metas()?
            .payload
            .and_then(|p| p.parse::<i64>().ok())
            .unwrap_or(0);
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        let writer = index.writer_with_num_threads(1, WRITER_MEMORY)?;
        Ok((
            Self {
                dir: dir.to_owned(),
                index,
                reader,
                writer: Mutex::new(Some(writer)),
                fields,
            },
            applied,
        ))
    }

    /// Stops the writer and waits for its merges, so that nothing of this index is written to
    /// its directory any more: before a new index is made there in its place, whose files a late
    /// merge of this one would overwrite (its `meta.json` naming segments that are gone).
    pub fn close(&self) {
        let writer = self
            .writer
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(writer) = writer
            && let Err(error) = writer.wait_merging_threads()
        {
            tracing::debug!(%error, "a merge of the closed search index failed");
        }
    }

    /// Replaces the documents of `docs` (and removes those of `removed`) and commits with
    /// `sequence` as the last event applied, then lets readers see it.
    pub fn write(
        &self,
        docs: &[Indexed],
        removed: &[String],
        sequence: i64,
    ) -> tantivy::Result<()> {
        let f = self.fields;
        let mut guard = self
            .writer
            .lock()
            .map_err(|_| tantivy::TantivyError::InternalError("index writer poisoned".into()))?;
        let writer = guard
            .as_mut()
            .ok_or_else(|| tantivy::TantivyError::InternalError("index closed".into()))?;
        for id in removed.iter().chain(docs.iter().map(|d| &d.id)) {
            writer.delete_term(Term::from_field_text(f.id, id));
        }
        for d in docs {
            let mut doc = TantivyDocument::default();
            doc.add_text(f.id, &d.id);
            doc.add_text(f.reference, &d.reference);
            doc.add_u64(f.status, d.status.max(0) as u64);
            doc.add_u64(f.channel, d.channel.max(0) as u64);
            doc.add_text(f.language, &d.language);
            if !d.title.is_empty() {
                doc.add_text(f.title, &d.title);
            }
            doc.add_text(f.narrative, &d.narrative);
            doc.add_text(f.place_name, &d.place_name);
            let all = format!("{}\n{}", d.narrative, d.other_text);
            let lang = primary(&d.language).to_ascii_lowercase();
            // Each text goes to the analyzer of its language, and as written to every reader.
            match lang.as_str() {
                "en" => doc.add_text(f.text_en, &all),
                "ru" => doc.add_text(f.text_ru, &all),
                UNDETERMINED => {
                    doc.add_text(f.text_en, &all);
                    doc.add_text(f.text_ru, &all);
                }
                _ => {}
            }
            doc.add_text(f.text_plain, &all);
            doc.add_text(f.fold, fold_text(&all));
            for v in &d.violation_types {
                doc.add_u64(f.violation, (*v).max(0) as u64);
            }
            for p in &d.party_codes {
                doc.add_text(f.party, p);
            }
            if let (Some(lat), Some(lon)) = (d.latitude, d.longitude) {
                doc.add_f64(f.latitude, lat);
                doc.add_f64(f.longitude, lon);
            }
            if let Some((start, end)) = d.period {
                doc.add_i64(f.period_start, start);
                doc.add_i64(f.period_end, end);
            }
            doc.add_i64(f.received, d.received);
            doc.add_u64(f.key, tie_key(&d.id));
            writer.add_document(doc)?;
        }
        let mut commit = writer.prepare_commit()?;
        commit.set_payload(&sequence.to_string());
        commit.commit()?;
        drop(guard);
        self.reader.reload()
    }

    /// The union of the terms of `words`, and how many terms it has.
    fn words_query(&self, words: &str) -> tantivy::Result<Option<(Box<dyn Query>, usize)>> {
        let f = self.fields;
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        // Each analyzer's terms of the words, against the field it analyzed.
        for (field, name, boost) in [
            (f.text_en, "docket_en", 1.0),
            (f.text_ru, "docket_ru", 1.0),
            (f.text_plain, "docket_plain", 1.2),
        ] {
            let mut analyzer = self
                .index
                .tokenizers()
                .get(name)
                .ok_or_else(|| tantivy::TantivyError::InternalError(format!("no {name}")))?;
            let mut stream = analyzer.token_stream(words);
            while stream.advance() {
                let term = Term::from_field_text(field, &stream.token().text);
                clauses.push((
                    Occur::Should,
                    Box::new(BoostQuery::new(
                        Box::new(TermQuery::new(term, IndexRecordOption::WithFreqs)),
                        boost,
                    )),
                ));
            }
        }
        for word in words.split(|c: char| !c.is_alphanumeric()) {
            let key = fold_word(word);
            if key.is_empty() {
                continue;
            }
            clauses.push((
                Occur::Should,
                Box::new(BoostQuery::new(
                    Box::new(TermQuery::new(
                        Term::from_field_text(f.fold, &key),
                        IndexRecordOption::WithFreqs,
                    )),
                    0.6,
                )),
            ));
        }
        if clauses.is_empty() {
            return Ok(None);
        }
        let terms = clauses.len();
        Ok(Some((Box::new(BooleanQuery::new(clauses)), terms)))
    }

    /// The filters of `ask` as queries: its terms, and its period and box as ranges when
    /// `ranges` (else they are [`Checks`] on each candidate).
    fn filters(&self, ask: &Ask, ranges: bool) -> Vec<(Occur, Box<dyn Query>)> {
        let f = self.fields;
        let mut must: Vec<(Occur, Box<dyn Query>)> = Vec::new();
        let any_of = |terms: Vec<Term>| -> Box<dyn Query> {
            Box::new(BooleanQuery::new(
                terms
                    .into_iter()
                    .map(|t| {
                        (
                            Occur::Should,
                            Box::new(TermQuery::new(t, IndexRecordOption::Basic)) as Box<dyn Query>,
                        )
                    })
                    .collect(),
            ))
        };
        if !ask.statuses.is_empty() {
            must.push((
                Occur::Must,
                any_of(
                    ask.statuses
                        .iter()
                        .map(|s| Term::from_field_u64(f.status, *s as u64))
                        .collect(),
                ),
            ));
        }
        if !ask.channels.is_empty() {
            must.push((
                Occur::Must,
                any_of(
                    ask.channels
                        .iter()
                        .map(|s| Term::from_field_u64(f.channel, *s as u64))
                        .collect(),
                ),
            ));
        }
        if !ask.violation_types.is_empty() {
            must.push((
                Occur::Must,
                any_of(
                    ask.violation_types
                        .iter()
                        .map(|s| Term::from_field_u64(f.violation, *s as u64))
                        .collect(),
                ),
            ));
        }
        if !ask.party_codes.is_empty() {
            must.push((
                Occur::Must,
                any_of(
                    ask.party_codes
                        .iter()
                        .map(|p| Term::from_field_text(f.party, p))
                        .collect(),
                ),
            ));
        }
        // Overlap of [start, end] with [from, to]: start <= to and end >= from.
        let (from, to) = ask.period;
        if ranges && (from.is_some() || to.is_some()) {
            must.push((
                Occur::Must,
                Box::new(RangeQuery::new(
                    Bound::Included(Term::from_field_i64(f.period_start, i64::MIN)),
                    Bound::Included(Term::from_field_i64(f.period_start, to.unwrap_or(i64::MAX))),
                )),
            ));
            must.push((
                Occur::Must,
                Box::new(RangeQuery::new(
                    Bound::Included(Term::from_field_i64(f.period_end, from.unwrap_or(i64::MIN))),
                    Bound::Included(Term::from_field_i64(f.period_end, i64::MAX)),
                )),
            ));
        }
        if let Some((min_lat, min_lon, max_lat, max_lon)) = ask.boxed.filter(|_| ranges) {
            must.push((
                Occur::Must,
                Box::new(RangeQuery::new(
                    Bound::Included(Term::from_field_f64(f.latitude, min_lat)),
                    Bound::Included(Term::from_field_f64(f.latitude, max_lat)),
                )),
            ));
            must.push((
                Occur::Must,
                Box::new(RangeQuery::new(
                    Bound::Included(Term::from_field_f64(f.longitude, min_lon)),
                    Bound::Included(Term::from_field_f64(f.longitude, max_lon)),
                )),
            ));
        }
        if let Some(except) = &ask.except {
            must.push((
                Occur::MustNot,
                Box::new(TermQuery::new(
                    Term::from_field_text(f.id, except),
                    IndexRecordOption::Basic,
                )),
            ));
        }
        must
    }

    /// The documents matching `ask` (and lying within `circle`), `offset` and `limit` into
    /// the ranking — by relevance with words, by incident start, newest first, without — and
    /// how many match in all.
    pub fn search(
        &self,
        ask: &Ask,
        circle: Option<Circle>,
        offset: usize,
        limit: usize,
        highlight: bool,
    ) -> tantivy::Result<(Vec<Found>, Total)> {
        let searcher = self.reader.searcher();
        let words = self.words_query(&ask.words)?;
        let has_words = words.is_some();
        // With words, periods and places are checked on each candidate; without, they are
        // ranges that find the documents.
        let mut filters = self.filters(ask, words.is_none());
        let checks = Checks {
            period: ask.period,
            boxed: ask.boxed,
            circle,
        };
        if !filters.is_empty() && filters.iter().all(|(o, _)| *o == Occur::MustNot) {
            filters.push((Occur::Must, Box::new(AllQuery)));
        }
        let filter = (!filters.is_empty()).then(|| BooleanQuery::new(filters));
        let window = offset.saturating_add(limit).max(1);
        let (page, total): (Vec<(f32, DocAddress)>, Total) = match (words, filter) {
            // A few words alone are the pruned question (a union of terms, which tantivy ranks
            // with block-WAND), the filters and the circle looked up for each candidate. Many
            // words (a whole narrative, as similar allegations ask) are not: block-WAND orders
            // its terms again at every step, which costs more than it skips.
            (Some((words, terms)), filter) => {
                // The words and the filters, which add nothing to the score: it is the words'
                // alone, whichever way the page is collected.
                let both = BooleanQuery::new(
                    filter
                        .iter()
                        .map(|f| {
                            let unscored = ConstScoreQuery::new(Box::new(f.clone()), 0.0);
                            (Occur::Must, Box::new(unscored) as Box<dyn Query>)
                        })
                        .chain([(Occur::Must, words.box_clone())])
                        .collect(),
                );
                let page = if terms <= PRUNED_TERMS {
                    let filter = filter
                        .map(|f| f.weight(EnableScoring::disabled_from_searcher(&searcher)))
                        .transpose()?;
                    let top = TopByScore {
                        window,
                        filter,
                        checks,
                        wand: true,
                        floor: Floor::default(),
                    };
                    searcher.search(words.as_ref(), &top)?
                } else {
                    let top = TopByScore {
                        window,
                        filter: None,
                        checks,
                        wand: false,
                        floor: Floor::default(),
                    };
                    searcher.search(&both, &top)?
                };
                let counted = searcher.search(&both, &CountUpTo::new(COUNT_CAP + 1, checks))?;
                (page, Total::of(counted))
            }
            (None, filter) => {
                let query: Box<dyn Query> = match filter {
                    Some(filter) => Box::new(filter),
                    None => Box::new(AllQuery),
                };
                self.by_start(&searcher, query.as_ref(), circle, window)?
            }
        };
        let mut marker = if highlight && has_words {
            Some(marker(self.index.tokenizers(), &ask.words))
        } else {
            None
        };
        let mut found = Vec::new();
        for (score, address) in page.into_iter().skip(offset) {
            let doc: TantivyDocument = searcher.doc(address)?;
            let indexed = self.read(&doc);
            let highlight = marker
                .as_mut()
                .map(|m| m.passage(&indexed.narrative))
                .unwrap_or_default();
            found.push(Found {
                score,
                doc: indexed,
                highlight,
            });
        }
        Ok((found, total))
    }

    /// Without words: the documents of `query` (within `circle`) by incident start, newest
    /// first, ties by key, and how many there are (exactly: every match is read anyway).
    fn by_start(
        &self,
        searcher: &tantivy::Searcher,
        query: &dyn Query,
        circle: Option<Circle>,
        window: usize,
    ) -> tantivy::Result<(Vec<(f32, DocAddress)>, Total)> {
        if let Some(circle) = circle {
            // A circle is searched as its box (among the filters); the box's corners are left
            // out here, reading the coordinates from the fast fields.
            let mut all = searcher.search(query, &InCircle { circle })?;
            let total = Total::exact(all.len() as u64);
            all.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
            all.truncate(window);
            return Ok((all.into_iter().map(|(_, _, a)| (0.0, a)).collect(), total));
        }
        let (top, count) = searcher.search(
            query,
            &(
                TopDocs::with_limit(window).order_by((
                    (
                        SortByStaticFastValue::<i64>::for_field("period_start"),
                        Order::Desc,
                    ),
                    (SortByStaticFastValue::<u64>::for_field("key"), Order::Asc),
                )),
                Count,
            ),
        )?;
        Ok((
            top.into_iter().map(|(_, a)| (0.0, a)).collect(),
            Total::exact(count as u64),
        ))
    }

    fn read(&self, doc: &TantivyDocument) -> Indexed {
        let f = self.fields;
        let text = |field| {
            doc.get_first(field)
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default()
        };
        let u = |field| doc.get_first(field).and_then(|v| v.as_u64()).unwrap_or(0) as i32;
        let fl = |field| doc.get_first(field).and_then(|v| v.as_f64());
        let i = |field| doc.get_first(field).and_then(|v| v.as_i64());
        Indexed {
            id: text(f.id),
            reference: text(f.reference),
            status: u(f.status),
            channel: u(f.channel),
            language: text(f.language),
            title: text(f.title),
            narrative: text(f.narrative),
            other_text: String::new(),
            place_name: text(f.place_name),
            violation_types: doc
                .get_all(f.violation)
                .filter_map(|v| v.as_u64())
                .map(|v| v as i32)
                .collect(),
            party_codes: doc
                .get_all(f.party)
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            latitude: fl(f.latitude),
            longitude: fl(f.longitude),
            period: i(f.period_start).zip(i(f.period_end)),
            received: i(f.received).unwrap_or(0),
        }
    }

    /// The stored document of `id`, if indexed.
    pub fn get(&self, id: &str) -> tantivy::Result<Option<Indexed>> {
        let searcher = self.reader.searcher();
        let query = TermQuery::new(
            Term::from_field_text(self.fields.id, id),
            IndexRecordOption::Basic,
        );
        let top = searcher.search(&query, &TopDocs::with_limit(1).order_by_score())?;
        match top.first() {
            Some((_, address)) => {
                let doc: TantivyDocument = searcher.doc(*address)?;
                Ok(Some(self.read(&doc)))
            }
            None => Ok(None),
        }
    }
}

/// The tie-break of an allegation id: the first 64 bits of its UUID (time-ordered for v7).
fn tie_key(id: &str) -> u64 {
    uuid::Uuid::parse_str(id).map_or(u64::MAX, |u| u.as_u64_pair().0)
}

#[cfg(test)]
mod tests;
