//! The WebSocket of an event (`GET /konvent/{event}/live`): one per participant. It
//! replays what the client missed since its last sequence number, then forwards the
//! hub's frames and runs the client's commands.
//!
//! This module holds the upgrade, the frames and the connection's state; its life
//! ([`connection`]), the greeting and the replay ([`replay`]), the client's commands
//! ([`commands`]) and what they do on the map ([`map`]), in rooms ([`room`]) and at café
//! tables ([`cafe`]) have their own files.

mod cafe;
mod commands;
mod connection;
mod duplex;
mod map;
mod replay;
mod room;
mod upgrade;
mod wire;

pub(crate) use wire::WireIo;

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use konvent_core::convention::live::{LiveRefusal, MAX_FRAME_BYTES, Refusal};
use konvent_store::Room;
use serde::Deserialize;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Error as WsError, Message, Utf8Bytes};

use super::{Actor, EventInfo, Live};
use crate::AppState;
use crate::ctx::{Ctx, check_origin};
use crate::i18n::{Lang, Tr};

/// Close code for a client that could not keep up (4000–4999: private use).
pub const CLOSE_SLOW: u16 = 4008;
/// Close code for the sockets of an account that signed out.
pub const CLOSE_SIGNED_OUT: u16 = 4001;
/// Close code for the sockets of an account whose grants or event roles changed: the
/// client reconnects and gets its rights anew.
pub const CLOSE_RIGHTS_CHANGED: u16 = 4003;
/// Close code after a `reload` frame: the client's `since` is ahead of the event's log.
pub const CLOSE_RELOAD: u16 = 4010;
/// The node shuts down (drained for an update): the client reconnects, to another node.
pub const CLOSE_RESTART: u16 = 1012;
/// Close code for a frame over the size limit (RFC 6455: message too big).
pub const CLOSE_TOO_BIG: u16 = 1009;

#[derive(Debug, Deserialize)]
pub struct LiveQuery {
    since: Option<i64>,
    room: Option<String>,
    /// The log's epoch the client's `since` counts in (from its last `hello`).
    epoch: Option<String>,
    /// `teilnehmende`: the page shows the people list, which follows presence (K15+).
    liste: Option<String>,
}

fn refuse(status: StatusCode, code: &str, message: String) -> Response {
    (
        status,
        Json(json!({ "error": { "code": code, "message": message } })),
    )
        .into_response()
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), slug = %slug))]
pub async fn upgrade(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
    query: Result<Query<LiveQuery>, QueryRejection>,
    headers: HeaderMap,
    upgrade: Result<upgrade::Upgrade, upgrade::NotWebSocket>,
) -> Response {
    let t = Tr::new(ctx.lang);
    let upgrade = match upgrade {
        Ok(upgrade) => upgrade,
        Err(not) => {
            return refuse(
                not.status(),
                "not_websocket",
                t.get("live-refused-not-websocket"),
            );
        }
    };
    // axum's own rejection is plain text; the protocol promises the JSON error body.
    let Ok(Query(query)) = query else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "bad_request",
            t.get("live-refused-query"),
        );
    };
    if check_origin(&headers).is_err() {
        return refuse(
            StatusCode::FORBIDDEN,
            "forbidden",
            t.get("live-refused-origin"),
        );
    }
    let Some(principal) = ctx.principal.as_ref() else {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "sign_in_required",
            t.get("live-refused-sign-in"),
        );
    };
    let live = state.live.clone();
    let info = match live.info(&slug).await {
        Ok(info) => info,
        Err(konvent_store::StoreError::NotFound) => {
            return refuse(
                StatusCode::NOT_FOUND,
                "not_found",
                t.get("live-refused-no-event"),
            );
        }
        Err(e) => {
            tracing::error!(error = %e, "live: event lookup failed");
            return refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                crate::refusals::text(t, &LiveRefusal::Internal.into()),
            );
        }
    };
    let actor = match Actor::of(&live.store, &info, principal).await {
        Ok(Some(actor)) => actor,
        Ok(None) => {
            // The same read `Actor::of` just made (kept by the store).
            let removed = live
                .store
                .membership(info.event.id, principal.user_id)
                .await
                .is_ok_and(|m| m.removed);
            return refuse(
                StatusCode::FORBIDDEN,
                "forbidden",
                if removed {
                    crate::refusals::text(t, &LiveRefusal::Removed.into())
                } else {
                    t.get("live-refused-not-registered")
                },
            );
        }
        Err(e) => {
            tracing::error!(error = %e, "live: access check failed");
            return refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                crate::refusals::text(t, &LiveRefusal::Internal.into()),
            );
        }
    };
    if let Some(room) = &query.room
        && info.room(room).is_none()
    {
        return refuse(
            StatusCode::NOT_FOUND,
            "unknown_room",
            crate::refusals::text(t, &LiveRefusal::NoSuchRoom.into()),
        );
    }
    // Where this node's sequencer starts if it is the event's first connection here (the
    // cached event's sequence is long out of date by then), and the log's epoch.
    let log = match live.log_position(info.event.id).await {
        Ok(log) => log,
        Err(e) => {
            tracing::error!(error = %e, "live: cannot read the event's sequence");
            return refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                crate::refusals::text(t, &LiveRefusal::Internal.into()),
            );
        }
    };
    // tungstenite reads; it writes only the close, ping and pong frames, straight into
    // the socket's own queue (`wire.rs`), so its write buffer settings do not matter.
    let config = WebSocketConfig::default()
        .read_buffer_size(2048)
        .max_message_size(Some(MAX_FRAME_BYTES))
        .max_frame_size(Some(MAX_FRAME_BYTES));
    upgrade.on_upgrade(config, move |socket| {
        // Opened before the task's future is made, which then holds only the
        // result (a connection the hub refused, its event gone, ends at once). The
        // connection runs on any sink and stream of messages (channels in the unit
        // tests); the socket is not split, as the one task both reads and writes,
        // and halves would take a lock at every read and write.
        let opened = Connection::open(live, info, actor, ctx.lang, socket, query, log);
        async move {
            if let Some(opened) = opened {
                opened.run().await;
            }
        }
    })
}

/// A close frame with its code and reason.
fn close_frame(code: u16, reason: impl Into<Utf8Bytes>) -> Message {
    Message::Close(Some(CloseFrame {
        code: code.into(),
        reason: reason.into(),
    }))
}

fn text_frame(value: Value) -> Message {
    Message::Text(Utf8Bytes::from(value.to_string()))
}

fn error_frame(id: Option<&str>, refusal: &Refusal, lang: Lang) -> Message {
    text_frame(json!({
        "t": "error",
        "id": id,
        "code": refusal.code(),
        "message": crate::refusals::live(Tr::new(lang), refusal),
    }))
}

struct Connection<S> {
    live: Arc<Live>,
    info: Arc<EventInfo>,
    actor: Actor,
    /// The language of the pages it keeps current (of their fragments).
    lang: Lang,
    socket: S,
    conn: u64,
    room: Option<Room>,
    /// Whether the connection's avatar stands on the venue map.
    on_map: bool,
}

#[cfg(test)]
mod tests;
