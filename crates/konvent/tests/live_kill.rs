//! Durability of the live log against a crash: a server killed with SIGKILL in the middle
//! of a chat burst loses no line that any client saw acknowledged.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

const EVENT: &str = "strategiekonvent-2025";

fn konvent() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_konvent"));
    cmd.env_remove("DATABASE_URL")
        .env_remove("KONVENT_DATA")
        .env_remove("KONVENT_BIND")
        .env("RUST_LOG", "warn");
    cmd
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(data: &str, port: u16) -> Server {
    let child = konvent()
        .args([
            "serve",
            "--data",
            data,
            "--bind",
            &format!("127.0.0.1:{port}"),
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("server starts");
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "server did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Server(child)
}

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The JSON objects of one text frame: the hub sends what one flush holds as one object
/// per line.
fn objects(frame: &str) -> Vec<Value> {
    frame
        .lines()
        .map(|line| serde_json::from_str(line).expect("json"))
        .collect()
}

async fn connect(port: u16, token: &str, query: &str) -> Socket {
    let mut req = format!("ws://127.0.0.1:{port}/konvent/{EVENT}/live{query}")
        .into_client_request()
        .expect("request");
    req.headers_mut().insert(
        "cookie",
        format!("konvent_session={token}").parse().expect("header"),
    );
    tokio_tungstenite::connect_async(req)
        .await
        .expect("connected")
        .0
}

const WRITERS: usize = 60;
/// Each writer sends this many lines at once (the rate limit allows ten per ten seconds).
const LINES: usize = 10;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_killed_mid_burst_keeps_every_acknowledged_line() {
    let dir = std::env::temp_dir().join(format!("konvent-kill-{}", std::process::id()));
    let data = dir.join("data").display().to_string();
    let out = konvent()
        .args([
            "admin",
            "load-test-sessions",
            "--data",
            &data,
            "--event",
            EVENT,
            "--count",
            &WRITERS.to_string(),
        ])
        .output()
        .expect("sessions");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let tokens: Vec<String> = BufReader::new(&out.stdout[..])
        .lines()
        .map(|l| l.expect("utf-8"))
        .collect();
    assert_eq!(tokens.len(), WRITERS);

    let port = free_port();
    let mut server = serve(&data, port);
    let mut sockets = Vec::new();
    for token in &tokens {
        sockets.push(connect(port, token, "?room=plenum").await);
    }
    // Every writer sends its lines at once (each with a unique id) and collects the
    // acknowledgements until the connection dies. The server is killed once some, but
    // far from all, lines are acknowledged.
    let acks = Arc::new(AtomicUsize::new(0));
    let mut writers = Vec::new();
    for (w, mut socket) in sockets.into_iter().enumerate() {
        let acks = acks.clone();
        writers.push(tokio::spawn(async move {
            let mut acked: HashMap<String, i64> = HashMap::new();
            for i in 0..LINES {
                let id = format!("w{w}-{i}");
                let frame = json!({ "t": "chat", "id": id, "text": format!("Zeile {id}") });
                if socket
                    .send(Message::Text(frame.to_string().into()))
                    .await
                    .is_err()
                {
                    return acked;
                }
            }
            while let Ok(Some(Ok(msg))) =
                tokio::time::timeout(Duration::from_secs(10), socket.next()).await
            {
                let Message::Text(t) = msg else { continue };
                for f in objects(&t) {
                    if f["t"] == "ack" {
                        acked.insert(
                            f["id"].as_str().unwrap_or("").to_owned(),
                            f["seq"].as_i64().unwrap_or(0),
                        );
                        acks.fetch_add(1, Ordering::SeqCst);
                    }
                }
            }
            acked
        }));
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    while acks.load(Ordering::SeqCst) < 50 {
        assert!(Instant::now() < deadline, "no acknowledgements");
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    server.0.kill().expect("SIGKILL"); // std's kill sends SIGKILL on Unix
    let _ = server.0.wait();
    let mut acked: HashMap<String, i64> = HashMap::new();
    for w in writers {
        acked.extend(w.await.expect("writer"));
    }
    assert!(
        acked.len() < WRITERS * LINES,
        "the kill landed in the middle of the burst ({} of {} acknowledged)",
        acked.len(),
        WRITERS * LINES
    );

    // Restart on the same data folder and read the whole log.
    let _server = serve(&data, port);
    let stored = read_log(port, &tokens[0], 0).await;
    for (id, seq) in &acked {
        assert_eq!(
            stored.get(id),
            Some(&vec![*seq]),
            "acknowledged line {id} (seq {seq}) is stored exactly once"
        );
    }
    let mut seqs: Vec<i64> = stored.values().flatten().copied().collect();
    seqs.sort_unstable();
    // The chat lines follow the demo's own entries (café rounds, impulses, pins).
    let first = seqs.first().copied().unwrap_or(1);
    assert_eq!(
        seqs,
        (first..first + seqs.len() as i64).collect::<Vec<_>>(),
        "every stored line once, sequence numbers without holes"
    );
    let last = seqs.last().copied().unwrap_or(0);
    eprintln!(
        "{} lines acknowledged before SIGKILL, {} stored; every acknowledged one kept",
        acked.len(),
        stored.len()
    );

    // Every writer comes back and sends all its lines again, with the same ids (as a
    // client does with what it has no acknowledgement for): what was stored is
    // acknowledged with its first sequence number, the rest is stored now.
    let mut resenders = Vec::new();
    for (w, token) in tokens.iter().enumerate() {
        let mut socket = connect(port, token, "?room=plenum").await;
        resenders.push(tokio::spawn(async move {
            let mut answers = HashMap::new();
            for i in 0..LINES {
                let id = format!("w{w}-{i}");
                let frame = json!({ "t": "chat", "id": id, "text": format!("Zeile {id}") });
                socket
                    .send(Message::Text(frame.to_string().into()))
                    .await
                    .expect("sent");
            }
            while answers.len() < LINES {
                let msg = tokio::time::timeout(Duration::from_secs(20), socket.next())
                    .await
                    .expect("answers in time")
                    .expect("open")
                    .expect("frame");
                let Message::Text(t) = msg else { continue };
                for f in objects(&t) {
                    if f["t"] == "ack" || f["t"] == "error" {
                        answers.insert(f["id"].as_str().unwrap_or("").to_owned(), f);
                    }
                }
            }
            answers
        }));
    }
    let mut newest = last;
    for r in resenders {
        for (id, answer) in r.await.expect("resender") {
            assert_eq!(answer["t"], "ack", "{id}: {answer}");
            let seq = answer["seq"].as_i64().expect("seq");
            newest = newest.max(seq);
            match stored.get(&id) {
                Some(first) => assert_eq!(seq, first[0], "{id} acknowledged with its seq"),
                None => assert!(seq > last, "{id} stored after the restart ({seq})"),
            }
        }
    }
    let all = read_log(port, &tokens[0], newest).await;
    assert_eq!(all.len(), WRITERS * LINES, "every line");
    for (id, seqs) in &all {
        assert_eq!(seqs.len(), 1, "{id} stored once: {seqs:?}");
    }
    let mut seqs: Vec<i64> = all.values().flatten().copied().collect();
    seqs.sort_unstable();
    let first = seqs.first().copied().unwrap_or(1);
    assert_eq!(
        seqs,
        (first..first + (WRITERS * LINES) as i64).collect::<Vec<_>>()
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// The chat lines of the whole log by line id (`w{writer}-{line}`), with the sequence
/// numbers they are stored under: the replay from the start, and live entries after it
/// up to `through` (entries committed a moment before may follow the replay live).
async fn read_log(port: u16, token: &str, through: i64) -> HashMap<String, Vec<i64>> {
    let mut reader = connect(port, token, "?room=plenum&since=0").await;
    let mut stored: HashMap<String, Vec<i64>> = HashMap::new();
    let mut replayed = false;
    let mut seen = 0;
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), reader.next())
            .await
            .expect("replay in time")
            .expect("open")
            .expect("frame");
        let Message::Text(t) = msg else { continue };
        for f in objects(&t) {
            if f["t"] == "replayed" {
                replayed = true;
            }
            if f["t"] == "ev" {
                seen = f["seq"].as_i64().expect("seq");
            }
            if f["t"] == "ev" && f["kind"] == "chat" {
                let text = f["data"]["text"].as_str().unwrap_or("").to_owned();
                stored
                    .entry(text.trim_start_matches("Zeile ").to_owned())
                    .or_default()
                    .push(f["seq"].as_i64().unwrap_or(0));
            }
        }
        if replayed && seen >= through {
            return stored;
        }
    }
}
