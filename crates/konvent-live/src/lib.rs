//! konvent's live hub (DESIGN.md "Live hub", "Bus"), without HTTP and without a database:
//! which connection is in which event and room, the sequencer and fan-out of committed
//! live-log entries, presence, the avatars on the venue map, and the bus that lets several
//! nodes serve one event. The web side renders the entries' frames, reads the log for
//! the hub ([`Backfill`]) and runs the sockets.

pub mod budget;
pub mod bus;
pub mod entry;
pub mod fanout;
pub mod map;
pub mod metrics;
pub mod nats;
#[cfg(test)]
mod testing;

pub use bus::{Backfill, Bus, Changed, InProcessBus};
pub use entry::Entry;
pub use fanout::{
    EventStart, Fanout, Goodbye, Inbox, JoinRefusal, Joined, Kick, Out, Presence, Registration,
};
pub use map::Maps;
pub use metrics::LiveMetrics;
/// A frame's text as the WebSocket writes it: UTF-8, checked once where it is made (not
/// at all when made from a `String`) and shared by every connection it goes to, so no
/// connection checks it again.
pub use tungstenite::Utf8Bytes as Text;
