//! The command line: `serve`, `default-config`, `admin invite`, `admin sign-in-link`
//! and `import directory`.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use jiff::SignedDuration;
use konvent_core::authz::{Grant, Role, Scope};
use konvent_core::demo;
use konvent_core::gremien::transfer::{self, FileKind};
use konvent_store::{Actor, Store, TokenPurpose};
use konvent_web::{AppState, Settings};

#[derive(Parser)]
#[command(
    name = "konvent",
    version,
    about = "konvent – Plattform des IT-Planungsrats"
)]
pub struct Cli {
    /// Configuration file (default: ./konvent.toml if it exists).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve {
        /// Address to listen on.
        #[arg(long, env = "KONVENT_BIND")]
        bind: Option<SocketAddr>,
        #[command(flatten)]
        store: StoreArgs,
        /// Fill an empty database with the demo data and print a sign-in link for the
        /// demo admin.
        #[arg(long)]
        demo: bool,
    },
    /// Print the commented example configuration with all defaults.
    DefaultConfig,
    /// Administration tasks.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Import data.
    Import {
        #[command(subcommand)]
        command: ImportCommand,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Print a single-use invitation link that creates an account with a role.
    Invite {
        email: String,
        /// admin, organizer, moderator, patron, member, spokesperson, fachmk_office, participant
        #[arg(long)]
        role: Role,
        /// For scoped roles: conference:DMK, event:1, room:3, topic:2.
        #[arg(long)]
        scope: Option<Scope>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// After the database was restored from a backup: give the live log a new epoch,
    /// so that every open page reloads instead of waiting for entries that will not
    /// come. Run it with all nodes stopped, then start them.
    NewEpoch {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Print a single-use sign-in link for an existing account.
    SignInLink {
        email: String,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// For a rehearsal or load test: create COUNT participants of an event, signed in,
    /// and print their session tokens (the `konvent_session` cookie), one per line. An
    /// empty database gets the demo data first; a missing room is created.
    LoadTestSessions {
        #[arg(long)]
        event: String,
        /// The room they will meet in; created with room for all of them if missing.
        #[arg(long)]
        room: Option<String>,
        #[arg(long)]
        count: usize,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Subcommand)]
enum ImportCommand {
    /// Import the directory of conferences from a CSV or XLSX file. A file with any
    /// error is refused whole, with a report of row, column and reason.
    Directory {
        file: PathBuf,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Make a map drawn in the Tiled editor (JSON, .tmj) an event's venue map. Areas are
    /// objects with the property `room` (a room's slug) or `pinboard`; a map with any
    /// problem is refused with all of them, and the event keeps its map.
    Map {
        #[arg(long)]
        event: String,
        file: PathBuf,
        /// External tilesets the map names (JSON, .tsj); repeat for several.
        #[arg(long = "tileset")]
        tilesets: Vec<PathBuf>,
        #[command(flatten)]
        store: StoreArgs,
    },
}

#[derive(Args)]
struct StoreArgs {
    /// Data folder for the embedded database.
    #[arg(long, env = "KONVENT_DATA")]
    data: Option<PathBuf>,
    /// PostgreSQL URL; empty uses the embedded database.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    database_url: Option<String>,
}

/// Defaults, then the configuration file, then environment and flags.
fn settings(config: Option<&Path>, store: &StoreArgs) -> anyhow::Result<Settings> {
    let path = config.map(Path::to_path_buf).or_else(|| {
        let default = PathBuf::from("konvent.toml");
        default.exists().then_some(default)
    });
    let mut settings = match path {
        Some(path) => {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            Settings::from_toml(&text).with_context(|| format!("in {}", path.display()))?
        }
        None => Settings::default(),
    };
    if let Some(data) = &store.data {
        settings.data_dir = data.clone();
    }
    if let Some(url) = &store.database_url {
        settings.database_url = url.clone();
    }
    if let Ok(url) = std::env::var("NATS_URL") {
        settings.nats_url = url;
    }
    if let Ok(name) = std::env::var("KONVENT_NATS_DEPLOYMENT") {
        settings.nats_deployment = name;
    }
    if let Ok(url) = std::env::var("KONVENT_PUBLIC_URL") {
        settings.public_url = url;
    }
    if let Ok(flag) = std::env::var("KONVENT_SECURE_COOKIES") {
        settings.secure_cookies = matches!(flag.as_str(), "1" | "true" | "yes");
    }
    if let Ok(url) = std::env::var("KONVENT_SMTP_URL") {
        settings.smtp_url = url;
    }
    if let Ok(path) = std::env::var("KONVENT_SMTP_CA_FILE") {
        settings.smtp_ca_file = path;
    }
    if let Ok(from) = std::env::var("KONVENT_MAIL_FROM") {
        settings.mail_from = from;
    }
    if let Ok(days) = std::env::var("KONVENT_REMINDER_DAYS") {
        settings.reminder_days = Settings::parse_reminder_days(&days)
            .map_err(|e| anyhow::anyhow!("KONVENT_REMINDER_DAYS: {e}"))?;
    }
    if let Some(provider) = konvent_web::oidc::ProviderSettings::from_env(|k| std::env::var(k).ok())
        .map_err(|e| anyhow::anyhow!(e))?
    {
        // The environment's provider replaces one of the same id from the file.
        settings.oidc.retain(|p| p.id != provider.id);
        settings.oidc.push(provider);
    }
    Ok(settings)
}

async fn open_store(settings: &Settings) -> anyhow::Result<Store> {
    let store = match settings.database() {
        Some(url) => Store::connect(url).await,
        None => Store::open_data_dir(&settings.data_dir).await,
    };
    store.context("cannot open the database")
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    let config = cli.config.as_deref();
    match cli.command {
        Command::DefaultConfig => {
            print!("{}", konvent_web::settings::EXAMPLE_TOML);
            Ok(())
        }
        Command::Serve { bind, store, demo } => {
            let mut settings = settings(config, &store)?;
            if let Some(bind) = bind {
                settings.bind = bind;
            }
            serve(settings, demo).await
        }
        Command::Admin { command } => match command {
            AdminCommand::Invite {
                email,
                role,
                scope,
                store,
            } => {
                let settings = settings(config, &store)?;
                let grant =
                    Grant::new(role, scope.unwrap_or(Scope::Global)).map_err(anyhow::Error::msg)?;
                let store = open_store(&settings).await?;
                let hours = i64::from(settings.invitation_hours);
                let token = store
                    .create_login_token(
                        TokenPurpose::Invitation,
                        &email,
                        Some(&grant),
                        None,
                        SignedDuration::from_hours(hours),
                    )
                    .await?;
                let (base, source) = link_base(&settings);
                println!("{base}/einladung/{}", token.token);
                eprintln!("{source}");
                Ok(())
            }
            AdminCommand::NewEpoch { store } => {
                let settings = settings(config, &store)?;
                let store = open_store(&settings).await?;
                let epoch = store.new_live_epoch().await?;
                println!("Neue Epoche des Live-Protokolls: {epoch}");
                Ok(())
            }
            AdminCommand::SignInLink { email, store } => {
                let settings = settings(config, &store)?;
                let store = open_store(&settings).await?;
                let known = email.trim().to_lowercase();
                if !store.accounts().await?.iter().any(|a| a.email == known) {
                    bail!("there is no account for {email}");
                }
                // Links name the address the data folder's server is reached at; stdout
                // carries the link alone (scripts read it), stderr says where it came from.
                let (base, source) = link_base(&settings);
                println!("{}", sign_in_link(&store, &settings, &base, &email).await?);
                eprintln!("{source}");
                Ok(())
            }
            AdminCommand::LoadTestSessions {
                event,
                room,
                count,
                store,
            } => {
                let settings = settings(config, &store)?;
                let store = open_store(&settings).await?;
                if store.is_empty().await? {
                    konvent_store::demo::load(&store, settings.follow_up_offset_days).await?;
                }
                let event = store
                    .event(&event)
                    .await
                    .with_context(|| format!("there is no event {event:?}"))?;
                if let Some(slug) = room {
                    let rooms = store.rooms(event.id).await?;
                    let capacity = i64::try_from(count.max(1))?;
                    match rooms.iter().find(|r| r.slug == slug) {
                        Some(r) if r.capacity < capacity => bail!(
                            "room {slug} holds {} people, fewer than {count}",
                            r.capacity
                        ),
                        Some(_) => {}
                        None => {
                            if !konvent_core::konvent::valid_slug(&slug) {
                                bail!("room {slug:?}: use lowercase letters, digits and dashes");
                            }
                            store
                                .create_room(
                                    event.id,
                                    &konvent_store::NewRoom {
                                        name: format!("Lasttest ({slug})"),
                                        slug,
                                        kind: konvent_core::konvent::RoomKind::Other,
                                        capacity,
                                        moderator_id: None,
                                    },
                                )
                                .await?;
                        }
                    }
                }
                let tokens = store.load_test_sessions(event.id, count).await?;
                let mut out = std::io::stdout().lock();
                for token in tokens {
                    writeln!(out, "{token}")?;
                }
                Ok(())
            }
        },
        Command::Import { command } => match command {
            ImportCommand::Directory { file, store } => {
                let settings = settings(config, &store)?;
                import_directory(&settings, &file).await
            }
            ImportCommand::Map {
                event,
                file,
                tilesets,
                store,
            } => {
                let settings = settings(config, &store)?;
                import_map(&settings, &event, &file, &tilesets).await
            }
        },
    }
}

async fn import_map(
    settings: &Settings,
    event: &str,
    file: &Path,
    tilesets: &[PathBuf],
) -> anyhow::Result<()> {
    let read = |path: &Path| -> anyhow::Result<Vec<u8>> {
        let len = std::fs::metadata(path)
            .with_context(|| format!("cannot read {}", path.display()))?
            .len();
        if len > konvent_core::konvent::map::MAX_FILE_BYTES as u64 {
            bail!(
                "{} is larger than the limit of {} bytes",
                path.display(),
                konvent_core::konvent::map::MAX_FILE_BYTES
            );
        }
        std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))
    };
    let name = |path: &Path| {
        path.file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    let bytes = read(file)?;
    let mut sets = std::collections::HashMap::new();
    for path in tilesets {
        sets.insert(name(path), read(path)?);
    }
    let store = open_store(settings).await?;
    let event = store
        .event(event)
        .await
        .with_context(|| format!("there is no event {event:?}"))?;
    let rooms: Vec<konvent_core::konvent::map::RoomRef> = store
        .rooms(event.id)
        .await?
        .into_iter()
        .map(|r| konvent_core::konvent::map::RoomRef {
            slug: r.slug,
            name: r.name,
            kind: r.kind,
        })
        .collect();
    let map = match konvent_core::konvent::map::import_tiled(&name(file), &bytes, &sets, &rooms) {
        Ok(map) => map,
        Err(problems) => {
            for p in &problems {
                eprintln!("- {p}");
            }
            bail!(
                "{} refused: {} problems; the event keeps its map",
                file.display(),
                problems.len()
            );
        }
    };
    let json = serde_json::to_string(&map)?;
    store
        .set_venue_map(event.id, None, Some((&map.source, &json)))
        .await?;
    println!(
        "{}: {} × {} tiles, {} areas",
        map.source,
        map.width,
        map.height,
        map.areas.len()
    );
    Ok(())
}

async fn sign_in_link(
    store: &Store,
    settings: &Settings,
    base: &str,
    email: &str,
) -> anyhow::Result<String> {
    let hours = i64::from(settings.sign_in_link_hours);
    let token = store
        .create_login_token(
            TokenPurpose::SignIn,
            email,
            None,
            None,
            SignedDuration::from_hours(hours),
        )
        .await?;
    Ok(format!("{base}/anmelden/link/{}", token.token))
}

/// The file in the data folder where `serve` records the address its links name, so
/// that `admin sign-in-link` and `admin invite` print links to the running server.
const ADDRESS_FILE: &str = "server-address";

/// Records the address the server's links name in its data folder. A failure only
/// costs the command line its guess, so it is logged, not fatal.
fn record_address(settings: &Settings) {
    let path = settings.data_dir.join(ADDRESS_FILE);
    let written = std::fs::create_dir_all(&settings.data_dir)
        .and_then(|()| std::fs::write(&path, format!("{}\n", settings.public_base())));
    if let Err(e) = written {
        tracing::warn!(path = %path.display(), error = %e, "cannot record the server's address");
    }
}

/// The base of links the command line prints, and a line saying where it comes from:
/// `public_url` if set, else the address the data folder's server last ran on, else
/// the configured or default bind address.
fn link_base(settings: &Settings) -> (String, String) {
    if !settings.public_url.is_empty() {
        return (settings.public_base(), "Adresse aus public_url.".to_owned());
    }
    let path = settings.data_dir.join(ADDRESS_FILE);
    if let Ok(text) = std::fs::read_to_string(&path) {
        let recorded = text.trim().trim_end_matches('/');
        if recorded.starts_with("http://") || recorded.starts_with("https://") {
            return (
                recorded.to_owned(),
                format!(
                    "Adresse, an der der Server dieses Datenordners zuletzt lief ({}); \
                     läuft er woanders, setzen Sie public_url.",
                    path.display()
                ),
            );
        }
    }
    if settings.bind != Settings::default().bind {
        return (
            settings.public_base(),
            "Adresse aus der Einstellung bind; der Server dieses Datenordners lief noch nie \
             (setzen Sie public_url, wenn er unter einer anderen Adresse erreichbar ist)."
                .to_owned(),
        );
    }
    (
        settings.public_base(),
        "Standardadresse: der Server dieses Datenordners lief noch nie; setzen Sie public_url \
         in konvent.toml (oder KONVENT_PUBLIC_URL), wenn er unter einer anderen Adresse läuft."
            .to_owned(),
    )
}

async fn serve(settings: Settings, with_demo: bool) -> anyhow::Result<()> {
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

async fn import_directory(settings: &Settings, file: &Path) -> anyhow::Result<()> {
    let bytes = std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
    if bytes.len() > transfer::MAX_FILE_BYTES {
        bail!("{} is larger than 5 MB", file.display());
    }
    let name = file.to_string_lossy();
    let kind = FileKind::detect(&name, &bytes).context("the file is neither CSV nor XLSX")?;
    let rows = match transfer::parse(kind, &bytes) {
        Ok(rows) => rows,
        Err(report) => bail!("Import abgelehnt, nichts wurde übernommen:\n{report}"),
    };
    let store = open_store(settings).await?;
    let bar = ProgressBar::new(rows.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} Zeilen ({eta})")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let result = store
        .import_directory(&Actor::system("Import (Kommandozeile)"), &rows, |n| {
            bar.set_position(n as u64)
        })
        .await;
    bar.finish_and_clear();
    match result {
        Ok(s) => {
            println!(
                "Import abgeschlossen: {} Konferenzen angelegt, {} geändert; {} Personen angelegt; \
                 {} Besetzungen angelegt, {} geändert; {} Zeilen ohne Änderung.",
                s.conferences_created,
                s.conferences_updated,
                s.persons_created,
                s.assignments_created,
                s.assignments_updated,
                s.rows_unchanged
            );
            Ok(())
        }
        Err(konvent_store::StoreError::Import(report)) => {
            bail!("Import abgelehnt, nichts wurde übernommen:\n{report}")
        }
        Err(e) => Err(e.into()),
    }
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
