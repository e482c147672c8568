//! Every person's budget of durable live commands (`live_writes_per_10s`), over all
//! nodes: each node counts what it accepts, and tells the others every presence tick
//! what its people spent since; they count it too. A person with tabs on several nodes
//! therefore gets at most one tick's worth of commands per node beyond the budget.

use konvent_core::ids::{AccountId, EventId};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

use konvent_core::convention::live::RateWindow;

/// Windows of recent commands per (event, account), and what this node's people spent
/// since it last told the others.
pub struct Budgets {
    started: Instant,
    windows: Mutex<HashMap<(EventId, AccountId), RateWindow>>,
    untold: Mutex<HashMap<EventId, HashMap<AccountId, u32>>>,
}

/// Commands of one person another node's news counts at most (the largest budget, the
/// staff's, is far below).
const REMOTE_CAP: usize = 1000;

/// Windows kept before the quiet ones are dropped.
const MAX_WINDOWS: usize = 100_000;

impl Default for Budgets {
    fn default() -> Self {
        Self {
            started: Instant::now(),
            windows: Mutex::new(HashMap::new()),
            untold: Mutex::new(HashMap::new()),
        }
    }
}

impl Budgets {
    fn now(&self) -> i64 {
        i64::try_from(self.started.elapsed().as_millis()).unwrap_or(i64::MAX)
    }

    /// Counts one command of `account` in the event against `limit`; false (and nothing
    /// counted) when the window is full. `limit` 0: no limit.
    pub fn try_spend(&self, event_id: EventId, account: AccountId, limit: usize) -> bool {
        if limit == 0 {
            return true;
        }
        let now = self.now();
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if windows.len() > MAX_WINDOWS {
            // Old windows of people who went quiet are of no use.
            windows.retain(|_, w| w.clone().try_write(now, limit));
        }
        let spent = windows
            .entry((event_id, account))
            .or_default()
            .try_write(now, limit);
        drop(windows);
        if spent {
            *self
                .untold
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .entry(event_id)
                .or_default()
                .entry(account)
                .or_default() += 1;
        }
        spent
    }

    /// What this node's people spent since the last call, per event.
    pub fn take_untold(&self) -> HashMap<EventId, HashMap<AccountId, u32>> {
        std::mem::take(&mut *self.untold.lock().unwrap_or_else(|e| e.into_inner()))
    }

    /// What people spent on another node.
    pub fn spent_elsewhere(&self, event_id: EventId, spent: &HashMap<AccountId, u32>) {
        let now = self.now();
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        for (account, n) in spent {
            windows
                .entry((event_id, *account))
                .or_default()
                .spent_elsewhere(now, *n as usize, REMOTE_CAP);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_another_node_counted_fills_the_same_window() {
        let budgets = Budgets::default();
        assert!(budgets.try_spend(EventId::new(1), AccountId::new(7), 3));
        assert_eq!(
            budgets.take_untold()[&EventId::new(1)][&AccountId::new(7)],
            1
        );
        assert!(budgets.take_untold().is_empty(), "told once");
        budgets.spent_elsewhere(EventId::new(1), &HashMap::from([(AccountId::new(7), 2)]));
        assert!(
            !budgets.try_spend(EventId::new(1), AccountId::new(7), 3),
            "1 here and 2 there fill a budget of 3"
        );
        assert!(
            budgets.try_spend(EventId::new(1), AccountId::new(8), 3),
            "others keep theirs"
        );
    }
}
