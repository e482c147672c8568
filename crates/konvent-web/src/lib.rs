//! konvent's HTTP side: the router, server-rendered pages (German first), the JSON API,
//! assets and metrics. `router(state)` builds the app; `serve` runs it on a listener
//! until the shutdown future resolves.

mod accounts;
mod assets;
mod council;
mod ctx;
mod directory;
mod documents;
mod error;
mod events;
mod forms;
mod i18n;
mod ics;
pub mod invitations;
mod layout;
pub mod legal;
pub mod live;
pub mod mail;
mod markdown;
pub mod metrics;
mod networking;
pub mod notifications;
pub mod oidc;
mod oparl;
mod pages;
mod pdf;
mod refusals;
mod router;
mod search;
mod server;
mod session;
pub mod settings;
mod strategy;

use std::future::Future;
use std::sync::Arc;

use konvent_store::Store;
use tokio::net::TcpListener;

/// One look for meeting invitations whose update a dying node missed (the node looks
/// every minute by itself; tests call it directly).
pub use council::invitations::reconcile_once as reconcile_meeting_invitations;
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
    /// Mail delivery and the bell of this node's outbox worker.
    pub mail: Arc<mail::Outbox>,
    /// The list jobs (bulk invitations) this node works on.
    pub jobs: Arc<invitations::Jobs>,
    /// The rooms of the council's live votes (G9).
    pub votes_hub: Arc<council::votes_live::VoteHub>,
    /// The single sign-on providers (issue 19).
    pub sso: oidc::SharedSso,
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
            mail: Arc::new(mail::Outbox::new(&settings)),
            jobs: Arc::default(),
            votes_hub: Arc::default(),
            sso: Arc::new(oidc::Sso::new(&settings.oidc)),
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

/// How long a stopping node waits for a mail being sent: one SMTP conversation's
/// timeout and a little more.
const MAIL_GRACE: std::time::Duration = std::time::Duration::from_secs(35);

/// Serves until `shutdown` resolves, then finishes the requests in flight, lets a mail
/// being sent finish and tells the live connections to reconnect (to another node).
/// The node's outbox worker runs meanwhile.
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
    let (stop_mail, mail_stopped) = tokio::sync::watch::channel(false);
    let reminders = tokio::spawn(notifications::scheduler::run(
        state.store.clone(),
        state.mail.clone(),
        state.settings.clone(),
        mail_stopped.clone(),
    ));
    let written = tokio::spawn(council::written::run_scheduler(
        state.clone(),
        mail_stopped.clone(),
    ));
    let retention = tokio::spawn(legal::retention::run(
        state.store.clone(),
        state.settings.clone(),
        mail_stopped.clone(),
    ));
    let mail_worker = tokio::spawn(mail::worker::run(
        state.store.clone(),
        state.mail.clone(),
        mail_stopped,
    ));
    // List jobs left by a node that stopped or died (this one before its restart).
    let resume = tokio::spawn(invitations::resume(state.clone()));
    // Meeting invitations whose update a dying node missed.
    let reconcile = tokio::spawn(council::invitations::reconcile(state.clone()));
    // Votes other nodes changed, for the viewers on this one.
    let votes = tokio::spawn(council::votes_live::follow_other_nodes(state.clone()));
    let jobs = state.jobs.clone();
    let limits = server::Limits::from_settings(&state.settings);
    let live = state.live.clone();
    let served = server::run(listener, router(state), limits, shutdown).await;
    let _ = stop_mail.send(true);
    // No new connections arrive now: the live ones move to another node, while the
    // mail worker finishes the mail it is sending.
    resume.abort();
    reconcile.abort();
    votes.abort();
    let (_, mail_done, ()) = tokio::join!(
        live.drain(DRAIN_GRACE),
        tokio::time::timeout(MAIL_GRACE, mail_worker),
        jobs.stop(DRAIN_GRACE)
    );
    if mail_done.is_err() {
        tracing::warn!("the mail being sent did not finish in time; its lease will release it");
    }
    checkpoints.abort();
    // A reminder being queued is one transaction: stopped here, it is queued later.
    reminders.abort();
    // Closing a written procedure is one transaction: stopped here, it closes later.
    written.abort();
    // A retention run is one transaction: stopped here, it runs at the next start.
    retention.abort();
    served
}
