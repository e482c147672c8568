//! The admin forms of the council: sessions, their agendas, follow-up confirmation.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use konvent_core::FieldErrors;
use konvent_core::authz::Action;
use konvent_core::gremien::council::{FollowUpInput, SessionInput, SessionState};
use konvent_core::ids::AgendaItemId;
use konvent_core::validation::required_text;
use serde::Deserialize;

use super::{session_title, state_label};
use crate::AppState;
use crate::ctx::{CsrfForm, Ctx, Id};
use crate::error::{AppError, AppResult};
use crate::forms::{Field, FormPage, Kind, choices, form_response, store_errors};
use crate::layout::{Chrome, render};

#[derive(Deserialize, Default)]
pub struct SessionForm {
    #[serde(default)]
    number: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    start_time: String,
    #[serde(default)]
    end_time: String,
    #[serde(default)]
    place: String,
    #[serde(default)]
    video_url: String,
    #[serde(default)]
    state: String,
}

impl SessionForm {
    fn parse(&self) -> Result<SessionInput, FieldErrors> {
        SessionInput::parse(
            &self.number,
            &self.date,
            &self.start_time,
            &self.end_time,
            &self.place,
            &self.video_url,
            &self.state,
        )
    }
}

fn session_page(
    ctx: &Ctx,
    action: String,
    title: String,
    f: &SessionForm,
    cancel: String,
) -> FormPage {
    let t = ctx.tr();
    let states = SessionState::ALL
        .iter()
        .map(|s| (s.as_str().to_owned(), state_label(&t, *s)));
    let fields = vec![
        Field::text(&t, "number", &f.number)
            .required()
            .hint(t.get("hint-session-number")),
        Field::new(&t, "date", Kind::Date).value(&f.date).required(),
        Field::text(&t, "start_time", &f.start_time).hint(t.get("hint-time")),
        Field::text(&t, "end_time", &f.end_time).hint(t.get("hint-time")),
        Field::text(&t, "place", &f.place),
        Field::text(&t, "video_url", &f.video_url).hint(t.get("hint-video-url")),
        Field::new(&t, "state", Kind::Select(choices(states, &f.state))).required(),
    ];
    let mut page = FormPage::new(
        Chrome::new(ctx, "gremien", title),
        action,
        fields,
        t.get("save"),
    );
    page.cancel = Some(cancel);
    page
}

/// A new session's form, with the next number after the highest one prefilled.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn new_session(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    ctx.require(Action::EditCouncil)?;
    let next = state
        .store
        .sessions()
        .await?
        .iter()
        .map(|s| s.number)
        .max()
        .unwrap_or(0)
        + 1;
    let form = SessionForm {
        number: next.to_string(),
        state: SessionState::Planned.as_str().into(),
        start_time: "10:00".into(),
        end_time: "16:00".into(),
        ..SessionForm::default()
    };
    let page = session_page(
        &ctx,
        "/gremien/sitzungen/neu".into(),
        ctx.tr().get("session-new"),
        &form,
        "/gremien/sitzungen".into(),
    );
    form_response(page, &FieldErrors::new())
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn create_session(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<SessionForm>,
) -> AppResult<Response> {
    ctx.require(Action::EditCouncil)?;
    let offset = state.settings.follow_up_offset_days;
    let errors = match form.parse() {
        Ok(input) => match state
            .store
            .create_session(&ctx.actor()?, &input, offset)
            .await
        {
            Ok(_) => {
                return Ok(
                    Redirect::to(&format!("/gremien/sitzungen/{}", input.number)).into_response(),
                );
            }
            Err(e) => store_errors(ctx.tr(), "number", e)?,
        },
        Err(errors) => errors,
    };
    let page = session_page(
        &ctx,
        "/gremien/sitzungen/neu".into(),
        ctx.tr().get("session-new"),
        &form,
        "/gremien/sitzungen".into(),
    );
    form_response(page, &errors)
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), number = number))]
pub async fn edit_session(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(number): Id,
) -> AppResult<Response> {
    ctx.require(Action::EditCouncil)?;
    let s = state.store.session(number).await?;
    let form = SessionForm {
        number: s.number.to_string(),
        date: s.date.to_string(),
        start_time: s.start_time.strftime("%H:%M").to_string(),
        end_time: s.end_time.strftime("%H:%M").to_string(),
        place: s.place.unwrap_or_default(),
        video_url: s.video_url.unwrap_or_default(),
        state: s.state.as_str().into(),
    };
    let title = ctx.tr().with(
        "session-edit",
        &[("title", &session_title(&ctx.tr(), number))],
    );
    let page = session_page(
        &ctx,
        format!("/gremien/sitzungen/{number}/bearbeiten"),
        title,
        &form,
        format!("/gremien/sitzungen/{number}"),
    );
    form_response(page, &FieldErrors::new())
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), number = number))]
pub async fn update_session(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(number): Id,
    CsrfForm(form): CsrfForm<SessionForm>,
) -> AppResult<Response> {
    ctx.require(Action::EditCouncil)?;
    let offset = state.settings.follow_up_offset_days;
    let errors = match form.parse() {
        Ok(input) => match state
            .store
            .update_session(&ctx.actor()?, number, &input, offset)
            .await
        {
            Ok(()) => {
                super::invitations::after_session_change(&state, input.number).await?;
                return Ok(
                    Redirect::to(&format!("/gremien/sitzungen/{}", input.number)).into_response(),
                );
            }
            Err(e) => store_errors(ctx.tr(), "number", e)?,
        },
        Err(errors) => errors,
    };
    let title = ctx.tr().with(
        "session-edit",
        &[("title", &session_title(&ctx.tr(), number))],
    );
    let page = session_page(
        &ctx,
        format!("/gremien/sitzungen/{number}/bearbeiten"),
        title,
        &form,
        format!("/gremien/sitzungen/{number}"),
    );
    form_response(page, &errors)
}

#[derive(Deserialize)]
pub struct AgendaForm {
    #[serde(default)]
    title: String,
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), number = number))]
pub async fn add_agenda_item(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(number): Id,
    CsrfForm(form): CsrfForm<AgendaForm>,
) -> AppResult<Response> {
    ctx.require(Action::EditCouncil)?;
    let mut errors = FieldErrors::new();
    let title = required_text(&mut errors, "title", &form.title, 500);
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    state
        .store
        .add_agenda_item(&ctx.actor()?, number, &title)
        .await?;
    Ok(Redirect::to(&format!("/gremien/sitzungen/{number}#tagesordnung")).into_response())
}

#[derive(Deserialize)]
pub struct MoveForm {
    #[serde(default)]
    direction: String,
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), number = number, item = %item))]
pub async fn move_agenda_item(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((number, item)): Path<(i64, AgendaItemId)>,
    CsrfForm(form): CsrfForm<MoveForm>,
) -> AppResult<Response> {
    ctx.require(Action::EditCouncil)?;
    let up = match form.direction.as_str() {
        "up" => true,
        "down" => false,
        _ => {
            return Err(AppError::BadRequest(
                "Richtung fehlt (up oder down).".into(),
            ));
        }
    };
    state
        .store
        .move_agenda_item(&ctx.actor()?, number, item, up)
        .await?;
    Ok(Redirect::to(&format!("/gremien/sitzungen/{number}#tagesordnung")).into_response())
}

#[derive(askama::Template)]
#[template(path = "agenda_remove.html")]
struct RemovePage {
    c: Chrome,
    number: i64,
    item: konvent_store::AgendaItem,
}

/// Asks before an item is removed; for "Reporting FachMK" with a warning.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), number = number, item = %item))]
pub async fn remove_agenda_item_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((number, item)): Path<(i64, AgendaItemId)>,
) -> AppResult<Response> {
    ctx.require(Action::EditCouncil)?;
    let session = state.store.session(number).await?;
    let item = state
        .store
        .agenda(session.id)
        .await?
        .into_iter()
        .find(|a| a.id == item)
        .ok_or(AppError::NotFound)?;
    let title = ctx
        .tr()
        .with("agenda-remove-title", &[("title", &item.title)]);
    Ok(render(&RemovePage {
        c: Chrome::new(&ctx, "gremien", title),
        number,
        item,
    })?
    .into_response())
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), number = number, item = %item))]
pub async fn remove_agenda_item(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((number, item)): Path<(i64, AgendaItemId)>,
    CsrfForm(_): CsrfForm<crate::session::Empty>,
) -> AppResult<Response> {
    ctx.require(Action::EditCouncil)?;
    state
        .store
        .remove_agenda_item(&ctx.actor()?, number, item)
        .await?;
    Ok(Redirect::to(&format!("/gremien/sitzungen/{number}#tagesordnung")).into_response())
}

#[derive(Deserialize, Default)]
pub struct FollowUpForm {
    #[serde(default)]
    date: String,
    #[serde(default)]
    start_time: String,
    #[serde(default)]
    end_time: String,
    #[serde(default)]
    video_url: String,
}

fn follow_up_page(ctx: &Ctx, number: i64, f: &FollowUpForm) -> FormPage {
    let t = ctx.tr();
    let fields = vec![
        Field::new(&t, "date", Kind::Date).value(&f.date).required(),
        Field::text(&t, "start_time", &f.start_time).hint(t.get("hint-time")),
        Field::text(&t, "end_time", &f.end_time).hint(t.get("hint-time")),
        Field::text(&t, "video_url", &f.video_url).hint(t.get("hint-video-url")),
    ];
    let title = t.with(
        "follow-up-edit-title",
        &[("session", &session_title(&t, number))],
    );
    let mut page = FormPage::new(
        Chrome::new(ctx, "gremien", title),
        format!("/gremien/sitzungen/{number}/nachbesprechung/bearbeiten"),
        fields,
        t.get("save"),
    );
    page.intro = Some(t.get("follow-up-edit-lead"));
    page.cancel = Some(format!("/gremien/sitzungen/{number}#nachbesprechung"));
    page
}

/// The form to set a follow-up meeting's date, time and video link.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), number = number))]
pub async fn edit_follow_up(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(number): Id,
) -> AppResult<Response> {
    ctx.require(Action::EditCouncil)?;
    let s = state.store.session(number).await?;
    let f = state
        .store
        .follow_up(s.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let form = FollowUpForm {
        date: f.date.to_string(),
        start_time: f.start_time.strftime("%H:%M").to_string(),
        end_time: f.end_time.strftime("%H:%M").to_string(),
        video_url: f.video_url.unwrap_or_default(),
    };
    form_response(follow_up_page(&ctx, number, &form), &FieldErrors::new())
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), number = number))]
pub async fn update_follow_up(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(number): Id,
    CsrfForm(form): CsrfForm<FollowUpForm>,
) -> AppResult<Response> {
    ctx.require(Action::EditCouncil)?;
    let errors = match FollowUpInput::parse(
        &form.date,
        &form.start_time,
        &form.end_time,
        &form.video_url,
    ) {
        Ok(input) => match state
            .store
            .update_follow_up(&ctx.actor()?, number, &input)
            .await
        {
            Ok(()) => {
                super::invitations::after_follow_up_change(&state, number).await?;
                return Ok(
                    Redirect::to(&format!("/gremien/sitzungen/{number}#nachbesprechung"))
                        .into_response(),
                );
            }
            Err(e) => store_errors(ctx.tr(), "date", e)?,
        },
        Err(errors) => errors,
    };
    form_response(follow_up_page(&ctx, number, &form), &errors)
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), number = number))]
pub async fn confirm_follow_up(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(number): Id,
    CsrfForm(_): CsrfForm<crate::session::Empty>,
) -> AppResult<Response> {
    ctx.require(Action::EditCouncil)?;
    state.store.confirm_follow_up(&ctx.actor()?, number).await?;
    Ok((
        StatusCode::SEE_OTHER,
        [(
            axum::http::header::LOCATION,
            format!("/gremien/sitzungen/{number}#nachbesprechung"),
        )],
    )
        .into_response())
}
