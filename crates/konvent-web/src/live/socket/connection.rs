//! The life of a connection: registered with the hub, set up (greeting, room, replay),
//! then served, frames out and commands in, until the client goes or is told to go.

use std::sync::Arc;
use std::sync::atomic::AtomicU8;

use futures_util::{SinkExt, StreamExt};
use konvent_core::convention::live::{LiveRefusal, MAX_FRAME_BYTES, Refusal};
use konvent_live::{EventStart, Goodbye, Inbox, JoinRefusal, Joined, Kick, Out, Registration};
use konvent_store::Room;

use super::duplex::Socket;
use super::{
    CLOSE_RESTART, CLOSE_RIGHTS_CHANGED, CLOSE_SIGNED_OUT, CLOSE_SLOW, CLOSE_TOO_BIG, Connection,
    LiveQuery, Message, Utf8Bytes, WsError, close_frame, error_frame,
};
use crate::i18n::Lang;
use crate::live::{Actor, EventInfo, Live, LogPosition};

/// Frames written before one flush.
const BATCH: usize = 64;
/// How long a client told to go for being slow gets to take the close frame.
const CLOSE_GRACE: std::time::Duration = std::time::Duration::from_secs(1);

/// A connection registered with the hub, before its set-up. Built outside the task's
/// async state machine, which would otherwise keep room for the arguments it was made
/// from for as long as the connection lives.
pub(super) struct Opened<S> {
    pub(super) this: Box<Connection<S>>,
    rx: Inbox,
    kick: Kick,
    set_up: Box<SetUp>,
}

/// What the set-up after the upgrade needs: the sequence number at registration, the
/// room asked for with the outcome of joining it, and where the replay starts.
struct SetUp {
    seq: i64,
    room: Option<(Room, Option<Result<Joined, JoinRefusal>>)>,
    since: Option<i64>,
    /// The log's epoch, and whether the client's `since` counts in another one.
    epoch: Arc<str>,
    stale: bool,
}

impl<S: Socket> Opened<S> {
    pub(super) async fn run(self) {
        let Self {
            mut this,
            mut rx,
            kick,
            set_up,
        } = self;
        // Told to go for being too slow (its queue is full), or because its account
        // signed out or its rights changed: this wins over whatever the connection is
        // doing, writing included. A client that stopped reading leaves writes to its
        // socket pending for good; waiting for them would keep the connection, its full
        // queue and its place in the room forever.
        let kicked = kick.notified();
        tokio::pin!(kicked);
        let result = async {
            // The set-up runs in a box of its own: its state (database queries) would
            // otherwise sit in every idle connection's task for good.
            let slow = tokio::select! {
                biased;
                () = &mut kicked => true,
                done = Box::pin(this.set_up(*set_up)) => {
                    done?;
                    false
                }
            };
            if slow {
                this.say_goodbye(Goodbye::of(kick.reason())).await;
                return Ok(());
            }
            this.serve(&mut rx, kicked.as_mut(), kick.reason()).await
        }
        .await;
        if let Err(e) = result {
            tracing::debug!(error = %e, "live connection ended");
        }
        let event = this.info.event.id;
        this.live.maps.remove(event, this.conn);
        this.live.people.unwatch(event, this.conn);
        let left = this.live.fanout.unregister(event, this.conn);
        this.announce_presence(left);
    }
}

impl<S: Socket> Connection<S> {
    /// Registers the connection with the hub (in the room asked for, if any); it writes
    /// to the client and reads from it through `socket`.
    pub(super) fn open(
        live: Arc<Live>,
        info: Arc<EventInfo>,
        actor: Actor,
        lang: Lang,
        socket: S,
        query: LiveQuery,
        log: LogPosition,
    ) -> Option<Opened<S>> {
        let initial = query
            .room
            .as_deref()
            .and_then(|slug| info.room(slug))
            .cloned();
        let (registration, joined) = live.fanout.register(
            EventStart {
                id: info.event.id,
                slug: &info.event.slug,
                last_seq: log.last_seq,
                mute_threshold: info.event.mute_threshold,
            },
            actor.who.id,
            actor.staff,
            lang as usize,
            initial.as_ref().map(|r| (r.slug.as_str(), r.capacity)),
        );
        let Registration { id, rx, kick, seq } = registration;
        if query.liste.as_deref() == Some(crate::networking::watch::LIST) {
            live.people.watch(info.event.id, id);
        }
        Some(Opened {
            this: Box::new(Self {
                live,
                info,
                actor,
                lang,
                socket,
                conn: id,
                room: None,
                on_map: false,
            }),
            rx,
            kick,
            set_up: Box::new(SetUp {
                seq,
                room: initial.map(|room| (room, joined)),
                // A `since` from another epoch's log counts in a log that is gone.
                stale: query.since.is_some()
                    && query.epoch.as_deref().is_some_and(|e| e != &*log.epoch),
                since: query.since,
                epoch: log.epoch,
            }),
        })
    }

    /// Greets the client, answers the room it asked for and replays what it missed.
    async fn set_up(&mut self, set_up: SetUp) -> Result<(), WsError> {
        self.hello(set_up.seq, &set_up.epoch).await?;
        if set_up.stale {
            let last = set_up.seq;
            return self.tell_to_reload(last).await;
        }
        match set_up.room {
            Some((room, Some(Ok(joined)))) => self.joined(room, joined).await?,
            Some((room, _)) => self.refuse_full(&room, None).await?,
            None => {}
        }
        self.replay(set_up.since, set_up.seq).await
    }

    async fn serve(
        &mut self,
        rx: &mut Inbox,
        mut kicked: std::pin::Pin<&mut impl Future<Output = ()>>,
        goodbye: &AtomicU8,
    ) -> Result<(), WsError> {
        loop {
            // Told to go while frames keep coming: one atomic load.
            if let Some(why) = Goodbye::told(goodbye) {
                self.say_goodbye(why).await;
                return Ok(());
            }
            let slow = tokio::select! {
                biased;
                go_on = self.step(rx) => {
                    if !go_on? {
                        return Ok(());
                    }
                    false
                }
                // While a write is stuck (a client that stopped reading) or nothing
                // comes: the kick ends the wait.
                () = &mut kicked => true,
            };
            if slow {
                self.say_goodbye(Goodbye::of(goodbye)).await;
                return Ok(());
            }
        }
    }

    /// Says goodbye to a client the hub told to go: one that could not keep up (4008),
    /// whose account signed out (4001) or whose rights changed (4003), as far as its
    /// socket still takes anything: one that stopped reading gets a moment, then the
    /// socket is dropped.
    async fn say_goodbye(&mut self, why: Goodbye) {
        let (code, reason) = match why {
            Goodbye::Slow => (CLOSE_SLOW, "slow consumer: resume from your last seq"),
            Goodbye::SignedOut => (CLOSE_SIGNED_OUT, "signed out"),
            Goodbye::RightsChanged => (CLOSE_RIGHTS_CHANGED, "rights changed: reconnect"),
            Goodbye::Restart => (CLOSE_RESTART, "service restart: reconnect"),
        };
        let close = close_frame(code, Utf8Bytes::from_static(reason));
        let _ = tokio::time::timeout(CLOSE_GRACE, self.socket.send(close)).await;
    }

    /// Writes what the hub queued, or handles what the client sent. `false` when the
    /// connection is over.
    async fn step(&mut self, rx: &mut Inbox) -> Result<bool, WsError> {
        tokio::select! {
            biased;
            out = rx.recv() => {
                let Some(Out::Frame { text, .. }) = out else { return Ok(false) };
                self.socket.feed(Message::Text(text)).await?;
                // Write what else is waiting in one go.
                for _ in 1..BATCH {
                    match rx.try_recv() {
                        Some(Out::Frame { text, .. }) => self.socket.feed(Message::Text(text)).await?,
                        None => break,
                    }
                }
                self.socket.flush().await?;
                Ok(true)
            }
            incoming = self.socket.next() => {
                match incoming {
                    None | Some(Ok(Message::Close(_))) => Ok(false),
                    Some(Err(e)) => {
                        // Over the size limit, or not a valid WebSocket frame: say why.
                        let close = match e {
                            WsError::Capacity(_) => close_frame(
                                CLOSE_TOO_BIG,
                                format!("frame too large (at most {MAX_FRAME_BYTES} bytes)"),
                            ),
                            _ => close_frame(1002, "protocol error"),
                        };
                        let _ = self.socket.send(close).await;
                        Ok(false)
                    }
                    // Boxed: commands wait on the database, idle connections should
                    // not carry that state.
                    Some(Ok(Message::Text(text))) => {
                        Box::pin(self.command(text.as_str())).await?;
                        Ok(true)
                    }
                    Some(Ok(Message::Binary(_))) => {
                        let refusal = Refusal::from(LiveRefusal::TextFramesOnly);
                        self.socket.send(error_frame(None, &refusal, self.lang)).await?;
                        Ok(true)
                    }
                    // (A raw frame is only ever written, never read.)
                    Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => Ok(true),
                }
            }
        }
    }
}
