//! Deletion of one's account (Art. 17 DSGVO, issue 21): a signed-in person asks on
//! `/konto/loeschen` (reached from `/konto/daten`; the page says what goes and what
//! stays, and why, and asks for a confirmation); an admin sees the open requests on
//! `/admin/loeschantraege` and confirms each. The deletion itself is one transaction
//! ([`konvent_store::Store::delete_account`]); after it, the account's open sockets
//! on this node close (its sessions are gone with it, so they cannot come back).

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use konvent_core::ids::AccountId;
use serde::Deserialize;

use crate::AppState;
use crate::ctx::{CsrfForm, Ctx, Id};
use crate::error::{AppError, AppResult};
use crate::layout::{Chrome, datetime_de, render};

/// How many open requests the admin page lists at once (the oldest first).
const LIST_MAX: i64 = 200;

#[derive(Template)]
#[template(path = "legal/deletion.html")]
struct RequestPage {
    c: Chrome,
    /// When the person asked already, in German time.
    requested: Option<String>,
    /// The message beside the confirmation box.
    error: Option<String>,
}

async fn request_page(state: &AppState, ctx: &Ctx, error: Option<String>) -> AppResult<Response> {
    let principal = ctx.signed_in()?;
    let requested = state
        .store
        .deletion_requested(principal.user_id)
        .await?
        .map(datetime_de);
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let page = RequestPage {
        c: Chrome::new(ctx, "", ctx.tr().get("legal-deletion-title")),
        requested,
        error,
    };
    Ok((status, render(&page)?).into_response())
}

/// The page that explains the deletion and asks for the confirmation.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn page(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    request_page(&state, &ctx, None).await
}

#[derive(Deserialize)]
pub struct ConfirmForm {
    #[serde(default)]
    confirm: String,
}

/// The person confirms the request (the box "yes, delete my account" must be ticked).
/// Asking again changes nothing.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn request(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<ConfirmForm>,
) -> AppResult<Response> {
    let principal = ctx.signed_in()?;
    if form.confirm != "ja" {
        let message = ctx.tr().get("legal-deletion-confirm-missing");
        return request_page(&state, &ctx, Some(message)).await;
    }
    state.store.request_deletion(principal.user_id).await?;
    Ok(Redirect::to("/konto/loeschen").into_response())
}

/// One open request as the admin page shows it.
struct Row {
    id: AccountId,
    name: String,
    email: String,
    requested: String,
}

#[derive(Template)]
#[template(path = "legal/deletions.html")]
struct AdminPage {
    c: Chrome,
    rows: Vec<Row>,
}

fn admin_only(ctx: &Ctx) -> AppResult<()> {
    if ctx.signed_in()?.is_admin() {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

/// The admins' list of open requests.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn list(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    admin_only(&ctx)?;
    let rows = state
        .store
        .deletion_requests(LIST_MAX)
        .await?
        .into_iter()
        .map(|r| Row {
            id: r.account_id,
            name: r.display_name,
            email: r.email,
            requested: datetime_de(r.requested_at),
        })
        .collect();
    let page = AdminPage {
        c: Chrome::new(&ctx, "", ctx.tr().get("legal-deletions-title")),
        rows,
    };
    Ok(render(&page)?.into_response())
}

/// An admin confirms a request: the account is deleted, its sockets close.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), id = %id))]
pub async fn confirm(
    State(state): State<AppState>,
    ctx: Ctx,
    Id(id): Id<AccountId>,
    CsrfForm(_): CsrfForm<ConfirmForm>,
) -> AppResult<Response> {
    admin_only(&ctx)?;
    // The last admin must not lock the office out: another admin confirms.
    if ctx.signed_in()?.user_id == id {
        return Err(AppError::Conflict(ctx.tr().get("legal-deletions-not-own")));
    }
    let deleted = state.store.delete_account(&ctx.actor()?, id).await?;
    state.live.signed_out(id);
    // Cached rooms name their moderators: read them again.
    for event in state.store.events().await? {
        state.live.invalidate(event.id);
    }
    tracing::info!(account = %id, pseudonym = %deleted.pseudonym, "account deleted on request");
    Ok(Redirect::to("/admin/loeschantraege").into_response())
}
