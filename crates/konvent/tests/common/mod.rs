//! Real processes for the multi-node tests: a PostgreSQL database and a nats-server of
//! the test's own, and `konvent serve` nodes that share both. Everything listens on
//! 127.0.0.1 only.

pub mod client;

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use sqlx::Connection;
use sqlx::postgres::PgConnection;

/// The demo's convention: every test's clients meet there.
pub const EVENT: &str = "strategiekonvent-2025";
/// A room that `admin load-test-sessions` creates with room for all of a test's clients.
pub const ROOM: &str = "mehrknoten";

/// Where each test creates (and drops) a database of its own.
const ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
const NATS_SERVER: &str = "/usr/sbin/nats-server";

/// The command line without anything the caller's environment might add.
pub fn konvent() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_konvent"));
    for var in [
        "DATABASE_URL",
        "NATS_URL",
        "KONVENT_DATA",
        "KONVENT_BIND",
        "KONVENT_PUBLIC_URL",
        "KONVENT_TEST_DROP_PUBLISH",
        "KONVENT_NATS_DEPLOYMENT",
        "KONVENT_SMTP_URL",
        "KONVENT_MAIL_FROM",
        "KONVENT_TEST_MAIL_SECONDS",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("RUST_LOG", "warn");
    cmd
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Whether PostgreSQL answers and nats-server is installed. Without them a test prints
/// a visible skip line and returns; in CI (`CI` set) a missing service fails the test
/// instead, so that the suite cannot pass there without running these.
pub async fn services_available(test: &str) -> bool {
    let postgres = tokio::time::timeout(Duration::from_secs(5), PgConnection::connect(ADMIN_URL))
        .await
        .map_err(|_| "timed out".to_owned())
        .and_then(|c| c.map_err(|e| e.to_string()));
    let missing = match postgres {
        Err(e) => Some(format!("PostgreSQL at {ADMIN_URL} is not reachable ({e})")),
        Ok(_) if !Path::new(NATS_SERVER).exists() => Some(format!("{NATS_SERVER} is missing")),
        Ok(_) => None,
    };
    let Some(missing) = missing else { return true };
    let in_ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false");
    assert!(
        !in_ci,
        "{test}: {missing}, and CI must run the multi-node tests"
    );
    eprintln!("skipped: {test}: {missing}");
    false
}

/// A PostgreSQL database of one test, dropped when the test ends (also when it fails).
pub struct Database {
    pub url: String,
    name: String,
}

impl Database {
    pub async fn create() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!(
            "konvent_mn_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        let mut admin = PgConnection::connect(ADMIN_URL).await.expect("PostgreSQL");
        // A crashed earlier run under the same process id may have left it behind.
        sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&mut admin)
            .await
            .expect("drop an old test database");
        sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("create the test database");
        Self {
            url: format!("postgres://postgres@127.0.0.1:5432/{name}"),
            name,
        }
    }

    /// The last sequence number of the test event's log: what every client must reach.
    pub async fn last_seq(&self) -> i64 {
        let mut conn = PgConnection::connect(&self.url).await.expect("database");
        sqlx::query_scalar::<_, i64>(
            "SELECT COALESCE(MAX(l.seq), 0) FROM live_log l \
             JOIN events e ON e.id = l.event_id WHERE e.slug = $1",
        )
        .bind(EVENT)
        .fetch_one(&mut conn)
        .await
        .expect("last seq")
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        // Drop runs inside the test's runtime, which cannot block on itself: a thread of
        // its own drops the database (FORCE ends connections a node may still hold).
        let name = self.name.clone();
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                let mut admin = PgConnection::connect(ADMIN_URL).await?;
                sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut admin)
                    .await
                    .map(|_| ())
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop test database {}: {dropped:?}", self.name);
        }
    }
}

/// A process killed (SIGKILL) and reaped when dropped.
struct Process(Child);

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A nats-server of one test, on a port of its own, so that restarting it disturbs no
/// other test (JetStream is not needed: the nodes use core NATS).
pub struct Nats {
    pub port: u16,
    process: Option<Process>,
}

impl Nats {
    pub async fn start() -> Self {
        let port = free_port();
        let process = Some(Self::spawn(port).await);
        Self { port, process }
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// SIGKILL: the nodes lose their connection without a goodbye.
    pub fn kill(&mut self) {
        self.process = None;
    }

    /// Starts it again on the same port.
    pub async fn restart(&mut self) {
        self.process = None;
        self.process = Some(Self::spawn(self.port).await);
    }

    async fn spawn(port: u16) -> Process {
        let child = Command::new(NATS_SERVER)
            .args(["-a", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server starts");
        let process = Process(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(
                Instant::now() < deadline,
                "nats-server did not listen on {port}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        process
    }
}

/// One `konvent serve` process with its own data folder and log file.
pub struct Node {
    pub port: u16,
    process: Option<Process>,
    log: PathBuf,
}

impl Node {
    /// Starts a node and waits until `/healthz` answers 200.
    pub async fn start(dir: &Path, config: &Path, env: &[(String, String)], demo: bool) -> Self {
        let port = free_port();
        let data = dir.join(format!("node-{port}"));
        std::fs::create_dir_all(&data).expect("data folder");
        let log = data.join("node.log");
        let out = std::fs::File::create(&log).expect("log file");
        let mut cmd = konvent();
        cmd.arg("--config")
            .arg(config)
            .args(["serve", "--bind", &format!("127.0.0.1:{port}"), "--data"])
            .arg(&data)
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdout(out.try_clone().expect("log file"))
            .stderr(out);
        if demo {
            cmd.arg("--demo");
        }
        let mut node = Self {
            port,
            process: Some(Process(cmd.spawn().expect("konvent serve starts"))),
            log,
        };
        node.wait_healthy().await;
        node
    }

    /// `kill -9`: the node's clients lose their sockets without a close frame.
    pub fn kill(&mut self) {
        self.process = None;
    }

    /// `systemctl stop`: SIGTERM, and waits until the node has drained and exited;
    /// answers whether it exited cleanly.
    pub async fn stop(&mut self) -> bool {
        let Some(mut process) = self.process.take() else {
            return false;
        };
        let pid = process.0.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = process.0.try_wait() {
                return status.success();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    /// What the node wrote to stdout and stderr.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    async fn wait_healthy(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let port = self.port;
            if tokio::task::spawn_blocking(move || healthz(port))
                .await
                .expect("probe")
            {
                return;
            }
            if let Some(Process(child)) = &mut self.process
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!("node on {} exited ({status}):\n{}", self.port, self.log());
            }
            assert!(
                Instant::now() < deadline,
                "node on {} not healthy in time:\n{}",
                self.port,
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Whether `GET /healthz` answers 200 (plain HTTP/1.1 over a socket: no client library).
fn healthz(port: u16) -> bool {
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let request = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.ends_with(b" 200")
}

/// Several nodes on one database and one nats-server. Dropping it kills the nodes, then
/// nats-server, then drops the database (fields drop in this order).
pub struct Cluster {
    pub nodes: Vec<Node>,
    pub nats: Nats,
    pub db: Database,
    dir: PathBuf,
    config: PathBuf,
}

impl Cluster {
    /// `count` nodes; the first loads the demo data into the empty database before the
    /// others start. `env(i)` adds environment variables for node `i`. Returns None (after
    /// a visible skip line) when PostgreSQL or nats-server is missing outside CI.
    pub async fn start(
        test: &str,
        count: usize,
        env: impl Fn(usize) -> Vec<(String, String)>,
    ) -> Option<Self> {
        if !services_available(test).await {
            return None;
        }
        let db = Database::create().await;
        let nats = Nats::start().await;
        let dir =
            std::env::temp_dir().join(format!("konvent-mn-{}-{}", std::process::id(), nats.port));
        std::fs::create_dir_all(&dir).expect("test folder");
        // The tests count entries, not the per-person write budget, which a client that
        // re-sends its unacknowledged commands after a failover could exhaust.
        let config = dir.join("konvent.toml");
        std::fs::write(&config, "live_writes_per_10s = 0\n").expect("config");
        let mut cluster = Self {
            nodes: Vec::new(),
            nats,
            db,
            dir,
            config,
        };
        for i in 0..count {
            let mut vars = vec![
                ("DATABASE_URL".to_owned(), cluster.db.url.clone()),
                ("NATS_URL".to_owned(), cluster.nats.url()),
            ];
            vars.extend(env(i));
            let node = Node::start(&cluster.dir, &cluster.config, &vars, i == 0).await;
            cluster.nodes.push(node);
        }
        Some(cluster)
    }

    pub fn ports(&self) -> Vec<u16> {
        self.nodes.iter().map(|n| n.port).collect()
    }

    /// Session tokens of `count` participants signed in to the event. [`ROOM`] is made
    /// to hold twice as many: a killed node's headcount stays in the others' sums until
    /// its heartbeats are missed, and its clients must get back into the room meanwhile.
    pub fn sessions(&self, count: usize) -> Vec<String> {
        self.sessions_in_room_of(count, 2 * count)
    }

    /// Session tokens of `count` participants, [`ROOM`] made to hold `capacity`.
    pub fn sessions_in_room_of(&self, count: usize, capacity: usize) -> Vec<String> {
        let out = konvent()
            .args([
                "admin",
                "load-test-sessions",
                "--event",
                EVENT,
                "--room",
                ROOM,
            ])
            .args(["--count", &capacity.to_string(), "--data"])
            .arg(self.dir.join("admin"))
            .env("DATABASE_URL", &self.db.url)
            .output()
            .expect("konvent admin runs");
        assert!(
            out.status.success(),
            "load-test-sessions: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let tokens: Vec<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .take(count)
            .collect();
        assert_eq!(tokens.len(), count, "one token per participant");
        tokens
    }

    /// Every node's log, for a failure message.
    pub fn logs(&self) -> String {
        self.nodes
            .iter()
            .map(|n| {
                let log = n.log();
                let tail = log.len().saturating_sub(4000);
                let tail = (tail..log.len())
                    .find(|i| log.is_char_boundary(*i))
                    .unwrap_or(0);
                format!("--- node {} (log's end) ---\n{}", n.port, &log[tail..])
            })
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
