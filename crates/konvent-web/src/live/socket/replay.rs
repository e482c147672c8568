//! What a connection sends first: the greeting (`hello`), and the replay of what the
//! client missed since its last sequence number, or the request to reload.

use futures_util::SinkExt;
use serde_json::json;

use super::duplex::Socket;
use super::{CLOSE_RELOAD, Connection, Message, WsError, close_frame, text_frame};
use crate::live::fragments::Fx;
use crate::live::publish::ev_frame;
use crate::live::{EventInfo, Live};

/// Replay reads the log in pages of this many entries.
const REPLAY_PAGE: i64 = 500;

/// The event's last sequence number when `since` lies beyond it. The hub's sequence can
/// trail the database's for a moment (entries committed, not yet handed out, or on their
/// way from another node), so the database decides.
async fn ahead_of_log(live: &Live, info: &EventInfo, since: i64) -> Option<i64> {
    match live.store.event(&info.event.slug).await {
        Ok(event) if since > event.last_seq => Some(event.last_seq),
        Ok(_) => None,
        Err(e) => {
            tracing::error!(error = %e, "live: cannot read the event's sequence");
            None
        }
    }
}

impl<S: Socket> Connection<S> {
    pub(super) async fn hello(&mut self, seq: i64, epoch: &str) -> Result<(), WsError> {
        let moderates = self.actor.moderated_rooms(&self.info);
        let hello = text_frame(json!({
            "t": "hello",
            "seq": seq,
            "epoch": epoch,
            "event": self.info.event.slug,
            "you": {
                "id": self.actor.who.id,
                "name": self.actor.who.name,
                "organizer": self.actor.organizer,
                "staff": self.actor.staff,
                "moderates": moderates,
            },
        }));
        self.socket.send(hello).await
    }

    /// Tells a client whose `since` this log cannot serve (the database was restored
    /// from a backup, or the log has another epoch) to reload, and ends the connection.
    pub(super) async fn tell_to_reload(&mut self, last: i64) -> Result<(), WsError> {
        let reload = text_frame(json!({
            "t": "reload",
            "seq": last,
            "reason": "Der Verlauf der Veranstaltung ist nicht mehr der, den diese Seite kennt (die Datenbank wurde wiederhergestellt). Bitte die Seite neu laden.",
        }));
        self.socket.send(reload).await?;
        self.socket
            .send(close_frame(
                CLOSE_RELOAD,
                "since does not fit the event's log: reload",
            ))
            .await?;
        // Ends the connection: its set-up failed on purpose, and the socket is closed.
        Err(WsError::ConnectionClosed)
    }

    /// Sends what the client missed: entries after `since` up to `until` that it may see
    /// (event-wide ones, its room's, its direct messages), in order. A client that has
    /// seen more than the event's log holds (the database was restored from a backup)
    /// cannot resume: it is told to reload and the socket closes.
    pub(super) async fn replay(&mut self, since: Option<i64>, until: i64) -> Result<(), WsError> {
        if let Some(since) = since.filter(|s| *s > until)
            && let Some(last) = ahead_of_log(&self.live, &self.info, since).await
        {
            return self.tell_to_reload(last).await;
        }
        if let Some(mut after) = since.filter(|s| *s >= 0) {
            while after < until {
                let page = match self
                    .live
                    .store
                    .live_since(self.info.event.id, after, REPLAY_PAGE.min(until - after))
                    .await
                {
                    Ok(page) => page,
                    Err(e) => {
                        tracing::error!(error = %e, "live: replay failed");
                        return self
                            .socket
                            .send(close_frame(1011, "replay failed, please reconnect"))
                            .await;
                    }
                };
                let Some(last) = page.last().map(|r| r.seq) else {
                    break;
                };
                let fx = Fx::live(self.lang, &self.info.event.slug);
                for record in page.iter().filter(|r| r.seq <= until) {
                    let in_room = match &record.room {
                        Some(room) => self.room.as_ref().is_some_and(|r| &r.slug == room),
                        None => true,
                    };
                    if in_room && record.visible_to(self.actor.who.id, self.actor.staff) {
                        self.socket
                            .feed(Message::Text(ev_frame(record, Some(&fx)).into()))
                            .await?;
                    }
                }
                self.socket.flush().await?;
                after = last;
            }
        }
        self.socket
            .send(text_frame(json!({ "t": "replayed", "seq": until })))
            .await
    }
}
