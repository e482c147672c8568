//! The command line: `serve`, `default-config`, `admin invite`, `admin sign-in-link`
//! and `import directory`.
//!
//! This file holds the commands, the settings they read and the dispatch; the server
//! runs in [`serve()`], the imports are in [`import`], and the links the admin commands
//! print in [`links`].

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use jiff::SignedDuration;
use konvent_core::authz::{Grant, Role, Scope};
use konvent_store::{Store, TokenPurpose};
use konvent_web::Settings;

mod import;
mod links;
mod serve;

use import::{import_directory, import_map};
use links::{link_base, sign_in_link};
use serve::serve;

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
                            if !konvent_core::convention::valid_slug(&slug) {
                                bail!("room {slug:?}: use lowercase letters, digits and dashes");
                            }
                            store
                                .create_room(
                                    event.id,
                                    &konvent_store::NewRoom {
                                        name: format!("Lasttest ({slug})"),
                                        slug,
                                        kind: konvent_core::convention::RoomKind::Other,
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
