//! Contact requests (K15+): asking with a short message, accepting or declining (silent
//! for the asker, never asked twice), blocking; the contacts with what their profiles
//! share, as a page and as vCards. Direct messages between contacts go the help desk's
//! way (`live::run`, `Command::Dm`).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use konvent_core::konvent::networking::{self as rules, Card};
use konvent_store::{ContactRequest, RequestOutcome};
use serde::Deserialize;

use crate::AppState;
use crate::ctx::{CsrfForm, Ctx};
use crate::error::{AppError, AppResult};
use crate::events::{event_info, require_actor};
use crate::layout::{Chrome, render};

/// Counts one write against the person's hourly budget `kind`; `TooManyRequests` when it
/// is spent (counted like sign-in attempts, as the other form budgets are).
pub(super) async fn spend(
    state: &AppState,
    kind: &str,
    account: i64,
    per_hour: i64,
) -> AppResult<()> {
    let key = format!("{kind}:{account}");
    if state.store.recent_sign_in_failures(&key).await? >= per_hour {
        return Err(AppError::TooManyRequests);
    }
    state.store.record_sign_in_failure(&[&key]).await?;
    Ok(())
}

/// A person's id from a form field (forms carry text); "not found" otherwise.
fn number(value: &str) -> AppResult<i64> {
    value.trim().parse().map_err(|_| AppError::NotFound)
}

#[derive(Deserialize)]
pub struct RequestForm {
    an: String,
    #[serde(default)]
    nachricht: String,
}

/// Sends `from`'s request to `to` after the checks every way in shares.
async fn send_request(
    state: &AppState,
    from: i64,
    to: i64,
    event_id: i64,
    message: &str,
) -> AppResult<RequestOutcome> {
    let message = rules::optional_text(message, rules::REQUEST_MESSAGE_MAX, "Die Nachricht")
        .map_err(AppError::BadRequest)?;
    spend(state, "contact-request", from, rules::REQUESTS_PER_HOUR).await?;
    Ok(state
        .store
        .request_contact(from, to, event_id, &message)
        .await?)
}

/// A request from the list of who is here: only to somebody whose profile the asker
/// sees there.
pub async fn request(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
    CsrfForm(form): CsrfForm<RequestForm>,
) -> AppResult<Redirect> {
    let info = event_info(&state, &slug).await?;
    let actor = require_actor(&state, &ctx, &info).await?;
    let to = number(&form.an)?;
    let visible = state
        .store
        .event_profiles(info.event.id)
        .await?
        .iter()
        .any(|p| p.account.id == to);
    if !visible {
        return Err(AppError::NotFound);
    }
    let outcome = send_request(&state, actor.who.id, to, info.event.id, &form.nachricht).await?;
    let notice = match outcome {
        RequestOutcome::Sent => "gesendet",
        RequestOutcome::Connected => "verbunden",
    };
    Ok(Redirect::to(&format!(
        "/konvent/{slug}/teilnehmende?hinweis={notice}"
    )))
}

/// A request to somebody who marked the same connection point ("Meine Ergebnisse").
pub async fn request_peer(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<RequestForm>,
) -> AppResult<Redirect> {
    let me = ctx.signed_in()?.user_id;
    let to = number(&form.an)?;
    let peer = state
        .store
        .point_peers(me)
        .await?
        .iter()
        .any(|p| p.peers.iter().any(|peer| peer.who.id == to));
    if !peer {
        return Err(AppError::NotFound);
    }
    let notice = match send_request(&state, me, to, 0, &form.nachricht).await? {
        RequestOutcome::Sent => "gesendet",
        RequestOutcome::Connected => "verbunden",
    };
    Ok(Redirect::to(&format!("/meine-ergebnisse?hinweis={notice}")))
}

#[derive(Deserialize)]
pub struct AnswerForm {
    annehmen: String,
}

/// The recipient accepts or declines.
pub async fn answer(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((slug, id)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<AnswerForm>,
) -> AppResult<Redirect> {
    let info = event_info(&state, &slug).await?;
    let actor = require_actor(&state, &ctx, &info).await?;
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let accept = form.annehmen == "1";
    state
        .store
        .answer_contact_request(actor.who.id, id, accept)
        .await?;
    let notice = if accept { "angenommen" } else { "abgelehnt" };
    Ok(Redirect::to(&format!(
        "/konvent/{slug}/kontakte?hinweis={notice}"
    )))
}

#[derive(Deserialize)]
pub struct BlockForm {
    wer: String,
    an: String,
}

/// Blocks or unblocks a person.
pub async fn block(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
    CsrfForm(form): CsrfForm<BlockForm>,
) -> AppResult<Redirect> {
    let info = event_info(&state, &slug).await?;
    let actor = require_actor(&state, &ctx, &info).await?;
    let other = number(&form.wer)?;
    if state.store.principal(other).await?.is_none() {
        return Err(AppError::NotFound);
    }
    spend(
        &state,
        "contact-block",
        actor.who.id,
        rules::REQUESTS_PER_HOUR,
    )
    .await?;
    let on = form.an == "1";
    state.store.set_blocked(actor.who.id, other, on).await?;
    let notice = if on { "gesperrt" } else { "entsperrt" };
    Ok(Redirect::to(&format!(
        "/konvent/{slug}/kontakte?hinweis={notice}"
    )))
}

#[derive(Template)]
#[template(path = "networking/contacts.html")]
struct ContactsPage {
    c: Chrome,
    slug: String,
    event_id: i64,
    incoming: Vec<ContactRequest>,
    sent: Vec<ContactRequest>,
    contacts: Vec<(i64, Card)>,
    blocked: Vec<konvent_store::Who>,
    /// What the last form did (`?hinweis=`), focused on arrival.
    notice: Option<String>,
}

#[derive(Deserialize)]
pub struct NoticeQuery {
    #[serde(default)]
    hinweis: String,
}

/// The person's requests, contacts and blocks, from within an event.
pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Html<String>> {
    let info = event_info(&state, &slug).await?;
    let actor = require_actor(&state, &ctx, &info).await?;
    let o = state.store.contact_overview(actor.who.id).await?;
    let notice = match q.hinweis.as_str() {
        "angenommen" => Some("net-notice-accepted"),
        "abgelehnt" => Some("net-notice-declined"),
        "gesperrt" => Some("net-notice-blocked"),
        "entsperrt" => Some("net-notice-unblocked"),
        "gemeldet" => Some("net-notice-reported"),
        _ => None,
    }
    .map(|key| ctx.tr().get(key));
    render(&ContactsPage {
        c: Chrome::new(&ctx, "konvent", ctx.tr().get("net-contacts-title")),
        slug,
        event_id: info.event.id,
        incoming: o.incoming,
        sent: o.sent,
        contacts: o.contact_ids.into_iter().zip(o.contacts).collect(),
        blocked: o.blocked,
        notice,
    })
}

/// One's accepted contacts as vCards (RFC 6350), with only what each one shares.
pub async fn vcard(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let me = ctx.signed_in()?.user_id;
    let contacts = state.store.contact_overview(me).await?.contacts;
    Ok((
        StatusCode::OK,
        [
            (header::CONTENT_TYPE, "text/vcard; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"kontakte.vcf\"",
            ),
        ],
        rules::vcards(&contacts),
    )
        .into_response())
}
