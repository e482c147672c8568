//! What a run measured and how it is shown: CPU time from the scheduler's counters, the
//! per-client spreads, the phases' reports and the Markdown tables.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::Result;

use super::{Client, ClientState, Shared};

/// CPU time of all of a process's threads in seconds, from the scheduler's nanosecond
/// counters (`/proc/PID/task/*/schedstat`, first field): precise enough for an idle
/// server, where utime+stime in clock ticks of 10 ms often read 0. Threads that ended
/// are not counted (konvent's runtime threads live as long as the server).
pub(super) fn schedstat_seconds(pid: u32) -> Result<f64> {
    let mut ns = 0u64;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        let path = task?.path().join("schedstat");
        if let Ok(text) = std::fs::read_to_string(path) {
            ns += text
                .split_whitespace()
                .next()
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
        }
    }
    Ok(ns as f64 / 1e9)
}

/// Per core (`cpuN` in /proc/stat): busy and steal time, in clock ticks. The machine
/// is shared: whatever else runs on the pinned cores shows up here and not in the
/// server's or the load generator's own time.
pub(super) fn cores_busy() -> Vec<(u64, u64)> {
    std::fs::read_to_string("/proc/stat")
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("cpu") && l.as_bytes().get(3).is_some_and(u8::is_ascii_digit))
        .map(|l| {
            let v: Vec<u64> = l
                .split_whitespace()
                .skip(1)
                .map(|f| f.parse().unwrap_or(0))
                .collect();
            let at = |i: usize| v.get(i).copied().unwrap_or(0);
            // user nice system idle iowait irq softirq steal
            (at(0) + at(1) + at(2) + at(5) + at(6), at(7))
        })
        .collect()
}

/// Share of a core that other processes used on `core` (busy less `own`), and its steal.
pub(super) fn others_on(
    before: &[(u64, u64)],
    after: &[(u64, u64)],
    core: usize,
    own: f64,
    wall: f64,
) -> Option<(f64, f64)> {
    let (b, a) = (before.get(core)?, after.get(core)?);
    let ticks = 100.0 * wall;
    let busy = a.0.saturating_sub(b.0) as f64 / ticks;
    let steal = a.1.saturating_sub(b.1) as f64 / ticks;
    Some(((busy - own).max(0.0), steal))
}

/// Mean, p99 and max of per-client values.
#[derive(Debug, Default, Clone, Copy)]
pub struct Spread {
    pub mean: f64,
    pub p99: f64,
    pub max: f64,
}

impl Spread {
    pub(super) fn of(mut v: Vec<f64>) -> Self {
        if v.is_empty() {
            return Self::default();
        }
        v.sort_by(f64::total_cmp);
        let rank = ((0.99 * v.len() as f64).ceil() as usize).clamp(1, v.len());
        Self {
            mean: v.iter().sum::<f64>() / v.len() as f64,
            p99: v[rank - 1],
            max: v[v.len() - 1],
        }
    }
}

/// What one phase measured.
#[derive(Debug, Default, Clone)]
pub struct PhaseReport {
    pub name: &'static str,
    pub seconds: f64,
    pub server_cpu: f64,
    /// Other processes on the server's core and on the load generator's (share of a
    /// core), and steal on both; `None` when not pinned.
    pub others: Option<((f64, f64), (f64, f64))>,
    pub loadgen_cpu: f64,
    pub rss_mib: f64,
    pub rss_peak_mib: f64,
    pub pos_fps: Spread,
    /// The highest per-client `pos` rate over the phase: among movers, among the others.
    pub pos_fps_max: (f64, f64),
    /// Most `pos` frames one client read in one second: a mover's, a standing one's.
    pub busiest: (u32, u32),
    pub frames_fps: f64,
    pub areas_fps: f64,
    pub bytes: Spread,
    pub steps: u64,
    /// The latest a step went out after its intended time, ms.
    pub send_lag_ms: f64,
    pub staleness: Option<(f64, f64, f64)>,
    pub matched: u64,
    pub unmatched: u64,
    pub at_start: u64,
    pub in_reset: u64,
    pub errors: u64,
    pub blocked: u64,
    pub too_far: u64,
    pub dropped: u64,
    pub slow_closes: Option<u64>,
}

/// One N: both phases on one server.
#[derive(Debug, Default, Clone)]
pub struct Report {
    pub avatars: usize,
    pub movers: usize,
    pub connect_s: f64,
    pub settle_s: f64,
    pub rss_before_mib: f64,
    pub phases: Vec<PhaseReport>,
}

pub(super) struct Counters {
    pub(super) pos: Vec<u64>,
    pub(super) frames: Vec<u64>,
    pub(super) bytes: Vec<u64>,
    pub(super) areas: Vec<u64>,
    pub(super) errors: u64,
    pub(super) blocked: u64,
    pub(super) too_far: u64,
    pub(super) dropped: u64,
    pub(super) matched: u64,
    pub(super) unmatched: u64,
    pub(super) at_start: u64,
    pub(super) in_reset: u64,
}

pub(super) fn counters(clients: &[Client], shared: &Shared) -> Counters {
    let get = |f: fn(&ClientState) -> &AtomicU64| {
        clients
            .iter()
            .map(|c| f(&c.state).load(Ordering::Relaxed))
            .collect()
    };
    Counters {
        pos: get(|s| &s.pos_frames),
        frames: get(|s| &s.frames),
        bytes: get(|s| &s.bytes),
        areas: get(|s| &s.areas),
        errors: shared.errors.load(Ordering::Relaxed),
        blocked: shared.blocked.load(Ordering::Relaxed),
        too_far: shared.too_far.load(Ordering::Relaxed),
        dropped: shared.dropped.load(Ordering::Relaxed),
        matched: shared.matched.load(Ordering::Relaxed),
        unmatched: shared.unmatched.load(Ordering::Relaxed),
        at_start: shared.at_start.load(Ordering::Relaxed),
        in_reset: shared.in_reset.load(Ordering::Relaxed),
    }
}

pub(super) fn per_second(after: &[u64], before: &[u64], seconds: f64) -> Vec<f64> {
    after
        .iter()
        .zip(before)
        .map(|(a, b)| a.saturating_sub(*b) as f64 / seconds)
        .collect()
}

fn ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// The Markdown tables: one row per N and phase.
pub fn tables(reports: &[Report]) -> String {
    let mut out = String::new();
    out.push_str("| avatars | phase | movers, steps sent | server CPU | CPU / baseline | server RSS MiB (peak) | loadgen CPU | other processes on the server's / loadgen's core (steal) | `pos` frames/s per client: mean / p99 / max | `pos` frames/s, the busiest mover / standing client: over the phase; in one second | all frames/s per client (`areas`/s) | bytes/s per client: mean / p99 / max |\n");
    out.push_str(
        "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
    );
    for r in reports {
        let base = r
            .phases
            .iter()
            .find(|p| p.name == "baseline")
            .map_or(f64::NAN, |p| p.server_cpu);
        for p in &r.phases {
            let ratio = if base > 0.0 && base.is_finite() {
                format!("{:.1}×", p.server_cpu / base)
            } else {
                "–".into()
            };
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} % | {ratio} | {:.0} ({:.0}) | {:.0} % | {} | {:.2} / {:.2} / {:.2} | {:.2} / {:.2}; {} / {} | {:.2} ({:.2}) | {:.0} / {:.0} / {:.0} |",
                r.avatars,
                p.name,
                if p.name == "moving" {
                    format!("{}, {}", r.movers, p.steps)
                } else {
                    "0, 0".into()
                },
                if p.server_cpu < 0.01 {
                    format!("{:.2}", p.server_cpu * 100.0)
                } else {
                    format!("{:.1}", p.server_cpu * 100.0)
                },
                p.rss_mib,
                p.rss_peak_mib,
                p.loadgen_cpu * 100.0,
                p.others.map_or("–".into(), |((s, ss), (l, ls))| format!(
                    "{:.0} % / {:.0} % ({:.0} / {:.0} %)",
                    s * 100.0,
                    l * 100.0,
                    ss * 100.0,
                    ls * 100.0
                )),
                p.pos_fps.mean,
                p.pos_fps.p99,
                p.pos_fps.max,
                p.pos_fps_max.0,
                p.pos_fps_max.1,
                p.busiest.0,
                p.busiest.1,
                p.frames_fps,
                p.areas_fps,
                p.bytes.mean,
                p.bytes.p99,
                p.bytes.max,
            );
        }
    }
    out.push('\n');
    out.push_str("| avatars | phase | staleness p50 / p99 / max ms | mover entries timed | mover entries in new views (not timed) | not matching a remembered step | send lag max ms | error frames (blocked, too far) | dropped connections (server's slow closes) |\n");
    out.push_str("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for r in reports {
        for p in &r.phases {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} ({}, {}) | {} ({}) |",
                r.avatars,
                p.name,
                p.staleness.map_or("–".into(), |(a, b, c)| format!(
                    "{} / {} / {}",
                    ms(a),
                    ms(b),
                    ms(c)
                )),
                p.matched,
                p.in_reset,
                p.unmatched,
                if p.name == "moving" {
                    ms(p.send_lag_ms)
                } else {
                    "–".into()
                },
                p.errors,
                p.blocked,
                p.too_far,
                p.dropped,
                p.slow_closes.map_or("–".into(), |c| c.to_string()),
            );
        }
    }
    for r in reports {
        let _ = writeln!(
            out,
            "\n{} avatars: connected in {:.1} s, all on the map after {:.1} s; server RSS {:.0} MiB before connecting; phases of {}.",
            r.avatars,
            r.connect_s,
            r.settle_s,
            r.rss_before_mib,
            r.phases
                .iter()
                .map(|p| format!("{:.1} s ({})", p.seconds, p.name))
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    out
}
