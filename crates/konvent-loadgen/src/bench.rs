//! The scenarios, run against one server at a time, and the tables.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use crate::clients::{self, Crowd, Phase};
use crate::servers::{Cores, Running, Target, kernel_net};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    Idle,
    TimeToAll,
    Fixed,
    Saturation,
    Stall,
}

impl std::str::FromStr for Scenario {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "idle" => Ok(Self::Idle),
            "tta" | "time-to-all" => Ok(Self::TimeToAll),
            "fixed" => Ok(Self::Fixed),
            "saturation" => Ok(Self::Saturation),
            "stall" => Ok(Self::Stall),
            _ => Err(format!(
                "unknown scenario {s:?}: idle, tta, fixed, saturation, stall"
            )),
        }
    }
}

pub const ALL: [Scenario; 5] = [
    Scenario::Idle,
    Scenario::TimeToAll,
    Scenario::Fixed,
    Scenario::Saturation,
    Scenario::Stall,
];

/// Durations and rates of the scenarios.
#[derive(Debug, Clone, clap::Args)]
pub struct Options {
    /// Seconds of the fixed-rate phase (CPU per delivery).
    #[arg(long, default_value_t = 5.0)]
    pub seconds: f64,
    /// Deliveries per second of the fixed-rate phase.
    #[arg(long, default_value_t = 100_000.0)]
    pub rate: f64,
    /// Seconds of each step of the saturation search.
    #[arg(long, default_value_t = 4.0)]
    pub step_seconds: f64,
    /// Delivery p99 (ms) a step of the saturation search must hold to pass. Above a
    /// few thousand clients one broadcast alone can take longer than 100 ms on a slow
    /// machine; a higher bound then still compares the servers' throughput.
    #[arg(long, default_value_t = 100.0)]
    pub p99_ms: f64,
    /// Highest delivery rate the saturation search tries.
    #[arg(long, default_value_t = 2_000_000.0)]
    pub max_rate: f64,
    /// Broadcasts timed one at a time for time-to-all.
    #[arg(long, default_value_t = 30)]
    pub tta_reps: usize,
    /// Deliveries per second while 1 % of the clients stall (and in the same phase
    /// without stalls).
    #[arg(long, default_value_t = 50_000.0)]
    pub stall_rate: f64,
    /// Seconds of each of the two stall phases (without and with stalled clients).
    #[arg(long, default_value_t = 10.0)]
    pub stall_seconds: f64,
    /// Receive buffer (SO_RCVBUF, bytes) of the clients that stall; 0: the kernel's
    /// default. A small one makes the server's own queue fill sooner, but the kernel
    /// then drops segments that do not fit and sends them again, in every phase.
    #[arg(long, default_value_t = 0)]
    pub stall_rcvbuf: u32,
    /// Share of the clients that stall, in percent.
    #[arg(long, default_value_t = 1.0)]
    pub stall_percent: f64,
    /// Seconds a phase waits for the last deliveries after its last send; what has not
    /// arrived by then counts as lost.
    #[arg(long, default_value_t = 5.0)]
    pub drain: f64,
    /// Bytes of the frame the baselines broadcast: as large as konvent's `ev` frame for a
    /// chat line, so that every server writes the same bytes per delivery. `compare`
    /// takes the size konvent's frames had in the same run when konvent ran first.
    #[arg(long, default_value_t = crate::clients::KONVENT_FRAME_BYTES)]
    pub frame_bytes: usize,
}

/// What one (target, N) run measured.
#[derive(Debug, Default, Clone)]
pub struct Report {
    pub target: String,
    pub clients: usize,
    pub connect_s: f64,
    pub frame_bytes: usize,
    pub idle: Option<Idle>,
    pub tta: Option<(f64, f64, usize)>,
    pub fixed: Option<Fixed>,
    pub saturation: Option<Saturation>,
    pub stall: Option<Stall>,
    pub errors: u64,
    pub dropped: u64,
    pub reconnected: usize,
    /// Loopback packets the kernel dropped and TCP segments it sent again, over the run.
    pub kernel_drops: u64,
    pub kernel_retrans: u64,
    /// The same during the time-to-all and fixed-rate phases.
    pub tta_net: (u64, u64),
    pub fixed_net: (u64, u64),
}

/// Memory per idle connection in KiB.
#[derive(Debug, Default, Clone)]
pub struct Idle {
    /// Anonymous resident memory (heap, stacks, buffers) over all connections, against
    /// the server before the first.
    pub anon: f64,
    /// All resident memory, the executable's code pages included.
    pub all: f64,
    /// Anonymous resident memory per further connection, once a tenth of them are
    /// connected: what one more idle connection costs, without what the server sets up
    /// once for its first ones (caches, database pages, parsed translations).
    pub extra: f64,
}

/// The share of the clients connected first when memory per further connection is
/// measured (the rest connect after the reading).
const WARM_SHARE: usize = 10;

#[derive(Debug, Default, Clone)]
pub struct Fixed {
    pub achieved: f64,
    pub p50: f64,
    pub p99: f64,
    pub lost: u64,
    pub cpu_us: f64,
    pub server_core: f64,
    pub loadgen_core: f64,
}

#[derive(Debug, Default, Clone)]
pub struct Saturation {
    /// The highest rate that passed (p99 within `--p99-ms`, nothing lost, nobody dropped).
    pub best: f64,
    pub best_p99: f64,
    /// Why the search stopped (the lowest rate that failed, and how).
    pub stop: String,
}

#[derive(Debug, Default, Clone)]
pub struct Stall {
    pub stalled: usize,
    pub rate: f64,
    pub base_p99: f64,
    pub with_p99: f64,
    pub with_lost: u64,
    pub closed: usize,
    pub codes: Vec<u32>,
    pub frames_median: u64,
    pub frames_max: u64,
    /// konvent: seconds into the stalled phase when the hub closed its first and last
    /// slow client (from /metrics).
    pub closed_at: Option<(f64, f64)>,
    pub rss_before_mib: f64,
    pub rss_peak_mib: f64,
    pub rss_after_mib: f64,
}

fn passes(phase: &Phase, opts: &Options) -> bool {
    phase.p(99.0) <= opts.p99_ms && phase.lost() == 0 && phase.dropped == 0
}

/// Waits until the server has worked off what is left from an overload: its CPU use
/// below 5 % of a core over half a second (at most 30 s); then reopens connections it
/// closed.
async fn settle(server: &Running, crowd: &mut Crowd) -> Result<usize> {
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut before = server.cpu_seconds()?;
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = server.cpu_seconds()?;
        if now - before < 0.025 {
            break;
        }
        before = now;
    }
    crowd.reconnect_closed().await
}

pub async fn measure(
    target: Target,
    n: usize,
    opts: &Options,
    scenarios: &[Scenario],
    konvent: &str,
    cores: Cores,
) -> Result<Report> {
    let server = Running::start(target, n, konvent, cores).await?;
    let result = measure_on(&server, target, n, opts, scenarios).await;
    server.stop().await;
    result
}

async fn measure_on(
    server: &Running,
    target: Target,
    n: usize,
    opts: &Options,
    scenarios: &[Scenario],
) -> Result<Report> {
    let has = |s: Scenario| scenarios.contains(&s);
    let drain = Duration::from_secs_f64(opts.drain);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_before = server.rss_kib()?;
    let anon_before = server.anon_kib()?;
    let stall_count = if has(Scenario::Stall) {
        ((n as f64 * opts.stall_percent / 100.0).round() as usize).max(1)
    } else {
        0
    };
    let rcvbuf = (opts.stall_rcvbuf > 0).then_some(opts.stall_rcvbuf);
    let started = Instant::now();
    let warm = if has(Scenario::Idle) {
        (n / WARM_SHARE).max(1)
    } else {
        n
    };
    let mut crowd = Crowd::connect_first(server, n, warm, stall_count, rcvbuf, opts.frame_bytes)
        .await
        .context("connecting")?;
    let mut connecting = started.elapsed();
    let anon_warm = if warm < n {
        tokio::time::sleep(Duration::from_secs(2)).await;
        let anon = server.anon_kib()?;
        let rest = Instant::now();
        crowd.dial_more(n).await.context("connecting")?;
        connecting += rest.elapsed();
        Some(anon)
    } else {
        None
    };
    let mut report = Report {
        target: target.to_string(),
        clients: n,
        connect_s: connecting.as_secs_f64(),
        ..Report::default()
    };
    eprintln!("   {n} connected in {:.1} s", report.connect_s);
    let net_start = kernel_net();
    let since = |before: (u64, u64)| {
        let now = kernel_net();
        (
            now.0.saturating_sub(before.0),
            now.1.saturating_sub(before.1),
        )
    };
    tokio::time::sleep(Duration::from_secs(3)).await;
    if has(Scenario::Idle) {
        let rss_idle = server.rss_kib()?;
        let anon_idle = server.anon_kib()?;
        let per_conn = |before: u64, after: u64| (after as f64 - before as f64) / n as f64;
        let extra = anon_warm.map_or(f64::NAN, |warm_kib| {
            (anon_idle as f64 - warm_kib as f64) / (n - warm) as f64
        });
        let idle = Idle {
            anon: per_conn(anon_before, anon_idle),
            all: per_conn(rss_before, rss_idle),
            extra,
        };
        eprintln!(
            "   idle: RSS {:.1} → {:.1} MiB ({:.2} KiB per connection), anonymous {:.1} → {:.1} MiB ({:.2} KiB per connection; {:.2} KiB per connection after the first {warm})",
            rss_before as f64 / 1024.0,
            rss_idle as f64 / 1024.0,
            idle.all,
            anon_before as f64 / 1024.0,
            anon_idle as f64 / 1024.0,
            idle.anon,
            idle.extra
        );
        report.idle = Some(idle);
    }

    if has(Scenario::TimeToAll) {
        let net = kernel_net();
        let (times, incomplete) = clients::time_to_all(
            &crowd,
            opts.tta_reps,
            Duration::from_millis(200),
            Duration::from_secs(10),
        )
        .await;
        let tta = (
            clients::percentile(&times, 50.0),
            clients::percentile(&times, 99.0),
            incomplete,
        );
        report.tta_net = since(net);
        eprintln!(
            "   time to all: p50 {:.1} ms, p99 {:.1} ms, incomplete {incomplete}; kernel: {} loopback drops, {} retransmits",
            tta.0, tta.1, report.tta_net.0, report.tta_net.1
        );
        report.tta = Some(tta);
        report.reconnected += settle(server, &mut crowd).await?;
    }

    let mut fixed_ok = None;
    if has(Scenario::Fixed) {
        let rate = opts.rate / n as f64;
        let cpu_before = server.cpu_seconds()?;
        let net = kernel_net();
        let t0 = Instant::now();
        let phase = Phase::run(&crowd, (rate * opts.seconds) as usize, rate, drain).await;
        report.fixed_net = since(net);
        let wall = t0.elapsed().as_secs_f64();
        let cpu = server.cpu_seconds()? - cpu_before;
        let fixed = Fixed {
            achieved: phase.achieved(),
            p50: phase.p(50.0),
            p99: phase.p(99.0),
            lost: phase.lost(),
            cpu_us: cpu * 1e6 / phase.deliveries().max(1) as f64,
            server_core: cpu / phase.wall.min(wall),
            loadgen_core: phase.loadgen_cpu,
        };
        eprintln!(
            "   fixed {:.0}/s: achieved {:.0}/s, p50 {:.1} ms, p99 {:.1} ms (ack p50 {:.1}, p99 {:.1}), lost {}, {:.2} CPU-µs per delivery, server {:.0} % of a core, loadgen {:.0} %; kernel: {} loopback drops, {} retransmits",
            opts.rate,
            fixed.achieved,
            fixed.p50,
            fixed.p99,
            phase.ack_p(50.0),
            phase.ack_p(99.0),
            fixed.lost,
            fixed.cpu_us,
            fixed.server_core * 100.0,
            fixed.loadgen_core * 100.0,
            report.fixed_net.0,
            report.fixed_net.1
        );
        fixed_ok = Some(passes(&phase, opts));
        report.fixed = Some(fixed);
        report.reconnected += settle(server, &mut crowd).await?;
    }

    if has(Scenario::Saturation) {
        let mut lo: Option<(f64, f64)> = None;
        let mut hi: Option<f64> = None;
        let mut stop = String::new();
        match fixed_ok {
            Some(true) => lo = report.fixed.as_ref().map(|f| (opts.rate, f.p99)),
            Some(false) => hi = Some(opts.rate),
            None => {}
        }
        let mut refine = 2;
        loop {
            let rate = match (lo, hi) {
                (None, None) => opts.rate,
                (Some((l, _)), None) => l * 1.5,
                (None, Some(h)) => h / 2.0,
                (Some((l, _)), Some(h)) => {
                    if refine == 0 {
                        break;
                    }
                    refine -= 1;
                    (l * h).sqrt()
                }
            };
            if rate > opts.max_rate {
                stop = format!("search stopped at {rate:.0}/s (the cap)");
                break;
            }
            if rate < 1000.0 {
                stop = "fails below 1000/s".into();
                break;
            }
            let per_second = rate / n as f64;
            let messages = ((per_second * opts.step_seconds) as usize).max(10);
            let net = kernel_net();
            let phase = Phase::run(&crowd, messages, per_second, drain).await;
            let ok = passes(&phase, opts);
            let net = since(net);
            eprintln!(
                "   step {rate:.0}/s: achieved {:.0}/s, p99 {:.1} ms (ack p99 {:.1}), lost {}, dropped {}, loadgen {:.0} % of a core, kernel: {} loopback drops, {} retransmits → {}",
                phase.achieved(),
                phase.p(99.0),
                phase.ack_p(99.0),
                phase.lost(),
                phase.dropped,
                phase.loadgen_cpu * 100.0,
                net.0,
                net.1,
                if ok { "pass" } else { "fail" }
            );
            if ok {
                lo = Some((rate, phase.p(99.0)));
            } else {
                if hi.is_none_or(|h| rate < h) {
                    stop = format!(
                        "{rate:.0}/s: p99 {:.0} ms, lost {}{}{}",
                        phase.p(99.0),
                        phase.lost(),
                        if phase.dropped > 0 {
                            format!(", dropped {}", phase.dropped)
                        } else {
                            String::new()
                        },
                        if phase.loadgen_cpu > 0.9 {
                            ", loadgen busy"
                        } else {
                            ""
                        }
                    );
                }
                hi = Some(rate);
            }
            report.reconnected += settle(server, &mut crowd).await?;
        }
        report.saturation = Some(Saturation {
            best: lo.map_or(0.0, |(l, _)| l),
            best_p99: lo.map_or(f64::NAN, |(_, p)| p),
            stop,
        });
    }

    if has(Scenario::Stall) {
        let per_second = opts.stall_rate / n as f64;
        let messages = ((per_second * opts.stall_seconds) as usize).max(10);
        let base = Phase::run(&crowd, messages, per_second, drain).await;
        report.reconnected += settle(server, &mut crowd).await?;
        let rss_before = server.rss_kib()?;
        let slow_before = server.slow_closes().await;
        crowd.stall();
        // The server's memory and (konvent) its slow-client closes, every 250 ms.
        let t0 = Instant::now();
        let watch = async {
            let mut peak = rss_before;
            let mut first_close = None;
            let mut last_close = None;
            let mut seen = slow_before.unwrap_or(0);
            loop {
                tokio::time::sleep(Duration::from_millis(250)).await;
                peak = peak.max(server.rss_kib().unwrap_or(0));
                if let Some(c) = server.slow_closes().await
                    && c > seen
                {
                    let at = t0.elapsed().as_secs_f64();
                    first_close.get_or_insert(at);
                    last_close = Some(at);
                    seen = c;
                }
                if t0.elapsed().as_secs_f64() > opts.stall_seconds + opts.drain + 1.0 {
                    return (peak, first_close.zip(last_close));
                }
            }
        };
        let (with, (peak, closed_at)) =
            tokio::join!(Phase::run(&crowd, messages, per_second, drain), watch);
        let rss_stalled = server.rss_kib()?;
        let outcome = crowd.resume_stalled(Duration::from_secs(5)).await;
        let rss_after = server.rss_kib()?;
        let stall = Stall {
            stalled: crowd.stall_count(),
            rate: opts.stall_rate,
            base_p99: base.p(99.0),
            with_p99: with.p(99.0),
            with_lost: with.lost(),
            closed: outcome.closed,
            codes: outcome.codes,
            frames_median: outcome.frames_median,
            frames_max: outcome.frames_max,
            closed_at,
            rss_before_mib: rss_before as f64 / 1024.0,
            rss_peak_mib: peak.max(rss_stalled) as f64 / 1024.0,
            rss_after_mib: rss_after as f64 / 1024.0,
        };
        eprintln!(
            "   stall {} of {n} at {:.0}/s: healthy p99 {:.1} → {:.1} ms (lost {}), stalled closed {} (codes {:?}, konvent's closes at {:?} s), frames waiting per stalled client median {} max {}, RSS {:.1} → peak {:.1} → {:.1} MiB",
            stall.stalled,
            stall.rate,
            stall.base_p99,
            stall.with_p99,
            stall.with_lost,
            stall.closed,
            stall.codes,
            stall.closed_at,
            stall.frames_median,
            stall.frames_max,
            stall.rss_before_mib,
            stall.rss_peak_mib,
            stall.rss_after_mib
        );
        report.stall = Some(stall);
    }

    (report.kernel_drops, report.kernel_retrans) = since(net_start);
    report.frame_bytes = crowd.frame_bytes();
    report.errors = crowd.errors();
    report.dropped = crowd.dropped();
    crowd.close().await;
    Ok(report)
}

fn f1(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.1}")
    } else {
        "–".into()
    }
}

fn ratio(a: f64, b: f64) -> String {
    if a.is_finite() && b.is_finite() && b > 0.0 {
        format!("{:.2}", a / b)
    } else {
        "–".into()
    }
}

/// The Markdown tables of a compare run.
pub fn tables(reports: &[Report], opts: &Options) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "| server | clients | frame B | idle KiB/conn: anonymous (all resident); each after the first tenth | time to all p50 / p99 ms | {:.0}/s: achieved, p50 / p99 ms, lost | CPU µs/delivery | server core | loadgen core |",
        opts.rate
    );
    out.push_str("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for r in reports {
        let tta = r.tta.map_or("–".into(), |(p50, p99, incomplete)| {
            format!(
                "{} / {}{}",
                f1(p50),
                f1(p99),
                if incomplete > 0 {
                    format!(" ({incomplete} incomplete)")
                } else {
                    String::new()
                }
            )
        });
        let (fixed, cpu, core, lg) = r.fixed.as_ref().map_or(
            ("–".into(), "–".into(), "–".into(), "–".into()),
            |f| {
                (
                    format!(
                        "{:.0}, {} / {}, {}",
                        f.achieved,
                        f1(f.p50),
                        f1(f.p99),
                        f.lost
                    ),
                    format!("{:.2}", f.cpu_us),
                    format!("{:.0} %", f.server_core * 100.0),
                    format!("{:.0} %", f.loadgen_core * 100.0),
                )
            },
        );
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {tta} | {fixed} | {cpu} | {core} | {lg} |",
            r.target,
            r.clients,
            r.frame_bytes,
            r.idle.as_ref().map_or("–".into(), |i| format!(
                "{} ({}); {}",
                f1(i.anon),
                f1(i.all),
                f1(i.extra)
            )),
        );
    }
    out.push('\n');
    let _ = writeln!(
        out,
        "| server | clients | saturation: deliveries/s at p99 ≤ {:.0} ms (its p99 ms) | search stopped at | {:.0} % stalled at {:.0}/s: healthy p99 ms without → with | stalled clients closed (code) | frames waiting per stalled client (median / max) | server RSS MiB before → peak → after | error frames, dropped, reopened |",
        opts.p99_ms, opts.stall_percent, opts.stall_rate
    );
    out.push_str("| --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | ---: |\n");
    for r in reports {
        let (sat, stop) = r.saturation.as_ref().map_or(("–".into(), "–".into()), |s| {
            (
                format!("{:.0} ({})", s.best, f1(s.best_p99)),
                if s.stop.is_empty() {
                    "–".into()
                } else {
                    s.stop.clone()
                },
            )
        });
        let (p99s, closed, frames, rss) = r.stall.as_ref().map_or(
            ("–".into(), "–".into(), "–".into(), "–".into()),
            |s| {
                (
                    format!(
                        "{} → {} ({:+.0} %){}",
                        f1(s.base_p99),
                        f1(s.with_p99),
                        (s.with_p99 / s.base_p99 - 1.0) * 100.0,
                        if s.with_lost > 0 {
                            format!(", lost {}", s.with_lost)
                        } else {
                            String::new()
                        }
                    ),
                    format!(
                        "{}/{}{}{}",
                        s.closed,
                        s.stalled,
                        if s.codes.is_empty() {
                            String::new()
                        } else {
                            format!(
                                " ({})",
                                s.codes
                                    .iter()
                                    .map(|c| if *c == 0 {
                                        "no close frame".to_string()
                                    } else {
                                        c.to_string()
                                    })
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            )
                        },
                        s.closed_at
                            .map_or(String::new(), |(a, b)| format!(", at {a:.1}–{b:.1} s"))
                    ),
                    format!("{} / {}", s.frames_median, s.frames_max),
                    format!(
                        "{:.0} → {:.0} → {:.0}",
                        s.rss_before_mib, s.rss_peak_mib, s.rss_after_mib
                    ),
                )
            },
        );
        let _ = writeln!(
            out,
            "| {} | {} | {sat} | {stop} | {p99s} | {closed} | {frames} | {rss} | {}, {}, {} |",
            r.target, r.clients, r.errors, r.dropped, r.reconnected
        );
    }
    // konvent against the tokio baseline (and socket.io), per N.
    let mut ratios = String::new();
    for k in reports.iter().filter(|r| r.target == "konvent") {
        let find = |t: &str| {
            reports
                .iter()
                .find(|r| r.target == t && r.clients == k.clients)
        };
        let Some(t) = find("tokio") else { continue };
        let idle = |r: &Report| r.idle.as_ref().map_or(f64::NAN, |i| i.anon);
        let extra = |r: &Report| r.idle.as_ref().map_or(f64::NAN, |i| i.extra);
        let sat = |r: &Report| r.saturation.as_ref().map_or(f64::NAN, |s| s.best);
        let cpu = |r: &Report| r.fixed.as_ref().map_or(f64::NAN, |f| f.cpu_us);
        let tta99 = |r: &Report| r.tta.map_or(f64::NAN, |t| t.1);
        let stall = |r: &Report| {
            r.stall
                .as_ref()
                .map_or(f64::NAN, |s| s.with_p99 / s.base_p99)
        };
        let _ = writeln!(
            ratios,
            "| {} | {} | {} | {} | {} | {} | {} | {} |",
            k.clients,
            ratio(idle(k), idle(t)),
            ratio(extra(k), extra(t)),
            ratio(cpu(k), cpu(t)),
            ratio(tta99(k), tta99(t)),
            ratio(sat(k), sat(t)),
            find("socket.io").map_or("–".into(), |s| ratio(sat(k), sat(s))),
            if stall(k).is_finite() {
                format!("{:.2}", stall(k))
            } else {
                "–".into()
            },
        );
    }
    if !ratios.is_empty() {
        out.push_str("\nkonvent / tokio baseline in the same run (lower is better for the first three, higher for saturation):\n\n| clients | memory per idle connection | memory per further idle connection | CPU per delivery | time to all p99 | saturation | saturation / socket.io's | konvent's healthy p99 with / without stalls |\n| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        out.push_str(&ratios);
    }
    out
}
