//! Operations: the health check at `/healthz` (for load balancers), and Prometheus
//! metrics at `/metrics`: requests by route and status, and their duration.
//! They name routes and count connections, so they are served only to a scraper with the
//! configured bearer token (`metrics_token`) or, if allowed (`metrics_loopback`), to a
//! client on this machine that did not come through a reverse proxy.

use konvent_live::LiveMetrics;
use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::AppState;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: String,
}

pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    durations: Family<RouteLabels, Histogram>,
    pub live: LiveMetrics,
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("konvent");
        let requests = Family::<RequestLabels, Counter>::default();
        let durations = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0005, 2.0, 16))
        });
        registry.register("http_requests", "HTTP requests answered", requests.clone());
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request",
            durations.clone(),
        );
        let live = LiveMetrics::default();
        live.register(&mut registry);
        Self {
            registry,
            requests,
            durations,
            live,
        }
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Counts and times every request by its route pattern (not its concrete path, so the
/// number of series stays bounded).
pub async fn track(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = req.method().to_string();
    let start = Instant::now();
    let response = next.run(req).await;
    let m = &state.metrics;
    m.requests
        .get_or_create(&RequestLabels {
            method,
            route: route.clone(),
            status: response.status().as_u16(),
        })
        .inc();
    m.durations
        .get_or_create(&RouteLabels { route })
        .observe(start.elapsed().as_secs_f64());
    response
}

/// Whether this request may read the metrics.
/// Why a request may not read the metrics: status, code and message.
type Refused = (StatusCode, &'static str, &'static str);

fn allowed(state: &AppState, peer: SocketAddr, headers: &HeaderMap) -> Result<(), Refused> {
    use subtle::ConstantTimeEq;
    let settings = &state.settings;
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    if let Some(given) = bearer
        && !settings.metrics_token.is_empty()
    {
        if bool::from(given.as_bytes().ct_eq(settings.metrics_token.as_bytes())) {
            return Ok(());
        }
        return Err((
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "Das Token für /metrics ist falsch.",
        ));
    }
    // A reverse proxy on this machine connects from loopback for every client out there;
    // a request that carries a proxy's forwarding header did not start here.
    let proxied = ["forwarded", "x-forwarded-for", "x-real-ip"]
        .iter()
        .any(|h| headers.contains_key(*h));
    if settings.metrics_loopback && peer.ip().is_loopback() && !proxied {
        return Ok(());
    }
    if settings.metrics_token.is_empty() {
        Err((
            StatusCode::FORBIDDEN,
            "forbidden",
            "/metrics ist nur von diesem Rechner aus erreichbar.",
        ))
    } else {
        Err((
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "/metrics verlangt ein Token (Authorization: Bearer …).",
        ))
    }
}

fn refusal((status, code, message): Refused) -> Response {
    let body = serde_json::json!({ "error": { "code": code, "message": message } });
    let mut response = (status, axum::Json(body)).into_response();
    if status == StatusCode::UNAUTHORIZED {
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            header::HeaderValue::from_static("Bearer realm=\"metrics\""),
        );
    }
    response
}

#[tracing::instrument(level = "debug", skip_all)]
pub async fn render(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = allowed(&state, peer, &headers) {
        return refusal(refused);
    }
    let mut body = String::new();
    if encode(&mut body, &state.metrics.registry).is_err() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        body,
    )
        .into_response()
}

/// `/healthz`: 200 while the database answers, else 503 (a load balancer then sends
/// nobody here).
#[tracing::instrument(level = "debug", skip_all)]
pub async fn health(State(state): State<AppState>) -> (StatusCode, &'static str) {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ok\n"),
        Err(e) => {
            tracing::error!(error = %e, "health check: database unreachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable\n")
        }
    }
}
