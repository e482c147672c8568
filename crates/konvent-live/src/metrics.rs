//! What one node's live hub reports (`/metrics`, registered by the web side under the
//! `konvent_` prefix).

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// The live hub's counters: its connections and deliveries, the clients it closed for
/// being slow, and the bus between nodes.
#[derive(Clone, Default, Debug)]
pub struct LiveMetrics {
    pub connections: Gauge,
    pub deliveries: Counter,
    pub slow_closes: Counter,
    /// Entries this node put on the bus …
    pub bus_published: Counter,
    /// … and took from it (other nodes' and, with a broker, its own).
    pub bus_received: Counter,
    /// Entries read from the database because the bus did not bring them in time.
    pub gap_entries: Counter,
    /// Reconnects to the broker, and its signals that this node read too slowly.
    pub bus_reconnects: Counter,
    pub bus_slow_consumers: Counter,
}

impl LiveMetrics {
    /// Registers every counter (names as `docs/live-protocol.md` and the README list them).
    pub fn register(&self, registry: &mut Registry) {
        registry.register(
            "live_connections",
            "Open live WebSocket connections",
            self.connections.clone(),
        );
        registry.register(
            "live_deliveries",
            "Frames queued for live clients",
            self.deliveries.clone(),
        );
        registry.register(
            "live_slow_closes",
            "Live clients closed because they could not keep up",
            self.slow_closes.clone(),
        );
        registry.register(
            "live_bus_published",
            "Live-log entries this node put on the bus between nodes",
            self.bus_published.clone(),
        );
        registry.register(
            "live_bus_received",
            "Live-log entries this node took from the bus between nodes",
            self.bus_received.clone(),
        );
        registry.register(
            "live_gap_entries",
            "Live-log entries read from the database because the bus did not bring them",
            self.gap_entries.clone(),
        );
        registry.register(
            "live_bus_reconnects",
            "Reconnects to the message broker",
            self.bus_reconnects.clone(),
        );
        registry.register(
            "live_bus_slow_consumers",
            "Times the message broker dropped messages because this node read too slowly",
            self.bus_slow_consumers.clone(),
        );
    }
}
