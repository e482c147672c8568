//! Retention (issue 21): the daily job, one per node, started by `serve`, that removes
//! what is past its period ([`konvent_store::Store::apply_retention`]; several nodes
//! removing the same rows do no harm), and the admin page `/admin/aufbewahrung` with
//! the periods and the last run. The periods are `[retention]` in `konvent.toml`.

use std::sync::Arc;
use std::time::Duration;

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use konvent_store::{RetentionPeriods, RetentionRun, Store};
use serde::Deserialize;
use tokio::sync::watch;

use crate::AppState;
use crate::ctx::Ctx;
use crate::error::{AppError, AppResult};
use crate::layout::{Chrome, datetime_de, render};

/// `[retention]`: how many days each kind is kept.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RetentionSettings {
    /// Chat lines and direct messages of an event, from the event's end.
    pub chat_days: u32,
    /// Feedback answers (and who answered), from the event's end.
    pub feedback_days: u32,
    /// Failed sign-ins, remembered devices, expired sessions and links.
    pub sign_in_days: u32,
    /// Sent and failed mails in the outbox.
    pub mail_days: u32,
    /// The server's request log (standard output): konvent keeps none itself; the
    /// operator's log rotation must keep to this, and the privacy notice names it.
    pub access_log_days: u32,
}

impl Default for RetentionSettings {
    fn default() -> Self {
        Self {
            chat_days: 180,
            feedback_days: 365,
            sign_in_days: 30,
            mail_days: 90,
            access_log_days: 14,
        }
    }
}

impl RetentionSettings {
    pub fn periods(&self) -> RetentionPeriods {
        RetentionPeriods {
            chat_days: self.chat_days,
            feedback_days: self.feedback_days,
            sign_in_days: self.sign_in_days,
            mail_days: self.mail_days,
        }
    }
}

/// The kinds of data with a retention period. The privacy notice and the admin page
/// both list them from here (name and period from [`RetentionSettings`]), so neither
/// can name a kind or a period the job does not keep to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetentionKind {
    Chat,
    Feedback,
    SignIn,
    Mails,
    AccessLog,
}

impl RetentionKind {
    pub const ALL: [RetentionKind; 5] = [
        RetentionKind::Chat,
        RetentionKind::Feedback,
        RetentionKind::SignIn,
        RetentionKind::Mails,
        RetentionKind::AccessLog,
    ];

    /// The locale key of the kind's name (with the moment its period counts from).
    pub fn label_key(self) -> &'static str {
        match self {
            RetentionKind::Chat => "legal-retention-chat",
            RetentionKind::Feedback => "legal-retention-feedback",
            RetentionKind::SignIn => "legal-retention-sign-in",
            RetentionKind::Mails => "legal-retention-mails",
            RetentionKind::AccessLog => "legal-retention-access-log",
        }
    }

    /// Its period in days.
    pub fn days(self, s: &RetentionSettings) -> u32 {
        match self {
            RetentionKind::Chat => s.chat_days,
            RetentionKind::Feedback => s.feedback_days,
            RetentionKind::SignIn => s.sign_in_days,
            RetentionKind::Mails => s.mail_days,
            RetentionKind::AccessLog => s.access_log_days,
        }
    }

    /// How many rows of it a run removed; `None` for what konvent does not hold itself
    /// (the access log).
    pub fn removed(self, run: &RetentionRun) -> Option<i64> {
        match self {
            RetentionKind::Chat => Some(run.chat_lines),
            RetentionKind::Feedback => Some(run.feedback),
            RetentionKind::SignIn => Some(run.sign_in_records),
            RetentionKind::Mails => Some(run.mails),
            RetentionKind::AccessLog => None,
        }
    }
}

/// One line of the list of periods: the kind's name and its period in days.
pub struct RetentionLine {
    pub label: String,
    pub days: u32,
    /// Rows removed by the last run; `None`: no run yet, or not konvent's to remove.
    pub removed: Option<i64>,
    /// Kept outside konvent (the access log): the operator's log rotation keeps to it.
    pub external: bool,
}

/// The list of periods, in the order of [`RetentionKind::ALL`].
pub fn retention_lines(
    t: &crate::i18n::Tr,
    s: &RetentionSettings,
    last: Option<&RetentionRun>,
) -> Vec<RetentionLine> {
    RetentionKind::ALL
        .into_iter()
        .map(|kind| RetentionLine {
            label: t.get(kind.label_key()),
            days: kind.days(s),
            removed: last.and_then(|run| kind.removed(run)),
            external: kind == RetentionKind::AccessLog,
        })
        .collect()
}

/// The job runs daily; its first run waits [`FIRST_RUN`] after the start, so that a
/// node restarted every day still runs it. A demo server keeps what is written in it:
/// a chat line's period counts from when it was written if that is after its event's
/// end (the demo's event is dated 2025).
const EVERY: Duration = Duration::from_secs(24 * 60 * 60);
const FIRST_RUN: Duration = Duration::from_secs(10 * 60);

/// Runs ten minutes after the start and then daily until `stop` turns true.
pub async fn run(store: Store, settings: Arc<crate::Settings>, mut stop: watch::Receiver<bool>) {
    tokio::select! {
        () = tokio::time::sleep(FIRST_RUN) => {}
        _ = stop.changed() => return,
    }
    while !*stop.borrow() {
        match store
            .apply_retention(Timestamp::now(), &settings.retention.periods())
            .await
        {
            Ok(run) => tracing::info!(?run, "retention: past their period removed"),
            Err(e) => tracing::warn!(error = %e, "retention: failed; trying again later"),
        }
        tokio::select! {
            () = tokio::time::sleep(EVERY) => {}
            changed = stop.changed() => {
                if changed.is_err() {
                    break;
                }
            }
        }
    }
}

#[derive(Template)]
#[template(path = "legal/retention.html")]
struct RetentionPage {
    c: Chrome,
    lines: Vec<RetentionLine>,
    /// When the job last ran.
    last: Option<String>,
}

/// The admin page: the periods and the last run.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn page(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let principal = ctx.signed_in()?;
    if !principal.is_admin() {
        return Err(AppError::Forbidden);
    }
    let t = ctx.tr();
    let run = state.store.last_retention_run().await?;
    let page = RetentionPage {
        c: Chrome::new(&ctx, "", t.get("legal-retention-title")),
        lines: retention_lines(&t, &state.settings.retention, run.as_ref()),
        last: run.map(|run| datetime_de(run.at)),
    };
    Ok(render(&page)?.into_response())
}
