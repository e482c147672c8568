//! Signing in (password or single-use link), accepting an invitation, signing out, and
//! choosing the language.
//!
//! This module holds the session's start and end and the sign-in page; signing in with
//! a password ([`password`]) or a single-use link ([`link`]), accepting an invitation
//! ([`invitation`]), the admins' switch for local passwords ([`local_passwords`]) and
//! the language ([`language`]) have their own files.

pub mod invitation;
pub mod language;
pub mod link;
pub mod local_passwords;
pub mod password;

use askama::Template;
use axum::extract::State;
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use jiff::SignedDuration;
use konvent_core::ids::AccountId;
use konvent_store::StoreError;
use serde::Deserialize;

use crate::AppState;
use crate::ctx::{CsrfForm, Ctx, SESSION_COOKIE, cookie, set_cookie};
use crate::error::AppResult;
use crate::forms::{Field, FormPage, Kind};
use crate::layout::{Chrome, render};

/// Only paths on this site are followed after signing in (no open redirect).
fn local_path(next: Option<&str>) -> String {
    next.and_then(konvent_core::validation::local_path)
        .unwrap_or_else(|| "/".to_owned())
}

/// `path` with `next` as the place to go after it (omitted when that is the start page).
fn with_next(path: &str, next: &str) -> String {
    if next == "/" {
        return path.to_owned();
    }
    match serde_urlencoded::to_string([("weiter", next)]) {
        Ok(query) => format!("{path}?{query}"),
        Err(_) => path.to_owned(),
    }
}

/// Starts a session and redirects to `next`; a disabled account gets the sign-in page
/// saying so.
async fn start_session(
    state: &AppState,
    ctx: &Ctx,
    account_id: AccountId,
    next: &str,
) -> AppResult<Response> {
    let hours = u64::from(state.settings.session_hours);
    let token = match state
        .store
        .sign_in(account_id, SignedDuration::from_hours(hours as i64))
        .await
    {
        Ok(token) => token,
        Err(StoreError::AccountDisabled) => {
            let problems = vec![ctx.tr().get("account-disabled")];
            let page = sign_in_page_now(ctx, state, "", next, problems).await?;
            return Ok((StatusCode::FORBIDDEN, render(&page)?).into_response());
        }
        Err(e) => return Err(e.into()),
    };
    let mut response = Redirect::to(next).into_response();
    response.headers_mut().append(
        SET_COOKIE,
        set_cookie(
            SESSION_COOKIE,
            &token,
            Some(hours * 3600),
            state.settings.secure_cookies,
        ),
    );
    Ok(response)
}

#[derive(Deserialize, Default)]
pub struct SignInQuery {
    weiter: Option<String>,
}

/// The sign-in page: the single sign-on providers first, the local sign-in second.
#[derive(Template)]
#[template(path = "sign_in.html")]
pub(crate) struct SignInPage {
    c: Chrome,
    form: FormPage,
    /// (href, label) of each provider's button.
    providers: Vec<(String, String)>,
    local_only_admins: bool,
    /// Signed in (with a password): the providers are offered for connecting.
    signed_in: bool,
}

pub(crate) fn sign_in_page(
    ctx: &Ctx,
    state: &AppState,
    email: &str,
    next: &str,
    problems: Vec<String>,
) -> SignInPage {
    let t = ctx.tr();
    let form = FormPage {
        c: Chrome::new(ctx, "", t.get("sign-in")),
        heading: t.get("sign-in"),
        intro: Some(t.get("sign-in-lead")),
        problems,
        action: "/anmelden".into(),
        multipart: false,
        hidden: vec![("weiter", next.to_owned())],
        fields: vec![
            Field::new(&t, "email", Kind::Email)
                .value(email)
                .required()
                // The account name is the e-mail address: "email" is the token HTML allows on
                // an input of type email ("username" belongs to text inputs).
                .autocomplete("email"),
            Field::new(&t, "password", Kind::Password { new: false })
                .required()
                .autocomplete("current-password"),
        ],
        submit: t.get("sign-in"),
        cancel: None,
    };
    let providers = state
        .sso
        .buttons()
        .into_iter()
        .map(|(id, label)| {
            (
                with_next(&format!("/anmelden/oidc/{id}"), next),
                if ctx.principal.is_some() {
                    t.with("oidc-link-with", &[("provider", &label)])
                } else {
                    t.with("oidc-sign-in-with", &[("provider", &label)])
                },
            )
        })
        .collect();
    SignInPage {
        c: Chrome::new(ctx, "", t.get("sign-in")),
        form,
        providers,
        local_only_admins: false,
        signed_in: ctx.principal.is_some(),
    }
}

/// The sign-in page, saying whether local passwords are for admins only.
async fn sign_in_page_now(
    ctx: &Ctx,
    state: &AppState,
    email: &str,
    next: &str,
    problems: Vec<String>,
) -> AppResult<SignInPage> {
    let mut page = sign_in_page(ctx, state, email, next, problems);
    page.local_only_admins = !state.store.local_passwords_allowed().await?;
    Ok(page)
}

#[derive(Deserialize)]
pub struct Empty {}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn sign_out(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<Response> {
    let mut provider_logout = None;
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        // A session a provider started ends there too (RP-initiated logout).
        if let Some(session) = state.store.provider_session(token).await? {
            provider_logout = crate::oidc::end_session_url(&state, &session).await;
        }
        state.store.sign_out(token).await?;
    }
    // The account's live sockets were opened with this session's rights: they close.
    if let Some(principal) = &ctx.principal {
        state.live.signed_out(principal.user_id);
    }
    let mut response = Redirect::to(provider_logout.as_deref().unwrap_or("/")).into_response();
    response.headers_mut().append(
        SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", None, state.settings.secure_cookies),
    );
    Ok(response)
}
