//! `bulk`: inviting N people (default 3,000) from one CSV list while a live event chats.
//! konvent (on the server core) sends through its outbox to a local aiosmtpd
//! (`crates/konvent/tests/smtp/server.py`, on the load core). Measured: the time from the
//! upload to the last invitation written and to the last mail the SMTP server accepted,
//! the outbox's throughput in mails/s (first to last accepted mail), and the chatting
//! participants' acknowledgement latency during the import against a phase without it,
//! in the same run (issue 18: "the import must not hold a write lock that stalls a
//! running event").

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::flood::Chatters;
use crate::servers::{Cores, Running, Target, free_port};

const CSRF: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

pub struct Options {
    /// People on the list.
    pub people: usize,
    /// Participants who chat meanwhile (one line every 2 s each).
    pub chatters: usize,
    /// Seconds of the phase without the import.
    pub seconds: f64,
}

/// The SMTP server, killed when dropped.
struct Smtp {
    child: Child,
    dir: PathBuf,
    port: u16,
}

impl Drop for Smtp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Smtp {
    fn start(load_core: Option<usize>) -> Result<Self> {
        let python = std::env::var("KONVENT_TEST_PYTHON").unwrap_or_else(|_| "python3".into());
        let port = free_port()?;
        let dir = std::env::temp_dir().join(format!("konvent-bulk-smtp-{port}"));
        std::fs::create_dir_all(&dir)?;
        let script = crate::servers::repo_root().join("crates/konvent/tests/smtp/server.py");
        let mut cmd = match load_core {
            Some(core) => {
                let mut c = Command::new("taskset");
                c.args(["-c", &core.to_string(), &python]);
                c
            }
            None => Command::new(&python),
        };
        let mut child = cmd
            .arg(script)
            .args(["--port", &port.to_string(), "--dir"])
            .arg(&dir)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting aiosmtpd (set KONVENT_TEST_PYTHON to a Python that has it)")?;
        let mut line = String::new();
        use std::io::BufRead;
        std::io::BufReader::new(child.stdout.take().context("stdout")?).read_line(&mut line)?;
        if line.trim() != "ready" {
            let _ = child.kill();
            bail!("the SMTP server did not get ready: {line:?}");
        }
        Ok(Self { child, dir, port })
    }

    fn received(&self) -> usize {
        std::fs::read_dir(&self.dir).map_or(0, |d| {
            d.filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
                .count()
        })
    }
}

/// One HTTP/1.0 request on 127.0.0.1: the status, the raw head and the body.
async fn request(
    port: u16,
    head: &str,
    body: &[u8],
    timeout: Duration,
) -> Result<(u16, String, String)> {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    s.write_all(
        format!(
            "{head}Host: 127.0.0.1:{port}\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .as_bytes(),
    )
    .await?;
    s.write_all(body).await?;
    let mut buf = Vec::new();
    tokio::time::timeout(timeout, s.read_to_end(&mut buf)).await??;
    let text = String::from_utf8_lossy(&buf).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .context("no HTTP status")?;
    Ok((status, head.to_owned(), body.to_owned()))
}

/// Signs the demo admin in through a link from `konvent admin sign-in-link`.
async fn admin_session(konvent: &str, data: &Path, port: u16) -> Result<String> {
    session(konvent, data, port, "admin@konvent.example").await
}

/// Signs the account `email` in through a link from `konvent admin sign-in-link`; its
/// session token.
pub(crate) async fn session(konvent: &str, data: &Path, port: u16, email: &str) -> Result<String> {
    let out = Command::new(konvent)
        .args(["admin", "sign-in-link", email, "--data"])
        .arg(data)
        .env_remove("DATABASE_URL")
        .env("RUST_LOG", "warn")
        .output()
        .context("konvent admin sign-in-link")?;
    let link = String::from_utf8(out.stdout)?;
    let path = link
        .trim()
        .split_once("/anmelden/")
        .map(|(_, rest)| format!("/anmelden/{rest}"))
        .context("a sign-in link")?;
    let (status, head, _) = request(
        port,
        &format!(
            "POST {path} HTTP/1.0\r\nCookie: konvent_csrf={CSRF}\r\nContent-Type: application/x-www-form-urlencoded\r\n"
        ),
        format!("csrf={CSRF}").as_bytes(),
        Duration::from_secs(10),
    )
    .await?;
    head.lines()
        .find_map(|l| {
            l.split_once(':')
                .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
                .and_then(|(_, v)| v.trim().strip_prefix("konvent_session="))
                .and_then(|v| v.split(';').next())
                .map(str::to_owned)
        })
        .with_context(|| format!("no session from the sign-in link (HTTP {status})"))
}

fn csv(people: usize) -> String {
    let mut csv = String::from("E-Mail;Name;Veranstaltung\n");
    for i in 0..people {
        csv.push_str(&format!(
            "person{i}@bulk.example;Person {i};strategiekonvent-2025\n"
        ));
    }
    csv
}

struct Phase {
    name: &'static str,
    seconds: f64,
    lines: u64,
    p50: f64,
    p99: f64,
    max: f64,
}

pub async fn run(options: &Options, konvent: &str, cores: Cores) -> Result<()> {
    let load_core = cores.server.map(|_| 1);
    let smtp = Smtp::start(load_core)?;
    let config = format!(
        "live_writes_per_10s = 0\nsmtp_url = \"smtp://127.0.0.1:{}?tls=none\"\n",
        smtp.port
    );
    let server = Running::start_configured(
        Target::Konvent,
        options.chatters,
        konvent,
        cores,
        None,
        &config,
    )
    .await?;
    let result = run_on(&server, &smtp, options, konvent).await;
    server.stop().await;
    let (phases, upload_ms, written_s, last_mail_s, throughput) = result?;
    println!(
        "Run {} (commit {}); {} people invited from one CSV list while {} participants chat (one line every 2 s each); konvent on core {}, load generator and aiosmtpd on the other; load average at the end of the run: {}.\n",
        crate::now_utc(),
        crate::commit(),
        options.people,
        options.chatters,
        cores.server.map_or("–".into(), |c| c.to_string()),
        std::fs::read_to_string("/proc/loadavg")
            .unwrap_or_default()
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" "),
    );
    println!(
        "| upload answered (check of all rows) | all invitations written | last mail accepted by SMTP | outbox throughput |"
    );
    println!("| ---: | ---: | ---: | ---: |");
    println!(
        "| {upload_ms:.0} ms | {written_s:.1} s | {last_mail_s:.1} s | {throughput:.0} mails/s |\n"
    );
    println!("| chat phase | seconds | acknowledged lines | ack p50 (ms) | p99 (ms) | max (ms) |");
    println!("| --- | ---: | ---: | ---: | ---: | ---: |");
    for p in phases {
        println!(
            "| {} | {:.1} | {} | {:.1} | {:.1} | {:.1} |",
            p.name, p.seconds, p.lines, p.p50, p.p99, p.max
        );
    }
    Ok(())
}

type Outcome = (Vec<Phase>, f64, f64, f64, f64);

async fn run_on(
    server: &Running,
    smtp: &Smtp,
    options: &Options,
    konvent: &str,
) -> Result<Outcome> {
    let data = server.data_dir().context("data folder")?.to_owned();
    let session = admin_session(konvent, &data, server.port).await?;
    let chatters = Chatters::start(server.port, &server.tokens).await?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let mut phases = Vec::new();

    eprintln!("== chat without the import ({} s)", options.seconds);
    chatters.reset();
    chatters.sending.store(true, Ordering::Relaxed);
    let start = Instant::now();
    tokio::time::sleep(Duration::from_secs_f64(options.seconds)).await;
    phases.push(phase(&chatters, "without the import", start));

    eprintln!("== chat during the import of {} people", options.people);
    chatters.reset();
    let start = Instant::now();
    let boundary = "konventbulkboundary";
    let mut body = Vec::new();
    body.extend_from_slice(
        format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{CSRF}\r\n\
             --{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"liste.csv\"\r\n\
             Content-Type: text/csv\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(csv(options.people).as_bytes());
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    let (status, head, page) = request(
        server.port,
        &format!(
            "POST /admin/einladungen HTTP/1.0\r\nCookie: konvent_csrf={CSRF}; konvent_session={session}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\n"
        ),
        &body,
        Duration::from_secs(120),
    )
    .await?;
    let upload_ms = start.elapsed().as_secs_f64() * 1000.0;
    if status != 303 {
        bail!("the upload was answered {status}: {page}");
    }
    let progress = head
        .lines()
        .find_map(|l| {
            l.strip_prefix("location: ")
                .or(l.strip_prefix("Location: "))
        })
        .context("the progress page")?
        .trim()
        .to_owned();
    let total = format!("{} von {} Einladungen", options.people, options.people);
    let mut written_s = None;
    let mut first_mail = None;
    let deadline = Instant::now() + Duration::from_secs(1800);
    loop {
        let received = smtp.received();
        if received > 0 && first_mail.is_none() {
            first_mail = Some(start.elapsed().as_secs_f64());
        }
        if written_s.is_none() {
            let (_, _, page) = request(
                server.port,
                &format!(
                    "GET {progress} HTTP/1.0\r\nCookie: konvent_csrf={CSRF}; konvent_session={session}\r\n"
                ),
                b"",
                Duration::from_secs(10),
            )
            .await?;
            if page.contains(&total) {
                written_s = Some(start.elapsed().as_secs_f64());
            }
        }
        if received >= options.people {
            break;
        }
        if Instant::now() > deadline {
            bail!("only {received} of {} mails arrived", options.people);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let last_mail_s = start.elapsed().as_secs_f64();
    phases.push(phase(&chatters, "during the import", start));
    chatters.sending.store(false, Ordering::Relaxed);
    chatters.close().await;
    let first = first_mail.unwrap_or(0.0);
    let throughput = options.people as f64 / (last_mail_s - first).max(0.001);
    Ok((
        phases,
        upload_ms,
        written_s.unwrap_or(f64::NAN),
        last_mail_s,
        throughput,
    ))
}

fn phase(chatters: &Chatters, name: &'static str, start: Instant) -> Phase {
    Phase {
        name,
        seconds: start.elapsed().as_secs_f64(),
        lines: chatters.count(),
        p50: chatters.quantile_ms(0.5),
        p99: chatters.quantile_ms(0.99),
        max: chatters.quantile_ms(1.0),
    }
}
