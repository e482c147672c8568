//! Bulk invitations (A2): an admin (any role, any event) or an event's organizer (its
//! participants) uploads a CSV/XLSX list or pastes addresses. The whole list is checked
//! first ([`konvent_core::invitations`], read with the directory import's readers);
//! a list with a problem is refused row by row and nothing is written. A good list
//! becomes a background job that writes the invitations in batches, each batch one
//! transaction with its mails in the outbox, and a progress page counts along.
//!
//! The list is stored with its job before the first batch, and each batch deletes the
//! rows it wrote: a job outlives its node. The node works it under a lease that every
//! batch renews; a stopping node gives the lease back, a dead one lets it run out, and
//! then [`resume`] on any node (this one after its restart) claims the job and writes
//! the rows left. A batch whose lease was taken over writes nothing.
//!
//! This module holds the node's jobs, their resumption and the progress page; the
//! upload ([`upload`]), the check against what exists ([`known`]) and the writing in
//! batches ([`writer`]) have their own files.

mod known;
pub mod upload;
mod writer;

use konvent_core::ids::BulkInvitationId;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use jiff::SignedDuration;
use tokio::sync::Notify;
use tokio::task::JoinSet;

use crate::AppState;
use crate::ctx::{Ctx, Id};
use crate::error::{AppError, AppResult};
use crate::layout::{Chrome, render};
use writer::Writer;

/// People written per transaction: small enough that a running event's writes wait
/// milliseconds, not seconds, between two batches.
const BATCH: usize = 100;
/// Lists one person may start per hour (besides: one at a time).
const LISTS_PER_HOUR: i64 = 10;
/// How long a node's claim on a job holds without a batch: far above one batch's time.
/// A job of a node that died goes on elsewhere after this.
const LEASE: SignedDuration = SignedDuration::from_secs(90);
/// How often a node looks for jobs nobody works on.
const SWEEP: Duration = Duration::from_secs(30);

/// This node's list jobs: the writers running here, and the bell that makes [`resume`]
/// look at once.
#[derive(Default)]
pub struct Jobs {
    writers: Mutex<JoinSet<()>>,
    bell: Notify,
    stopping: AtomicBool,
}

impl Jobs {
    /// Makes [`resume`] look for unclaimed jobs now.
    pub fn wake(&self) {
        self.bell.notify_one();
    }

    fn spawn(&self, writer: Writer) {
        let mut writers = self.writers.lock().unwrap_or_else(|e| e.into_inner());
        // Finished writers are reaped here, so the set holds only running ones.
        while writers.try_join_next().is_some() {}
        writers.spawn(writer.run());
    }

    /// Tells the writers to stop after their batch and give their jobs back, and waits
    /// for them at most `grace`.
    pub async fn stop(&self, grace: Duration) {
        self.stopping.store(true, Ordering::SeqCst);
        let mut writers =
            std::mem::take(&mut *self.writers.lock().unwrap_or_else(|e| e.into_inner()));
        let all = async { while writers.join_next().await.is_some() {} };
        if tokio::time::timeout(grace, all).await.is_err() {
            tracing::warn!("a list job did not stop in time; its lease will release it");
        }
    }
}

/// A claim's owner: one per writer.
fn worker_name() -> String {
    format!("bulk-{}", &konvent_store::new_token()[..16])
}

/// Runs until the node stops: claims the jobs nobody works on (left by a node that
/// stopped or died, this one before its restart included) and writes their rows left.
pub async fn resume(state: AppState) {
    let mut tick = tokio::time::interval(SWEEP);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = state.jobs.bell.notified() => {}
        }
        if state.jobs.stopping.load(Ordering::SeqCst) {
            return;
        }
        let worker = worker_name();
        let claims = match state.store.claim_bulk_invitations(&worker, LEASE).await {
            Ok(claims) => claims,
            Err(e) => {
                tracing::warn!(error = %e, "list jobs: cannot look for jobs to resume");
                continue;
            }
        };
        for claim in claims {
            match Writer::resumed(&state, &worker, &claim).await {
                Ok(writer) => {
                    tracing::info!(job = %claim.id, "list job resumed");
                    state.jobs.spawn(writer);
                }
                Err(e) => tracing::error!(job = %claim.id, error = %e, "list job not resumed"),
            }
        }
    }
}

#[derive(Template)]
#[template(path = "invitation_progress.html")]
struct ProgressPage {
    c: Chrome,
    job: konvent_store::BulkJob,
    /// The lobby to go back to, for an organizer's list.
    event: Option<(String, String)>,
    path: String,
}

/// The progress of a list: for whoever started it, and admins.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), id = %id))]
pub async fn progress(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<BulkInvitationId>,
) -> AppResult<Response> {
    let principal = ctx.signed_in()?;
    let job = state
        .store
        .bulk_invitation(id)
        .await?
        .ok_or(AppError::NotFound)?;
    if !principal.is_admin() && job.created_by != Some(principal.user_id) {
        return Err(AppError::NotFound);
    }
    let mut event = None;
    if let Some(event_id) = job.event_id {
        event = state
            .store
            .events()
            .await?
            .into_iter()
            .find(|e| e.id == event_id)
            .map(|e| (e.slug, e.title));
    }
    let page = ProgressPage {
        c: Chrome::new(&ctx, "", ctx.tr().get("bulk-progress-title")),
        job,
        event,
        path: format!("/einladungen/{id}"),
    };
    Ok(render(&page)?.into_response())
}
