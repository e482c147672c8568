//! Search (issue 20): how texts become search terms, and how a hit is shown.
//!
//! Both databases search the same thing: the text is stemmed here, in Rust, with the
//! German Snowball stemmer (`rust-stemmers`), folded to plain `[a-z0-9]` terms and
//! stored as a space-separated string. SQLite's FTS5 (`unicode61` tokenizer) and
//! PostgreSQL's `to_tsvector('simple', …)` both split such a string into exactly these
//! terms and change none of them, so the same query finds the same rows on both.
//!
//! Umlauts and ß: the stemmer itself turns `ä ö ü` into `a o u` and `ß` into `ss`, so
//! "Beschlüsse", "Beschlusse" and "beschluss" meet. A word written with an umlaut is also
//! indexed under its `ae oe ue` spelling ("Beschluesse"), so a searcher without umlauts
//! on the keyboard finds it too. Other accents are dropped (é → e).

use std::collections::BTreeSet;

use rust_stemmers::{Algorithm, Stemmer};
use unicode_normalization::UnicodeNormalization;

/// The longest query accepted, in characters.
pub const QUERY_MAX_CHARS: usize = 200;
/// At most this many terms of a query are used; the rest are refused with a message.
pub const QUERY_MAX_TERMS: usize = 8;
/// Results per page unless asked otherwise, and the most a page may hold.
pub const PAGE_SIZE_DEFAULT: u32 = 20;
pub const PAGE_SIZE_MAX: u32 = 50;
/// The deepest page one may ask for (deep offsets only cost; narrow the query instead).
pub const PAGE_MAX: u32 = 100;
/// Words around the first hit in a snippet.
const SNIPPET_WORDS: usize = 24;

/// Words a query drops unless it consists of nothing else: they occur everywhere.
const STOP_WORDS: &[&str] = &[
    "der", "die", "das", "den", "dem", "des", "ein", "eine", "einer", "eines", "einem", "einen",
    "und", "oder", "zu", "zur", "zum", "im", "in", "am", "an", "auf", "fur", "für", "mit", "von",
    "vom", "bei", "ist", "the", "a", "an", "and", "or", "of", "to", "for", "on", "with", "by",
];

/// The words of a text with their byte ranges: runs of letters and digits.
fn words(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in text.char_indices() {
        match (c.is_alphanumeric(), start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                out.push((s, &text[s..i]));
                start = None;
            }
            _ => {}
        }
    }
    if let Some(s) = start {
        out.push((s, &text[s..]));
    }
    out.into_iter()
}

/// Folds what the stemmer left: accents dropped, anything but `a-z 0-9` removed.
fn fold(stem: &str) -> String {
    stem.replace('ß', "ss")
        .nfkd()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// Turns texts and queries into terms with one German stemmer (cheap to create).
pub struct Terms {
    stemmer: Stemmer,
}

impl Default for Terms {
    fn default() -> Self {
        Self {
            stemmer: Stemmer::create(Algorithm::German),
        }
    }
}

impl Terms {
    /// The search term of one word, or `None` when nothing searchable is left.
    pub fn term(&self, word: &str) -> Option<String> {
        // Accents the German stemmer does not know go before it stems (é → e), so
        // "Résumé" and "resume" lose the same ending.
        let lower: String = word
            .to_lowercase()
            .chars()
            .flat_map(|c| {
                let keep = matches!(c, 'ä' | 'ö' | 'ü' | 'ß') || c.is_ascii();
                let folded: Vec<char> = if keep {
                    vec![c]
                } else {
                    std::iter::once(c)
                        .nfkd()
                        .filter(|d| !unicode_normalization::char::is_combining_mark(*d))
                        .collect()
                };
                folded
            })
            .collect();
        let term = fold(&self.stemmer.stem(&lower));
        (!term.is_empty()).then_some(term)
    }

    /// The term of a word spelled with `ae oe ue ss` for `ä ö ü ß`, when it has any.
    fn transliterated(&self, word: &str) -> Option<String> {
        let lower = word.to_lowercase();
        if !lower.contains(['ä', 'ö', 'ü', 'ß']) {
            return None;
        }
        let spelled = lower
            .replace('ä', "ae")
            .replace('ö', "oe")
            .replace('ü', "ue")
            .replace('ß', "ss");
        self.term(&spelled)
    }

    /// What the index stores for a text: its distinct terms, space-separated, sorted.
    pub fn index(&self, text: &str) -> String {
        let mut terms = BTreeSet::new();
        for (_, word) in words(text) {
            terms.extend(self.term(word));
            terms.extend(self.transliterated(word));
        }
        terms.into_iter().collect::<Vec<_>>().join(" ")
    }

    /// The terms of a query, all of which a hit must contain: distinct, in the order
    /// typed, stop words dropped unless the query has nothing else.
    pub fn query(&self, query: &str) -> Result<Vec<String>, QueryError> {
        let query = query.trim();
        if query.chars().count() > QUERY_MAX_CHARS {
            return Err(QueryError::TooLong);
        }
        let all: Vec<&str> = words(query).map(|(_, w)| w).collect();
        let content: Vec<&str> = all
            .iter()
            .copied()
            .filter(|w| !STOP_WORDS.contains(&w.to_lowercase().as_str()))
            .collect();
        let chosen = if content.is_empty() { all } else { content };
        let mut terms: Vec<String> = Vec::new();
        for word in chosen {
            if let Some(t) = self.term(word)
                && !terms.contains(&t)
            {
                terms.push(t);
            }
        }
        if terms.is_empty() {
            return Err(QueryError::Empty);
        }
        if terms.len() > QUERY_MAX_TERMS {
            return Err(QueryError::TooManyTerms);
        }
        Ok(terms)
    }

    /// A piece of `text` around its first word that matches one of `terms`, with every
    /// matching word marked; the opening of the text when none matches.
    pub fn snippet(&self, text: &str, terms: &[String]) -> Vec<Segment> {
        let list: Vec<(usize, &str)> = words(text).collect();
        if list.is_empty() {
            return Vec::new();
        }
        let hits: Vec<bool> = list
            .iter()
            .map(|(_, w)| {
                self.term(w).is_some_and(|t| terms.contains(&t))
                    || self.transliterated(w).is_some_and(|t| terms.contains(&t))
            })
            .collect();
        let first = hits.iter().position(|h| *h).unwrap_or(0);
        let from = first.saturating_sub(SNIPPET_WORDS / 3);
        let to = (from + SNIPPET_WORDS).min(list.len());
        let mut out: Vec<Segment> = Vec::new();
        if from > 0 {
            out.push(Segment::plain("… "));
        }
        // Between two words keep what the text has (spaces, punctuation), so the snippet
        // reads like the text.
        let start = list[from].0;
        let mut at = start;
        for i in from..to {
            let (pos, word) = list[i];
            if pos > at {
                out.push(Segment::plain(&text[at..pos]));
            }
            out.push(Segment {
                text: word.to_owned(),
                hit: hits[i],
            });
            at = pos + word.len();
        }
        if to < list.len() {
            out.push(Segment::plain(" …"));
        }
        // Merge neighbouring plain pieces.
        let mut merged: Vec<Segment> = Vec::new();
        for s in out {
            match merged.last_mut() {
                Some(last) if !last.hit && !s.hit => last.text.push_str(&s.text),
                _ => merged.push(s),
            }
        }
        merged
    }
}

/// A piece of a snippet; `hit` pieces are shown marked (`<mark>`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Segment {
    pub text: String,
    pub hit: bool,
}

impl Segment {
    fn plain(text: &str) -> Self {
        Self {
            text: text.to_owned(),
            hit: false,
        }
    }
}

/// Why a query was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueryError {
    Empty,
    TooLong,
    TooManyTerms,
}

impl QueryError {
    /// The stable code of the API's error.
    pub fn code(self) -> &'static str {
        match self {
            Self::Empty => "search-query-empty",
            Self::TooLong => "search-query-too-long",
            Self::TooManyTerms => "search-query-too-many-terms",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(text: &str) -> Vec<String> {
        Terms::default()
            .index(text)
            .split(' ')
            .map(str::to_owned)
            .collect()
    }

    fn query(text: &str) -> Vec<String> {
        Terms::default().query(text).expect("valid query")
    }

    fn finds(text: &str, q: &str) -> bool {
        let stored = index(text);
        query(q).iter().all(|t| stored.contains(t))
    }

    #[test]
    fn inflected_forms_meet_in_one_stem() {
        assert!(finds("Beschluss zur Cloud-Strategie", "Beschlüsse"));
        assert!(finds("Die Beschlüsse des Rates", "beschluss"));
        assert!(finds("Digitalisierung der Verwaltungen", "Verwaltung"));
        assert!(finds("Registermodernisierung", "REGISTERMODERNISIERUNG"));
        assert!(!finds("Beschluss zur Cloud", "Verwaltung"));
    }

    #[test]
    fn umlauts_and_sharp_s_are_folded() {
        assert!(finds("Die Beschlüsse", "Beschlusse"));
        assert!(finds("Die Beschlüsse", "Beschluesse"));
        assert!(finds("Straße", "strasse"));
        assert!(finds("Größe der Länder", "Lander"));
        assert!(finds("Café und Résumé", "resume"));
        for term in index("Überprüfung der Maßnahmen à la carte") {
            assert!(
                term.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            );
        }
    }

    #[test]
    fn numbers_are_terms() {
        assert!(finds("Beschluss 2024/15", "2024"));
        assert!(finds("46. Sitzung", "46"));
    }

    #[test]
    fn every_query_term_must_match() {
        assert!(finds("Cloud-Strategie der Verwaltung", "cloud verwaltung"));
        assert!(!finds("Cloud-Strategie", "cloud verwaltung"));
    }

    #[test]
    fn stop_words_are_dropped_unless_alone() {
        assert_eq!(query("die Beschlüsse"), vec!["beschluss"]);
        assert_eq!(query("die"), vec!["die"]);
    }

    #[test]
    fn bad_queries_are_refused() {
        let t = Terms::default();
        assert_eq!(t.query("   "), Err(QueryError::Empty));
        assert_eq!(t.query("--- ..."), Err(QueryError::Empty));
        assert_eq!(t.query(&"a".repeat(201)), Err(QueryError::TooLong));
        assert_eq!(
            t.query("eins zwei drei vier fünf sechs sieben acht neun"),
            Err(QueryError::TooManyTerms)
        );
    }

    #[test]
    fn the_index_holds_each_term_once_in_order() {
        assert_eq!(Terms::default().index("Cloud cloud Clouds"), "cloud");
        assert_eq!(Terms::default().index("Zeit Amt"), "amt zeit");
    }

    #[test]
    fn the_snippet_marks_the_matching_words() {
        let t = Terms::default();
        let terms = t.query("Beschlüsse").expect("valid");
        let s = t.snippet("Der Rat fasst Beschlüsse, ein Beschluss gilt.", &terms);
        let marked: Vec<&str> = s
            .iter()
            .filter(|x| x.hit)
            .map(|x| x.text.as_str())
            .collect();
        assert_eq!(marked, vec!["Beschlüsse", "Beschluss"]);
        let text: String = s.iter().map(|x| x.text.as_str()).collect();
        assert_eq!(text, "Der Rat fasst Beschlüsse, ein Beschluss gilt");
    }

    #[test]
    fn a_long_text_is_cut_around_the_hit() {
        let t = Terms::default();
        let mut text = "Wort ".repeat(100);
        text.push_str("Registermodernisierung am Ende ");
        text.push_str(&"Wort ".repeat(100));
        let s = t.snippet(&text, &t.query("Registermodernisierung").expect("valid"));
        assert!(s.first().is_some_and(|x| x.text.starts_with('…')));
        assert!(s.last().is_some_and(|x| x.text.ends_with('…')));
        assert!(s.iter().any(|x| x.hit));
    }
}
