//! Accepting an invitation: the invited person chooses a name and a password.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use konvent_core::FieldErrors;
use konvent_store::{InvitationInfo, StoreError, TokenPurpose, password};
use serde::Deserialize;

use super::{SignInQuery, local_path, start_session, with_next};
use crate::AppState;
use crate::ctx::{CsrfForm, Ctx};
use crate::error::{AppError, AppResult};
use crate::forms::{Field, FormPage, Kind, attach};
use crate::layout::{Chrome, render};

#[derive(Deserialize)]
pub struct InvitationForm {
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_repeat: String,
}

fn invitation_page(
    ctx: &Ctx,
    token: &str,
    next: &str,
    info: &InvitationInfo,
    name: &str,
    errors: &FieldErrors,
) -> FormPage {
    let t = ctx.tr();
    let mut fields = vec![
        Field::text(&t, "display_name", name)
            .required()
            .autocomplete("name"),
        Field::new(&t, "password", Kind::Password { new: true })
            .required()
            .autocomplete("new-password")
            .hint(t.get("password-hint")),
        Field::new(&t, "password_repeat", Kind::Password { new: true })
            .required()
            .autocomplete("new-password"),
    ];
    let problems = attach(&t, &mut fields, errors);
    FormPage {
        c: Chrome::new(ctx, "", t.get("invitation-title")),
        heading: t.get("invitation-title"),
        intro: Some(t.with("invitation-lead", &[("email", &info.email)])),
        problems,
        action: with_next(&format!("/einladung/{token}"), next),
        multipart: false,
        hidden: vec![],
        fields,
        submit: t.get("invitation-submit"),
        cancel: None,
    }
}

async fn valid_invitation(state: &AppState, token: &str) -> AppResult<InvitationInfo> {
    state
        .store
        .login_token_info(TokenPurpose::Invitation, token)
        .await?
        .ok_or_else(|| AppError::BadRequest(invalid_link_message()))
}

fn invalid_link_message() -> String {
    "Dieser Link ist unbekannt, wurde schon benutzt oder ist abgelaufen. Bitte fordern Sie \
     einen neuen an."
        .to_owned()
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn invitation_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
    Query(q): Query<SignInQuery>,
) -> AppResult<Html<String>> {
    let info = valid_invitation(&state, &token).await?;
    let name = info.account_name.clone().unwrap_or_default();
    render(&invitation_page(
        &ctx,
        &token,
        &local_path(q.weiter.as_deref()),
        &info,
        &name,
        &FieldErrors::new(),
    ))
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn accept_invitation(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
    Query(q): Query<SignInQuery>,
    CsrfForm(form): CsrfForm<InvitationForm>,
) -> AppResult<Response> {
    let next = local_path(q.weiter.as_deref());
    let info = valid_invitation(&state, &token).await?;
    let mut errors = FieldErrors::new();
    let name = konvent_core::validation::required_name(
        &mut errors,
        "display_name",
        &form.display_name,
        200,
    );
    if let Err(m) = password::check_rules(&form.password) {
        errors.add("password", "password-rules", m);
    } else if form.password != form.password_repeat {
        errors.add(
            "password_repeat",
            "password-mismatch",
            "Die Passwörter stimmen nicht überein.",
        );
    }
    if !errors.is_empty() {
        let page = invitation_page(&ctx, &token, &next, &info, &form.display_name, &errors);
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
    }
    let pw = form.password;
    let hash = tokio::task::spawn_blocking(move || password::hash(&pw))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let id = match state.store.redeem_invitation(&token, &name, &hash).await {
        Ok(id) => id,
        Err(StoreError::InvalidToken) => return Err(AppError::BadRequest(invalid_link_message())),
        Err(e) => return Err(e.into()),
    };
    start_session(&state, &ctx, id, &next).await
}
