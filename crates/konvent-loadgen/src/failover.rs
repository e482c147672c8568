//! `failover`: clients spread over several nodes chat at a steady rate; after a warm-up
//! one node is killed with `kill -9`, its clients resume on the next node with `since`
//! (and `epoch`), and the run tells how long that took (from the kill to each client's
//! first frame on its new node) and whether any client lost or got twice an entry
//! (issue 16: "nothing acknowledged is lost, nothing is delivered twice").

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Result, bail};
use tokio::sync::Semaphore;

use crate::clients::percentile;
use crate::cluster::{Cluster, Infra};
use crate::resuming::{self, Client, Log, Shared};
use crate::servers::Cores;

/// Dials open at the same time while the clients first connect.
const CONNECTING: usize = 64;

#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    /// Nodes on the one database.
    #[arg(long, default_value_t = 3)]
    pub nodes: usize,
    #[arg(long, default_value_t = 3000)]
    pub clients: usize,
    /// Chat lines per second over all clients (each goes to every client).
    #[arg(long, default_value_t = 10.0)]
    pub lines_per_second: f64,
    /// Seconds of chat before the kill.
    #[arg(long, default_value_t = 5.0)]
    pub warmup: f64,
    /// Seconds of chat after the kill.
    #[arg(long, default_value_t = 10.0)]
    pub after: f64,
    /// Seconds to wait after the last line for every client to have every entry.
    #[arg(long, default_value_t = 10.0)]
    pub drain: f64,
    /// The node killed (0-based; default: the last).
    #[arg(long)]
    pub kill: Option<usize>,
    /// A resuming client waits up to this long (ms, spread over the clients) before it
    /// dials; 0: all at once (the worst case for the node that takes them).
    #[arg(long, default_value_t = 0)]
    pub jitter_ms: u64,
    #[command(flatten)]
    pub infra: Infra,
}

pub async fn run(opts: &Options, konvent: &str, cores: Cores) -> Result<()> {
    if opts.nodes < 2 {
        bail!("failover needs at least 2 nodes");
    }
    let victim = opts.kill.unwrap_or(opts.nodes - 1);
    if victim >= opts.nodes {
        bail!("--kill {victim}: there are only {} nodes", opts.nodes);
    }
    eprintln!(
        "== failover: {} clients on {} nodes",
        opts.clients, opts.nodes
    );
    let mut cluster = Cluster::start(
        konvent,
        opts.nodes,
        opts.clients,
        &opts.infra,
        cores,
        "failover",
    )
    .await?;
    let shared = Shared::new(cluster.ports(), cluster.tokens.clone());
    let started = Instant::now();
    let clients = connect(&shared, opts).await?;
    eprintln!(
        "   {} connected in {:.1} s (nodes {:?}, NATS: {})",
        clients.len(),
        started.elapsed().as_secs_f64(),
        cluster.ports(),
        if cluster.nats { "yes" } else { "no" },
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    let every = Duration::from_secs_f64(1.0 / opts.lines_per_second.max(0.1));
    let mut sender = Sender::default();
    sender
        .chat_for(&clients, every, Duration::from_secs_f64(opts.warmup))
        .await;
    cluster.kill(victim)?;
    shared.killed_now();
    eprintln!("   node {victim} killed (kill -9)");
    sender
        .chat_for(&clients, every, Duration::from_secs_f64(opts.after))
        .await;
    let sent = sender.next;
    let verdict = drain(&shared, &clients, Duration::from_secs_f64(opts.drain)).await;
    shared.stop();
    for c in &clients {
        c.abort();
    }
    let logs: Vec<Log> = clients.iter().map(Client::log).collect();
    let report = Report::new(&logs, &shared.acked(), opts.nodes, victim);
    println!(
        "Failover run {} (commit {}): {} clients on {} nodes (NATS: {}), room places {}× the clients, {} chat lines at {}/s ({} s before the kill, {} s after), node {victim} killed; {} acknowledged, {} error frames; drained: {verdict}.\n",
        crate::now_utc(),
        crate::commit(),
        opts.clients,
        opts.nodes,
        if cluster.nats { "yes" } else { "no" },
        opts.infra.room_headroom.max(1.0),
        sent,
        opts.lines_per_second,
        opts.warmup,
        opts.after,
        shared.acked().len(),
        shared.errors(),
    );
    print!("{}", report.table());
    drop(cluster);
    if report.lost > 0 || report.gaps > 0 || report.duplicated > 0 || report.not_resumed > 0 {
        bail!("failover lost, duplicated or stranded entries (see the table)");
    }
    Ok(())
}

async fn connect(shared: &Arc<Shared>, opts: &Options) -> Result<Vec<Client>> {
    let ready = Arc::new(Semaphore::new(CONNECTING));
    let jitter = Duration::from_millis(opts.jitter_ms);
    let pending: Vec<_> = (0..opts.clients)
        .map(|i| tokio::spawn(resuming::spawn(shared.clone(), i, ready.clone(), jitter)))
        .collect();
    let mut clients = Vec::with_capacity(pending.len());
    for p in pending {
        clients.push(p.await??);
    }
    Ok(clients)
}

/// The open-loop chat: line `n` from client `n % clients`, one every `every`.
#[derive(Default)]
struct Sender {
    next: usize,
}

impl Sender {
    async fn chat_for(&mut self, clients: &[Client], every: Duration, length: Duration) {
        let start = tokio::time::Instant::now();
        let mut due = start;
        while due < start + length {
            tokio::time::sleep_until(due).await;
            let id = self.next;
            let _ = clients[id % clients.len()]
                .out
                .send(format!(r#"{{"t":"chat","id":"m{id}","text":"lg {id}"}}"#));
            self.next += 1;
            due += every;
        }
    }
}

/// Waits until every client has every acknowledged line after its start, or `limit`.
async fn drain(shared: &Shared, clients: &[Client], limit: Duration) -> String {
    let deadline = Instant::now() + limit;
    let started = Instant::now();
    loop {
        let acked: BTreeSet<u64> = shared.acked().into_iter().collect();
        let behind = clients
            .iter()
            .filter(|c| {
                let l = c.log();
                let have: BTreeSet<u64> = l.chat.iter().copied().collect();
                let start = l.start_seq.unwrap_or(u64::MAX);
                acked.range(start + 1..).any(|s| !have.contains(s))
            })
            .count();
        if behind == 0 {
            return format!(
                "all caught up after {:.1} s",
                started.elapsed().as_secs_f64()
            );
        }
        if Instant::now() > deadline {
            return format!("{behind} clients still behind after {limit:?}");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// What the run found, over all clients and over those of the killed node.
#[derive(Debug, Default)]
struct Report {
    clients: usize,
    victims: usize,
    /// ms from the kill to the first frame on the new node, per resumed victim.
    resumed: Vec<f64>,
    replayed: Vec<f64>,
    not_resumed: usize,
    /// Acknowledged lines after a client's start that it never got (summed; clients).
    lost: u64,
    clients_losing: usize,
    /// Lines somebody got (acknowledged or not) that a client did not.
    gaps: u64,
    duplicated: u64,
    clients_duplicating: usize,
    out_of_order: u64,
    reloads: u32,
    /// Clients the room refused as `full` (on a resume, or at all).
    refused_full: usize,
    /// Clients of the surviving nodes that had to reconnect.
    others_reconnected: usize,
    failed_dials: u32,
    /// Per node after the kill: clients on it.
    spread: Vec<usize>,
}

impl Report {
    fn new(logs: &[Log], acked: &[u64], nodes: usize, victim: usize) -> Self {
        let acked: BTreeSet<u64> = acked.iter().copied().collect();
        let mut seen: BTreeSet<u64> = acked.clone();
        for l in logs {
            seen.extend(l.chat.iter().copied());
        }
        let mut r = Self {
            clients: logs.len(),
            spread: vec![0; nodes],
            ..Self::default()
        };
        for (i, l) in logs.iter().enumerate() {
            let was_victim = i % nodes == victim;
            if was_victim {
                r.victims += 1;
                match l.resumed_ms {
                    Some(ms) => r.resumed.push(ms),
                    None => r.not_resumed += 1,
                }
                r.replayed.extend(l.replayed_ms);
            } else if l.reconnects > 0 {
                r.others_reconnected += 1;
            }
            r.spread[l.node % nodes] += 1;
            r.failed_dials += l.failed_dials;
            r.reloads += l.reloads;
            r.refused_full += usize::from(l.refused_full > 0);
            r.out_of_order += l.out_of_order;
            let mut counts: HashMap<u64, u32> = HashMap::with_capacity(l.chat.len());
            for &s in &l.chat {
                *counts.entry(s).or_default() += 1;
            }
            let dups: u64 = counts.values().map(|&c| u64::from(c - 1)).sum();
            let start = l.start_seq.unwrap_or(u64::MAX);
            let lost = acked
                .range(start.saturating_add(1)..)
                .filter(|s| !counts.contains_key(s))
                .count() as u64;
            let gaps = seen
                .range(start.saturating_add(1)..)
                .filter(|s| !counts.contains_key(s))
                .count() as u64;
            r.duplicated += dups;
            r.clients_duplicating += usize::from(dups > 0);
            r.lost += lost;
            r.clients_losing += usize::from(lost > 0);
            r.gaps += gaps;
        }
        r
    }

    fn table(&self) -> String {
        let p = |v: &[f64], q: f64| {
            let x = percentile(v, q);
            if x.is_finite() {
                format!("{:.0}", x)
            } else {
                "–".into()
            }
        };
        let max = |v: &[f64]| {
            v.iter()
                .copied()
                .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x))))
                .map_or("–".into(), |x| format!("{x:.0}"))
        };
        format!(
            "| clients | of the killed node | resumed: first frame on the new node p50 / p99 / max ms | replay done p50 / p99 / max ms | not resumed | acknowledged lines lost (clients) | entries others got but not they | duplicated (clients) | out of order | reloads | clients refused `full` | other nodes' clients reconnected | failed dials | clients per node after |\n| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n| {} | {} | {} / {} / {} | {} / {} / {} | {} | {} ({}) | {} | {} ({}) | {} | {} | {} | {} | {} | {:?} |\n",
            self.clients,
            self.victims,
            p(&self.resumed, 50.0),
            p(&self.resumed, 99.0),
            max(&self.resumed),
            p(&self.replayed, 50.0),
            p(&self.replayed, 99.0),
            max(&self.replayed),
            self.not_resumed,
            self.lost,
            self.clients_losing,
            self.gaps,
            self.duplicated,
            self.clients_duplicating,
            self.out_of_order,
            self.reloads,
            self.refused_full,
            self.others_reconnected,
            self.failed_dials,
            self.spread,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(start: u64, chat: &[u64]) -> Log {
        Log {
            start_seq: Some(start),
            chat: chat.to_vec(),
            ..Log::default()
        }
    }

    #[test]
    fn a_client_missing_an_acknowledged_line_after_its_start_has_lost_it() {
        let logs = [log(0, &[1, 2, 3]), log(1, &[2]), log(0, &[1, 2, 2, 3])];
        let r = Report::new(&logs, &[1, 2, 3], 1, 0);
        assert_eq!((r.lost, r.clients_losing), (1, 1));
        assert_eq!((r.duplicated, r.clients_duplicating), (1, 1));
        assert_eq!(r.gaps, 1);
    }

    #[test]
    fn a_line_nobody_acknowledged_but_somebody_got_is_a_gap_for_the_others() {
        let logs = [log(0, &[1, 2]), log(0, &[1])];
        let r = Report::new(&logs, &[1], 1, 0);
        assert_eq!(r.lost, 0);
        assert_eq!(r.gaps, 1);
    }
}
