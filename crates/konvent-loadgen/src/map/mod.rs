//! The venue-map benchmark (K8, issue 6): N avatars on a 256×256 map, first standing
//! still (the baseline phase), then a share of them walking at a fixed rate.
//!
//! The loadgen generates the map (Tiled JSON), konvent imports it before `serve`, every
//! client steps onto it at a random free tile outside the area (seeded), and the movers
//! walk one tile per step on an open-loop schedule. Each step's *intended* send time goes
//! into a small ring per mover; a client that reads `[id,x,y]` for a mover looks up the
//! step that put the mover at (x,y) and records receive time − intended time (the
//! position's staleness) in an HDR histogram, so a server or socket that falls behind
//! shows up as staleness, not as a slower schedule.
//!
//! This file holds the options, the run over every N and the state the clients share;
//! the map and its random scatter are in [`venue`], the staleness match in
//! [`positions`], the clients in [`client`], one run's phases in [`phases`] and the
//! tables in [`report`].

use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use hdrhistogram::Histogram;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::servers::Cores;

mod client;
mod phases;
mod positions;
mod report;
mod venue;

use phases::measure;
use positions::{Ids, Ring};
use report::tables;
use venue::Venue;

/// Side of the benchmark map, in tiles.
pub const SIDE: u16 = 256;

const SHARDS: usize = 16;

/// The options of `konvent-loadgen map`.
#[derive(Debug, Clone)]
pub struct Options {
    pub avatars: Vec<usize>,
    pub moving: f64,
    pub rate: f64,
    pub seconds: f64,
    pub seed: u64,
}

impl Options {
    /// Refuses options the benchmark cannot run with, saying why.
    pub fn check(&self) -> Result<()> {
        let free = Venue::generate().free_tiles().len();
        if self.avatars.is_empty() {
            bail!("--avatars: give at least one count, e.g. --avatars 2000,10000");
        }
        for &n in &self.avatars {
            if n == 0 {
                bail!("--avatars: 0 avatars measure nothing");
            }
            if n > free / 2 {
                bail!(
                    "--avatars {n}: the map has {free} free tiles; at most {} avatars (half of them) fit",
                    free / 2
                );
            }
        }
        if !(0.0..=1.0).contains(&self.moving) {
            bail!(
                "--moving {}: a share between 0 and 1 (0.2 = every fifth avatar walks)",
                self.moving
            );
        }
        if !(self.rate > 0.0 && self.rate <= 10.0) {
            bail!(
                "--rate {}: steps per second per mover, above 0 and at most 10 (konvent drops more than 10 moves a second)",
                self.rate
            );
        }
        if !(self.seconds >= 1.0 && self.seconds <= 3600.0) {
            bail!(
                "--seconds {}: each phase lasts between 1 and 3600 s",
                self.seconds
            );
        }
        Ok(())
    }

    fn movers(&self, n: usize) -> usize {
        ((n as f64 * self.moving).round() as usize).min(n)
    }
}

struct Shared {
    base: Instant,
    /// Staleness is recorded (the moving phase and its drain).
    recording: AtomicBool,
    ids: OnceLock<Ids>,
    rings: Vec<Ring>,
    hist: Vec<Mutex<Histogram<u64>>>,
    matched: AtomicU64,
    unmatched: AtomicU64,
    at_start: AtomicU64,
    /// Mover entries in `reset` frames (a new view), not timed.
    in_reset: AtomicU64,
    malformed: AtomicU64,
    errors: AtomicU64,
    blocked: AtomicU64,
    too_far: AtomicU64,
    dropped: AtomicU64,
    entered: AtomicUsize,
    last_enter_ns: AtomicU64,
}

impl Shared {
    fn now_ns(&self) -> u64 {
        self.base.elapsed().as_nanos() as u64
    }
}

/// What a client's task counts; the phases take differences.
#[derive(Default)]
struct ClientState {
    avatar: AtomicU64,
    /// x << 16 | y as the server last said (`you`).
    pos: AtomicU32,
    /// A correction after a refused step: 1 << 31 | x << 16 | y (0: none).
    fix: AtomicU32,
    entered: AtomicBool,
    pos_frames: AtomicU64,
    frames: AtomicU64,
    bytes: AtomicU64,
    areas: AtomicU64,
    /// Most `pos` frames in one whole second (since the last reset).
    busiest: AtomicU32,
    closed: AtomicBool,
}

struct Client {
    out: mpsc::UnboundedSender<String>,
    state: Arc<ClientState>,
    task: JoinHandle<()>,
}

/// Runs every N in turn and prints the tables.
pub async fn run(opts: &Options, konvent: &str, cores: Cores) -> Result<()> {
    let venue = Venue::generate();
    let file = std::env::temp_dir().join(format!("konvent-loadgen-map-{}.tmj", std::process::id()));
    std::fs::write(&file, venue.tiled_json()).context("writing the map file")?;
    let mut reports = Vec::new();
    let mut failed = 0;
    for &n in &opts.avatars {
        eprintln!("== venue map with {n} avatars");
        match measure(&venue, &file, n, opts, konvent, cores).await {
            Ok(r) => reports.push(r),
            Err(e) => {
                failed += 1;
                eprintln!("{n} avatars failed: {e:#}");
            }
        }
    }
    let _ = std::fs::remove_file(&file);
    let sh = |cmd: &str, args: &[&str]| {
        std::process::Command::new(cmd)
            .args(args)
            .output()
            .ok()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    };
    let command: Vec<String> = std::env::args().collect();
    println!("Command: `{}`\n", command.join(" "));
    println!(
        "Run {} (commit {}, kernel {}, {} cores; server pinned to core {}, load generator to the other); map {SIDE}×{SIDE}, cells 8×8; each phase {} s, {} % of the avatars walking at {} steps/s, seed {}.\n",
        sh("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        sh("git", &["rev-parse", "--short", "HEAD"]),
        sh("uname", &["-r"]),
        sh("nproc", &["--all"]),
        cores.server.map_or("–".into(), |c| c.to_string()),
        opts.seconds,
        opts.moving * 100.0,
        opts.rate,
        opts.seed,
    );
    print!("{}", tables(&reports));
    if failed > 0 {
        bail!("{failed} runs failed (see above)");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::phases::DIRS;
    use super::positions::{AT_START, Match, RING, pos_entries};
    use super::venue::{Rng, START};
    use super::*;
    use serde_json::{Value, json};
    use std::collections::HashSet;

    #[test]
    fn the_generated_map_is_tiled_json_of_the_right_size() {
        let venue = Venue::generate();
        let map: Value = serde_json::from_str(&venue.tiled_json()).expect("valid JSON");
        assert_eq!(map["type"], "map");
        assert_eq!(map["orientation"], "orthogonal");
        assert_eq!(map["infinite"], false);
        assert_eq!(
            (map["width"].as_u64(), map["height"].as_u64()),
            (Some(256), Some(256))
        );
        let layers = map["layers"].as_array().expect("layers");
        let tiles = |name: &str| -> Vec<u64> {
            let layer = layers.iter().find(|l| l["name"] == name).expect(name);
            assert_eq!(layer["type"], "tilelayer");
            layer["data"]
                .as_array()
                .expect("data")
                .iter()
                .map(|v| v.as_u64().expect("gid"))
                .collect()
        };
        let floor = tiles("Boden");
        let walls = tiles("Wände");
        assert_eq!(floor.len(), 256 * 256);
        assert!(floor.iter().all(|&g| g == 1));
        assert_eq!(walls.len(), 256 * 256);
        // The border is wall, the start is floor, the area is floor.
        assert!((0..256).all(|i| walls[i] == 1 && walls[255 * 256 + i] == 1));
        assert!((0..256).all(|i| walls[i * 256] == 1 && walls[i * 256 + 255] == 1));
        assert_eq!(walls[128 * 256 + 128], 0);
        assert_eq!(walls[3 * 256 + 5], 0);
        let objects = layers
            .iter()
            .find(|l| l["type"] == "objectgroup")
            .and_then(|l| l["objects"].as_array())
            .expect("objects");
        let stage = objects.iter().find(|o| o["name"] == "Bühne").expect("area");
        assert_eq!(
            (&stage["x"], &stage["y"], &stage["width"], &stage["height"]),
            (&json!(32), &json!(32), &json!(320), &json!(192))
        );
        assert_eq!(stage["properties"][0]["value"], "plenum");
        let start = objects
            .iter()
            .find(|o| o["name"] == "start")
            .expect("start");
        assert_eq!((&start["x"], &start["y"]), (&json!(4096), &json!(4096)));
        assert_eq!(map["tilesets"][0]["firstgid"], 1);
        // Every free tile is reachable from every other (the walls have gaps): the
        // walkers cannot get stuck in a pocket.
        let free = venue.free_tiles();
        let mut seen = HashSet::from([START]);
        let mut todo = vec![START];
        while let Some((x, y)) = todo.pop() {
            for (dx, dy) in DIRS {
                let (nx, ny) = (i32::from(x) + dx, i32::from(y) + dy);
                if venue.free(nx, ny) && seen.insert((nx as u16, ny as u16)) {
                    todo.push((nx as u16, ny as u16));
                }
            }
        }
        assert_eq!(seen.len(), free.len());
        let spots = venue.scatter(10_000, &mut Rng::new(7));
        assert_eq!(spots.iter().collect::<HashSet<_>>().len(), 10_000);
        assert!(spots.iter().all(|&(x, y)| venue.free(x.into(), y.into())));
    }

    #[test]
    fn staleness_matches_the_newest_step_to_a_place() {
        let ring = Ring::default();
        ring.push(10, 10, AT_START);
        assert_eq!(ring.find(10, 10), Match::Start);
        ring.push(11, 10, 1_000);
        ring.push(12, 10, 1_200);
        ring.push(11, 10, 1_400);
        // Back at (11,10): the newer step counts.
        assert_eq!(ring.find(11, 10), Match::Step(1_400));
        assert_eq!(ring.find(12, 10), Match::Step(1_200));
        assert_eq!(ring.find(13, 10), Match::Unknown);
        // Pushed out of the ring: no longer matched.
        for k in 0..RING as u64 {
            ring.push(100, 100, 2_000 + k);
        }
        assert_eq!(ring.find(12, 10), Match::Unknown);
        assert_eq!(ring.find(100, 100), Match::Step(2_000 + RING as u64 - 1));

        let frame =
            br#"{"g":[4],"m":[[17,11,10],[18,3,4,"Lasttest \"18\""],[5,200,201]],"t":"pos"}"#;
        let mut got = Vec::new();
        assert_eq!(pos_entries(frame, |id, x, y| got.push((id, x, y))), Some(3));
        assert_eq!(got, vec![(17, 11, 10), (18, 3, 4), (5, 200, 201)]);
        assert_eq!(
            pos_entries(br#"{"m":[],"reset":true,"t":"pos"}"#, |_, _, _| {}),
            Some(0)
        );
        assert_eq!(pos_entries(br#"{"m":[[1,2"#, |_, _, _| {}), None);
        assert_eq!(pos_entries(br#"{"t":"hello"}"#, |_, _, _| {}), None);
    }
}
