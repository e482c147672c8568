//! The live hub through real WebSockets: resume after a disconnect, acknowledgements after
//! commit, the microphone rule, who may do what, bad frames and refused upgrades, the rate
//! limit, slow consumers, and resuming while the event is busy.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use konvent_core::authz::Role;
use konvent_core::demo;
use konvent_store::LiveRecord;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use crate::helpers::{TestApp, spawn_app, spawn_app_with};
use crate::ws::{
    Client, Socket, WAIT, connect, connect_small_buffer, log, log_len, parse, participants, request,
};

/// `kind:text` of every `ev` frame.
fn ev_texts(frames: &[Value]) -> Vec<String> {
    frames
        .iter()
        .filter(|f| f["t"] == "ev")
        .map(|f| {
            format!(
                "{}:{}",
                f["kind"].as_str().unwrap_or(""),
                f["data"]["text"].as_str().unwrap_or("")
            )
        })
        .collect()
}

fn no_errors(frames: Vec<Value>) -> bool {
    frames.iter().all(|f| f["t"] != "error")
}

fn ev_seqs(frames: &[Value]) -> Vec<i64> {
    frames
        .iter()
        .filter(|f| f["t"] == "ev")
        .map(|f| f["seq"].as_i64().expect("ev with seq"))
        .collect()
}

/// The stored entry with this sequence number.
async fn stored(app: &TestApp, seq: i64) -> LiveRecord {
    let entries = log(app, seq - 1).await;
    let first = entries.into_iter().next().expect("an entry");
    assert_eq!(first.seq, seq, "entry {seq} is stored");
    first
}

#[tokio::test]
async fn a_client_that_resumes_gets_exactly_what_it_missed() {
    let app = spawn_app().await;
    let people = participants(&app, 3).await;
    let anna_id = people[0].1;
    let admin = app.admin().await.cookie;
    let goebel = app.account_id(demo::KONVENT_MODERATOR.0).await;

    let mut anna = connect(&app, &people[0].0, "?room=plenum").await;
    let last = anna
        .acked(json!({ "t": "chat", "id": "a1", "text": "vor der Pause" }))
        .await;
    let seen = anna.through(last).await;
    assert_eq!(ev_seqs(&seen), vec![last], "Anna saw her own line");
    drop(anna);

    let mut bert = connect(&app, &people[1].0, "?room=plenum").await;
    bert.acked(json!({ "t": "chat", "id": "b1", "text": "p1" }))
        .await;
    let mut organizer = connect(&app, &admin, "").await;
    organizer
        .acked(json!({ "t": "announce", "id": "n1", "text": "Durchsage" }))
        .await;
    bert.acked(json!({ "t": "chat", "id": "b2", "text": "p2" }))
        .await;
    bert.send(json!({ "t": "join", "room": "lounge" })).await;
    bert.until(|f| f["t"] == "joined").await;
    bert.acked(json!({ "t": "chat", "id": "b3", "text": "nur in der Lounge" }))
        .await;
    let mut carl = connect(&app, &people[2].0, "").await;
    // Messages between others: to the help desk, and to the moderator.
    carl.acked(json!({ "t": "dm", "id": "d1", "to_helpdesk": true, "text": "geheim" }))
        .await;
    carl.acked(json!({ "t": "dm", "id": "d2", "to": goebel, "text": "an die Moderation" }))
        .await;
    bert.acked(json!({ "t": "hand", "id": "h1", "up": true }))
        .await; // a hand in the lounge
    bert.send(json!({ "t": "join", "room": "plenum" })).await;
    bert.until(|f| f["t"] == "joined").await;
    let p3 = bert
        .acked(json!({ "t": "chat", "id": "b4", "text": "p3" }))
        .await;

    let mut anna = connect(&app, &people[0].0, &format!("?room=plenum&since={last}")).await;
    assert_eq!(anna.hello["t"], "hello");
    let joined = anna.until(|f| f["t"] == "joined").await;
    assert_eq!(joined["room"], "plenum");
    let replay = anna.replay().await;
    let upto = anna.replayed;
    assert!(upto >= last);
    assert!(
        ev_seqs(&replay).iter().all(|s| *s > last && *s <= upto),
        "replayed: {:?} up to {upto}",
        ev_seqs(&replay)
    );
    // Entries committed a moment before she came back may still have been on their way
    // to connections: they follow live, right after the replay.
    let live = if upto < p3 {
        anna.through(p3).await
    } else {
        Vec::new()
    };
    assert!(ev_seqs(&live).iter().all(|s| *s > upto));
    let missed: Vec<Value> = replay.into_iter().chain(live).collect();
    assert_eq!(
        ev_texts(&missed),
        vec!["chat:p1", "announcement:Durchsage", "chat:p2", "chat:p3"],
        "exactly the missed plenum lines and the announcement, in order: {missed:?}"
    );
    // Exactly what the log holds for her after `last`: no gaps, no duplicates.
    let expected: Vec<i64> = log(&app, last)
        .await
        .iter()
        .filter(|r| r.room.as_deref().is_none_or(|room| room == "plenum"))
        .filter(|r| r.visible_to(anna_id, false))
        .map(|r| r.seq)
        .collect();
    assert_eq!(ev_seqs(&missed), expected);
    assert!(
        !missed.iter().any(|f| f["kind"] == "dm"),
        "no foreign messages"
    );

    // Live frames continue after the replay, and nothing is sent twice.
    let p4 = bert
        .acked(json!({ "t": "chat", "id": "b5", "text": "p4" }))
        .await;
    carl.acked(json!({ "t": "dm", "id": "d3", "to": goebel, "text": "noch was" }))
        .await;
    let n2 = organizer
        .acked(json!({ "t": "announce", "id": "n2", "text": "Zweite Durchsage" }))
        .await;
    let rest = anna.through(n2).await;
    assert_eq!(
        ev_texts(&rest),
        vec!["chat:p4", "announcement:Zweite Durchsage"],
        "{rest:?}"
    );
    assert_eq!(ev_seqs(&rest)[0], p4);
    assert!(ev_seqs(&rest)[0] > *expected.last().expect("replayed something"));
}

#[tokio::test]
async fn acknowledged_commands_are_stored_once() {
    let app = spawn_app().await;
    let people = participants(&app, 2).await;
    let anna_id = people[0].1;
    let mut anna = connect(&app, &people[0].0, "?room=plenum").await;
    let mut bert = connect(&app, &people[1].0, "?room=plenum").await;

    // Every acknowledged sequence number is in the store, with what was sent.
    let mut seqs = Vec::new();
    for (frame, kind) in [
        (json!({ "t": "chat", "id": "c1", "text": "einmal" }), "chat"),
        (json!({ "t": "hand", "id": "c2", "up": true }), "hand"),
        (
            json!({ "t": "ask", "id": "c3", "text": "Eine Frage?", "anonymous": false }),
            "question",
        ),
        (
            json!({ "t": "dm", "id": "c4", "to_helpdesk": true, "text": "Hilfe" }),
            "dm",
        ),
    ] {
        let seq = anna.acked(frame.clone()).await;
        let entry = stored(&app, seq).await;
        assert_eq!(entry.kind, kind, "{frame}");
        assert_eq!(entry.sender_id, Some(anna_id), "{frame}");
        seqs.push(seq);
    }
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    let first = stored(&app, seqs[0]).await;
    assert_eq!(first.data["text"], "einmal");
    // Bert sees the line and the hand, not the question waiting for approval nor the
    // message to the help desk.
    let bert_saw = bert.through(seqs[1]).await;
    assert_eq!(ev_seqs(&bert_saw), seqs[..2]);

    // Re-sent with the same id, on the same connection and after a reconnect: the first
    // entry is acknowledged again, nothing is stored or broadcast twice.
    let before = log_len(&app).await;
    let again = anna.chat("c1", "einmal").await;
    assert_eq!(again["t"], "ack");
    assert_eq!(
        again["seq"], first.seq,
        "the first entry is acknowledged again"
    );
    drop(anna);
    let mut anna = connect(&app, &people[0].0, "?room=plenum").await;
    let again = anna.chat("c1", "einmal").await;
    assert_eq!(again["seq"], first.seq);
    let again = anna
        .command(json!({ "t": "hand", "id": "c2", "up": true }))
        .await;
    assert_eq!(again["t"], "ack");
    assert_eq!(log_len(&app).await, before, "nothing stored twice");
    // The same id from somebody else is a different command.
    let bert_seq = bert
        .acked(json!({ "t": "chat", "id": "c1", "text": "auch" }))
        .await;
    assert_eq!(bert_seq, seqs[3] + 1);
    assert_eq!(stored(&app, bert_seq).await.data["text"], "auch");
    let bert_saw = bert.through(bert_seq).await;
    assert_eq!(
        ev_seqs(&bert_saw),
        vec![bert_seq],
        "nothing broadcast twice: {bert_saw:?}"
    );
}

#[tokio::test]
async fn the_microphone_rule_switches_at_the_twentieth_joiner() {
    let app = spawn_app().await;
    let people = participants(&app, 21).await;
    let mut clients = Vec::new();
    for (i, (c, _)) in people.iter().take(20).enumerate() {
        let mut client = connect(&app, c, "?room=plenum").await;
        let joined = client.until(|f| f["t"] == "joined").await;
        assert_eq!(joined["count"], i as i64 + 1);
        assert_eq!(joined["threshold"], 20);
        assert_eq!(
            joined["muted"],
            i + 1 >= 20,
            "joiner {} muted: {}",
            i + 1,
            joined["muted"]
        );
        clients.push(client);
    }
    // Everybody in the room learns that the rule is in force.
    for client in &mut clients {
        let presence = client
            .until(|f| f["t"] == "presence" && f["count"] == 20)
            .await;
        assert_eq!(presence["muted"], true);
        assert_eq!(presence["threshold"], 20);
        assert_eq!(presence["room"], "plenum");
    }
    // Two leave: under the threshold the rule is off and the next joiner is not muted.
    drop(clients.pop());
    drop(clients.pop());
    let presence = clients[0]
        .until(|f| f["t"] == "presence" && f["count"] == 18)
        .await;
    assert_eq!(presence["muted"], false);
    let mut late = connect(&app, &people[20].0, "?room=plenum").await;
    let joined = late.until(|f| f["t"] == "joined").await;
    assert_eq!(joined["count"], 19);
    assert_eq!(joined["muted"], false);
}

#[tokio::test]
async fn participants_cannot_give_the_floor_announce_or_read_others_messages() {
    let app = spawn_app().await;
    let people = participants(&app, 3).await;
    let goebel = app.account_id(demo::KONVENT_MODERATOR.0).await;
    let mut anna = connect(&app, &people[0].0, "?room=plenum").await;
    let mut bert = connect(&app, &people[1].0, "?room=plenum").await;
    let mut carl = connect(&app, &people[2].0, "?room=plenum").await;
    let before = log_len(&app).await;
    let last_seq = log(&app, 0).await.last().map_or(0, |r| r.seq);
    for (i, frame) in [
        json!({ "t": "floor", "user": people[1].1 }),
        json!({ "t": "floor", "user": null }),
        json!({ "t": "announce", "text": "Achtung" }),
        json!({ "t": "agenda", "current": 2 }),
        json!({ "t": "timer", "action": "start", "seconds": 300 }),
        json!({ "t": "moderate", "question": 1, "status": "approved" }),
        json!({ "t": "dm", "to": people[1].1, "text": "privat" }),
    ]
    .into_iter()
    .enumerate()
    {
        let mut frame = frame;
        frame["id"] = json!(format!("x{i}"));
        let answer = anna.command(frame.clone()).await;
        assert_eq!(answer["t"], "error", "{frame}");
        assert_eq!(answer["code"], "forbidden", "{frame} → {answer}");
    }
    assert_eq!(log_len(&app).await, before, "nothing was stored");

    // A message to the help desk reaches its helpers and the sender, nobody else; one to
    // the moderator reaches the moderator and the sender.
    let mut desks = Vec::new();
    for (email, _) in demo::KONVENT_HELPERS {
        let helper = app.sign_in_existing(email).await.cookie;
        desks.push(connect(&app, &helper, "").await);
    }
    let chair_cookie = app.sign_in_existing(demo::KONVENT_MODERATOR.0).await.cookie;
    let mut chair = connect(&app, &chair_cookie, "?room=plenum").await;
    assert_eq!(chair.hello["you"]["organizer"], true);
    assert!(
        chair.hello["you"]["moderates"]
            .as_array()
            .is_some_and(|m| m.contains(&json!("plenum"))),
        "{}",
        chair.hello
    );
    let to_desk = bert
        .acked(json!({ "t": "dm", "id": "h1", "to_helpdesk": true, "text": "Ton weg" }))
        .await;
    let to_chair = bert
        .acked(json!({ "t": "dm", "id": "h2", "to": goebel, "text": "Frage an Sie" }))
        .await;
    // An announcement after them: what each one was sent up to it.
    let notice = chair
        .acked(json!({ "t": "announce", "id": "n", "text": "Gleich geht es weiter" }))
        .await;
    for desk in &mut desks {
        let seen = desk.through(notice).await;
        assert_eq!(ev_seqs(&seen), vec![to_desk, notice], "{seen:?}");
        let dm = seen.iter().find(|f| f["seq"] == to_desk).expect("dm");
        assert_eq!(dm["kind"], "dm");
        assert_eq!(dm["data"]["text"], "Ton weg");
        assert_eq!(dm["data"]["to_helpdesk"], true);
        assert_eq!(dm["data"]["from"]["id"], people[1].1.get());
    }
    // The moderator is an organizer too: the help desk's messages and their own.
    let seen = chair.through(notice).await;
    assert_eq!(ev_seqs(&seen), vec![to_desk, to_chair, notice]);
    let dm = seen.iter().find(|f| f["seq"] == to_chair).expect("dm");
    assert_eq!(dm["data"]["to"]["id"], goebel.get());
    let seen = bert.through(notice).await;
    assert_eq!(
        ev_seqs(&seen),
        vec![to_desk, to_chair, notice],
        "the sender sees both"
    );
    for other in [&mut anna, &mut carl] {
        let seen = other.through(notice).await;
        assert_eq!(ev_seqs(&seen), vec![notice], "{seen:?}");
    }
    // Nor on replay.
    let mut again = connect(&app, &people[0].0, "?room=plenum&since=0").await;
    let replay = again.replay().await;
    assert!(!replay.is_empty());
    assert!(!replay.iter().any(|f| f["kind"] == "dm"), "{replay:?}");
    // The sender's replay has both.
    let mut bert_again = connect(&app, &people[1].0, &format!("?since={last_seq}")).await;
    let replay = bert_again.replay().await;
    assert_eq!(ev_seqs(&replay), vec![to_desk, to_chair, notice]);

    // Hands in the order they went up; the moderator gives the floor; everybody in the
    // room sees speaker and queue.
    carl.acked(json!({ "t": "hand", "id": "up", "up": true }))
        .await;
    bert.acked(json!({ "t": "hand", "id": "up", "up": true }))
        .await;
    anna.acked(json!({ "t": "hand", "id": "up", "up": true }))
        .await;
    let floor = chair
        .acked(json!({ "t": "floor", "id": "f1", "user": people[1].1 }))
        .await;
    for client in [&mut anna, &mut bert, &mut carl, &mut chair] {
        let f = client
            .until(|f| f["t"] == "ev" && f["kind"] == "floor")
            .await;
        assert_eq!(f["seq"], floor);
        assert_eq!(f["room"], "plenum");
        assert_eq!(f["data"]["speaker"]["id"], people[1].1.get());
        let queue: Vec<i64> = f["data"]["queue"]
            .as_array()
            .expect("queue")
            .iter()
            .map(|w| w["id"].as_i64().expect("id"))
            .collect();
        assert_eq!(
            queue,
            vec![people[2].1.get(), people[0].1.get()],
            "hands in raise order"
        );
    }
    // A newcomer to the room gets speaker and queue with `joined`.
    let mut late = connect(&app, &people[2].0, "?room=plenum").await;
    let joined = late.until(|f| f["t"] == "joined").await;
    assert_eq!(joined["speaker"]["id"], people[1].1.get());
    assert_eq!(joined["queue"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn bad_frames_get_reasons_and_never_crash_the_server() {
    let app = spawn_app().await;
    let people = participants(&app, 2).await;
    let mut anna = connect(&app, &people[0].0, "?room=plenum").await;
    let before = log_len(&app).await;
    for bad in [
        "{",
        "null",
        "[]",
        r#"{"t":"explode"}"#,
        r#"{"t":"chat","text":7}"#,
        r#"{"text":"no type"}"#,
    ] {
        anna.ws.send(Message::Text(bad.into())).await.expect("sent");
        let answer = anna.until(|f| f["t"] == "error").await;
        assert_eq!(answer["code"], "bad_frame", "{bad}");
        assert!(answer["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(
            no_errors(anna.drain().await),
            "one error, and pings answered"
        );
    }
    anna.ws
        .send(Message::Binary(vec![1u8, 2, 3].into()))
        .await
        .expect("sent");
    assert_eq!(anna.until(|f| f["t"] == "error").await["code"], "bad_frame");
    assert!(
        no_errors(anna.drain().await),
        "one error, and pings answered"
    );
    let long = anna.chat("long", &"x".repeat(2001)).await;
    assert_eq!(long["code"], "invalid");
    let empty = anna.chat("empty", "   ").await;
    assert_eq!(empty["code"], "invalid");
    assert_eq!(log_len(&app).await, before, "nothing stored");
    // Just under the frame limit is fine (a command with an overlong id is refused, but
    // the socket stays).
    let near = json!({ "t": "chat", "id": "n".repeat(15_000), "text": "hallo" }).to_string();
    assert!(near.len() < 16 * 1024);
    anna.ws
        .send(Message::Text(near.into()))
        .await
        .expect("sent");
    assert_eq!(anna.until(|f| f["t"] == "error").await["code"], "bad_frame");
    assert!(
        no_errors(anna.drain().await),
        "one error, and pings answered"
    );

    // Over 16 KiB: closed with 1009 and a reason.
    let huge = json!({ "t": "chat", "text": "x".repeat(20_000) }).to_string();
    let _ = anna.ws.send(Message::Text(huge.into())).await;
    let closed = loop {
        match tokio::time::timeout(WAIT, anna.ws.next())
            .await
            .expect("answer")
        {
            Some(Ok(Message::Close(Some(frame)))) => break Some(frame),
            Some(Ok(_)) => continue,
            _ => break None,
        }
    };
    let frame = closed.expect("a close frame with a reason");
    assert_eq!(u16::from(frame.code), 1009);
    assert!(frame.reason.contains("too large"), "{}", frame.reason);
    assert_eq!(log_len(&app).await, before, "nothing stored");

    // The server goes on serving, the same person too.
    let mut bert = connect(&app, &people[1].0, "?room=plenum").await;
    assert_eq!(bert.chat("ok", "weiter geht's").await["t"], "ack");
    let mut anna = connect(&app, &people[0].0, "?room=plenum").await;
    assert_eq!(anna.chat("wieder", "wieder da").await["t"], "ack");
}

#[tokio::test]
async fn upgrades_are_refused_to_strangers() {
    let app = spawn_app().await;
    let status = |r: Result<Client, WsError>| match r {
        Err(WsError::Http(response)) => {
            let body: Value =
                serde_json::from_slice(response.body().as_deref().unwrap_or_default())
                    .expect("a JSON error body");
            assert!(body["error"]["code"].is_string(), "{body}");
            response.status().as_u16()
        }
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("connected"),
    };
    assert_eq!(status(request(&app, None, "", None).await), 401);
    assert_eq!(
        status(request(&app, Some("konvent_session=forged"), "", None).await),
        401
    );
    let stranger = app.user_named(Role::Participant, "fremd").await.cookie;
    assert_eq!(status(request(&app, Some(&stranger), "", None).await), 403);
    let people = participants(&app, 1).await;
    assert_eq!(
        status(request(&app, Some(&people[0].0), "", Some("https://evil.example")).await),
        403
    );
    assert_eq!(
        status(request(&app, Some(&people[0].0), "?room=keller", None).await),
        404
    );
    // The server's own origin is welcome.
    let own = app.address.clone();
    let mut ok = request(&app, Some(&people[0].0), "?room=plenum", Some(&own))
        .await
        .expect("same origin connects");
    assert_eq!(ok.until(|f| f["t"] == "joined").await["room"], "plenum");
}

#[tokio::test]
async fn the_eleventh_line_in_ten_seconds_is_rate_limited() {
    let app = spawn_app().await;
    let people = participants(&app, 2).await;
    let mut anna = connect(&app, &people[0].0, "?room=plenum").await;
    for i in 0..10 {
        assert_eq!(anna.chat(&format!("r{i}"), "hallo").await["t"], "ack");
    }
    let before = log_len(&app).await;
    let refused = anna.chat("r10", "hallo").await;
    assert_eq!(refused["t"], "error");
    assert_eq!(refused["code"], "rate_limited");
    // Direct messages and questions share the budget.
    let refused = anna
        .command(json!({ "t": "ask", "id": "q", "text": "Frage?", "anonymous": true }))
        .await;
    assert_eq!(refused["code"], "rate_limited");
    assert_eq!(log_len(&app).await, before, "nothing stored");
    // The limit is per person.
    let mut bert = connect(&app, &people[1].0, "?room=plenum").await;
    assert_eq!(bert.chat("b", "ich darf").await["t"], "ack");
    // Organizers have a larger budget (100 per 10 s).
    let admin = app.admin().await.cookie;
    let mut organizer = connect(&app, &admin, "?room=plenum").await;
    for i in 0..15 {
        assert_eq!(organizer.chat(&format!("o{i}"), "Orga").await["t"], "ack");
    }
}

/// What a background reader saw: every `ev` frame's seq in arrival order, the last frame
/// (the stop announcement, a close frame, or how the socket ended), and the socket.
type Collected = (Vec<i64>, Value, Socket);

/// Reads a socket in the background until an announcement with `stop` as its text
/// arrives or the socket ends; the socket stays open.
fn collect_until(mut ws: Socket, stop: &'static str) -> tokio::task::JoinHandle<Collected> {
    tokio::spawn(async move {
        let mut seqs = Vec::new();
        loop {
            let msg = match tokio::time::timeout(Duration::from_secs(30), ws.next()).await {
                Ok(Some(Ok(msg))) => msg,
                Ok(other) => {
                    let end = json!({ "t": "end", "end": format!("{other:?}") });
                    return (seqs, end, ws);
                }
                Err(_) => return (seqs, json!({ "t": "timeout" }), ws),
            };
            for f in parse(msg) {
                if f["t"] == "close" {
                    return (seqs, f, ws);
                }
                if f["t"] == "ev" {
                    seqs.push(f["seq"].as_i64().expect("seq"));
                    if f["data"]["text"] == stop {
                        return (seqs, f, ws);
                    }
                }
            }
        }
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_that_stops_reading_is_closed_and_the_others_get_every_frame() {
    // Without the write budget: organizers get 100 commands per 10 s, and this test
    // needs hundreds of announcements.
    let app = spawn_app_with(|s| s.live_writes_per_10s = 0).await;
    let people = participants(&app, 2).await;
    let admin = app.admin().await.cookie;
    let open = || app.state.metrics.live.connections.get();

    let mut stalled = connect_small_buffer(&app, &people[0].0, "?room=plenum").await;
    stalled.drain().await; // from here on it reads nothing
    let healthy = connect(&app, &people[1].0, "?room=plenum").await;
    let healthy = collect_until(healthy.ws, "ENDE");
    let organizer = connect(&app, &admin, "").await;
    assert_eq!(open(), 3);
    assert_eq!(app.state.live.fanout.slow_kicks(), 0);

    // The organizer announces until the stalled client is closed:
    // frames of about 3 KB fill its socket buffers (some MB on loopback) and then its
    // queue of 1024 frames.
    let (mut sink, mut stream) = organizer.ws.split();
    let (acks_tx, mut acks) = tokio::sync::mpsc::unbounded_channel::<i64>();
    let reader = tokio::spawn(async move {
        while let Some(Ok(msg)) = stream.next().await {
            for f in parse(msg).into_iter().filter(|f| f["t"] == "ack") {
                let _ = acks_tx.send(f["seq"].as_i64().expect("seq"));
            }
        }
    });
    let text = "Durchsage ".repeat(150);
    let started = Instant::now();
    let mut acked = Vec::new();
    let mut n = 0;
    while app.state.live.fanout.slow_kicks() == 0 {
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the stalled client was not closed after {n} announcements"
        );
        for _ in 0..50 {
            n += 1;
            let frame = json!({ "t": "announce", "id": format!("a{n}"), "text": text });
            sink.send(Message::Text(frame.to_string().into()))
                .await
                .expect("sent");
        }
        while acked.len() < n {
            let seq = tokio::time::timeout(WAIT, acks.recv())
                .await
                .expect("ack in time")
                .expect("ack");
            acked.push(seq);
        }
        // A breath between batches: the stalled connection moves what it has into its
        // socket until the socket takes no more, and only then does its queue fill (the
        // case of a client that really went away).
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let frame = json!({ "t": "announce", "id": "ende", "text": "ENDE" });
    sink.send(Message::Text(frame.to_string().into()))
        .await
        .expect("sent");
    acked.push(acks.recv().await.expect("ack"));
    eprintln!(
        "slow consumer kicked after {n} announcements in {:?}",
        started.elapsed()
    );

    // The server lets go of the stalled connection although its client still reads
    // nothing.
    let deadline = Instant::now() + Duration::from_secs(5);
    while open() != 2 {
        assert!(
            Instant::now() < deadline,
            "the stalled connection is still open ({} open)",
            open()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(app.state.live.fanout.slow_kicks(), 1, "counted once");

    // The healthy client got every announcement, in order.
    let (seqs, last, _healthy) = tokio::time::timeout(Duration::from_secs(30), healthy)
        .await
        .expect("in time")
        .expect("reader");
    assert_eq!(last["data"]["text"], "ENDE", "{last}");
    assert_eq!(seqs, acked, "every frame, in order");
    assert!(
        acked.windows(2).all(|w| w[1] == w[0] + 1),
        "one writer, no gaps"
    );

    // The stalled client, reading again, finds a prefix of the frames and then the end
    // of the connection (a 4008 close, unless the close frame could not be written).
    let (got, end, _) =
        tokio::time::timeout(Duration::from_secs(30), collect_until(stalled.ws, "ENDE"))
            .await
            .expect("in time")
            .expect("reader");
    assert_ne!(end["data"]["text"], "ENDE", "it was cut off: {end}");
    if end["t"] == "close" {
        assert_eq!(end["code"], 4008, "{end}");
        assert!(
            end["reason"].as_str().is_some_and(|r| r.contains("slow")),
            "{end}"
        );
    }
    assert!(got.len() < acked.len());
    assert_eq!(
        got[..],
        acked[..got.len()],
        "what it got is in order without gaps"
    );
    // It resumes from its last seq and gets the rest exactly.
    let since = got.last().copied().unwrap_or(acked[0] - 1);
    let mut again = connect(&app, &people[0].0, &format!("?room=plenum&since={since}")).await;
    let replay = again.replay().await;
    assert_eq!(ev_seqs(&replay), acked[got.len()..]);
    drop(sink);
    reader.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resuming_while_the_event_is_busy_gives_every_entry_exactly_once() {
    // Announcements as fast as they are acknowledged: this tests resume, not the budget.
    let app = spawn_app_with(|s| s.live_writes_per_10s = 0).await;
    let people = participants(&app, 1).await;
    let admin = app.admin().await.cookie;

    let mut organizer = connect(&app, &admin, "").await;
    organizer.drain().await;
    let start = organizer.hello["seq"].as_i64().expect("seq");
    let done = Arc::new(AtomicBool::new(false));
    let writer = {
        let done = done.clone();
        tokio::spawn(async move {
            let mut last = 0;
            let mut i = 0;
            while !done.load(Ordering::SeqCst) || i < 20 {
                i += 1;
                last = organizer
                    .acked(
                        json!({ "t": "announce", "id": format!("w{i}"), "text": format!("{i}") }),
                    )
                    .await;
            }
            (i, last)
        })
    };

    // The reader drops its connection after a few frames and resumes from the last seq
    // it saw, again and again, while the announcements keep coming.
    let mut seen: Vec<i64> = Vec::new();
    let mut last = start;
    for round in 0..40 {
        let mut client = connect(&app, &people[0].0, &format!("?since={last}")).await;
        loop {
            let f = client.next().await;
            if f["t"] == "ev" {
                let seq = f["seq"].as_i64().expect("seq");
                seen.push(seq);
                last = seq;
            }
            if f["t"] == "replayed" {
                assert!(f["seq"].as_i64().expect("seq") >= last, "{f}");
                break;
            }
        }
        // A few live frames (more in later rounds), then away.
        for _ in 0..(round % 5) {
            let f = client.until(|f| f["t"] == "ev").await;
            let seq = f["seq"].as_i64().expect("seq");
            seen.push(seq);
            last = seq;
        }
    }
    done.store(true, Ordering::SeqCst);
    let (count, end) = writer.await.expect("writer");
    let mut client = connect(&app, &people[0].0, &format!("?since={last}")).await;
    seen.extend(ev_seqs(&client.replay().await));
    while seen.last() != Some(&end) {
        let f = client.until(|f| f["t"] == "ev").await;
        seen.push(f["seq"].as_i64().expect("seq"));
    }
    let expected: Vec<i64> = (start + 1..=end).collect();
    assert_eq!(end - start, count as i64);
    if seen != expected {
        let dups: Vec<&[i64]> = seen.windows(2).filter(|w| w[1] <= w[0]).collect();
        let gaps: Vec<&[i64]> = seen.windows(2).filter(|w| w[1] > w[0] + 1).collect();
        panic!(
            "{} entries seen for {} written; out of order or twice: {dups:?}; gaps: {gaps:?}",
            seen.len(),
            expected.len()
        );
    }
}
