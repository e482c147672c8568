//! Lists that many read and few change, kept in memory by each node and read again only
//! when the lists' change counter has moved.
//!
//! The counter is a row of `change_counters` that triggers bump on every write to the
//! tables these lists read (migration 0034), whoever writes: this node, another node, a
//! command-line tool. A request reads the counter (one small statement) before anything
//! else; a copy made at that counter serves it, so a kept list is never older than the
//! last change the reader could have seen. A copy is read after its counter, so it may
//! be newer than its counter says; the next change moves the counter past it anyway.
//! One counter serves every list, so that a write locks one counter row at most, and in
//! PostgreSQL only at its commit (migration 0034), so writers cannot deadlock on it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::cooperation::DutyListing;
use crate::{MyResults, Result, Store};

/// The copies of a list kept at most, for lists by filter (a client controls a few
/// filters): beyond that, all are forgotten and the next requests read again.
const MAX_KEPT: usize = 64;

/// The copies kept at most of a list by person (one per person who opened it).
const MAX_KEPT_PEOPLE: usize = 5_000;

/// The kept lists of one node (shared by every clone of its [`Store`]).
pub(crate) struct Lists {
    pub(crate) duties: Kept<DutyListing>,
    /// By account.
    pub(crate) mine: Kept<MyResults>,
}

impl Default for Lists {
    fn default() -> Self {
        Self {
            duties: Kept::new(MAX_KEPT),
            mine: Kept::new(MAX_KEPT_PEOPLE),
        }
    }
}

impl std::fmt::Debug for Lists {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lists").finish_non_exhaustive()
    }
}

/// Copies of one kind of list by key, each with the counter it was read at.
pub(crate) struct Kept<V> {
    copies: Mutex<HashMap<String, (i64, Arc<V>)>>,
    /// How many copies at most.
    limit: usize,
}

impl<V> Kept<V> {
    fn new(limit: usize) -> Self {
        Self {
            copies: Mutex::default(),
            limit,
        }
    }

    /// The copy of `key` if it was read at `generation`.
    pub(crate) fn get(&self, key: &str, generation: i64) -> Option<Arc<V>> {
        let copies = self.copies.lock().unwrap_or_else(|e| e.into_inner());
        copies
            .get(key)
            .filter(|(at, _)| *at == generation)
            .map(|(_, value)| value.clone())
    }

    /// Keeps `value`, read after the counter showed `generation`.
    pub(crate) fn keep(&self, key: String, generation: i64, value: V) -> Arc<V> {
        let value = Arc::new(value);
        let mut copies = self.copies.lock().unwrap_or_else(|e| e.into_inner());
        if copies.len() >= self.limit && !copies.contains_key(&key) {
            copies.clear();
        }
        copies.insert(key, (generation, value.clone()));
        value
    }
}

impl Store {
    /// Where the lists' change counter stands now.
    pub(crate) async fn lists_generation(&self) -> Result<i64> {
        let (generation,): (i64,) =
            sqlx::query_as("SELECT generation FROM change_counters WHERE kind = 'lists'")
                .fetch_one(&self.pool)
                .await?;
        Ok(generation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_copy_serves_only_its_own_generation_and_the_kept_stay_bounded() {
        let kept = Kept::<u32>::new(MAX_KEPT);
        kept.keep("a".into(), 3, 7);
        assert_eq!(kept.get("a", 3).as_deref(), Some(&7));
        assert_eq!(kept.get("a", 4), None, "a moved counter");
        assert_eq!(kept.get("b", 3), None);
        for i in 0..MAX_KEPT {
            kept.keep(format!("k{i}"), 3, 1);
        }
        let kept_now = kept.copies.lock().expect("lock").len();
        assert!(kept_now <= MAX_KEPT, "{kept_now} copies");
        assert_eq!(kept.get("a", 3), None, "forgotten when full");
    }
}
