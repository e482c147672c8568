//! Live commands posted from a page's forms (`/konvent/{event}/aktion`): the same commands
//! as the WebSocket's, so every page works without JavaScript.

use axum::extract::{Path, State};
use axum::response::Redirect;
use konvent_core::konvent::live::{Command, QuestionStatus, TimerAction};
use serde::Deserialize;

use super::questions::ALREADY_SUPPORTED;
use super::{event_info, require_actor};
use crate::AppState;
use crate::ctx::{CsrfForm, Ctx};
use crate::error::{AppError, AppResult};
use crate::live::{Actor, EventInfo};

/// One form for every live command; fields are optional and checked per command.
#[derive(Deserialize, Default)]
pub struct ActionForm {
    t: String,
    #[serde(default)]
    room: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    up: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    current: String,
    #[serde(default)]
    seconds: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    label: String,
    #[serde(default)]
    anonymous: String,
    #[serde(default)]
    question: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    table: String,
    #[serde(default)]
    impulse: String,
    #[serde(default)]
    hidden: String,
    #[serde(default)]
    merge_into: String,
    #[serde(default)]
    round: String,
    #[serde(default)]
    running: String,
    #[serde(default)]
    pin: String,
    #[serde(default)]
    on: String,
    #[serde(default)]
    outcome: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    topic: String,
    #[serde(default)]
    item: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    reason: String,
    /// A mute's length; empty: for the rest of the event.
    #[serde(default)]
    minutes: String,
    #[serde(default)]
    locked: String,
    /// Where to go back to (a path of this event).
    #[serde(default)]
    zurueck: String,
}

fn number(field: &str, value: &str) -> AppResult<i64> {
    value
        .trim()
        .parse()
        .map_err(|_| AppError::BadRequest(format!("{field}: keine Zahl")))
}

fn optional_number(field: &str, value: &str) -> AppResult<Option<i64>> {
    (!value.trim().is_empty())
        .then(|| number(field, value))
        .transpose()
}

fn yes(value: &str) -> bool {
    matches!(value, "true" | "on" | "1")
}

impl ActionForm {
    fn command(&self) -> AppResult<Command> {
        let id = None;
        Ok(match self.t.as_str() {
            "chat" => Command::Chat {
                id,
                text: self.text.clone(),
            },
            "announce" => Command::Announce {
                id,
                text: self.text.clone(),
            },
            "dm" => Command::Dm {
                id,
                to: (self.to != "helpdesk")
                    .then(|| number("to", &self.to))
                    .transpose()?,
                to_helpdesk: self.to == "helpdesk",
                text: self.text.clone(),
            },
            "hand" => Command::Hand {
                id,
                up: self.up == "true",
            },
            "floor" => Command::Floor {
                id,
                user: (!self.user.is_empty())
                    .then(|| number("user", &self.user))
                    .transpose()?,
            },
            "agenda" => Command::Agenda {
                id,
                current: (!self.current.is_empty())
                    .then(|| number("current", &self.current))
                    .transpose()?,
            },
            "timer" => Command::Timer {
                id,
                action: if self.action == "stop" {
                    TimerAction::Stop
                } else {
                    TimerAction::Start
                },
                seconds: (!self.seconds.is_empty())
                    .then(|| number("seconds", &self.seconds))
                    .transpose()?,
                label: Some(self.label.clone()),
            },
            "ask" => Command::Ask {
                id,
                text: self.text.clone(),
                anonymous: self.anonymous == "on" || self.anonymous == "true",
            },
            "upvote" => Command::Upvote {
                id,
                question: number("question", &self.question)?,
            },
            "moderate" => Command::Moderate {
                id,
                question: number("question", &self.question)?,
                status: self
                    .status
                    .parse::<QuestionStatus>()
                    .map_err(AppError::BadRequest)?,
            },
            "impulse" => Command::Impulse {
                id,
                table: number("table", &self.table)?,
                text: self.text.clone(),
            },
            "edit_impulse" => Command::EditImpulse {
                id,
                impulse: number("impulse", &self.impulse)?,
                text: self.text.clone(),
            },
            "moderate_impulse" => Command::ModerateImpulse {
                id,
                impulse: number("impulse", &self.impulse)?,
                hidden: yes(&self.hidden),
                merge_into: optional_number("merge_into", &self.merge_into)?,
            },
            "summary" => Command::Summary {
                id,
                table: number("table", &self.table)?,
                text: self.text.clone(),
            },
            "round" => Command::Round {
                id,
                round: number("round", &self.round)?,
                running: yes(&self.running),
            },
            "seat" => Command::Seat {
                id,
                table: number("table", &self.table)?,
                user: optional_number("user", &self.user)?,
            },
            "pin" => Command::Pin {
                id,
                text: self.text.clone(),
                topic: Some(self.topic.clone()),
            },
            "vote_pin" => Command::VotePin {
                id,
                pin: number("pin", &self.pin)?,
                on: yes(&self.on),
            },
            "decide_pin" => Command::DecidePin {
                id,
                pin: number("pin", &self.pin)?,
                status: self.status.clone(),
                outcome: self.outcome.clone(),
                url: Some(self.url.clone()),
            },
            "remove" => Command::Remove {
                id,
                item: self.item.clone(),
                target: number("target", &self.target)?,
                reason: self.reason.clone(),
            },
            "report" => Command::Report {
                id,
                item: self.item.clone(),
                target: number("target", &self.target)?,
                reason: self.reason.clone(),
            },
            "dismiss_report" => Command::DismissReport {
                id,
                item: self.item.clone(),
                target: number("target", &self.target)?,
                reason: self.reason.clone(),
            },
            "mute" => Command::Mute {
                id,
                user: number("user", &self.user)?,
                minutes: optional_number("minutes", &self.minutes)?,
                reason: self.reason.clone(),
            },
            "unmute" => Command::Unmute {
                id,
                user: number("user", &self.user)?,
            },
            "expel" => Command::Expel {
                id,
                user: number("user", &self.user)?,
                reason: self.reason.clone(),
            },
            "readmit" => Command::Readmit {
                id,
                user: number("user", &self.user)?,
            },
            "lock_chat" => Command::LockChat {
                id,
                room: self.room.clone(),
                locked: yes(&self.locked),
                reason: self.reason.clone(),
            },
            other => return Err(AppError::BadRequest(format!("unbekannte Aktion {other:?}"))),
        })
    }
}

/// Runs a command posted from a page (no JavaScript needed) and goes back.
pub async fn action(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
    CsrfForm(form): CsrfForm<ActionForm>,
) -> AppResult<Redirect> {
    let info = event_info(&state, &slug).await?;
    let actor = require_actor(&state, &ctx, &info).await?;
    let room = if form.room.is_empty() {
        None
    } else {
        Some(info.room(&form.room).ok_or(AppError::NotFound)?)
    };
    let command = form.command()?;
    let prefix = format!("/konvent/{slug}");
    // Back within the event, or to the konvent-wide contacts page, which reports a
    // request's message to the moderators of the event it was sent from.
    let back = konvent_core::validation::local_path(&form.zurueck)
        .filter(|back| {
            back == &prefix
                || back.starts_with(&format!("{prefix}/"))
                || back == "/konto/kontakte?hinweis=gemeldet"
        })
        .unwrap_or(prefix);
    if let Err(r) = crate::live::run(&state.live, &info, &actor, room, command).await {
        if let Some(again) = repeated_support(&state, &info, &actor, &form, &back).await? {
            return Ok(again);
        }
        return Err(match r.code {
            "forbidden" => AppError::Forbidden,
            "rate_limited" => AppError::TooManyRequests,
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
    form: &ActionForm,
    back: &str,
) -> AppResult<Option<Redirect>> {
    if form.t != "upvote" {
        return Ok(None);
    }
    let Ok(question) = number("question", &form.question) else {
        return Ok(None);
    };
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
