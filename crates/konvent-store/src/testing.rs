//! Fresh stores for tests (feature `testing`): SQLite in a folder of its own always, and
//! PostgreSQL in a database of its own when `KONVENT_TEST_DATABASE_URL` names a server
//! (CI sets it). The guard removes the folder or drops the database when it goes out of
//! scope, also when the test panics, so no run leaves a database behind.

use std::path::PathBuf;

use sqlx::Connection;

use crate::{Store, new_token};

/// The variable naming a PostgreSQL server for tests, as an URL with a database name to
/// connect to for creating and dropping the test databases.
pub const DATABASE_URL_VAR: &str = "KONVENT_TEST_DATABASE_URL";

/// A store of one test, removed with everything in it when dropped.
pub struct TestStore {
    /// `sqlite` or `postgres`, for assertion messages.
    pub backend: &'static str,
    pub store: Store,
    /// Where a second connection (another node, a CLI run) finds the same database.
    pub url: String,
    place: Place,
}

enum Place {
    Dir(PathBuf),
    Database { admin_url: String, name: String },
}

impl TestStore {
    /// An empty SQLite store in a fresh folder under the system's temporary folder.
    pub async fn sqlite() -> Self {
        let dir = std::env::temp_dir().join(format!("konvent-test-{}", new_token()));
        let store = Store::open_data_dir(&dir)
            .await
            .expect("SQLite store opens");
        Self {
            backend: "sqlite",
            store,
            url: format!("sqlite://{}", dir.join("konvent.db").display()),
            place: Place::Dir(dir),
        }
    }

    /// An empty PostgreSQL store in a fresh database, or `None` with a visible note when
    /// no server is configured.
    pub async fn postgres() -> Option<Self> {
        let admin_url = match std::env::var(DATABASE_URL_VAR) {
            Ok(url) if !url.is_empty() => url,
            _ => {
                eprintln!("NOTE: PostgreSQL skipped: {DATABASE_URL_VAR} is not set (CI sets it).");
                return None;
            }
        };
        let name = format!("konvent_test_{}", &new_token()[..16]);
        let mut admin = admin_connection(&admin_url)
            .await
            .expect("PostgreSQL reachable");
        sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .expect("create the test database");
        let (server, _) = admin_url
            .rsplit_once('/')
            .expect("the URL names a database");
        let url = format!("{server}/{name}");
        let store = Store::connect(&url).await.expect("PostgreSQL store opens");
        Some(Self {
            backend: "postgres",
            store,
            url,
            place: Place::Database { admin_url, name },
        })
    }

    /// SQLite always, and PostgreSQL when configured: what a conformance test walks.
    pub async fn every_backend() -> Vec<Self> {
        let mut stores = vec![Self::sqlite().await];
        stores.extend(Self::postgres().await);
        stores
    }
}

impl Drop for TestStore {
    fn drop(&mut self) {
        match &self.place {
            Place::Dir(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Place::Database { admin_url, name } => {
                // Drop may run inside the test's runtime, which cannot block on itself: a
                // thread of its own drops the database. FORCE ends the connections the
                // store's pool still holds.
                let (url, database) = (admin_url.clone(), name.clone());
                let dropped = std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()?;
                    runtime.block_on(async {
                        let mut admin = admin_connection(&url).await?;
                        sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"))
                            .execute(&mut admin)
                            .await?;
                        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
                    })
                })
                .join();
                if !matches!(dropped, Ok(Ok(()))) {
                    eprintln!("could not drop the test database {name}: {dropped:?}");
                }
            }
        }
    }
}

async fn admin_connection(url: &str) -> Result<sqlx::AnyConnection, sqlx::Error> {
    sqlx::any::install_default_drivers();
    sqlx::AnyConnection::connect(url).await
}
