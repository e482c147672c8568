//! The outbox worker, one per node, started by `serve`: woken when a mail is queued on
//! this node and every few seconds (retries, mails queued on other nodes), it claims due
//! mails with a lease and delivers them one at a time.
//!
//! What "never twice" means here (SMTP has no exactly-once delivery): the lease keeps
//! two workers, on this node or another, from sending the same mail at once, and a sent
//! mail is never claimed again. A node killed between the server's `250 OK` and the
//! `sent` mark sends that one mail again once its lease has run out, with the same
//! Message-ID. A node killed at any other moment loses nothing: the mail is still
//! queued, or its lease runs out and another worker (or this node after its restart)
//! takes it.
//!
//! On shutdown the worker finishes the mail it is sending, releases the rest of its
//! claim (due again at once, for the next worker) and stops.

use std::sync::Arc;

use jiff::SignedDuration;
use konvent_store::{ClaimedMail, Store};
use tokio::sync::watch;

use super::Outbox;
use super::transport::Outcome;

/// Mails claimed at once: a few, so that a stopping node releases little.
const BATCH: i64 = 8;

/// Runs until `stop` turns true.
pub async fn run(store: Store, outbox: Arc<Outbox>, mut stop: watch::Receiver<bool>) {
    let config = match &outbox.config {
        Ok(config) => config,
        Err(e) => {
            tracing::error!(error = %e, "mail worker not started: the mail settings are unusable");
            return;
        }
    };
    let worker = format!("worker-{}", &konvent_store::new_token()[..16]);
    let timing = outbox.timing;
    let lease = SignedDuration::try_from(timing.lease).unwrap_or(SignedDuration::from_mins(5));
    let retry_base =
        SignedDuration::try_from(timing.retry_base).unwrap_or(SignedDuration::from_mins(1));
    tracing::info!(%worker, "mail worker started");
    while !*stop.borrow() {
        let claimed = match store.claim_due_mails(&worker, lease, BATCH).await {
            Ok(claimed) => claimed,
            Err(e) => {
                tracing::warn!(error = %e, "mail worker: cannot claim mails");
                Vec::new()
            }
        };
        let full = claimed.len() as i64 == BATCH;
        let mut mails = claimed.into_iter();
        for mail in mails.by_ref() {
            // A send in progress finishes even when the stop comes meanwhile.
            let outcome = config.deliver(&mail).await;
            record(&store, &worker, &mail, outcome, retry_base).await;
            if *stop.borrow() {
                break;
            }
        }
        for mail in mails {
            if let Err(e) = store.release_mail(mail.id, &worker).await {
                tracing::warn!(error = %e, mail = %mail.id, "mail worker: cannot release a mail");
            }
        }
        if full {
            // More may be due right away.
            continue;
        }
        tokio::select! {
            () = outbox.woken() => {}
            () = tokio::time::sleep(timing.poll) => {}
            changed = stop.changed() => {
                if changed.is_err() {
                    // The server is gone without saying stop: nothing left to serve.
                    break;
                }
            }
        }
    }
    tracing::info!(%worker, "mail worker stopped");
}

async fn record(
    store: &Store,
    worker: &str,
    mail: &ClaimedMail,
    outcome: Outcome,
    retry_base: SignedDuration,
) {
    let (done, what) = match &outcome {
        Outcome::Sent => (store.mark_mail_sent(mail.id, worker).await, "sent"),
        Outcome::Retry(error) => {
            tracing::info!(mail = %mail.id, attempts = mail.attempts, %error, "mail: will try again");
            (
                store
                    .retry_mail_later(mail.id, worker, error, retry_base)
                    .await,
                "queued again",
            )
        }
        Outcome::Failed(reason) => {
            tracing::warn!(mail = %mail.id, %reason, "mail refused for good");
            (
                store.mark_mail_failed(mail.id, worker, reason).await,
                "failed",
            )
        }
    };
    match done {
        Ok(true) => tracing::debug!(mail = %mail.id, what, "mail"),
        Ok(false) => tracing::warn!(
            mail = %mail.id,
            what,
            "mail: the lease ran out during the attempt; another worker holds it now"
        ),
        Err(e) => tracing::error!(
            error = %e,
            mail = %mail.id,
            what,
            "mail: cannot record the attempt; the mail is due again when its lease runs out"
        ),
    }
}
