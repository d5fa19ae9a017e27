//! How text is analysed: the analyzers of each field, and the marking of a question's words
//! in a found text (its highlight).

use std::collections::HashSet;

use tantivy::Index;
use tantivy::tokenizer::{
    Language, LowerCaser, RemoveLongFilter, SimpleTokenizer, Stemmer, TextAnalyzer,
    TokenizerManager, WhitespaceTokenizer,
};

use crate::fold::fold_word;

fn analyzer(language: Option<Language>) -> TextAnalyzer {
    let builder = TextAnalyzer::builder(SimpleTokenizer::default())
        .filter(RemoveLongFilter::limit(60))
        .filter(LowerCaser);
    match language {
        Some(language) => builder.filter(Stemmer::new(language)).build(),
        None => builder.build(),
    }
}

pub(crate) fn register_tokenizers(index: &Index) {
    let manager = index.tokenizers();
    manager.register("docket_en", analyzer(Some(Language::English)));
    manager.register("docket_ru", analyzer(Some(Language::Russian)));
    manager.register("docket_plain", analyzer(None));
    manager.register(
        "docket_fold",
        TextAnalyzer::builder(WhitespaceTokenizer::default()).build(),
    );
}

/// What marks the words of `words` in a text: as written, by their English or Russian stems, or
/// folded whatever the script.
pub(crate) fn marker(tokenizers: &TokenizerManager, words: &str) -> Marker {
    let mut marker = Marker {
        analyzers: Vec::new(),
        forms: Default::default(),
        folded: Default::default(),
    };
    for name in ["docket_plain", "docket_en", "docket_ru"] {
        if let Some(mut analyzer) = tokenizers.get(name) {
            {
                let mut stream = analyzer.token_stream(words);
                while stream.advance() {
                    marker.forms.insert(stream.token().text.clone());
                }
            }
            marker.analyzers.push(analyzer);
        }
    }
    for word in words.split(|c: char| !c.is_alphanumeric()) {
        let key = fold_word(word);
        if !key.is_empty() {
            marker.folded.insert(key);
        }
    }
    marker
}

/// The primary language subtag of a BCP 47 tag (`ru-RU` → `ru`).
pub fn primary(tag: &str) -> &str {
    let end = tag.find(['-', '_']).unwrap_or(tag.len());
    &tag[..end]
}

/// The longest passage shown, in characters.
const PASSAGE: usize = 240;
/// How much of the text before the first word found the passage shows, in characters.
const LEAD: usize = 60;

/// Marks the words of a question in a text.
pub(crate) struct Marker {
    analyzers: Vec<TextAnalyzer>,
    forms: HashSet<String>,
    folded: HashSet<String>,
}

impl Marker {
    fn matches(&mut self, word: &str) -> bool {
        for analyzer in &mut self.analyzers {
            let mut stream = analyzer.token_stream(word);
            while stream.advance() {
                if self.forms.contains(&stream.token().text) {
                    return true;
                }
            }
        }
        let key = fold_word(word);
        !key.is_empty() && self.folded.contains(&key)
    }

    /// A passage of `text` around the first word found, HTML-escaped, with each word found
    /// between `<b>` and `</b>`; empty when none is.
    pub(crate) fn passage(&mut self, text: &str) -> String {
        // Words with their character offsets.
        let chars: Vec<char> = text.chars().collect();
        let mut words = Vec::new();
        let mut i = 0;
        while i < chars.len() {
            if chars[i].is_alphanumeric() {
                let start = i;
                while i < chars.len() && chars[i].is_alphanumeric() {
                    i += 1;
                }
                words.push((start, i));
            } else {
                i += 1;
            }
        }
        let mut marked = Vec::new();
        for (start, end) in words {
            let word: String = chars[start..end].iter().collect();
            if self.matches(&word) {
                marked.push((start, end));
            }
        }
        let Some(first) = marked.first().map(|m| m.0) else {
            return String::new();
        };
        let from = first.saturating_sub(LEAD);
        let to = (from + PASSAGE).min(chars.len());
        let mut out = String::new();
        if from > 0 {
            out.push('…');
        }
        let mut at = from;
        for (start, end) in marked.into_iter().filter(|(s, e)| *s >= from && *e <= to) {
            escape(&mut out, &chars[at..start]);
            out.push_str("<b>");
            escape(&mut out, &chars[start..end]);
            out.push_str("</b>");
            at = end;
        }
        escape(&mut out, &chars[at..to]);
        if to < chars.len() {
            out.push('…');
        }
        out
    }
}

fn escape(out: &mut String, chars: &[char]) {
    for c in chars {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(*c),
        }
    }
}
