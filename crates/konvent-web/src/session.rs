//! Signing in (password or single-use link), accepting an invitation, signing out, and
//! choosing the language.

use std::net::SocketAddr;

use askama::Template;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::header::{LOCATION, RETRY_AFTER, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use jiff::SignedDuration;
use konvent_core::FieldErrors;
use konvent_store::{InvitationInfo, StoreError, TokenPurpose, password};
use serde::Deserialize;

use crate::AppState;
use crate::ctx::{CsrfForm, Ctx, LANG_COOKIE, SESSION_COOKIE, cookie, set_cookie};
use crate::error::{AppError, AppResult};
use crate::forms::{Field, FormPage, Kind, attach};
use crate::i18n::Lang;
use crate::layout::{Chrome, render};

/// Only paths on this site are followed after signing in (no open redirect).
fn local_path(next: Option<&str>) -> String {
    next.and_then(konvent_core::validation::local_path)
        .unwrap_or_else(|| "/".to_owned())
}

/// `path` with `next` as the place to go after it (omitted when that is the start page).
fn with_next(path: &str, next: &str) -> String {
    if next == "/" {
        return path.to_owned();
    }
    match serde_urlencoded::to_string([("weiter", next)]) {
        Ok(query) => format!("{path}?{query}"),
        Err(_) => path.to_owned(),
    }
}

/// Starts a session and redirects to `next`; a disabled account gets the sign-in page
/// saying so.
async fn start_session(
    state: &AppState,
    ctx: &Ctx,
    account_id: i64,
    next: &str,
) -> AppResult<Response> {
    let hours = u64::from(state.settings.session_hours);
    let token = match state
        .store
        .sign_in(account_id, SignedDuration::from_hours(hours as i64))
        .await
    {
        Ok(token) => token,
        Err(StoreError::AccountDisabled) => {
            let problems = vec![ctx.tr().get("account-disabled")];
            let page = sign_in_page_now(ctx, state, "", next, problems).await?;
            return Ok((StatusCode::FORBIDDEN, render(&page)?).into_response());
        }
        Err(e) => return Err(e.into()),
    };
    let mut response = Redirect::to(next).into_response();
    response.headers_mut().append(
        SET_COOKIE,
        set_cookie(
            SESSION_COOKIE,
            &token,
            Some(hours * 3600),
            state.settings.secure_cookies,
        ),
    );
    Ok(response)
}

#[derive(Deserialize, Default)]
pub struct SignInQuery {
    weiter: Option<String>,
}

#[derive(Deserialize)]
pub struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    weiter: String,
}

/// The sign-in page: the single sign-on providers first, the local sign-in second.
#[derive(Template)]
#[template(path = "sign_in.html")]
pub(crate) struct SignInPage {
    c: Chrome,
    form: FormPage,
    /// (href, label) of each provider's button.
    providers: Vec<(String, String)>,
    local_only_admins: bool,
    /// Signed in (with a password): the providers are offered for connecting.
    signed_in: bool,
}

pub(crate) fn sign_in_page(
    ctx: &Ctx,
    state: &AppState,
    email: &str,
    next: &str,
    problems: Vec<String>,
) -> SignInPage {
    let t = ctx.tr();
    let form = FormPage {
        c: Chrome::new(ctx, "", t.get("sign-in")),
        heading: t.get("sign-in"),
        intro: Some(t.get("sign-in-lead")),
        problems,
        action: "/anmelden".into(),
        multipart: false,
        hidden: vec![("weiter", next.to_owned())],
        fields: vec![
            Field::new(&t, "email", Kind::Email)
                .value(email)
                .required()
                // The account name is the e-mail address: "email" is the token HTML allows on
                // an input of type email ("username" belongs to text inputs).
                .autocomplete("email"),
            Field::new(&t, "password", Kind::Password { new: false })
                .required()
                .autocomplete("current-password"),
        ],
        submit: t.get("sign-in"),
        cancel: None,
    };
    let providers = state
        .sso
        .buttons()
        .into_iter()
        .map(|(id, label)| {
            (
                with_next(&format!("/anmelden/oidc/{id}"), next),
                if ctx.principal.is_some() {
                    t.with("oidc-link-with", &[("provider", &label)])
                } else {
                    t.with("oidc-sign-in-with", &[("provider", &label)])
                },
            )
        })
        .collect();
    SignInPage {
        c: Chrome::new(ctx, "", t.get("sign-in")),
        form,
        providers,
        local_only_admins: false,
        signed_in: ctx.principal.is_some(),
    }
}

/// The sign-in page, saying whether local passwords are for admins only.
async fn sign_in_page_now(
    ctx: &Ctx,
    state: &AppState,
    email: &str,
    next: &str,
    problems: Vec<String>,
) -> AppResult<SignInPage> {
    let mut page = sign_in_page(ctx, state, email, next, problems);
    page.local_only_admins = !state.store.local_passwords_allowed().await?;
    Ok(page)
}

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

#[derive(Deserialize)]
pub struct Empty {}

pub async fn sign_out(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<Response> {
    let mut provider_logout = None;
    if let Some(token) = cookie(&headers, SESSION_COOKIE) {
        // A session a provider started ends there too (RP-initiated logout).
        if let Some(session) = state.store.provider_session(token).await? {
            provider_logout = crate::oidc::end_session_url(&state, &session).await;
        }
        state.store.sign_out(token).await?;
    }
    // The account's live sockets were opened with this session's rights: they close.
    if let Some(principal) = &ctx.principal {
        state.live.signed_out(principal.user_id);
    }
    let mut response = Redirect::to(provider_logout.as_deref().unwrap_or("/")).into_response();
    response.headers_mut().append(
        SET_COOKIE,
        set_cookie(SESSION_COOKIE, "", None, state.settings.secure_cookies),
    );
    Ok(response)
}

#[derive(Deserialize)]
pub struct SwitchForm {
    #[serde(default)]
    local_passwords: String,
}

fn switch_page(ctx: &Ctx, allowed: bool) -> FormPage {
    let t = ctx.tr();
    let choice = |value: &str, key: &str, selected: bool| crate::forms::Choice {
        value: value.to_owned(),
        label: t.get(key),
        selected,
    };
    let field = Field::new(
        &t,
        "local_passwords",
        Kind::Select(vec![
            choice("on", "local-passwords-on", allowed),
            choice("off", "local-passwords-off", !allowed),
        ]),
    )
    .hint(t.get("local-passwords-hint"));
    let mut page = FormPage::new(
        Chrome::new(ctx, "admin", t.get("local-passwords-title")),
        "/admin/anmeldung",
        vec![field],
        t.get("save"),
    );
    page.heading = t.get("local-passwords-title");
    page
}

/// The admin switch: local passwords for everybody, or for admins only.
pub async fn admin_sign_in_form(State(state): State<AppState>, ctx: Ctx) -> AppResult<Response> {
    ctx.require(konvent_core::authz::Action::ManageAccounts)?;
    let allowed = state.store.local_passwords_allowed().await?;
    Ok(render(&switch_page(&ctx, allowed))?.into_response())
}

pub async fn admin_sign_in_switch(
    State(state): State<AppState>,
    ctx: Ctx,
    CsrfForm(form): CsrfForm<SwitchForm>,
) -> AppResult<Response> {
    ctx.require(konvent_core::authz::Action::ManageAccounts)?;
    let allowed = match form.local_passwords.as_str() {
        "on" => true,
        "off" => false,
        _ => {
            let mut errors = FieldErrors::new();
            errors.add(
                "local_passwords",
                "local-passwords-choose",
                "Bitte wählen Sie an oder aus.",
            );
            return Err(AppError::Invalid(errors));
        }
    };
    state
        .store
        .set_local_passwords(&ctx.actor()?, allowed)
        .await?;
    Ok(Redirect::to("/admin/anmeldung").into_response())
}

#[derive(Template)]
#[template(path = "link.html")]
struct LinkPage {
    c: Chrome,
    info: Option<InvitationInfo>,
    action: String,
}

/// The page behind a sign-in link: one button, so that mail scanners that open links
/// do not use them up.
pub async fn link_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
    Query(q): Query<SignInQuery>,
) -> AppResult<Response> {
    let info = state
        .store
        .login_token_info(TokenPurpose::SignIn, &token)
        .await?;
    let status = if info.is_some() {
        StatusCode::OK
    } else {
        StatusCode::GONE
    };
    let page = LinkPage {
        c: Chrome::new(&ctx, "", ctx.tr().get("sign-in")),
        info,
        action: with_next(
            &format!("/anmelden/link/{token}"),
            &local_path(q.weiter.as_deref()),
        ),
    };
    Ok((status, render(&page)?).into_response())
}

pub async fn link_sign_in(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
    Query(q): Query<SignInQuery>,
    CsrfForm(_): CsrfForm<Empty>,
) -> AppResult<Response> {
    match state.store.redeem_sign_in_link(&token).await {
        Ok(id) => start_session(&state, &ctx, id, &local_path(q.weiter.as_deref())).await,
        Err(StoreError::InvalidToken) => {
            let page = LinkPage {
                c: Chrome::new(&ctx, "", ctx.tr().get("sign-in")),
                info: None,
                action: String::new(),
            };
            Ok((StatusCode::GONE, render(&page)?).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
pub struct InvitationForm {
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password_repeat: String,
}

fn invitation_page(
    ctx: &Ctx,
    token: &str,
    next: &str,
    info: &InvitationInfo,
    name: &str,
    errors: &FieldErrors,
) -> FormPage {
    let t = ctx.tr();
    let mut fields = vec![
        Field::text(&t, "display_name", name)
            .required()
            .autocomplete("name"),
        Field::new(&t, "password", Kind::Password { new: true })
            .required()
            .autocomplete("new-password")
            .hint(t.get("password-hint")),
        Field::new(&t, "password_repeat", Kind::Password { new: true })
            .required()
            .autocomplete("new-password"),
    ];
    let problems = attach(&t, &mut fields, errors);
    FormPage {
        c: Chrome::new(ctx, "", t.get("invitation-title")),
        heading: t.get("invitation-title"),
        intro: Some(t.with("invitation-lead", &[("email", &info.email)])),
        problems,
        action: with_next(&format!("/einladung/{token}"), next),
        multipart: false,
        hidden: vec![],
        fields,
        submit: t.get("invitation-submit"),
        cancel: None,
    }
}

async fn valid_invitation(state: &AppState, token: &str) -> AppResult<InvitationInfo> {
    state
        .store
        .login_token_info(TokenPurpose::Invitation, token)
        .await?
        .ok_or_else(|| AppError::BadRequest(invalid_link_message()))
}

fn invalid_link_message() -> String {
    "Dieser Link ist unbekannt, wurde schon benutzt oder ist abgelaufen. Bitte fordern Sie \
     einen neuen an."
        .to_owned()
}

pub async fn invitation_form(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
    Query(q): Query<SignInQuery>,
) -> AppResult<Html<String>> {
    let info = valid_invitation(&state, &token).await?;
    let name = info.account_name.clone().unwrap_or_default();
    render(&invitation_page(
        &ctx,
        &token,
        &local_path(q.weiter.as_deref()),
        &info,
        &name,
        &FieldErrors::new(),
    ))
}

pub async fn accept_invitation(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(token): Path<String>,
    Query(q): Query<SignInQuery>,
    CsrfForm(form): CsrfForm<InvitationForm>,
) -> AppResult<Response> {
    let next = local_path(q.weiter.as_deref());
    let info = valid_invitation(&state, &token).await?;
    let mut errors = FieldErrors::new();
    let name = konvent_core::validation::required_name(
        &mut errors,
        "display_name",
        &form.display_name,
        200,
    );
    if let Err(m) = password::check_rules(&form.password) {
        errors.add("password", "password-rules", m);
    } else if form.password != form.password_repeat {
        errors.add(
            "password_repeat",
            "password-mismatch",
            "Die Passwörter stimmen nicht überein.",
        );
    }
    if !errors.is_empty() {
        let page = invitation_page(&ctx, &token, &next, &info, &form.display_name, &errors);
        return Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&page)?).into_response());
    }
    let pw = form.password;
    let hash = tokio::task::spawn_blocking(move || password::hash(&pw))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let id = match state.store.redeem_invitation(&token, &name, &hash).await {
        Ok(id) => id,
        Err(StoreError::InvalidToken) => return Err(AppError::BadRequest(invalid_link_message())),
        Err(e) => return Err(e.into()),
    };
    start_session(&state, &ctx, id, &next).await
}

#[derive(Deserialize, Default)]
pub struct LangQuery {
    zurueck: Option<String>,
}

/// Sets the language cookie and goes back to the page the switch was on.
pub async fn switch_language(
    State(state): State<AppState>,
    Path(lang): Path<String>,
    Query(q): Query<LangQuery>,
) -> AppResult<Response> {
    let lang = Lang::parse(&lang).ok_or(AppError::NotFound)?;
    let back = local_path(q.zurueck.as_deref());
    Ok((
        StatusCode::SEE_OTHER,
        [
            (
                LOCATION,
                HeaderValue::from_str(&back).unwrap_or(HeaderValue::from_static("/")),
            ),
            (
                SET_COOKIE,
                set_cookie(
                    LANG_COOKIE,
                    lang.code(),
                    Some(60 * 60 * 24 * 365),
                    state.settings.secure_cookies,
                ),
            ),
        ],
    )
        .into_response())
}
