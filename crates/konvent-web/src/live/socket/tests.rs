//! The live socket's logic against channels instead of a network (axum's
//! testing-websockets example): what a connection writes, in what order, and how it
//! ends. The tests of the hub's frames and of the goodbyes give the hub a database it
//! never reads (an empty one in memory: [`Live`] owns a store); only the tests that run
//! a command or replay the log open the demo data on disk, as the integration tests do.

use konvent_core::ids::{AccountId, EventId};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_channel::mpsc;
use futures_util::{SinkExt, StreamExt};
use jiff::Timestamp;
use konvent_core::authz::Principal;
use konvent_core::convention::live::MAX_FRAME_BYTES;
use konvent_core::convention::log::Audience;
use konvent_core::convention::map::generate;
use konvent_core::demo;
use konvent_live::{Entry, LiveMetrics};
use konvent_store::testing::TestStore;
use konvent_store::{Event, Store, Who};
use serde_json::{Value, json};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::{self, Message};

use super::duplex::Duplex;
use super::{CLOSE_RELOAD, CLOSE_SIGNED_OUT, CLOSE_SLOW, CLOSE_TOO_BIG, Connection, LiveQuery};
use crate::i18n::Lang;
use crate::live::{Actor, EventInfo, Live};

const WAIT: Duration = Duration::from_secs(10);
/// The event of the tests without a database.
const EVENT: i64 = 7;

/// A node's live side serving one event.
struct Hub {
    live: Arc<Live>,
    info: Arc<EventInfo>,
    /// The on-disk database, removed at the end.
    _database: Option<TestStore>,
}

impl Hub {
    /// An event known only to the hub: nothing here reads the (empty) database.
    async fn without_database() -> Self {
        let store = Store::connect("sqlite::memory:")
            .await
            .expect("store opens");
        Self {
            live: Live::new(store, LiveMetrics::default(), 0),
            info: Arc::new(EventInfo {
                event: Event {
                    id: EventId::new(EVENT),
                    slug: "testkonvent".into(),
                    title: "Testkonvent".into(),
                    starts_at: Timestamp::UNIX_EPOCH,
                    ends_at: Timestamp::UNIX_EPOCH,
                    house_rules: String::new(),
                    mute_threshold: 20,
                    feedback_url: None,
                    feedback_open: false,
                    current_item: None,
                    timer: None,
                    last_seq: 0,
                },
                agenda: Vec::new(),
                rooms: Vec::new(),
                map: Arc::new(generate(&[])),
            }),
            _database: None,
        }
    }

    /// The demo data's convention on an on-disk SQLite database, with `n` participants.
    async fn with_demo_data(n: usize) -> (Self, Vec<Actor>) {
        let database = TestStore::sqlite().await;
        let store = database.store.clone();
        konvent_store::demo::load(&store, 21)
            .await
            .expect("demo data loads");
        let live = Live::new(store.clone(), LiveMetrics::default(), 0);
        let info = live.info(demo::KONVENT_SLUG).await.expect("event");
        let mut people = Vec::new();
        for token in store
            .load_test_sessions(info.event.id, n)
            .await
            .expect("sessions")
        {
            let principal = store
                .signed_in(&token)
                .await
                .expect("query")
                .expect("signed in");
            let actor = Actor::of(&store, &info, &principal)
                .await
                .expect("query")
                .expect("takes part");
            people.push(actor);
        }
        let hub = Self {
            live,
            info,
            _database: Some(database),
        };
        (hub, people)
    }

    /// Opens a connection as the upgrade does (registered first, then run in a task of
    /// its own) with room for plenty of unread messages.
    fn open(&self, actor: Actor, query: LiveQuery, last_seq: i64) -> Client {
        self.open_with(actor, query, last_seq, 1024)
    }

    /// … whose writes wait once `unread` messages wait for the client.
    fn open_with(&self, actor: Actor, query: LiveQuery, last_seq: i64, unread: usize) -> Client {
        let (sink, from_server) = mpsc::channel(unread);
        let (to_server, stream) = mpsc::channel(16);
        let opened = Connection::open(
            self.live.clone(),
            self.info.clone(),
            actor,
            Lang::De,
            Duplex {
                // The client went away: what the WebSocket reports then.
                sink: sink.sink_map_err(|_| tungstenite::Error::ConnectionClosed),
                stream,
            },
            query,
            super::super::LogPosition {
                last_seq,
                epoch: std::sync::Arc::from("test-epoch"),
            },
        )
        .expect("registered");
        Client {
            conn: opened.this.conn,
            to_server,
            from_server,
            unread: VecDeque::new(),
            task: tokio::spawn(opened.run()),
        }
    }

    /// The hub hands a committed entry to its connections.
    fn deliver(&self, entry: Entry) {
        self.live.fanout.deliver(entry);
    }

    async fn last_seq(&self) -> i64 {
        self.live
            .store
            .last_seq(self.info.event.id)
            .await
            .expect("last seq")
    }

    fn connections(&self) -> i64 {
        self.live.fanout.metrics().connections.get()
    }
}

/// The client's ends of a connection's channels.
struct Client {
    conn: u64,
    /// Frames, or what the WebSocket reports when it could not read one.
    to_server: mpsc::Sender<Result<Message, tungstenite::Error>>,
    from_server: mpsc::Receiver<Message>,
    /// Messages of a frame read, not returned yet (the hub puts several into one frame,
    /// one per line).
    unread: VecDeque<Value>,
    task: JoinHandle<()>,
}

impl Client {
    /// The next message the server wrote; a close frame reads
    /// `{"t":"close","code":…,"reason":…}`.
    async fn next(&mut self) -> Value {
        loop {
            if let Some(message) = self.unread.pop_front() {
                return message;
            }
            let frame = tokio::time::timeout(WAIT, self.from_server.next())
                .await
                .expect("the server writes in time")
                .expect("the connection is open");
            match frame {
                Message::Text(text) => self.unread.extend(
                    text.as_str()
                        .lines()
                        .map(|line| serde_json::from_str::<Value>(line).expect("JSON")),
                ),
                Message::Close(frame) => {
                    let frame = frame.expect("a close frame with a reason");
                    return json!({ "t": "close", "code": u16::from(frame.code), "reason": frame.reason.as_str() });
                }
                other => panic!("unexpected frame {other:?}"),
            }
        }
    }

    /// The next message of type `t`, skipping others.
    async fn until(&mut self, t: &str) -> Value {
        loop {
            let message = self.next().await;
            if message["t"] == t {
                return message;
            }
        }
    }

    /// The sequence numbers of the `ev` frames up to the one numbered `last`.
    async fn ev_seqs_until(&mut self, last: i64) -> Vec<i64> {
        let mut seqs = Vec::new();
        while seqs.last() != Some(&last) {
            let message = self.until("ev").await;
            seqs.push(message["seq"].as_i64().expect("seq"));
        }
        seqs
    }

    async fn send(&mut self, text: &str) {
        self.to_server
            .send(Ok(Message::Text(text.into())))
            .await
            .expect("the connection reads");
    }

    /// What the WebSocket reports for a frame it could not read.
    async fn fail(&mut self, error: tungstenite::Error) {
        self.to_server
            .send(Err(error))
            .await
            .expect("the connection reads");
    }

    /// Waits for the connection to end (it let go of the hub then).
    async fn ended(self) {
        tokio::time::timeout(WAIT, self.task)
            .await
            .expect("the connection ends in time")
            .expect("without a panic");
    }
}

fn query(since: Option<i64>, room: Option<&str>) -> LiveQuery {
    LiveQuery {
        since,
        room: room.map(str::to_owned),
        epoch: None,
        liste: None,
    }
}

fn person(id: i64, name: &str) -> Actor {
    let email = format!("{id}@test.example");
    Actor {
        who: Who::new(AccountId::new(id), name),
        email: email.clone(),
        organizer: false,
        staff: false,
        principal: Principal {
            user_id: AccountId::new(id),
            display_name: name.into(),
            email,
            grants: Vec::new(),
        },
    }
}

/// An event-wide entry of the event without a database.
fn entry(seq: i64) -> Entry {
    direct(seq, Audience::All, None)
}

/// An entry between person 12 and `to`, seen by `audience`.
fn direct(seq: i64, audience: Audience, to: Option<AccountId>) -> Entry {
    let frame =
        konvent_live::Text::from(json!({ "t": "ev", "seq": seq, "kind": "announce" }).to_string());
    Entry {
        event_id: EventId::new(EVENT),
        seq,
        room: None,
        audience,
        sender_id: to.map(|_| AccountId::new(12)),
        recipient_id: to,
        frames: vec![frame.clone(), frame].into_boxed_slice(),
    }
}

#[tokio::test]
async fn hello_comes_first_with_the_sequence_number_the_connection_was_registered_at() {
    let hub = Hub::without_database().await;
    let mut anna = hub.open(person(11, "Anna"), query(None, None), 41);
    let hello = anna.next().await;
    assert_eq!(hello["t"], "hello");
    assert_eq!(hello["seq"], 41);
    assert_eq!(hello["event"], "testkonvent");
    assert_eq!(hello["you"]["id"], 11);
    assert_eq!(anna.next().await, json!({ "t": "replayed", "seq": 41 }));

    // The hub's sequencer counts on from there: a later connection starts after what
    // it handed out (whatever the database said when it connected).
    for seq in 42..=44 {
        hub.deliver(entry(seq));
    }
    assert_eq!(anna.ev_seqs_until(44).await, [42, 43, 44]);
    let mut bert = hub.open(person(12, "Bert"), query(None, None), 41);
    let hello = bert.next().await;
    assert_eq!(hello["t"], "hello");
    assert_eq!(hello["seq"], 44);
}

#[tokio::test]
async fn the_hubs_entries_are_written_in_sequence_order_and_only_those_for_this_person() {
    let hub = Hub::without_database().await;
    let mut anna = hub.open(person(11, "Anna"), query(None, None), 0);
    anna.until("replayed").await;
    hub.deliver(entry(3));
    hub.deliver(direct(2, Audience::Direct, Some(AccountId::new(13))));
    hub.deliver(entry(1));
    hub.deliver(entry(4));
    hub.deliver(direct(5, Audience::Direct, Some(AccountId::new(11))));
    assert_eq!(anna.ev_seqs_until(5).await, [1, 3, 4, 5]);
}

#[tokio::test]
async fn a_client_that_stops_reading_is_told_to_go_with_4008_though_a_write_waits() {
    let hub = Hub::without_database().await;
    // Room for two unread messages: `hello` and `replayed` fill it, the next write waits.
    let mut anna = hub.open_with(person(11, "Anna"), query(None, None), 0, 1);
    let filler = konvent_live::Text::from_static(r#"{"t":"filler"}"#);
    let mut offered = 0;
    while hub.live.fanout.slow_kicks() == 0 {
        assert!(offered < 10_000, "the hub never found the client slow");
        hub.live
            .fanout
            .to_conn(EventId::new(EVENT), anna.conn, filler.clone());
        offered += 1;
        if offered % 64 == 0 {
            tokio::task::yield_now().await;
        }
    }
    // The client reads again: what was written, then the goodbye.
    assert_eq!(anna.next().await["t"], "hello");
    let close = anna.until("close").await;
    assert_eq!(close["code"], CLOSE_SLOW);
    assert_eq!(close["reason"], "slow consumer: resume from your last seq");
    anna.ended().await;
    assert_eq!(hub.connections(), 0);
}

#[tokio::test]
async fn a_frame_too_big_closes_with_1009_and_a_broken_one_with_1002() {
    let hub = Hub::without_database().await;
    let mut anna = hub.open(person(11, "Anna"), query(None, None), 0);
    anna.until("replayed").await;
    // What the WebSocket reports for a message over `max_message_size`.
    anna.fail(tungstenite::Error::Capacity(
        tungstenite::error::CapacityError::MessageTooLong {
            size: 20_000,
            max_size: MAX_FRAME_BYTES,
        },
    ))
    .await;
    let close = anna.until("close").await;
    assert_eq!(close["code"], CLOSE_TOO_BIG);
    assert_eq!(
        close["reason"],
        format!("frame too large (at most {MAX_FRAME_BYTES} bytes)")
    );
    anna.ended().await;

    let mut bert = hub.open(person(12, "Bert"), query(None, None), 0);
    bert.until("replayed").await;
    bert.fail(tungstenite::Error::Protocol(
        tungstenite::error::ProtocolError::UnmaskedFrameFromClient,
    ))
    .await;
    let close = bert.until("close").await;
    assert_eq!(close["code"], 1002);
    assert_eq!(close["reason"], "protocol error");
    bert.ended().await;
    assert_eq!(hub.connections(), 0);
}

#[tokio::test]
async fn a_malformed_frame_gets_an_error_frame_and_the_connection_goes_on() {
    let hub = Hub::without_database().await;
    let mut anna = hub.open(person(11, "Anna"), query(None, None), 0);
    anna.until("replayed").await;
    for bad in [
        "{",
        "null",
        r#"{"t":"explode"}"#,
        r#"{"t":"chat","text":7}"#,
    ] {
        anna.send(bad).await;
        let error = anna.next().await;
        assert_eq!(error["t"], "error", "{bad}");
        assert_eq!(error["code"], "bad_frame", "{bad}");
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
    anna.to_server
        .send(Ok(Message::Binary(Bytes::from_static(&[1, 2, 3]))))
        .await
        .expect("the connection reads");
    assert_eq!(anna.next().await["code"], "bad_frame");
    anna.send(r#"{"t":"ping"}"#).await;
    assert_eq!(anna.next().await, json!({ "t": "pong" }));
}

#[tokio::test]
async fn signing_out_closes_the_accounts_sockets_with_4001_and_no_others() {
    let hub = Hub::without_database().await;
    let mut anna = hub.open(person(11, "Anna"), query(None, None), 0);
    let mut annas_other_tab = hub.open(person(11, "Anna"), query(None, None), 0);
    let mut bert = hub.open(person(12, "Bert"), query(None, None), 0);
    for client in [&mut anna, &mut annas_other_tab, &mut bert] {
        client.until("replayed").await;
    }
    hub.live.signed_out(AccountId::new(11));
    for mut tab in [anna, annas_other_tab] {
        let close = tab.until("close").await;
        assert_eq!(close["code"], CLOSE_SIGNED_OUT);
        assert_eq!(close["reason"], "signed out");
        tab.ended().await;
    }
    bert.send(r#"{"t":"ping"}"#).await;
    assert_eq!(bert.next().await, json!({ "t": "pong" }));
    assert_eq!(hub.connections(), 1);
}

#[tokio::test]
async fn a_client_that_closes_or_goes_away_ends_its_connection() {
    let hub = Hub::without_database().await;
    let mut anna = hub.open(person(11, "Anna"), query(None, None), 0);
    let mut bert = hub.open(person(12, "Bert"), query(None, None), 0);
    anna.until("replayed").await;
    bert.until("replayed").await;
    anna.to_server
        .send(Ok(Message::Close(None)))
        .await
        .expect("the connection reads");
    anna.ended().await;
    bert.to_server.close_channel();
    bert.ended().await;
    assert_eq!(hub.connections(), 0);
}

#[tokio::test]
async fn a_chat_line_is_acknowledged_after_its_commit_and_reaches_the_room() {
    // Needs the database: the command is committed before it is acknowledged, and the
    // joined room's state is read from it.
    let (hub, people) = Hub::with_demo_data(2).await;
    let last = hub.last_seq().await;
    let mut anna = hub.open(people[0].clone(), query(None, Some("plenum")), last);
    let mut bert = hub.open(people[1].clone(), query(None, Some("plenum")), last);
    for client in [&mut anna, &mut bert] {
        assert_eq!(client.until("joined").await["room"], "plenum");
        client.until("replayed").await;
    }
    anna.send(r#"{"t":"chat","id":"c1","text":"Guten Morgen"}"#)
        .await;
    let ack = anna.until("ack").await;
    assert_eq!(ack["id"], "c1");
    let seq = ack["seq"].as_i64().expect("seq");
    assert!(seq > last);
    assert_eq!(bert.ev_seqs_until(seq).await, [seq]);
    let stored = hub
        .live
        .store
        .live_since(hub.info.event.id, last, 10)
        .await
        .expect("log");
    assert_eq!(stored.iter().map(|r| r.seq).collect::<Vec<_>>(), [seq]);
}

#[tokio::test]
async fn a_client_that_resumes_gets_what_it_missed_and_one_ahead_of_the_log_reloads() {
    // Needs the database: the replay reads the log.
    let (hub, people) = Hub::with_demo_data(2).await;
    let before = hub.last_seq().await;
    let mut anna = hub.open(people[0].clone(), query(None, Some("plenum")), before);
    anna.until("replayed").await;
    for n in 1..=3 {
        let line = json!({ "t": "chat", "id": format!("c{n}"), "text": format!("Zeile {n}") });
        anna.send(&line.to_string()).await;
    }
    // Acknowledged after the commit; each entry also comes back through the hub (then
    // the replay below covers all three).
    let (mut written, mut seen) = (Vec::new(), Vec::new());
    while written.len() < 3 || seen.len() < 3 {
        let message = anna.next().await;
        let seq = message["seq"].as_i64();
        match message["t"].as_str() {
            Some("ack") => written.extend(seq),
            Some("ev") => seen.extend(seq),
            _ => {}
        }
    }
    assert_eq!(seen, written);
    let last = *written.last().expect("three lines");

    let mut bert = hub.open(
        people[1].clone(),
        query(Some(before), Some("plenum")),
        before,
    );
    assert_eq!(bert.next().await["seq"], last, "hello");
    assert_eq!(bert.next().await["t"], "joined");
    let mut replayed = Vec::new();
    let end = loop {
        let message = bert.next().await;
        match message["t"].as_str() {
            Some("ev") => replayed.push(message["seq"].as_i64().expect("seq")),
            _ => break message,
        }
    };
    assert_eq!(replayed, written);
    assert_eq!(end, json!({ "t": "replayed", "seq": last }));

    // A client that has seen more than the log holds (a restored backup) reloads.
    let mut ahead = hub.open(people[1].clone(), query(Some(last + 100), None), before);
    assert_eq!(ahead.next().await["t"], "hello");
    let reload = ahead.next().await;
    assert_eq!(reload["t"], "reload");
    assert_eq!(reload["seq"], last);
    assert_eq!(ahead.next().await["code"], CLOSE_RELOAD);
    ahead.ended().await;

    // A `since` that counts in another epoch's log (a restored or replaced database)
    // is not replayed, even when it lies within this log.
    let other_epoch = LiveQuery {
        epoch: Some("an-older-log".into()),
        ..query(Some(before), None)
    };
    let mut stale = hub.open(people[1].clone(), other_epoch, before);
    let hello = stale.next().await;
    assert_eq!(hello["epoch"], "test-epoch");
    assert_eq!(stale.next().await["t"], "reload");
    assert_eq!(stale.next().await["code"], CLOSE_RELOAD);
    stale.ended().await;
}
