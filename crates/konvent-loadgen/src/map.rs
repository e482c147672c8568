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

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures_util::{SinkExt, StreamExt};
use hdrhistogram::Histogram;
use serde_json::json;
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use crate::clients::{contains, needle, number_after};
use crate::servers::{Cores, Running, SelfCpu, Target};

/// Side of the benchmark map, in tiles.
pub const SIDE: u16 = 256;
const TILE: u32 = 32;
/// The one area ("Bühne", joins the room `plenum`), in tiles: x, y, width, height.
const AREA: (u16, u16, u16, u16) = (1, 1, 10, 6);
/// The start point, in tiles.
const START: (u16, u16) = (128, 128);
/// Connections opened at the same time.
const CONNECTING: usize = 64;
/// Steps remembered per mover for the staleness match (6.4 s at 5 steps/s).
const RING: usize = 32;
const SHARDS: usize = 16;
const EVENT: &str = "strategiekonvent-2025";

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

/// xorshift64*: small, seeded, good enough to scatter avatars and pick directions.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        // Never zero (xorshift stays at zero), and different seeds spread apart.
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// 0..n (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 32) * n as u64) >> 32) as usize
    }
}

/// The benchmark's venue: floor, walls (border and a few inner walls with gaps), one area.
pub struct Venue {
    pub width: u16,
    pub height: u16,
    wall: Vec<bool>,
}

impl Venue {
    pub fn generate() -> Self {
        let (w, h) = (SIDE, SIDE);
        let mut wall = vec![false; usize::from(w) * usize::from(h)];
        let mut set =
            |x: u16, y: u16| wall[usize::from(y) * usize::from(w) + usize::from(x)] = true;
        for i in 0..w {
            set(i, 0);
            set(i, h - 1);
        }
        for i in 0..h {
            set(0, i);
            set(w - 1, i);
        }
        // Two vertical walls and one horizontal, each with a gap of 4 tiles every 32.
        for y in 1..h - 1 {
            if y % 32 >= 4 {
                set(64, y);
                set(192, y);
            }
        }
        for x in 1..w - 1 {
            if x % 32 >= 4 && x != 64 && x != 192 {
                set(x, 96);
            }
        }
        Self {
            width: w,
            height: h,
            wall,
        }
    }

    fn in_area(x: u16, y: u16) -> bool {
        let (ax, ay, aw, ah) = AREA;
        x >= ax && x < ax + aw && y >= ay && y < ay + ah
    }

    /// Floor, on the map, outside the area.
    pub fn free(&self, x: i32, y: i32) -> bool {
        if x < 0 || y < 0 || x >= i32::from(self.width) || y >= i32::from(self.height) {
            return false;
        }
        let (x, y) = (x as u16, y as u16);
        !self.wall[usize::from(y) * usize::from(self.width) + usize::from(x)]
            && !Self::in_area(x, y)
    }

    pub fn free_tiles(&self) -> Vec<(u16, u16)> {
        (0..self.height)
            .flat_map(|y| (0..self.width).map(move |x| (x, y)))
            .filter(|&(x, y)| self.free(i32::from(x), i32::from(y)))
            .collect()
    }

    /// `n` different free tiles, picked with the seeded generator.
    pub fn scatter(&self, n: usize, rng: &mut Rng) -> Vec<(u16, u16)> {
        let mut tiles = self.free_tiles();
        // A partial Fisher–Yates shuffle: the first n are the pick.
        let n = n.min(tiles.len());
        for i in 0..n {
            let j = i + rng.below(tiles.len() - i);
            tiles.swap(i, j);
        }
        tiles.truncate(n);
        tiles
    }

    /// The map as Tiled JSON (.tmj): layers "Boden" (floor everywhere) and "Wände",
    /// an object group with the area "Bühne" (room `plenum`) and the start point.
    pub fn tiled_json(&self) -> String {
        let cells = usize::from(self.width) * usize::from(self.height);
        let walls: Vec<u8> = self.wall.iter().map(|&w| u8::from(w)).collect();
        let (ax, ay, aw, ah) = AREA;
        let px = |tiles: u16| u32::from(tiles) * TILE;
        json!({
            "type": "map",
            "version": "1.10",
            "orientation": "orthogonal",
            "renderorder": "right-down",
            "infinite": false,
            "width": self.width,
            "height": self.height,
            "tilewidth": TILE,
            "tileheight": TILE,
            "layers": [
                {
                    "type": "tilelayer", "id": 1, "name": "Boden",
                    "width": self.width, "height": self.height,
                    "x": 0, "y": 0, "opacity": 1, "visible": true,
                    "data": vec![1u8; cells],
                },
                {
                    "type": "tilelayer", "id": 2, "name": "Wände",
                    "width": self.width, "height": self.height,
                    "x": 0, "y": 0, "opacity": 1, "visible": true,
                    "data": walls,
                },
                {
                    "type": "objectgroup", "id": 3, "name": "Bereiche",
                    "x": 0, "y": 0, "opacity": 1, "visible": true,
                    "objects": [
                        {
                            "id": 1, "name": "Bühne",
                            "x": px(ax), "y": px(ay), "width": px(aw), "height": px(ah),
                            "rotation": 0, "visible": true,
                            "properties": [{ "name": "room", "type": "string", "value": "plenum" }],
                        },
                        {
                            "id": 2, "name": "start", "point": true,
                            "x": px(START.0), "y": px(START.1), "width": 0, "height": 0,
                            "rotation": 0, "visible": true,
                        },
                    ],
                },
            ],
            "tilesets": [
                { "firstgid": 1, "name": "b", "tilecount": 4, "columns": 2,
                  "tilewidth": TILE, "tileheight": TILE, "margin": 0, "spacing": 0,
                  "image": "b.png", "imagewidth": 64, "imageheight": 64 },
            ],
            "nextlayerid": 4,
            "nextobjectid": 3,
        })
        .to_string()
    }
}

/// A step's place and intended time packed in one word: µs since the run's base (40
/// bits, 0 = empty), x and y (12 bits each).
fn pack(x: u16, y: u16, micros: u64) -> u64 {
    (micros << 24) | (u64::from(x & 0xFFF) << 12) | u64::from(y & 0xFFF)
}

fn unpack(word: u64) -> (u16, u16, u64) {
    (
        ((word >> 12) & 0xFFF) as u16,
        (word & 0xFFF) as u16,
        word >> 24,
    )
}

/// The intended time of the start position (before any step): such entries are not
/// staleness.
const AT_START: u64 = 1;

/// The last [`RING`] places of one mover with the intended times of the steps there.
/// One writer (the scheduler), any number of readers.
pub struct Ring {
    next: AtomicUsize,
    slots: [AtomicU64; RING],
}

/// What an entry `[id,x,y]` says about a mover's step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Match {
    /// The step that put it there was meant to go out at this time (µs since base).
    Step(u64),
    /// Where it stood before its first step.
    Start,
    /// None of the remembered places (superseded long ago, or a step the server refused).
    Unknown,
}

impl Default for Ring {
    fn default() -> Self {
        Self {
            next: AtomicUsize::new(0),
            slots: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }
}

impl Ring {
    pub fn push(&self, x: u16, y: u16, micros: u64) {
        let n = self.next.load(Ordering::Relaxed);
        self.slots[n % RING].store(pack(x, y, micros), Ordering::Relaxed);
        self.next.store(n + 1, Ordering::Release);
    }

    /// The newest remembered step to (x, y).
    pub fn find(&self, x: u16, y: u16) -> Match {
        let n = self.next.load(Ordering::Acquire);
        for k in (n.saturating_sub(RING)..n).rev() {
            let (px, py, t) = unpack(self.slots[k % RING].load(Ordering::Relaxed));
            if t != 0 && px == x && py == y {
                return if t == AT_START {
                    Match::Start
                } else {
                    Match::Step(t)
                };
            }
        }
        Match::Unknown
    }
}

/// The entries `[id,x,y]` / `[id,x,y,"Name"]` of a `pos` frame's `m` list, without
/// parsing the rest; `None` for a frame that does not look like one.
pub fn pos_entries(frame: &[u8], mut each: impl FnMut(u64, u16, u16)) -> Option<usize> {
    let at = M_LIST.0.find(frame)? + M_LIST.0.needle().len();
    let mut i = at;
    let b = frame;
    let mut count = 0;
    let number = |i: &mut usize| -> Option<u64> {
        let start = *i;
        let mut v = 0u64;
        while *i < b.len() && b[*i].is_ascii_digit() && *i - start < 19 {
            v = v * 10 + u64::from(b[*i] - b'0');
            *i += 1;
        }
        (*i > start).then_some(v)
    };
    loop {
        match b.get(i)? {
            b']' => return Some(count),
            b',' => i += 1,
            b'[' => {
                i += 1;
                let id = number(&mut i)?;
                (b.get(i)? == &b',').then_some(())?;
                i += 1;
                let x = number(&mut i)?;
                (b.get(i)? == &b',').then_some(())?;
                i += 1;
                let y = number(&mut i)?;
                // A name: skip the string (with its escapes).
                if b.get(i)? == &b',' {
                    i += 1;
                    (b.get(i)? == &b'"').then_some(())?;
                    i += 1;
                    loop {
                        match b.get(i)? {
                            b'\\' => i += 2,
                            b'"' => {
                                i += 1;
                                break;
                            }
                            _ => i += 1,
                        }
                    }
                }
                (b.get(i)? == &b']').then_some(())?;
                i += 1;
                each(id, u16::try_from(x).ok()?, u16::try_from(y).ok()?);
                count += 1;
            }
            _ => return None,
        }
    }
}

needle!(M_LIST, br#""m":["#);
needle!(T_POS, br#""t":"pos""#);
needle!(RESET, br#""reset":true"#);
needle!(T_YOU, br#""t":"you""#);
needle!(T_AREAS, br#""t":"areas""#);
needle!(T_ERROR, br#""t":"error""#);
needle!(AVATAR, br#""avatar":"#);
needle!(KEY_X, br#""x":"#);
needle!(KEY_Y, br#""y":"#);
needle!(BLOCKED, br#""code":"blocked""#);
needle!(TOO_FAR, br#""code":"too_far""#);

/// Avatar id → mover slot.
enum Ids {
    Dense { first: u64, slots: Vec<u32> },
    Sparse(HashMap<u64, u32>),
}

const NOT_A_MOVER: u32 = u32::MAX;

impl Ids {
    fn new(movers: &[(u64, u32)], all: &[u64]) -> Self {
        let first = all.iter().copied().min().unwrap_or(0);
        let last = all.iter().copied().max().unwrap_or(0);
        if last - first <= 64 * all.len() as u64 + 1024 {
            let mut slots = vec![NOT_A_MOVER; (last - first + 1) as usize];
            for &(id, slot) in movers {
                slots[(id - first) as usize] = slot;
            }
            Self::Dense { first, slots }
        } else {
            Self::Sparse(movers.iter().copied().collect())
        }
    }

    fn get(&self, id: u64) -> Option<u32> {
        match self {
            Self::Dense { first, slots } => id
                .checked_sub(*first)
                .and_then(|i| slots.get(i as usize))
                .copied()
                .filter(|&s| s != NOT_A_MOVER),
            Self::Sparse(m) => m.get(&id).copied(),
        }
    }
}

/// CPU time of all of a process's threads in seconds, from the scheduler's nanosecond
/// counters (`/proc/PID/task/*/schedstat`, first field): precise enough for an idle
/// server, where utime+stime in clock ticks of 10 ms often read 0. Threads that ended
/// are not counted (konvent's runtime threads live as long as the server).
fn schedstat_seconds(pid: u32) -> Result<f64> {
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
fn cores_busy() -> Vec<(u64, u64)> {
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
fn others_on(
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

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 600_000_000, 3).expect("valid histogram bounds")
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

type Ws = tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>;

async fn dial(url: &str, token: &str) -> Result<Ws> {
    let mut req = url.into_client_request()?;
    req.headers_mut()
        .insert("cookie", format!("konvent_session={token}").parse()?);
    let addr = req
        .uri()
        .authority()
        .context("no host in the URL")?
        .as_str()
        .parse()?;
    let stream = tokio::net::TcpStream::connect::<std::net::SocketAddr>(addr).await?;
    stream.set_nodelay(true)?;
    let config = WebSocketConfig::default()
        .read_buffer_size(2048)
        .write_buffer_size(0);
    let (ws, _) = tokio_tungstenite::client_async_with_config(req, stream, Some(config))
        .await
        .context("WebSocket handshake")?;
    Ok(ws)
}

fn spawn(i: usize, mut ws: Ws, shared: Arc<Shared>, at: (u16, u16)) -> Client {
    let (out, mut out_rx) = mpsc::unbounded_channel::<String>();
    let state = Arc::new(ClientState::default());
    let st = state.clone();
    let task = tokio::spawn(async move {
        let enter = format!(r#"{{"t":"enter_map","at":[{},{}]}}"#, at.0, at.1);
        if ws.send(Message::Text(enter.into())).await.is_err() {
            st.closed.store(true, Ordering::Relaxed);
            shared.dropped.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let mut second = u64::MAX;
        let mut in_second = 0u32;
        loop {
            tokio::select! {
                out = out_rx.recv() => match out {
                    Some(text) => {
                        if ws.send(Message::Text(text.into())).await.is_err() {
                            break;
                        }
                    }
                    None => break,
                },
                msg = ws.next() => match msg {
                    Some(Ok(Message::Text(t))) => {
                        let b = t.as_bytes();
                        st.frames.fetch_add(1, Ordering::Relaxed);
                        st.bytes.fetch_add(b.len() as u64, Ordering::Relaxed);
                        if contains(b, &T_POS) {
                            st.pos_frames.fetch_add(1, Ordering::Relaxed);
                            let now = shared.now_ns();
                            let s = now / 1_000_000_000;
                            if s != second {
                                second = s;
                                in_second = 0;
                            }
                            in_second += 1;
                            st.busiest.fetch_max(in_second, Ordering::Relaxed);
                            if shared.recording.load(Ordering::Relaxed) {
                                record(&shared, b, now, i);
                            }
                        } else if contains(b, &T_AREAS) {
                            st.areas.fetch_add(1, Ordering::Relaxed);
                        } else if contains(b, &T_YOU) {
                            let x = number_after(b, &KEY_X).unwrap_or(0) as u32;
                            let y = number_after(b, &KEY_Y).unwrap_or(0) as u32;
                            let packed = (x & 0x7FFF) << 16 | (y & 0xFFFF);
                            if st.entered.swap(true, Ordering::Relaxed) {
                                st.fix.store(1 << 31 | packed, Ordering::Relaxed);
                            } else {
                                st.avatar.store(number_after(b, &AVATAR).unwrap_or(0), Ordering::Relaxed);
                                st.pos.store(packed, Ordering::Relaxed);
                                shared.entered.fetch_add(1, Ordering::Relaxed);
                                shared.last_enter_ns.fetch_max(shared.now_ns(), Ordering::Relaxed);
                            }
                        } else if contains(b, &T_ERROR) {
                            if contains(b, &BLOCKED) {
                                shared.blocked.fetch_add(1, Ordering::Relaxed);
                            } else if contains(b, &TOO_FAR) {
                                shared.too_far.fetch_add(1, Ordering::Relaxed);
                            }
                            if shared.errors.fetch_add(1, Ordering::Relaxed) < 5 {
                                eprintln!("   error frame: {}", t.as_str());
                            }
                        }
                    }
                    Some(Ok(Message::Close(frame))) => {
                        if shared.dropped.load(Ordering::Relaxed) < 5 {
                            eprintln!("   client {i} closed by the server: {frame:?}");
                        }
                        break;
                    }
                    None | Some(Err(_)) => break,
                    Some(Ok(_)) => {}
                },
            }
        }
        st.closed.store(true, Ordering::Relaxed);
        shared.dropped.fetch_add(1, Ordering::Relaxed);
    });
    Client { out, state, task }
}

/// The staleness of every mover entry in a `pos` frame read at `now` (ns since base).
fn record(shared: &Shared, frame: &[u8], now: u64, i: usize) {
    let Some(ids) = shared.ids.get() else {
        return;
    };
    // A new view lists everybody where they stand, however long ago they stepped
    // there: not news, so not timed.
    if contains(frame, &RESET) {
        let mut movers = 0;
        pos_entries(frame, |id, _, _| {
            if ids.get(id).is_some() {
                movers += 1;
            }
        });
        shared.in_reset.fetch_add(movers, Ordering::Relaxed);
        return;
    }
    let now_us = now / 1000;
    let (mut matched, mut unmatched, mut start) = (0, 0, 0);
    let Ok(mut h) = shared.hist[i % SHARDS].lock() else {
        return;
    };
    let parsed = pos_entries(frame, |id, x, y| {
        let Some(slot) = ids.get(id) else { return };
        match shared.rings[slot as usize].find(x, y) {
            Match::Step(t) => {
                matched += 1;
                h.saturating_record(now_us.saturating_sub(t).max(1));
            }
            Match::Start => start += 1,
            Match::Unknown => unmatched += 1,
        }
    });
    drop(h);
    if parsed.is_none() {
        shared.malformed.fetch_add(1, Ordering::Relaxed);
    }
    shared.matched.fetch_add(matched, Ordering::Relaxed);
    shared.unmatched.fetch_add(unmatched, Ordering::Relaxed);
    shared.at_start.fetch_add(start, Ordering::Relaxed);
}

/// Mean, p99 and max of per-client values.
#[derive(Debug, Default, Clone, Copy)]
pub struct Spread {
    pub mean: f64,
    pub p99: f64,
    pub max: f64,
}

impl Spread {
    fn of(mut v: Vec<f64>) -> Self {
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

struct Counters {
    pos: Vec<u64>,
    frames: Vec<u64>,
    bytes: Vec<u64>,
    areas: Vec<u64>,
    errors: u64,
    blocked: u64,
    too_far: u64,
    dropped: u64,
    matched: u64,
    unmatched: u64,
    at_start: u64,
    in_reset: u64,
}

fn counters(clients: &[Client], shared: &Shared) -> Counters {
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

fn per_second(after: &[u64], before: &[u64], seconds: f64) -> Vec<f64> {
    after
        .iter()
        .zip(before)
        .map(|(a, b)| a.saturating_sub(*b) as f64 / seconds)
        .collect()
}

/// The walkers: one per mover, the scheduler's own idea of where it stands.
struct Walker {
    client: usize,
    x: u16,
    y: u16,
    /// The last direction (index into DIRS), to avoid stepping straight back.
    last: Option<usize>,
}

const DIRS: [(i32, i32); 4] = [(1, 0), (-1, 0), (0, 1), (0, -1)];

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

async fn measure(
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;
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
