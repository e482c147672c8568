//! One server's run: connect the clients, then each chosen scenario in turn (idle
//! memory, time to all, a fixed rate, saturation, a stalled group).

use std::time::{Duration, Instant};

use anyhow::{Context, Result};

use super::{Fixed, Idle, Options, Report, Saturation, Scenario, Stall, WARM_SHARE};
use crate::clients::{self, Crowd, Phase};
use crate::servers::{Cores, Running, Target, kernel_net};

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
