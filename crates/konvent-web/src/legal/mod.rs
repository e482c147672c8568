//! What a public body must offer (DESIGN A4, issue 21): the accessibility statement
//! (Erklärung zur Barrierefreiheit), the imprint, the privacy notice and the page in
//! plain language (Leichte Sprache) with the operator's sign-language video. Each page
//! is public and linked from every page's footer; its facts come from `[legal]` in
//! `konvent.toml` ([`LegalSettings`]).

pub mod deletion;
pub mod export;
pub mod feedback;
pub mod retention;
mod settings;

use askama::Template;
use axum::body::Body;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use konvent_core::FieldErrors;
use tokio::io::AsyncReadExt;

pub use retention::{RetentionKind, RetentionSettings};
pub use settings::{Conformity, Enforcement, LegalSettings};

use crate::AppState;
use crate::ctx::Ctx;
use crate::error::{AppError, AppResult};
use crate::forms::{Field, Kind, attach};
use crate::i18n::Tr;
use crate::layout::{Chrome, render};

/// Largest imprint or privacy file read, in bytes: a legal text, not a library.
const TEXT_FILE_MAX: u64 = 1024 * 1024;

/// The operator's name, or the neutral one.
fn operator(t: &Tr, legal: &LegalSettings) -> String {
    if legal.operator.trim().is_empty() {
        t.get("legal-operator-unnamed")
    } else {
        legal.operator.trim().to_owned()
    }
}

/// A German date from `YYYY-MM-DD`, or "not stated yet".
fn stated_date(t: &Tr, value: &str) -> String {
    value
        .parse::<jiff::civil::Date>()
        .map(|d| crate::layout::date_de(&d))
        .unwrap_or_else(|_| t.get("legal-not-stated"))
}

/// Markdown from a setting: the file when one is named, else the text; `None` when
/// neither is set.
async fn configured_markdown(text: &str, file: &str) -> AppResult<Option<String>> {
    if !file.trim().is_empty() {
        let f = tokio::fs::File::open(file.trim())
            .await
            .map_err(|e| AppError::Internal(format!("legal text file {file:?} unreadable: {e}")))?;
        let mut source = String::new();
        f.take(TEXT_FILE_MAX)
            .read_to_string(&mut source)
            .await
            .map_err(|e| AppError::Internal(format!("legal text file {file:?}: {e}")))?;
        return Ok(Some(crate::markdown::to_html(&source)));
    }
    if text.trim().is_empty() {
        return Ok(None);
    }
    Ok(Some(crate::markdown::to_html(text)))
}

fn markdown_or_empty(text: &str) -> String {
    if text.trim().is_empty() {
        String::new()
    } else {
        crate::markdown::to_html(text)
    }
}

#[derive(Template)]
#[template(path = "legal/statement.html")]
struct StatementPage {
    c: Chrome,
    operator: String,
    base: String,
    enforcement: Enforcement,
    conformity: Conformity,
    assessment_html: String,
    barriers_html: String,
    prepared_on: String,
    reviewed_on: String,
    feedback_email: String,
    feedback_phone: String,
    enforcement_html: String,
    /// The enforcement body's application form, a link; empty: none.
    enforcement_form: String,
    /// The barrier report form, with the errors of a refused report.
    fields: Vec<Field>,
    problems: Vec<String>,
}

/// The accessibility statement (BITV 2.0 § 7, HVBIT § 4), with the report form.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn statement(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let form = match &ctx.principal {
        Some(p) => feedback::BarrierForm {
            name: p.display_name.clone(),
            email: p.email.clone(),
            ..feedback::BarrierForm::default()
        },
        None => feedback::BarrierForm::default(),
    };
    statement_with(&state, &ctx, &form, &FieldErrors::new(), StatusCode::OK).await
}

/// The statement with the report form as typed and its errors beside the fields.
async fn statement_with(
    state: &AppState,
    ctx: &Ctx,
    form: &feedback::BarrierForm,
    errors: &FieldErrors,
    status: StatusCode,
) -> AppResult<Response> {
    let t = ctx.tr();
    let legal = &state.settings.legal;
    let mut fields = feedback::fields(&t, form);
    let problems = attach(&t, &mut fields, errors);
    let page = StatementPage {
        c: Chrome::new(ctx, "", t.get("legal-statement-title")),
        operator: operator(&t, legal),
        base: state.settings.public_base(),
        enforcement: legal.enforcement(),
        conformity: legal.conformity(),
        assessment_html: markdown_or_empty(&legal.assessment),
        barriers_html: markdown_or_empty(&legal.barriers),
        prepared_on: stated_date(&t, &legal.prepared_on),
        reviewed_on: stated_date(&t, &legal.reviewed_on),
        feedback_email: legal.feedback_email.clone(),
        feedback_phone: legal.feedback_phone.clone(),
        enforcement_html: markdown_or_empty(&legal.enforcement_text),
        enforcement_form: legal.enforcement_form.trim().to_owned(),
        fields,
        problems,
    };
    Ok((status, render(&page)?).into_response())
}

#[derive(Template)]
#[template(path = "legal/text.html")]
struct TextPage {
    c: Chrome,
    /// The operator's text, rendered from Markdown; `None`: the generated default.
    html: Option<String>,
    kind: &'static str,
    operator: String,
    operator_address: Vec<String>,
    privacy_officer: String,
    session_hours: u32,
    sign_in_link_hours: u32,
    invitation_hours: u32,
    video: bool,
    /// The retention periods, one line per [`RetentionKind`].
    retention: Vec<retention::RetentionLine>,
}

async fn text_page(
    state: &AppState,
    ctx: &Ctx,
    kind: &'static str,
    text: &str,
    file: &str,
) -> AppResult<Response> {
    let t = ctx.tr();
    let legal = &state.settings.legal;
    let s = &state.settings;
    let page = TextPage {
        c: Chrome::new(ctx, "", t.get(&format!("legal-{kind}-title"))),
        html: configured_markdown(text, file).await?,
        kind,
        operator: operator(&t, legal),
        operator_address: legal
            .operator_address
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect(),
        privacy_officer: legal.privacy_officer.trim().to_owned(),
        session_hours: s.session_hours,
        sign_in_link_hours: s.sign_in_link_hours,
        invitation_hours: s.invitation_hours,
        video: s.video().is_some(),
        retention: retention::retention_lines(&t, &s.retention, None),
    };
    Ok(render(&page)?.into_response())
}

/// The imprint (Impressum, § 5 DDG).
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn imprint(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let legal = &state.settings.legal;
    text_page(&state, &ctx, "imprint", &legal.imprint, &legal.imprint_file).await
}

/// The privacy notice (Art. 13 DSGVO); without an operator text, konvent's own, made
/// from the settings that decide what is kept and for how long.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn privacy(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let legal = &state.settings.legal;
    text_page(&state, &ctx, "privacy", &legal.privacy, &legal.privacy_file).await
}

/// How the sign-language video is offered.
enum SignVideo {
    None,
    Link(String),
    File,
}

fn sign_video(legal: &LegalSettings) -> SignVideo {
    let v = legal.sign_language_video.trim();
    if v.is_empty() {
        SignVideo::None
    } else if v.starts_with("https://") || v.starts_with("http://") {
        SignVideo::Link(v.to_owned())
    } else {
        SignVideo::File
    }
}

#[derive(Template)]
#[template(path = "legal/easy.html")]
struct EasyPage {
    c: Chrome,
    help_email: String,
    help_phone: String,
    video: SignVideo,
}

/// The page in plain language (BITV 2.0 § 4, Anlage 2), with the sign-language video.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn easy(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    let t = ctx.tr();
    let legal = &state.settings.legal;
    let page = EasyPage {
        c: Chrome::new(&ctx, "", t.get("legal-easy-title")),
        help_email: legal.help_email.clone(),
        help_phone: legal.help_phone.clone(),
        video: sign_video(legal),
    };
    Ok(render(&page)?.into_response())
}

/// The operator's sign-language video file, streamed from disk.
#[tracing::instrument(level = "debug", skip_all)]
pub async fn sign_language_file(State(state): State<AppState>) -> AppResult<Response> {
    let path = state.settings.legal.sign_language_video.trim().to_owned();
    if !matches!(sign_video(&state.settings.legal), SignVideo::File) {
        return Err(AppError::NotFound);
    }
    let content_type = if path.to_ascii_lowercase().ends_with(".webm") {
        "video/webm"
    } else {
        "video/mp4"
    };
    let file = tokio::fs::File::open(&path).await.map_err(|e| {
        tracing::error!(error = %e, path, "sign-language video unreadable");
        AppError::NotFound
    })?;
    let chunks = futures_util::stream::unfold(file, |mut file| async move {
        let mut buf = vec![0u8; 64 * 1024];
        match file.read(&mut buf).await {
            Ok(0) => None,
            Ok(n) => {
                buf.truncate(n);
                Some((Ok::<_, std::io::Error>(bytes::Bytes::from(buf)), file))
            }
            Err(e) => Some((Err(e), file)),
        }
    });
    let mut response = (StatusCode::OK, Body::from_stream(chunks)).into_response();
    response
        .headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    Ok(response)
}
