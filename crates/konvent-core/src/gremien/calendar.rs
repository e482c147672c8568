//! Working days in Germany: the public holidays that apply in every state, and the date
//! of a follow-up meeting (G6): three weeks after a council session, moved off weekends
//! and nationwide public holidays.

use jiff::ToSpan;
use jiff::civil::{Date, Weekday};

/// Days from a council session to its follow-up meeting ("3 Wochen nach der Sitzung").
pub const FOLLOW_UP_OFFSET_DAYS: i64 = 21;

/// Easter Sunday of a year (Gregorian computus, anonymous Gregorian algorithm).
pub fn easter_sunday(year: i16) -> Option<Date> {
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

/// The public holidays of every German state (bundesweite gesetzliche Feiertage), by
/// date.
pub fn nationwide_holidays(year: i16) -> Vec<(Date, &'static str)> {
    let fixed = |m: i8, d: i8| Date::new(year, m, d).ok();
    let mut list: Vec<(Date, &'static str)> = Vec::with_capacity(10);
    let mut push = |d: Option<Date>, name: &'static str| {
        if let Some(d) = d {
            list.push((d, name));
        }
    };
    push(fixed(1, 1), "Neujahr");
    if let Some(easter) = easter_sunday(year) {
        push(easter.checked_sub(2.days()).ok(), "Karfreitag");
        push(easter.checked_add(1.day()).ok(), "Ostermontag");
        push(easter.checked_add(39.days()).ok(), "Christi Himmelfahrt");
        push(easter.checked_add(50.days()).ok(), "Pfingstmontag");
    }
    push(fixed(5, 1), "Tag der Arbeit");
    push(fixed(10, 3), "Tag der Deutschen Einheit");
    // The 500th anniversary of the Reformation was a holiday in every state once.
    if year == 2017 {
        push(fixed(10, 31), "Reformationstag (500. Jahrestag)");
    }
    push(fixed(12, 25), "1. Weihnachtsfeiertag");
    push(fixed(12, 26), "2. Weihnachtsfeiertag");
    list.sort();
    list
}

/// The name of the nationwide holiday on `day`, if it is one.
pub fn holiday_name(day: Date) -> Option<&'static str> {
    nationwide_holidays(day.year())
        .into_iter()
        .find(|(d, _)| *d == day)
        .map(|(_, name)| name)
}

/// Monday to Friday and not a nationwide holiday.
pub fn is_working_day(day: Date) -> bool {
    !matches!(day.weekday(), Weekday::Saturday | Weekday::Sunday) && holiday_name(day).is_none()
}

/// `day` itself if it is a working day, else the next one.
pub fn next_working_day(day: Date) -> Date {
    let mut d = day;
    // At most a long weekend with holidays on both sides: a few steps.
    for _ in 0..14 {
        if is_working_day(d) {
            return d;
        }
        match d.tomorrow() {
            Ok(next) => d = next,
            Err(_) => return d,
        }
    }
    d
}

/// The follow-up meeting's date: `offset_days` after the session, on a working day.
pub fn follow_up_date(session: Date, offset_days: i64) -> Date {
    let target = session.checked_add(offset_days.days()).unwrap_or(session);
    next_working_day(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ymd(y: i16, m: i8, d: i8) -> Date {
        jiff::civil::date(y, m, d)
    }

    #[test]
    fn easter_falls_on_the_known_sundays() {
        assert_eq!(easter_sunday(2024), Some(ymd(2024, 3, 31)));
        assert_eq!(easter_sunday(2025), Some(ymd(2025, 4, 20)));
        assert_eq!(easter_sunday(2026), Some(ymd(2026, 4, 5)));
        assert_eq!(easter_sunday(2019), Some(ymd(2019, 4, 21)));
    }

    #[test]
    fn the_nationwide_holidays_of_2025_are_nine() {
        let h = nationwide_holidays(2025);
        assert_eq!(h.len(), 9);
        assert!(h.contains(&(ymd(2025, 6, 9), "Pfingstmontag")));
        assert!(h.contains(&(ymd(2025, 5, 29), "Christi Himmelfahrt")));
        assert_eq!(
            holiday_name(ymd(2017, 10, 31)),
            Some("Reformationstag (500. Jahrestag)")
        );
        assert_eq!(holiday_name(ymd(2018, 10, 31)), None);
    }

    #[test]
    fn follow_ups_are_three_weeks_after_the_session() {
        assert_eq!(follow_up_date(ymd(2024, 3, 20), 21), ymd(2024, 4, 10));
        assert_eq!(follow_up_date(ymd(2025, 3, 26), 21), ymd(2025, 4, 16));
    }

    #[test]
    fn a_follow_up_on_good_friday_moves_past_easter_monday() {
        // 28.03.2025 + 21 days = Karfreitag; Saturday, Sunday, Ostermontag follow.
        assert_eq!(follow_up_date(ymd(2025, 3, 28), 21), ymd(2025, 4, 22));
    }

    #[test]
    fn a_follow_up_on_a_saturday_moves_to_monday() {
        assert_eq!(follow_up_date(ymd(2025, 6, 7), 21), ymd(2025, 6, 30));
        assert!(is_working_day(ymd(2025, 6, 30)));
        assert!(!is_working_day(ymd(2025, 10, 3)));
    }
}
