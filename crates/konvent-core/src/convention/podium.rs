//! The podium bundle (K13): the day's impulses of a topic in groups, each under a title
//! the moderator can say on stage. Until the moderator names a group, its title is the
//! opening of its most typical impulse (the one closest to the group's centre, see
//! [`crate::strategy::grouping`]). A name is kept with the impulses the group had when it
//! was named, and stays with the group that still holds most of them, as new impulses
//! arrive and the groups shift.

use crate::ids::{ImpulseId, PodiumTitleId};

/// How many words of the most typical impulse a suggested title takes.
pub const TITLE_WORDS: usize = 6;
/// The longest title a moderator may give, in characters.
pub const TITLE_MAX: usize = 120;

/// The suggested title for a group whose most typical impulse is `text`: its first
/// [`TITLE_WORDS`] words with a capital first letter, and "…" when the impulse goes on.
pub fn suggested_title(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    let cut = words.len() > TITLE_WORDS;
    let mut title = words[..words.len().min(TITLE_WORDS)].join(" ");
    if cut {
        // "… für Bund, Länder," reads better as "… für Bund, Länder …".
        let trimmed = title.trim_end_matches(|c: char| c.is_ascii_punctuation() || c == '–');
        title.truncate(trimmed.len());
        title.push_str(" …");
    } else {
        // A whole short impulse: without its full stop, a question keeps its mark.
        let trimmed = title.trim_end_matches(['.', ',', ';', ':']);
        title.truncate(trimmed.len());
    }
    capitalise(&title)
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// A moderator's title as entered: `None` for an empty field (back to the suggestion),
/// an error for one that is too long or contains control characters.
pub fn parse_title(input: &str) -> Result<Option<String>, String> {
    let title = input.split_whitespace().collect::<Vec<_>>().join(" ");
    if title.is_empty() {
        return Ok(None);
    }
    if title.chars().count() > TITLE_MAX {
        return Err(format!(
            "Ein Titel hat höchstens {TITLE_MAX} Zeichen; dieser hat {}.",
            title.chars().count()
        ));
    }
    if title.chars().any(char::is_control) {
        return Err("Der Titel enthält Steuerzeichen.".to_owned());
    }
    Ok(Some(title))
}

/// A title the moderator gave a group, with the impulses (ids) the group had then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NamedGroup {
    pub id: PodiumTitleId,
    pub title: String,
    pub members: Vec<ImpulseId>,
}

/// For each group (the ids of its impulses), the index into `named` of the title it
/// carries, if any. A name stays with the group that holds more than half of its
/// impulses that are still shown (hidden and merged ones no longer count); each impulse
/// is in one group only, so a name fits one group at most. When two names fit one group
/// (their groups have joined), the one sharing more impulses with it wins, then the
/// newer one.
pub fn titles_for(groups: &[Vec<ImpulseId>], named: &[NamedGroup]) -> Vec<Option<usize>> {
    use std::collections::HashMap;
    let group_of: HashMap<ImpulseId, usize> = groups
        .iter()
        .enumerate()
        .flat_map(|(g, members)| members.iter().map(move |&m| (m, g)))
        .collect();
    // (overlap, id) of the best name per group.
    let mut best: Vec<Option<(usize, PodiumTitleId, usize)>> = vec![None; groups.len()];
    for (n, name) in named.iter().enumerate() {
        let mut counts: HashMap<usize, usize> = HashMap::new();
        let mut present = 0;
        for m in &name.members {
            if let Some(&g) = group_of.get(m) {
                present += 1;
                *counts.entry(g).or_default() += 1;
            }
        }
        let Some((&g, &overlap)) = counts.iter().max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
        else {
            continue;
        };
        if overlap * 2 <= present {
            continue;
        }
        let better = match best[g] {
            None => true,
            Some((o, id, _)) => (overlap, name.id) > (o, id),
        };
        if better {
            best[g] = Some((overlap, name.id, n));
        }
    }
    best.into_iter().map(|b| b.map(|(_, _, n)| n)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_suggestion_is_the_opening_words_capitalised_with_an_ellipsis() {
        assert_eq!(
            suggested_title(
                "gemeinsame Datenstandards für Bund, Länder und Kommunen verbindlich festlegen"
            ),
            "Gemeinsame Datenstandards für Bund, Länder und …"
        );
        // A comma at the cut goes.
        assert_eq!(
            suggested_title("Register, Portale, Clouds, Daten, Standards, Menschen, Geld"),
            "Register, Portale, Clouds, Daten, Standards, Menschen …"
        );
        // A short impulse whole, without its full stop; a question keeps its mark.
        assert_eq!(suggested_title("Cloud für Kommunen."), "Cloud für Kommunen");
        assert_eq!(
            suggested_title("  wer  bezahlt die Registermodernisierung? "),
            "Wer bezahlt die Registermodernisierung?"
        );
        assert_eq!(
            suggested_title("über Grenzen denken"),
            "Über Grenzen denken"
        );
        assert_eq!(suggested_title(""), "");
    }

    #[test]
    fn a_title_is_trimmed_and_limited_and_an_empty_one_clears_it() {
        assert_eq!(
            parse_title("  Daten  teilen "),
            Ok(Some("Daten teilen".into()))
        );
        assert_eq!(parse_title("   "), Ok(None));
        assert!(parse_title(&"x".repeat(TITLE_MAX + 1)).is_err());
        assert_eq!(
            parse_title(&"ä".repeat(TITLE_MAX)),
            Ok(Some("ä".repeat(TITLE_MAX)))
        );
    }

    fn named(id: i64, members: &[i64]) -> NamedGroup {
        NamedGroup {
            id: PodiumTitleId::new(id),
            title: format!("Titel {id}"),
            members: impulses(members),
        }
    }

    fn impulses(ids: &[i64]) -> Vec<ImpulseId> {
        ids.iter().copied().map(ImpulseId::new).collect()
    }

    fn groups(groups: &[&[i64]]) -> Vec<Vec<ImpulseId>> {
        groups.iter().map(|g| impulses(g)).collect()
    }

    #[test]
    fn a_name_stays_with_the_group_that_keeps_most_of_its_impulses() {
        // Named when the group was 1, 2, 3; impulse 9 joined since, 3 moved away.
        let groups = groups(&[&[1, 2, 9], &[3, 4], &[5]]);
        let titles = titles_for(&groups, &[named(1, &[1, 2, 3])]);
        assert_eq!(titles, vec![Some(0), None, None]);
        // Split in the middle: no group holds more than half, the name rests.
        let groups = self::groups(&[&[1, 2], &[3, 4]]);
        assert_eq!(
            titles_for(&groups, &[named(1, &[1, 2, 3, 4])]),
            vec![None, None]
        );
        // Hidden impulses no longer count: 2 of the 3 still shown are here.
        let groups = self::groups(&[&[1, 2], &[3]]);
        assert_eq!(
            titles_for(&groups, &[named(1, &[1, 2, 3, 7, 8])]),
            vec![Some(0), None]
        );
    }

    #[test]
    fn when_two_named_groups_join_the_closer_then_the_newer_name_wins() {
        let groups = groups(&[&[1, 2, 3, 4, 5]]);
        let names = [named(1, &[1, 2]), named(2, &[3, 4, 5])];
        assert_eq!(titles_for(&groups, &names), vec![Some(1)]);
        let names = [named(1, &[1, 2]), named(2, &[3, 4])];
        assert_eq!(titles_for(&groups, &names), vec![Some(1)], "the newer");
        assert_eq!(titles_for(&groups, &[]), vec![None]);
    }
}
