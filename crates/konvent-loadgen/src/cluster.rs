//! Several konvent nodes on one PostgreSQL database: a fresh database per run (created
//! and dropped with `psql`), the nodes pinned to the servers' core, NATS between them.
//!
//! The contract of a node (issue 16): `konvent serve --bind 127.0.0.1:PORT --data DIR`
//! with `DATABASE_URL` and, for several nodes, `NATS_URL`; `KONVENT_NATS_DEPLOYMENT`
//! gives each run its own subject prefix, so runs on one nats-server do not hear each
//! other. Node 1 starts first (it migrates the database) and the others after its
//! `/healthz` answers.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::str::FromStr;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::servers::{self, Cores, http_get, process_cpu_seconds};

/// Where PostgreSQL and NATS are, and whether the bus is used.
#[derive(Debug, Clone, clap::Args)]
pub struct Infra {
    /// PostgreSQL server (no database name): each run creates and drops its own database.
    #[arg(
        long,
        env = "LOADGEN_POSTGRES",
        default_value = "postgres://postgres@127.0.0.1:5432"
    )]
    pub postgres: String,
    /// nats-server the nodes share.
    #[arg(long, env = "LOADGEN_NATS", default_value = "nats://127.0.0.1:4222")]
    pub nats: String,
    /// Whether a node gets NATS_URL: auto (only when there are several nodes), always,
    /// never (several nodes then do not share their fan-out: only for trying the tool).
    #[arg(long, default_value = "auto")]
    pub bus: BusChoice,
    /// Places in the load-test room as a multiple of the clients (1: exactly full).
    /// Right after a kill the dead node's headcount still counts on the others until
    /// its presence times out, so resuming clients find an exactly full room `full`.
    #[arg(long, default_value_t = 1.0)]
    pub room_headroom: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BusChoice {
    Auto,
    Always,
    Never,
}

impl FromStr for BusChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(Self::Auto),
            "always" => Ok(Self::Always),
            "never" => Ok(Self::Never),
            _ => Err(format!("unknown bus choice {s:?}: auto, always or never")),
        }
    }
}

impl BusChoice {
    fn uses_nats(self, nodes: usize) -> bool {
        match self {
            Self::Auto => nodes > 1,
            Self::Always => true,
            Self::Never => false,
        }
    }
}

/// One `konvent serve` process of a cluster.
pub struct Node {
    pub port: u16,
    child: Child,
    pid: u32,
    data_dir: PathBuf,
    killed: bool,
}

impl Node {
    /// Its CPU time so far in seconds (0 once it is gone).
    pub fn cpu_seconds(&self, ticks: f64) -> f64 {
        if self.killed {
            return 0.0;
        }
        process_cpu_seconds(self.pid, ticks).unwrap_or(0.0)
    }

    /// Its bus counters from /metrics, as they are printed.
    pub async fn bus_counters(&self) -> Vec<(String, f64)> {
        if self.killed {
            return Vec::new();
        }
        let Ok((200, body)) = http_get(self.port, "/metrics").await else {
            return Vec::new();
        };
        bus_lines(&body)
    }
}

/// The `konvent_live_bus_*` samples of a metrics text and the entries read from the
/// database because the bus did not bring them (`konvent_live_gap_entries`). OpenMetrics
/// counters end in `_total`; the name is kept as printed.
pub fn bus_lines(metrics: &str) -> Vec<(String, f64)> {
    metrics
        .lines()
        .filter(|l| l.starts_with("konvent_live_bus_") || l.starts_with("konvent_live_gap_"))
        .filter(|l| {
            !l.split_whitespace()
                .next()
                .is_some_and(|n| n.ends_with("_created"))
        })
        .filter_map(|l| {
            let (name, value) = l.rsplit_once(' ')?;
            Some((name.to_owned(), value.parse().ok()?))
        })
        .collect()
}

/// A fresh database and its nodes; dropping it stops the nodes and drops the database.
pub struct Cluster {
    pub nodes: Vec<Node>,
    /// One session token per client, for clients on any node.
    pub tokens: Vec<String>,
    pub nats: bool,
    admin_url: String,
    database: String,
    ticks: f64,
}

/// A `psql` command on the server's `postgres` database.
fn psql(admin_url: &str, sql: &str) -> Result<()> {
    let out = Command::new("psql")
        .args([admin_url, "-v", "ON_ERROR_STOP=1", "-q", "-c", sql])
        .output()
        .context("running psql (is the PostgreSQL client installed?)")?;
    if !out.status.success() {
        bail!(
            "psql {sql:?} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

impl Cluster {
    /// A new database named for this process and `tag`, `clients` load-test accounts in
    /// it, and `count` nodes on it.
    pub async fn start(
        konvent: &str,
        count: usize,
        clients: usize,
        infra: &Infra,
        cores: Cores,
        tag: &str,
    ) -> Result<Self> {
        let base = infra.postgres.trim_end_matches('/');
        let database = format!("konvent_loadgen_{}_{tag}", std::process::id());
        let admin_url = format!("{base}/postgres");
        psql(&admin_url, &format!("DROP DATABASE IF EXISTS {database}"))?;
        psql(&admin_url, &format!("CREATE DATABASE {database}"))?;
        let mut cluster = Self {
            nodes: Vec::new(),
            tokens: Vec::new(),
            nats: infra.bus.uses_nats(count),
            admin_url,
            database: database.clone(),
            ticks: servers::clock_ticks(),
        };
        let url = format!("{base}/{database}");
        cluster.tokens = load_test_sessions(konvent, &url, clients)?;
        if infra.room_headroom > 1.0 {
            let places = (clients as f64 * infra.room_headroom).ceil() as u64;
            psql(
                &url,
                &format!("UPDATE rooms SET capacity = {places} WHERE slug = 'lasttest'"),
            )?;
        }
        let env = NodeEnv {
            database_url: url,
            nats_url: cluster.nats.then(|| infra.nats.clone()),
            deployment: database,
        };
        for i in 0..count.max(1) {
            // The first node alone, with --demo as the contract has it; the others
            // once it answers (the schema is in place then).
            let node = env.spawn(konvent, cores, i == 0).await?;
            cluster.nodes.push(node);
        }
        Ok(cluster)
    }

    pub fn ports(&self) -> Vec<u16> {
        self.nodes.iter().map(|n| n.port).collect()
    }

    /// CPU seconds of each node.
    pub fn cpu_per_node(&self) -> Vec<f64> {
        self.nodes
            .iter()
            .map(|n| n.cpu_seconds(self.ticks))
            .collect()
    }

    /// CPU seconds of the local nats-server when the nodes use NATS (it may serve other
    /// clients too; its pid is looked up by name).
    pub fn nats_cpu_seconds(&self) -> Option<f64> {
        if !self.nats {
            return None;
        }
        let pid = servers::find_process("nats-server")?;
        process_cpu_seconds(pid, self.ticks).ok()
    }

    /// `kill -9` node `i`.
    pub fn kill(&mut self, i: usize) -> Result<()> {
        let node = self.nodes.get_mut(i).context("no such node")?;
        node.child.kill().context("kill -9")?;
        let _ = node.child.wait();
        node.killed = true;
        Ok(())
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // The nodes first: a database with connections cannot be dropped cleanly.
        self.nodes.clear();
        if let Err(e) = psql(
            &self.admin_url,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.database),
        ) {
            eprintln!("note: {e:#}");
        }
    }
}

/// `konvent admin load-test-sessions` on the database: it migrates it, loads the demo
/// data and prints one session token per client.
fn load_test_sessions(konvent: &str, database_url: &str, clients: usize) -> Result<Vec<String>> {
    let out = Command::new(konvent)
        .args([
            "admin",
            "load-test-sessions",
            "--event",
            "strategiekonvent-2025",
            "--room",
            "lasttest",
            "--count",
            &clients.to_string(),
        ])
        .env("DATABASE_URL", database_url)
        .env_remove("NATS_URL")
        .env("RUST_LOG", "warn")
        .output()
        .with_context(|| format!("running {konvent} (set KONVENT_BIN or --konvent)"))?;
    if !out.status.success() {
        bail!(
            "load-test-sessions failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let tokens: Vec<String> = String::from_utf8(out.stdout)?
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
    Ok(tokens)
}

/// What every node of a cluster is started with.
struct NodeEnv {
    database_url: String,
    nats_url: Option<String>,
    deployment: String,
}

impl NodeEnv {
    async fn spawn(&self, konvent: &str, cores: Cores, demo: bool) -> Result<Node> {
        let port = servers::free_port()?;
        let data_dir =
            std::env::temp_dir().join(format!("konvent-node-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&data_dir)?;
        let config = data_dir.join("loadgen.toml");
        // The hub's throughput is measured, not the per-person write budget.
        std::fs::write(&config, "live_writes_per_10s = 0\n")
            .context("writing the nodes' konvent configuration")?;
        let mut cmd = servers::pinned(konvent, cores);
        cmd.arg("--config")
            .arg(&config)
            .args(["serve", "--bind", &format!("127.0.0.1:{port}"), "--data"])
            .arg(&data_dir)
            .env("DATABASE_URL", &self.database_url)
            .env("KONVENT_NATS_DEPLOYMENT", &self.deployment)
            .env("RUST_LOG", "warn");
        if demo {
            cmd.arg("--demo");
        }
        match &self.nats_url {
            Some(url) => cmd.env("NATS_URL", url),
            None => cmd.env_remove("NATS_URL"),
        };
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
            .context("starting a konvent node")?;
        let mut node = Node {
            port,
            pid: child.id(),
            child,
            data_dir,
            killed: false,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(Some(status)) = node.child.try_wait() {
                node.killed = true;
                bail!("konvent node on port {port} exited at start: {status}");
            }
            if http_get(port, "/healthz")
                .await
                .is_ok_and(|(status, _)| status == 200)
            {
                return Ok(node);
            }
            if Instant::now() > deadline {
                bail!("konvent node on port {port} did not answer /healthz within 60 s");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.data_dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_bus_and_gap_counters_and_nothing_else() {
        let text = "# TYPE konvent_live_bus_published counter\nkonvent_live_bus_published_total 12\nkonvent_live_bus_received_total{kind=\"ev\"} 7\nkonvent_live_bus_received_created 1.7e9\nkonvent_live_connections 3\nkonvent_live_gap_entries_total 2\n";
        assert_eq!(
            bus_lines(text),
            vec![
                ("konvent_live_bus_published_total".to_owned(), 12.0),
                (
                    "konvent_live_bus_received_total{kind=\"ev\"}".to_owned(),
                    7.0
                ),
                ("konvent_live_gap_entries_total".to_owned(), 2.0),
            ]
        );
    }

    #[test]
    fn the_bus_is_used_for_several_nodes_unless_told_otherwise() {
        assert!(!BusChoice::Auto.uses_nats(1));
        assert!(BusChoice::Auto.uses_nats(3));
        assert!(BusChoice::Always.uses_nats(1));
        assert!(!BusChoice::Never.uses_nats(3));
    }
}
