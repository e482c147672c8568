//! Back-channel logout (OpenID Connect Back-Channel Logout 1.0): the provider posts a
//! logout token; konvent checks it itself (the crate does not parse logout tokens) and
//! ends the sessions it names, closing their live sockets.

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::http::header::CACHE_CONTROL;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::JsonWebKey;
use openidconnect::core::{CoreJsonWebKey, CoreJwsSigningAlgorithm};
use serde::Deserialize;

use super::Keys;
use crate::AppState;

/// The event a logout token carries.
const LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";
/// A logout token is small; a larger body is refused before anything is decoded.
const MAX_TOKEN_BYTES: usize = 16 * 1024;
/// How old (by `iat`) a logout token may be, and how far in the future.
const MAX_AGE_SECS: i64 = 600;
const SKEW_SECS: i64 = 60;
/// The refusal of a token that no key of the provider verifies.
const UNKNOWN_KEY: &str = "logout_token signature does not match a key of the provider";

#[derive(Deserialize)]
pub struct LogoutForm {
    #[serde(default)]
    logout_token: String,
}

/// What a valid logout token names.
#[derive(Debug, PartialEq, Eq)]
pub struct LogoutClaims {
    pub subject: Option<String>,
    pub sid: Option<String>,
}

fn bad(message: &str) -> Response {
    (
        StatusCode::BAD_REQUEST,
        [(CACHE_CONTROL, "no-store")],
        axum::Json(serde_json::json!({
            "error": "invalid_request",
            "error_description": message,
        })),
    )
        .into_response()
}

#[tracing::instrument(level = "debug", skip_all, fields(id = %id))]
pub async fn backchannel_logout(
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(form): Form<LogoutForm>,
) -> Response {
    let Ok(provider) = state.sso.provider(&id) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let now = jiff::Timestamp::now().as_second();
    let mut keys = Keys::Cached;
    let claims = loop {
        let metadata = match state.sso.metadata(provider, keys).await {
            Ok(m) => m,
            Err(e) => {
                tracing::warn!(provider = %id, error = %e, "oidc: back-channel logout without keys");
                return (StatusCode::BAD_GATEWAY, [(CACHE_CONTROL, "no-store")]).into_response();
            }
        };
        match validate(
            &form.logout_token,
            metadata.issuer().as_str(),
            &provider.client_id,
            metadata.jwks().keys(),
            now,
        ) {
            Ok(claims) => break claims,
            // Only a signature that no known key verifies is worth reading the keys
            // again (the provider may have rotated them); every other refusal is final.
            Err(message) if message == UNKNOWN_KEY && keys == Keys::Cached => {
                keys = Keys::Unknown;
            }
            Err(message) => {
                tracing::info!(provider = %id, reason = message, "oidc: logout token refused");
                return bad(message);
            }
        }
    };
    match state
        .store
        .end_provider_sessions(&id, claims.subject.as_deref(), claims.sid.as_deref())
        .await
    {
        Ok(accounts) => {
            for account in accounts {
                state.live.signed_out(account);
            }
            (StatusCode::OK, [(CACHE_CONTROL, "no-store")]).into_response()
        }
        Err(e) => {
            tracing::error!(provider = %id, error = %e, "oidc: back-channel logout failed");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                [(CACHE_CONTROL, "no-store")],
            )
                .into_response()
        }
    }
}

#[derive(Deserialize)]
struct Header {
    alg: String,
    #[serde(default)]
    kid: Option<String>,
    #[serde(default)]
    typ: Option<String>,
}

/// Checks a logout token as the spec's section 2.6 says: a JWS signed with one of the
/// provider's keys (not `none`, not a shared secret), `iss` the provider, `aud` naming
/// this client, `iat` recent, the back-channel logout event, `sid` or `sub`, no `nonce`.
pub fn validate(
    token: &str,
    issuer: &str,
    client_id: &str,
    keys: &[CoreJsonWebKey],
    now: i64,
) -> Result<LogoutClaims, &'static str> {
    if token.is_empty() || token.len() > MAX_TOKEN_BYTES {
        return Err("logout_token missing or too large");
    }
    let mut parts = token.split('.');
    let (Some(head), Some(body), Some(sig), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("logout_token is not a signed JWT");
    };
    let decode = |s: &str| {
        URL_SAFE_NO_PAD
            .decode(s)
            .map_err(|_| "logout_token is not base64url")
    };
    let header: Header =
        serde_json::from_slice(&decode(head)?).map_err(|_| "logout_token header unreadable")?;
    if header.alg == "none" || header.alg.starts_with("HS") {
        return Err("logout_token must be signed with the provider's key");
    }
    if let Some(typ) = &header.typ
        && !typ.eq_ignore_ascii_case("logout+jwt")
        && !typ.eq_ignore_ascii_case("jwt")
    {
        return Err("logout_token has a wrong typ");
    }
    let alg: CoreJwsSigningAlgorithm =
        serde_json::from_value(serde_json::Value::String(header.alg.clone()))
            .map_err(|_| "logout_token uses an unknown algorithm")?;
    let signature = decode(sig)?;
    let message = &token.as_bytes()[..head.len() + 1 + body.len()];
    let verified = keys
        .iter()
        .filter(|k| match (&header.kid, k.key_id()) {
            (Some(kid), Some(key_id)) => kid == key_id.as_str(),
            (Some(_), None) => false,
            (None, _) => true,
        })
        .any(|k| k.verify_signature(&alg, message, &signature).is_ok());
    if !verified {
        return Err(UNKNOWN_KEY);
    }
    let claims: serde_json::Value =
        serde_json::from_slice(&decode(body)?).map_err(|_| "logout_token claims unreadable")?;
    if claims.get("iss").and_then(|v| v.as_str()) != Some(issuer) {
        return Err("logout_token has a foreign issuer");
    }
    let audience_ok = match claims.get("aud") {
        Some(serde_json::Value::String(a)) => a == client_id,
        Some(serde_json::Value::Array(items)) => {
            items.iter().any(|a| a.as_str() == Some(client_id))
        }
        _ => false,
    };
    if !audience_ok {
        return Err("logout_token is not meant for this client");
    }
    let Some(iat) = claims.get("iat").and_then(|v| v.as_i64()) else {
        return Err("logout_token has no iat");
    };
    if iat > now + SKEW_SECS || iat < now - MAX_AGE_SECS {
        return Err("logout_token is too old or from the future");
    }
    if let Some(exp) = claims.get("exp").and_then(|v| v.as_i64())
        && exp + SKEW_SECS < now
    {
        return Err("logout_token expired");
    }
    if !claims
        .get("events")
        .and_then(|e| e.get(LOGOUT_EVENT))
        .is_some_and(|e| e.is_object())
    {
        return Err("logout_token lacks the back-channel logout event");
    }
    if claims.get("nonce").is_some() {
        return Err("logout_token must not carry a nonce");
    }
    let text = |name: &str| {
        claims
            .get(name)
            .and_then(|v| v.as_str())
            .filter(|s| !s.is_empty() && s.len() <= 255)
            .map(str::to_owned)
    };
    let out = LogoutClaims {
        subject: text("sub"),
        sid: text("sid"),
    };
    if out.subject.is_none() && out.sid.is_none() {
        return Err("logout_token names neither sub nor sid");
    }
    Ok(out)
}
