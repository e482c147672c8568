//! Working days in Germany: the public holidays that apply in every state, and the date
//! of a follow-up meeting (G6): three weeks after a council session, moved off weekends
//! and nationwide public holidays.
//!
//! Only the holidays of all sixteen states count; regional ones (Fronleichnam,
//! Reformationstag outside 2017, ...) do not move a meeting that people from every state
//! attend. The current list is applied to every year, which is what scheduling needs.

use jiff::Span;
use jiff::civil::{Date, Weekday};

/// Days from a council session to its follow-up meeting ("3 Wochen nach der Sitzung").
pub const FOLLOW_UP_OFFSET_DAYS: i64 = 21;

/// Easter Sunday of a year (Gregorian computus, the anonymous Gregorian algorithm).
///
/// `None` before 1583, the first full year of the Gregorian calendar, and after 9999,
/// where `Date` ends.
pub fn easter_sunday(year: i16) -> Option<Date> {
    if year < 1583 {
        return None;
    }
    let y = i32::from(year);
    let a = y % 19;
    let b = y / 100;
    let c = y % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    Date::new(year, i8::try_from(month).ok()?, i8::try_from(day).ok()?).ok()
}

/// The public holidays of every German state (bundesweite gesetzliche Feiertage),
/// sorted by date, with their German names.
pub fn nationwide_holidays(year: i16) -> Vec<(Date, &'static str)> {
    let fixed = |month: i8, day: i8| Date::new(year, month, day).ok();
    let relative = |easter: Date, days: i64| easter.checked_add(Span::new().days(days)).ok();

    let mut dated: Vec<(Option<Date>, &'static str)> = vec![
        (fixed(1, 1), "Neujahr"),
        (fixed(5, 1), "Tag der Arbeit"),
        (fixed(10, 3), "Tag der Deutschen Einheit"),
        (fixed(12, 25), "1. Weihnachtsfeiertag"),
        (fixed(12, 26), "2. Weihnachtsfeiertag"),
    ];
    if let Some(easter) = easter_sunday(year) {
        dated.extend([
            (relative(easter, -2), "Karfreitag"),
            (relative(easter, 1), "Ostermontag"),
            (relative(easter, 39), "Christi Himmelfahrt"),
            (relative(easter, 50), "Pfingstmontag"),
        ]);
    }
    // The 500th anniversary of the Reformation: by decision of all states, 31 October 2017
    // was a public holiday everywhere, once. In other years it is a regional holiday only.
    if year == 2017 {
        dated.push((fixed(10, 31), "Reformationstag"));
    }

    let mut holidays: Vec<(Date, &'static str)> = dated
        .into_iter()
        .filter_map(|(date, name)| Some((date?, name)))
        .collect();
    holidays.sort();
    holidays
}

/// The name of the nationwide holiday on `date`, if it is one.
pub fn holiday_name(date: Date) -> Option<&'static str> {
    nationwide_holidays(date.year())
        .into_iter()
        .find(|(day, _)| *day == date)
        .map(|(_, name)| name)
}

/// Monday to Friday and not a nationwide holiday.
pub fn is_working_day(date: Date) -> bool {
    !matches!(date.weekday(), Weekday::Saturday | Weekday::Sunday) && holiday_name(date).is_none()
}

/// `date` itself if it is a working day, else the next one.
pub fn next_working_day(date: Date) -> Date {
    let mut day = date;
    // The longest run of days off is four (Karfreitag to Ostermontag); the bound only
    // guards against a broken holiday table.
    for _ in 0..14 {
        if is_working_day(day) {
            break;
        }
        match day.tomorrow() {
            Ok(next) => day = next,
            // 31.12.9999: there is no later day to move to.
            Err(_) => break,
        }
    }
    day
}

/// The follow-up meeting's date: `offset_days` after the session, moved to the next
/// working day. Beyond the range of `Date` (years up to 9999) the date saturates.
pub fn follow_up_date(session: Date, offset_days: i64) -> Date {
    let target = Span::new()
        .try_days(offset_days)
        .and_then(|span| session.checked_add(span))
        .unwrap_or(if offset_days < 0 {
            Date::MIN
        } else {
            Date::MAX
        });
    next_working_day(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(y: i16, m: i8, d: i8) -> Date {
        jiff::civil::date(y, m, d)
    }

    #[test]
    fn easter_sunday_falls_on_the_known_dates() {
        assert_eq!(easter_sunday(2024), Some(ymd(2024, 3, 31)));
        assert_eq!(easter_sunday(2025), Some(ymd(2025, 4, 20)));
        assert_eq!(easter_sunday(2026), Some(ymd(2026, 4, 5)));
        assert_eq!(easter_sunday(2019), Some(ymd(2019, 4, 21)));
        // The earliest and the latest possible dates.
        assert_eq!(easter_sunday(2285), Some(ymd(2285, 3, 22)));
        assert_eq!(easter_sunday(2038), Some(ymd(2038, 4, 25)));
    }

    #[test]
    fn easter_sunday_is_always_a_sunday_between_22_march_and_25_april() {
        for year in 1583..=2600 {
            let easter = easter_sunday(year).expect("Easter in the Gregorian range");
            assert_eq!(easter.weekday(), Weekday::Sunday, "{easter}");
            assert!(
                ymd(year, 3, 22) <= easter && easter <= ymd(year, 4, 25),
                "{easter}"
            );
        }
    }

    #[test]
    fn easter_sunday_is_unknown_before_the_gregorian_calendar() {
        assert_eq!(easter_sunday(1582), None);
        assert_eq!(easter_sunday(1583), Some(ymd(1583, 4, 10)));
    }

    #[test]
    fn the_nine_nationwide_holidays_of_2025_come_sorted_by_date() {
        assert_eq!(
            nationwide_holidays(2025),
            vec![
                (ymd(2025, 1, 1), "Neujahr"),
                (ymd(2025, 4, 18), "Karfreitag"),
                (ymd(2025, 4, 21), "Ostermontag"),
                (ymd(2025, 5, 1), "Tag der Arbeit"),
                (ymd(2025, 5, 29), "Christi Himmelfahrt"),
                (ymd(2025, 6, 9), "Pfingstmontag"),
                (ymd(2025, 10, 3), "Tag der Deutschen Einheit"),
                (ymd(2025, 12, 25), "1. Weihnachtsfeiertag"),
                (ymd(2025, 12, 26), "2. Weihnachtsfeiertag"),
            ]
        );
    }

    #[test]
    fn pfingstmontag_2025_is_on_9_june() {
        assert_eq!(holiday_name(ymd(2025, 6, 9)), Some("Pfingstmontag"));
        assert_eq!(ymd(2025, 6, 9).weekday(), Weekday::Monday);
    }

    #[test]
    fn ascension_day_moves_a_follow_up_to_the_friday() {
        // 08.05.2025 + 21 days = Christi Himmelfahrt, Thursday 29.05.2025.
        assert_eq!(holiday_name(ymd(2025, 5, 29)), Some("Christi Himmelfahrt"));
        assert_eq!(
            follow_up_date(ymd(2025, 5, 8), FOLLOW_UP_OFFSET_DAYS),
            ymd(2025, 5, 30)
        );
    }

    #[test]
    fn reformation_day_was_nationwide_only_in_2017() {
        assert_eq!(nationwide_holidays(2017).len(), 10);
        assert_eq!(holiday_name(ymd(2017, 10, 31)), Some("Reformationstag"));
        assert!(
            !is_working_day(ymd(2017, 10, 31)),
            "a Tuesday, but a holiday"
        );
        assert_eq!(holiday_name(ymd(2016, 10, 31)), None);
        assert_eq!(holiday_name(ymd(2018, 10, 31)), None);
        assert!(is_working_day(ymd(2018, 10, 31)));
    }

    #[test]
    fn a_holiday_on_a_sunday_is_not_made_up_on_the_monday() {
        // 01.05.2022 was a Sunday; Germany has no substitute days.
        assert_eq!(ymd(2022, 5, 1).weekday(), Weekday::Sunday);
        assert_eq!(holiday_name(ymd(2022, 5, 1)), Some("Tag der Arbeit"));
        assert_eq!(nationwide_holidays(2022).len(), 9);
        assert!(is_working_day(ymd(2022, 5, 2)));
        assert_eq!(next_working_day(ymd(2022, 4, 30)), ymd(2022, 5, 2));
    }

    #[test]
    fn weekends_and_holidays_are_not_working_days() {
        assert!(is_working_day(ymd(2025, 6, 30)), "a Monday");
        assert!(!is_working_day(ymd(2025, 6, 28)), "a Saturday");
        assert!(!is_working_day(ymd(2025, 6, 29)), "a Sunday");
        assert!(
            !is_working_day(ymd(2025, 10, 3)),
            "Tag der Deutschen Einheit"
        );
    }

    #[test]
    fn a_working_day_is_its_own_next_working_day() {
        assert_eq!(next_working_day(ymd(2025, 4, 16)), ymd(2025, 4, 16));
        assert_eq!(next_working_day(Date::MAX), Date::MAX);
    }

    #[test]
    fn a_session_on_20_march_2024_is_followed_up_on_wednesday_10_april() {
        let follow_up = follow_up_date(ymd(2024, 3, 20), FOLLOW_UP_OFFSET_DAYS);
        assert_eq!(follow_up, ymd(2024, 4, 10));
        assert_eq!(follow_up.weekday(), Weekday::Wednesday);
    }

    #[test]
    fn a_session_on_26_march_2025_is_followed_up_on_16_april() {
        assert_eq!(
            follow_up_date(ymd(2025, 3, 26), FOLLOW_UP_OFFSET_DAYS),
            ymd(2025, 4, 16)
        );
    }

    #[test]
    fn a_follow_up_landing_on_good_friday_moves_to_the_tuesday_after_easter() {
        // 28.03.2025 + 21 days = Karfreitag 18.04.; Saturday, Sunday and Ostermontag follow.
        let follow_up = follow_up_date(ymd(2025, 3, 28), FOLLOW_UP_OFFSET_DAYS);
        assert_eq!(follow_up, ymd(2025, 4, 22));
        assert_eq!(follow_up.weekday(), Weekday::Tuesday);
    }

    #[test]
    fn a_follow_up_landing_on_a_saturday_moves_to_the_monday() {
        // 07.06.2025 + 21 days = Saturday 28.06.2025.
        let follow_up = follow_up_date(ymd(2025, 6, 7), FOLLOW_UP_OFFSET_DAYS);
        assert_eq!(follow_up, ymd(2025, 6, 30));
        assert_eq!(follow_up.weekday(), Weekday::Monday);
    }

    #[test]
    fn a_follow_up_landing_on_christmas_moves_past_the_weekend() {
        // 04.12.2025 + 21 days = Thursday 25.12.; 26.12. and the weekend follow.
        assert_eq!(
            follow_up_date(ymd(2025, 12, 4), FOLLOW_UP_OFFSET_DAYS),
            ymd(2025, 12, 29)
        );
    }

    #[test]
    fn a_follow_up_landing_on_new_year_moves_to_the_second_of_january() {
        // 11.12.2025 + 21 days = Thursday 01.01.2026: the holidays of the new year count.
        assert_eq!(
            follow_up_date(ymd(2025, 12, 11), FOLLOW_UP_OFFSET_DAYS),
            ymd(2026, 1, 2)
        );
    }

    #[test]
    fn the_follow_up_offset_is_three_weeks_and_saturates_at_the_end_of_time() {
        assert_eq!(FOLLOW_UP_OFFSET_DAYS, 3 * 7);
        assert_eq!(follow_up_date(ymd(2025, 3, 26), 0), ymd(2025, 3, 26));
        assert_eq!(follow_up_date(ymd(9999, 12, 1), i64::MAX), Date::MAX);
    }
}
