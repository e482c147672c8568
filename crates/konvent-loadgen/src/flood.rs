//! `flood`: one participant floods the live hub with one durable command after another
//! (as fast as the server answers, 64 in flight), each kind for a phase of its own,
//! while N others chat at a steady pace (one line every 2 s each, within their budget).
//! konvent runs with its default configuration, the per-person budget included (the
//! other scenarios switch it off). Per phase: the growth of the database and its
//! write-ahead log, the largest log seen, what the flooder got (acknowledged, refused as
//! `rate_limited`), and the others' acknowledgement latency, against a phase without
//! the flooder (issue 14: "a participant flooding any live command for 10 s leaves the
//! database and WAL under a few MB of growth and other participants' latency
//! unchanged").

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

use crate::servers::{Cores, Running, Target};

/// The durable commands flooded, one phase each. (`seat` and `goto` need a café round
/// that runs, `upvote` counts once per question; the integration tests cover them.)
pub const KINDS: [&str; 6] = ["hand", "vote_pin", "chat", "ask", "pin", "dm"];

/// Commands the flooder has sent and not yet had answered, at most.
const IN_FLIGHT: usize = 64;

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

pub struct Options {
    pub others: usize,
    pub seconds: f64,
    pub kinds: Vec<String>,
}

async fn dial(port: u16, token: &str) -> Result<Ws> {
    let url = format!("ws://127.0.0.1:{port}/konvent/strategiekonvent-2025/live?room=lasttest");
    let mut req = url.into_client_request()?;
    req.headers_mut()
        .insert("cookie", format!("konvent_session={token}").parse()?);
    let (ws, _) = tokio_tungstenite::connect_async(req)
        .await
        .context("WebSocket handshake")?;
    Ok(ws)
}

/// The messages of a text frame (one per line), skipping `ev` lines unless `evs`.
fn messages(msg: &Message, evs: bool) -> Vec<Value> {
    let Message::Text(text) = msg else {
        return Vec::new();
    };
    text.as_str()
        .split('\n')
        .filter(|l| evs || !l.starts_with(r#"{"t":"ev""#))
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// The chatting participants: their acknowledgement latency (µs) of the current phase.
/// Also used by `bulk`.
pub(crate) struct Chatters {
    latency: Arc<Mutex<Histogram<u64>>>,
    errors: Arc<AtomicU64>,
    pub(crate) sending: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Chatters {
    pub(crate) async fn start(port: u16, tokens: &[String]) -> Result<Self> {
        let latency = Arc::new(Mutex::new(
            Histogram::new_with_bounds(1, 600_000_000, 3).context("histogram")?,
        ));
        let errors = Arc::new(AtomicU64::new(0));
        let sending = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let mut tasks = Vec::new();
        let n = tokens.len().max(1);
        for (i, token) in tokens.iter().enumerate() {
            let ws = dial(port, token).await?;
            // Spread evenly over the 2 s period.
            let offset = Duration::from_millis((2000 * i / n) as u64);
            tasks.push(tokio::spawn(chatter(
                ws,
                i,
                offset,
                latency.clone(),
                errors.clone(),
                sending.clone(),
                stop.clone(),
            )));
        }
        Ok(Self {
            latency,
            errors,
            sending,
            stop,
            tasks,
        })
    }

    pub(crate) fn quantile_ms(&self, q: f64) -> f64 {
        let h = self.latency.lock().unwrap_or_else(|e| e.into_inner());
        h.value_at_quantile(q) as f64 / 1000.0
    }

    pub(crate) fn count(&self) -> u64 {
        self.latency.lock().unwrap_or_else(|e| e.into_inner()).len()
    }

    pub(crate) fn reset(&self) {
        self.latency
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .reset();
        self.errors.store(0, Ordering::Relaxed);
    }

    pub(crate) async fn close(self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.tasks {
            let _ = tokio::time::timeout(Duration::from_secs(5), t).await;
        }
    }
}

async fn chatter(
    ws: Ws,
    i: usize,
    offset: Duration,
    latency: Arc<Mutex<Histogram<u64>>>,
    errors: Arc<AtomicU64>,
    sending: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
) {
    let (mut tx, mut rx) = ws.split();
    let mut sent: HashMap<String, Instant> = HashMap::new();
    let mut tick =
        tokio::time::interval_at(tokio::time::Instant::now() + offset, Duration::from_secs(2));
    let mut n = 0u64;
    loop {
        tokio::select! {
            _ = tick.tick() => {
                if stop.load(Ordering::Relaxed) {
                    let _ = tx.send(Message::Close(None)).await;
                    return;
                }
                if sending.load(Ordering::Relaxed) {
                    let id = format!("c{i}-{n}");
                    n += 1;
                    let frame = json!({ "t": "chat", "id": id, "text": format!("Beitrag {n}") });
                    sent.insert(id, Instant::now());
                    if tx.send(Message::Text(frame.to_string().into())).await.is_err() {
                        return;
                    }
                }
            }
            msg = rx.next() => {
                let Some(Ok(msg)) = msg else { return };
                for m in messages(&msg, false) {
                    match m["t"].as_str() {
                        Some("ack") => {
                            if let Some(at) = m["id"].as_str().and_then(|id| sent.remove(id)) {
                                let us = at.elapsed().as_micros().max(1) as u64;
                                let _ = latency
                                    .lock()
                                    .unwrap_or_else(|e| e.into_inner())
                                    .record(us);
                            }
                        }
                        Some("error") => {
                            errors.fetch_add(1, Ordering::Relaxed);
                        }
                        _ => {}
                    }
                }
            }
        }
    }
}

/// Ids the commands refer to: a pin to vote for.
struct Targets {
    pin: i64,
}

/// A participant pins a topic, so that there is one to vote for.
async fn targets(port: u16, token: &str) -> Result<Targets> {
    let mut ws = dial(port, token).await?;
    ws.send(Message::Text(
        json!({ "t": "pin", "id": "setup-pin", "text": "Flutthema" })
            .to_string()
            .into(),
    ))
    .await?;
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        let msg = tokio::time::timeout(Duration::from_secs(20), ws.next())
            .await
            .context("no pin entry")?
            .context("socket closed")??;
        for m in messages(&msg, true) {
            if m["t"] == "ev" && m["kind"] == "pin" {
                let _ = ws.close(None).await;
                return Ok(Targets {
                    pin: m["data"]["id"].as_i64().context("pin id")?,
                });
            }
            if m["t"] == "error" {
                bail!("pinning failed: {m}");
            }
        }
    }
    bail!("no pin entry within 20 s")
}

fn command(kind: &str, i: u64, targets: &Targets) -> Value {
    let id = format!("f{i}");
    match kind {
        "hand" => json!({ "t": "hand", "id": id, "up": i.is_multiple_of(2) }),
        "vote_pin" => {
            json!({ "t": "vote_pin", "id": id, "pin": targets.pin, "on": i.is_multiple_of(2) })
        }
        "chat" => json!({ "t": "chat", "id": id, "text": format!("Flut {i}") }),
        "ask" => json!({ "t": "ask", "id": id, "text": format!("Flut {i}?"), "anonymous": false }),
        "pin" => json!({ "t": "pin", "id": id, "text": format!("Flut {i}") }),
        _ => json!({ "t": "dm", "id": id, "to_helpdesk": true, "text": format!("Flut {i}") }),
    }
}

/// What the flooder sent and got.
#[derive(Default)]
struct Flooded {
    sent: u64,
    acked: u64,
    limited: u64,
    other_errors: u64,
}

async fn flood(
    port: u16,
    token: &str,
    kind: &str,
    for_: Duration,
    targets: &Targets,
) -> Result<Flooded> {
    let ws = dial(port, token).await?;
    let (mut tx, mut rx) = ws.split();
    let slots = Semaphore::new(IN_FLIGHT);
    let until = Instant::now() + for_;
    let sent = AtomicU64::new(0);
    let done = AtomicBool::new(false);
    let mut out = Flooded::default();
    let writer = async {
        let mut i = 0u64;
        while Instant::now() < until {
            let Ok(permit) = slots.acquire().await else {
                break;
            };
            permit.forget();
            let frame = command(kind, i, targets);
            i += 1;
            if tx
                .send(Message::Text(frame.to_string().into()))
                .await
                .is_err()
            {
                break;
            }
            sent.fetch_add(1, Ordering::Relaxed);
        }
        done.store(true, Ordering::Relaxed);
    };
    let reader = async {
        let mut answered = 0u64;
        loop {
            if done.load(Ordering::Relaxed) && answered >= sent.load(Ordering::Relaxed) {
                break;
            }
            let next = tokio::time::timeout(Duration::from_millis(200), rx.next()).await;
            let msg = match next {
                Err(_) => {
                    if done.load(Ordering::Relaxed)
                        && Instant::now() > until + Duration::from_secs(10)
                    {
                        break;
                    }
                    continue;
                }
                Ok(Some(Ok(msg))) => msg,
                Ok(_) => break,
            };
            for m in messages(&msg, false) {
                let ours = m["id"].as_str().is_some_and(|id| id.starts_with('f'));
                match m["t"].as_str() {
                    Some("ack") if ours => out.acked += 1,
                    Some("error") if ours && m["code"] == "rate_limited" => out.limited += 1,
                    Some("error") if ours => out.other_errors += 1,
                    _ => continue,
                }
                answered += 1;
                slots.add_permits(1);
            }
        }
    };
    tokio::join!(writer, reader);
    out.sent = sent.load(Ordering::Relaxed);
    let _ = tx.send(Message::Close(None)).await;
    Ok(out)
}

/// Bytes of the database file and of its write-ahead log.
fn sizes(dir: &Path) -> (u64, u64) {
    let len = |name: &str| std::fs::metadata(dir.join(name)).map_or(0, |m| m.len());
    (len("konvent.db"), len("konvent.db-wal"))
}

struct Row {
    phase: String,
    flooded: Option<Flooded>,
    db_growth: i64,
    wal_growth: i64,
    wal_max: u64,
    lines: u64,
    p50: f64,
    p99: f64,
    chat_errors: u64,
}

fn mib(bytes: i64) -> String {
    format!("{:.2}", bytes as f64 / 1024.0 / 1024.0)
}

pub async fn run(options: &Options, konvent: &str) -> Result<()> {
    let kinds: Vec<String> = if options.kinds.is_empty() {
        KINDS.iter().map(|k| (*k).to_owned()).collect()
    } else {
        options.kinds.clone()
    };
    for k in &kinds {
        if !KINDS.contains(&k.as_str()) {
            bail!("unknown kind {k:?}: one of {}", KINDS.join(", "));
        }
    }
    let clients = options.others + 2;
    // The default configuration: the per-person budget is what is measured.
    let server = Running::start_configured(
        Target::Konvent,
        clients,
        konvent,
        Cores { server: None },
        None,
        "",
    )
    .await?;
    let result = run_on(&server, options, &kinds).await;
    server.stop().await;
    let rows = result?;
    println!(
        "One participant floods one command kind per phase of {} s (64 in flight) while {} others chat (one line every 2 s each); konvent with its default budget (live_writes_per_10s = 10).\n",
        options.seconds, options.others
    );
    println!(
        "| phase | flooder sent | acked | rate_limited | other errors | DB growth (MiB) | WAL growth (MiB) | largest WAL (MiB) | others' lines | others' ack p50 (ms) | p99 (ms) |"
    );
    println!("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
    for r in rows {
        let (sent, acked, limited, other) = r.flooded.as_ref().map_or(
            ("–".into(), "–".into(), "–".into(), "–".into()),
            |f| {
                (
                    f.sent.to_string(),
                    f.acked.to_string(),
                    f.limited.to_string(),
                    f.other_errors.to_string(),
                )
            },
        );
        println!(
            "| {} | {sent} | {acked} | {limited} | {other} | {} | {} | {} | {}{} | {:.1} | {:.1} |",
            r.phase,
            mib(r.db_growth),
            mib(r.wal_growth),
            mib(r.wal_max as i64),
            r.lines,
            if r.chat_errors > 0 {
                format!(" ({} errors)", r.chat_errors)
            } else {
                String::new()
            },
            r.p50,
            r.p99,
        );
    }
    Ok(())
}

async fn run_on(server: &Running, options: &Options, kinds: &[String]) -> Result<Vec<Row>> {
    let dir = server
        .data_dir()
        .context("konvent's data folder")?
        .to_owned();
    let tokens = &server.tokens;
    let (flooder, setup, others) = (&tokens[0], &tokens[1], &tokens[2..]);
    let targets = targets(server.port, setup).await?;
    let chatters = Chatters::start(server.port, others).await?;
    // Everybody is in (hello, joined) before the first phase.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let phase_len = Duration::from_secs_f64(options.seconds);
    let mut rows = Vec::new();
    let mut phases: Vec<Option<&str>> = vec![None];
    phases.extend(kinds.iter().map(|k| Some(k.as_str())));
    // A second phase without the flooder at the end: the others' latency after it.
    phases.push(None);
    for (n, kind) in phases.into_iter().enumerate() {
        eprintln!("== phase {n}: {}", kind.unwrap_or("no flooder"));
        // The budget of the phase before has left its window.
        tokio::time::sleep(Duration::from_secs(11)).await;
        let (db0, wal0) = sizes(&dir);
        chatters.reset();
        chatters.sending.store(true, Ordering::Relaxed);
        let start = Instant::now();
        let mut wal_max = wal0;
        let flooding = async {
            match kind {
                Some(kind) => flood(server.port, flooder, kind, phase_len, &targets)
                    .await
                    .map(Some),
                None => {
                    tokio::time::sleep(phase_len).await;
                    Ok(None)
                }
            }
        };
        let sampling = async {
            while start.elapsed() < phase_len {
                wal_max = wal_max.max(sizes(&dir).1);
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        };
        let (flooded, ()) = tokio::join!(flooding, sampling);
        let flooded = flooded?;
        chatters.sending.store(false, Ordering::Relaxed);
        // Acknowledgements of the last lines, and a checkpoint (every 2 s).
        tokio::time::sleep(Duration::from_secs(3)).await;
        let (db1, wal1) = sizes(&dir);
        rows.push(Row {
            phase: kind.map_or("no flooder".to_owned(), |k| format!("`{k}`")),
            flooded,
            db_growth: db1 as i64 - db0 as i64,
            wal_growth: wal1 as i64 - wal0 as i64,
            wal_max: wal_max.max(wal1),
            lines: chatters.count(),
            p50: chatters.quantile_ms(0.5),
            p99: chatters.quantile_ms(0.99),
            chat_errors: chatters.errors.load(Ordering::Relaxed),
        });
    }
    chatters.close().await;
    Ok(rows)
}
