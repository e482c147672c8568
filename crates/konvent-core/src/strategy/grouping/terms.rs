//! From text to terms: German words split, lower-cased and without stop words or
//! numbers, each reduced to its Snowball stem, and long compounds counted also by the
//! known stems they start or end with.

use std::collections::{BTreeMap, HashMap};

use rust_stemmers::{Algorithm, Stemmer};

use super::Terms;
use super::stop_words::STOP_WORDS;

/// Compound parts are only looked for in words at least this long, and are at least
/// `PART` characters.
const COMPOUND: usize = 10;
const PART: usize = 4;

/// Turns texts into terms, sharing one stemmer and one vocabulary for compounds.
pub struct Analyzer {
    pub(super) stemmer: Stemmer,
}

impl Default for Analyzer {
    fn default() -> Self {
        Self {
            stemmer: Stemmer::create(Algorithm::German),
        }
    }
}

impl Analyzer {
    /// The lower-cased words of `text` that are not stop words, with their stems.
    pub fn words(&self, text: &str) -> Vec<(String, String)> {
        tokens(text)
            .map(|w| (self.stemmer.stem(&w).into_owned(), w))
            .collect()
    }

    /// Every text's terms: its stems, plus the stems of other texts that a long word of
    /// it starts or ends with.
    pub fn terms(&self, texts: &[&str]) -> (Vec<Terms>, HashMap<String, String>) {
        // Impulses repeat their words: each distinct word is stemmed once.
        let mut stems: HashMap<String, String> = HashMap::new();
        let words: Vec<Vec<(String, String)>> = texts
            .iter()
            .map(|t| {
                tokens(t)
                    .map(|w| {
                        let stem = stems
                            .entry(w.clone())
                            .or_insert_with(|| self.stemmer.stem(&w).into_owned())
                            .clone();
                        (stem, w)
                    })
                    .collect()
            })
            .collect();
        // The written form seen most often for each stem (ties: alphabetically first).
        let mut forms: HashMap<&str, BTreeMap<&str, usize>> = HashMap::new();
        for (stem, word) in words.iter().flatten() {
            *forms
                .entry(stem.as_str())
                .or_default()
                .entry(word.as_str())
                .or_default() += 1;
        }
        let display: HashMap<String, String> = forms
            .iter()
            .map(|(stem, counts)| {
                let best = counts
                    .iter()
                    .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
                    .map(|(w, _)| (*w).to_owned())
                    .unwrap_or_default();
                ((*stem).to_owned(), best)
            })
            .collect();
        let mut parts: HashMap<&str, Vec<String>> = HashMap::new();
        let terms = words
            .iter()
            .map(|ws| {
                let mut stems: Vec<String> = Vec::new();
                for (stem, word) in ws {
                    stems.push(stem.clone());
                    if word.chars().count() >= COMPOUND {
                        let found = parts
                            .entry(word.as_str())
                            .or_insert_with(|| self.compound_parts(word, stem, &forms));
                        stems.extend(found.iter().cloned());
                    }
                }
                stems.sort();
                stems.dedup();
                Terms { stems }
            })
            .collect();
        (terms, display)
    }

    /// Known stems that `word` starts or ends with: its first part as a stem of its own,
    /// its last part stemmed.
    fn compound_parts(
        &self,
        word: &str,
        stem: &str,
        known: &HashMap<&str, BTreeMap<&str, usize>>,
    ) -> Vec<String> {
        let chars: Vec<(usize, char)> = word.char_indices().collect();
        let mut parts = Vec::new();
        for (i, _) in chars
            .iter()
            .skip(PART)
            .take(chars.len().saturating_sub(2 * PART) + 1)
        {
            let (head, tail) = word.split_at(*i);
            let head = head.trim_end_matches('s');
            if head.chars().count() >= PART
                && let Some((known_stem, _)) = known.get_key_value(self.stemmer.stem(head).as_ref())
                && *known_stem != stem
            {
                parts.push((*known_stem).to_owned());
            }
            let tail_stem = self.stemmer.stem(tail);
            if tail.chars().count() >= PART
                && let Some((known_stem, _)) = known.get_key_value(tail_stem.as_ref())
                && *known_stem != stem
            {
                parts.push((*known_stem).to_owned());
            }
        }
        parts
    }
}

/// The lower-cased words of `text` that are not stop words or numbers.
fn tokens(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .filter(|w| w.chars().count() > 1 && !STOP_WORDS.contains(&w.as_str()))
        .filter(|w| !w.chars().all(|c| c.is_ascii_digit()))
}
