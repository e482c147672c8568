//! Registration for an event through its public form (issue 18), and the organizers'
//! list of registrations with approval, settings and CSV export.
//!
//! Anyone with the link registers with name, address and organisation when the event
//! is open (or open with approval); the address is confirmed through a mailed
//! single-use link, which opens a page with one button (mail scanners that open links
//! use nothing up). The mail after confirming carries the event as an `.ics`
//! (METHOD:PUBLISH, UID `event-<id>@<domain>`) and a link to cancel. Every anonymous
//! attempt counts against a budget per address and per client IP address; every field
//! has a length limit. The list of registrants is personal data: organizers and admins
//! only.
//!
//! This module holds the limits, the notice pages and the registration mails that the
//! public form ([`form`]), the signed-in join from the lobby ([`join`]), the mailed links
//! ([`links`]) and the organizers' list ([`list`]) share.

pub mod form;
pub mod join;
pub mod links;
pub mod list;

use askama::Template;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use jiff::{SignedDuration, Timestamp};
use konvent_store::{CalendarPart, NewMail, Placement, Registration, RegistrationStatus};

use crate::AppState;
use crate::ctx::Ctx;
use crate::error::AppResult;
use crate::i18n::{Lang, Tr};
use crate::ics::{self, IcsEvent, IcsStatus, Method, Person};
use crate::layout::{Chrome, datetime_de, render};
use crate::live::EventInfo;
use crate::mail::{LinkMail, composed_mail};

/// Longest name and organisation, in characters.
pub const NAME_MAX: usize = 200;
/// Longest address (RFC 5321's path limit).
pub const EMAIL_MAX: usize = 254;
/// Largest capacity an organizer can set.
const CAPACITY_MAX: i64 = 100_000;
/// How long a confirmation link works.
const CONFIRM_VALID: SignedDuration = SignedDuration::from_hours(48);
/// Registrations per address within the sign-in window (an hour), and per client IP
/// address: enough for typos and a shared office network, too few to flood inboxes.
const PER_ADDRESS: i64 = 5;
const PER_CLIENT: i64 = 30;

#[derive(Template)]
#[template(path = "konvent/registration.html")]
struct NoticePage {
    c: Chrome,
    message: String,
    /// A form with one button: (action, label).
    button: Option<(String, String)>,
}

fn notice(
    ctx: &Ctx,
    heading: String,
    message: String,
    button: Option<(String, String)>,
) -> AppResult<Response> {
    let page = NoticePage {
        c: Chrome::new(ctx, "konvent", heading),
        message,
        button,
    };
    Ok(render(&page)?.into_response())
}

fn invalid_link(ctx: &Ctx) -> AppResult<Response> {
    let t = ctx.tr();
    let page = NoticePage {
        c: Chrome::new(ctx, "konvent", t.get("registration-link-invalid-heading")),
        message: t.get("registration-link-invalid"),
        button: None,
    };
    Ok((StatusCode::NOT_FOUND, render(&page)?).into_response())
}

/// How a signed-in person who does not take part yet may join, for the lobby.
/// The event as a calendar entry: UID `event-<id>@<domain>`, stable for its lifetime.
fn event_entry(state: &AppState, info: &EventInfo) -> IcsEvent {
    let local = |ts: Timestamp| match ts.in_tz("Europe/Berlin") {
        Ok(z) => z.datetime(),
        Err(_) => ts.to_zoned(jiff::tz::TimeZone::UTC).datetime(),
    };
    let now = Timestamp::now();
    IcsEvent {
        uid: format!("event-{}@{}", info.event.id, state.mail.domain()),
        summary: info.event.title.clone(),
        description: None,
        location: None,
        url: Some(format!(
            "{}/konvent/{}",
            state.settings.public_base(),
            info.event.slug
        )),
        start: local(info.event.starts_at),
        end: local(info.event.ends_at),
        status: IcsStatus::Confirmed,
        sequence: 0,
        last_modified: now,
        created: now,
    }
}

/// The mails of registrations of this event, by their new state: the registered get
/// the event as `.ics`; everybody a link to cancel (renewed with each mail).
fn composer<'a>(
    state: &'a AppState,
    info: &'a EventInfo,
) -> impl Fn(&Registration, &str, Placement, Option<&str>) -> Result<Option<NewMail>, String> + Sync + 'a
{
    move |reg: &Registration, cancel_token: &str, why: Placement, sign_in: Option<&str>| {
        let lang = Lang::parse(&reg.language).unwrap_or_default();
        let t = Tr::new(lang);
        let (key, calendar) = match (reg.status, why) {
            (RegistrationStatus::Registered, Placement::MovedUp) => ("moved-up", true),
            (RegistrationStatus::Registered, _) => ("registered", true),
            (RegistrationStatus::Waiting, _) => ("waiting", false),
            (RegistrationStatus::AwaitingApproval, _) => ("awaiting", false),
            _ => return Ok(None),
        };
        let base = state.settings.public_base();
        let title = info.event.title.as_str();
        let when = datetime_de(info.event.starts_at.as_microsecond());
        let m = LinkMail {
            lang: lang.code(),
            subject: t.with(
                &format!("registration-mail-{key}-subject"),
                &[("event", title)],
            ),
            greeting: t.with("registration-mail-greeting", &[("name", reg.name.as_str())]),
            lead: t.with(
                &format!("registration-mail-{key}-lead"),
                &[("event", title), ("when", when.as_str())],
            ),
            action: t.get("registration-mail-cancel-action"),
            link: format!(
                "{base}/konvent/{}/anmeldung/stornieren/{cancel_token}",
                info.event.slug
            ),
            expires: match sign_in {
                Some(token) => t.with(
                    "registration-mail-sign-in",
                    &[("link", format!("{base}/anmelden/link/{token}").as_str())],
                ),
                None => String::new(),
            },
            ignore: String::new(),
            footer: t.with("mail-footer", &[("base", base.as_str())]),
        };
        let calendar = calendar.then(|| CalendarPart {
            method: Method::Publish.as_str().to_owned(),
            ics: ics::message(
                Method::Publish,
                &event_entry(state, info),
                &state.mail.organizer(),
                &[Person {
                    name: reg.name.clone(),
                    email: reg.email.clone(),
                }],
                Timestamp::now(),
            ),
        });
        composed_mail(
            &state.mail,
            &format!("registration_{key}"),
            &reg.email,
            &m,
            calendar,
        )
        .map(Some)
        .map_err(|e| e.to_string())
    }
}
