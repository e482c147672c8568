//! The WebSocket of an event (`GET /konvent/{event}/live`): one per participant. It
//! replays what the client missed since its last sequence number, then forwards the
//! hub's frames and runs the client's commands.

mod duplex;

use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocketUpgrade};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use konvent_core::konvent::live::{self, Command, MAX_FRAME_BYTES, Refusal};
use konvent_store::Room;
use serde::Deserialize;
use serde_json::{Value, json};

use super::fragments::{self, DomOp, Fx, floor::Person};
use super::publish::ev_frame;
use super::{Actor, EventInfo, Live};
use crate::AppState;
use crate::ctx::{Ctx, check_origin};
use crate::i18n::{Lang, Tr};
use duplex::Socket;
use konvent_core::konvent::map::AreaTarget;
use konvent_live::map::{MAX_STEP, MoveRefusal, Spot, area_key};
use konvent_live::{
    EventStart, Goodbye, Inbox, JoinRefusal, Joined, Kick, Out, Presence, Registration,
};
use std::sync::atomic::AtomicU8;

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
/// Replay reads the log in pages of this many entries.
const REPLAY_PAGE: i64 = 500;
/// Chat lines a `joined` frame carries.
const HISTORY: i64 = 50;
/// Frames written before one flush.
const BATCH: usize = 64;
/// How long a connection waits before it reads the next command after one refused for
/// being over the budget: a flood then costs the server at most 50 refusals a second
/// (the flooder's frames wait in its own socket buffers), and the people around it
/// notice nothing. A person who merely hit the limit does not notice the pause.
const OVER_BUDGET_PAUSE: std::time::Duration = std::time::Duration::from_millis(20);
/// How long a client told to go for being slow gets to take the close frame.
const CLOSE_GRACE: std::time::Duration = std::time::Duration::from_secs(1);

#[derive(Debug, Deserialize)]
pub struct LiveQuery {
    since: Option<i64>,
    room: Option<String>,
    /// The log's epoch the client's `since` counts in (from its last `hello`).
    epoch: Option<String>,
    /// `teilnehmende`: the page shows the people list, which follows presence (K15+).
    liste: Option<String>,
}

fn refuse(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        Json(json!({ "error": { "code": code, "message": message } })),
    )
        .into_response()
}

pub async fn upgrade(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(slug): Path<String>,
    query: Result<Query<LiveQuery>, QueryRejection>,
    headers: HeaderMap,
    ws: WebSocketUpgrade,
) -> Response {
    // axum's own rejection is plain text; the protocol promises the JSON error body.
    let Ok(Query(query)) = query else {
        return refuse(
            StatusCode::BAD_REQUEST,
            "bad_request",
            "since muss eine Sequenznummer sein (eine ganze Zahl), room ein Raumkürzel.",
        );
    };
    if check_origin(&headers).is_err() {
        return refuse(
            StatusCode::FORBIDDEN,
            "forbidden",
            "Verbindungen nur von konvent selbst.",
        );
    }
    let Some(principal) = ctx.principal.as_ref() else {
        return refuse(
            StatusCode::UNAUTHORIZED,
            "sign_in_required",
            "Bitte anmelden.",
        );
    };
    let live = state.live.clone();
    let info = match live.info(&slug).await {
        Ok(info) => info,
        Err(konvent_store::StoreError::NotFound) => {
            return refuse(
                StatusCode::NOT_FOUND,
                "not_found",
                "Diese Veranstaltung gibt es nicht.",
            );
        }
        Err(e) => {
            tracing::error!(error = %e, "live: event lookup failed");
            return refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Interner Fehler.",
            );
        }
    };
    let actor = match Actor::of(&live.store, &info, principal).await {
        Ok(Some(actor)) => actor,
        Ok(None) => {
            let removed = live
                .store
                .removed_from_event(info.event.id, principal.user_id)
                .await
                .unwrap_or(false);
            return refuse(
                StatusCode::FORBIDDEN,
                "forbidden",
                if removed {
                    "Sie wurden von dieser Veranstaltung ausgeschlossen."
                } else {
                    "Sie sind für diese Veranstaltung nicht angemeldet."
                },
            );
        }
        Err(e) => {
            tracing::error!(error = %e, "live: access check failed");
            return refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "Interner Fehler.",
            );
        }
    };
    if let Some(room) = &query.room
        && info.room(room).is_none()
    {
        return refuse(
            StatusCode::NOT_FOUND,
            "unknown_room",
            "Diesen Raum gibt es nicht.",
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
                "Interner Fehler.",
            );
        }
    };
    ws.read_buffer_size(2048)
        .write_buffer_size(16 * 1024)
        .max_write_buffer_size(4 * 1024 * 1024)
        .max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .on_upgrade(move |socket| {
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

/// A hub frame as a WebSocket text message (the hub's frames are UTF-8: they are made
/// from strings; the check is what axum asks for).
fn text_of(frame: bytes::Bytes) -> Message {
    Message::Text(Utf8Bytes::try_from(frame).unwrap_or_default())
}

fn text_frame(value: Value) -> Message {
    Message::Text(Utf8Bytes::from(value.to_string()))
}

fn error_frame(id: Option<&str>, refusal: &Refusal, lang: Lang) -> Message {
    text_frame(json!({
        "t": "error",
        "id": id,
        "code": refusal.code,
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

/// A connection registered with the hub, before its set-up. Built outside the task's
/// async state machine, which would otherwise keep room for the arguments it was made
/// from for as long as the connection lives.
struct Opened<S> {
    this: Box<Connection<S>>,
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
    async fn run(self) {
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
    fn open(
        live: Arc<Live>,
        info: Arc<EventInfo>,
        actor: Actor,
        lang: Lang,
        socket: S,
        query: LiveQuery,
        log: super::LogPosition,
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
    async fn set_up(&mut self, set_up: SetUp) -> Result<(), axum::Error> {
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

    async fn hello(&mut self, seq: i64, epoch: &str) -> Result<(), axum::Error> {
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
    async fn tell_to_reload(&mut self, last: i64) -> Result<(), axum::Error> {
        let reload = text_frame(json!({
            "t": "reload",
            "seq": last,
            "reason": "Der Verlauf der Veranstaltung ist nicht mehr der, den diese Seite kennt (die Datenbank wurde wiederhergestellt). Bitte die Seite neu laden.",
        }));
        self.socket.send(reload).await?;
        self.socket
            .send(Message::Close(Some(CloseFrame {
                code: CLOSE_RELOAD,
                reason: "since does not fit the event's log: reload".into(),
            })))
            .await?;
        // Ends the connection (its set-up failed on purpose).
        Err(axum::Error::new(
            "the client's since does not fit the log: told to reload",
        ))
    }

    /// Sends what the client missed: entries after `since` up to `until` that it may see
    /// (event-wide ones, its room's, its direct messages), in order. A client that has
    /// seen more than the event's log holds (the database was restored from a backup)
    /// cannot resume: it is told to reload and the socket closes.
    async fn replay(&mut self, since: Option<i64>, until: i64) -> Result<(), axum::Error> {
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
                            .send(Message::Close(Some(CloseFrame {
                                code: 1011,
                                reason: "replay failed, please reconnect".into(),
                            })))
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
                            .feed(Message::Text(Utf8Bytes::from(ev_frame(record, Some(&fx)))))
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

    async fn serve(
        &mut self,
        rx: &mut Inbox,
        // Registered once: a fresh `notified()` per turn would lock the Notify twice per
        // frame written.
        mut kicked: std::pin::Pin<&mut tokio::sync::futures::Notified<'_>>,
        goodbye: &AtomicU8,
    ) -> Result<(), axum::Error> {
        loop {
            // Told to go while frames keep coming: the check costs one atomic load,
            // where polling `kicked` first would lock the Notify at every frame.
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
        let close = Message::Close(Some(CloseFrame {
            code,
            reason: reason.into(),
        }));
        let _ = tokio::time::timeout(CLOSE_GRACE, self.socket.send(close)).await;
    }

    /// Writes what the hub queued, or handles what the client sent. `false` when the
    /// connection is over.
    async fn step(&mut self, rx: &mut Inbox) -> Result<bool, axum::Error> {
        tokio::select! {
            biased;
            out = rx.recv() => {
                let Some(Out::Frame { text, .. }) = out else { return Ok(false) };
                self.socket.feed(text_of(text)).await?;
                // Write what else is waiting in one go.
                for _ in 1..BATCH {
                    match rx.try_recv() {
                        Some(Out::Frame { text, .. }) => self.socket.feed(text_of(text)).await?,
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
                        let reason = if e.to_string().contains("too long")
                            || e.to_string().contains("Space limit")
                            || e.to_string().contains("size")
                        {
                            (CLOSE_TOO_BIG, format!("frame too large (at most {MAX_FRAME_BYTES} bytes)"))
                        } else {
                            (1002, "protocol error".to_owned())
                        };
                        let _ = self
                            .socket
                            .send(Message::Close(Some(CloseFrame {
                                code: reason.0,
                                reason: reason.1.into(),
                            })))
                            .await;
                        Ok(false)
                    }
                    // Boxed: commands wait on the database, idle connections should
                    // not carry that state.
                    Some(Ok(Message::Text(text))) => {
                        Box::pin(self.command(text.as_str())).await?;
                        Ok(true)
                    }
                    Some(Ok(Message::Binary(_))) => {
                        let refusal = Refusal::new("bad_frame", "Nur Text-Nachrichten (JSON).");
                        self.socket.send(error_frame(None, &refusal, self.lang)).await?;
                        Ok(true)
                    }
                    Some(Ok(Message::Ping(_) | Message::Pong(_))) => Ok(true),
                }
            }
        }
    }

    async fn command(&mut self, text: &str) -> Result<(), axum::Error> {
        let command = match live::parse(text) {
            Ok(command) => command,
            Err(refusal) => {
                return self
                    .socket
                    .send(error_frame(None, &refusal, self.lang))
                    .await;
            }
        };
        match command {
            Command::Ping => self.socket.send(text_frame(json!({ "t": "pong" }))).await,
            Command::Join { room } => self.join(&room).await,
            Command::Leave => self.leave().await,
            Command::EnterMap { at } => self.enter_map(at).await,
            Command::Move { x, y } => {
                match self.live.maps.plan(self.info.event.id, self.conn, x, y) {
                    Ok(spot) => self.walk_to(spot, None).await,
                    // Latest value wins: a move over the rate is dropped, the next one counts.
                    Err(MoveRefusal::TooFast) => Ok(()),
                    Err(refusal) => self.refuse_move(None, refusal).await,
                }
            }
            Command::Goto { id, area } => {
                let Some(index) = self
                    .venue()
                    .areas
                    .iter()
                    .position(|a| area_key(&a.target) == area)
                else {
                    let refusal =
                        Refusal::new("unknown_area", "Diesen Ort gibt es auf der Karte nicht.");
                    return self
                        .socket
                        .send(error_frame(id.as_deref(), &refusal, self.lang))
                        .await;
                };
                if self.live.maps.map(self.info.event.id).is_some() && !self.on_map {
                    self.enter_map(None).await?;
                }
                match self.live.maps.spot_in(self.info.event.id, self.conn, index) {
                    Ok(spot) => self.walk_to(spot, id.as_deref()).await,
                    Err(refusal) => self.refuse_move(id.as_deref(), refusal).await,
                }
            }
            command => {
                let id = command.id().map(str::to_owned);
                let outcome = super::run(
                    &self.live,
                    &self.info,
                    &self.actor,
                    self.room.as_ref(),
                    command,
                )
                .await;
                let (frame, over_budget) = match outcome {
                    Ok(written) => (
                        text_frame(json!({ "t": "ack", "id": id, "seq": written.record.seq })),
                        false,
                    ),
                    Err(refusal) => (
                        error_frame(id.as_deref(), &refusal, self.lang),
                        refusal.code == "rate_limited",
                    ),
                };
                self.socket.send(frame).await?;
                if over_budget {
                    tokio::time::sleep(OVER_BUDGET_PAUSE).await;
                }
                Ok(())
            }
        }
    }

    /// The event's map as the hub has it now (the cached event info may be older: the
    /// organizer replaced the map since this connection opened).
    fn venue(&self) -> Arc<konvent_core::konvent::map::VenueMap> {
        self.live
            .maps
            .map(self.info.event.id)
            .unwrap_or_else(|| self.info.map.clone())
    }

    async fn leave(&mut self) -> Result<(), axum::Error> {
        let left = self.live.fanout.leave(self.info.event.id, self.conn);
        self.room = None;
        self.announce_presence(left);
        self.socket.send(text_frame(json!({ "t": "left" }))).await
    }

    /// Steps onto the venue map: the avatar appears, the client learns where.
    async fn enter_map(&mut self, at: Option<(i64, i64)>) -> Result<(), axum::Error> {
        let event = self.info.event.id;
        let Some(spot) = self
            .live
            .maps
            .enter(event, self.conn, &self.actor.who.name, at)
        else {
            let refusal = Refusal::new("no_map", "Diese Veranstaltung hat keine Karte.");
            return self
                .socket
                .send(error_frame(None, &refusal, self.lang))
                .await;
        };
        self.on_map = true;
        self.you(spot, None).await
    }

    /// The client's own avatar, as the server has it (after entering, a `goto`, or a
    /// refused step).
    async fn you(&mut self, spot: Spot, id: Option<&str>) -> Result<(), axum::Error> {
        let area = spot
            .area
            .and_then(|i| self.venue().areas.get(i).cloned())
            .map(|a| area_key(&a.target).to_owned());
        let frame = text_frame(json!({
            "t": "you",
            "avatar": self.conn,
            "x": spot.x,
            "y": spot.y,
            "area": area,
            "id": id,
        }));
        self.socket.send(frame).await
    }

    async fn refuse_move(
        &mut self,
        id: Option<&str>,
        refusal: MoveRefusal,
    ) -> Result<(), axum::Error> {
        let message = match refusal {
            MoveRefusal::NotOnMap => Refusal::new("not_on_map", "Bitte zuerst die Karte betreten."),
            MoveRefusal::Blocked => Refusal::new("blocked", "Dort geht es nicht weiter."),
            MoveRefusal::TooFar => Refusal::new(
                "too_far",
                format!("Schritte gehen höchstens {MAX_STEP} Felder weit."),
            ),
            MoveRefusal::TooFast => Refusal::new("too_fast", "Zu viele Schritte auf einmal."),
        };
        self.socket
            .send(error_frame(id, &message, self.lang))
            .await?;
        self.correct().await
    }

    /// Tells the client where its avatar really stands.
    async fn correct(&mut self) -> Result<(), axum::Error> {
        if !self.on_map {
            return Ok(());
        }
        match self
            .live
            .maps
            .enter(self.info.event.id, self.conn, &self.actor.who.name, None)
        {
            Some(spot) => self.you(spot, None).await,
            None => Ok(()),
        }
    }

    /// Takes a step that the map allows: walking into an area joins its room (a full one
    /// refuses, and the avatar stays where it was); walking out of it leaves the room.
    async fn walk_to(&mut self, spot: Spot, id: Option<&str>) -> Result<(), axum::Error> {
        let event = self.info.event.id;
        let target = spot
            .area
            .and_then(|i| self.venue().areas.get(i).cloned())
            .map(|a| a.target);
        let room_now = self.room.as_ref().map(|r| r.slug.clone());
        match target {
            Some(AreaTarget::Room { room }) if room_now.as_deref() != Some(room.as_str()) => {
                // Rooms added since this connection opened are on the map too.
                let info = match self.live.info(&self.info.event.slug).await {
                    Ok(info) => info,
                    Err(_) => self.info.clone(),
                };
                let Some(room) = info.room(&room).cloned() else {
                    return self.correct().await;
                };
                if let Err(refusal) = self.take_seat_at(&room).await {
                    self.socket
                        .send(error_frame(id, &refusal, self.lang))
                        .await?;
                    return self.correct().await;
                }
                match self
                    .live
                    .fanout
                    .join(event, self.conn, &room.slug, room.capacity)
                {
                    Ok(joined) => {
                        self.live.maps.place(event, self.conn, spot);
                        self.joined(room, joined).await?;
                    }
                    Err(JoinRefusal::Full | JoinRefusal::Gone) => {
                        self.refuse_full(&room, id).await?;
                        return self.correct().await;
                    }
                }
            }
            Some(AreaTarget::Room { .. }) => self.live.maps.place(event, self.conn, spot),
            _ => {
                self.live.maps.place(event, self.conn, spot);
                if room_now.is_some() {
                    self.leave().await?;
                }
            }
        }
        if id.is_some() {
            self.you(spot, id).await?;
        }
        Ok(())
    }

    /// A café table whose round is running seats whoever walks up to it (K9: "Sie begeben
    /// sich auf der Karte selbstständig zum ausgewählten Thema"); a full table refuses.
    async fn take_seat_at(&mut self, room: &Room) -> Result<(), Refusal> {
        if room.kind != konvent_core::konvent::RoomKind::Table {
            return Ok(());
        }
        let rounds = self
            .live
            .store
            .rounds(self.info.event.id)
            .await
            .map_err(super::refusal)?;
        let Some(table) = rounds
            .iter()
            .filter(|r| r.status == konvent_core::strategy::RoundStatus::Running)
            .flat_map(|r| &r.tables)
            .find(|t| t.room_slug == room.slug)
        else {
            return Ok(());
        };
        let seat = Command::Seat {
            id: None,
            table: table.id,
            user: None,
        };
        super::run(
            &self.live,
            &self.info,
            &self.actor,
            self.room.as_ref(),
            seat,
        )
        .await
        .map(|_| ())
    }

    async fn join(&mut self, slug: &str) -> Result<(), axum::Error> {
        let Some(room) = self.info.room(slug).cloned() else {
            let refusal = Refusal::new("unknown_room", "Diesen Raum gibt es nicht.");
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
    async fn refuse_full(&mut self, room: &Room, id: Option<&str>) -> Result<(), axum::Error> {
        let others: Vec<&str> = self
            .info
            .rooms
            .iter()
            .filter(|r| r.id != room.id)
            .map(|r| r.name.as_str())
            .collect();
        let refusal = Refusal::new(
            "full",
            format!(
                "{} ist leider voll ({} Personen). Andere Räume: {}.",
                room.name,
                room.capacity,
                others.join(", ")
            ),
        );
        self.socket.send(error_frame(id, &refusal, self.lang)).await
    }

    /// Answers a successful join with the room's state, and tells both rooms the new
    /// headcounts.
    async fn joined(&mut self, room: Room, joined: Joined) -> Result<(), axum::Error> {
        let event = self.info.event.id;
        let store = &self.live.store;
        let records = store
            .live_recent(event, Some(&room.slug), "chat", HISTORY)
            .await
            .unwrap_or_default();
        let chat: Vec<Value> = records
            .iter()
            .filter_map(|r| serde_json::from_str(&ev_frame(r, None)).ok())
            .collect();
        let waiting: Vec<Person> = store
            .speaker_queue(room.id)
            .await
            .unwrap_or_default()
            .into_iter()
            .map(|w| Person {
                id: w.id,
                name: w.name,
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
    fn announce_presence(&self, left: Option<(Arc<str>, Presence)>) {
        if let Some((room, _)) = left {
            self.live.fanout.presence_changed(self.info.event.id, &room);
            self.live.maps.counts_changed(self.info.event.id);
        }
    }
}

#[cfg(test)]
mod tests;
