//! The scenarios, run against one server at a time, and the tables.
//!
//! This file holds the scenarios, the options and what a run reports; one server's run
//! ([`measure()`]) and the tables ([`tables()`]) have files of their own.

mod measure;
mod tables;

pub use measure::measure;
pub use tables::tables;

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
