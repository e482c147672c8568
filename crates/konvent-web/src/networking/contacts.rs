//! Contact requests (K15+): asking with a short message, accepting or declining (silent
//! for the asker, never asked twice), blocking; the contacts with what their profiles
//! share, as a page and as vCards; and follow-up groups of the people who marked the
//! same connection point (K16+). Direct messages between contacts go the help desk's
//! way (`live::run`, `Command::Dm`).

use askama::Template;
use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use konvent_core::konvent::networking::{self as rules, Card};
use konvent_core::strategy::FollowTarget;
use konvent_store::{ContactRequest, RequestOutcome};
use serde::Deserialize;

use crate::AppState;
use crate::ctx::{CsrfForm, CsrfPairs, Ctx};
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
    send_request(&state, me, to, 0, &form.nachricht).await?;
    Ok(Redirect::to("/meine-ergebnisse#anknuepfen"))
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
    state
        .store
        .answer_contact_request(actor.who.id, id, form.annehmen == "1")
        .await?;
    Ok(Redirect::to(&format!("/konvent/{slug}/kontakte")))
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
    state
        .store
        .set_blocked(actor.who.id, other, form.an == "1")
        .await?;
    Ok(Redirect::to(&format!("/konvent/{slug}/kontakte")))
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
}

/// The person's requests, contacts and blocks, from within an event.
pub async fn page(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
) -> AppResult<Html<String>> {
    let info = event_info(&state, &slug).await?;
    let actor = require_actor(&state, &ctx, &info).await?;
    let o = state.store.contact_overview(actor.who.id).await?;
    render(&ContactsPage {
        c: Chrome::new(&ctx, "konvent", ctx.tr().get("net-contacts-title")),
        slug,
        event_id: info.event.id,
        incoming: o.incoming,
        sent: o.sent,
        contacts: o.contact_ids.into_iter().zip(o.contacts).collect(),
        blocked: o.blocked,
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

/// Starts a follow-up group on a connection point with some of the people who marked
/// it too (fields: `name`, `target`, `id`, `mitglied` repeated).
pub async fn start_group(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfPairs(pairs): CsrfPairs,
) -> AppResult<Redirect> {
    let me = ctx.signed_in()?.user_id;
    let get = |name: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_default()
    };
    let name = konvent_core::strategy::text(get("name"), rules::GROUP_NAME_MAX, "einen Namen")
        .map_err(AppError::BadRequest)?;
    let target: FollowTarget = get("target")
        .parse()
        .map_err(|_| AppError::BadRequest("Unbekannter Anknüpfungspunkt.".into()))?;
    let target_id: i64 = get("id").parse().map_err(|_| AppError::NotFound)?;
    let members = pairs
        .iter()
        .filter(|(k, _)| k == "mitglied")
        .map(|(_, v)| v.parse::<i64>().map_err(|_| AppError::NotFound))
        .collect::<AppResult<Vec<_>>>()?;
    if members.len() > rules::GROUP_MEMBERS_MAX {
        return Err(AppError::BadRequest(format!(
            "Höchstens {} Mitglieder.",
            rules::GROUP_MEMBERS_MAX
        )));
    }
    spend(&state, "follow-up-group", me, rules::GROUPS_PER_HOUR).await?;
    state
        .store
        .start_group(me, &name, target, target_id, &members)
        .await?;
    Ok(Redirect::to("/meine-ergebnisse#gruppen"))
}

#[derive(Deserialize)]
pub struct ProposalForm {
    /// `YYYY-MM-DD`.
    datum: String,
    /// `HH:MM`, local time (Europe/Berlin).
    uhrzeit: String,
    #[serde(default)]
    dauer: String,
    #[serde(default)]
    ort: String,
}

/// The date proposal's start (Unix microseconds) and length in minutes, or what is wrong.
fn parse_proposal(form: &ProposalForm) -> Result<(jiff::civil::DateTime, i64), String> {
    let date: jiff::civil::Date = form
        .datum
        .trim()
        .parse()
        .map_err(|_| "Bitte ein Datum wählen (TT.MM.JJJJ).".to_owned())?;
    let time: jiff::civil::Time = form
        .uhrzeit
        .trim()
        .parse()
        .map_err(|_| "Bitte eine Uhrzeit wählen (HH:MM).".to_owned())?;
    let minutes: i64 = match form.dauer.trim() {
        "" => 60,
        d => d
            .parse()
            .ok()
            .filter(|m| (15..=480).contains(m))
            .ok_or_else(|| "Die Dauer liegt zwischen 15 und 480 Minuten.".to_owned())?,
    };
    Ok((date.to_datetime(time), minutes))
}

/// A member of a follow-up group proposes a date: stored with the group, and every
/// member gets a calendar invitation by mail (iTIP REQUEST, the same UID for each new
/// proposal, so calendars update it).
pub async fn propose_meeting(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<ProposalForm>,
) -> AppResult<Redirect> {
    let me = ctx.signed_in()?.user_id;
    let group_id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let (start, minutes) = parse_proposal(&form).map_err(AppError::BadRequest)?;
    let place = rules::optional_text(&form.ort, rules::PROPOSAL_TEXT_MAX, "Der Ort")
        .map_err(AppError::BadRequest)?;
    let starts_at = start
        .in_tz("Europe/Berlin")
        .map_err(|_| AppError::BadRequest("Diese Uhrzeit gibt es nicht.".into()))?
        .timestamp();
    if starts_at < jiff::Timestamp::now() {
        return Err(AppError::BadRequest(
            "Der Termin liegt in der Vergangenheit.".into(),
        ));
    }
    spend(&state, "group-proposal", me, rules::PROPOSALS_PER_HOUR).await?;
    let (group, members) = state
        .store
        .propose_meeting(me, group_id, starts_at.as_microsecond(), minutes, &place)
        .await?;
    let sequence = group.meeting.as_ref().map_or(0, |m| m.sequence);
    let t = crate::i18n::Tr::new(crate::i18n::Lang::De);
    let base = state.settings.public_base();
    let now = jiff::Timestamp::now();
    let end = start
        .checked_add(jiff::Span::new().minutes(minutes))
        .map_err(|_| AppError::BadRequest("Diese Dauer geht nicht.".into()))?;
    let event = crate::ics::IcsEvent {
        uid: format!("follow-up-group-{}@konvent", group.id),
        summary: group.name.clone(),
        description: Some(
            group
                .members
                .iter()
                .map(|m| m.name.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        ),
        location: (!place.is_empty()).then(|| place.clone()),
        url: Some(format!("{base}/meine-ergebnisse#gruppen")),
        start,
        end,
        status: crate::ics::IcsStatus::Confirmed,
        sequence: u32::try_from(sequence).unwrap_or(0),
        last_modified: now,
        created: now,
    };
    let attendees: Vec<crate::ics::Person> = members
        .iter()
        .map(|(who, email)| crate::ics::Person {
            name: who.name.clone(),
            email: email.clone(),
        })
        .collect();
    let ics = crate::ics::message(
        crate::ics::Method::Request,
        &event,
        &state.mail.organizer(),
        &attendees,
        now,
    );
    let when = crate::layout::datetime_de(starts_at.as_microsecond());
    let mut mails = Vec::with_capacity(members.len());
    for (who, email) in &members {
        let m = crate::mail::LinkMail {
            lang: "de",
            subject: t.with(
                "net-proposal-mail-subject",
                &[("group", group.name.as_str())],
            ),
            greeting: t.with("registration-mail-greeting", &[("name", who.name.as_str())]),
            lead: t.with(
                "net-proposal-mail-lead",
                &[
                    ("group", group.name.as_str()),
                    ("when", when.as_str()),
                    ("place", place.as_str()),
                ],
            ),
            action: t.get("net-proposal-mail-action"),
            link: format!("{base}/meine-ergebnisse#gruppen"),
            expires: String::new(),
            ignore: String::new(),
            footer: t.with("mail-footer", &[("base", base.as_str())]),
        };
        mails.push(crate::mail::composed_mail(
            &state.mail,
            "follow_up_meeting",
            email,
            &m,
            Some(konvent_store::CalendarPart {
                method: crate::ics::Method::Request.as_str().to_owned(),
                ics: ics.clone(),
            }),
        )?);
    }
    state.store.queue_mails(&mails).await?;
    state.mail.wake();
    Ok(Redirect::to("/meine-ergebnisse#gruppen"))
}
