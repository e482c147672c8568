//! How committed entries and ephemeral signals travel between the nodes that serve one
//! event, and how a node reads back what the bus did not bring.
//!
//! The database is the only sequencer and the only log: a bus never assigns, reorders or
//! keeps sequence numbers, and every receiver treats a delivery as maybe lost, repeated or
//! late (the sequencer drops what it has, waits for what is missing and then reads it
//! through [`Backfill`]).

use konvent_core::ids::{AccountId, EventId};
use std::collections::HashMap;
use std::sync::{Arc, Weak};

use futures_util::future::BoxFuture;

use crate::entry::Entry;
use crate::fanout::{Fanout, Goodbye};
use crate::map::MapNews;

/// Carries what one node committed to every node's hub.
pub trait Bus: Send + Sync + 'static {
    /// A committed entry, strictly after its transaction committed.
    fn publish(&self, entry: Entry);

    /// This node has connections for `event_id` now (`true`) or no more: a bus between
    /// nodes listens to an event only while.
    fn watch(&self, _event_id: EventId, _watching: bool) {}

    /// Who is in each room of an event on this node (its whole snapshot, sent at every
    /// presence tick that changed something and as a heartbeat).
    fn presence(&self, _event_id: EventId, _snapshot: &HashMap<String, Vec<AccountId>>) {}

    /// What this node's people spent of their command budgets since the last tick.
    fn spent(&self, _event_id: EventId, _spent: &HashMap<AccountId, u32>) {}

    /// Moves of this node's avatars on an event's map, for the viewers on other nodes.
    fn moves(&self, _event_id: EventId, _news: &MapNews) {}

    /// Every other node closes the connections of `account` for `why` (it signed out,
    /// was disabled, or its rights changed); this node closed its own already.
    fn goodbye(&self, _account: AccountId, _why: Goodbye) {}

    /// Every other node shows `changed` live on its pages; this node did already.
    fn changed(&self, _changed: &Changed) {}
}

/// A committed change outside an event's log that pages show live (a council vote's
/// ballots): only its kind and id travel, and each node reads the thing itself from the
/// database. A lost notice leaves a page as it was until its next reload or reconnect.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Changed {
    pub kind: String,
    pub id: i64,
}

/// The bus of a single node: publishing is delivering, and there is nobody to tell of
/// presence or moves.
pub struct InProcessBus {
    fanout: Weak<Fanout>,
}

impl InProcessBus {
    pub fn of(fanout: &Arc<Fanout>) -> Arc<dyn Bus> {
        Arc::new(Self {
            fanout: Arc::downgrade(fanout),
        })
    }
}

impl Bus for InProcessBus {
    fn publish(&self, entry: Entry) {
        if let Some(fanout) = self.fanout.upgrade() {
            fanout.deliver(entry);
        }
    }
}

/// Reads the log for the hub (implemented over the store by the web side, which also
/// renders the entries' frames).
pub trait Backfill: Send + Sync + 'static {
    /// Up to `limit` entries of the event after sequence `after`, in order, with frames.
    fn since(
        &self,
        event_id: EventId,
        slug: Arc<str>,
        after: i64,
        limit: i64,
    ) -> BoxFuture<'static, Result<Vec<Entry>, String>>;

    /// The event's last committed sequence number.
    fn last_seq(&self, event_id: EventId) -> BoxFuture<'static, Result<i64, String>>;
}
