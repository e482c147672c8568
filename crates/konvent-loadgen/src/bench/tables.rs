//! The benchmark's Markdown tables, one row per server and client count.

use std::fmt::Write as _;

use super::{Options, Report};

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
