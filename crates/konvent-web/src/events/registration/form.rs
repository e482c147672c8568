//! The public registration form: anyone with the link registers with name, address and
//! organisation, and gets a mail with a link to confirm the address.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Path, State};
use axum::http::StatusCode;
use axum::http::header::RETRY_AFTER;
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use konvent_core::FieldErrors;
use konvent_store::{NewRegistration, RegistrationMode, RegistrationSettings};
use serde::Deserialize;

use super::{CONFIRM_VALID, EMAIL_MAX, NAME_MAX, PER_ADDRESS, PER_CLIENT, notice};
use crate::AppState;
use crate::ctx::{CsrfForm, Ctx};
use crate::error::{AppError, AppResult};
use crate::events::event_info;
use crate::forms::{Field, FormPage, Kind, form_response};
use crate::i18n::Tr;
use crate::layout::{Chrome, datetime_de, render};
use crate::live::EventInfo;
use crate::mail::{LinkMail, composed_mail};

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

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug))]
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
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug))]
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
