//! The admin forms of persons: creating and editing one.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use konvent_core::FieldErrors;
use konvent_core::authz::Action;
use konvent_core::gremien::PersonInput;
use konvent_core::ids::PersonId;
use serde::Deserialize;

use crate::AppState;
use crate::ctx::{CsrfForm, Ctx, Id};
use crate::error::AppResult;
use crate::forms::{Field, FormPage, form_response};
use crate::layout::Chrome;

#[derive(Deserialize, Default)]
pub struct PersonForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    function: String,
    #[serde(default)]
    organisation: String,
}

fn person_page(
    ctx: &Ctx,
    action: String,
    title: String,
    f: &PersonForm,
    cancel: String,
) -> FormPage {
    let t = ctx.tr();
    let fields = vec![
        Field::text(&t, "name", &f.name).required(),
        Field::text(&t, "title", &f.title).hint(t.get("hint-title")),
        Field::text(&t, "function", &f.function),
        Field::text(&t, "organisation", &f.organisation),
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

fn parse_person(f: &PersonForm) -> Result<PersonInput, FieldErrors> {
    PersonInput::parse(&f.name, &f.title, &f.function, &f.organisation)
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn new_person(ctx: Ctx) -> AppResult<Response> {
    ctx.require(Action::EditDirectory)?;
    let page = person_page(
        &ctx,
        "/gremien/personen/neu".into(),
        ctx.tr().get("person-new"),
        &PersonForm::default(),
        "/gremien/personen".into(),
    );
    form_response(page, &FieldErrors::new())
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn create_person(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<PersonForm>,
) -> AppResult<Response> {
    ctx.require(Action::EditDirectory)?;
    match parse_person(&form) {
        Ok(input) => {
            let id = state.store.create_person(&ctx.actor()?, &input).await?;
            Ok(Redirect::to(&format!("/gremien/personen/{id}")).into_response())
        }
        Err(errors) => {
            let page = person_page(
                &ctx,
                "/gremien/personen/neu".into(),
                ctx.tr().get("person-new"),
                &form,
                "/gremien/personen".into(),
            );
            form_response(page, &errors)
        }
    }
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), id = %id))]
pub async fn edit_person(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<PersonId>,
) -> AppResult<Response> {
    ctx.require(Action::EditDirectory)?;
    let p = state.store.person(id).await?.person;
    let form = PersonForm {
        name: p.name,
        title: p.title.unwrap_or_default(),
        function: p.function.unwrap_or_default(),
        organisation: p.organisation.unwrap_or_default(),
    };
    let page = person_page(
        &ctx,
        format!("/gremien/personen/{id}/bearbeiten"),
        ctx.tr().get("person-edit"),
        &form,
        format!("/gremien/personen/{id}"),
    );
    form_response(page, &FieldErrors::new())
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), id = %id))]
pub async fn update_person(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<PersonId>,
    CsrfForm(form): CsrfForm<PersonForm>,
) -> AppResult<Response> {
    ctx.require(Action::EditDirectory)?;
    match parse_person(&form) {
        Ok(input) => {
            state.store.update_person(&ctx.actor()?, id, &input).await?;
            Ok(Redirect::to(&format!("/gremien/personen/{id}")).into_response())
        }
        Err(errors) => {
            let page = person_page(
                &ctx,
                format!("/gremien/personen/{id}/bearbeiten"),
                ctx.tr().get("person-edit"),
                &form,
                format!("/gremien/personen/{id}"),
            );
            form_response(page, &errors)
        }
    }
}
