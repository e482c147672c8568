//! konvent-loadgen: many WebSocket clients in one room, an open-loop sender, latency from
//! the intended send time into HDR histograms, and the server's CPU time and memory
//! from /proc. `compare` runs konvent and two baselines side by side: a minimal tokio
//! WebSocket broadcast server (`baseline-tokio`, in this binary) and a socket.io 4
//! server (`bench/socketio`). See BENCHMARKS.md.

mod baseline;
mod clients;
mod servers;

use std::time::Duration;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

use clients::{Crowd, Phase};
use servers::{Running, Target};

#[derive(Parser)]
#[command(
    name = "konvent-loadgen",
    about = "Load generator for konvent's live hub"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The minimal tokio WebSocket broadcast server (a baseline).
    BaselineTokio {
        #[arg(long, default_value = "127.0.0.1:9100")]
        bind: String,
    },
    /// konvent and the baselines side by side: server on core 0, load on core 1.
    Compare {
        /// konvent, tokio, socketio
        #[arg(long, value_delimiter = ',', default_value = "konvent,tokio,socketio")]
        targets: Vec<Target>,
        #[arg(long, value_delimiter = ',', default_value = "1000,5000,10000")]
        clients: Vec<usize>,
        /// Seconds per measured phase.
        #[arg(long, default_value_t = 5)]
        seconds: u64,
        /// The konvent binary (built with --release).
        #[arg(long, env = "KONVENT_BIN", default_value = "target/release/konvent")]
        konvent: String,
    },
    /// A short run against konvent (1000 clients) that fails only on errors or lost,
    /// duplicated messages. Used in CI.
    Smoke {
        #[arg(long, env = "KONVENT_BIN", default_value = "target/debug/konvent")]
        konvent: String,
        #[arg(long, default_value_t = 1000)]
        clients: usize,
        #[arg(long, default_value_t = 200)]
        messages: usize,
    },
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    match cli.command {
        Command::BaselineTokio { bind } => runtime.block_on(baseline::serve(&bind)),
        Command::Compare {
            targets,
            clients,
            seconds,
            konvent,
        } => {
            servers::pin_self_to_core(1);
            runtime.block_on(compare(&targets, &clients, seconds, &konvent))
        }
        Command::Smoke {
            konvent,
            clients,
            messages,
        } => runtime.block_on(smoke(&konvent, clients, messages)),
    }
}

/// What one (target, N) run measured.
#[derive(Debug, Default, Clone)]
struct Report {
    target: String,
    clients: usize,
    idle_kib: f64,
    tta_p50_ms: f64,
    tta_p99_ms: f64,
    tta_lost: u64,
    fixed_rate: f64,
    fixed_p50_ms: f64,
    fixed_p99_ms: f64,
    fixed_lost: u64,
    cpu_us_per_delivery: f64,
    cpu_share: f64,
    saturation: f64,
    saturation_note: String,
    stall_base_p99_ms: f64,
    stall_p99_ms: f64,
    stall_closed: usize,
    stall_rss_before_mib: f64,
    stall_rss_after_mib: f64,
    errors: u64,
}

async fn smoke(konvent: &str, clients: usize, messages: usize) -> Result<()> {
    let server = Running::start(Target::Konvent, clients, konvent).await?;
    let crowd = Crowd::connect(&server, clients).await?;
    // 50 messages per second: each client sends at most once every 20 s.
    let phase = Phase::run(&crowd, messages, 50.0).await;
    let (lost, dup, errors) = (
        phase.lost(clients),
        phase.duplicates(clients),
        crowd.errors(),
    );
    println!(
        "smoke: {clients} clients, {messages} messages, {} deliveries, p50 {:.1} ms, p99 {:.1} ms, lost {lost}, duplicated {dup}, error frames {}",
        phase.deliveries(),
        phase.p(50.0),
        phase.p(99.0),
        errors
    );
    crowd.close().await;
    server.stop().await;
    if lost > 0 || dup > 0 || errors > 0 {
        bail!("smoke run failed: lost {lost}, duplicated {dup}, errors {errors}");
    }
    Ok(())
}

async fn compare(targets: &[Target], ns: &[usize], seconds: u64, konvent: &str) -> Result<()> {
    let mut reports = Vec::new();
    for &n in ns {
        for &target in targets {
            eprintln!("== {target} with {n} clients");
            match measure(target, n, seconds, konvent).await {
                Ok(r) => {
                    eprintln!("{r:?}");
                    reports.push(r);
                }
                Err(e) => eprintln!("{target} with {n} clients failed: {e:#}"),
            }
        }
    }
    print!("{}", table(&reports));
    Ok(())
}

async fn measure(target: Target, n: usize, seconds: u64, konvent: &str) -> Result<Report> {
    let server = Running::start(target, n, konvent).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_before = server.rss_kib()?;
    let crowd = Crowd::connect(&server, n).await.context("connecting")?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_idle = server.rss_kib()?;
    let mut report = Report {
        target: target.to_string(),
        clients: n,
        idle_kib: (rss_idle - rss_before) as f64 / n as f64,
        ..Report::default()
    };

    // Time until everybody has a broadcast: single messages, well apart.
    let tta = Phase::run(&crowd, 30, 3.0).await;
    let times = tta.time_to_all(n);
    report.tta_p50_ms = clients::percentile(&times, 50.0);
    report.tta_p99_ms = clients::percentile(&times, 99.0);
    report.tta_lost = tta.lost(n);
    settle().await;

    // CPU per delivery at 100,000 deliveries per second.
    let rate = 100_000.0 / n as f64;
    let cpu_before = server.cpu_seconds()?;
    let started = std::time::Instant::now();
    let fixed = Phase::run(&crowd, (rate * seconds as f64) as usize, rate).await;
    let wall = started.elapsed().as_secs_f64();
    let cpu = server.cpu_seconds()? - cpu_before;
    report.fixed_rate = fixed.deliveries() as f64 / wall;
    report.fixed_p50_ms = fixed.p(50.0);
    report.fixed_p99_ms = fixed.p(99.0);
    report.fixed_lost = fixed.lost(n);
    report.cpu_us_per_delivery = cpu * 1e6 / fixed.deliveries().max(1) as f64;
    report.cpu_share = cpu / wall;
    settle().await;

    // Saturation: the highest delivery rate with p99 <= 100 ms and nothing lost.
    let mut best = 0.0;
    for step in [
        50_000.0, 100_000.0, 150_000.0, 200_000.0, 300_000.0, 400_000.0, 600_000.0,
    ] {
        let rate = step / n as f64;
        let messages = (rate * seconds as f64).max(10.0) as usize;
        let started = std::time::Instant::now();
        let phase = Phase::run(&crowd, messages, rate).await;
        let achieved = phase.deliveries() as f64 / started.elapsed().as_secs_f64();
        let ok = phase.p(99.0) <= 100.0 && phase.lost(n) == 0;
        eprintln!(
            "   {target} n={n} step {step:.0}/s: achieved {achieved:.0}/s p99 {:.1} ms lost {} → {}",
            phase.p(99.0),
            phase.lost(n),
            if ok { "pass" } else { "fail" }
        );
        settle().await;
        if !ok {
            report.saturation_note = format!(
                "at {step:.0}/s: p99 {:.0} ms, lost {}",
                phase.p(99.0),
                phase.lost(n)
            );
            break;
        }
        best = step;
    }
    report.saturation = best;

    // Stalled clients: the same moderate rate without and with 1 % who stop reading.
    let rate = 50_000.0 / n as f64;
    let messages = (rate * seconds as f64 * 2.0) as usize;
    let base = Phase::run(&crowd, messages, rate).await;
    report.stall_base_p99_ms = base.p(99.0);
    settle().await;
    report.stall_rss_before_mib = server.rss_kib()? as f64 / 1024.0;
    let stalled = crowd.stall(n / 100);
    let with = Phase::run_healthy(&crowd, messages, rate).await;
    report.stall_p99_ms = with.p(99.0);
    report.stall_rss_after_mib = server.rss_kib()? as f64 / 1024.0;
    report.stall_closed = crowd.count_closed(&stalled).await;
    report.errors = crowd.errors();

    crowd.close().await;
    server.stop().await;
    Ok(report)
}

/// Lets the last frames of a phase arrive before the next one starts.
async fn settle() {
    tokio::time::sleep(Duration::from_millis(1500)).await;
}

fn table(reports: &[Report]) -> String {
    let mut out = String::new();
    out.push_str(
        "| server | clients | idle KiB/conn | time-to-all p50 / p99 ms | 100k/s: achieved, p50 / p99 ms, lost | CPU µs/delivery (core share) | saturation deliveries/s (p99 ≤ 100 ms) | 1 % stalled: healthy p99 before → with, stalled closed, RSS MiB before → after |\n",
    );
    out.push_str("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for r in reports {
        out.push_str(&format!(
            "| {} | {} | {:.1} | {:.1} / {:.1}{} | {:.0}, {:.1} / {:.1}, {} | {:.2} ({:.0} %) | {:.0}{} | {:.1} → {:.1}, {}/{}, {:.0} → {:.0} |\n",
            r.target,
            r.clients,
            r.idle_kib,
            r.tta_p50_ms,
            r.tta_p99_ms,
            if r.tta_lost > 0 { format!(" (lost {})", r.tta_lost) } else { String::new() },
            r.fixed_rate,
            r.fixed_p50_ms,
            r.fixed_p99_ms,
            r.fixed_lost,
            r.cpu_us_per_delivery,
            r.cpu_share * 100.0,
            r.saturation,
            if r.saturation_note.is_empty() { String::new() } else { format!(" (next: {})", r.saturation_note) },
            r.stall_base_p99_ms,
            r.stall_p99_ms,
            r.stall_closed,
            r.clients / 100,
            r.stall_rss_before_mib,
            r.stall_rss_after_mib,
        ));
    }
    // konvent against the tokio baseline, per N.
    let mut ratios = String::new();
    for k in reports.iter().filter(|r| r.target == "konvent") {
        if let Some(t) = reports
            .iter()
            .find(|r| r.target == "tokio" && r.clients == k.clients)
        {
            ratios.push_str(&format!(
                "| {} | {:.2} | {:.2} | {:.2} | {:.2} |\n",
                k.clients,
                k.idle_kib / t.idle_kib,
                k.cpu_us_per_delivery / t.cpu_us_per_delivery,
                k.tta_p99_ms / t.tta_p99_ms,
                if t.saturation > 0.0 {
                    k.saturation / t.saturation
                } else {
                    f64::NAN
                },
            ));
        }
    }
    if !ratios.is_empty() {
        out.push_str("\nkonvent / tokio baseline:\n\n| clients | memory per idle connection | CPU per delivery | time-to-all p99 | saturation |\n| ---: | ---: | ---: | ---: | ---: |\n");
        out.push_str(&ratios);
    }
    out
}
