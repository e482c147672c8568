//! The admin forms of conferences: creating and editing one.

use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use konvent_core::FieldErrors;
use konvent_core::authz::Action;
use konvent_core::gremien::ConferenceInput;
use serde::Deserialize;

use crate::AppState;
use crate::ctx::{CsrfForm, Ctx};
use crate::error::AppResult;
use crate::forms::{Field, FormPage, Kind, form_response, store_errors};
use crate::layout::Chrome;

#[derive(Deserialize, Default)]
pub struct ConferenceForm {
    #[serde(default)]
    abbreviation: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    lead_states: String,
    #[serde(default)]
    office_contact: String,
}

fn conference_page(
    ctx: &Ctx,
    action: String,
    title: String,
    f: &ConferenceForm,
    cancel: String,
) -> FormPage {
    let t = ctx.tr();
    let fields = vec![
        Field::text(&t, "abbreviation", &f.abbreviation)
            .required()
            .hint(t.get("hint-abbreviation")),
        Field::text(&t, "name", &f.name).required(),
        Field::text(&t, "lead_states", &f.lead_states).hint(t.get("hint-lead-states")),
        Field::new(&t, "office_contact", Kind::Textarea)
            .value(&f.office_contact)
            .hint(t.get("hint-office-contact")),
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

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn new_conference(ctx: Ctx) -> AppResult<Response> {
    ctx.require(Action::EditDirectory)?;
    let t = ctx.tr();
    let page = conference_page(
        &ctx,
        "/gremien/konferenzen/neu".into(),
        t.get("conference-new"),
        &ConferenceForm::default(),
        "/gremien/konferenzen".into(),
    );
    form_response(page, &FieldErrors::new())
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn create_conference(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<ConferenceForm>,
) -> AppResult<Response> {
    ctx.require(Action::EditDirectory)?;
    let parsed = ConferenceInput::parse(
        &form.abbreviation,
        &form.name,
        &form.lead_states,
        &form.office_contact,
    );
    let errors = match parsed {
        Ok(input) => match state.store.create_conference(&ctx.actor()?, &input).await {
            Ok(_) => {
                return Ok(
                    Redirect::to(&format!("/gremien/konferenzen/{}", input.abbreviation))
                        .into_response(),
                );
            }
            Err(e) => store_errors(ctx.tr(), "abbreviation", e)?,
        },
        Err(errors) => errors,
    };
    let t = ctx.tr();
    let page = conference_page(
        &ctx,
        "/gremien/konferenzen/neu".into(),
        t.get("conference-new"),
        &form,
        "/gremien/konferenzen".into(),
    );
    form_response(page, &errors)
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), conference = %abbr))]
pub async fn edit_conference(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(abbr): Path<String>,
) -> AppResult<Response> {
    ctx.require(Action::EditDirectory)?;
    let c = state.store.conference(&abbr).await?.conference;
    let form = ConferenceForm {
        abbreviation: c.abbreviation,
        name: c.name,
        lead_states: c.lead_states.unwrap_or_default(),
        office_contact: c.office_contact.unwrap_or_default(),
    };
    let page = conference_page(
        &ctx,
        format!("/gremien/konferenzen/{abbr}/bearbeiten"),
        ctx.tr().get("conference-edit"),
        &form,
        format!("/gremien/konferenzen/{abbr}"),
    );
    form_response(page, &FieldErrors::new())
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), conference = %abbr))]
pub async fn update_conference(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(abbr): Path<String>,
    CsrfForm(form): CsrfForm<ConferenceForm>,
) -> AppResult<Response> {
    ctx.require(Action::EditDirectory)?;
    let parsed = ConferenceInput::parse(
        &form.abbreviation,
        &form.name,
        &form.lead_states,
        &form.office_contact,
    );
    let errors = match parsed {
        Ok(input) => match state
            .store
            .update_conference(&ctx.actor()?, &abbr, &input)
            .await
        {
            Ok(()) => {
                return Ok(
                    Redirect::to(&format!("/gremien/konferenzen/{}", input.abbreviation))
                        .into_response(),
                );
            }
            Err(e) => store_errors(ctx.tr(), "abbreviation", e)?,
        },
        Err(errors) => errors,
    };
    let page = conference_page(
        &ctx,
        format!("/gremien/konferenzen/{abbr}/bearbeiten"),
        ctx.tr().get("conference-edit"),
        &form,
        format!("/gremien/konferenzen/{abbr}"),
    );
    form_response(page, &errors)
}
