//! Retention (issue 21): what is past its period goes, in one transaction per run, and
//! the run is recorded. Periods are in days; 0 removes everything of its kind that is
//! over (an ended event's chat, a sent mail) at once.
//!
//! - chat lines and direct messages of an event: counted from the event's end, or from
//!   when the line was written if that is later; the live log keeps its other entries
//!   (hands, impulses, pins, questions live on as content of the event and the
//!   strategy process);
//! - feedback: the anonymous answers and the record of who answered, from the event's
//!   end, or from when the event was set up in konvent if that is later (the answers
//!   carry no time, by design);
//!
//! The "if later" keeps what is written in an event set up after it took place for its
//! whole period: above all the demo, whose event is dated on the seed's day in 2025,
//! so a demo server keeps its demo content instead of losing it at the first run.
//! - sign-in records: failed sign-ins and remembered devices from when they were seen,
//!   sessions and single-use links from when they expired;
//! - mails: sent or failed mails from when they were last touched; queued mails stay.

use jiff::{SignedDuration, Timestamp};

use crate::{Result, Store};

/// The periods, in days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetentionPeriods {
    pub chat_days: u32,
    pub feedback_days: u32,
    pub sign_in_days: u32,
    pub mail_days: u32,
}

/// One run of the job: when, and how many rows of each kind it removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, sqlx::FromRow)]
pub struct RetentionRun {
    pub at: i64,
    pub chat_lines: i64,
    pub feedback: i64,
    pub sign_in_records: i64,
    pub mails: i64,
}

fn cutoff(now: Timestamp, days: u32) -> i64 {
    now.as_microsecond() - SignedDuration::from_hours(24 * i64::from(days)).as_micros() as i64
}

impl Store {
    /// Removes what is past its period at `now` and records the run.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn apply_retention(
        &self,
        now: Timestamp,
        periods: &RetentionPeriods,
    ) -> Result<RetentionRun> {
        let mut tx = self.begin_write().await?;
        let chat = cutoff(now, periods.chat_days);
        let chat_lines = sqlx::query(
            "DELETE FROM live_log WHERE kind IN ('chat', 'dm') AND at <= $1 AND event_id IN \
             (SELECT id FROM events WHERE ends_at <= $1)",
        )
        .bind(chat)
        .execute(&mut *tx)
        .await?
        .rows_affected();

        let feedback_cut = cutoff(now, periods.feedback_days);
        let mut feedback = 0;
        for sql in [
            "DELETE FROM feedback_answers WHERE event_id IN \
             (SELECT id FROM events WHERE ends_at <= $1 AND created_at <= $1)",
            "DELETE FROM feedback_given WHERE event_id IN \
             (SELECT id FROM events WHERE ends_at <= $1 AND created_at <= $1)",
        ] {
            feedback += sqlx::query(sql)
                .bind(feedback_cut)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }

        let sign_in = cutoff(now, periods.sign_in_days);
        let mut sign_in_records = 0;
        for sql in [
            "DELETE FROM sign_in_failures WHERE at <= $1",
            "DELETE FROM known_devices WHERE seen_at <= $1",
            "DELETE FROM sessions WHERE expires_at <= $1",
            "DELETE FROM login_tokens WHERE expires_at <= $1",
        ] {
            sign_in_records += sqlx::query(sql)
                .bind(sign_in)
                .execute(&mut *tx)
                .await?
                .rows_affected();
        }

        let mail_cut = cutoff(now, periods.mail_days);
        // A reminder's row keeps that it was sent (never twice); its mail_id becomes
        // NULL with the mail (ON DELETE SET NULL).
        let mails = sqlx::query(
            "DELETE FROM mail_outbox WHERE status IN ('sent', 'failed') AND updated_at <= $1",
        )
        .bind(mail_cut)
        .execute(&mut *tx)
        .await?
        .rows_affected();

        let run = RetentionRun {
            at: now.as_microsecond(),
            chat_lines: chat_lines as i64,
            feedback: feedback as i64,
            sign_in_records: sign_in_records as i64,
            mails: mails as i64,
        };
        sqlx::query(
            "INSERT INTO retention_runs (at, chat_lines, feedback, sign_in_records, mails) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(run.at)
        .bind(run.chat_lines)
        .bind(run.feedback)
        .bind(run.sign_in_records)
        .bind(run.mails)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(run)
    }

    /// The latest run of the retention job, if any.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn last_retention_run(&self) -> Result<Option<RetentionRun>> {
        Ok(sqlx::query_as(
            "SELECT at, chat_lines, feedback, sign_in_records, mails FROM retention_runs \
             ORDER BY at DESC, id DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?)
    }
}
