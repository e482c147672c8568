//! Groups impulses by similarity for the consolidation (S3). German text is normalised
//! (lower case, words split at anything that is not a letter or digit), stop words are
//! dropped, the rest is reduced to its Snowball stem; long compounds also count the known
//! stems they start or end with ("Registermodernisierung" → "regist", "modernisier").
//!
//! Two impulses are similar by the cosine of their TF-IDF term vectors. Pairs are joined
//! from the most similar down, and two groups only join when some term is in every
//! impulse of both: each group can name the terms its members share, which is what the
//! project team sees as its explanation. The same input gives the same groups on every
//! run and in every order (ties are broken by the texts).
//!
//! This file holds the grouping itself; texts become terms in [`terms`], with the stop
//! words of [`stop_words`].

use std::collections::{BTreeMap, HashMap};

mod stop_words;
mod terms;

pub use terms::Analyzer;

/// Similarity from which two impulses are candidates for one group.
pub const THRESHOLD: f64 = 0.3;
/// Terms in more impulses than this share are too common to suggest a pair on their own
/// (they still count in the similarity of pairs found through other terms).
const COMMON_SHARE: f64 = 0.05;
/// …but terms in up to this many impulses always may.
const COMMON_FLOOR: usize = 50;

/// One impulse's words as the grouping sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terms {
    /// Stems, sorted and without repeats.
    pub stems: Vec<String>,
}

/// A group of impulses (indices into the input) with the terms they all share, shown
/// with the most frequent written form of each stem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    pub members: Vec<usize>,
    pub shared: Vec<String>,
    /// The most typical member: the one closest to the group's centre (the sum of its
    /// members' TF-IDF vectors, each of length one); ties go to the first text.
    pub centre: usize,
}

/// Groups `texts`; every text is in exactly one group (alone if nothing is similar).
/// Groups come biggest first, then by their first member.
pub fn group(texts: &[&str]) -> (Vec<Group>, Vec<Terms>) {
    let analyzer = Analyzer::default();
    let (terms, display) = analyzer.terms(texts);
    let n = texts.len();
    // Term ids in sorted stem order, document frequencies, weights.
    let mut vocabulary: Vec<&str> = terms
        .iter()
        .flat_map(|t| t.stems.iter().map(String::as_str))
        .collect();
    vocabulary.sort_unstable();
    vocabulary.dedup();
    let id_of: HashMap<&str, usize> = vocabulary
        .iter()
        .enumerate()
        .map(|(i, s)| (*s, i))
        .collect();
    let docs: Vec<Vec<usize>> = terms
        .iter()
        .map(|t| t.stems.iter().map(|s| id_of[s.as_str()]).collect())
        .collect();
    let mut df = vec![0usize; vocabulary.len()];
    for d in &docs {
        for &t in d {
            df[t] += 1;
        }
    }
    let idf: Vec<f64> = df
        .iter()
        .map(|&f| ((1 + n) as f64 / (1 + f) as f64).ln() + 1.0)
        .collect();
    let norms: Vec<f64> = docs
        .iter()
        .map(|d| d.iter().map(|&t| idf[t] * idf[t]).sum::<f64>().sqrt())
        .collect();
    // Candidate pairs through the terms that are not too common.
    let cap = COMMON_FLOOR.max((n as f64 * COMMON_SHARE) as usize);
    let mut postings: Vec<Vec<usize>> = vec![Vec::new(); vocabulary.len()];
    for (i, d) in docs.iter().enumerate() {
        for &t in d {
            if df[t] >= 2 && df[t] <= cap {
                postings[t].push(i);
            }
        }
    }
    // Each pair once: for every impulse, the later ones sharing an eligible term.
    let mut pairs: Vec<(f64, usize, usize)> = Vec::new();
    let mut last_seen = vec![usize::MAX; n];
    for (a, d) in docs.iter().enumerate() {
        for &t in d {
            let list = &postings[t];
            let after = list.partition_point(|&b| b <= a);
            for &b in &list[after..] {
                if last_seen[b] == a {
                    continue;
                }
                last_seen[b] = a;
                let sim = cosine(&docs[a], &docs[b], &idf, norms[a], norms[b]);
                if sim >= THRESHOLD {
                    pairs.push((sim, a, b));
                }
            }
        }
    }
    // Equally similar pairs are taken in the order of their texts, not of their
    // positions: joining one pair can keep the next from joining, and the groups must
    // not depend on the order the impulses came in (identical texts are interchangeable).
    // Each text's rank among the texts (identical texts share one), computed once: the
    // sort then compares numbers, not strings.
    let mut by_text: Vec<usize> = (0..n).collect();
    by_text.sort_by(|&a, &b| texts[a].cmp(texts[b]));
    let mut rank = vec![0usize; n];
    for w in 1..n {
        let (prev, this) = (by_text[w - 1], by_text[w]);
        rank[this] = rank[prev] + usize::from(texts[prev] != texts[this]);
    }
    let texts_of = |a: usize, b: usize| {
        let (x, y) = (rank[a], rank[b]);
        if x <= y { (x, y) } else { (y, x) }
    };
    pairs.sort_by(|x, y| {
        y.0.total_cmp(&x.0)
            .then_with(|| texts_of(x.1, x.2).cmp(&texts_of(y.1, y.2)))
            .then(x.1.cmp(&y.1))
            .then(x.2.cmp(&y.2))
    });
    // Join from the most similar down, as long as the groups keep a shared term.
    let mut parent: Vec<usize> = (0..n).collect();
    let mut shared: Vec<Vec<usize>> = docs.clone();
    for (_, a, b) in pairs {
        let (ra, rb) = (root(&mut parent, a), root(&mut parent, b));
        if ra == rb {
            continue;
        }
        let common = intersect(&shared[ra], &shared[rb]);
        if common.is_empty() {
            continue;
        }
        let (keep, gone) = (ra.min(rb), ra.max(rb));
        parent[gone] = keep;
        shared[keep] = common;
        shared[gone].clear();
    }
    let mut by_root: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for i in 0..n {
        let r = root(&mut parent, i);
        by_root.entry(r).or_default().push(i);
    }
    let mut groups: Vec<Group> = by_root
        .into_iter()
        .map(|(r, members)| {
            let mut words: Vec<(f64, String)> = if members.len() > 1 {
                shared[r]
                    .iter()
                    .map(|&t| {
                        let stem = vocabulary[t];
                        (
                            idf[t],
                            display
                                .get(stem)
                                .cloned()
                                .unwrap_or_else(|| stem.to_owned()),
                        )
                    })
                    .collect()
            } else {
                Vec::new()
            };
            // Most telling first.
            words.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            let mut shared: Vec<String> = words.into_iter().map(|(_, w)| w).collect();
            shared.dedup();
            let centre = centre(&members, &docs, &idf, &norms, &rank);
            Group {
                members,
                shared,
                centre,
            }
        })
        .collect();
    groups.sort_by(|a, b| {
        b.members
            .len()
            .cmp(&a.members.len())
            .then(a.members[0].cmp(&b.members[0]))
    });
    (groups, terms)
}

/// The member closest to the centre of `members`: its cosine with the sum of the
/// members' unit vectors is largest (in one pass over the terms, not over pairs). Ties,
/// and members without terms, go by the rank of their texts, then their position.
fn centre(
    members: &[usize],
    docs: &[Vec<usize>],
    idf: &[f64],
    norms: &[f64],
    rank: &[usize],
) -> usize {
    let mut sum: HashMap<usize, f64> = HashMap::new();
    for &m in members {
        if norms[m] > 0.0 {
            for &t in &docs[m] {
                *sum.entry(t).or_default() += idf[t] / norms[m];
            }
        }
    }
    let score = |m: usize| -> f64 {
        if norms[m] == 0.0 {
            return 0.0;
        }
        docs[m]
            .iter()
            .map(|&t| idf[t] / norms[m] * sum.get(&t).copied().unwrap_or(0.0))
            .sum()
    };
    members
        .iter()
        .map(|&m| (score(m), m))
        .max_by(|a, b| {
            a.0.total_cmp(&b.0)
                .then(rank[b.1].cmp(&rank[a.1]))
                .then(b.1.cmp(&a.1))
        })
        .map(|(_, m)| m)
        .unwrap_or(members[0])
}

fn root(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

/// Both sorted.
fn intersect(a: &[usize], b: &[usize]) -> Vec<usize> {
    let (mut i, mut j, mut out) = (0, 0, Vec::new());
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(a[i]);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

fn cosine(a: &[usize], b: &[usize], idf: &[f64], na: f64, nb: f64) -> f64 {
    if na == 0.0 || nb == 0.0 {
        return 0.0;
    }
    // Both sorted: a merge, without allocating.
    let (mut i, mut j, mut dot) = (0, 0, 0.0);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                dot += idf[a[i]] * idf[a[i]];
                i += 1;
                j += 1;
            }
        }
    }
    dot / (na * nb)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inflections_and_compounds_meet_in_their_stems() {
        let a = Analyzer::default();
        let stems = |t: &str| {
            let (terms, _) = a.terms(&[t, "Register vernetzen", "Modernisierung wagen"]);
            terms[0].stems.clone()
        };
        assert_eq!(stems("Die Register"), stems("Registers"));
        let compound = stems("Registermodernisierung beschleunigen");
        assert!(compound.contains(&"regist".to_owned()), "{compound:?}");
        assert!(compound.contains(&"modernisier".to_owned()), "{compound:?}");
        assert!(a.words("und die der, 2025!").is_empty());
    }

    #[test]
    fn similar_impulses_share_a_group_with_its_shared_terms() {
        let texts = [
            "Registermodernisierung beschleunigen",
            "Die Modernisierung der Register muss schneller gehen",
            "Cloud-Angebote für Kommunen bündeln",
            "Register modernisieren und vernetzen",
            "Eine gemeinsame Cloud für die Kommunen",
            "Fachkräfte gewinnen",
        ];
        let (groups, _) = group(&texts);
        let register = groups
            .iter()
            .find(|g| g.members.contains(&0))
            .expect("group");
        assert_eq!(register.members, vec![0, 1, 3]);
        assert!(
            register.shared.iter().any(|w| w.starts_with("register")),
            "{register:?}"
        );
        let cloud = groups
            .iter()
            .find(|g| g.members.contains(&2))
            .expect("group");
        assert_eq!(cloud.members, vec![2, 4]);
        assert!(
            groups
                .iter()
                .any(|g| g.members == vec![5] && g.shared.is_empty())
        );
        assert_eq!(
            groups.iter().map(|g| g.members.len()).sum::<usize>(),
            texts.len()
        );
    }

    #[test]
    fn a_groups_centre_is_its_most_typical_member() {
        let texts = [
            "Register modernisieren",
            "Register modernisieren und Daten vernetzen",
            "Register modernisieren, Daten vernetzen und Portale verbinden",
            "Register vernetzen",
            "Fachkräfte gewinnen",
        ];
        let (groups, _) = group(&texts);
        let register = groups
            .iter()
            .find(|g| g.members.contains(&0))
            .expect("group");
        assert!(register.members.len() >= 3, "{register:?}");
        // The one that says what the others say, not the shortest or the longest.
        assert_eq!(register.centre, 1, "{register:?}");
        let alone = groups
            .iter()
            .find(|g| g.members == vec![4])
            .expect("single");
        assert_eq!(alone.centre, 4);
        for g in &groups {
            assert!(g.members.contains(&g.centre));
        }
    }

    #[test]
    fn the_same_impulses_in_another_order_give_the_same_groups() {
        // Found by the property test (tests/properties.rs): two pairs equally similar,
        // and which one joined first depended on the positions.
        let by_text = |texts: &[&str]| {
            let mut groups: Vec<Vec<String>> = group(texts)
                .0
                .into_iter()
                .map(|g| {
                    let mut m: Vec<String> =
                        g.members.iter().map(|&i| texts[i].to_owned()).collect();
                    m.sort();
                    m
                })
                .collect();
            groups.sort();
            groups
        };
        let texts = [
            "digitale Cloud",
            "Portalverbund",
            "Portalverbund Datenschutz",
            "Daten digitale",
            "Portal und die digitale",
        ];
        let shuffled = [texts[3], texts[4], texts[1], texts[2], texts[0]];
        assert_eq!(by_text(&texts), by_text(&shuffled));
    }

    #[test]
    fn the_same_input_gives_the_same_groups_every_time() {
        let texts: Vec<String> = (0..300)
            .map(|i| format!("Impuls {} zu Daten {} und Cloud {}", i % 7, i % 11, i % 5))
            .collect();
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let first = group(&refs).0;
        for _ in 0..3 {
            assert_eq!(group(&refs).0, first);
        }
    }

    #[test]
    fn every_group_names_a_term_all_its_members_share() {
        let texts = [
            "Daten teilen",
            "Daten schützen",
            "Schutz der Daten stärken",
            "Teilen von Wissen",
        ];
        let (groups, terms) = group(&texts);
        let a = Analyzer::default();
        for g in groups.iter().filter(|g| g.members.len() > 1) {
            assert!(!g.shared.is_empty());
            for word in &g.shared {
                let stem = a.stemmer.stem(word).into_owned();
                assert!(g.members.iter().all(|&m| terms[m].stems.contains(&stem)));
            }
        }
    }
}
