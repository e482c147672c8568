//! Single sign-on with OpenID Connect (issue 19, A3): the authorization code flow with
//! PKCE (S256) against the configured providers, accounts by the provider's subject,
//! roles from their claims, RP-initiated and back-channel logout.
//!
//! A sign-in in progress is kept server-side (state, nonce, PKCE verifier) under the
//! hash of a random, short-lived cookie and is taken once when the browser comes back.
//! No token goes into a URL or a log line.

pub mod config;
pub mod logout;

use konvent_core::ids::AccountId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use jiff::SignedDuration;
use konvent_store::{OidcFlow, OidcPerson, OidcRefusal, OidcSession};
use openidconnect::core::{
    CoreAuthDisplay, CoreAuthPrompt, CoreErrorResponseType, CoreGenderClaim, CoreJsonWebKey,
    CoreJweContentEncryptionAlgorithm, CoreJwsSigningAlgorithm, CoreResponseType,
    CoreRevocableToken, CoreRevocationErrorResponse, CoreTokenIntrospectionResponse, CoreTokenType,
};
use openidconnect::{
    AdditionalClaims, AuthenticationFlow, AuthorizationCode, ClaimsVerificationError, Client,
    ClientId, ClientSecret, CsrfToken, EmptyExtraTokenFields, EndpointMaybeSet, EndpointNotSet,
    EndpointSet, IdToken, IdTokenFields, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier,
    ProviderMetadataWithLogout, RedirectUrl, RequestTokenError, StandardErrorResponse,
    StandardTokenResponse,
};
use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;

pub use config::ProviderSettings;

use crate::AppState;
use crate::ctx::{Ctx, SESSION_COOKIE, cookie, set_cookie};
use crate::error::{AppError, AppResult};

/// The cookie that ties a sign-in in progress to this browser.
const FLOW_COOKIE: &str = "konvent_oidc";
/// How long a person may take at the provider.
const FLOW_MINUTES: i64 = 10;
/// Sign-ins in progress at once, from everybody: beyond, starting one waits.
const MAX_OPEN_FLOWS: i64 = 10_000;
/// How long a provider's discovery document and keys are used before they are read
/// again.
const DISCOVERY_TTL: Duration = Duration::from_secs(300);
/// A token signed with a key konvent does not know makes it read the provider's keys
/// again (they may have rotated), but not more often than this: forged tokens at the
/// public logout endpoint must not turn konvent into a load on the provider.
const MIN_REFRESH: Duration = Duration::from_secs(30);

/// Every claim of the ID token that openidconnect does not read itself (`groups`,
/// `realm_access`, `sid`, …).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OtherClaims {
    #[serde(flatten)]
    pub rest: serde_json::Map<String, serde_json::Value>,
}
impl AdditionalClaims for OtherClaims {}

type TokenFields = IdTokenFields<
    OtherClaims,
    EmptyExtraTokenFields,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type Tokens = StandardTokenResponse<TokenFields, CoreTokenType>;
type OidcIdToken = IdToken<
    OtherClaims,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJwsSigningAlgorithm,
>;
type OidcClient = Client<
    OtherClaims,
    CoreAuthDisplay,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    CoreJsonWebKey,
    CoreAuthPrompt,
    StandardErrorResponse<CoreErrorResponseType>,
    Tokens,
    CoreTokenIntrospectionResponse,
    CoreRevocableToken,
    CoreRevocationErrorResponse,
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// The configured providers, the HTTP client that talks to them and what their
/// discovery said.
pub struct Sso {
    providers: Vec<ProviderSettings>,
    /// The Content-Security-Policy of every page: forms may lead to these providers.
    pub csp: axum::http::HeaderValue,
    http: openidconnect::reqwest::Client,
    /// Provider id → its discovery document (with the keys) and when it was read.
    discovered: Mutex<HashMap<String, (Instant, ProviderMetadataWithLogout)>>,
}

/// Whether a cached discovery will do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Keys {
    /// The cached document while it is younger than [`DISCOVERY_TTL`].
    Cached,
    /// A signature did not verify with the cached keys: read them again unless they
    /// were read less than [`MIN_REFRESH`] ago.
    Unknown,
}

impl Sso {
    pub fn new(providers: &[ProviderSettings]) -> Self {
        // No redirects (the crate's SSRF advice) and a bounded wait for a slow provider.
        let http = openidconnect::reqwest::Client::builder()
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_default();
        // Origins come from checked issuer URLs (scheme, host, port: no spaces or quotes).
        let origins: Vec<String> = providers
            .iter()
            .filter_map(|p| url::Url::parse(&p.issuer).ok())
            .map(|u| u.origin().ascii_serialization())
            .filter(|o| o != "null")
            .collect();
        Self {
            csp: crate::layout::csp(&origins),
            providers: providers.to_vec(),
            http,
            discovered: Mutex::new(HashMap::new()),
        }
    }

    /// The providers as the sign-in page offers them: (id, label).
    pub fn buttons(&self) -> Vec<(String, String)> {
        self.providers
            .iter()
            .map(|p| (p.id.clone(), p.label.clone()))
            .collect()
    }

    /// The label of a provider, or its id when it is no longer configured.
    pub fn label_of(&self, id: &str) -> String {
        self.providers
            .iter()
            .find(|p| p.id == id)
            .map_or_else(|| id.to_owned(), |p| p.label.clone())
    }

    fn provider(&self, id: &str) -> AppResult<&ProviderSettings> {
        self.providers
            .iter()
            .find(|p| p.id == id)
            .ok_or(AppError::NotFound)
    }

    /// Discovery from the issuer, kept for [`DISCOVERY_TTL`]; the crate checks that the
    /// metadata names this issuer and reads its key set.
    async fn metadata(
        &self,
        provider: &ProviderSettings,
        keys: Keys,
    ) -> Result<ProviderMetadataWithLogout, String> {
        let fresh_for = match keys {
            Keys::Cached => DISCOVERY_TTL,
            Keys::Unknown => MIN_REFRESH,
        };
        if let Some((at, metadata)) = self.cache().get(&provider.id)
            && at.elapsed() < fresh_for
        {
            return Ok(metadata.clone());
        }
        let issuer = IssuerUrl::new(provider.issuer.clone()).map_err(|e| e.to_string())?;
        let metadata = ProviderMetadataWithLogout::discover_async(issuer, &self.http)
            .await
            .map_err(|e| error_chain(&e))?;
        self.cache()
            .insert(provider.id.clone(), (Instant::now(), metadata.clone()));
        Ok(metadata)
    }

    fn cache(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<String, (Instant, ProviderMetadataWithLogout)>> {
        // The map holds plain data; a panic elsewhere cannot leave it half-written.
        self.discovered
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn client(
        &self,
        provider: &ProviderSettings,
        base: &str,
        keys: Keys,
    ) -> Result<(OidcClient, ProviderMetadataWithLogout), String> {
        let metadata = self.metadata(provider, keys).await?;
        let secret = (!provider.client_secret.is_empty())
            .then(|| ClientSecret::new(provider.client_secret.clone()));
        let redirect =
            RedirectUrl::new(redirect_uri(base, &provider.id)).map_err(|e| e.to_string())?;
        let client = OidcClient::from_provider_metadata(
            metadata.clone(),
            ClientId::new(provider.client_id.clone()),
            secret,
        )
        .set_redirect_uri(redirect);
        Ok((client, metadata))
    }
}

/// An error with its causes, for the log ("request failed: connection refused").
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Where the provider sends the browser back.
pub fn redirect_uri(base: &str, provider: &str) -> String {
    format!("{base}/anmelden/oidc/{provider}/zurueck")
}

/// Sends a page back to the sign-in page with the message `key` (German or English).
fn refused(ctx: &Ctx, state: &AppState, status: StatusCode, key: &str) -> AppResult<Response> {
    let message = ctx.tr().get(key);
    let page = crate::session::sign_in_page(ctx, state, "", "/", vec![message]);
    let mut response = (status, crate::layout::render(&page)?).into_response();
    response.headers_mut().append(
        SET_COOKIE,
        set_cookie(FLOW_COOKIE, "", None, state.settings.secure_cookies),
    );
    Ok(response)
}

#[derive(Deserialize, Default)]
pub struct StartQuery {
    weiter: Option<String>,
}

/// Starts signing in at a provider: remembers state, nonce and PKCE verifier, and sends
/// the browser to the provider's authorization endpoint.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), id = %id))]
pub async fn start(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<StartQuery>,
) -> AppResult<Response> {
    begin(state, ctx, id, q, None).await
}

#[derive(Deserialize)]
pub struct LinkForm {}

/// A person signed in with their konvent password connects their provider account: the
/// provider's subject is linked to this account when they come back. A form with the
/// CSRF token, so that no other site can start it.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), id = %id))]
pub async fn start_link(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(id): Path<String>,
    Query(q): Query<StartQuery>,
    crate::ctx::CsrfForm(_): crate::ctx::CsrfForm<LinkForm>,
) -> AppResult<Response> {
    let account = ctx.signed_in()?.user_id;
    begin(state, ctx, id, q, Some(account)).await
}

async fn begin(
    state: AppState,
    ctx: Ctx,
    id: String,
    q: StartQuery,
    link: Option<AccountId>,
) -> AppResult<Response> {
    let provider = state.sso.provider(&id)?;
    if state.store.open_oidc_flows().await? >= MAX_OPEN_FLOWS {
        return Err(AppError::TooManyRequests);
    }
    let base = state.settings.public_base();
    let client = match state.sso.client(provider, &base, Keys::Cached).await {
        Ok((client, _)) => client,
        Err(e) => {
            tracing::warn!(provider = %id, error = %e, "oidc: provider unreachable");
            return refused(&ctx, &state, StatusCode::BAD_GATEWAY, "oidc-unreachable");
        }
    };
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut request = client
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .set_pkce_challenge(challenge);
    for scope in provider.scopes().into_iter().skip(1) {
        request = request.add_scope(openidconnect::Scope::new(scope));
    }
    let (url, csrf, nonce) = request.url();
    let next = ctx_next(q.weiter.as_deref());
    let key = konvent_store::oidc_random();
    state
        .store
        .begin_oidc_flow(
            &key,
            &OidcFlow {
                provider: id,
                state: csrf.secret().clone(),
                nonce: nonce.secret().clone(),
                pkce_verifier: verifier.secret().clone(),
                next_path: next,
                link_account: link,
            },
            SignedDuration::from_mins(FLOW_MINUTES),
        )
        .await?;
    let mut response = Redirect::to(url.as_str()).into_response();
    response.headers_mut().append(
        SET_COOKIE,
        set_cookie(
            FLOW_COOKIE,
            &key,
            Some(FLOW_MINUTES as u64 * 60),
            state.settings.secure_cookies,
        ),
    );
    Ok(response)
}

fn ctx_next(next: Option<&str>) -> String {
    next.and_then(konvent_core::validation::local_path)
        .unwrap_or_else(|| "/".to_owned())
}

#[derive(Deserialize, Default)]
pub struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// The provider sends the browser back: the flow is taken (once), the state compared,
/// the code exchanged with the PKCE verifier, the ID token checked (signature, issuer,
/// audience, expiry, nonce), then the account found or created and a session started.
#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), id = %id))]
pub async fn callback(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(q): Query<CallbackQuery>,
) -> AppResult<Response> {
    let provider = state.sso.provider(&id)?;
    let key = cookie(&headers, FLOW_COOKIE).filter(|k| !k.is_empty() && k.len() <= 128);
    let flow = match key {
        Some(key) => state.store.take_oidc_flow(key).await?,
        None => None,
    };
    let Some(flow) = flow.filter(|f| f.provider == id) else {
        return refused(&ctx, &state, StatusCode::BAD_REQUEST, "oidc-state");
    };
    if let Some(error) = &q.error {
        let key = if error == "access_denied" || error == "login_required" {
            "oidc-cancelled"
        } else {
            "oidc-provider-error"
        };
        tracing::info!(provider = %id, error = %error, "oidc: the provider sent an error");
        return refused(&ctx, &state, StatusCode::BAD_REQUEST, key);
    }
    let state_ok = q
        .state
        .as_deref()
        .is_some_and(|s| bool::from(s.as_bytes().ct_eq(flow.state.as_bytes())));
    let (Some(code), true) = (q.code.clone(), state_ok) else {
        return refused(&ctx, &state, StatusCode::BAD_REQUEST, "oidc-state");
    };
    let base = state.settings.public_base();
    let client = match state.sso.client(provider, &base, Keys::Cached).await {
        Ok((client, _)) => client,
        Err(e) => {
            tracing::warn!(provider = %id, error = %e, "oidc: provider unreachable");
            return refused(&ctx, &state, StatusCode::BAD_GATEWAY, "oidc-unreachable");
        }
    };
    let exchange = client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|e| AppError::Internal(e.to_string()))?
        .set_pkce_verifier(PkceCodeVerifier::new(flow.pkce_verifier.clone()))
        .request_async(&state.sso.http)
        .await;
    let tokens = match exchange {
        Ok(tokens) => tokens,
        Err(RequestTokenError::ServerResponse(e)) => {
            tracing::info!(provider = %id, error = %e.error(), "oidc: the code was refused");
            return refused(&ctx, &state, StatusCode::BAD_REQUEST, "oidc-code-refused");
        }
        Err(RequestTokenError::Request(e)) => {
            tracing::warn!(provider = %id, error = %e, "oidc: token endpoint unreachable");
            return refused(&ctx, &state, StatusCode::BAD_GATEWAY, "oidc-unreachable");
        }
        Err(e) => {
            tracing::warn!(provider = %id, error = %e, "oidc: token response unusable");
            return refused(&ctx, &state, StatusCode::BAD_GATEWAY, "oidc-token-invalid");
        }
    };
    let Some(id_token) = tokens.extra_fields().id_token() else {
        return refused(&ctx, &state, StatusCode::BAD_GATEWAY, "oidc-token-invalid");
    };
    let nonce = Nonce::new(flow.nonce.clone());
    let mut checked = id_token
        .claims(&client.id_token_verifier(), &nonce)
        .cloned();
    if let Err(ClaimsVerificationError::SignatureVerification(_)) = &checked
        && let Ok((again, _)) = state.sso.client(provider, &base, Keys::Unknown).await
    {
        // The provider may have rotated its keys since they were read.
        checked = id_token.claims(&again.id_token_verifier(), &nonce).cloned();
    }
    let claims = match &checked {
        Ok(claims) => claims,
        Err(e) => {
            // The error names the check that failed, never the token.
            tracing::warn!(provider = %id, error = %e, "oidc: ID token refused");
            return refused(&ctx, &state, StatusCode::BAD_REQUEST, "oidc-token-invalid");
        }
    };
    let other = &claims.additional_claims().rest;
    let email = claims
        .email()
        .filter(|_| claims.email_verified() == Some(true))
        .map(|e| e.as_str().to_owned());
    let name = claims
        .name()
        .and_then(|n| n.get(None))
        .map(|n| n.as_str().to_owned())
        .or_else(|| claims.preferred_username().map(|u| u.as_str().to_owned()))
        .or_else(|| email.clone())
        .unwrap_or_else(|| provider.label.clone());
    let grants = if provider.role_claim.is_empty() {
        vec![]
    } else {
        provider.grants_for(&config::claim_values(other, &provider.role_claim))
    };
    let subject = claims.subject().as_str().to_owned();
    // A provider that may only bring people with a role: without one from the claims
    // (and without one given in konvent to a linked account) nobody is signed in.
    if provider.require_role
        && grants.is_empty()
        && flow.link_account.is_none()
        && !state.store.oidc_has_konvent_grants(&id, &subject).await?
    {
        tracing::info!(provider = %id, "oidc: no role for this konvent");
        return refused(&ctx, &state, StatusCode::FORBIDDEN, "oidc-no-role");
    }
    let person = OidcPerson {
        provider: id.clone(),
        subject: subject.clone(),
        email,
        name: name.chars().take(200).collect(),
        grants,
    };
    let account = match state.store.oidc_sign_in(&person, flow.link_account).await? {
        Ok(account) => account,
        Err(OidcRefusal::EmailTaken) => {
            return refused(&ctx, &state, StatusCode::CONFLICT, "oidc-email-taken");
        }
    };
    // Its grants may have changed: open sockets reconnect with the new rights.
    state.live.account_changed(account);
    let sid = other.get("sid").and_then(|s| s.as_str()).map(str::to_owned);
    let hours = u64::from(state.settings.session_hours);
    let started = state
        .store
        .sign_in_through_provider(
            account,
            SignedDuration::from_hours(hours as i64),
            &OidcSession {
                provider: id,
                subject,
                sid,
                id_token: id_token.to_string(),
            },
        )
        .await;
    let token = match started {
        Ok(token) => token,
        Err(konvent_store::StoreError::AccountDisabled) => {
            return refused(&ctx, &state, StatusCode::FORBIDDEN, "account-disabled");
        }
        Err(e) => return Err(e.into()),
    };
    let mut response = Redirect::to(&flow.next_path).into_response();
    let secure = state.settings.secure_cookies;
    let headers = response.headers_mut();
    headers.append(
        SET_COOKIE,
        set_cookie(SESSION_COOKIE, &token, Some(hours * 3600), secure),
    );
    headers.append(SET_COOKIE, set_cookie(FLOW_COOKIE, "", None, secure));
    Ok(response)
}

/// Where konvent's sign-out sends the browser for a session a provider started: the
/// provider's end-session endpoint with `id_token_hint` and `post_logout_redirect_uri`;
/// `None` when the provider has none or cannot be reached (konvent's session ends anyway).
pub async fn end_session_url(state: &AppState, session: &OidcSession) -> Option<String> {
    let provider = state.sso.provider(&session.provider).ok()?;
    let metadata = match state.sso.metadata(provider, Keys::Cached).await {
        Ok(m) => m,
        Err(e) => {
            tracing::warn!(provider = %provider.id, error = %e, "oidc: no logout at the provider");
            return None;
        }
    };
    let endpoint = metadata
        .additional_metadata()
        .end_session_endpoint
        .clone()?;
    let hint: OidcIdToken = session.id_token.parse().ok()?;
    let back =
        openidconnect::PostLogoutRedirectUrl::new(format!("{}/", state.settings.public_base()))
            .ok()?;
    let url = openidconnect::LogoutRequest::from(endpoint)
        .set_id_token_hint(&hint)
        .set_client_id(ClientId::new(provider.client_id.clone()))
        .set_post_logout_redirect_uri(back)
        .http_get_url();
    Some(url.to_string())
}

/// Shared by `AppState`.
pub type SharedSso = Arc<Sso>;
