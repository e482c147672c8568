//! The feedback mechanism of the accessibility statement (BITV 2.0 § 7 Abs. 1 Nr. 2,
//! HVBIT § 4 Abs. 2 Nr. 2): a plain form on `/barrierefreiheit` that mails a barrier
//! report to the configured office (`legal.feedback_email`, else every admin) with a
//! copy to the reporter, through the outbox, both mails in one transaction. Anyone may
//! send it, signed in or not: every report counts against a budget per address, per
//! client IP address and (signed in) per account; every field has a length limit.

use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, State};
use axum::http::StatusCode;
use axum::http::header::RETRY_AFTER;
use axum::response::{IntoResponse, Response};
use konvent_core::FieldErrors;
use konvent_core::authz::Role;
use konvent_core::validation::text::{self, Problem, Shape};
use konvent_store::NewMail;
use serde::Deserialize;

use crate::AppState;
use crate::ctx::{CsrfForm, Ctx};
use crate::error::AppResult;
use crate::forms::{Field, Kind};
use crate::i18n::{Lang, Tr};
use crate::layout::{Chrome, render};

/// Longest name, in characters.
pub const NAME_MAX: usize = 200;
/// Longest address (RFC 5321's path limit).
pub const EMAIL_MAX: usize = 254;
/// Longest page or content named.
pub const PAGE_MAX: usize = 500;
/// Longest report, in characters.
pub const MESSAGE_MAX: usize = 5_000;
/// Reports within the hour (the sign-in window): per address and per account, enough
/// for a few barriers at once; per client IP address, room for a shared office network.
const PER_ADDRESS: i64 = 5;
const PER_CLIENT: i64 = 20;

#[derive(Deserialize, Default)]
pub struct BarrierForm {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub email: String,
    #[serde(default)]
    pub page: String,
    #[serde(default)]
    pub message: String,
}

/// The form's fields, with what the person typed.
pub fn fields(t: &Tr, form: &BarrierForm) -> Vec<Field> {
    let mut name = Field::text(t, "name", &form.name).autocomplete("name");
    name.label = t.get("legal-report-name");
    let mut email = Field::new(t, "email", Kind::Email)
        .value(&form.email)
        .required()
        .autocomplete("email")
        .hint(t.get("legal-report-email-hint"));
    email.label = t.get("legal-report-email");
    let mut page = Field::text(t, "page", &form.page).hint(t.get("legal-report-page-hint"));
    page.label = t.get("legal-report-page");
    let mut message = Field::new(t, "message", Kind::Textarea)
        .value(&form.message)
        .required()
        .hint(t.with(
            "legal-report-message-hint",
            &[("max", MESSAGE_MAX.to_string().as_str())],
        ));
    message.label = t.get("legal-report-message");
    vec![name, email, page, message]
}

fn check(t: &Tr, form: &BarrierForm) -> FieldErrors {
    let mut errors = FieldErrors::new();
    let too_long = |n: usize| t.with("legal-report-too-long", &[("max", n.to_string().as_str())]);
    // The name, the page and the message pass core's one text check.
    let mut text =
        |field, value: &str, shape, max, required: bool| match text::tidy(value, shape, max) {
            Ok(_) => {}
            Err(Problem::Empty) if !required => {}
            Err(Problem::Empty) => {
                errors.add(field, "required", t.get("legal-report-message-required"))
            }
            Err(Problem::TooLong { .. }) => errors.add(field, "too-long", too_long(max)),
            Err(Problem::Control | Problem::Hidden) => {
                errors.add(field, "invalid", t.get("legal-report-control-chars"))
            }
        };
    text("name", &form.name, Shape::Line, NAME_MAX, false);
    text("page", &form.page, Shape::Line, PAGE_MAX, false);
    text("message", &form.message, Shape::Lines, MESSAGE_MAX, true);
    let email = form.email.trim();
    if email.is_empty() {
        errors.add("email", "required", t.get("legal-report-email-required"));
    } else if email.chars().count() > EMAIL_MAX {
        errors.add("email", "too-long", too_long(EMAIL_MAX));
    } else if !crate::accounts::is_plausible_email(email)
        || email.parse::<lettre::Address>().is_err()
    {
        errors.add(
            "email",
            "invalid-email",
            t.get("legal-report-email-invalid"),
        );
    }
    errors
}

/// The texts of a barrier report mail.
struct ReportMail {
    lang: &'static str,
    subject: String,
    greeting: String,
    lead: String,
    details: Vec<(String, String)>,
    message: String,
    footer: String,
}

#[derive(Template)]
#[template(path = "mail/barrier.txt")]
struct ReportText<'a> {
    m: &'a ReportMail,
}

#[derive(Template)]
#[template(path = "mail/barrier.html")]
struct ReportHtml<'a> {
    m: &'a ReportMail,
}

fn report_mail(
    state: &AppState,
    lang: Lang,
    kind: &str,
    recipient: &str,
    form: &BarrierForm,
) -> Result<NewMail, askama::Error> {
    let t = Tr::new(lang);
    let base = state.settings.public_base();
    let copy = kind == "barrier_report_copy";
    let name = form.name.trim();
    let mut details = vec![
        (
            t.get("legal-report-name"),
            if name.is_empty() {
                t.get("legal-report-no-name")
            } else {
                name.to_owned()
            },
        ),
        (t.get("legal-report-email"), form.email.trim().to_owned()),
    ];
    if !form.page.trim().is_empty() {
        details.push((t.get("legal-report-page"), form.page.trim().to_owned()));
    }
    let m = ReportMail {
        lang: lang.code(),
        subject: t.get(if copy {
            "legal-report-copy-subject"
        } else {
            "legal-report-subject"
        }),
        greeting: t.get("mail-greeting"),
        lead: t.with(
            if copy {
                "legal-report-copy-lead"
            } else {
                "legal-report-lead"
            },
            &[("base", base.as_str())],
        ),
        details,
        message: form.message.trim().to_owned(),
        footer: t.with("mail-footer", &[("base", base.as_str())]),
    };
    Ok(NewMail {
        message_id: state.mail.new_message_id(),
        kind: kind.to_owned(),
        recipient: recipient.to_owned(),
        language: lang.code().to_owned(),
        subject: m.subject.clone(),
        body_text: ReportText { m: &m }.render()?,
        body_html: ReportHtml { m: &m }.render()?,
        calendar: None,
    })
}

/// Who receives reports: the configured office, else every admin account.
async fn office(state: &AppState) -> AppResult<Vec<String>> {
    let configured = state.settings.legal.feedback_email.trim();
    if !configured.is_empty() {
        return Ok(vec![configured.to_owned()]);
    }
    Ok(state
        .store
        .accounts()
        .await?
        .into_iter()
        .filter(|a| a.grants.iter().any(|g| g.role == Role::Admin))
        .map(|a| a.email)
        .collect())
}

#[derive(Template)]
#[template(path = "legal/sent.html")]
struct SentPage {
    c: Chrome,
    email: String,
}

/// A barrier report from the statement's form.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn submit(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<BarrierForm>,
) -> AppResult<Response> {
    let t = ctx.tr();
    let errors = check(&t, &form);
    if !errors.is_empty() {
        return super::statement_with(
            &state,
            &ctx,
            &form,
            &errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let email = form.email.trim().to_lowercase();
    let mut keys = vec![
        (format!("barrier-email:{email}"), PER_ADDRESS),
        (format!("barrier-ip:{}", peer.ip()), PER_CLIENT),
    ];
    if let Some(p) = &ctx.principal {
        keys.push((format!("barrier-account:{}", p.user_id), PER_ADDRESS));
    }
    for (key, limit) in &keys {
        if state.store.recent_sign_in_failures(key).await? >= *limit {
            let mut errors = FieldErrors::new();
            errors.add("message", "too-many", t.get("legal-report-too-many"));
            let mut response =
                super::statement_with(&state, &ctx, &form, &errors, StatusCode::TOO_MANY_REQUESTS)
                    .await?;
            response
                .headers_mut()
                .insert(RETRY_AFTER, axum::http::HeaderValue::from_static("3600"));
            return Ok(response);
        }
    }
    let office = office(&state).await?;
    if office.is_empty() {
        let mut errors = FieldErrors::new();
        errors.add("message", "no-office", t.get("legal-report-no-office"));
        return super::statement_with(
            &state,
            &ctx,
            &form,
            &errors,
            StatusCode::SERVICE_UNAVAILABLE,
        )
        .await;
    }
    let key_refs: Vec<&str> = keys.iter().map(|(k, _)| k.as_str()).collect();
    state.store.record_sign_in_failure(&key_refs).await?;
    // The office reads German, the operator's language; the copy goes out in the
    // reporter's.
    let mut mails = Vec::with_capacity(office.len() + 1);
    for recipient in &office {
        mails.push(report_mail(
            &state,
            Lang::De,
            "barrier_report",
            recipient,
            &form,
        )?);
    }
    mails.push(report_mail(
        &state,
        ctx.lang,
        "barrier_report_copy",
        &email,
        &form,
    )?);
    state.store.queue_mails(&mails).await?;
    state.mail.wake();
    let page = SentPage {
        c: Chrome::new(&ctx, "", t.get("legal-report-sent-heading")),
        email,
    };
    Ok(render(&page)?.into_response())
}
