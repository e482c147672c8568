//! Signing in with address and password, with its backoff per address and client.

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, Query, State};
use axum::http::header::{RETRY_AFTER, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use jiff::SignedDuration;
use konvent_store::password;
use serde::Deserialize;

use super::{SignInQuery, local_path, sign_in_page_now, start_session};
use crate::AppState;
use crate::ctx::{CsrfForm, Ctx, cookie, set_cookie};
use crate::error::{AppError, AppResult};
use crate::layout::render;

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    weiter: String,
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn sign_in_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(q): Query<SignInQuery>,
) -> AppResult<Html<String>> {
    render(&sign_in_page_now(&ctx, &state, "", &local_path(q.weiter.as_deref()), vec![]).await?)
}

/// The cookie that marks a browser in which an address has signed in before.
const DEVICE_COOKIE: &str = "konvent_device";

/// How long one client must wait before trying an address again after `failures`
/// failed tries within the window: not at all for the first `limit`, then 1 s, 2 s,
/// 4 s, … up to the window itself.
fn backoff(failures: i64, limit: i64) -> Option<SignedDuration> {
    if failures < limit {
        return None;
    }
    let doublings = u32::try_from(failures - limit).unwrap_or(u32::MAX).min(20);
    Some(SignedDuration::from_secs(1i64 << doublings).min(konvent_store::SIGN_IN_WINDOW))
}

/// Signs in with address and password. Failures are counted per address *and* client
/// (the browser's device cookie from an earlier sign-in of this address, else the IP
/// address): one client that keeps failing waits longer and longer, while the owner on
/// their own device still gets in. Two ceilings stop guessing at scale, and do not apply
/// to a device the address has signed in from before: twenty times `sign_in_attempts`
/// failures for one address from all clients, and four times as many from one client
/// for all addresses.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn sign_in(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<SignInForm>,
) -> AppResult<Response> {
    let t = ctx.tr();
    let next = local_path(Some(&form.weiter));
    let email = form.email.trim().to_lowercase();
    let device = cookie(&headers, DEVICE_COOKIE).filter(|d| !d.is_empty() && d.len() <= 128);
    let known = match device {
        Some(d) if !email.is_empty() => state.store.is_known_device(&email, d).await?,
        _ => false,
    };
    let client = match device {
        Some(d) if known => {
            use sha2::Digest;
            format!(
                "device:{}",
                &hex::encode(sha2::Sha256::digest(d.as_bytes()))[..16]
            )
        }
        _ => format!("ip:{}", peer.ip()),
    };
    let pair_key = format!("pair:{email}|{client}");
    let email_key = format!("email:{email}");
    let peer_key = format!("peer:{}", peer.ip());
    let limit = i64::from(state.settings.sign_in_attempts).max(1);
    let (failures, last) = state.store.sign_in_failures(&pair_key).await?;
    let mut wait = backoff(failures, limit)
        .zip(last)
        .map(|(delay, last)| (last + delay).duration_since(jiff::Timestamp::now()))
        .filter(|left| left.is_positive());
    if wait.is_none()
        && !known
        && (state.store.recent_sign_in_failures(&email_key).await? >= limit * 20
            || state.store.recent_sign_in_failures(&peer_key).await? >= limit * 4)
    {
        wait = Some(SignedDuration::from_secs(60));
    }
    if let Some(wait) = wait {
        let page =
            sign_in_page_now(&ctx, &state, &email, &next, vec![t.get("sign-in-too-many")]).await?;
        let seconds = (wait.as_millis() + 999) / 1000;
        let mut response = (StatusCode::TOO_MANY_REQUESTS, render(&page)?).into_response();
        if let Ok(value) = HeaderValue::from_str(&seconds.max(1).to_string()) {
            response.headers_mut().insert(RETRY_AFTER, value);
        }
        return Ok(response);
    }
    let stored = state.store.password_hash(&email).await?;
    // With local passwords off, only admins sign in with one; the others are sent to
    // their provider before any password is checked.
    if !state.store.local_passwords_allowed().await? {
        let admin = match &stored {
            Some((id, _)) => state
                .store
                .principal(*id)
                .await?
                .is_some_and(|p| p.is_admin()),
            None => false,
        };
        if !admin {
            let page = sign_in_page_now(
                &ctx,
                &state,
                &email,
                &next,
                vec![t.get("sign-in-local-off")],
            )
            .await?;
            return Ok((StatusCode::FORBIDDEN, render(&page)?).into_response());
        }
    }
    let password = form.password;
    // Verify even for unknown addresses so that timing does not reveal accounts.
    let (account, hash) = match stored {
        Some((id, hash)) => (Some(id), hash),
        None => (None, password::dummy_hash().to_owned()),
    };
    let ok = tokio::task::spawn_blocking(move || password::verify(&password, &hash))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    match account.filter(|_| ok) {
        Some(id) => {
            let mut response = start_session(&state, &ctx, id, &next).await?;
            if response.status() == StatusCode::FORBIDDEN {
                return Ok(response); // disabled: this device is not remembered
            }
            match device {
                Some(d) => state.store.remember_device(&email, d).await?,
                None => {
                    let token = konvent_store::new_token();
                    state.store.remember_device(&email, &token).await?;
                    response.headers_mut().append(
                        SET_COOKIE,
                        set_cookie(
                            DEVICE_COOKIE,
                            &token,
                            Some(60 * 60 * 24 * 365),
                            state.settings.secure_cookies,
                        ),
                    );
                }
            }
            Ok(response)
        }
        None => {
            state
                .store
                .record_sign_in_failure(&[&pair_key, &email_key, &peer_key])
                .await?;
            let page = sign_in_page_now(&ctx, &state, &email, &next, vec![t.get("sign-in-failed")])
                .await?;
            Ok((StatusCode::UNAUTHORIZED, render(&page)?).into_response())
        }
    }
}
