//! konvent's HTTP side: the router, server-rendered pages (German first), the JSON API,
//! assets and metrics. `router(state)` builds the app; `serve` runs it on a listener
//! until the shutdown future resolves.

mod accounts;
mod assets;
mod council;
mod ctx;
mod directory;
mod error;
mod events;
mod forms;
mod i18n;
mod ics;
mod import;
mod layout;
pub mod live;
mod markdown;
pub mod metrics;
mod oparl;
mod pages;
mod pdf;
mod router;
mod server;
mod session;
pub mod settings;
mod strategy;

use std::future::Future;
use std::sync::Arc;

use konvent_store::Store;
use tokio::net::TcpListener;

pub use error::AppError;
pub use router::router;
pub use settings::Settings;

/// Everything a handler needs; cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub settings: Arc<Settings>,
    pub metrics: Arc<metrics::Metrics>,
    pub live: Arc<live::Live>,
}

impl AppState {
    /// The state of a node that serves alone (its bus is in-process).
    pub fn new(store: Store, settings: Settings) -> Self {
        let metrics = Arc::new(metrics::Metrics::new());
        let live = live::Live::new(
            store.clone(),
            metrics.live.clone(),
            settings.live_writes_per_10s as usize,
        );
        Self::with_live(store, settings, metrics, live)
    }

    /// The state of one of several nodes that share events through NATS.
    pub async fn with_nats(
        store: Store,
        settings: Settings,
        options: konvent_live::nats::NatsOptions,
    ) -> Result<Self, konvent_live::nats::NatsError> {
        let metrics = Arc::new(metrics::Metrics::new());
        let nats =
            konvent_live::nats::NatsConnection::connect(options, metrics.live.clone()).await?;
        let live = live::Live::with_bus(
            store.clone(),
            metrics.live.clone(),
            settings.live_writes_per_10s as usize,
            |fanout, maps| nats.attach(fanout, maps),
        );
        Ok(Self::with_live(store, settings, metrics, live))
    }

    fn with_live(
        store: Store,
        settings: Settings,
        metrics: Arc<metrics::Metrics>,
        live: Arc<live::Live>,
    ) -> Self {
        Self {
            live,
            store,
            settings: Arc::new(settings),
            metrics,
        }
    }
}

/// A listening socket on `addr` whose queue of connections not yet accepted holds
/// `backlog` (the system caps it at `net.core.somaxconn`). `TcpListener::bind` would
/// use a fixed 1024, and a burst of connects beyond that loses SYNs.
pub fn listen(addr: std::net::SocketAddr, backlog: u32) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    // As `TcpListener::bind` does: a restart may bind while old connections linger.
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(backlog)
}

/// How long a stopping node waits for its live connections to move on.
const DRAIN_GRACE: std::time::Duration = std::time::Duration::from_secs(5);

/// Serves until `shutdown` resolves, then finishes the requests in flight and tells the
/// live connections to reconnect (to another node).
pub async fn serve(
    state: AppState,
    listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let store = state.store.clone();
    let checkpoints = tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(2));
        loop {
            tick.tick().await;
            if let Err(e) = store.checkpoint().await {
                tracing::warn!(error = %e, "database checkpoint failed");
            }
        }
    });
    // Our own accept loop (not `axum::serve`): header, body and send timeouts and
    // connection limits; see `server`. Handlers get `ConnectInfo<SocketAddr>` as before.
    let limits = server::Limits::from_settings(&state.settings);
    let live = state.live.clone();
    let served = server::run(listener, router(state), limits, shutdown).await;
    // No new connections arrive now: the live ones move to another node.
    live.drain(DRAIN_GRACE).await;
    checkpoints.abort();
    served
}
