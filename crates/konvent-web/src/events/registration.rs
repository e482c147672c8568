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

use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use axum::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE, RETRY_AFTER};
use axum::response::{Html, IntoResponse, Redirect, Response};
use jiff::{SignedDuration, Timestamp};
use konvent_core::FieldErrors;
use konvent_core::authz::{Action, Principal};
use konvent_core::export::CsvWriter;
use konvent_store::{
    CalendarPart, NewMail, NewRegistration, Placement, Registration, RegistrationMode,
    RegistrationSettings, RegistrationStatus, StoreError,
};
use serde::Deserialize;

use super::{Empty, event_info, require_actor, require_organizer};
use crate::AppState;
use crate::ctx::{CsrfForm, Ctx};
use crate::error::{AppError, AppResult};
use crate::forms::{Field, FormPage, Kind, choices, form_response};
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

#[derive(Deserialize, Default)]
pub struct RegisterForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    organisation: String,
}

fn form_page(ctx: &Ctx, info: &EventInfo, form: &RegisterForm) -> FormPage {
    let t = ctx.tr();
    let c = Chrome::new(
        ctx,
        "konvent",
        t.with(
            "registration-title",
            &[("event", info.event.title.as_str())],
        ),
    );
    let fields = vec![
        Field::text(&t, "name", &form.name)
            .required()
            .autocomplete("name"),
        Field::new(&t, "email", Kind::Email)
            .value(&form.email)
            .required()
            .autocomplete("email"),
        Field::text(&t, "organisation", &form.organisation).autocomplete("organization"),
    ];
    let mut page = FormPage::new(
        c,
        format!("/konvent/{}/anmeldung", info.event.slug),
        fields,
        t.get("registration-submit"),
    );
    page.intro = Some(t.with(
        "registration-intro",
        &[(
            "when",
            datetime_de(info.event.starts_at.as_microsecond()).as_str(),
        )],
    ));
    page
}

/// Refused when the event takes no registrations through the form.
fn closed(t: &Tr, settings: &RegistrationSettings) -> Option<FieldErrors> {
    (settings.mode == RegistrationMode::Invitation).then(|| {
        let mut errors = FieldErrors::new();
        errors.add("form", "registration-closed", t.get("registration-closed"));
        errors
    })
}

pub async fn form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
) -> AppResult<Response> {
    let info = event_info(&state, &slug).await?;
    let settings = state.store.registration_settings(info.event.id).await?;
    let t = ctx.tr();
    if closed(&t, &settings).is_some() {
        return notice(
            &ctx,
            t.with(
                "registration-title",
                &[("event", info.event.title.as_str())],
            ),
            t.get("registration-closed"),
            None,
        );
    }
    form_response(
        form_page(&ctx, &info, &RegisterForm::default()),
        &FieldErrors::new(),
    )
}

fn check(t: &Tr, form: &RegisterForm) -> FieldErrors {
    let mut errors = FieldErrors::new();
    let too_long = |n: usize| t.with("registration-too-long", &[("max", n.to_string().as_str())]);
    let name = form.name.trim();
    if name.is_empty() {
        errors.add("name", "required", t.get("registration-name-required"));
    } else if name.chars().count() > NAME_MAX {
        errors.add("name", "too-long", too_long(NAME_MAX));
    }
    let email = form.email.trim();
    if email.chars().count() > EMAIL_MAX {
        errors.add("email", "too-long", too_long(EMAIL_MAX));
    } else if !crate::accounts::is_plausible_email(email)
        || email.parse::<lettre::Address>().is_err()
    {
        errors.add(
            "email",
            "invalid-email",
            t.get("registration-email-invalid"),
        );
    }
    if form.organisation.trim().chars().count() > NAME_MAX {
        errors.add("organisation", "too-long", too_long(NAME_MAX));
    }
    if [&form.name, &form.organisation]
        .iter()
        .any(|v| v.chars().any(char::is_control))
    {
        errors.add("name", "invalid", t.get("registration-control-chars"));
    }
    errors
}

/// A registration through the form: checked, counted against the budgets, stored
/// unconfirmed with its confirmation mail. The answer is the same whether or not the
/// address had registered before, so that the page reveals nobody's registration.
pub async fn submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ctx: Ctx,
    Path(slug): Path<String>,
    CsrfForm(form): CsrfForm<RegisterForm>,
) -> AppResult<Response> {
    let t = ctx.tr();
    let info = event_info(&state, &slug).await?;
    let settings = state.store.registration_settings(info.event.id).await?;
    if let Some(errors) = closed(&t, &settings) {
        return form_response(form_page(&ctx, &info, &form), &errors);
    }
    let errors = check(&t, &form);
    if !errors.is_empty() {
        return form_response(form_page(&ctx, &info, &form), &errors);
    }
    let email = form.email.trim().to_lowercase();
    let address_key = format!("register-email:{email}");
    let client_key = format!("register-ip:{}", peer.ip());
    if state.store.recent_sign_in_failures(&address_key).await? >= PER_ADDRESS
        || state.store.recent_sign_in_failures(&client_key).await? >= PER_CLIENT
    {
        let mut errors = FieldErrors::new();
        errors.add("email", "too-many", t.get("registration-too-many"));
        let mut page = form_page(&ctx, &info, &form);
        page.problems = crate::forms::attach(&t, &mut page.fields, &errors);
        let mut response = (StatusCode::TOO_MANY_REQUESTS, render(&page)?).into_response();
        response
            .headers_mut()
            .insert(RETRY_AFTER, axum::http::HeaderValue::from_static("3600"));
        return Ok(response);
    }
    state
        .store
        .record_sign_in_failure(&[&address_key, &client_key])
        .await?;

    let token = konvent_store::new_token();
    let link = format!(
        "{}/konvent/{slug}/anmeldung/bestaetigen/{token}",
        state.settings.public_base()
    );
    let expires = Timestamp::now()
        .checked_add(CONFIRM_VALID)
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let m = LinkMail {
        lang: ctx.lang.code(),
        subject: t.with(
            "registration-mail-confirm-subject",
            &[("event", info.event.title.as_str())],
        ),
        greeting: t.with("registration-mail-greeting", &[("name", form.name.trim())]),
        lead: t.with(
            "registration-mail-confirm-lead",
            &[
                ("event", info.event.title.as_str()),
                (
                    "when",
                    datetime_de(info.event.starts_at.as_microsecond()).as_str(),
                ),
            ],
        ),
        action: t.get("registration-mail-confirm-action"),
        link,
        expires: t.with(
            "mail-link-expires",
            &[("until", datetime_de(expires.as_microsecond()).as_str())],
        ),
        ignore: t.get("registration-mail-confirm-ignore"),
        footer: t.with(
            "mail-footer",
            &[("base", state.settings.public_base().as_str())],
        ),
    };
    let mail = composed_mail(&state.mail, "registration_confirm", &email, &m, None)?;
    let stored = state
        .store
        .start_registration(
            &NewRegistration {
                event_id: info.event.id,
                email: &email,
                name: form.name.trim(),
                organisation: form.organisation.trim(),
                language: ctx.lang.code(),
                confirm_token: &token,
            },
            &mail,
        )
        .await?;
    if stored {
        state.mail.wake();
    }
    notice(
        &ctx,
        t.get("registration-sent-heading"),
        t.with("registration-sent", &[("email", email.as_str())]),
        None,
    )
}

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
#[derive(Debug, Clone, Default)]
pub struct Join {
    /// The button's label; None: no button.
    pub button: Option<String>,
    /// What stands instead of (or above) the button.
    pub note: String,
}

pub async fn join_state(
    state: &AppState,
    ctx: &Ctx,
    principal: &Principal,
    event_id: i64,
) -> AppResult<Join> {
    let t = ctx.tr();
    if ctx.may(Action::OrganizeEvent(event_id)) {
        return Ok(Join {
            button: Some(t.get("lobby-register")),
            note: t.get("lobby-register-lead"),
        });
    }
    let pending = state
        .store
        .registration_of(event_id, &principal.email)
        .await?
        .map(|r| r.status)
        .filter(|s| {
            matches!(
                s,
                RegistrationStatus::Waiting
                    | RegistrationStatus::AwaitingApproval
                    | RegistrationStatus::Declined
            )
        });
    if let Some(status) = pending {
        return Ok(Join {
            button: None,
            note: t.get(&format!("lobby-join-{}", status.as_str().replace('_', "-"))),
        });
    }
    let settings = state.store.registration_settings(event_id).await?;
    Ok(match settings.mode {
        RegistrationMode::Invitation => Join {
            button: None,
            note: t.get("lobby-join-invitation-only"),
        },
        RegistrationMode::Open => Join {
            button: Some(t.get("lobby-register")),
            note: t.get("lobby-register-lead"),
        },
        RegistrationMode::Approval => Join {
            button: Some(t.get("lobby-join-apply")),
            note: t.get("lobby-join-approval-lead"),
        },
    })
}

/// A signed-in person joins by the event's rules: registered at once (open, with a
/// place free), on the waiting list, or awaiting an organizer's approval, with the same
/// mails as a registration through the form (their account vouches for the address);
/// refused for an event by invitation only. Counts against the person's budget.
pub async fn join(
    state: &AppState,
    ctx: &Ctx,
    principal: &Principal,
    info: &EventInfo,
) -> AppResult<Response> {
    let t = ctx.tr();
    let notice_page = |message: String| NoticePage {
        c: Chrome::new(ctx, "konvent", t.get("lobby-join-heading")),
        message,
        button: None,
    };
    // The budget: as many tries per hour as an address has through the form.
    let key = format!("register-account:{}", principal.user_id);
    if state.store.recent_sign_in_failures(&key).await? >= PER_ADDRESS {
        let mut response = (
            StatusCode::TOO_MANY_REQUESTS,
            render(&notice_page(t.get("registration-too-many")))?,
        )
            .into_response();
        response
            .headers_mut()
            .insert(RETRY_AFTER, axum::http::HeaderValue::from_static("3600"));
        return Ok(response);
    }
    state.store.record_sign_in_failure(&[&key]).await?;
    let organisation = state
        .store
        .organisation_of(principal.user_id)
        .await?
        .unwrap_or_default();
    let compose = composer(state, info);
    let new = NewRegistration {
        event_id: info.event.id,
        email: &principal.email,
        name: &principal.display_name,
        organisation: &organisation,
        language: ctx.lang.code(),
        confirm_token: "",
    };
    let reg = match state.store.register_account(&new, &compose).await {
        Ok(reg) => reg,
        Err(StoreError::Conflict(_)) => {
            let page = notice_page(t.get("lobby-join-invitation-only"));
            return Ok((StatusCode::FORBIDDEN, render(&page)?).into_response());
        }
        Err(e) => return Err(e.into()),
    };
    state.mail.wake();
    if reg.status == RegistrationStatus::Registered {
        // A socket the person has open already reconnects as a participant.
        state.live.account_changed(principal.user_id);
        return Ok(Redirect::to(&format!("/konvent/{}", info.event.slug)).into_response());
    }
    let message = t.with(
        &format!("registration-now-{}", reg.status.as_str().replace('_', "-")),
        &[("event", info.event.title.as_str())],
    );
    Ok(render(&notice_page(message))?.into_response())
}

/// The page behind a confirmation link: one button.
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
    if reg.event_id != info.event.id {
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
        Some(reg) if reg.event_id == info.event.id => {}
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
pub async fn cancel_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((slug, token)): Path<(String, String)>,
) -> AppResult<Response> {
    let t = ctx.tr();
    let info = event_info(&state, &slug).await?;
    match state.store.registration_to_cancel(&token).await? {
        Some(reg) if reg.event_id == info.event.id => notice(
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

pub async fn cancel(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((slug, token)): Path<(String, String)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<Response> {
    let info = event_info(&state, &slug).await?;
    match state.store.registration_to_cancel(&token).await? {
        Some(reg) if reg.event_id == info.event.id => {}
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

// The organizers' list ------------------------------------------------------------------

struct Line {
    reg: Registration,
    status: String,
    decidable: bool,
    approvable: bool,
}

#[derive(Template)]
#[template(path = "konvent/registrations.html")]
struct ListPage {
    c: Chrome,
    slug: String,
    lines: Vec<Line>,
    mode_choices: Vec<crate::forms::Choice>,
    capacity: String,
    public_link: String,
    counts: String,
    error: Option<String>,
}

async fn list_page(
    state: &AppState,
    ctx: &Ctx,
    slug: &str,
    capacity_entered: Option<String>,
    error: Option<String>,
) -> AppResult<ListPage> {
    let info = event_info(state, slug).await?;
    let actor = require_actor(state, ctx, &info).await?;
    require_organizer(&actor)?;
    let t = ctx.tr();
    let settings = state.store.registration_settings(info.event.id).await?;
    let regs = state.store.registrations(info.event.id).await?;
    let count = |s: RegistrationStatus| regs.iter().filter(|r| r.status == s).count();
    let counts = t.with(
        "registrations-counts",
        &[
            (
                "registered",
                count(RegistrationStatus::Registered).to_string().as_str(),
            ),
            (
                "waiting",
                count(RegistrationStatus::Waiting).to_string().as_str(),
            ),
            (
                "capacity",
                settings
                    .capacity
                    .map(|c| c.to_string())
                    .unwrap_or_else(|| "–".to_owned())
                    .as_str(),
            ),
        ],
    );
    let lines = regs
        .into_iter()
        .map(|reg| Line {
            status: status_label(&t, reg.status),
            decidable: !matches!(
                reg.status,
                RegistrationStatus::Cancelled | RegistrationStatus::Declined
            ),
            approvable: reg.status == RegistrationStatus::AwaitingApproval,
            reg,
        })
        .collect();
    Ok(ListPage {
        c: Chrome::new(
            ctx,
            "konvent",
            t.with(
                "registrations-title",
                &[("event", info.event.title.as_str())],
            ),
        ),
        slug: slug.to_owned(),
        lines,
        mode_choices: choices(
            [
                RegistrationMode::Invitation,
                RegistrationMode::Open,
                RegistrationMode::Approval,
            ]
            .map(|m| {
                (
                    m.as_str().to_owned(),
                    t.get(&format!("registration-mode-{}", m.as_str())),
                )
            }),
            settings.mode.as_str(),
        ),
        capacity: capacity_entered
            .unwrap_or_else(|| settings.capacity.map(|c| c.to_string()).unwrap_or_default()),
        public_link: format!("{}/konvent/{slug}/anmeldung", state.settings.public_base()),
        counts,
        error,
    })
}

fn status_label(t: &Tr, status: RegistrationStatus) -> String {
    t.get(&format!(
        "registration-status-{}",
        status.as_str().replace('_', "-")
    ))
}

pub async fn list(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
) -> AppResult<Html<String>> {
    render(&list_page(&state, &ctx, &slug, None, None).await?)
}

#[derive(Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    mode: String,
    #[serde(default)]
    capacity: String,
}

pub async fn save_settings(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
    CsrfForm(form): CsrfForm<SettingsForm>,
) -> AppResult<Response> {
    let info = event_info(&state, &slug).await?;
    let actor = require_actor(&state, &ctx, &info).await?;
    require_organizer(&actor)?;
    let t = ctx.tr();
    let mode = RegistrationMode::parse(&form.mode);
    let capacity = match form.capacity.trim() {
        "" => Ok(None),
        text => match text.parse::<i64>() {
            Ok(n) if (1..=CAPACITY_MAX).contains(&n) => Ok(Some(n)),
            _ => Err(t.with(
                "registration-capacity-invalid",
                &[("max", CAPACITY_MAX.to_string().as_str())],
            )),
        },
    };
    let (Some(mode), Ok(capacity)) = (mode, capacity.clone()) else {
        let error = capacity
            .err()
            .unwrap_or_else(|| t.get("registration-mode-invalid"));
        let page = list_page(&state, &ctx, &slug, Some(form.capacity), Some(error)).await?;
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
    };
    let compose = composer(&state, &info);
    state
        .store
        .set_registration_settings(
            info.event.id,
            RegistrationSettings { mode, capacity },
            &compose,
        )
        .await?;
    state.mail.wake();
    Ok(Redirect::to(&format!("/konvent/{slug}/anmeldungen")).into_response())
}

async fn decide(
    state: AppState,
    ctx: Ctx,
    slug: String,
    id: i64,
    approve: bool,
) -> AppResult<Response> {
    let info = event_info(&state, &slug).await?;
    let actor = require_actor(&state, &ctx, &info).await?;
    require_organizer(&actor)?;
    let compose = composer(&state, &info);
    let done = if approve {
        state
            .store
            .approve_registration(info.event.id, id, &compose)
            .await
    } else {
        state
            .store
            .decline_registration(info.event.id, id, &compose)
            .await
    };
    match done {
        Ok(_) => {
            state.mail.wake();
            Ok(Redirect::to(&format!("/konvent/{slug}/anmeldungen")).into_response())
        }
        Err(StoreError::Conflict(message)) => {
            let page = list_page(&state, &ctx, &slug, None, Some(message)).await?;
            Ok((StatusCode::CONFLICT, render(&page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

pub async fn approve(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((slug, id)): Path<(String, i64)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<Response> {
    decide(state, ctx, slug, id, true).await
}

pub async fn decline(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((slug, id)): Path<(String, i64)>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<Response> {
    decide(state, ctx, slug, id, false).await
}

/// The registrations as CSV (organizers and admins), every cell defused.
pub async fn export_csv(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
) -> AppResult<Response> {
    let info = event_info(&state, &slug).await?;
    let actor = require_actor(&state, &ctx, &info).await?;
    require_organizer(&actor)?;
    let t = ctx.tr();
    let mut csv = CsvWriter::new(
        [
            "registration-csv-name",
            "registration-csv-email",
            "registration-csv-organisation",
            "registration-csv-status",
            "registration-csv-registered-at",
            "registration-csv-confirmed-at",
        ]
        .map(|k| t.get(k)),
    );
    for reg in state.store.registrations(info.event.id).await? {
        csv.row([
            reg.name.clone(),
            reg.email.clone(),
            reg.organisation.clone(),
            status_label(&t, reg.status),
            datetime_de(reg.created_at),
            reg.confirmed_at.map(datetime_de).unwrap_or_default(),
        ]);
    }
    Ok((
        [
            (CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                CONTENT_DISPOSITION,
                format!("attachment; filename=\"anmeldungen-{slug}.csv\""),
            ),
        ],
        csv.finish(),
    )
        .into_response())
}
