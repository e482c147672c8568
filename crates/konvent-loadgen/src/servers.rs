//! Starting the servers under test (pinned to core 0) and reading their CPU time and
//! memory from /proc.

use std::fmt;
use std::path::PathBuf;
use std::process::Stdio;
use std::str::FromStr;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tokio::process::{Child, Command};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Konvent,
    Tokio,
    SocketIo,
}

impl FromStr for Target {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "konvent" => Ok(Self::Konvent),
            "tokio" => Ok(Self::Tokio),
            "socketio" | "socket.io" => Ok(Self::SocketIo),
            _ => Err(format!("unknown target {s:?}: konvent, tokio or socketio")),
        }
    }
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Konvent => "konvent",
            Self::Tokio => "tokio",
            Self::SocketIo => "socket.io",
        })
    }
}

/// A server under test.
pub struct Running {
    pub target: Target,
    pub port: u16,
    child: Child,
    pid: u32,
    /// konvent: one session token per client.
    pub tokens: Vec<String>,
    data_dir: Option<PathBuf>,
}

fn taskset() -> bool {
    std::path::Path::new("/usr/bin/taskset").exists()
}

/// Runs this process on one core from now on (the load generator on core 1).
pub fn pin_self_to_core(core: usize) {
    if taskset() {
        let _ = std::process::Command::new("taskset")
            .args([
                "-p",
                "-c",
                &core.to_string(),
                &std::process::id().to_string(),
            ])
            .stdout(Stdio::null())
            .status();
    }
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// A command pinned to core 0 when taskset is there.
fn pinned(program: &str) -> Command {
    if taskset() {
        let mut cmd = Command::new("taskset");
        cmd.args(["-c", "0", program]);
        cmd
    } else {
        Command::new(program)
    }
}

impl Running {
    pub async fn start(target: Target, clients: usize, konvent: &str) -> Result<Self> {
        let port = free_port()?;
        let mut tokens = Vec::new();
        let mut data_dir = None;
        let mut cmd = match target {
            Target::Konvent => {
                let dir = std::env::temp_dir()
                    .join(format!("konvent-loadgen-{}-{port}", std::process::id()));
                let data = dir.display().to_string();
                let out = Command::new(konvent)
                    .args([
                        "admin",
                        "load-test-sessions",
                        "--data",
                        &data,
                        "--event",
                        "strategiekonvent-2025",
                        "--room",
                        "lasttest",
                        "--count",
                        &clients.to_string(),
                    ])
                    .env_remove("DATABASE_URL")
                    .env("RUST_LOG", "warn")
                    .output()
                    .await
                    .with_context(|| format!("running {konvent}"))?;
                if !out.status.success() {
                    bail!(
                        "load-test-sessions failed: {}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
                tokens = String::from_utf8(out.stdout)?
                    .lines()
                    .map(str::to_owned)
                    .collect();
                data_dir = Some(dir);
                let mut cmd = pinned(konvent);
                cmd.args([
                    "serve",
                    "--data",
                    &data,
                    "--bind",
                    &format!("127.0.0.1:{port}"),
                ])
                .env_remove("DATABASE_URL")
                .env("RUST_LOG", "warn");
                cmd
            }
            Target::Tokio => {
                let me = std::env::current_exe()?;
                let mut cmd = pinned(&me.display().to_string());
                cmd.args(["baseline-tokio", "--bind", &format!("127.0.0.1:{port}")]);
                cmd
            }
            Target::SocketIo => {
                let dir = PathBuf::from("bench/socketio");
                if !dir.join("node_modules").exists() {
                    let status = Command::new("npm")
                        .args(["ci", "--no-audit", "--no-fund"])
                        .current_dir(&dir)
                        .status()
                        .await?;
                    if !status.success() {
                        bail!("npm ci in bench/socketio failed");
                    }
                }
                let mut cmd = pinned("node");
                cmd.args(["bench/socketio/server.js", &port.to_string()]);
                cmd
            }
        };
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {target}"))?;
        let launcher = child.id().context("no pid")?;
        let deadline = Instant::now() + Duration::from_secs(60);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            if Instant::now() > deadline {
                bail!("{target} did not start listening");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // taskset execs the program, so the pid stays the server's.
        Ok(Self {
            target,
            port,
            child,
            pid: launcher,
            tokens,
            data_dir,
        })
    }

    /// Resident memory in KiB.
    pub fn rss_kib(&self) -> Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .context("VmRSS not found")
    }

    /// User plus system CPU time in seconds.
    pub fn cpu_seconds(&self) -> Result<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.pid))?;
        // Fields after the command name (which may contain spaces) in parentheses.
        let rest = stat.rsplit_once(')').map(|(_, r)| r).context("bad stat")?;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // utime and stime are fields 14 and 15 of the whole line: 12 and 13 here.
        let utime: f64 = fields.get(11).context("utime")?.parse()?;
        let stime: f64 = fields.get(12).context("stime")?.parse()?;
        Ok((utime + stime) / 100.0)
    }

    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
        if let Some(dir) = self.data_dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}
