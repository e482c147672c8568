//! The staleness match: each mover's last places with the intended times of the steps
//! there ([`Ring`]), and the `[id,x,y]` entries of a `pos` frame read without a JSON
//! parser.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use crate::clients::needle;

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
pub(super) const AT_START: u64 = 1;

/// Steps remembered per mover for the staleness match (6.4 s at 5 steps/s).
pub(super) const RING: usize = 32;

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

/// Avatar id → mover slot.
pub(super) enum Ids {
    Dense { first: u64, slots: Vec<u32> },
    Sparse(HashMap<u64, u32>),
}

const NOT_A_MOVER: u32 = u32::MAX;

impl Ids {
    pub(super) fn new(movers: &[(u64, u32)], all: &[u64]) -> Self {
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

    pub(super) fn get(&self, id: u64) -> Option<u32> {
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
