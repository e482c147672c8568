//! The live socket's opening handshake (RFC 6455, 4.2): the request checked, the `101`
//! answered, and then the connection's own TCP stream handed to [`WireSocket`]. The
//! hub's frames go from there straight to the stream: no HTTP layer is left between
//! them, and the frames' text, checked as UTF-8 once where it was made, is not checked
//! again for each connection. The HTTP edge's watchdog stops counting the stream's
//! bytes: a socket that falls behind is the hub's to close (its queue's bounds).

use std::future::Future;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use super::wire::WireSocket;

use crate::server::Tracked;

/// The live socket as the connection reads and writes it.
pub(super) type LiveSocket = WireSocket<Tracked>;

/// A request to open a WebSocket, checked, with the connection to take over once the
/// `101` is out.
pub struct Upgrade {
    accept: HeaderValue,
    on_upgrade: OnUpgrade,
}

/// Why a request cannot open a WebSocket, with the status it is answered with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotWebSocket {
    /// Not a `GET` (405).
    Method,
    /// No `Connection: upgrade` and `Upgrade: websocket`, or a connection that cannot be
    /// upgraded (426).
    NoUpgrade,
    /// Another protocol version than 13, or no key (400).
    Handshake,
}

impl NotWebSocket {
    pub fn status(self) -> StatusCode {
        match self {
            Self::Method => StatusCode::METHOD_NOT_ALLOWED,
            Self::NoUpgrade => StatusCode::UPGRADE_REQUIRED,
            Self::Handshake => StatusCode::BAD_REQUEST,
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Upgrade {
    type Rejection = NotWebSocket;

    /// Checks the request's handshake headers and takes its connection's upgrade.
    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, NotWebSocket> {
        let accept = accept(&parts.method, &parts.headers)?;
        // hyper offers the upgrade on an HTTP/1.1 connection that can be upgraded.
        let on_upgrade = parts
            .extensions
            .remove::<OnUpgrade>()
            .ok_or(NotWebSocket::NoUpgrade)?;
        Ok(Self { accept, on_upgrade })
    }
}

impl IntoResponse for NotWebSocket {
    fn into_response(self) -> Response {
        self.status().into_response()
    }
}

impl Upgrade {
    /// Answers `101` and, once it is out, runs `serve` on the WebSocket: on the
    /// connection's own stream, with the bytes the client sent after its request.
    pub(crate) fn on_upgrade<F, Fut>(self, config: WebSocketConfig, serve: F) -> Response
    where
        F: FnOnce(LiveSocket) -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let Self { accept, on_upgrade } = self;
        tokio::spawn(async move {
            let upgraded = match on_upgrade.await {
                Ok(upgraded) => upgraded,
                Err(e) => {
                    tracing::debug!(error = %e, "live: the upgrade did not complete");
                    return;
                }
            };
            // Every connection comes through konvent's own accept loop
            // (`crate::server`), whose stream is this type.
            let Ok(hyper::upgrade::Parts { io, read_buf, .. }) =
                upgraded.downcast::<TokioIo<Tracked>>()
            else {
                tracing::error!("live: an upgraded connection not served by konvent's accept loop");
                return;
            };
            // Copied out: the bytes share hyper's read buffer, which would otherwise
            // stay allocated for as long as the socket lives.
            let read = read_buf.to_vec();
            drop(read_buf);
            let socket = WireSocket::new(io.into_inner().unwatched(), read, config);
            serve(socket).await;
        });
        (
            StatusCode::SWITCHING_PROTOCOLS,
            [
                (header::CONNECTION, HeaderValue::from_static("upgrade")),
                (header::UPGRADE, HeaderValue::from_static("websocket")),
                (header::SEC_WEBSOCKET_ACCEPT, accept),
            ],
        )
            .into_response()
    }
}

/// The `Sec-WebSocket-Accept` for a request that is a WebSocket handshake.
fn accept(method: &Method, headers: &HeaderMap) -> Result<HeaderValue, NotWebSocket> {
    if method != Method::GET {
        return Err(NotWebSocket::Method);
    }
    if !has_token(headers, header::CONNECTION, "upgrade")
        || !has_token(headers, header::UPGRADE, "websocket")
    {
        return Err(NotWebSocket::NoUpgrade);
    }
    if headers
        .get(header::SEC_WEBSOCKET_VERSION)
        .is_none_or(|v| v.as_bytes() != b"13")
    {
        return Err(NotWebSocket::Handshake);
    }
    let key = headers
        .get(header::SEC_WEBSOCKET_KEY)
        .ok_or(NotWebSocket::Handshake)?;
    HeaderValue::from_str(&derive_accept_key(key.as_bytes())).map_err(|_| NotWebSocket::Handshake)
}

/// Whether a header lists `token` among its comma-separated values (any case).
fn has_token(headers: &HeaderMap, name: header::HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| {
                (
                    header::HeaderName::from_static(name),
                    HeaderValue::from_static(value),
                )
            })
            .collect()
    }

    const HANDSHAKE: [(&str, &str); 4] = [
        ("connection", "keep-alive, Upgrade"),
        ("upgrade", "websocket"),
        ("sec-websocket-version", "13"),
        // RFC 6455, 1.3's example key.
        ("sec-websocket-key", "dGhlIHNhbXBsZSBub25jZQ=="),
    ];

    #[test]
    fn a_handshake_is_answered_with_the_key_of_rfc_6455() {
        let accept = accept(&Method::GET, &headers(&HANDSHAKE)).expect("a handshake");
        assert_eq!(accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    #[test]
    fn a_request_that_is_no_websocket_handshake_is_refused_with_its_status() {
        let refused = |method: Method, pairs: &[(&'static str, &'static str)]| {
            accept(&method, &headers(pairs))
                .err()
                .map(NotWebSocket::status)
        };
        assert_eq!(
            refused(Method::POST, &HANDSHAKE),
            Some(StatusCode::METHOD_NOT_ALLOWED)
        );
        assert_eq!(
            refused(Method::GET, &HANDSHAKE[1..]),
            Some(StatusCode::UPGRADE_REQUIRED)
        );
        let h2c = [("connection", "upgrade"), ("upgrade", "h2c")];
        assert_eq!(
            refused(Method::GET, &h2c),
            Some(StatusCode::UPGRADE_REQUIRED)
        );
        let mut old = HANDSHAKE;
        old[2].1 = "8";
        assert_eq!(refused(Method::GET, &old), Some(StatusCode::BAD_REQUEST));
        assert_eq!(
            refused(Method::GET, &HANDSHAKE[..3]),
            Some(StatusCode::BAD_REQUEST)
        );
    }
}
