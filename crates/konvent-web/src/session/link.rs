//! Signing in with a single-use link from a mail.

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use konvent_store::{InvitationInfo, StoreError, TokenPurpose};

use super::{Empty, SignInQuery, local_path, start_session, with_next};
use crate::AppState;
use crate::ctx::{CsrfForm, Ctx};
use crate::error::AppResult;
use crate::layout::{Chrome, render};

#[derive(Template)]
#[template(path = "link.html")]
struct LinkPage {
    c: Chrome,
    info: Option<InvitationInfo>,
    action: String,
}

/// The page behind a sign-in link: one button, so that mail scanners that open links
/// do not use them up.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn link_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
    Query(q): Query<SignInQuery>,
) -> AppResult<Response> {
    let info = state
        .store
        .login_token_info(TokenPurpose::SignIn, &token)
        .await?;
    let status = if info.is_some() {
        StatusCode::OK
    } else {
        StatusCode::GONE
    };
    let page = LinkPage {
        c: Chrome::new(&ctx, "", ctx.tr().get("sign-in")),
        info,
        action: with_next(
            &format!("/anmelden/link/{token}"),
            &local_path(q.weiter.as_deref()),
        ),
    };
    Ok((status, render(&page)?).into_response())
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn link_sign_in(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
    Query(q): Query<SignInQuery>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<Response> {
    match state.store.redeem_sign_in_link(&token).await {
        Ok(id) => start_session(&state, &ctx, id, &local_path(q.weiter.as_deref())).await,
        Err(StoreError::InvalidToken) => {
            let page = LinkPage {
                c: Chrome::new(&ctx, "", ctx.tr().get("sign-in")),
                info: None,
                action: String::new(),
            };
            Ok((StatusCode::GONE, render(&page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
