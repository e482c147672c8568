//! Contact requests (K15+): asking with a short message, accepting or declining (silent
//! for the asker, never asked twice), blocking; the contacts with what their profiles
//! share, as a page and as vCards. Direct messages between contacts go the help desk's
//! way (`live::run`, `Command::Dm`).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use konvent_core::convention::networking::{self as rules, Card};
use konvent_core::ids::{AccountId, EventId};
use konvent_store::{ContactRequest, RequestOutcome};
use serde::Deserialize;

use crate::AppState;
use crate::ctx::{CsrfForm, Ctx};
use crate::error::{AppError, AppResult};
use crate::events::{event_info, require_actor};
use crate::layout::{Chrome, render};
use crate::live::Actor;

/// Counts one write against the person's hourly budget `kind`; `TooManyRequests` when it
/// is spent (counted like sign-in attempts, as the other form budgets are).
pub(super) async fn spend(
    state: &AppState,
    kind: &str,
    account: AccountId,
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
fn number(value: &str) -> AppResult<AccountId> {
    value
        .trim()
        .parse()
        .map(AccountId::new)
        .map_err(|_| AppError::NotFound)
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
    from: AccountId,
    to: AccountId,
    event_id: EventId,
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
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug))]
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
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
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
    let notice = match send_request(&state, me, to, EventId::new(0), &form.nachricht).await? {
        RequestOutcome::Sent => "gesendet",
        RequestOutcome::Connected => "verbunden",
    };
    Ok(Redirect::to(&format!("/meine-ergebnisse?hinweis={notice}")))
}

#[derive(Deserialize)]
pub struct AnswerForm {
    annehmen: String,
}

/// Who acts on the contacts page, and where that page is: an event's
/// (`/konvent/{e}/kontakte`, its participants only) or the konvent-wide one
/// (`/konto/kontakte`, everybody signed in). Requests sent from "Meine Ergebnisse" have no
/// event, so their recipient must be able to answer them without one.
async fn whose_contacts(
    state: &AppState,
    ctx: &Ctx,
    slug: Option<&str>,
) -> AppResult<(AccountId, String)> {
    match slug {
        Some(slug) => {
            let info = event_info(state, slug).await?;
            let actor = require_actor(state, ctx, &info).await?;
            Ok((actor.who.id, format!("/konvent/{slug}/kontakte")))
        }
        None => Ok((ctx.signed_in()?.user_id, OWN_PAGE.to_owned())),
    }
}

/// The konvent-wide contacts page.
const OWN_PAGE: &str = "/konto/kontakte";

/// The recipient accepts or declines (declining is silent for the asker); anybody else
/// gets "not found", as for a request that does not exist.
async fn answer_in(
    state: &AppState,
    ctx: &Ctx,
    slug: Option<&str>,
    id: &str,
    form: &AnswerForm,
) -> AppResult<Redirect> {
    let (me, page) = whose_contacts(state, ctx, slug).await?;
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let accept = form.annehmen == "1";
    state.store.answer_contact_request(me, id, accept).await?;
    let notice = if accept { "angenommen" } else { "abgelehnt" };
    Ok(Redirect::to(&format!("{page}?hinweis={notice}")))
}

/// The recipient answers, from an event's contacts page.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug, id = %id))]
pub async fn answer(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((slug, id)): Path<(String, String)>,
    CsrfForm(form): CsrfForm<AnswerForm>,
) -> AppResult<Redirect> {
    answer_in(&state, &ctx, Some(&slug), &id, &form).await
}

/// The recipient answers, from the konvent-wide contacts page.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), id = %id))]
pub async fn answer_own(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<AnswerForm>,
) -> AppResult<Redirect> {
    answer_in(&state, &ctx, None, &id, &form).await
}

#[derive(Deserialize)]
pub struct BlockForm {
    wer: String,
    an: String,
}

/// Blocks or unblocks a person (counted against the person's budget).
async fn block_in(
    state: &AppState,
    ctx: &Ctx,
    slug: Option<&str>,
    form: &BlockForm,
) -> AppResult<Redirect> {
    let (me, page) = whose_contacts(state, ctx, slug).await?;
    let other = number(&form.wer)?;
    if state.store.principal(other).await?.is_none() {
        return Err(AppError::NotFound);
    }
    spend(state, "contact-block", me, rules::REQUESTS_PER_HOUR).await?;
    let on = form.an == "1";
    state.store.set_blocked(me, other, on).await?;
    let notice = if on { "gesperrt" } else { "entsperrt" };
    Ok(Redirect::to(&format!("{page}?hinweis={notice}")))
}

/// Blocks or unblocks, from an event's contacts page.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug))]
pub async fn block(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
    CsrfForm(form): CsrfForm<BlockForm>,
) -> AppResult<Redirect> {
    block_in(&state, &ctx, Some(&slug), &form).await
}

/// Blocks or unblocks, from the konvent-wide contacts page.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn block_own(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<BlockForm>,
) -> AppResult<Redirect> {
    block_in(&state, &ctx, None, &form).await
}

/// An open request to the person, with where its message can be reported.
struct Incoming {
    r: ContactRequest,
    /// The event whose moderators get a report of its message, reported right here.
    report_in: Option<String>,
    /// Events (slug, title) whose contacts page reports it: a request without event on
    /// the konvent-wide page, reported from an event the person takes part in.
    report_via: Vec<(String, String)>,
}

/// The lists both contacts pages show (`networking/contact_lists.html`).
struct ContactLists {
    /// The page itself: where its forms post to and come back to.
    page: String,
    incoming: Vec<Incoming>,
    sent: Vec<ContactRequest>,
    contacts: Vec<(AccountId, Card)>,
    blocked: Vec<konvent_store::Who>,
    /// Where the contacts write to each other (an event's messages), if anywhere.
    write: Option<String>,
}

#[derive(Template)]
#[template(path = "networking/contacts.html")]
struct ContactsPage {
    c: Chrome,
    slug: String,
    l: ContactLists,
    /// What the last form did (`?hinweis=`), focused on arrival.
    notice: Option<String>,
}

#[derive(Template)]
#[template(path = "networking/own_contacts.html")]
struct OwnContactsPage {
    c: Chrome,
    l: ContactLists,
    notice: Option<String>,
}

#[derive(Deserialize)]
pub struct NoticeQuery {
    #[serde(default)]
    hinweis: String,
}

fn notice(ctx: &Ctx, q: &NoticeQuery) -> Option<String> {
    match q.hinweis.as_str() {
        "angenommen" => Some("net-notice-accepted"),
        "abgelehnt" => Some("net-notice-declined"),
        "gesperrt" => Some("net-notice-blocked"),
        "entsperrt" => Some("net-notice-unblocked"),
        "gemeldet" => Some("net-notice-reported"),
        _ => None,
    }
    .map(|key| ctx.tr().get(key))
}

/// The events the person takes part in (slug, title), as `require_actor` decides.
async fn my_events(state: &AppState, ctx: &Ctx) -> AppResult<Vec<(EventId, String, String)>> {
    let Some(principal) = &ctx.principal else {
        return Ok(Vec::new());
    };
    let mut out = Vec::new();
    for event in state.store.events().await? {
        let info = event_info(state, &event.slug).await?;
        if Actor::of(&state.store, &info, principal).await?.is_some() {
            out.push((event.id, event.slug, event.title));
        }
    }
    Ok(out)
}

/// The person's requests, contacts and blocks, from within an event.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug))]
pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Html<String>> {
    let info = event_info(&state, &slug).await?;
    let actor = require_actor(&state, &ctx, &info).await?;
    let o = state.store.contact_overview(actor.who.id).await?;
    // A request sent from this event, or from "Meine Ergebnisse" (no event): reported to
    // this event's moderators.
    let incoming = o
        .incoming
        .into_iter()
        .map(|r| Incoming {
            report_in: (!r.message.is_empty()
                && (r.event_id == info.event.id || r.event_id == EventId::new(0)))
            .then(|| slug.clone()),
            report_via: Vec::new(),
            r,
        })
        .collect();
    render(&ContactsPage {
        c: Chrome::new(&ctx, "konvent", ctx.tr().get("net-contacts-title")),
        l: ContactLists {
            page: format!("/konvent/{slug}/kontakte"),
            incoming,
            sent: o.sent,
            contacts: o.contact_ids.into_iter().zip(o.contacts).collect(),
            blocked: o.blocked,
            write: Some(format!("/konvent/{slug}/nachrichten")),
        },
        slug,
        notice: notice(&ctx, &q),
    })
}

/// The person's requests, contacts and blocks, konvent-wide: for everybody signed in,
/// whether or not they take part in an event. A message is reported only to moderators
/// who may see it (`Store::report`): one sent from an event to that event's, one sent
/// without event from an event's contacts page the person can open.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn own_page(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<NoticeQuery>,
) -> AppResult<Html<String>> {
    let me = ctx.signed_in()?.user_id;
    let o = state.store.contact_overview(me).await?;
    let events = if o.incoming.iter().any(|r| !r.message.is_empty()) {
        my_events(&state, &ctx).await?
    } else {
        Vec::new()
    };
    let incoming = o
        .incoming
        .into_iter()
        .map(|r| {
            let (report_in, report_via) = if r.message.is_empty() {
                (None, Vec::new())
            } else if r.event_id == EventId::new(0) {
                let via = events
                    .iter()
                    .map(|(_, slug, title)| (slug.clone(), title.clone()))
                    .collect();
                (None, via)
            } else {
                let slug = events
                    .iter()
                    .find(|(id, _, _)| *id == r.event_id)
                    .map(|(_, slug, _)| slug.clone());
                (slug, Vec::new())
            };
            Incoming {
                r,
                report_in,
                report_via,
            }
        })
        .collect();
    render(&OwnContactsPage {
        c: Chrome::new(&ctx, "konvent", ctx.tr().get("net-contacts-title")),
        l: ContactLists {
            page: OWN_PAGE.to_owned(),
            incoming,
            sent: o.sent,
            contacts: o.contact_ids.into_iter().zip(o.contacts).collect(),
            blocked: o.blocked,
            write: None,
        },
        notice: notice(&ctx, &q),
    })
}

/// One's accepted contacts as vCards (RFC 6350), with only what each one shares.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
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
