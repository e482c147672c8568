//! Property tests for the rules with invariants: the follow-up date (G6) and the
//! grouping of impulses (S3).

use jiff::civil::{Date, Weekday};
use konvent_core::gremien::calendar::{follow_up_date, holiday_name, is_working_day};
use konvent_core::strategy::grouping::group;
use proptest::prelude::*;

/// Days from 1.1.2000 to 31.12.2099.
fn session_day() -> impl Strategy<Value = Date> {
    (0i64..36_524).prop_map(|days| {
        jiff::civil::date(2000, 1, 1)
            .checked_add(jiff::Span::new().days(days))
            .expect("in range")
    })
}

proptest! {
    #[test]
    fn a_follow_up_lands_on_the_first_working_day_at_least_offset_days_after_the_session(
        session in session_day(),
        offset in 0i64..60,
    ) {
        let follow_up = follow_up_date(session, offset);
        let earliest = session.checked_add(jiff::Span::new().days(offset)).expect("in range");
        prop_assert!(follow_up >= earliest, "{follow_up} before {earliest}");
        prop_assert!(is_working_day(follow_up));
        prop_assert!(!matches!(follow_up.weekday(), Weekday::Saturday | Weekday::Sunday));
        prop_assert_eq!(holiday_name(follow_up), None);
        // Not later than needed: every day before it from the earliest on is off.
        let mut day = earliest;
        while day < follow_up {
            prop_assert!(!is_working_day(day), "{day} was free before {follow_up}");
            day = day.tomorrow().expect("in range");
        }
    }

    #[test]
    fn a_later_session_never_gets_an_earlier_follow_up(
        a in session_day(),
        b in session_day(),
        offset in 0i64..60,
    ) {
        let (first, second) = if a <= b { (a, b) } else { (b, a) };
        prop_assert!(follow_up_date(first, offset) <= follow_up_date(second, offset));
    }
}

/// Texts from a small vocabulary, so that impulses share words and form groups.
fn impulses() -> impl Strategy<Value = Vec<String>> {
    const WORDS: [&str; 14] = [
        "Registermodernisierung",
        "Register",
        "Modernisierung",
        "digitale",
        "Verwaltung",
        "Cloud",
        "Souveränität",
        "Daten",
        "Datenschutz",
        "Portal",
        "Portalverbund",
        "Nutzerkonto",
        "und",
        "die",
    ];
    prop::collection::vec(
        prop::collection::vec(prop::sample::select(&WORDS[..]), 1..6)
            .prop_map(|words| words.join(" ")),
        0..14,
    )
}

/// The groups as sorted lists of their texts (positions depend on the order).
fn groups_by_text(texts: &[String]) -> Vec<(Vec<String>, Vec<String>)> {
    let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
    let (groups, _) = group(&refs);
    let mut seen = vec![0usize; texts.len()];
    for g in &groups {
        for &m in &g.members {
            seen[m] += 1;
        }
    }
    assert!(
        seen.iter().all(|&n| n == 1),
        "every text in exactly one group"
    );
    let mut out: Vec<(Vec<String>, Vec<String>)> = groups
        .into_iter()
        .map(|g| {
            let mut members: Vec<String> = g.members.iter().map(|&m| texts[m].clone()).collect();
            members.sort();
            let mut shared = g.shared;
            shared.sort();
            (members, shared)
        })
        .collect();
    out.sort();
    out
}

proptest! {
    #[test]
    fn the_same_impulses_in_any_order_give_the_same_groups(
        (texts, shuffled) in impulses().prop_flat_map(|texts| {
            let shuffled = Just(texts.clone()).prop_shuffle();
            (Just(texts), shuffled)
        }),
    ) {
        prop_assert_eq!(groups_by_text(&texts), groups_by_text(&shuffled));
    }
}
