//! One N on one server: connect the clients, let them step onto the map, measure the
//! standing phase, then walk the movers on their open-loop schedule and measure again.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use tokio::sync::Semaphore;

use super::client::{dial, histogram, spawn};
use super::positions::{AT_START, Ids, Ring};
use super::report::{
    PhaseReport, Report, Spread, cores_busy, counters, others_on, per_second, schedstat_seconds,
};
use super::venue::{Rng, Venue};
use super::{Options, SHARDS, Shared};
use crate::servers::{Cores, Running, SelfCpu, Target};

/// Connections opened at the same time.
const CONNECTING: usize = 64;

const EVENT: &str = "strategiekonvent-2025";

/// The walkers: one per mover, the scheduler's own idea of where it stands.
struct Walker {
    client: usize,
    x: u16,
    y: u16,
    /// The last direction (index into DIRS), to avoid stepping straight back.
    last: Option<usize>,
}

pub(super) const DIRS: [(i32, i32); 4] = [(1, 0), (-1, 0), (0, 1), (0, -1)];

impl Walker {
    /// One tile in a random free direction, not straight back unless that is the only way.
    fn step(&mut self, venue: &Venue, rng: &mut Rng) {
        let back = self.last.map(|d| d ^ 1);
        let mut options = [0usize; 4];
        let mut n = 0;
        for (d, (dx, dy)) in DIRS.iter().enumerate() {
            if Some(d) != back && venue.free(i32::from(self.x) + dx, i32::from(self.y) + dy) {
                options[n] = d;
                n += 1;
            }
        }
        let d = if n > 0 {
            options[rng.below(n)]
        } else if let Some(d) = back {
            d
        } else {
            return;
        };
        let (dx, dy) = DIRS[d];
        self.x = (i32::from(self.x) + dx) as u16;
        self.y = (i32::from(self.y) + dy) as u16;
        self.last = Some(d);
    }
}

pub(super) async fn measure(
    venue: &Venue,
    file: &Path,
    n: usize,
    opts: &Options,
    konvent: &str,
    cores: Cores,
) -> Result<Report> {
    let server = Running::start_with_map(Target::Konvent, n, konvent, cores, Some(file)).await?;
    let result = measure_on(&server, venue, n, opts, cores).await;
    server.stop().await;
    result
}

async fn measure_on(
    server: &Running,
    venue: &Venue,
    n: usize,
    opts: &Options,
    cores: Cores,
) -> Result<Report> {
    tokio::time::sleep(Duration::from_secs(1)).await;
    let rss_before = server.rss_kib()?;
    let movers = opts.movers(n);
    let mut rng = Rng::new(opts.seed ^ n as u64);
    let spots = venue.scatter(n, &mut rng);
    let shared = Arc::new(Shared {
        base: Instant::now(),
        recording: AtomicBool::new(false),
        ids: OnceLock::new(),
        rings: (0..movers).map(|_| Ring::default()).collect(),
        hist: (0..SHARDS).map(|_| Mutex::new(histogram())).collect(),
        matched: AtomicU64::new(0),
        unmatched: AtomicU64::new(0),
        at_start: AtomicU64::new(0),
        in_reset: AtomicU64::new(0),
        malformed: AtomicU64::new(0),
        errors: AtomicU64::new(0),
        blocked: AtomicU64::new(0),
        too_far: AtomicU64::new(0),
        dropped: AtomicU64::new(0),
        entered: AtomicUsize::new(0),
        last_enter_ns: AtomicU64::new(0),
    });

    // Connect everybody (at most CONNECTING at a time); each steps onto the map at once.
    let url = format!("ws://127.0.0.1:{}/konvent/{EVENT}/live", server.port);
    let started = Instant::now();
    let limit = Arc::new(Semaphore::new(CONNECTING));
    let mut pending = Vec::with_capacity(n);
    for i in 0..n {
        let permit = limit.clone().acquire_owned().await?;
        let (url, token) = (url.clone(), server.tokens[i].clone());
        pending.push(tokio::spawn(async move {
            let _permit = permit;
            dial(&url, &token).await
        }));
    }
    let mut clients = Vec::with_capacity(n);
    for (i, p) in pending.into_iter().enumerate() {
        let ws = p.await?.with_context(|| format!("client {i}"))?;
        clients.push(spawn(i, ws, shared.clone(), spots[i]));
    }
    let connect_s = started.elapsed().as_secs_f64();
    eprintln!("   {n} connected in {connect_s:.1} s");

    // Everybody has their `you`, then the views settle.
    let deadline = Instant::now() + Duration::from_secs(120);
    while shared.entered.load(Ordering::Relaxed) < n {
        if Instant::now() > deadline {
            bail!(
                "only {} of {n} avatars got their `you` within 120 s",
                shared.entered.load(Ordering::Relaxed)
            );
        }
        if shared.dropped.load(Ordering::Relaxed) > 0 {
            bail!(
                "{} connections ended before every avatar entered",
                shared.dropped.load(Ordering::Relaxed)
            );
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let settle_s = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_secs(2)).await;
    let placed_elsewhere = clients
        .iter()
        .zip(&spots)
        .filter(|&(c, &(x, y))| {
            c.state.pos.load(Ordering::Relaxed) != u32::from(x) << 16 | u32::from(y)
        })
        .count();
    eprintln!(
        "   all {n} on the map after {settle_s:.1} s (last `you` {:.1} s after the start){}",
        shared.last_enter_ns.load(Ordering::Relaxed) as f64 / 1e9,
        if placed_elsewhere > 0 {
            format!("; {placed_elsewhere} not where they asked to be")
        } else {
            String::new()
        }
    );

    // The movers: the first `movers` clients (their spots are random anyway).
    let all: Vec<u64> = clients
        .iter()
        .map(|c| c.state.avatar.load(Ordering::Relaxed))
        .collect();
    let mover_ids: Vec<(u64, u32)> = (0..movers).map(|j| (all[j], j as u32)).collect();
    if shared.ids.set(Ids::new(&mover_ids, &all)).is_err() {
        bail!("avatar ids set twice");
    }
    let mut walkers: Vec<Walker> = (0..movers)
        .map(|j| {
            let p = clients[j].state.pos.load(Ordering::Relaxed);
            let (x, y) = ((p >> 16) as u16, (p & 0xFFFF) as u16);
            shared.rings[j].push(x, y, AT_START);
            Walker {
                client: j,
                x,
                y,
                last: None,
            }
        })
        .collect();

    let mut report = Report {
        avatars: n,
        movers,
        connect_s,
        settle_s,
        rss_before_mib: rss_before as f64 / 1024.0,
        phases: Vec::new(),
    };

    for moving in [false, true] {
        let name = if moving { "moving" } else { "baseline" };
        for c in &clients {
            c.state.busiest.store(0, Ordering::Relaxed);
        }
        for h in &shared.hist {
            if let Ok(mut h) = h.lock() {
                h.reset();
            }
        }
        let slow_before = server.slow_closes().await;
        let before = counters(&clients, &shared);
        let me = SelfCpu::default();
        let busy0 = cores_busy();
        let (cpu0, me0, t0) = (
            schedstat_seconds(server.pid())?,
            me.seconds(),
            Instant::now(),
        );
        shared.recording.store(moving, Ordering::Relaxed);
        let mut peak = server.rss_kib()?;
        let mut steps = 0u64;
        let mut lag = Duration::ZERO;
        let end = tokio::time::Instant::now() + Duration::from_secs_f64(opts.seconds);
        if moving && movers > 0 {
            // Open loop: step s of the run is mover s % movers's, due at start + s / (movers × rate).
            let per_step = 1.0 / (movers as f64 * opts.rate);
            let start = tokio::time::Instant::now() + Duration::from_millis(20);
            let total = (movers as f64 * opts.rate * opts.seconds) as u64;
            let mut next_rss = Instant::now();
            while steps < total {
                let due = start + Duration::from_secs_f64(steps as f64 * per_step);
                tokio::time::sleep_until(due).await;
                let now = tokio::time::Instant::now();
                loop {
                    let due = start + Duration::from_secs_f64(steps as f64 * per_step);
                    if steps >= total || due > now {
                        break;
                    }
                    let w = &mut walkers[(steps % movers as u64) as usize];
                    let st = &clients[w.client].state;
                    let fix = st.fix.swap(0, Ordering::Relaxed);
                    if fix != 0 {
                        (w.x, w.y) = (((fix >> 16) & 0x7FFF) as u16, (fix & 0xFFFF) as u16);
                        w.last = None;
                    }
                    w.step(venue, &mut rng);
                    let intended = due.into_std().duration_since(shared.base).as_micros() as u64;
                    shared.rings[w.client].push(w.x, w.y, intended.max(AT_START + 1));
                    let _ = clients[w.client]
                        .out
                        .send(format!(r#"{{"t":"move","x":{},"y":{}}}"#, w.x, w.y));
                    lag = lag.max(now - due);
                    steps += 1;
                }
                if Instant::now() >= next_rss {
                    peak = peak.max(server.rss_kib().unwrap_or(0));
                    next_rss = Instant::now() + Duration::from_millis(250);
                }
            }
        } else {
            while tokio::time::Instant::now() < end {
                tokio::time::sleep(Duration::from_millis(250)).await;
                peak = peak.max(server.rss_kib().unwrap_or(0));
            }
        }
        let wall = t0.elapsed().as_secs_f64();
        let after = counters(&clients, &shared);
        let cpu = schedstat_seconds(server.pid())? - cpu0;
        let loadgen = me.seconds() - me0;
        let busy1 = cores_busy();
        let others = cores.server.and_then(|sc| {
            let lc = if sc == 0 { 1 } else { 0 };
            Some((
                others_on(&busy0, &busy1, sc, cpu / wall, wall)?,
                others_on(&busy0, &busy1, lc, loadgen / wall, wall)?,
            ))
        });
        let rss = server.rss_kib()?;
        // Entries still on their way count for staleness, not for the rates.
        if moving {
            tokio::time::sleep(Duration::from_secs(1)).await;
            shared.recording.store(false, Ordering::Relaxed);
        }
        let done = counters(&clients, &shared);
        let mut stale = histogram();
        for h in &shared.hist {
            if let Ok(h) = h.lock() {
                let _ = stale.add(&*h);
            }
        }
        let ms = |q: f64| stale.value_at_quantile(q) as f64 / 1000.0;
        let slow_after = server.slow_closes().await;
        let phase = PhaseReport {
            name,
            seconds: wall,
            server_cpu: cpu / wall,
            others,
            loadgen_cpu: loadgen / wall,
            rss_mib: rss as f64 / 1024.0,
            rss_peak_mib: peak.max(rss) as f64 / 1024.0,
            pos_fps: Spread::of(per_second(&after.pos, &before.pos, wall)),
            pos_fps_max: {
                let rates = per_second(&after.pos, &before.pos, wall);
                let most = |v: &[f64]| v.iter().copied().fold(0.0, f64::max);
                (most(&rates[..movers]), most(&rates[movers..]))
            },
            busiest: {
                let most = |range: std::ops::Range<usize>| {
                    clients[range]
                        .iter()
                        .map(|c| c.state.busiest.load(Ordering::Relaxed))
                        .max()
                        .unwrap_or(0)
                };
                (most(0..movers), most(movers..n))
            },
            frames_fps: Spread::of(per_second(&after.frames, &before.frames, wall)).mean,
            areas_fps: Spread::of(per_second(&after.areas, &before.areas, wall)).mean,
            bytes: Spread::of(per_second(&after.bytes, &before.bytes, wall)),
            steps,
            send_lag_ms: lag.as_secs_f64() * 1000.0,
            staleness: (!stale.is_empty())
                .then(|| (ms(0.5), ms(0.99), stale.max() as f64 / 1000.0)),
            matched: done.matched - before.matched,
            unmatched: done.unmatched - before.unmatched,
            at_start: done.at_start - before.at_start,
            in_reset: done.in_reset - before.in_reset,
            errors: done.errors - before.errors,
            blocked: done.blocked - before.blocked,
            too_far: done.too_far - before.too_far,
            dropped: done.dropped - before.dropped,
            slow_closes: slow_before
                .zip(slow_after)
                .map(|(b, a)| a.saturating_sub(b)),
        };
        eprintln!(
            "   {name}: server {:.0} % of a core, loadgen {:.0} %, others on the cores (steal) {:?}, RSS {:.1} MiB (peak {:.1}), pos frames/s per client mean {:.2} p99 {:.2} max {:.2} (busiest second: mover {}, standing {}), all frames/s {:.2}, areas/s {:.2}, bytes/s mean {:.0} p99 {:.0} max {:.0}, steps {} (send lag max {:.1} ms), staleness {:?} ms (matched {}, unmatched {}, start {}, in new views {}), errors {} (blocked {}, too far {}), dropped {}, slow closes {:?}, malformed {}",
            phase.server_cpu * 100.0,
            phase.loadgen_cpu * 100.0,
            phase.others,
            phase.rss_mib,
            phase.rss_peak_mib,
            phase.pos_fps.mean,
            phase.pos_fps.p99,
            phase.pos_fps.max,
            phase.busiest.0,
            phase.busiest.1,
            phase.frames_fps,
            phase.areas_fps,
            phase.bytes.mean,
            phase.bytes.p99,
            phase.bytes.max,
            phase.steps,
            phase.send_lag_ms,
            phase.staleness,
            phase.matched,
            phase.unmatched,
            phase.at_start,
            phase.in_reset,
            phase.errors,
            phase.blocked,
            phase.too_far,
            phase.dropped,
            phase.slow_closes,
            shared.malformed.load(Ordering::Relaxed),
        );
        report.phases.push(phase);
    }
    for c in clients {
        c.task.abort();
    }
    Ok(report)
}
