//! "Who is here" live (K15+): the connections of the people list (`?liste=teilnehmende`
//! on the event's socket) hear when the event's presence — who is connected, who is in
//! which room — or a profile changed. The frame says only which region to fetch anew
//! (`{"t":"refresh","id":"people-list"}`); the region itself comes from the same
//! template as the page (`/konvent/{e}/teilnehmende/liste`), rendered for the viewer, so
//! a frame carries nothing about anybody.

use konvent_core::ids::{AccountId, EventId};
use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use konvent_live::Fanout;
use konvent_live::Text;

/// How often the presence of watched events is compared (and so, at most, how often a
/// list is told to refresh).
pub const TICK: Duration = Duration::from_secs(1);

/// The value of the socket's `liste` parameter that watches the people list.
pub const LIST: &str = "teilnehmende";

/// The frame that tells a page to fetch its people list anew.
pub const FRAME: &str = r#"{"t":"refresh","id":"people-list"}"#;

#[derive(Default)]
struct Watched {
    conns: HashSet<u64>,
    /// The presence last told about.
    last: u64,
    /// A profile changed since the last tick.
    dirty: bool,
}

/// The watched people lists of this node.
pub struct PeopleWatch {
    fanout: Weak<Fanout>,
    events: Mutex<HashMap<EventId, Watched>>,
    ticking: AtomicBool,
}

impl PeopleWatch {
    pub fn new(fanout: &Arc<Fanout>) -> Arc<Self> {
        Arc::new(Self {
            fanout: Arc::downgrade(fanout),
            events: Mutex::new(HashMap::new()),
            ticking: AtomicBool::new(false),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<EventId, Watched>> {
        self.events.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A connection shows the event's people list.
    pub fn watch(self: &Arc<Self>, event_id: EventId, conn: u64) {
        let signature = self.signature(event_id);
        let mut events = self.lock();
        let watched = events.entry(event_id).or_insert_with(|| Watched {
            last: signature,
            ..Watched::default()
        });
        watched.conns.insert(conn);
        drop(events);
        self.start_ticking();
    }

    /// A connection closed (whether it watched or not).
    pub fn unwatch(&self, event_id: EventId, conn: u64) {
        let mut events = self.lock();
        if let Some(w) = events.get_mut(&event_id) {
            w.conns.remove(&conn);
            if w.conns.is_empty() {
                events.remove(&event_id);
            }
        }
    }

    /// A profile that the event's list may show changed (`event_id = 0`: a konvent-wide
    /// profile, which every event's list may show).
    pub fn touch(&self, event_id: EventId) {
        let mut events = self.lock();
        for (id, w) in events.iter_mut() {
            if event_id == EventId::new(0) || *id == event_id {
                w.dirty = true;
            }
        }
    }

    /// Who is connected to the event and where, as one number.
    fn signature(&self, event_id: EventId) -> u64 {
        let Some(fanout) = self.fanout.upgrade() else {
            return 0;
        };
        let mut here: Vec<(AccountId, Option<Arc<str>>)> =
            fanout.whereabouts(event_id).into_iter().collect();
        here.sort();
        let mut h = DefaultHasher::new();
        here.hash(&mut h);
        h.finish()
    }

    fn start_ticking(self: &Arc<Self>) {
        if self.ticking.swap(true, Ordering::Relaxed) {
            return;
        }
        let watch = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(TICK);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                let Some(watch) = watch.upgrade() else {
                    return;
                };
                watch.tell();
            }
        });
    }

    /// Tells the lists of every event whose presence or profiles changed.
    fn tell(&self) {
        let Some(fanout) = self.fanout.upgrade() else {
            return;
        };
        let ids: Vec<EventId> = self.lock().keys().copied().collect();
        for event_id in ids {
            let signature = self.signature(event_id);
            let conns = {
                let mut events = self.lock();
                let Some(w) = events.get_mut(&event_id) else {
                    continue;
                };
                if w.last == signature && !w.dirty {
                    continue;
                }
                w.last = signature;
                w.dirty = false;
                w.conns.iter().copied().collect::<Vec<_>>()
            };
            fanout.to_many(event_id, &[(conns, Text::from_static(FRAME))]);
        }
    }
}
