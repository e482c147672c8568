//! What every page shares: the frame around the content (`Chrome`), rendering, security
//! headers, and the error pages.

use askama::Template;
use axum::extract::Request;
use axum::http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, CONTENT_TYPE, LOCATION, REFERRER_POLICY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};

use crate::ctx::Ctx;
use crate::error::{AppResult, ErrorInfo};
use crate::i18n::Tr;

/// The frame of a page: header, navigation, language switch, sign-in state.
pub struct Chrome {
    pub t: Tr,
    pub title: String,
    /// Which of the three areas is active: "konvent", "gremien", "strategie" or "".
    pub area: &'static str,
    pub user: Option<String>,
    pub is_admin: bool,
    pub csrf: String,
    pub path: String,
    pub css: String,
    pub icon: String,
}

impl Chrome {
    pub fn new(ctx: &Ctx, area: &'static str, title: impl Into<String>) -> Self {
        Self {
            t: ctx.tr(),
            title: title.into(),
            area,
            user: ctx.principal.as_ref().map(|p| p.display_name.clone()),
            is_admin: ctx.principal.as_ref().is_some_and(|p| p.is_admin()),
            csrf: ctx.csrf.clone(),
            path: ctx.path.clone(),
            css: crate::assets::url("konvent.css"),
            icon: crate::assets::url("favicon.svg"),
        }
    }

    /// `aria-current` for the navigation entry of `area`.
    pub fn current(&self, area: &str) -> &'static str {
        if self.area == area { "page" } else { "false" }
    }

    /// The link that switches the language and comes back here.
    pub fn lang_switch_href(&self) -> String {
        format!(
            "/sprache/{}?zurueck={}",
            self.t.lang.other().code(),
            urlencode(&self.path)
        )
    }
}

pub fn urlencode(value: &str) -> String {
    serde_urlencoded::to_string([("", value)])
        .map(|s| s.trim_start_matches('=').to_owned())
        .unwrap_or_default()
}

/// Renders a page template.
pub fn render(page: &impl Template) -> AppResult<Html<String>> {
    Ok(Html(page.render()?))
}

/// A German date as the council writes it: 20.03.2024.
pub fn date_de(date: &jiff::civil::Date) -> String {
    date.strftime("%d.%m.%Y").to_string()
}

/// A stored timestamp in Europe/Berlin: 20.03.2024, 14:05 Uhr.
pub fn datetime_de(micros: i64) -> String {
    let ts = konvent_store::timestamp(micros);
    match ts.in_tz("Europe/Berlin") {
        Ok(z) => z.strftime("%d.%m.%Y, %H:%M").to_string(),
        Err(_) => ts.to_string(),
    }
}

/// The policy every response carries: our own scripts, styles and images only. Forms
/// post to this site only, or to the single sign-on providers' origins (`providers`):
/// signing out redirects a form's post to the provider's end-session endpoint, which
/// browsers check against `form-action`.
pub fn csp(providers: &[String]) -> HeaderValue {
    let mut form_action = String::from("'self'");
    for origin in providers {
        form_action.push(' ');
        form_action.push_str(origin);
    }
    HeaderValue::from_str(&format!(
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
         font-src 'self'; connect-src 'self'; form-action {form_action}; \
         frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'; form-action 'self'"))
}

pub async fn security_headers(
    axum::extract::State(state): axum::extract::State<crate::AppState>,
    req: Request,
    next: Next,
) -> Response {
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    // A response with its own, stricter policy keeps it (documents' downloads).
    if !h.contains_key(CONTENT_SECURITY_POLICY) {
        h.insert(CONTENT_SECURITY_POLICY, state.sso.csp.clone());
    }
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if !h.contains_key(CACHE_CONTROL) {
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

#[derive(Template)]
#[template(path = "error.html")]
struct ErrorPage {
    c: Chrome,
    heading: String,
    message: String,
}

/// Turns an [`ErrorInfo`] left in a response into the JSON error body (API) or an
/// error page (browsers); sends visitors who must sign in to the sign-in page.
pub async fn error_pages(req: Request, next: Next) -> Response {
    let ctx = req.extensions().get::<Ctx>().cloned();
    let api = req.uri().path().starts_with("/api/");
    let response = next.run(req).await;
    let Some(info) = response.extensions().get::<ErrorInfo>().cloned() else {
        return response;
    };
    let status = response.status();
    let Some(ctx) = ctx else { return response };
    let t = ctx.tr();
    let message = if let Some(refused) = &info.refused {
        crate::refusals::text(t, refused)
    } else if info.literal {
        info.message.clone()
    } else {
        t.get(&info.message)
    };
    if api {
        let body = serde_json::json!({ "error": { "code": info.code, "message": message } });
        return (status, axum::Json(body)).into_response();
    }
    if let Some(next) = info.sign_in_next {
        let location = format!("/anmelden?weiter={}", urlencode(&next));
        return (
            StatusCode::SEE_OTHER,
            [(
                LOCATION,
                HeaderValue::from_str(&location).unwrap_or(HeaderValue::from_static("/anmelden")),
            )],
        )
            .into_response();
    }
    let heading = t.get(&format!("error-title-{}", status.as_u16()));
    let page = ErrorPage {
        c: Chrome::new(&ctx, "", heading.clone()),
        heading,
        message,
    };
    match page.render() {
        Ok(html) => (status, [(CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response(),
        Err(_) => (status, message_only(status)).into_response(),
    }
}

fn message_only(status: StatusCode) -> String {
    status.canonical_reason().unwrap_or("Fehler").to_owned()
}
