//! The reminder scheduler, one per node, started by `serve`: every minute it asks the
//! store which reminders are due (`reminder_days` before a report's session or a
//! duty's date, and the day before an event) and queues their mails.
//!
//! Never twice, also with several nodes and after a restart: each reminder is queued
//! in one transaction with its row in `reminders_sent`, whose unique key (kind,
//! subject, person, due date, days before) lets exactly one node insert it. A node
//! that stops between the question and the queuing loses nothing: the reminder is
//! still due at its next look, or another node's.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use konvent_store::{Store, StoreError};
use tokio::sync::watch;

use super::mail::notice_mail;
use crate::Settings;
use crate::mail::Outbox;

/// How often the scheduler looks: every minute, or with the test hook
/// `KONVENT_TEST_MAIL_SECONDS=n` every n seconds (as the mail worker does).
fn interval() -> Duration {
    std::env::var("KONVENT_TEST_MAIL_SECONDS")
        .ok()
        .and_then(|n| n.parse::<u64>().ok())
        .filter(|n| *n > 0)
        .map_or(Duration::from_secs(60), Duration::from_secs)
}

/// Queues the reminders due at `now`; returns how many this call queued. An empty
/// `reminder_days` turns reminders off.
pub async fn step(
    store: &Store,
    outbox: &Outbox,
    settings: &Settings,
    now: Timestamp,
) -> Result<usize, StoreError> {
    if settings.reminder_days.is_empty() {
        return Ok(0);
    }
    let mut queued = 0;
    for reminder in store.due_reminders(now, &settings.reminder_days).await? {
        let mail = match notice_mail(outbox, settings, &reminder.notice) {
            Ok(mail) => mail,
            Err(e) => {
                tracing::error!(error = %e, kind = %reminder.notice.kind, "cannot write a reminder");
                continue;
            }
        };
        if store.queue_reminder(&reminder, &mail).await? {
            queued += 1;
        }
    }
    if queued > 0 {
        tracing::info!(queued, "reminders queued");
        outbox.wake();
    }
    Ok(queued)
}

/// Runs until `stop` turns true.
pub async fn run(
    store: Store,
    outbox: Arc<Outbox>,
    settings: Arc<Settings>,
    mut stop: watch::Receiver<bool>,
) {
    let every = interval();
    while !*stop.borrow() {
        if let Err(e) = step(&store, &outbox, &settings, Timestamp::now()).await {
            tracing::warn!(error = %e, "reminders: cannot queue; trying again later");
        }
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            changed = stop.changed() => {
                if changed.is_err() {
                    break;
                }
            }
        }
    }
}
