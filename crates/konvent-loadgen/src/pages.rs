//! `pages`: the main pages at the start of an event, when everybody opens the lobby in the
//! same minute (issue 17). konvent runs with the demo data on the server core; a demo
//! participant and the demo admin sign in through sign-in links; then each page in turn
//! is requested over a fixed number of kept-alive connections (default 64) for a fixed
//! time, after a short warm-up, and so is `/healthz` of the same server in the same run.
//! Prints requests/s, p50 and p99 latency per page and each page's ratio to `/healthz`
//! (the targets: a participant's lobby, room, map and café ≥ 0.4×, no page
//! below 0.1×).
//!
//! While the pages are measured, the participant holds one live connection to the event
//! (its WebSocket, in the plenum), as people in an event do: the parts of the pages that
//! only the event's live log changes are kept in memory while somebody of the event is
//! connected to the node, and read from the database otherwise.
//!
//! The client is a small HTTP/1.1 one over tokio's `TcpStream` (the load generator has no
//! HTTP client crate): one request at a time per connection, the response read whole by
//! its `content-length` or its chunks.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use hdrhistogram::Histogram;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::servers::{Cores, Running, Target};

const EVENT: &str = "/konvent/strategiekonvent-2025";
/// The demo participant who opens the participant's pages (registered for the event).
const PARTICIPANT: &str = "jana.albers@konvent.example";
const ADMIN: &str = "admin@konvent.example";
/// A response head larger than this is an error (the pages' heads are far smaller).
const MAX_HEAD: usize = 64 * 1024;

#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    /// Concurrent kept-alive connections.
    #[arg(long, default_value_t = 64)]
    pub connections: usize,
    /// Seconds measured per page.
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
    /// Seconds of warm-up per page (requested, not measured).
    #[arg(long, default_value_t = 1.0)]
    pub warmup: f64,
    /// Measure only the pages whose label contains one of these words (e.g.
    /// `--only room --only café`); `/healthz` is always measured, as the ratios' base.
    #[arg(long)]
    pub only: Vec<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Who {
    Nobody,
    Participant,
    Admin,
}

impl Who {
    fn label(self) -> &'static str {
        match self {
            Who::Nobody => "–",
            Who::Participant => "participant",
            Who::Admin => "admin",
        }
    }
}

/// The pages measured, `/healthz` first (the reference).
fn pages() -> Vec<(&'static str, Who, String)> {
    let e = |p: &str| format!("{EVENT}{p}");
    vec![
        ("/healthz", Who::Nobody, "/healthz".into()),
        ("lobby", Who::Participant, e("")),
        ("room (plenum)", Who::Participant, e("/raeume/plenum")),
        ("map", Who::Participant, e("/karte")),
        ("café", Who::Participant, e("/cafe")),
        (
            "Meine Ergebnisse",
            Who::Participant,
            "/meine-ergebnisse".into(),
        ),
        ("admin lobby", Who::Admin, e("")),
        ("admin café", Who::Admin, e("/cafe")),
        ("/gremien/aufgaben", Who::Admin, "/gremien/aufgaben".into()),
    ]
}

/// What one page measured.
struct Row {
    label: &'static str,
    who: Who,
    path: String,
    requests: u64,
    errors: u64,
    seconds: f64,
    p50_ms: f64,
    p99_ms: f64,
}

impl Row {
    fn per_second(&self) -> f64 {
        self.requests as f64 / self.seconds
    }
}

pub async fn run(options: &Options, konvent: &str, cores: Cores) -> Result<()> {
    if options.connections == 0 || options.seconds <= 0.0 || options.warmup < 0.0 {
        bail!("--connections and --seconds must be positive, --warmup not negative");
    }
    let server = Running::start_configured(Target::Konvent, 1, konvent, cores, None, "").await?;
    let result = run_on(&server, options, konvent).await;
    server.stop().await;
    let rows = result?;
    println!(
        "Run {} (commit {}); {} connections, {} s per page after {} s warm-up; konvent with the demo data on core {}, load generator on the other.\n",
        crate::now_utc(),
        crate::commit(),
        options.connections,
        options.seconds,
        options.warmup,
        cores.server.map_or("–".into(), |c| c.to_string()),
    );
    print!("{}", table(&rows));
    let errors: u64 = rows.iter().map(|r| r.errors).sum();
    if errors > 0 {
        bail!("{errors} requests failed or answered other than 200 (see the table)");
    }
    Ok(())
}

async fn run_on(server: &Running, options: &Options, konvent: &str) -> Result<Vec<Row>> {
    let data = server.data_dir().context("konvent's data folder")?;
    let participant = crate::bulk::session(konvent, data, server.port, PARTICIPANT).await?;
    let admin = crate::bulk::session(konvent, data, server.port, ADMIN).await?;
    let live = stay_connected(server.port, &participant).await?;
    let rows = measure(server, options, &participant, &admin).await;
    live.abort();
    rows
}

/// Opens the participant's live connection to the event and reads what it sends until
/// the returned task is aborted.
async fn stay_connected(port: u16, session: &str) -> Result<tokio::task::JoinHandle<()>> {
    use futures_util::StreamExt;
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    let mut request =
        format!("ws://127.0.0.1:{port}{EVENT}/live?room=plenum").into_client_request()?;
    request
        .headers_mut()
        .insert("cookie", format!("konvent_session={session}").parse()?);
    let (mut ws, _) = tokio_tungstenite::connect_async(request)
        .await
        .context("the participant's live connection")?;
    Ok(tokio::spawn(async move {
        while let Some(Ok(_)) = ws.next().await {}
    }))
}

async fn measure(
    server: &Running,
    options: &Options,
    participant: &str,
    admin: &str,
) -> Result<Vec<Row>> {
    let mut rows = Vec::new();
    let chosen = |label: &str| {
        label == "/healthz"
            || options.only.is_empty()
            || options
                .only
                .iter()
                .any(|word| label.contains(word.as_str()))
    };
    for (label, who, path) in pages().into_iter().filter(|(label, ..)| chosen(label)) {
        let cookie = match who {
            Who::Nobody => String::new(),
            Who::Participant => format!("Cookie: konvent_session={participant}\r\n"),
            Who::Admin => format!("Cookie: konvent_session={admin}\r\n"),
        };
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\n{cookie}\r\n",
            server.port
        )
        .into_bytes();
        // The page must answer 200 for this person before it is measured.
        let mut probe = Connection::open(server.port).await?;
        let status = probe.get(&request).await?;
        if status != 200 {
            bail!(
                "{label}: GET {path} answered {status} for the {}",
                who.label()
            );
        }
        eprintln!("== {label} ({}): {path}", who.label());
        let warmup = Duration::from_secs_f64(options.warmup);
        if !warmup.is_zero() {
            hammer(server.port, &request, options.connections, warmup).await?;
        }
        let seconds = Duration::from_secs_f64(options.seconds);
        let (histogram, errors, took) =
            hammer(server.port, &request, options.connections, seconds).await?;
        rows.push(Row {
            label,
            who,
            path,
            requests: histogram.len(),
            errors,
            seconds: took.as_secs_f64(),
            p50_ms: histogram.value_at_quantile(0.5) as f64 / 1000.0,
            p99_ms: histogram.value_at_quantile(0.99) as f64 / 1000.0,
        });
    }
    Ok(rows)
}

/// `connections` connections each sending `request` one after the other for `time`:
/// the latencies of the answers 200 (µs), the failed requests, and the time taken.
async fn hammer(
    port: u16,
    request: &[u8],
    connections: usize,
    time: Duration,
) -> Result<(Histogram<u64>, u64, Duration)> {
    let start = Instant::now();
    let until = start + time;
    let runs = (0..connections).map(|_| async move {
        let mut histogram = Histogram::<u64>::new(3)?;
        let mut errors = 0u64;
        let mut connection = Connection::open(port).await?;
        while Instant::now() < until {
            let sent = Instant::now();
            match connection.get(request).await {
                Ok(200) => histogram.record(sent.elapsed().as_micros() as u64)?,
                Ok(_) => errors += 1,
                Err(_) => {
                    errors += 1;
                    connection = Connection::open(port).await?;
                }
            }
            if connection.closed {
                connection = Connection::open(port).await?;
            }
        }
        anyhow::Ok((histogram, errors))
    });
    let mut total = Histogram::<u64>::new(3)?;
    let mut errors = 0;
    for result in futures_util::future::join_all(runs).await {
        let (histogram, e) = result?;
        total.add(histogram)?;
        errors += e;
    }
    Ok((total, errors, start.elapsed()))
}

/// One kept-alive HTTP/1.1 connection.
struct Connection {
    stream: TcpStream,
    buf: Vec<u8>,
    /// The server said `connection: close`, or closed it.
    closed: bool,
}

impl Connection {
    async fn open(port: u16) -> Result<Self> {
        let stream = TcpStream::connect(("127.0.0.1", port)).await?;
        stream.set_nodelay(true)?;
        Ok(Self {
            stream,
            buf: Vec::with_capacity(64 * 1024),
            closed: false,
        })
    }

    /// Sends `request` and reads the whole response; its status.
    async fn get(&mut self, request: &[u8]) -> Result<u16> {
        self.stream.write_all(request).await?;
        let head_end = loop {
            if let Some(i) = memchr::memmem::find(&self.buf, b"\r\n\r\n") {
                break i + 4;
            }
            if self.buf.len() > MAX_HEAD {
                bail!("response head too large");
            }
            self.fill().await?;
        };
        let head = std::str::from_utf8(&self.buf[..head_end]).context("response head")?;
        let status: u16 = head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .context("no HTTP status")?;
        let mut length = None;
        let mut chunked = false;
        for line in head.lines().skip(1) {
            let Some((name, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = Some(value.parse::<usize>().context("content-length")?);
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.eq_ignore_ascii_case("chunked");
            } else if name.eq_ignore_ascii_case("connection") {
                self.closed |= value.eq_ignore_ascii_case("close");
            }
        }
        self.buf.drain(..head_end);
        if chunked {
            self.skip_chunks().await?;
        } else {
            let length = length.context("a response without content-length")?;
            while self.buf.len() < length {
                self.fill().await?;
            }
            self.buf.drain(..length);
        }
        Ok(status)
    }

    /// Reads past a chunked body (its trailer included).
    async fn skip_chunks(&mut self) -> Result<()> {
        loop {
            let line_end = loop {
                if let Some(i) = memchr::memmem::find(&self.buf, b"\r\n") {
                    break i;
                }
                self.fill().await?;
            };
            let size_text = std::str::from_utf8(&self.buf[..line_end]).context("chunk size")?;
            let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
                .context("chunk size")?;
            if size == 0 {
                // The last chunk, then the (empty) trailer.
                self.buf.drain(..line_end + 2);
                loop {
                    if let Some(i) = memchr::memmem::find(&self.buf, b"\r\n") {
                        self.buf.drain(..i + 2);
                        if i == 0 {
                            return Ok(());
                        }
                    } else {
                        self.fill().await?;
                    }
                }
            }
            let whole = line_end + 2 + size + 2;
            while self.buf.len() < whole {
                self.fill().await?;
            }
            self.buf.drain(..whole);
        }
    }

    async fn fill(&mut self) -> Result<()> {
        let mut chunk = [0u8; 16 * 1024];
        let n = self.stream.read(&mut chunk).await?;
        if n == 0 {
            self.closed = true;
            bail!("the server closed the connection");
        }
        self.buf.extend_from_slice(&chunk[..n]);
        Ok(())
    }
}

/// The Markdown table: each page's figures and its ratio to `/healthz`.
fn table(rows: &[Row]) -> String {
    let reference = rows
        .iter()
        .find(|r| r.path == "/healthz")
        .map_or(0.0, Row::per_second);
    let mut out = String::from(
        "| Page | Signed in as | Requests/s | p50 (ms) | p99 (ms) | × /healthz | Errors |\n\
         |---|---|---:|---:|---:|---:|---:|\n",
    );
    for r in rows {
        let ratio = if reference > 0.0 {
            format!("{:.2}", r.per_second() / reference)
        } else {
            "–".into()
        };
        let _ = writeln!(
            out,
            "| {} (`{}`) | {} | {:.0} | {:.2} | {:.2} | {ratio} | {} |",
            r.label,
            r.path,
            r.who.label(),
            r.per_second(),
            r.p50_ms,
            r.p99_ms,
            r.errors,
        );
    }
    out
}
