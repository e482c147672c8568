//! `nodes`: the same load against 1, 2, 3 … konvent nodes on one PostgreSQL database
//! (a fresh one per run), the clients spread round-robin over the nodes in one room. Per
//! run: deliveries per second at a fixed rate, the nodes' CPU time per delivery (summed)
//! and against the one-node run, time-to-all across all clients, what was lost or
//! duplicated, and each node's bus counters (issue 16: the bus's overhead against one
//! node, target ≤ 1.2× CPU per delivery).

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::clients::{self, Crowd, Phase};
use crate::cluster::{Cluster, Infra};
use crate::servers::Cores;

#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    /// Node counts, one run each (a run with 1 is the reference for the ratios).
    #[arg(long, value_delimiter = ',', default_value = "1,2,3")]
    pub nodes: Vec<usize>,
    #[arg(long, default_value_t = 1000)]
    pub clients: usize,
    /// Deliveries per second of the fixed-rate phase (lines per second × clients).
    #[arg(long, default_value_t = 50_000.0)]
    pub rate: f64,
    /// Seconds of the fixed-rate phase.
    #[arg(long, default_value_t = 10.0)]
    pub seconds: f64,
    /// Broadcasts timed one at a time for time-to-all.
    #[arg(long, default_value_t = 30)]
    pub tta_reps: usize,
    /// Seconds a phase waits for the last deliveries; what has not arrived counts as lost.
    #[arg(long, default_value_t = 5.0)]
    pub drain: f64,
    #[command(flatten)]
    pub infra: Infra,
}

/// What one run (one node count) measured.
#[derive(Debug, Default)]
struct Report {
    nodes: usize,
    nats: bool,
    connect_s: f64,
    tta: (f64, f64, usize),
    achieved: f64,
    p50: f64,
    p99: f64,
    /// CPU µs per delivery, all nodes together.
    cpu_us: f64,
    /// CPU µs per delivery of the local nats-server (when the nodes use it).
    nats_us: Option<f64>,
    /// Share of a core each node used during the fixed phase.
    node_cores: Vec<f64>,
    lost: u64,
    duplicated: u64,
    out_of_order: u64,
    errors: u64,
    dropped: u64,
    /// Per node: its `konvent_live_bus_*` samples at the end.
    bus: Vec<Vec<(String, f64)>>,
}

pub async fn run(opts: &Options, konvent: &str, cores: Cores) -> Result<()> {
    let mut reports = Vec::new();
    let mut failed = 0;
    for &n in &opts.nodes {
        eprintln!("== {n} node(s), {} clients", opts.clients);
        match measure(n, opts, konvent, cores).await {
            Ok(r) => reports.push(r),
            Err(e) => {
                failed += 1;
                eprintln!("{n} node(s) failed: {e:#}");
            }
        }
    }
    println!(
        "Nodes run {} (commit {}, {} cores; nodes pinned to core {}, load generator to the other; PostgreSQL and nats-server not pinned): {} clients spread round-robin over the nodes in one room, {:.0} deliveries/s for {} s, {} time-to-all broadcasts.\n",
        crate::now_utc(),
        crate::commit(),
        crate::servers::online_cores(),
        cores.server.map_or("–".into(), |c| c.to_string()),
        opts.clients,
        opts.rate,
        opts.seconds,
        opts.tta_reps,
    );
    print!("{}", tables(&reports));
    if failed > 0 {
        bail!("{failed} runs failed (see above)");
    }
    if reports
        .iter()
        .any(|r| r.lost > 0 || r.duplicated > 0 || r.out_of_order > 0)
    {
        bail!("entries were lost, duplicated or out of order (see the table)");
    }
    Ok(())
}

async fn measure(n: usize, opts: &Options, konvent: &str, cores: Cores) -> Result<Report> {
    let cluster = Cluster::start(
        konvent,
        n,
        opts.clients,
        &opts.infra,
        cores,
        &format!("n{n}"),
    )
    .await?;
    let started = Instant::now();
    let crowd = Crowd::connect_spread(&cluster.ports(), &cluster.tokens, opts.clients)
        .await
        .context("connecting")?;
    let mut report = Report {
        nodes: n,
        nats: cluster.nats,
        connect_s: started.elapsed().as_secs_f64(),
        ..Report::default()
    };
    eprintln!("   {} connected in {:.1} s", opts.clients, report.connect_s);
    // Everybody's subscription is taken (hello, joined, presence) before the first line.
    tokio::time::sleep(Duration::from_secs(3)).await;

    let (times, incomplete) = clients::time_to_all(
        &crowd,
        opts.tta_reps,
        Duration::from_millis(200),
        Duration::from_secs(10),
    )
    .await;
    report.tta = (
        clients::percentile(&times, 50.0),
        clients::percentile(&times, 99.0),
        incomplete,
    );
    eprintln!(
        "   time to all: p50 {:.1} ms, p99 {:.1} ms, incomplete {incomplete}",
        report.tta.0, report.tta.1
    );

    let per_second = opts.rate / opts.clients.max(1) as f64;
    let before = cluster.cpu_per_node();
    let nats_before = cluster.nats_cpu_seconds();
    let phase = Phase::run(
        &crowd,
        (per_second * opts.seconds) as usize,
        per_second,
        Duration::from_secs_f64(opts.drain),
    )
    .await;
    let after = cluster.cpu_per_node();
    let nats = cluster
        .nats_cpu_seconds()
        .zip(nats_before)
        .map(|(a, b)| a - b);
    let cpu: f64 = after.iter().zip(&before).map(|(a, b)| a - b).sum();
    report.achieved = phase.achieved();
    report.p50 = phase.p(50.0);
    report.p99 = phase.p(99.0);
    report.cpu_us = cpu * 1e6 / phase.deliveries().max(1) as f64;
    report.nats_us = nats.map(|s| s * 1e6 / phase.deliveries().max(1) as f64);
    report.node_cores = after
        .iter()
        .zip(&before)
        .map(|(a, b)| (a - b) / phase.wall)
        .collect();
    report.lost = phase.lost();
    report.duplicated = phase.duplicates();
    eprintln!(
        "   fixed {:.0}/s: achieved {:.0}/s, p50 {:.1} ms, p99 {:.1} ms, lost {}, duplicated {}, {:.2} CPU-µs per delivery over all nodes",
        opts.rate,
        report.achieved,
        report.p50,
        report.p99,
        report.lost,
        report.duplicated,
        report.cpu_us
    );
    for node in &cluster.nodes {
        report.bus.push(node.bus_counters().await);
    }
    report.out_of_order = crowd.out_of_order();
    report.errors = crowd.errors();
    report.dropped = crowd.dropped();
    crowd.close().await;
    drop(cluster);
    Ok(report)
}

fn f1(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.1}")
    } else {
        "–".into()
    }
}

/// The Markdown tables of a nodes run.
fn tables(reports: &[Report]) -> String {
    let one = reports.iter().find(|r| r.nodes == 1);
    let ratio = |v: f64, base: Option<f64>| match base {
        Some(b) if b > 0.0 && v.is_finite() => format!("{:.2}", v / b),
        _ => "–".into(),
    };
    let mut out = String::from(
        "| nodes | bus | deliveries/s | p50 / p99 ms | CPU µs per delivery (all nodes) | × 1 node | nats-server µs per delivery | each node's core | time to all p50 / p99 ms | p99 × 1 node | lost | duplicated | out of order | error frames, dropped |\n| ---: | --- | ---: | ---: | ---: | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for r in reports {
        let cores: Vec<String> = r
            .node_cores
            .iter()
            .map(|c| format!("{:.0} %", c * 100.0))
            .collect();
        let _ = writeln!(
            out,
            "| {} | {} | {:.0} | {} / {} | {:.2} | {} | {} | {} | {} / {}{} | {} | {} | {} | {} | {}, {} |",
            r.nodes,
            if r.nats { "NATS" } else { "in-process" },
            r.achieved,
            f1(r.p50),
            f1(r.p99),
            r.cpu_us,
            ratio(r.cpu_us, one.map(|o| o.cpu_us)),
            r.nats_us.map_or("–".into(), |v| format!("{v:.2}")),
            cores.join(", "),
            f1(r.tta.0),
            f1(r.tta.1),
            if r.tta.2 > 0 {
                format!(" ({} incomplete)", r.tta.2)
            } else {
                String::new()
            },
            ratio(r.tta.1, one.map(|o| o.tta.1)),
            r.lost,
            r.duplicated,
            r.out_of_order,
            r.errors,
            r.dropped,
        );
    }
    let bus: Vec<String> = reports
        .iter()
        .flat_map(|r| {
            r.bus
                .iter()
                .enumerate()
                .filter(|(_, b)| !b.is_empty())
                .map(move |(i, b)| {
                    let samples: Vec<String> =
                        b.iter().map(|(name, v)| format!("{name} {v}")).collect();
                    format!("| {} | {} | {} |", r.nodes, i + 1, samples.join("<br>"))
                })
        })
        .collect();
    if bus.is_empty() {
        out.push_str("\nNo node exposes `konvent_live_bus_*` metrics.\n");
    } else {
        out.push_str("\n| nodes | node | bus counters at the end |\n| ---: | ---: | --- |\n");
        for line in bus {
            out.push_str(&line);
            out.push('\n');
        }
    }
    out
}
