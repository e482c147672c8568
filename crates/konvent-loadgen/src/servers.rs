//! Starting the servers under test (pinned to core 0), reading their CPU time and memory
//! from /proc, and setting up this process (its core, its open-files limit).

use std::fmt;
use std::path::PathBuf;
use std::process::Stdio;
use std::str::FromStr;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use std::process::{Child, Command};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

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

/// Where the servers run and where the load generator runs.
#[derive(Debug, Clone, Copy)]
pub struct Cores {
    pub server: Option<usize>,
}

fn taskset() -> bool {
    std::process::Command::new("taskset")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// The machine's cores (not only those this process may run on: it pins itself).
pub fn online_cores() -> usize {
    std::fs::read_to_string("/sys/devices/system/cpu/online")
        .ok()
        .and_then(|s| {
            s.trim()
                .split(',')
                .map(|part| match part.split_once('-') {
                    Some((a, b)) => Some(b.parse::<usize>().ok()? + 1 - a.parse::<usize>().ok()?),
                    None => part.parse::<usize>().ok().map(|_| 1),
                })
                .sum::<Option<usize>>()
        })
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
}

/// Pins this process (all its threads) to `core` and returns the core for the servers,
/// or `None` when there is no second core or no taskset (then nothing is pinned).
pub fn pin_self(core: usize, server_core: usize) -> Cores {
    if online_cores() < 2 || !taskset() {
        eprintln!(
            "note: not pinning (needs 2 cores and taskset): server and load generator share the cores"
        );
        return Cores { server: None };
    }
    let ok = std::process::Command::new("taskset")
        .args([
            "-a",
            "-p",
            "-c",
            &core.to_string(),
            &std::process::id().to_string(),
        ])
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("note: taskset could not pin the load generator to core {core}");
    }
    Cores {
        server: Some(server_core),
    }
}

/// Raises this process's soft limit of open files to what `clients` sockets need (up to
/// the hard limit), with util-linux's prlimit. Servers started later inherit it.
pub fn raise_open_files(clients: usize) -> Result<()> {
    let need = clients as u64 + 256;
    let limits = std::fs::read_to_string("/proc/self/limits")?;
    let line = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .context("no open-files limit in /proc/self/limits")?;
    let mut fields = line["Max open files".len()..].split_whitespace();
    let soft: u64 = fields.next().and_then(|v| v.parse().ok()).unwrap_or(0);
    let hard: u64 = match fields.next() {
        Some("unlimited") => u64::MAX,
        Some(v) => v.parse().unwrap_or(soft),
        None => soft,
    };
    if soft >= need {
        return Ok(());
    }
    if hard < need {
        bail!(
            "{clients} clients need {need} open files; the hard limit is {hard} (raise it with ulimit -Hn)"
        );
    }
    let target = if hard == u64::MAX {
        need.to_string()
    } else {
        hard.to_string()
    };
    let ok = std::process::Command::new("prlimit")
        .args([
            "--pid",
            &std::process::id().to_string(),
            &format!("--nofile={target}:{target}"),
        ])
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        bail!(
            "{clients} clients need {need} open files, the soft limit is {soft}: run `ulimit -n {target}` first"
        );
    }
    Ok(())
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
    ticks: f64,
}

pub(crate) fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// A command pinned to the servers' core when there is one. taskset execs the program,
/// so the child's pid is the server's.
pub(crate) fn pinned(program: &str, cores: Cores) -> Command {
    match cores.server {
        Some(core) => {
            let mut cmd = Command::new("taskset");
            cmd.args(["-c", &core.to_string(), program]);
            cmd
        }
        None => Command::new(program),
    }
}

pub(crate) fn clock_ticks() -> f64 {
    std::process::Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}

/// The repository's root (where bench/ is), from the working directory upwards.
pub(crate) fn repo_root() -> PathBuf {
    let mut dir = std::env::current_dir().unwrap_or_default();
    loop {
        if dir.join("bench/socketio/server.js").exists() {
            return dir;
        }
        if !dir.pop() {
            return PathBuf::from(".");
        }
    }
}

/// A plain HTTP/1.0 GET on 127.0.0.1: the status code and the body.
pub async fn http_get(port: u16, path: &str) -> Result<(u16, String)> {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
    s.write_all(format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\n\r\n").as_bytes())
        .await?;
    let mut buf = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut buf)).await??;
    let text = String::from_utf8_lossy(&buf);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .context("no HTTP status")?;
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_owned())
        .unwrap_or_default();
    Ok((status, body))
}

impl Running {
    pub async fn start(
        target: Target,
        clients: usize,
        konvent: &str,
        cores: Cores,
    ) -> Result<Self> {
        Self::start_with_map(target, clients, konvent, cores, None).await
    }

    /// As [`Running::start`]; konvent first imports `map` (Tiled JSON) as the venue map
    /// of the load-test event.
    pub async fn start_with_map(
        target: Target,
        clients: usize,
        konvent: &str,
        cores: Cores,
        map: Option<&std::path::Path>,
    ) -> Result<Self> {
        // The hub's throughput is measured, not the per-person write limit (10 commands
        // per 10 s by default), which would cap N clients at N/s.
        Self::start_configured(
            target,
            clients,
            konvent,
            cores,
            map,
            "live_writes_per_10s = 0\n",
        )
        .await
    }

    /// As [`Running::start_with_map`], with `config` as konvent's configuration file
    /// (empty: the defaults, the per-person write budget included).
    pub async fn start_configured(
        target: Target,
        clients: usize,
        konvent: &str,
        cores: Cores,
        map: Option<&std::path::Path>,
        config: &str,
    ) -> Result<Self> {
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
                    .with_context(|| format!("running {konvent} (set KONVENT_BIN or --konvent)"))?;
                if !out.status.success() {
                    let _ = std::fs::remove_dir_all(&dir);
                    bail!(
                        "load-test-sessions failed: {}",
                        String::from_utf8_lossy(&out.stderr)
                    );
                }
                tokens = String::from_utf8(out.stdout)?
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_owned)
                    .collect();
                if tokens.len() < clients {
                    bail!(
                        "load-test-sessions printed {} tokens for {clients} clients",
                        tokens.len()
                    );
                }
                if let Some(map) = map {
                    let out = Command::new(konvent)
                        .args(["import", "map", "--data", &data, "--event"])
                        .arg("strategiekonvent-2025")
                        .arg(map)
                        .env_remove("DATABASE_URL")
                        .env("RUST_LOG", "warn")
                        .output()
                        .context("running konvent import map")?;
                    if !out.status.success() {
                        let _ = std::fs::remove_dir_all(&dir);
                        bail!(
                            "konvent import map failed: {}{}",
                            String::from_utf8_lossy(&out.stdout),
                            String::from_utf8_lossy(&out.stderr)
                        );
                    }
                    eprintln!(
                        "   map imported: {}",
                        String::from_utf8_lossy(&out.stdout).trim()
                    );
                }
                let config_file = dir.join("loadgen.toml");
                std::fs::write(&config_file, config)
                    .context("writing the load test's konvent configuration")?;
                data_dir = Some(dir);
                let mut cmd = pinned(konvent, cores);
                cmd.arg("--config")
                    .arg(&config_file)
                    .args([
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
                let mut cmd = pinned(&me.display().to_string(), cores);
                cmd.args(["baseline-tokio", "--bind", &format!("127.0.0.1:{port}")]);
                if let Ok(nodelay) = std::env::var("LOADGEN_TOKIO_NODELAY") {
                    cmd.args(["--nodelay", &nodelay]);
                }
                cmd
            }
            Target::SocketIo => {
                let root = repo_root();
                let dir = root.join("bench/socketio");
                if !dir.join("node_modules/socket.io").exists() {
                    let status = Command::new("npm")
                        .args(["ci", "--no-audit", "--no-fund"])
                        .current_dir(&dir)
                        .stdout(Stdio::null())
                        .status()
                        .context("running npm ci in bench/socketio")?;
                    if !status.success() {
                        bail!("npm ci in bench/socketio failed");
                    }
                }
                let mut cmd = pinned("node", cores);
                cmd.arg(dir.join("server.js")).arg(port.to_string());
                cmd
            }
        };
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("starting {target}"))?;
        let pid = child.id();
        let mut running = Self {
            target,
            port,
            child,
            pid,
            tokens,
            data_dir,
            ticks: clock_ticks(),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = running.child.try_wait() {
                bail!("{target} exited at start: {status}");
            }
            let up = match target {
                // konvent is ready when /healthz says so.
                Target::Konvent => http_get(port, "/healthz")
                    .await
                    .is_ok_and(|(status, _)| status == 200),
                _ => tokio::net::TcpStream::connect(("127.0.0.1", port))
                    .await
                    .is_ok(),
            };
            if up {
                break;
            }
            if Instant::now() > deadline {
                bail!("{target} did not start listening within 60 s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(running)
    }

    /// The server's process id.
    pub fn pid(&self) -> u32 {
        self.pid
    }

    /// konvent's data folder (its SQLite database).
    pub fn data_dir(&self) -> Option<&std::path::Path> {
        self.data_dir.as_deref()
    }

    /// Resident memory in KiB: everything, the binary's mapped code included.
    pub fn rss_kib(&self) -> Result<u64> {
        self.status_kib("VmRSS:")
    }

    /// Resident anonymous memory in KiB: heap, stacks and buffers, without the
    /// executable's and libraries' file pages, which are shared and grow with the code
    /// that has run, not with the connections.
    pub fn anon_kib(&self) -> Result<u64> {
        self.status_kib("RssAnon:")
    }

    fn status_kib(&self, key: &str) -> Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .with_context(|| format!("{key} not found"))
    }

    /// User plus system CPU time of the server (all its threads) in seconds.
    pub fn cpu_seconds(&self) -> Result<f64> {
        process_cpu_seconds(self.pid, self.ticks)
    }

    /// konvent: how many slow clients the hub has closed (its /metrics counter).
    pub async fn slow_closes(&self) -> Option<u64> {
        if self.target != Target::Konvent {
            return None;
        }
        let (status, body) = http_get(self.port, "/metrics").await.ok()?;
        if status != 200 {
            return None;
        }
        body.lines()
            // The registry prefixes its metrics with `konvent_` (older builds did not).
            .filter(|l| {
                l.starts_with("live_slow_closes") || l.starts_with("konvent_live_slow_closes")
            })
            .find_map(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
            .map(|v| v as u64)
    }

    pub async fn stop(self) {
        drop(self);
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(dir) = self.data_dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

/// User plus system CPU time of a process in seconds (fields 14 and 15 of
/// /proc/PID/stat, in clock ticks).
pub fn process_cpu_seconds(pid: u32, ticks: f64) -> Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).context("bad stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: f64 = fields.get(11).context("utime")?.parse()?;
    let stime: f64 = fields.get(12).context("stime")?.parse()?;
    Ok((utime + stime) / ticks)
}

/// The first process whose command name (`/proc/PID/comm`) is `name`.
pub fn find_process(name: &str) -> Option<u32> {
    std::fs::read_dir("/proc")
        .ok()?
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse::<u32>().ok())
        .find(|pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c.trim() == name)
        })
}

/// This process's CPU time in seconds.
pub struct SelfCpu {
    ticks: f64,
}

impl Default for SelfCpu {
    fn default() -> Self {
        Self {
            ticks: clock_ticks(),
        }
    }
}

impl SelfCpu {
    pub fn seconds(&self) -> f64 {
        process_cpu_seconds(std::process::id(), self.ticks).unwrap_or(0.0)
    }
}

/// The kernel's count of packets dropped from the per-core receive backlogs (all cores;
/// on loopback every packet goes through one) and of TCP segments sent again.
pub fn kernel_net() -> (u64, u64) {
    let drops = std::fs::read_to_string("/proc/net/softnet_stat")
        .map(|s| {
            s.lines()
                .filter_map(|l| l.split_whitespace().nth(1))
                .filter_map(|v| u64::from_str_radix(v, 16).ok())
                .sum()
        })
        .unwrap_or(0);
    let retrans = std::fs::read_to_string("/proc/net/snmp")
        .ok()
        .and_then(|s| {
            let mut tcp = s.lines().filter(|l| l.starts_with("Tcp:"));
            let names = tcp.next()?;
            let values = tcp.next()?;
            let at = names.split_whitespace().position(|n| n == "RetransSegs")?;
            values.split_whitespace().nth(at)?.parse().ok()
        })
        .unwrap_or(0);
    (drops, retrans)
}
