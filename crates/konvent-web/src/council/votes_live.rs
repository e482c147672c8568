//! Votes live (G9): everybody who may see a session's votes gets each vote's region as
//! it changes, over a WebSocket per session (`/gremien/sitzungen/{n}/live`) or for the
//! written procedures (`/gremien/umlaufverfahren/live`). A change is published strictly
//! after its commit: the region is rendered from the store once per language (the same
//! template as the page) and the same bytes go to every connection of the room. A
//! connection first gets every region of its room as it stands, so a reconnect — or a
//! connection that fell behind its bounded queue — catches up by the current state.
//!
//! The rooms live in each node's memory. With several nodes (NATS) a node that commits a
//! change tells the others the vote's id over the bus ([`konvent_live::Changed`]); each
//! reads the vote from the database and sends it to its own rooms ([`follow_other_nodes`]).

use konvent_core::ids::VoteId;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::extract::ws::{Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use konvent_core::authz::Action;
use konvent_live::Changed;
use konvent_store::Vote;
use tokio::sync::broadcast;

use super::votes::{VoteFx, vote_html};
use crate::AppState;
use crate::ctx::{Ctx, check_origin};
use crate::i18n::{Lang, Tr};

/// How many frames a room keeps for a slow connection before it must catch up.
const ROOM_QUEUE: usize = 64;

/// One vote's region, encoded once per language (German, English).
#[derive(Debug, Clone)]
pub struct VoteFrame {
    frames: [Utf8Bytes; 2],
}

impl VoteFrame {
    /// `sessions`: the upcoming sessions' numbers and labels by language (German,
    /// English), for the office's form that stops a written procedure.
    fn of(v: &Vote, sessions: &[Vec<(i64, String)>; 2]) -> Self {
        let frame = |lang| {
            let fx = VoteFx {
                t: Tr::new(lang),
                csrf: String::new(),
                back: String::new(),
                viewer: None,
                sessions: sessions[usize::from(lang == Lang::En)].clone(),
            };
            Utf8Bytes::from(
                serde_json::json!({
                    "t": "vote",
                    "id": v.id,
                    "version": v.version,
                    "html": vote_html(&fx, v),
                })
                .to_string(),
            )
        };
        Self {
            frames: [frame(Lang::De), frame(Lang::En)],
        }
    }

    fn for_lang(&self, lang: Lang) -> Utf8Bytes {
        self.frames[usize::from(lang == Lang::En)].clone()
    }
}

/// The rooms of this node: a session's votes, or the written procedures.
#[derive(Default)]
pub struct VoteHub {
    rooms: Mutex<HashMap<String, broadcast::Sender<Arc<VoteFrame>>>>,
}

fn room_of(v: &Vote) -> String {
    match v.session_number {
        Some(n) => format!("session:{n}"),
        None => "written".to_owned(),
    }
}

impl VoteHub {
    fn subscribe(&self, room: &str) -> broadcast::Receiver<Arc<VoteFrame>> {
        let mut rooms = self.rooms.lock().unwrap_or_else(|e| e.into_inner());
        // Rooms nobody listens to any more are dropped on the way.
        rooms.retain(|_, tx| tx.receiver_count() > 0);
        rooms
            .entry(room.to_owned())
            .or_insert_with(|| broadcast::channel(ROOM_QUEUE).0)
            .subscribe()
    }

    /// The rooms somebody listens to.
    fn rooms(&self) -> Vec<String> {
        let rooms = self.rooms.lock().unwrap_or_else(|e| e.into_inner());
        rooms
            .iter()
            .filter(|(_, tx)| tx.receiver_count() > 0)
            .map(|(room, _)| room.clone())
            .collect()
    }

    fn send(&self, room: &str, frame: VoteFrame) {
        let rooms = self.rooms.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(tx) = rooms.get(room) {
            let _ = tx.send(Arc::new(frame));
        }
    }
}

/// The upcoming sessions in both languages (see [`VoteFrame::of`]).
async fn sessions(state: &AppState) -> [Vec<(i64, String)>; 2] {
    let mut out = [Vec::new(), Vec::new()];
    for (i, lang) in [Lang::De, Lang::En].into_iter().enumerate() {
        match super::votes::upcoming_sessions(state, &Tr::new(lang)).await {
            Ok(s) => out[i] = s,
            Err(e) => tracing::error!(error = ?e, "votes: cannot read the upcoming sessions"),
        }
    }
    out
}

/// What the bus calls a vote's change.
const CHANGED_KIND: &str = "vote";

/// Publishes a vote's region as it is now committed (call it after the commit), here
/// and, through the bus, on every other node.
pub async fn publish(state: &AppState, vote_id: VoteId) {
    publish_here(state, vote_id).await;
    state.live.fanout.changed_here(&Changed {
        kind: CHANGED_KIND.to_owned(),
        id: vote_id.get(),
    });
}

/// Sends the votes other nodes changed to this node's rooms, for as long as the node
/// runs. Fallen behind, it sends every vote of every room anew.
pub async fn follow_other_nodes(state: AppState) {
    let mut changes = state.live.fanout.changes();
    loop {
        match changes.recv().await {
            Ok(changed) if changed.kind == CHANGED_KIND => {
                publish_here(&state, VoteId::new(changed.id)).await
            }
            Ok(_) => {}
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                tracing::warn!(missed, "votes: fell behind the other nodes' changes");
                for room in state.votes_hub.rooms() {
                    for v in current(&state, &room).await {
                        publish_here(&state, v.id).await;
                    }
                }
            }
            Err(broadcast::error::RecvError::Closed) => return,
        }
    }
}

/// Publishes a vote's region to this node's room of it.
async fn publish_here(state: &AppState, vote_id: VoteId) {
    match state.store.vote(vote_id).await {
        Ok(v) => {
            let sessions = sessions(state).await;
            state
                .votes_hub
                .send(&room_of(&v), VoteFrame::of(&v, &sessions));
        }
        Err(e) => tracing::error!(error = %e, %vote_id, "votes: cannot publish"),
    }
}

fn refuse(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(serde_json::json!({ "error": { "code": code, "message": message } })),
    )
        .into_response()
}

async fn upgrade(
    state: AppState,
    ctx: Ctx,
    room: String,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if check_origin(&headers).is_err() {
        return refuse(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Verbindungen nur von konvent selbst.",
        );
    }
    if ctx.principal.is_none() {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "sign_in_required",
            "Bitte anmelden.",
        );
    }
    if !ctx.may(Action::ReadConfidential) {
        return refuse(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Abstimmungen sehen nur die Mitglieder des IT-Planungsrats.",
        );
    }
    let lang = ctx.lang;
    ws.on_upgrade(move |socket| serve(state, socket, room, lang))
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id(), number = number))]
pub async fn session_socket(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(number): Path<i64>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    if state.store.session(number).await.is_err() {
        return refuse(
            StatusCode::NOT_FOUND,
            "not_found",
            "Diese Sitzung gibt es nicht.",
        );
    }
    upgrade(state, ctx, format!("session:{number}"), headers, ws).await
}

#[tracing::instrument(level = "debug", skip_all, fields(account = ctx.account_id()))]
pub async fn written_socket(
    State(state): State<AppState>,
    ctx: Ctx,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    upgrade(state, ctx, "written".to_owned(), headers, ws).await
}

async fn current(state: &AppState, room: &str) -> Vec<Vote> {
    let votes = match room.strip_prefix("session:") {
        Some(n) => match n.parse() {
            Ok(n) => state.store.session_votes(n).await,
            Err(_) => Ok(Vec::new()),
        },
        None => state.store.written_procedures().await,
    };
    votes.unwrap_or_else(|e| {
        tracing::error!(error = %e, "votes: cannot read the room's votes");
        Vec::new()
    })
}

async fn catch_up(
    state: &AppState,
    socket: &mut WebSocket,
    room: &str,
    lang: Lang,
) -> Result<(), axum::Error> {
    let sessions = sessions(state).await;
    for v in current(state, room).await {
        socket
            .send(Message::Text(VoteFrame::of(&v, &sessions).for_lang(lang)))
            .await?;
    }
    Ok(())
}

async fn serve(state: AppState, mut socket: WebSocket, room: String, lang: Lang) {
    // Subscribe before reading the current state: nothing committed in between is lost.
    let mut rx = state.votes_hub.subscribe(&room);
    if catch_up(&state, &mut socket, &room, lang).await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            frame = rx.recv() => {
                let sent = match frame {
                    Ok(frame) => socket.send(Message::Text(frame.for_lang(lang))).await,
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        catch_up(&state, &mut socket, &room, lang).await
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                };
                if sent.is_err() {
                    return;
                }
            }
            incoming = socket.recv() => match incoming {
                // The client only listens; anything but a close is ignored.
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {}
            },
        }
    }
}
