//! The admins' switch: local passwords for everybody, or for admins only.

use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use konvent_core::FieldErrors;
use serde::Deserialize;

use crate::AppState;
use crate::ctx::{CsrfForm, Ctx};
use crate::error::{AppError, AppResult};
use crate::forms::{Field, FormPage, Kind};
use crate::layout::{Chrome, render};

#[derive(Deserialize)]
pub struct SwitchForm {
    #[serde(default)]
    local_passwords: String,
}

fn switch_page(ctx: &Ctx, allowed: bool) -> FormPage {
    let t = ctx.tr();
    let choice = |value: &str, key: &str, selected: bool| crate::forms::Choice {
        value: value.to_owned(),
        label: t.get(key),
        selected,
    };
    let field = Field::new(
        &t,
        "local_passwords",
        Kind::Select(vec![
            choice("on", "local-passwords-on", allowed),
            choice("off", "local-passwords-off", !allowed),
        ]),
    )
    .hint(t.get("local-passwords-hint"));
    let mut page = FormPage::new(
        Chrome::new(ctx, "admin", t.get("local-passwords-title")),
        "/admin/anmeldung",
        vec![field],
        t.get("save"),
    );
    page.heading = t.get("local-passwords-title");
    page
}

/// The admin switch: local passwords for everybody, or for admins only.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn admin_sign_in_form(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    ctx.require(konvent_core::authz::Action::ManageAccounts)?;
    let allowed = state.store.local_passwords_allowed().await?;
    Ok(render(&switch_page(&ctx, allowed))?.into_response())
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn admin_sign_in_switch(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<SwitchForm>,
) -> AppResult<Response> {
    ctx.require(konvent_core::authz::Action::ManageAccounts)?;
    let allowed = match form.local_passwords.as_str() {
        "on" => true,
        "off" => false,
        _ => {
            let mut errors = FieldErrors::new();
            errors.add(
                "local_passwords",
                "local-passwords-choose",
                "Bitte wählen Sie an oder aus.",
            );
            return Err(AppError::Invalid(errors));
        }
    };
    state
        .store
        .set_local_passwords(&ctx.actor()?, allowed)
        .await?;
    Ok(Redirect::to("/admin/anmeldung").into_response())
}
