//! `/admin/mails`: the outbox as admins see it — queued, sent and failed mails with
//! recipient, subject, status, attempts, last error and times, how mails leave this
//! node, and "send again" for failed ones. Works without JavaScript.

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use konvent_core::authz::Action;
use konvent_core::ids::MailId;
use konvent_store::{MailStatus, OutboxMail};
use serde::Deserialize;

use super::transport::{Delivery, MailConfig};
use crate::AppState;
use crate::ctx::{CsrfForm, Ctx, Id};
use crate::error::AppResult;
use crate::layout::{Chrome, datetime_de, render};

/// The newest mails shown; older ones stay stored.
const SHOWN: i64 = 500;

struct MailRow {
    id: MailId,
    recipient: String,
    subject: String,
    kind: String,
    status: &'static str,
    status_label: String,
    attempts: i64,
    last_error: Option<String>,
    created: String,
    /// Sent at, or the next attempt for a queued mail.
    when: String,
    may_resend: bool,
}

#[derive(Template)]
#[template(path = "mails.html")]
struct MailsPage {
    c: Chrome,
    /// How mails leave this node, one sentence.
    delivery: String,
    /// The mail settings are unusable (only when the start-up check was skipped).
    problem: Option<String>,
    counts: Vec<(String, usize)>,
    mails: Vec<MailRow>,
}

fn row(t: &crate::i18n::Tr, m: OutboxMail) -> MailRow {
    let when = match m.status {
        MailStatus::Sent => m.sent_at.map(datetime_de).unwrap_or_default(),
        MailStatus::Queued => t.with(
            "mails-next-attempt",
            &[("at", datetime_de(m.next_attempt_at).as_str())],
        ),
        MailStatus::Sending | MailStatus::Failed => datetime_de(m.updated_at),
    };
    MailRow {
        id: m.id,
        kind: t.get(&format!("mail-kind-{}", m.kind.replace('_', "-"))),
        recipient: m.recipient,
        subject: m.subject,
        status: m.status.as_str(),
        status_label: t.get(&format!("mail-status-{}", m.status.as_str())),
        attempts: m.attempts,
        last_error: m.last_error,
        created: datetime_de(m.created_at),
        when,
        may_resend: m.status == MailStatus::Failed,
    }
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn list(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    ctx.require(Action::ManageAccounts)?;
    let t = ctx.tr();
    let mails: Vec<MailRow> = state
        .store
        .mails(SHOWN)
        .await?
        .into_iter()
        .map(|m| row(&t, m))
        .collect();
    let counts = [
        MailStatus::Queued,
        MailStatus::Sending,
        MailStatus::Sent,
        MailStatus::Failed,
    ]
    .iter()
    .map(|s| {
        (
            t.get(&format!("mail-status-{}", s.as_str())),
            mails.iter().filter(|m| m.status == s.as_str()).count(),
        )
    })
    .collect();
    let (delivery, problem) = match &state.mail.config {
        Ok(MailConfig {
            delivery: Delivery::Files(dir),
            ..
        }) => (
            t.with(
                "mails-delivery-files",
                &[("dir", dir.display().to_string().as_str())],
            ),
            None,
        ),
        Ok(MailConfig {
            delivery: Delivery::Smtp { server, .. },
            ..
        }) => (
            t.with(
                "mails-delivery-smtp",
                &[(
                    "server",
                    format!("{}:{}", server.host, server.port).as_str(),
                )],
            ),
            None,
        ),
        Err(e) => (t.get("mails-delivery-none"), Some(e.clone())),
    };
    let page = MailsPage {
        c: Chrome::new(&ctx, "", t.get("mails-title")),
        delivery,
        problem,
        counts,
        mails,
    };
    Ok(render(&page)?.into_response())
}

#[derive(Deserialize)]
pub struct Empty {}

/// "Send again": a failed mail is queued again and this node's worker woken.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), id = %id))]
pub async fn resend(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<MailId>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<Response> {
    ctx.require(Action::ManageAccounts)?;
    state.store.resend_mail(id).await?;
    state.mail.wake();
    Ok(Redirect::to("/admin/mails").into_response())
}
