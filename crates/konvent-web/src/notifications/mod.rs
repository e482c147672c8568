//! Reminders and notifications (issue 18): the page where a signed-in person reads what
//! konvent told them (the notices in konvent, e.g. released minutes), chooses the
//! language of their mails and turns kinds of reminder and notification off
//! (`/konto/benachrichtigungen`, linked from the user menu and from every such mail),
//! the mails themselves (`mail`) and the scheduler that queues reminders (`scheduler`).

pub mod mail;
pub mod scheduler;

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use konvent_core::ids::AccountId;
use konvent_core::notifications::NoticeKind;

use crate::AppState;
use crate::ctx::{CsrfPairs, Ctx};
use crate::error::{AppError, AppResult};
use crate::forms::{Choice, Field, Kind, choices};
use crate::i18n::{Lang, Tr};
use crate::layout::{Chrome, datetime_de, render};

/// Fields a client may send at most: the kinds, the language and the CSRF token.
const MAX_FIELDS: usize = NoticeKind::ALL.len() + 4;
/// Saves of one person's preferences per hour: far more than anyone changes their mind.
const SAVES_PER_HOUR: i64 = 30;

struct KindBox {
    value: &'static str,
    label: String,
    on: bool,
}

#[derive(Template)]
#[template(path = "notifications.html")]
struct PreferencesPage {
    c: Chrome,
    reminders: Vec<KindBox>,
    changes: Vec<KindBox>,
    language: Field,
    saved: bool,
    /// What konvent told the person (newest first).
    inbox: Vec<InboxLine>,
}

/// A notice in konvent as the page lists it.
struct InboxLine {
    text: String,
    link: String,
    date: String,
}

/// The person's notices in their language, with the link to what each is about.
async fn inbox(state: &AppState, ctx: &Ctx, account_id: AccountId) -> AppResult<Vec<InboxLine>> {
    let t = ctx.tr();
    Ok(state
        .store
        .inbox(account_id)
        .await?
        .into_iter()
        .map(|n| {
            let (text, link) = match n.kind {
                NoticeKind::MinutesReleased => (
                    t.with(
                        "inbox-minutes-released",
                        &[
                            ("session", &n.subject_id.to_string()),
                            ("version", &n.version.to_string()),
                        ],
                    ),
                    format!(
                        "/gremien/sitzungen/{}/niederschrift/fassungen/{}",
                        n.subject_id, n.version
                    ),
                ),
                // Only the release of minutes is told in konvent so far.
                other => (
                    t.get(&format!("notice-kind-{}", other.as_str().replace('_', "-"))),
                    mail::PREFERENCES_PATH.to_owned(),
                ),
            };
            InboxLine {
                text,
                link,
                date: datetime_de(n.created_at),
            }
        })
        .collect())
}

fn boxes(t: &Tr, off: &[NoticeKind], reminders: bool) -> Vec<KindBox> {
    NoticeKind::ALL
        .into_iter()
        .filter(|k| k.is_reminder() == reminders)
        .map(|k| KindBox {
            value: k.as_str(),
            label: t.get(&format!("notice-kind-{}", k.as_str().replace('_', "-"))),
            on: !off.contains(&k),
        })
        .collect()
}

fn language_choices(t: &Tr, selected: &str) -> Vec<Choice> {
    choices(
        [Lang::De, Lang::En].map(|l| {
            (
                l.code().to_owned(),
                t.get(&format!("language-{}", l.code())),
            )
        }),
        selected,
    )
}

fn page(
    ctx: &Ctx,
    language: &str,
    off: &[NoticeKind],
    error: Option<String>,
    saved: bool,
) -> PreferencesPage {
    let t = ctx.tr();
    let mut field = Field::new(&t, "language", Kind::Select(language_choices(&t, language)))
        .hint(t.get("notifications-language-hint"));
    field.error = error;
    PreferencesPage {
        c: Chrome::new(ctx, "", t.get("notifications-title")),
        reminders: boxes(&t, off, true),
        changes: boxes(&t, off, false),
        language: field,
        saved,
        inbox: Vec::new(),
    }
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn preferences(State(state): State<AppState>, ctx: Ctx) -> AppResult<Html<String>> {
    let me = ctx.signed_in()?;
    let (language, off) = state.store.mail_preferences(me.user_id).await?;
    let mut page = page(&ctx, &language, &off, None, false);
    page.inbox = inbox(&state, &ctx, me.user_id).await?;
    render(&page)
}

/// Saves the language and the kinds left ticked (`on`); every kind not ticked is off.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn save_preferences(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfPairs(pairs): CsrfPairs,
) -> AppResult<Response> {
    let me = ctx.signed_in()?;
    if pairs.len() > MAX_FIELDS {
        return Err(AppError::BadRequest("Zu viele Formularfelder.".into()));
    }
    let mut on = Vec::new();
    let mut language = "";
    for (name, value) in &pairs {
        match name.as_str() {
            // Each fieldset's checkboxes have their own name (a group of one name).
            "on" | "on-change" => on.push(
                value
                    .parse::<NoticeKind>()
                    .map_err(|_| AppError::BadRequest("Unbekannte Benachrichtigung.".into()))?,
            ),
            "language" => language = value.as_str(),
            _ => {}
        }
    }
    let off: Vec<NoticeKind> = NoticeKind::ALL
        .into_iter()
        .filter(|k| !on.contains(k))
        .collect();
    let Some(lang) = Lang::parse(language) else {
        let error = ctx.tr().get("notifications-language-invalid");
        let page = page(&ctx, language, &off, Some(error), false);
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
    };
    // The budget, counted like sign-in attempts (per hour).
    let key = format!("mail-preferences:{}", me.user_id);
    if state.store.recent_sign_in_failures(&key).await? >= SAVES_PER_HOUR {
        let error = ctx.tr().get("notifications-too-many");
        let page = page(&ctx, lang.code(), &off, Some(error), false);
        return Ok((StatusCode::TOO_MANY_REQUESTS, render(&page)?).into_response());
    }
    state.store.record_sign_in_failure(&[&key]).await?;
    state
        .store
        .save_mail_preferences(me.user_id, lang.code(), &off)
        .await?;
    let mut page = page(&ctx, lang.code(), &off, None, true);
    page.inbox = inbox(&state, &ctx, me.user_id).await?;
    Ok(render(&page)?.into_response())
}
