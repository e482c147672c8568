//! Reminders and notifications (issue 18): the kinds of mail konvent sends a person
//! on its own accord, each of which the person can turn off, and when a reminder is
//! due. Dates are Europe/Berlin days, the council's calendar.

use std::fmt;
use std::str::FromStr;

use jiff::Timestamp;
use jiff::civil::Date;

/// What a reminder or notification is about. The first three are reminders sent by
/// the scheduler before something falls due; the others follow a change at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NoticeKind {
    /// A spokesperson's report for the next council session is still open.
    ReportDue,
    /// A duty of the spokesperson's conference falls due.
    DutyDue,
    /// An event the person belongs to starts tomorrow.
    EventTomorrow,
    /// The person's concern was answered.
    ConcernAnswered,
    /// Duties were assigned to the person's conference.
    DutyAssigned,
    /// A resolution relevant for the person's conference was published.
    ResolutionPublished,
    /// A written procedure (Umlaufverfahren) started: the council's seat holders.
    WrittenProcedure,
    /// A seat holder asked to stop a written procedure: the office.
    StopRequested,
    /// The office stopped a written procedure for a session: the seat holders.
    ProcedureStopped,
    /// The office let a written procedure run on: those who asked to stop it.
    ProcedureContinued,
    /// The office released a version of a session's minutes: the council's members.
    MinutesReleased,
}

impl NoticeKind {
    pub const ALL: [Self; 11] = [
        Self::ReportDue,
        Self::DutyDue,
        Self::EventTomorrow,
        Self::ConcernAnswered,
        Self::DutyAssigned,
        Self::ResolutionPublished,
        Self::WrittenProcedure,
        Self::StopRequested,
        Self::ProcedureStopped,
        Self::ProcedureContinued,
        Self::MinutesReleased,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::ReportDue => "report_due",
            Self::DutyDue => "duty_due",
            Self::EventTomorrow => "event_tomorrow",
            Self::ConcernAnswered => "concern_answered",
            Self::DutyAssigned => "duty_assigned",
            Self::ResolutionPublished => "resolution_published",
            Self::WrittenProcedure => "written_procedure",
            Self::StopRequested => "stop_requested",
            Self::ProcedureStopped => "procedure_stopped",
            Self::ProcedureContinued => "procedure_continued",
            Self::MinutesReleased => "minutes_released",
        }
    }

    /// Whether the scheduler sends it (before a date) rather than a change.
    pub fn is_reminder(self) -> bool {
        matches!(self, Self::ReportDue | Self::DutyDue | Self::EventTomorrow)
    }
}

impl fmt::Display for NoticeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for NoticeKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.as_str() == s)
            .ok_or_else(|| format!("unknown notification kind {s:?}"))
    }
}

/// The longest reminder offset allowed, in days.
pub const MAX_REMINDER_DAYS: u32 = 90;
/// How many reminders one due date may bring at most.
pub const MAX_REMINDERS: usize = 6;

/// Checks a reminder schedule (days before the due date): each between 1 and
/// [`MAX_REMINDER_DAYS`], none twice, at most [`MAX_REMINDERS`]. Empty: no reminders.
pub fn check_schedule(days: &[u32]) -> Result<(), String> {
    if days.len() > MAX_REMINDERS {
        return Err(format!("at most {MAX_REMINDERS} reminder days"));
    }
    if let Some(d) = days.iter().find(|d| **d == 0 || **d > MAX_REMINDER_DAYS) {
        return Err(format!(
            "reminder day {d} is not between 1 and {MAX_REMINDER_DAYS}"
        ));
    }
    let mut sorted = days.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    if sorted.len() != days.len() {
        return Err("a reminder day is given twice".to_owned());
    }
    Ok(())
}

/// Which reminder of `schedule` (days before `due`) is due on `today`: the smallest
/// offset that `today` has reached, or none before the first one and after the due
/// date. With `[7, 1]`: 7 on the seventh day before up to the second day before, 1 on
/// the day before and on the day itself. A reminder missed while konvent was down (or
/// for something created late) is thus sent when it next looks; the caller sends each
/// (offset, due date) once only.
pub fn reminder_offset(today: Date, due: Date, schedule: &[u32]) -> Option<u32> {
    let left = (due - today).get_days();
    if left < 0 {
        return None;
    }
    schedule
        .iter()
        .copied()
        .filter(|d| i64::from(*d) >= i64::from(left))
        .min()
}

/// The Berlin calendar day of an instant.
pub fn berlin_date(t: Timestamp) -> Date {
    t.in_tz(crate::convention::TIME_ZONE)
        .map(|z| z.date())
        .unwrap_or_else(|_| t.to_zoned(jiff::tz::TimeZone::UTC).date())
}

/// Why the mail outbox refuses to send a mail again. The text is German; the web shows
/// it in the reader's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum MailRefusal {
    #[error("Nur eine fehlgeschlagene E-Mail kann erneut gesendet werden.")]
    NotFailed,
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn reminders_fall_seven_days_and_one_day_before_and_catch_up_when_missed() {
        let due = date(2026, 12, 10);
        let at = |d: i8| reminder_offset(date(2026, 12, d), due, &[7, 1]);
        assert_eq!(at(2), None, "eight days before: nothing yet");
        assert_eq!(at(3), Some(7), "seven days before");
        assert_eq!(
            at(6),
            Some(7),
            "a missed 7-day reminder is still the 7-day one"
        );
        assert_eq!(at(9), Some(1), "the day before");
        assert_eq!(at(10), Some(1), "on the day: the missed 1-day reminder");
        assert_eq!(at(11), None, "past the due date");
        assert_eq!(reminder_offset(date(2026, 12, 3), due, &[]), None);
    }

    #[test]
    fn the_day_is_the_berlin_day() {
        // 23:30 UTC on 28 March is 00:30 on the 29th in Berlin (CET, +1).
        let t: Timestamp = "2026-03-28T23:30:00Z".parse().expect("instant");
        assert_eq!(berlin_date(t), date(2026, 3, 29));
        // In summer time (+2) 22:30 UTC is already the next day.
        let t: Timestamp = "2026-07-01T22:30:00Z".parse().expect("instant");
        assert_eq!(berlin_date(t), date(2026, 7, 2));
        let t: Timestamp = "2026-07-01T21:30:00Z".parse().expect("instant");
        assert_eq!(berlin_date(t), date(2026, 7, 1));
    }

    #[test]
    fn a_schedule_is_checked() {
        assert!(check_schedule(&[7, 1]).is_ok());
        assert!(check_schedule(&[]).is_ok());
        assert!(check_schedule(&[0]).is_err());
        assert!(check_schedule(&[91]).is_err());
        assert!(check_schedule(&[1, 1]).is_err());
        assert!(check_schedule(&[1, 2, 3, 4, 5, 6, 7]).is_err());
    }

    #[test]
    fn kinds_read_back() {
        for kind in NoticeKind::ALL {
            assert_eq!(kind.as_str().parse::<NoticeKind>(), Ok(kind));
        }
        assert!("spam".parse::<NoticeKind>().is_err());
    }
}
