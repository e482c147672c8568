//! The request context: who is signed in, the language, and the CSRF token, read once
//! per request by the `context` middleware; plus `CsrfForm`, the only way handlers read
//! a submitted form, so that no state-changing form goes unchecked.

use axum::extract::{FromRequest, FromRequestParts, Request, State};
use axum::http::header::{COOKIE, HOST, ORIGIN, SET_COOKIE};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use konvent_core::authz::{Action, Principal};
use konvent_store::Actor;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use subtle::ConstantTimeEq;

use crate::AppState;
use crate::error::{AppError, AppResult};
use crate::i18n::{Lang, Tr};

pub const SESSION_COOKIE: &str = "konvent_session";
pub const CSRF_COOKIE: &str = "konvent_csrf";
pub const LANG_COOKIE: &str = "konvent_lang";

/// What every handler knows about the request.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub principal: Option<Principal>,
    pub csrf: String,
    pub lang: Lang,
    /// Path and query of this request, to come back to after signing in.
    pub path: String,
}

impl Ctx {
    pub fn tr(&self) -> Tr {
        Tr::new(self.lang)
    }

    /// The signed-in principal, or "sign in first".
    pub fn signed_in(&self) -> AppResult<&Principal> {
        self.principal
            .as_ref()
            .ok_or_else(|| AppError::SignInRequired {
                next: self.path.clone(),
            })
    }

    /// The principal if it may do `action`; "sign in" for visitors, "forbidden" else.
    pub fn require(&self, action: Action<'_>) -> AppResult<&Principal> {
        let principal = self.signed_in()?;
        if principal.may(action) {
            Ok(principal)
        } else {
            Err(AppError::Forbidden)
        }
    }

    pub fn may(&self, action: Action<'_>) -> bool {
        self.principal.as_ref().is_some_and(|p| p.may(action))
    }

    /// The signed-in account's id, if any: the one thing about the person that the
    /// handlers' spans record (never the name or the e-mail address). A plain number,
    /// because a span's field takes one and not the typed id.
    pub fn account_id(&self) -> Option<i64> {
        self.principal.as_ref().map(|p| p.user_id.get())
    }

    /// The actor recorded in the audit log.
    pub fn actor(&self) -> AppResult<Actor> {
        let p = self.signed_in()?;
        Ok(Actor::account(p.user_id, &p.display_name))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Ctx {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<Ctx>()
            .cloned()
            .ok_or_else(|| AppError::Internal("context middleware missing".into()))
    }
}

/// The value of one cookie.
pub fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

fn is_token(value: &str) -> bool {
    value.len() == 64 && value.bytes().all(|b| b.is_ascii_hexdigit())
}

/// A `Set-Cookie` value; `max_age` None deletes the cookie.
pub fn set_cookie(name: &str, value: &str, max_age: Option<u64>, secure: bool) -> HeaderValue {
    let age = max_age.unwrap_or(0);
    let secure = if secure { "; Secure" } else { "" };
    // SameSite=Lax keeps the session on links followed from e-mail; the CSRF token guards
    // the forms. Values are hex tokens or language codes, never user text.
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/; Max-Age={age}; HttpOnly; SameSite=Lax{secure}"
    ))
    .unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// Reads session, language and CSRF cookies and puts a [`Ctx`] into the request.
pub async fn context(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let headers = req.headers();
    let principal = match cookie(headers, SESSION_COOKIE).filter(|t| is_token(t)) {
        Some(token) => state.store.signed_in(token).await.unwrap_or_else(|e| {
            tracing::error!(error = %e, "session lookup failed");
            None
        }),
        None => None,
    };
    let lang = cookie(headers, LANG_COOKIE)
        .and_then(Lang::parse)
        .unwrap_or_default();
    let existing_csrf = cookie(headers, CSRF_COOKIE)
        .filter(|t| is_token(t))
        .map(str::to_owned);
    let new_csrf = existing_csrf.is_none();
    let csrf = existing_csrf.unwrap_or_else(konvent_store::new_token);
    let path = req
        .uri()
        .path_and_query()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "/".to_owned());
    req.extensions_mut().insert(Ctx {
        principal,
        csrf: csrf.clone(),
        lang,
        path,
    });
    let mut response = next.run(req).await;
    if new_csrf {
        response.headers_mut().append(
            SET_COOKIE,
            set_cookie(
                CSRF_COOKIE,
                &csrf,
                Some(60 * 60 * 24 * 365),
                state.settings.secure_cookies,
            ),
        );
    }
    response
}

/// A submitted urlencoded form whose `csrf` field matches the visitor's CSRF cookie and
/// which comes from this site.
pub struct CsrfForm<T>(pub T);

#[derive(Deserialize)]
struct WithCsrf<T> {
    #[serde(default)]
    csrf: String,
    #[serde(flatten)]
    inner: T,
}

/// Refuses a request whose `Origin` names another site (browsers send it on posts).
pub fn check_origin(headers: &HeaderMap) -> AppResult<()> {
    let Some(origin) = headers.get(ORIGIN).and_then(|v| v.to_str().ok()) else {
        return Ok(());
    };
    let host = headers
        .get(HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let origin_host = origin.split_once("://").map(|(_, h)| h).unwrap_or(origin);
    if origin_host == host {
        Ok(())
    } else {
        Err(AppError::Csrf)
    }
}

/// Compares a submitted CSRF token with the cookie's, in constant time.
pub fn check_csrf(ctx: &Ctx, submitted: &str) -> AppResult<()> {
    if bool::from(submitted.as_bytes().ct_eq(ctx.csrf.as_bytes())) {
        Ok(())
    } else {
        Err(AppError::Csrf)
    }
}

impl<S, T> FromRequest<S> for CsrfForm<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        check_origin(req.headers())?;
        let ctx = req
            .extensions()
            .get::<Ctx>()
            .cloned()
            .ok_or_else(|| AppError::Internal("context middleware missing".into()))?;
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|_| AppError::PayloadTooLarge)?;
        let form: WithCsrf<T> = serde_urlencoded::from_bytes(&bytes)
            .map_err(|e| AppError::BadRequest(format!("Formular unvollständig: {e}")))?;
        check_csrf(&ctx, &form.csrf)?;
        Ok(Self(form.inner))
    }
}

/// A submitted form as its list of fields (for forms that repeat a field, like ticked
/// checkboxes), checked like [`CsrfForm`].
pub struct CsrfPairs(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequest<S> for CsrfPairs {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        check_origin(req.headers())?;
        let ctx = req
            .extensions()
            .get::<Ctx>()
            .cloned()
            .ok_or_else(|| AppError::Internal("context middleware missing".into()))?;
        let bytes = axum::body::Bytes::from_request(req, state)
            .await
            .map_err(|_| AppError::PayloadTooLarge)?;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes)
            .map_err(|e| AppError::BadRequest(format!("Formular unvollständig: {e}")))?;
        let csrf = pairs
            .iter()
            .find(|(k, _)| k == "csrf")
            .map(|(_, v)| v.as_str())
            .unwrap_or_default();
        check_csrf(&ctx, csrf)?;
        Ok(Self(pairs))
    }
}

/// An id from the path, a plain number or one of core's typed ids (`Id<EventId>`);
/// anything else is "not found" (never axum's plain-text rejection, so pages and the API
/// answer in their own format).
pub struct Id<T = i64>(pub T);

impl<S: Send + Sync, T: std::str::FromStr> FromRequestParts<S> for Id<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let axum::extract::Path(raw) =
            axum::extract::Path::<String>::from_request_parts(parts, state)
                .await
                .map_err(|_| AppError::NotFound)?;
        raw.parse().map(Id).map_err(|_| AppError::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cookies_are_found_among_several() {
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            HeaderValue::from_static("a=1; konvent_lang=en; b=2"),
        );
        assert_eq!(cookie(&headers, LANG_COOKIE), Some("en"));
        assert_eq!(cookie(&headers, "c"), None);
    }

    #[test]
    fn a_post_from_another_origin_is_refused() {
        let mut headers = HeaderMap::new();
        headers.insert(HOST, HeaderValue::from_static("127.0.0.1:8080"));
        headers.insert(ORIGIN, HeaderValue::from_static("http://127.0.0.1:8080"));
        assert!(check_origin(&headers).is_ok());
        headers.insert(ORIGIN, HeaderValue::from_static("https://evil.example"));
        assert!(check_origin(&headers).is_err());
    }
}
