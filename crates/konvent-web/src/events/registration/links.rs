//! The pages behind the mailed links: confirming a registration's address and
//! cancelling a registration, each a page with one button.

use axum::extract::{Path, State};
use axum::response::Response;
use konvent_store::StoreError;

use super::{CONFIRM_VALID, composer, invalid_link, notice};
use crate::AppState;
use crate::ctx::{CsrfForm, Ctx};
use crate::error::AppResult;
use crate::events::{Empty, event_info};

/// The page behind a confirmation link: one button.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug))]
pub async fn confirm_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((slug, token)): Path<(String, String)>,
) -> AppResult<Response> {
    let t = ctx.tr();
    let Some(reg) = state
        .store
        .registration_to_confirm(&token, CONFIRM_VALID)
        .await?
    else {
        return invalid_link(&ctx);
    };
    let info = event_info(&state, &slug).await?;
    if reg.event_id != info.event.id.get() {
        return invalid_link(&ctx);
    }
    notice(
        &ctx,
        t.get("registration-confirm-heading"),
        t.with(
            "registration-confirm-lead",
            &[
                ("event", info.event.title.as_str()),
                ("email", reg.email.as_str()),
            ],
        ),
        Some((
            format!("/konvent/{slug}/anmeldung/bestaetigen/{token}"),
            t.get("registration-mail-confirm-action"),
        )),
    )
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug))]
pub async fn confirm(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((slug, token)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<Response> {
    let info = event_info(&state, &slug).await?;
    match state
        .store
        .registration_to_confirm(&token, CONFIRM_VALID)
        .await?
    {
        Some(reg) if reg.event_id == info.event.id.get() => {}
        _ => return invalid_link(&ctx),
    }
    let compose = composer(&state, &info);
    let reg = match state
        .store
        .confirm_registration(&token, CONFIRM_VALID, &compose)
        .await
    {
        Ok(reg) => reg,
        Err(StoreError::InvalidToken) => return invalid_link(&ctx),
        Err(e) => return Err(e.into()),
    };
    state.mail.wake();
    let t = ctx.tr();
    notice(
        &ctx,
        t.get("registration-confirmed-heading"),
        t.with(
            &format!("registration-now-{}", reg.status.as_str().replace('_', "-")),
            &[("event", info.event.title.as_str())],
        ),
        None,
    )
}

/// The page behind a cancellation link: one button.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug))]
pub async fn cancel_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((slug, token)): Path<(String, String)>,
) -> AppResult<Response> {
    let t = ctx.tr();
    let info = event_info(&state, &slug).await?;
    match state.store.registration_to_cancel(&token).await? {
        Some(reg) if reg.event_id == info.event.id.get() => notice(
            &ctx,
            t.get("registration-cancel-heading"),
            t.with(
                "registration-cancel-lead",
                &[
                    ("event", info.event.title.as_str()),
                    ("email", reg.email.as_str()),
                ],
            ),
            Some((
                format!("/konvent/{slug}/anmeldung/stornieren/{token}"),
                t.get("registration-mail-cancel-action"),
            )),
        ),
        _ => invalid_link(&ctx),
    }
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug))]
pub async fn cancel(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((slug, token)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<Response> {
    let info = event_info(&state, &slug).await?;
    match state.store.registration_to_cancel(&token).await? {
        Some(reg) if reg.event_id == info.event.id.get() => {}
        _ => return invalid_link(&ctx),
    }
    let compose = composer(&state, &info);
    match state.store.cancel_registration(&token, &compose).await {
        Ok(_) => {}
        Err(StoreError::InvalidToken) => return invalid_link(&ctx),
        Err(e) => return Err(e.into()),
    }
    state.mail.wake();
    let t = ctx.tr();
    notice(
        &ctx,
        t.get("registration-cancelled-heading"),
        t.with(
            "registration-cancelled",
            &[("event", info.event.title.as_str())],
        ),
        None,
    )
}
