//! Reminders and notifications (issue 18): what is due for whom, the at-most-once
//! record of every reminder queued, each person's mail language and the kinds they
//! turned off.
//!
//! The store decides who gets a mail and when; konvent-web writes it (in the
//! recipient's language, from templates) through a [`Render`] the store calls inside
//! the transaction of the change, so that the mail commits, or is lost, with it.

use konvent_core::ids::AccountId;
use std::collections::HashSet;

use jiff::Timestamp;
use jiff::civil::Date;
use konvent_core::notifications::{NoticeKind, reminder_offset};
use sqlx::FromRow;

use crate::cooperation::DutyResolution;
use crate::mail::{NewMail, enqueue};
use crate::{Result, Store, StoreError, now_micros};

type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// Who a mail goes to.
#[derive(Debug, Clone, PartialEq, Eq, FromRow)]
pub struct Recipient {
    #[sqlx(try_from = "i64")]
    pub account_id: AccountId,
    pub email: String,
    pub name: String,
    /// "de" or "en": chosen on the person's notifications page, German until then.
    pub language: String,
}

/// What a reminder or notification is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoticeTopic {
    /// The conference's report for the next session is still open.
    Report {
        session_number: i64,
        session_date: Date,
        conference: String,
        conference_name: String,
    },
    /// An open duty of the conference falls due.
    Duty {
        duty_id: i64,
        task: String,
        conference: String,
        conference_name: String,
        due_on: Date,
        /// Only for a published resolution: a draft is never named in a mail.
        resolution: Option<DutyResolution>,
    },
    /// An event the person belongs to starts within a day.
    Event {
        slug: String,
        title: String,
        starts_at: i64,
    },
    /// The person's concern was answered.
    ConcernAnswered {
        concern_id: i64,
        title: String,
        conference: String,
        answer: String,
    },
    /// Duties of a resolution were assigned to the person's conference.
    DutiesAssigned {
        conference: String,
        conference_name: String,
        tasks: i64,
        /// Only for a published resolution: a draft is never named in a mail.
        resolution: Option<DutyResolution>,
    },
    /// A resolution relevant for the person's conferences was published.
    ResolutionPublished {
        year: i64,
        number: i64,
        title: String,
        conferences: Vec<String>,
    },
    /// A written procedure started; the draft is not named (a draft is never named in a
    /// mail), only where to vote and by when.
    WrittenProcedure { vote_id: i64, deadline: i64 },
    /// A seat holder asked the office to stop a written procedure (to the office); the
    /// draft is not named, nor the reason, only whose seat asked and where to decide.
    StopRequested { vote_id: i64, seat: String },
    /// The office stopped a written procedure: the matter goes to a session instead.
    ProcedureStopped {
        session_number: i64,
        session_date: Date,
    },
    /// The office let a written procedure run on (to those who asked to stop it).
    ProcedureContinued { vote_id: i64, deadline: i64 },
    /// The office released a version of a session's minutes (to the members); what they
    /// say is not in the mail, only where to read them.
    MinutesReleased { session_number: i64, version: i64 },
}

/// One mail to write: its kind, its recipient and what it is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub kind: NoticeKind,
    pub recipient: Recipient,
    pub topic: NoticeTopic,
}

/// Writes the mail of a notice (konvent-web's templates); `None` if it cannot be
/// written, which is logged there and sends nothing.
pub type Render<'a> = &'a (dyn Fn(&Notice) -> Option<NewMail> + Sync);

/// A reminder that is due, with the key that makes it unique.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueReminder {
    pub notice: Notice,
    /// The duty, the event, or (for a report) the conference.
    pub subject_id: i64,
    pub due_on: Date,
    pub days_before: u32,
}

impl DueReminder {
    fn key(&self) -> (String, i64, i64, String, i64) {
        (
            self.notice.kind.as_str().to_owned(),
            self.subject_id,
            self.notice.recipient.account_id.get(),
            self.due_on.to_string(),
            i64::from(self.days_before),
        )
    }
}

/// The columns of a [`Recipient`] from `accounts a LEFT JOIN mail_preferences p`.
const RECIPIENT: &str =
    "a.id AS account_id, a.email, a.display_name AS name, COALESCE(p.language, 'de') AS language";
/// Leaves out who turned the kind (bound as `$KIND`) off.
const NOT_OPTED_OUT: &str = "NOT EXISTS (SELECT 1 FROM notification_opt_outs o \
                             WHERE o.account_id = a.id AND o.kind = $KIND)";

fn not_opted_out(param: &str) -> String {
    NOT_OPTED_OUT.replace("$KIND", param)
}

fn parse_date(s: &str) -> Result<Date> {
    s.parse()
        .map_err(|_| StoreError::Corrupt(format!("date {s:?}")))
}

#[derive(FromRow)]
struct DutyDue {
    duty_id: i64,
    task: String,
    due_on: String,
    conference: String,
    conference_name: String,
    year: i64,
    number: i64,
    title: String,
    state: String,
    #[sqlx(flatten)]
    recipient: Recipient,
}

#[derive(FromRow)]
struct ReportDue {
    conference_id: i64,
    conference: String,
    conference_name: String,
    #[sqlx(flatten)]
    recipient: Recipient,
}

#[derive(FromRow)]
struct EventDue {
    event_id: i64,
    slug: String,
    title: String,
    starts_at: i64,
    #[sqlx(flatten)]
    recipient: Recipient,
}

/// The resolution of a duty as a mail may name it: only when it is published.
fn public_resolution(year: i64, number: i64, title: String, state: &str) -> Option<DutyResolution> {
    (state == "published").then(|| DutyResolution {
        reference: format!("{year}/{number:02}"),
        title,
    })
}

/// The accounts of `ids` who have not turned `kind` off.
pub(crate) async fn recipients(
    tx: &mut Tx,
    kind: NoticeKind,
    ids: &[AccountId],
) -> Result<Vec<Recipient>> {
    let mut list = Vec::new();
    let mut seen = HashSet::new();
    for id in ids {
        if !seen.insert(*id) {
            continue;
        }
        let row: Option<Recipient> = sqlx::query_as(&format!(
            "SELECT {RECIPIENT} FROM accounts a LEFT JOIN mail_preferences p ON p.account_id = a.id \
             WHERE a.id = $1 AND {}",
            not_opted_out("$2")
        ))
        .bind(id.get())
        .bind(kind.as_str())
        .fetch_optional(&mut **tx)
        .await?;
        list.extend(row);
    }
    Ok(list)
}

/// The accounts holding one of `roles` for the conference `abbreviation`.
pub(crate) async fn conference_accounts(
    tx: &mut Tx,
    abbreviation: &str,
    roles: &[&str],
) -> Result<Vec<AccountId>> {
    let mut ids = Vec::new();
    for role in roles {
        let rows: Vec<(i64,)> = sqlx::query_as(
            "SELECT account_id FROM grants WHERE role = $1 AND scope = $2 ORDER BY account_id",
        )
        .bind(*role)
        .bind(format!("conference:{abbreviation}"))
        .fetch_all(&mut **tx)
        .await?;
        ids.extend(rows.into_iter().map(|(id,)| AccountId::new(id)));
    }
    Ok(ids)
}

/// Renders and queues one mail per recipient inside the change's transaction.
/// Returns how many were queued.
pub(crate) async fn notify(
    tx: &mut Tx,
    render: Render<'_>,
    kind: NoticeKind,
    account_ids: &[AccountId],
    topic: &NoticeTopic,
) -> Result<usize> {
    let mut queued = 0;
    for recipient in recipients(tx, kind, account_ids).await? {
        let notice = Notice {
            kind,
            recipient,
            topic: topic.clone(),
        };
        if let Some(mail) = render(&notice) {
            enqueue(tx, &mail).await?;
            queued += 1;
        }
    }
    Ok(queued)
}

impl Store {
    /// The reminders due at `now` with the given schedule (days before the due date)
    /// that are not yet queued and not turned off: open reports for the next council
    /// session and open duties (to the conference's spokespersons), and events
    /// starting within a day (to their people).
    #[tracing::instrument(level = "debug", skip_all, fields(schedule = schedule.len()))]
    pub async fn due_reminders(
        &self,
        now: Timestamp,
        schedule: &[u32],
    ) -> Result<Vec<DueReminder>> {
        let today = konvent_core::notifications::berlin_date(now);
        let mut due = Vec::new();
        if let Some(horizon) = schedule.iter().max() {
            let last = today
                .checked_add(jiff::Span::new().days(i64::from(*horizon)))
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            self.due_duties(today, last, schedule, &mut due).await?;
            self.due_reports(today, last, schedule, &mut due).await?;
        }
        self.due_events(now, &mut due).await?;
        let sent: HashSet<(String, i64, i64, String, i64)> = sqlx::query_as(
            "SELECT kind, subject_id, account_id, due_on, days_before FROM reminders_sent \
             WHERE due_on >= $1",
        )
        .bind(today.to_string())
        .fetch_all(&self.pool)
        .await?
        .into_iter()
        .collect();
        due.retain(|r| !sent.contains(&r.key()));
        Ok(due)
    }

    async fn due_duties(
        &self,
        today: Date,
        last: Date,
        schedule: &[u32],
        due: &mut Vec<DueReminder>,
    ) -> Result<()> {
        let rows: Vec<DutyDue> = sqlx::query_as(&format!(
            "SELECT d.id AS duty_id, d.task, d.due_on, c.abbreviation AS conference, \
             c.name AS conference_name, r.year, r.number, r.title, r.state, {RECIPIENT} \
             FROM duties d JOIN resolutions r ON r.id = d.resolution_id \
             JOIN conferences c ON c.id = d.conference_id \
             JOIN grants g ON g.role = 'spokesperson' AND g.scope = 'conference:' || c.abbreviation \
             JOIN accounts a ON a.id = g.account_id \
             LEFT JOIN mail_preferences p ON p.account_id = a.id \
             WHERE r.deleted_at IS NULL AND d.done_at IS NULL AND d.due_on IS NOT NULL \
               AND d.due_on >= $1 AND d.due_on <= $2 AND {} \
             ORDER BY d.due_on, d.id, a.id",
            not_opted_out("$3")
        ))
        .bind(today.to_string())
        .bind(last.to_string())
        .bind(NoticeKind::DutyDue.as_str())
        .fetch_all(&self.pool)
        .await?;
        for row in rows {
            let due_on = parse_date(&row.due_on)?;
            let Some(days_before) = reminder_offset(today, due_on, schedule) else {
                continue;
            };
            due.push(DueReminder {
                subject_id: row.duty_id,
                due_on,
                days_before,
                notice: Notice {
                    kind: NoticeKind::DutyDue,
                    recipient: row.recipient,
                    topic: NoticeTopic::Duty {
                        duty_id: row.duty_id,
                        task: row.task,
                        conference: row.conference,
                        conference_name: row.conference_name,
                        due_on,
                        resolution: public_resolution(row.year, row.number, row.title, &row.state),
                    },
                },
            });
        }
        Ok(())
    }

    /// The next council session with the standard item "Reporting FachMK": each
    /// conference without a report yet reminds its spokespersons. The key's subject is
    /// the conference, its due date the session's date.
    async fn due_reports(
        &self,
        today: Date,
        last: Date,
        schedule: &[u32],
        due: &mut Vec<DueReminder>,
    ) -> Result<()> {
        let next: Option<(i64, i64, String)> = sqlx::query_as(
            "SELECT s.id, s.number, s.date FROM council_sessions s \
             WHERE s.deleted_at IS NULL AND s.state IN ('planned', 'invited') AND s.date >= $1 \
               AND EXISTS (SELECT 1 FROM agenda_items i WHERE i.session_id = s.id \
                           AND i.is_reporting = 1 AND i.deleted_at IS NULL) \
             ORDER BY s.date, s.number LIMIT 1",
        )
        .bind(today.to_string())
        .fetch_optional(&self.pool)
        .await?;
        let Some((session_id, session_number, date)) = next else {
            return Ok(());
        };
        let session_date = parse_date(&date)?;
        if session_date > last {
            return Ok(());
        }
        let Some(days_before) = reminder_offset(today, session_date, schedule) else {
            return Ok(());
        };
        let rows: Vec<ReportDue> = sqlx::query_as(&format!(
            "SELECT c.id AS conference_id, c.abbreviation AS conference, \
             c.name AS conference_name, {RECIPIENT} FROM conferences c \
             JOIN grants g ON g.role = 'spokesperson' AND g.scope = 'conference:' || c.abbreviation \
             JOIN accounts a ON a.id = g.account_id \
             LEFT JOIN mail_preferences p ON p.account_id = a.id \
             WHERE NOT EXISTS (SELECT 1 FROM reports r WHERE r.session_id = $1 \
                               AND r.conference_id = c.id) AND {} \
             ORDER BY c.name, a.id",
            not_opted_out("$2")
        ))
        .bind(session_id)
        .bind(NoticeKind::ReportDue.as_str())
        .fetch_all(&self.pool)
        .await?;
        for row in rows {
            due.push(DueReminder {
                subject_id: row.conference_id,
                due_on: session_date,
                days_before,
                notice: Notice {
                    kind: NoticeKind::ReportDue,
                    recipient: row.recipient,
                    topic: NoticeTopic::Report {
                        session_number,
                        session_date,
                        conference: row.conference,
                        conference_name: row.conference_name,
                    },
                },
            });
        }
        Ok(())
    }

    /// Events starting within the next 24 hours remind their people (`event_people`),
    /// once per event and start day.
    async fn due_events(&self, now: Timestamp, due: &mut Vec<DueReminder>) -> Result<()> {
        let now = now.as_microsecond();
        let day = 24 * 3600 * 1_000_000_i64;
        let rows: Vec<EventDue> = sqlx::query_as(&format!(
            "SELECT e.id AS event_id, e.slug, e.title, e.starts_at, {RECIPIENT} FROM events e \
             JOIN event_people ep ON ep.event_id = e.id JOIN accounts a ON a.id = ep.account_id \
             LEFT JOIN mail_preferences p ON p.account_id = a.id \
             WHERE e.starts_at > $1 AND e.starts_at <= $2 AND {} ORDER BY e.starts_at, a.id",
            not_opted_out("$3")
        ))
        .bind(now)
        .bind(now.saturating_add(day))
        .bind(NoticeKind::EventTomorrow.as_str())
        .fetch_all(&self.pool)
        .await?;
        for row in rows {
            let starts = Timestamp::from_microsecond(row.starts_at)
                .map_err(|e| StoreError::Corrupt(e.to_string()))?;
            due.push(DueReminder {
                subject_id: row.event_id,
                due_on: konvent_core::notifications::berlin_date(starts),
                days_before: 1,
                notice: Notice {
                    kind: NoticeKind::EventTomorrow,
                    recipient: row.recipient,
                    topic: NoticeTopic::Event {
                        slug: row.slug,
                        title: row.title,
                        starts_at: row.starts_at,
                    },
                },
            });
        }
        Ok(())
    }

    /// Queues a reminder's mail unless it was queued before (by this node or another)
    /// or the person has turned its kind off meanwhile: the reminder's row and its mail
    /// in one transaction, the row's unique key deciding who queues it. True if queued.
    #[tracing::instrument(level = "debug", skip_all, fields(notice = ?reminder.notice, subject_id = reminder.subject_id))]
    pub async fn queue_reminder(&self, reminder: &DueReminder, mail: &NewMail) -> Result<bool> {
        let mut tx = self.begin_write().await?;
        let (kind, subject_id, account_id, due_on, days_before) = reminder.key();
        let off: Option<(i64,)> = sqlx::query_as(
            "SELECT account_id FROM notification_opt_outs WHERE account_id = $1 AND kind = $2",
        )
        .bind(account_id)
        .bind(&kind)
        .fetch_optional(&mut *tx)
        .await?;
        if off.is_some() {
            return Ok(false);
        }
        let won: Option<(i64,)> = sqlx::query_as(
            "INSERT INTO reminders_sent (kind, subject_id, account_id, due_on, days_before, \
             created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING account_id",
        )
        .bind(&kind)
        .bind(subject_id)
        .bind(account_id)
        .bind(&due_on)
        .bind(days_before)
        .bind(now_micros())
        .fetch_optional(&mut *tx)
        .await?;
        if won.is_none() {
            return Ok(false);
        }
        let mail_id = enqueue(&mut tx, mail).await?;
        sqlx::query(
            "UPDATE reminders_sent SET mail_id = $1 WHERE kind = $2 AND subject_id = $3 \
             AND account_id = $4 AND due_on = $5 AND days_before = $6",
        )
        .bind(mail_id.get())
        .bind(&kind)
        .bind(subject_id)
        .bind(account_id)
        .bind(&due_on)
        .bind(days_before)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// How many reminders were queued in all (tests and the admin's curiosity).
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn reminders_queued(&self) -> Result<i64> {
        let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM reminders_sent")
            .fetch_one(&self.pool)
            .await?;
        Ok(n)
    }

    /// A person's mail language ("de" until chosen) and the kinds they turned off.
    #[tracing::instrument(level = "debug", skip_all, fields(account_id = %account_id))]
    pub async fn mail_preferences(
        &self,
        account_id: AccountId,
    ) -> Result<(String, Vec<NoticeKind>)> {
        let language: Option<(String,)> =
            sqlx::query_as("SELECT language FROM mail_preferences WHERE account_id = $1")
                .bind(account_id.get())
                .fetch_optional(&self.pool)
                .await?;
        let off: Vec<(String,)> = sqlx::query_as(
            "SELECT kind FROM notification_opt_outs WHERE account_id = $1 ORDER BY kind",
        )
        .bind(account_id.get())
        .fetch_all(&self.pool)
        .await?;
        Ok((
            language.map_or_else(|| "de".to_owned(), |(l,)| l),
            off.into_iter().filter_map(|(k,)| k.parse().ok()).collect(),
        ))
    }

    /// Sets a person's mail language and the kinds they turn off (all others on).
    #[tracing::instrument(level = "debug", skip_all, fields(account_id = %account_id, off = off.len()))]
    pub async fn save_mail_preferences(
        &self,
        account_id: AccountId,
        language: &str,
        off: &[NoticeKind],
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO mail_preferences (account_id, language, modified_at) VALUES ($1, $2, $3) \
             ON CONFLICT (account_id) DO UPDATE SET language = excluded.language, \
             modified_at = excluded.modified_at",
        )
        .bind(account_id.get())
        .bind(language)
        .bind(now_micros())
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM notification_opt_outs WHERE account_id = $1")
            .bind(account_id.get())
            .execute(&mut *tx)
            .await?;
        for kind in off.iter().collect::<HashSet<_>>() {
            sqlx::query("INSERT INTO notification_opt_outs (account_id, kind) VALUES ($1, $2)")
                .bind(account_id.get())
                .bind(kind.as_str())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
