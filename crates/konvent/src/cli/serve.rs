//! `konvent serve`: checks the settings, opens the store, binds, loads the demo when
//! asked, connects the bus (in-process or NATS) and serves until a shutdown signal.

use anyhow::{Context, bail};
use konvent_core::demo;
use konvent_web::{AppState, Settings};

use super::links::{record_address, sign_in_link};
use super::open_store;

pub(super) async fn serve(settings: Settings, with_demo: bool) -> anyhow::Result<()> {
    let nats = nats_options(&settings)?;
    // Bad mail settings stop the start, not the first invitation.
    if let Err(e) = settings.check_mail() {
        bail!("the mail settings are unusable: {e}");
    }
    if let Err(e) = settings.check_oidc() {
        bail!("the single sign-on settings are unusable: {e}");
    }
    if let Err(e) = settings.legal.check() {
        bail!("the legal settings are unusable: {e}");
    }
    let store = open_store(&settings).await?;
    let listener = konvent_web::listen(settings.bind, settings.backlog())
        .with_context(|| format!("cannot listen on {}", settings.bind))?;
    let mut settings = settings;
    // With port 0 the system picks one: links must name the real one.
    settings.bind = listener.local_addr()?;
    record_address(&settings);
    if with_demo {
        // The demo shows the legal pages filled in for a fictitious operator, unless
        // the configuration names a real one.
        if settings.legal == konvent_web::legal::LegalSettings::default() {
            settings.legal = konvent_web::legal::LegalSettings::demo();
        }
        if store.is_empty().await? {
            konvent_store::demo::load(&store, settings.follow_up_offset_days).await?;
            tracing::info!("demo data loaded");
        }
        let has_demo_admin = store
            .accounts()
            .await?
            .iter()
            .any(|a| a.email == demo::ADMIN_EMAIL);
        if has_demo_admin {
            let link = sign_in_link(
                &store,
                &settings,
                &settings.public_base(),
                demo::ADMIN_EMAIL,
            )
            .await?;
            println!("Anmeldelink für die Demo-Administration (einmal gültig): {link}");
        } else {
            println!(
                "Die Datenbank enthält schon andere Daten: keine Demo-Daten geladen. \
                 Für eine Demo einen leeren Datenordner wählen (--data)."
            );
        }
    }
    println!("konvent läuft auf {}", settings.public_base());
    tracing::info!(settings = ?settings, backend = ?store.backend(), "serving");
    let state = match nats {
        Some(options) => AppState::with_nats(store.clone(), settings, options).await?,
        None => AppState::new(store.clone(), settings),
    };
    konvent_web::serve(state, listener, shutdown_signal()).await?;
    if let Err(e) = store.checkpoint().await {
        tracing::warn!(error = %e, "final checkpoint failed");
    }
    store.close().await;
    tracing::info!("stopped");
    Ok(())
}

/// The bus to the other nodes, when `nats_url` is set. Several nodes need one shared
/// database: the embedded one belongs to one node.
fn nats_options(settings: &Settings) -> anyhow::Result<Option<konvent_live::nats::NatsOptions>> {
    if settings.nats_url.is_empty() {
        return Ok(None);
    }
    if !settings
        .database()
        .is_some_and(|url| url.starts_with("postgres"))
    {
        bail!(
            "NATS_URL is set, but the database is the embedded SQLite database of this node: \
             several nodes must share one PostgreSQL database (set DATABASE_URL to \
             postgres://…), or leave NATS_URL empty to run a single node"
        );
    }
    let drop_every = std::env::var("KONVENT_TEST_DROP_PUBLISH")
        .ok()
        .map(|n| n.parse::<u64>())
        .transpose()
        .context("KONVENT_TEST_DROP_PUBLISH must be a number")?;
    if drop_every.is_some() {
        tracing::warn!("test hook: this node skips publishing some entries to NATS");
    }
    Ok(Some(konvent_live::nats::NatsOptions {
        url: settings.nats_url.clone(),
        deployment: settings.nats_deployment.clone(),
        drop_every,
    }))
}

async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down");
}
