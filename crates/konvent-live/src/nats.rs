//! The bus between nodes over NATS (core NATS, no JetStream): a lossy doorbell that
//! carries each committed entry's finished frames, and the nodes' ephemeral signals.
//!
//! Subjects, per deployment (`konvent.<deployment>.…`), subscribed per event only while
//! this node has connections for it:
//! - `….ev.<event>`: committed entries ([`Entry::encode`]);
//! - `….eph.<event>.presence`: who is in each room on a node (account ids), its whole
//!   snapshot, at every change and as a heartbeat;
//! - `….eph.<event>.map`: a node's avatars that moved or left (all of them as a
//!   heartbeat);
//! - `….eph.<event>.spent`: what a node's people spent of their command budgets.
//!
//! Nothing here is trusted to arrive: the sequencer drops what it has, waits for what
//! is missing and reads it from the database; a node that reconnects, or that the server
//! says read too slowly, compares every event it serves with the log at once
//! ([`Fanout::catch_up_all`]).

use konvent_core::ids::{AccountId, EventId};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock, Weak};
use std::time::Duration;

use async_nats::{Client, ConnectOptions, Event};
use bytes::Bytes;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::bus::{Bus, Changed};
use crate::entry::Entry;
use crate::fanout::{Fanout, Goodbye};
use crate::map::{MapNews, Maps};
use crate::metrics::LiveMetrics;

/// Messages waiting to be sent to the broker; beyond this they are dropped (and healed
/// from the database by the receivers).
const OUTGOING: usize = 65_536;

/// How to reach the broker.
#[derive(Debug, Clone)]
pub struct NatsOptions {
    /// `nats://host:4222` (several, comma-separated, for a cluster).
    pub url: String,
    /// The deployment's name in the subjects: nodes of one deployment share events.
    pub deployment: String,
    /// Test hook (`KONVENT_TEST_DROP_PUBLISH`): skip every this many entries when
    /// publishing, to prove that the other nodes heal from the database.
    pub drop_every: Option<u64>,
}

/// Why the bus could not start.
#[derive(Debug, thiserror::Error)]
pub enum NatsError {
    #[error(
        "the deployment name {0:?} may hold only letters, digits, '-' and '_' (it is part of NATS subjects)"
    )]
    Deployment(String),
    #[error("cannot reach NATS at {url}: {reason}")]
    Connect { url: String, reason: String },
}

/// A connection to the broker, before the node's hub exists.
pub struct NatsConnection {
    client: Client,
    options: NatsOptions,
    /// Where the broker's events (reconnected, slow consumer) are reported, once the hub
    /// exists.
    hub: Arc<OnceLock<Weak<Fanout>>>,
}

impl NatsConnection {
    /// Connects (failing after a few seconds when nobody answers: a node that cannot
    /// reach its peers should not start as if it were alone).
    pub async fn connect(options: NatsOptions, metrics: LiveMetrics) -> Result<Self, NatsError> {
        if options.deployment.is_empty()
            || !options
                .deployment
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(NatsError::Deployment(options.deployment));
        }
        let hub: Arc<OnceLock<Weak<Fanout>>> = Arc::new(OnceLock::new());
        let events_hub = hub.clone();
        let connected_before = Arc::new(AtomicBool::new(false));
        let client = ConnectOptions::new()
            .name("konvent")
            .no_echo()
            .connection_timeout(Duration::from_secs(5))
            .subscription_capacity(65_536)
            .event_callback(move |event| {
                let hub = events_hub.clone();
                let metrics = metrics.clone();
                let again = matches!(event, Event::Connected)
                    && connected_before.swap(true, Ordering::Relaxed);
                async move { on_event(&hub, &metrics, event, again) }
            })
            .connect(options.url.as_str())
            .await
            .map_err(|e| NatsError::Connect {
                url: options.url.clone(),
                reason: e.to_string(),
            })?;
        Ok(Self {
            client,
            options,
            hub,
        })
    }

    /// The bus of the node whose fan-out and maps are given.
    pub fn attach(self, fanout: &Arc<Fanout>, maps: &Arc<Maps>) -> Arc<dyn Bus> {
        let _ = self.hub.set(Arc::downgrade(fanout));
        let (tx, rx) = mpsc::channel(OUTGOING);
        let metrics = fanout.metrics().clone();
        tokio::spawn(send_loop(self.client.clone(), rx));
        let prefix = format!("konvent.{}", self.options.deployment);
        tokio::spawn(listen_changes(
            self.client.clone(),
            format!("{prefix}.changed"),
            Arc::downgrade(fanout),
        ));
        tokio::spawn(listen_goodbyes(
            self.client.clone(),
            format!("{prefix}.account.goodbye"),
            Arc::downgrade(fanout),
        ));
        Arc::new(NatsBus {
            client: self.client,
            prefix: format!("konvent.{}", self.options.deployment),
            node: fanout.node(),
            fanout: Arc::downgrade(fanout),
            maps: Arc::downgrade(maps),
            outgoing: tx,
            watched: Mutex::new(HashMap::new()),
            drop_every: self.options.drop_every.filter(|n| *n > 0),
            published: AtomicU64::new(0),
            metrics,
        })
    }
}

/// What the broker's events mean for the hub; `again` for a connect after the first.
fn on_event(hub: &OnceLock<Weak<Fanout>>, metrics: &LiveMetrics, event: Event, again: bool) {
    let fanout = hub.get().and_then(Weak::upgrade);
    match event {
        Event::Connected => {
            if again {
                metrics.bus_reconnects.inc();
            }
            tracing::info!("live bus: connected to NATS");
            // Whatever was published while we were away is in the log.
            if let Some(fanout) = fanout {
                fanout.catch_up_all();
            }
        }
        Event::SlowConsumer(_) => {
            metrics.bus_slow_consumers.inc();
            tracing::warn!("live bus: NATS dropped messages for this node (slow consumer)");
            if let Some(fanout) = fanout {
                fanout.catch_up_all();
            }
        }
        Event::Disconnected => tracing::warn!("live bus: disconnected from NATS; reconnecting"),
        other => tracing::info!(event = %other, "live bus: NATS event"),
    }
}

/// Sends what the node publishes, in the order it was handed over.
async fn send_loop(client: Client, mut rx: mpsc::Receiver<(String, Bytes)>) {
    while let Some((subject, payload)) = rx.recv().await {
        if let Err(e) = client.publish(subject, payload).await {
            tracing::debug!(error = %e, "live bus: a message was not sent");
        }
    }
}

/// The bus over NATS.
pub struct NatsBus {
    client: Client,
    prefix: String,
    node: u32,
    fanout: Weak<Fanout>,
    maps: Weak<Maps>,
    outgoing: mpsc::Sender<(String, Bytes)>,
    /// The subscription task of every event this node serves.
    watched: Mutex<HashMap<EventId, JoinHandle<()>>>,
    drop_every: Option<u64>,
    published: AtomicU64,
    metrics: LiveMetrics,
}

/// Who is in each room of one event on a node.
#[derive(Serialize, Deserialize)]
struct PresenceNews {
    node: u32,
    rooms: HashMap<String, Vec<AccountId>>,
}

/// What a node's people spent of their command budgets in one event.
#[derive(Serialize, Deserialize)]
struct SpendingNews {
    node: u32,
    spent: HashMap<AccountId, u32>,
}

/// A node tells the others to close an account's connections.
#[derive(Serialize, Deserialize)]
struct GoodbyeNews {
    account: AccountId,
    /// `Goodbye as u8`.
    why: u8,
}

/// A node tells the others of a change their pages show live.
#[derive(Serialize, Deserialize)]
struct ChangedNews {
    node: u32,
    #[serde(flatten)]
    changed: Changed,
}

/// A node's avatar news of one event.
#[derive(Serialize, Deserialize)]
struct AvatarNews {
    node: u32,
    #[serde(flatten)]
    news: MapNews,
}

impl NatsBus {
    fn send(&self, subject: String, payload: Bytes) {
        // A full queue means the broker is gone or far behind: the receivers heal.
        let _ = self.outgoing.try_send((subject, payload));
    }
}

impl Bus for NatsBus {
    fn publish(&self, entry: Entry) {
        let n = self.published.fetch_add(1, Ordering::Relaxed) + 1;
        let dropped = self.drop_every.is_some_and(|every| n.is_multiple_of(every));
        if !dropped {
            self.metrics.bus_published.inc();
            self.send(
                format!("{}.ev.{}", self.prefix, entry.event_id),
                entry.encode(),
            );
        }
        if let Some(fanout) = self.fanout.upgrade() {
            fanout.deliver(entry);
        }
    }

    fn watch(&self, event_id: EventId, watching: bool) {
        let mut watched = self.watched.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(task) = watched.remove(&event_id) {
            task.abort();
        }
        if watching {
            let task = tokio::spawn(listen(
                self.client.clone(),
                self.prefix.clone(),
                event_id,
                self.fanout.clone(),
                self.maps.clone(),
                self.metrics.clone(),
            ));
            watched.insert(event_id, task);
        }
    }

    fn presence(&self, event_id: EventId, snapshot: &HashMap<String, Vec<AccountId>>) {
        let news = PresenceNews {
            node: self.node,
            rooms: snapshot.clone(),
        };
        if let Ok(payload) = serde_json::to_vec(&news) {
            self.send(
                format!("{}.eph.{event_id}.presence", self.prefix),
                Bytes::from(payload),
            );
        }
    }

    fn spent(&self, event_id: EventId, spent: &HashMap<AccountId, u32>) {
        let news = SpendingNews {
            node: self.node,
            spent: spent.clone(),
        };
        if let Ok(payload) = serde_json::to_vec(&news) {
            self.send(
                format!("{}.eph.{event_id}.spent", self.prefix),
                Bytes::from(payload),
            );
        }
    }

    fn goodbye(&self, account: AccountId, why: Goodbye) {
        let news = GoodbyeNews {
            account,
            why: why as u8,
        };
        if let Ok(payload) = serde_json::to_vec(&news) {
            self.send(
                format!("{}.account.goodbye", self.prefix),
                Bytes::from(payload),
            );
        }
    }

    fn changed(&self, changed: &Changed) {
        let news = ChangedNews {
            node: self.node,
            changed: changed.clone(),
        };
        if let Ok(payload) = serde_json::to_vec(&news) {
            self.send(format!("{}.changed", self.prefix), Bytes::from(payload));
        }
    }

    fn moves(&self, event_id: EventId, news: &MapNews) {
        let news = AvatarNews {
            node: self.node,
            news: news.clone(),
        };
        if let Ok(payload) = serde_json::to_vec(&news) {
            self.send(
                format!("{}.eph.{event_id}.map", self.prefix),
                Bytes::from(payload),
            );
        }
    }
}

/// Hands the changes other nodes committed to this node's pages, for as long as the
/// node lives (its own come back from the broker too and are skipped).
async fn listen_changes(client: Client, subject: String, fanout: Weak<Fanout>) {
    let mut messages = match client.subscribe(subject).await {
        Ok(messages) => messages,
        Err(e) => {
            tracing::error!(error = %e, "live bus: cannot subscribe to changes");
            return;
        }
    };
    while let Some(message) = messages.next().await {
        let Some(fanout) = fanout.upgrade() else {
            return;
        };
        match serde_json::from_slice::<ChangedNews>(&message.payload) {
            Ok(news) if news.node != fanout.node() => fanout.changed_elsewhere(news.changed),
            Ok(_) => {}
            Err(e) => tracing::warn!(error = %e, "live bus: a change notice that is not one"),
        }
    }
}

/// Closes this node's connections of the accounts other nodes name (signed out,
/// disabled, rights changed), for as long as the node lives. A lost message leaves such
/// a socket open until it next reconnects, which its ended session no longer allows.
async fn listen_goodbyes(client: Client, subject: String, fanout: Weak<Fanout>) {
    let mut messages = match client.subscribe(subject).await {
        Ok(messages) => messages,
        Err(e) => {
            tracing::error!(error = %e, "live bus: cannot subscribe to account goodbyes");
            return;
        }
    };
    while let Some(message) = messages.next().await {
        let Some(fanout) = fanout.upgrade() else {
            return;
        };
        let Ok(news) = serde_json::from_slice::<GoodbyeNews>(&message.payload) else {
            continue;
        };
        // Only what another node may ask for: not "slow", not "restart".
        if let Some(why @ (Goodbye::SignedOut | Goodbye::RightsChanged)) =
            Goodbye::from_code(news.why)
        {
            fanout.close_account(news.account, why);
        }
    }
}

/// Takes an event's messages from the broker and hands them to this node's hub, until
/// the node stops serving the event (the task is aborted, which unsubscribes).
async fn listen(
    client: Client,
    prefix: String,
    event_id: EventId,
    fanout: Weak<Fanout>,
    maps: Weak<Maps>,
    metrics: LiveMetrics,
) {
    let entries = client.subscribe(format!("{prefix}.ev.{event_id}")).await;
    let signals = client.subscribe(format!("{prefix}.eph.{event_id}.>")).await;
    let (entries, signals) = match (entries, signals) {
        (Ok(entries), Ok(signals)) => (entries, signals),
        (Err(e), _) | (_, Err(e)) => {
            tracing::error!(error = %e, %event_id, "live bus: cannot subscribe; the log heals");
            return;
        }
    };
    // Entries committed before the subscription took effect are in the log.
    if let Some(fanout) = fanout.upgrade() {
        fanout.catch_up_all();
    }
    let entry_subject = format!("{prefix}.ev.{event_id}");
    let presence_subject = format!("{prefix}.eph.{event_id}.presence");
    let spent_subject = format!("{prefix}.eph.{event_id}.spent");
    let mut messages = futures_util::stream::select(entries, signals);
    while let Some(message) = messages.next().await {
        let Some(fanout) = fanout.upgrade() else {
            return;
        };
        if message.subject.as_str() == entry_subject {
            match Entry::decode(&message.payload) {
                Some(entry) if entry.event_id == event_id => {
                    metrics.bus_received.inc();
                    fanout.deliver(entry);
                }
                _ => tracing::debug!(%event_id, "live bus: an unreadable entry (the log heals)"),
            }
        } else if message.subject.as_str() == presence_subject {
            if let Ok(news) = serde_json::from_slice::<PresenceNews>(&message.payload) {
                fanout.remote_presence(event_id, news.node, news.rooms);
            }
        } else if message.subject.as_str() == spent_subject {
            if let Ok(news) = serde_json::from_slice::<SpendingNews>(&message.payload)
                && news.node != fanout.node()
            {
                fanout.budgets.spent_elsewhere(event_id, &news.spent);
            }
        } else if let Ok(news) = serde_json::from_slice::<AvatarNews>(&message.payload)
            && let Some(maps) = maps.upgrade()
        {
            maps.remote_news(event_id, news.node, news.news);
        }
    }
}
