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
    pub fn new(store: Store, settings: Settings) -> Self {
        let metrics = Arc::new(metrics::Metrics::new());
        Self {
            live: live::Live::new(
                store.clone(),
                metrics.live.clone(),
                settings.live_writes_per_10s as usize,
            ),
            store,
            settings: Arc::new(settings),
            metrics,
        }
    }
}

/// Serves until `shutdown` resolves, then finishes the requests in flight.
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
    let app = router(state).into_make_service_with_connect_info::<std::net::SocketAddr>();
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await;
    checkpoints.abort();
    served
}
