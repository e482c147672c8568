//! konvent-loadgen: many WebSocket clients in one room, an open-loop sender, latency from
//! the intended send time into HDR histograms, and the server's CPU time and memory
//! from /proc. `compare` runs konvent and two baselines side by side: a minimal tokio
//! WebSocket broadcast server (`baseline-tokio`, in this binary) and a socket.io 4
//! server (`bench/socketio`). `nodes` and `failover` run several konvent nodes on one
//! PostgreSQL database with NATS between them. See BENCHMARKS.md and the README.

mod baseline;
mod bench;
mod bulk;
mod clients;
mod cluster;
mod failover;
mod flood;
mod map;
mod nodes;
mod pages;
mod resuming;
mod servers;

use std::time::Duration;

use anyhow::{Result, bail};
use clap::{Parser, Subcommand};

use bench::{Options, Scenario};
use clients::{Crowd, Phase};
use servers::{Cores, Running, Target};

#[derive(Parser)]
#[command(
    name = "konvent-loadgen",
    about = "Load generator for konvent's live hub, with a tokio and a socket.io baseline"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// The minimal tokio WebSocket broadcast server (a baseline): every text frame a
    /// client sends goes to every connected client.
    BaselineTokio {
        #[arg(long, default_value = "127.0.0.1:9100")]
        bind: String,
        /// TCP_NODELAY on every connection (what WebSocket servers usually do).
        #[arg(long, default_value_t = true, action = clap::ArgAction::Set)]
        nodelay: bool,
    },
    /// konvent and the baselines side by side, each N and server in turn: the server on
    /// core 0, the load generator on core 1. Prints Markdown tables on stdout.
    Compare {
        /// konvent, tokio, socketio
        #[arg(long, value_delimiter = ',', default_value = "konvent,tokio,socketio")]
        targets: Vec<Target>,
        /// Client counts.
        #[arg(long, value_delimiter = ',', default_value = "1000,5000,10000")]
        clients: Vec<usize>,
        /// idle, tta, fixed, saturation, stall
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "idle,tta,fixed,saturation,stall"
        )]
        scenarios: Vec<Scenario>,
        #[command(flatten)]
        options: Options,
        /// The konvent binary (built with --release).
        #[arg(long, env = "KONVENT_BIN", default_value = "target/release/konvent")]
        konvent: String,
    },
    /// Some scenarios against one server (started, pinned and stopped as by compare).
    Run {
        #[arg(long)]
        target: Target,
        #[arg(long, default_value_t = 1000)]
        clients: usize,
        /// idle, tta, fixed, saturation, stall
        #[arg(
            long,
            value_delimiter = ',',
            default_value = "idle,tta,fixed,saturation,stall"
        )]
        scenarios: Vec<Scenario>,
        #[command(flatten)]
        options: Options,
        #[arg(long, env = "KONVENT_BIN", default_value = "target/release/konvent")]
        konvent: String,
    },
    /// The venue map (K8): N avatars on a generated 256×256 map, first all standing
    /// (baseline), then a share of them walking; server CPU and memory, frames and
    /// bytes per client, and how stale the positions are when they arrive.
    Map {
        /// Avatar counts, one run each.
        #[arg(long, value_delimiter = ',', default_value = "10000")]
        avatars: Vec<usize>,
        /// Share of the avatars that walk in the moving phase (0–1).
        #[arg(long, default_value_t = 0.2)]
        moving: f64,
        /// Steps per second per walking avatar (at most 10).
        #[arg(long, default_value_t = 5.0)]
        rate: f64,
        /// Seconds of each phase.
        #[arg(long, default_value_t = 30.0)]
        seconds: f64,
        /// Seed of the avatars' places and walks.
        #[arg(long, default_value_t = 6)]
        seed: u64,
        #[arg(long, env = "KONVENT_BIN", default_value = "target/release/konvent")]
        konvent: String,
    },
    /// One participant floods each durable live command kind for a phase while others
    /// chat, konvent with its default per-person budget: growth of the database and its
    /// write-ahead log, and the others' acknowledgement latency against phases without
    /// the flooder. Prints a Markdown table.
    Flood {
        #[arg(long, env = "KONVENT_BIN", default_value = "target/debug/konvent")]
        konvent: String,
        /// Participants who chat meanwhile (one line every 2 s each).
        #[arg(long, default_value_t = 100)]
        others: usize,
        /// Seconds of each phase.
        #[arg(long, default_value_t = 10.0)]
        seconds: f64,
        /// hand, vote_pin, chat, ask, pin, dm (default: all).
        #[arg(long, value_delimiter = ',')]
        kinds: Vec<String>,
    },
    /// The same load against 1, 2, 3 … konvent nodes on one PostgreSQL database (a
    /// fresh one per run, created and dropped with psql), NATS between the nodes; the
    /// clients spread round-robin over the nodes in one room. Per run: deliveries/s, CPU
    /// per delivery over all nodes and against one node, time to all, lost and
    /// duplicated entries, the nodes' bus counters. Prints Markdown tables; fails when
    /// anything was lost, duplicated or out of order.
    Nodes {
        #[command(flatten)]
        options: nodes::Options,
        #[arg(long, env = "KONVENT_BIN", default_value = "target/release/konvent")]
        konvent: String,
    },
    /// Clients spread over several nodes chat at a steady rate; after a warm-up one node
    /// is killed (kill -9) and its clients resume on the next node with `since` (and
    /// `epoch`). Prints how long they took (kill to first frame on the new node) and
    /// the acknowledged lines each client lost or got twice; fails on any.
    Failover {
        #[command(flatten)]
        options: failover::Options,
        #[arg(long, env = "KONVENT_BIN", default_value = "target/release/konvent")]
        konvent: String,
    },
    /// Bulk invitations (A2): N people invited from one CSV list through konvent's
    /// outbox to a local aiosmtpd while participants chat; time to the last mail
    /// accepted, the outbox's mails/s, and the chat's latency during the import against
    /// a phase without it. Prints Markdown tables. Needs a Python with aiosmtpd
    /// (KONVENT_TEST_PYTHON).
    Bulk {
        #[arg(long, env = "KONVENT_BIN", default_value = "target/release/konvent")]
        konvent: String,
        #[arg(long, default_value_t = 3000)]
        people: usize,
        /// Participants who chat meanwhile (one line every 2 s each).
        #[arg(long, default_value_t = 100)]
        chatters: usize,
        /// Seconds of the phase without the import.
        #[arg(long, default_value_t = 20.0)]
        seconds: f64,
    },
    /// The main pages at the start of an event (issue 17): a demo participant's lobby,
    /// room, map, café and "Meine Ergebnisse", the demo admin's lobby, café and duties
    /// list, each for a fixed time over a fixed number of kept-alive connections, against
    /// `/healthz` of the same server in the same run; konvent on core 0 with the demo
    /// data, the load generator on core 1. Prints a Markdown table with each page's
    /// requests/s, p50, p99 and ratio to `/healthz`; fails when a request fails.
    Pages {
        #[command(flatten)]
        options: pages::Options,
        #[arg(long, env = "KONVENT_BIN", default_value = "target/release/konvent")]
        konvent: String,
    },
    /// A short run against konvent that fails only on errors or on lost, duplicated or
    /// out-of-order messages (for CI; latency is printed, not judged).
    Smoke {
        #[arg(long, env = "KONVENT_BIN", default_value = "target/debug/konvent")]
        konvent: String,
        #[arg(long, default_value_t = 1000)]
        clients: usize,
        #[arg(long, default_value_t = 300)]
        messages: usize,
        /// Messages per second (each to every client).
        #[arg(long, default_value_t = 30.0)]
        rate: f64,
    },
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?)
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::BaselineTokio { bind, nodelay } => {
            runtime()?.block_on(baseline::serve(&bind, nodelay))
        }
        Command::Compare {
            targets,
            clients,
            scenarios,
            options,
            konvent,
        } => {
            servers::raise_open_files(clients.iter().copied().max().unwrap_or(0))?;
            let cores = servers::pin_self(1, 0);
            runtime()?.block_on(compare(
                &targets, &clients, &scenarios, &options, &konvent, cores,
            ))
        }
        Command::Run {
            target,
            clients,
            scenarios,
            options,
            konvent,
        } => {
            servers::raise_open_files(clients)?;
            let cores = servers::pin_self(1, 0);
            runtime()?.block_on(compare(
                &[target],
                &[clients],
                &scenarios,
                &options,
                &konvent,
                cores,
            ))
        }
        Command::Map {
            avatars,
            moving,
            rate,
            seconds,
            seed,
            konvent,
        } => {
            let options = map::Options {
                avatars,
                moving,
                rate,
                seconds,
                seed,
            };
            options.check()?;
            servers::raise_open_files(options.avatars.iter().copied().max().unwrap_or(0))?;
            let cores = servers::pin_self(1, 0);
            runtime()?.block_on(map::run(&options, &konvent, cores))
        }
        Command::Nodes { options, konvent } => {
            servers::raise_open_files(options.clients)?;
            let cores = servers::pin_self(1, 0);
            runtime()?.block_on(nodes::run(&options, &konvent, cores))
        }
        Command::Failover { options, konvent } => {
            // Resuming clients hold their old socket a moment while dialing the new one.
            servers::raise_open_files(options.clients * 2)?;
            let cores = servers::pin_self(1, 0);
            runtime()?.block_on(failover::run(&options, &konvent, cores))
        }
        Command::Smoke {
            konvent,
            clients,
            messages,
            rate,
        } => {
            servers::raise_open_files(clients)?;
            runtime()?.block_on(smoke(&konvent, clients, messages, rate))
        }
        Command::Bulk {
            konvent,
            people,
            chatters,
            seconds,
        } => {
            servers::raise_open_files(chatters + 2)?;
            let cores = servers::pin_self(1, 0);
            let options = bulk::Options {
                people,
                chatters,
                seconds,
            };
            runtime()?.block_on(bulk::run(&options, &konvent, cores))
        }
        Command::Pages { options, konvent } => {
            servers::raise_open_files(options.connections + 2)?;
            let cores = servers::pin_self(1, 0);
            runtime()?.block_on(pages::run(&options, &konvent, cores))
        }
        Command::Flood {
            konvent,
            others,
            seconds,
            kinds,
        } => {
            servers::raise_open_files(others + 2)?;
            let options = flood::Options {
                others,
                seconds,
                kinds,
            };
            runtime()?.block_on(flood::run(&options, &konvent))
        }
    }
}

async fn compare(
    targets: &[Target],
    ns: &[usize],
    scenarios: &[Scenario],
    options: &Options,
    konvent: &str,
    cores: Cores,
) -> Result<()> {
    let scenarios = if scenarios.is_empty() {
        &bench::ALL[..]
    } else {
        scenarios
    };
    let mut reports = Vec::new();
    let mut failed = 0;
    // konvent first, so that the baselines broadcast frames as large as its own.
    let mut targets = targets.to_vec();
    targets.sort_by_key(|t| *t != Target::Konvent);
    for &n in ns {
        let mut options = options.clone();
        for &target in &targets {
            eprintln!("== {target} with {n} clients");
            match bench::measure(target, n, &options, scenarios, konvent, cores).await {
                Ok(r) => {
                    if target == Target::Konvent && r.frame_bytes > 0 {
                        options.frame_bytes = r.frame_bytes;
                    }
                    reports.push(r)
                }
                Err(e) => {
                    failed += 1;
                    eprintln!("{target} with {n} clients failed: {e:#}");
                }
            }
        }
    }
    println!(
        "Run {} (commit {}, kernel {}, {} cores; server pinned to core {}, load generator to the other); fixed phase {} s, saturation steps {} s, stall phases {} s, {} time-to-all broadcasts.\n",
        now_utc(),
        commit(),
        sh("uname", &["-r"]),
        servers::online_cores(),
        cores.server.map_or("–".into(), |c| c.to_string()),
        options.seconds,
        options.step_seconds,
        options.stall_seconds,
        options.tta_reps,
    );
    print!("{}", bench::tables(&reports, options));
    if failed > 0 {
        bail!("{failed} runs failed (see above)");
    }
    Ok(())
}

/// A command's standard output, trimmed (empty when it fails).
fn sh(cmd: &str, args: &[&str]) -> String {
    std::process::Command::new(cmd)
        .args(args)
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default()
}

/// The time of a run, for its heading.
pub(crate) fn now_utc() -> String {
    sh("date", &["-u", "+%Y-%m-%d %H:%M UTC"])
}

/// The commit measured, for a run's heading.
pub(crate) fn commit() -> String {
    sh("git", &["rev-parse", "--short", "HEAD"])
}

async fn smoke(konvent: &str, clients: usize, messages: usize, rate: f64) -> Result<()> {
    let server = Running::start(Target::Konvent, clients, konvent, Cores { server: None }).await?;
    let result = smoke_on(&server, clients, messages, rate).await;
    server.stop().await;
    result
}

async fn smoke_on(server: &Running, clients: usize, messages: usize, rate: f64) -> Result<()> {
    let crowd = Crowd::connect(server, clients, 0, None, clients::KONVENT_FRAME_BYTES).await?;
    // Everybody's subscription is taken (hello, joined) before the first line.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let phase = Phase::run(&crowd, messages, rate, Duration::from_secs(60)).await;
    // Acknowledgements may trail the last delivery a little.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while crowd.acks() < messages as u64 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (lost, duplicated, out_of_order, errors, dropped, acks) = (
        phase.lost(),
        phase.duplicates(),
        crowd.out_of_order(),
        crowd.errors(),
        crowd.dropped(),
        crowd.acks(),
    );
    println!(
        "smoke: {clients} clients, {} messages, {} deliveries (p50 {:.1} ms, p99 {:.1} ms), lost {lost}, duplicated {duplicated}, out of order {out_of_order}, error frames {errors}, dropped connections {dropped}, acks {acks}",
        phase.messages(),
        phase.deliveries(),
        phase.p(50.0),
        phase.p(99.0),
    );
    crowd.close().await;
    if lost > 0
        || duplicated > 0
        || out_of_order > 0
        || errors > 0
        || dropped > 0
        || acks != phase.messages() as u64
    {
        bail!(
            "smoke run failed: lost {lost}, duplicated {duplicated}, out of order {out_of_order}, error frames {errors}, dropped connections {dropped}, acks {acks} of {}",
            phase.messages()
        );
    }
    println!("smoke: ok");
    Ok(())
}
