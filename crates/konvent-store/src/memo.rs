//! What every page asks before it shows anything, kept in memory instead of read on
//! every request: who is behind a session cookie (the account and its grants) and a
//! person's part in an event (role, removal, the name they carry there).
//!
//! The store is the one writer of those rows, so each method that changes them forgets
//! the copies it touches after its commit ([`Memo::account_changed`],
//! [`Memo::event_changed`]). Several nodes share one database: each such change is also
//! offered on [`Store::memo_changes`], which the web passes to the other nodes through
//! the bus, and they forget their copies with [`Store::forget_remembered`]. The bus may
//! lose a notice, and a command-line tool writes without telling anybody, so no copy is
//! trusted for longer than [`FRESH`]; a session is never trusted past its end.

use konvent_core::ids::{AccountId, EventId};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use konvent_core::authz::Principal;
use tokio::sync::broadcast;

use crate::{EventRole, Result, Store, StoreError, now_micros};

/// How long a node trusts a copy when it heard of no change.
pub const FRESH: Duration = Duration::from_secs(5);

/// Copies kept of each kind at most: beyond that, stale ones go first, then all (the
/// next requests read again). Only what a valid session or a registered person reads is
/// kept, so a client cannot fill it with made-up cookies.
const MAX_KEPT: usize = 50_000;

/// A change the other nodes must hear of to forget their copies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Forget {
    /// An account's sessions, grants, name, or part in any event changed.
    Account(AccountId),
    /// Every person's part in an event may have changed (a bulk change, or the event
    /// started or stopped allowing pseudonyms).
    Event(EventId),
}

/// A person's part in an event, as every page of the event needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Membership {
    /// Registered as participant or helper; `None`: not registered.
    pub role: Option<EventRole>,
    /// Removed by the organizers (K17) and not let back in.
    pub removed: bool,
    /// Their pseudonym while the event allows pseudonyms, else their display name.
    pub name: String,
}

struct Kept<T> {
    until: Instant,
    value: T,
}

/// Copies by key, each with the time until which it is trusted.
type Copies<K, T> = RwLock<HashMap<K, Kept<T>>>;

/// The copies of one node (shared by every clone of its [`Store`]).
pub(crate) struct Memo {
    /// By the hash of the session token: the account, its principal, and the session's end.
    sessions: Copies<String, Arc<Principal>>,
    /// By (event, account).
    members: Copies<(EventId, AccountId), Arc<Membership>>,
    /// Counts what was forgotten: a read that saw it move while it asked the database
    /// keeps nothing, since its answer may be from before the change.
    forgotten: AtomicU64,
    changes: broadcast::Sender<Forget>,
}

impl Default for Memo {
    fn default() -> Self {
        Self {
            sessions: RwLock::default(),
            members: RwLock::default(),
            forgotten: AtomicU64::new(0),
            changes: broadcast::channel(1024).0,
        }
    }
}

impl std::fmt::Debug for Memo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Memo").finish_non_exhaustive()
    }
}

fn fresh<K: std::hash::Hash + Eq, T: Clone>(map: &Copies<K, T>, key: &K) -> Option<T> {
    map.read()
        .unwrap_or_else(|e| e.into_inner())
        .get(key)
        .filter(|kept| kept.until > Instant::now())
        .map(|kept| kept.value.clone())
}

/// Keeps `kept` unless something was forgotten since `asked` (a generation of
/// [`Memo::generation`]) was taken before the read.
fn keep<K: std::hash::Hash + Eq, T>(
    memo: &Memo,
    map: &Copies<K, T>,
    asked: u64,
    key: K,
    kept: Kept<T>,
) {
    let mut map = map.write().unwrap_or_else(|e| e.into_inner());
    // Checked under the write lock: a forget takes the same lock after counting, so it
    // either sees this copy and removes it, or this check sees its count.
    if memo.generation() != asked {
        return;
    }
    if map.len() >= MAX_KEPT {
        let now = Instant::now();
        map.retain(|_, k| k.until > now);
        if map.len() >= MAX_KEPT {
            map.clear();
        }
    }
    map.insert(key, kept);
}

impl Memo {
    /// The account's sessions, grants, name or part in events changed (committed).
    pub(crate) fn account_changed(&self, account: AccountId) {
        self.forget(Forget::Account(account));
        // Nobody listening (one node, or tests): nothing to pass on.
        let _ = self.changes.send(Forget::Account(account));
    }

    /// Every person's part in the event may have changed (committed).
    pub(crate) fn event_changed(&self, event: EventId) {
        self.forget(Forget::Event(event));
        let _ = self.changes.send(Forget::Event(event));
    }

    /// Every session's copy: one session ended, and only its hash is known.
    pub(crate) fn session_ended(&self, token_hash: &str) {
        self.forgotten.fetch_add(1, Ordering::SeqCst);
        self.sessions
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .remove(token_hash);
    }

    /// Where the count of forgotten copies stands (see [`keep`]).
    fn generation(&self) -> u64 {
        self.forgotten.load(Ordering::SeqCst)
    }

    fn forget(&self, what: Forget) {
        self.forgotten.fetch_add(1, Ordering::SeqCst);
        match what {
            Forget::Account(account) => {
                self.sessions
                    .write()
                    .unwrap_or_else(|e| e.into_inner())
                    .retain(|_, kept| kept.value.user_id != account);
                self.members
                    .write()
                    .unwrap_or_else(|e| e.into_inner())
                    .retain(|(_, a), _| *a != account);
            }
            Forget::Event(event) => {
                self.members
                    .write()
                    .unwrap_or_else(|e| e.into_inner())
                    .retain(|(e, _), _| *e != event);
            }
        }
    }

    fn forget_everything(&self) {
        self.forgotten.fetch_add(1, Ordering::SeqCst);
        self.sessions
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
        self.members
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

impl Store {
    /// The signed-in account behind a session cookie, if the session is valid and the
    /// account is not disabled: from this node's copy while it is fresh.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn signed_in(&self, token: &str) -> Result<Option<Principal>> {
        let hash = crate::accounts::token_hash(token);
        if let Some(principal) = fresh(&self.memo.sessions, &hash) {
            return Ok(Some(Principal::clone(&principal)));
        }
        let asked = self.memo.generation();
        let now = now_micros();
        let row: Option<(i64, i64)> = sqlx::query_as(
            "SELECT s.account_id, s.expires_at FROM sessions s \
             JOIN accounts a ON a.id = s.account_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2 AND a.disabled_at IS NULL",
        )
        .bind(&hash)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        let Some((account, expires_at)) = row else {
            return Ok(None);
        };
        let Some(principal) = self.principal(AccountId::new(account)).await? else {
            return Ok(None);
        };
        let left = Duration::from_micros(expires_at.saturating_sub(now).max(0) as u64);
        keep(
            &self.memo,
            &self.memo.sessions,
            asked,
            hash,
            Kept {
                until: Instant::now() + left.min(FRESH),
                value: Arc::new(principal.clone()),
            },
        );
        Ok(Some(principal))
    }

    /// The account's part in the event, in one statement: from this node's copy while
    /// it is fresh. [`StoreError::NotFound`] for an unknown account.
    #[tracing::instrument(level = "debug", skip_all, fields(event_id = %event_id, account_id = %account_id))]
    pub async fn membership(
        &self,
        event_id: EventId,
        account_id: AccountId,
    ) -> Result<Arc<Membership>> {
        if let Some(kept) = fresh(&self.memo.members, &(event_id, account_id)) {
            return Ok(kept);
        }
        let asked = self.memo.generation();
        let row: Option<(Option<String>, i64, String)> = sqlx::query_as(&format!(
            "SELECT (SELECT p.role FROM event_people p \
                     WHERE p.event_id = $1 AND p.account_id = a.id), \
                    (SELECT COUNT(*) FROM event_removals r \
                     WHERE r.event_id = $1 AND r.account_id = a.id), \
                    {} \
             FROM accounts a WHERE a.id = $2",
            crate::pseudonyms::name_in_event("$1", "a.id")
        ))
        .bind(event_id.get())
        .bind(account_id.get())
        .fetch_optional(&self.pool)
        .await?;
        let (role, removed, name) = row.ok_or(StoreError::NotFound)?;
        let membership = Arc::new(Membership {
            role: role.as_deref().map(crate::live::event_role),
            removed: removed > 0,
            name,
        });
        keep(
            &self.memo,
            &self.memo.members,
            asked,
            (event_id, account_id),
            Kept {
                until: Instant::now() + FRESH,
                value: membership.clone(),
            },
        );
        Ok(membership)
    }

    /// What this node changed that the other nodes must forget (see the module).
    pub fn memo_changes(&self) -> broadcast::Receiver<Forget> {
        self.memo.changes.subscribe()
    }

    /// Another node changed `what`: forget this node's copies of it (`None`: this node
    /// missed notices, so forget everything).
    pub fn forget_remembered(&self, what: Option<Forget>) {
        match what {
            Some(what) => self.memo.forget(what),
            None => self.memo.forget_everything(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn copy(name: &str) -> Kept<Arc<Membership>> {
        Kept {
            until: Instant::now() + FRESH,
            value: Arc::new(Membership {
                role: Some(EventRole::Participant),
                removed: false,
                name: name.to_owned(),
            }),
        }
    }

    #[test]
    fn a_read_that_a_change_overtook_keeps_nothing() {
        let memo = Memo::default();
        // Read before the change committed, kept after it was forgotten: not kept.
        let asked = memo.generation();
        memo.account_changed(AccountId::new(7));
        keep(
            &memo,
            &memo.members,
            asked,
            (EventId::new(1), AccountId::new(7)),
            copy("vorher"),
        );
        assert!(fresh(&memo.members, &(EventId::new(1), AccountId::new(7))).is_none());
        // A read that nothing overtook is kept, until its account changes.
        let asked = memo.generation();
        keep(
            &memo,
            &memo.members,
            asked,
            (EventId::new(1), AccountId::new(7)),
            copy("nachher"),
        );
        assert_eq!(
            fresh(&memo.members, &(EventId::new(1), AccountId::new(7))).map(|m| m.name.clone()),
            Some("nachher".to_owned())
        );
        memo.account_changed(AccountId::new(7));
        assert!(fresh(&memo.members, &(EventId::new(1), AccountId::new(7))).is_none());
    }
}
