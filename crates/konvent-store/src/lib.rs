//! konvent's database. One [`Store`] over SQLite (embedded, the default) or PostgreSQL,
//! picked once from the URL at start-up. SQL is written once with `$n` parameters, which
//! both backends understand; only the migrations differ per backend.
//!
//! Every method that changes governance data writes its effect, its audit-log entry and
//! its event-log entry in one transaction: either all of it is stored or nothing.

mod accounts;
mod attendance;
mod audit;
mod cooperation;
mod council;
mod deletion;
pub mod demo;
mod directory;
mod documents;
mod error;
mod events;
mod follow_up_groups;
mod group_commit;
mod inbox;
mod invitations;
mod kept;
mod live;
mod mail;
mod map;
mod meetings;
mod memo;
mod minutes;
mod moderation;
mod networking;
mod notifications;
mod oidc;
pub mod password;
mod personal_data;
mod podium;
mod pseudonyms;
mod registrations;
mod retention;
mod search;
#[cfg(feature = "testing")]
pub mod statements;
mod strategy;
#[cfg(feature = "testing")]
pub mod testing;
mod votes;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, ConnectOptions, Executor};

pub use accounts::{Account, InvitationInfo, LoginToken, SIGN_IN_WINDOW, TokenPurpose, new_token};
pub use attendance::{Attendee, Presence};
pub use audit::{Actor, AuditEntry};
pub use cooperation::{
    Concern, Duty, DutyListQuery, DutyListing, DutyPage, DutyResolution, DutyStatus, Workshop,
    WorkshopQuestion,
};
pub use council::{
    AgendaItem, FollowUp, Relevance, Report, Resolution, Session, Visibility, is_upcoming,
};
pub use deletion::{Deleted, DeletionRequest, pseudonym};
pub use directory::{
    Assignment, AssignmentChange, ConferenceDetail, ConferenceSummary, ImportSummary, Person,
    PersonDetail, today,
};
pub use documents::{Document, DocumentVersion, NewFile, Owner, OwnerInfo};
pub use error::StoreError;
pub use events::LoggedEvent;
pub use follow_up_groups::{
    FollowUpGroup, GroupMeeting, GroupPlace, GroupRecipient, GroupRoom, RoomChoice,
};
pub use inbox::{INBOX_LIMIT, InboxNotice};
pub use invitations::{BulkClaim, BulkInvite, BulkJob};
pub use live::{
    Audience, ChatLine, Event, EventRole, FeedbackResults, LiveRecord, NewEvent, NewRoom, Question,
    Room, Timer, Who, Written,
};
pub use mail::{CalendarPart, ClaimedMail, MailStatus, NewLink, NewMail, OutboxMail, retry_delay};
pub use map::StoredMap;
pub use meetings::{InvitationMail, InviteCompose, Invitee, MeetingInvitation, MeetingKind};
pub use memo::{FRESH as MEMO_FRESH, Forget, Membership};
pub use minutes::{
    MAX_MINUTES_TEXT, Minutes, MinutesAttendee, MinutesContent, MinutesItem, MinutesReport,
    MinutesResolution, MinutesState,
};
pub use moderation::{
    ModeratedItem, ModerationAction, Mute, REASON_MAX, ReportedItem, Restrictions, tombstone,
};
pub use networking::{ContactOverview, ContactRequest, Peer, PointPeers, Profile, RequestOutcome};
pub use notifications::{DueReminder, Notice, NoticeTopic, Recipient, Render};
pub use oidc::{OidcFlow, OidcPerson, OidcRefusal, OidcSession, oidc_random};
pub use personal_data::{DataSection, section_names as personal_data_sections};
pub use pseudonyms::{PSEUDONYM_MAX, Pseudonym, checked_pseudonym};
pub use registrations::{
    Compose, NewRegistration, Placement, Registration, RegistrationMode, RegistrationSettings,
    RegistrationStatus,
};
pub use retention::{RetentionPeriods, RetentionRun};
pub use search::{KINDS as SEARCH_KINDS, SearchHit, SearchQuery};
pub use strategy::{
    CafeTable, ConnectionPoint, Impulse, MyResults, NewImpulse, NewTable, NewTopic, Pin, Round,
    SavedGroup, TargetPicture, Topic,
};
pub use votes::{
    AgendaResult, CastBallot, Closed, MAX_BALLOT_CHANGES, MAX_STOP_REASON, SeatHolder, StopRequest,
    Vote,
};

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The write-ahead log's size, in frames (one page of 4 KiB each), from which the
/// periodic checkpoint truncates it (see [`Store::checkpoint`]).
pub const WAL_TRUNCATE_FRAMES: i64 = 2048;

static SQLITE_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");
static POSTGRES_MIGRATIONS: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The database, cheap to clone (a connection pool).
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    /// What the pages ask on every request, kept in memory (see `memo`).
    memo: std::sync::Arc<memo::Memo>,
    /// Lists kept by their tables' change counter (see `kept`).
    kept: std::sync::Arc<kept::Lists>,
}

impl Store {
    /// Opens (creating if needed) the embedded database `konvent.db` in `data_dir`.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn open_data_dir(data_dir: &Path) -> Result<Self> {
        std::fs::create_dir_all(data_dir).map_err(StoreError::DataDir)?;
        let path = data_dir.join("konvent.db");
        Self::connect(&format!("sqlite://{}?mode=rwc", path.display())).await
    }

    /// Connects to `sqlite://…` or `postgres://…` and runs the migrations.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn connect(url: &str) -> Result<Self> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else {
            return Err(StoreError::UnsupportedUrl);
        };
        let options = AnyConnectOptions::from_str(url)?
            .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_secs(1));
        let pool_options = AnyPoolOptions::new().acquire_timeout(Duration::from_secs(10));
        let pool = match backend {
            Backend::Postgres => {
                pool_options
                    .max_connections(16)
                    .connect_with(options)
                    .await?
            }
            Backend::Sqlite => {
                // One writer at a time anyway; four readers keep two cores busy. All
                // four open at start (each a thread with the parsed schema), so the first
                // requests do not wait for them and the memory is taken up front.
                pool_options
                    .min_connections(4)
                    .max_connections(4)
                    .after_connect(|conn, _meta| {
                        Box::pin(async move {
                            // WAL lets readers go on while one writer commits; NORMAL
                            // synchronous is durable against process crashes and, in WAL
                            // mode, loses at most the last commits on power loss, which
                            // is the usual trade-off for a server's embedded database.
                            // busy_timeout makes concurrent writers wait instead of fail.
                            // Checkpoints do not run inside commits (where a slow
                            // fsync would hold up every live message queued behind
                            // that commit) but from `checkpoint`, called periodically.
                            // A page cache of 256 KiB per connection (instead of 2 MiB)
                            // keeps the server small: each of the four connections holds
                            // its own copy of the pages it read, while the operating
                            // system caches the file once for all of them.
                            // journal_size_limit: a write-ahead log that grew (a burst of
                            // writes while readers kept it from being reset) is cut back
                            // to this size when it starts over, instead of keeping its
                            // largest size on disk for good; see `checkpoint`.
                            conn.execute(
                                "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                                 PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 10000; \
                                 PRAGMA wal_autocheckpoint = 0; PRAGMA cache_size = -256; \
                                 PRAGMA journal_size_limit = 8388608;",
                            )
                            .await?;
                            Ok(())
                        })
                    })
                    .connect_with(options)
                    .await?
            }
        };
        let migrator = match backend {
            Backend::Sqlite => &SQLITE_MIGRATIONS,
            Backend::Postgres => &POSTGRES_MIGRATIONS,
        };
        migrator.run(&pool).await?;
        Ok(Self {
            pool,
            backend,
            memo: Default::default(),
            kept: Default::default(),
        })
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Answers once the database answers.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// True when nothing has been stored yet (no conference, no account): `--demo` fills
    /// only such a database.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn is_empty(&self) -> Result<bool> {
        let (n,): (i64,) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM conferences) + (SELECT COUNT(*) FROM accounts)",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok(n == 0)
    }

    /// Starts a transaction that will write. SQLite takes the write lock at once
    /// (`BEGIN IMMEDIATE`): a deferred transaction that reads first and writes later can
    /// fail with "database is locked" when another writer got in between, and the busy
    /// timeout cannot help it. PostgreSQL locks rows as it goes.
    pub(crate) async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>> {
        Ok(match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await?,
            Backend::Postgres => self.pool.begin().await?,
        })
    }

    /// Copies what the SQLite write-ahead log holds into the database file, as far as
    /// readers allow (PASSIVE: it never blocks writers). The server calls it every two
    /// seconds; a no-op on PostgreSQL.
    ///
    /// When the log has grown past [`WAL_TRUNCATE_FRAMES`] (8 MiB of 4 KiB pages), a
    /// TRUNCATE checkpoint follows: it waits for the writer and for readers of older
    /// snapshots (within the busy timeout), copies the rest and cuts the file to zero
    /// bytes. Its pause is short because the passive pass has already copied nearly
    /// everything, and it comes only after a burst: in steady operation the log starts
    /// over after each passive checkpoint, and `journal_size_limit` (also 8 MiB) keeps
    /// its file at that size. Without the truncation a burst under constant reading left
    /// a log of 1.5 GB on disk that never shrank.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn checkpoint(&self) -> Result<()> {
        if self.backend == Backend::Sqlite {
            // (busy, frames in the log, frames copied)
            let (_, frames, _): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
                .fetch_one(&self.pool)
                .await?;
            if frames >= WAL_TRUNCATE_FRAMES {
                let (busy, _, _): (i64, i64, i64) =
                    sqlx::query_as("PRAGMA wal_checkpoint(TRUNCATE)")
                        .fetch_one(&self.pool)
                        .await?;
                if busy != 0 {
                    // Readers held on past the busy timeout: the next tick tries again.
                    tracing::debug!(frames, "WAL truncation postponed: database busy");
                }
            }
        }
        Ok(())
    }

    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// Now, as stored: Unix microseconds.
/// The `VALUES` part of a multi-row insert: `rows` groups of `cols` numbered
/// placeholders, `($1, …, $cols), ($cols+1, …)`.
pub(crate) fn row_placeholders(rows: usize, cols: usize) -> String {
    (0..rows)
        .map(|r| {
            let cells: Vec<String> = (1..=cols).map(|c| format!("${}", r * cols + c)).collect();
            format!("({})", cells.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn now_micros() -> i64 {
    jiff::Timestamp::now().as_microsecond()
}

/// Converts a stored timestamp back.
pub fn timestamp(micros: i64) -> jiff::Timestamp {
    jiff::Timestamp::from_microsecond(micros).unwrap_or(jiff::Timestamp::UNIX_EPOCH)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_checkpoint_truncates_a_write_ahead_log_that_grew() {
        let dir = std::env::temp_dir().join(format!("konvent-wal-{}", new_token()));
        let store = Store::open_data_dir(&dir).await.expect("store");
        let wal = dir.join("konvent.db-wal");
        sqlx::query("CREATE TABLE ballast (b BLOB)")
            .execute(&store.pool)
            .await
            .expect("table");
        // 12 MiB in 12 commits: past the truncation threshold of 8 MiB.
        for _ in 0..12 {
            sqlx::query("INSERT INTO ballast (b) VALUES (randomblob(1048576))")
                .execute(&store.pool)
                .await
                .expect("insert");
        }
        let grown = std::fs::metadata(&wal).expect("WAL file").len();
        assert!(grown > 10 * 1024 * 1024, "the log grew: {grown} bytes");
        store.checkpoint().await.expect("checkpoint");
        let after = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        assert_eq!(after, 0, "the log is truncated after the checkpoint");
        // A small log stays as it is (a passive checkpoint, no pause for writers) and
        // never grows past journal_size_limit once it starts over.
        sqlx::query("DELETE FROM ballast")
            .execute(&store.pool)
            .await
            .expect("delete");
        store.checkpoint().await.expect("checkpoint");
        sqlx::query("INSERT INTO ballast (b) VALUES (x'00')")
            .execute(&store.pool)
            .await
            .expect("insert");
        let small = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        assert!(small <= 8 * 1024 * 1024, "bounded: {small} bytes");
        store.close().await;
        let _ = std::fs::remove_dir_all(dir);
    }
}
