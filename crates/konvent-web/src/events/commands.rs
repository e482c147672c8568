//! Live commands posted from a page's forms (`/konvent/{event}/aktion`): the same commands
//! as the WebSocket's, so every page works without JavaScript.

use axum::extract::{Path, State};
use axum::response::Redirect;
use konvent_core::convention::live::{self, Command, RefusalKind};
use konvent_core::ids::QuestionId;

use super::questions::ALREADY_SUPPORTED;
use super::{event_info, require_actor};
use crate::AppState;
use crate::ctx::{CsrfPairs, Ctx};
use crate::error::{AppError, AppResult};
use crate::live::{Actor, EventInfo};

/// The form's own fields, beside the command's: its CSRF token (checked by
/// [`CsrfPairs`]) and where to go back to (a path of this event). Every other field is
/// the command's, read by core's one definition ([`live::from_form`]); `room` is both
/// the room the command is sent from and the field of `lock_chat`.
const CSRF: &str = "csrf";
const BACK: &str = "zurueck";
const ROOM: &str = "room";

/// The value of the form's field `name`, empty when it is missing.
fn field<'a>(fields: &'a [(String, String)], name: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

/// Runs a command posted from a page (no JavaScript needed) and goes back.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug))]
pub async fn action(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
    CsrfPairs(fields): CsrfPairs,
) -> AppResult<Redirect> {
    let info = event_info(&state, &slug).await?;
    let actor = require_actor(&state, &ctx, &info).await?;
    let room = match field(&fields, ROOM) {
        "" => None,
        slug => Some(info.room(slug).ok_or(AppError::NotFound)?),
    };
    let command = live::from_form(
        fields
            .iter()
            .filter(|(k, _)| k != CSRF && k != BACK)
            .map(|(k, v)| (k.as_str(), v.as_str())),
    )
    .map_err(|r| AppError::BadRequest(crate::refusals::live(ctx.tr(), &r)))?;
    let prefix = format!("/konvent/{slug}");
    // Back within the event, or to the konvent-wide contacts page, which reports a
    // request's message to the moderators of the event it was sent from.
    let back = konvent_core::validation::local_path(field(&fields, BACK))
        .filter(|back| {
            back == &prefix
                || back.starts_with(&format!("{prefix}/"))
                || back == "/konto/kontakte?hinweis=gemeldet"
        })
        .unwrap_or(prefix);
    let upvoted = match command {
        Command::Upvote { question, .. } => Some(question),
        _ => None,
    };
    if let Err(r) = crate::live::run(&state.live, &info, &actor, room, command).await {
        if let Some(question) = upvoted
            && let Some(again) = repeated_support(&state, &info, &actor, question, &back).await?
        {
            return Ok(again);
        }
        return Err(match r.kind {
            RefusalKind::Forbidden => AppError::Forbidden,
            RefusalKind::RateLimited => AppError::TooManyRequests,
            _ => AppError::BadRequest(crate::refusals::live(ctx.tr(), &r)),
        });
    }
    Ok(Redirect::to(&back))
}

/// A refused "Unterstützen" of a question the person already supports (a second click,
/// or a second tab) goes back to the page with a notice beside the question instead of
/// an error page.
async fn repeated_support(
    state: &AppState,
    info: &EventInfo,
    actor: &Actor,
    question: QuestionId,
    back: &str,
) -> AppResult<Option<Redirect>> {
    let supported = state
        .store
        .question_votes(info.event.id, actor.who.id)
        .await?;
    if !supported.contains(&question) {
        return Ok(None);
    }
    let path = back.split(['?', '#']).next().unwrap_or(back);
    Ok(Some(Redirect::to(&format!(
        "{path}?hinweis={ALREADY_SUPPORTED}&frage={question}#questions-notice"
    ))))
}
