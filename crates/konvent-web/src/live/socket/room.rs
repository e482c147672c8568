//! Rooms as a connection joins and leaves them: the room's state for the client, the
//! refusal of a full room, and the headcounts for everybody.

use std::sync::Arc;

use futures_util::SinkExt;
use konvent_core::convention::live::{LiveRefusal, Refusal};
use konvent_live::{JoinRefusal, Joined, Presence};
use konvent_store::Room;
use serde_json::{Value, json};

use super::duplex::Socket;
use super::{Connection, WsError, error_frame, text_frame};
use crate::live::fragments::{self, DomOp, Fx, floor::Person};
use crate::live::publish::ev_frame;

impl<S: Socket> Connection<S> {
    pub(super) async fn leave(&mut self) -> Result<(), WsError> {
        let left = self.live.fanout.leave(self.info.event.id, self.conn);
        self.room = None;
        self.announce_presence(left);
        self.socket.send(text_frame(json!({ "t": "left" }))).await
    }

    pub(super) async fn join(&mut self, slug: &str) -> Result<(), WsError> {
        let Some(room) = self.info.room(slug).cloned() else {
            let refusal = Refusal::from(LiveRefusal::NoSuchRoom);
            return self
                .socket
                .send(error_frame(None, &refusal, self.lang))
                .await;
        };
        match self
            .live
            .fanout
            .join(self.info.event.id, self.conn, &room.slug, room.capacity)
        {
            Ok(joined) => self.joined(room, joined).await,
            Err(JoinRefusal::Full | JoinRefusal::Gone) => self.refuse_full(&room, None).await,
        }
    }

    /// A full room refuses politely and names the others (K9: "offers the others").
    pub(super) async fn refuse_full(
        &mut self,
        room: &Room,
        id: Option<&str>,
    ) -> Result<(), WsError> {
        let others: Vec<&str> = self
            .info
            .rooms
            .iter()
            .filter(|r| r.id != room.id)
            .map(|r| r.name.as_str())
            .collect();
        let full = LiveRefusal::RoomFull {
            room: room.name.clone(),
            capacity: room.capacity,
            others: others.join(", "),
        };
        let refusal = Refusal::from(full);
        self.socket.send(error_frame(id, &refusal, self.lang)).await
    }

    /// Answers a successful join with the room's state, and tells both rooms the new
    /// headcounts.
    pub(super) async fn joined(&mut self, room: Room, joined: Joined) -> Result<(), WsError> {
        let event = self.info.event.id;
        let store = &self.live.store;
        let records = self
            .live
            .chat_tail(event, &room.slug)
            .await
            .unwrap_or_default();
        let chat: Vec<Value> = records
            .iter()
            .filter_map(|r| serde_json::from_str(&ev_frame(r, None)).ok())
            .collect();
        let waiting: Vec<Person> = self
            .live
            .hands(event, room.id)
            .await
            .unwrap_or_default()
            .iter()
            .map(|w| Person {
                id: w.id,
                name: w.name.clone(),
            })
            .collect();
        let queue: Vec<Value> = waiting
            .iter()
            .map(|w| json!({ "id": w.id, "name": w.name }))
            .collect();
        // The speaker may have changed since the event was cached.
        let now = store
            .rooms(event)
            .await
            .ok()
            .and_then(|rooms| rooms.into_iter().find(|r| r.id == room.id))
            .and_then(|r| r.speaker)
            .map(|w| Person {
                id: w.id,
                name: w.name,
            });
        let speaker = now.as_ref().map(|w| json!({ "id": w.id, "name": w.name }));
        let locked = store
            .restrictions(event)
            .await
            .is_ok_and(|r| r.locked_rooms.contains(&room.slug));
        // The room's regions of a page that changes rooms (the map's panel).
        let fx = Fx::live(self.lang, &self.info.event.slug);
        let dom = vec![
            DomOp::Replace {
                id: "chat-log".into(),
                html: fragments::chat::chat_log(&room.slug, &records, &fx),
            },
            DomOp::Replace {
                id: "chat-locked".into(),
                html: fragments::chat::chat_locked(locked, &fx),
            },
            DomOp::Replace {
                id: "speaker-box".into(),
                html: fragments::floor::speaker(&room.slug, now.as_ref(), &fx),
            },
            DomOp::Replace {
                id: "queue-box".into(),
                html: fragments::floor::queue(&room.slug, &waiting, &fx),
            },
        ];
        let frame = text_frame(json!({
            "t": "joined",
            "room": room.slug,
            "name": room.name,
            "muted": joined.muted,
            "count": joined.presence.count,
            "threshold": self.info.event.mute_threshold,
            "moderator": self.actor.moderates(&self.info, &room),
            "chat": chat,
            "queue": queue,
            "speaker": speaker,
            "dom": dom,
        }));
        self.live.fanout.presence_changed(event, &room.slug);
        // The map's list shows the room's headcount, however people came in.
        self.live.maps.counts_changed(event);
        self.announce_presence(joined.left);
        self.room = Some(room);
        self.socket.send(frame).await
    }

    /// The room somebody left has a new headcount.
    pub(super) fn announce_presence(&self, left: Option<(Arc<str>, Presence)>) {
        if let Some((room, _)) = left {
            self.live.fanout.presence_changed(self.info.event.id, &room);
            self.live.maps.counts_changed(self.info.event.id);
        }
    }
}
