//! Group commit for chat lines: lines that arrive while a transaction is running wait
//! for the next one and share it, so a busy room costs one commit per batch rather than
//! one per line. Each line is still committed before it is published and acknowledged.

use std::sync::{Arc, OnceLock};

use konvent_store::{ChatLine, Store, StoreError, Written};
use tokio::sync::{mpsc, oneshot};

use super::hub::{Broadcast, Bus};

/// Lines per transaction at most.
const MAX_BATCH: usize = 256;
/// Lines waiting for a transaction at most; beyond that senders wait their turn.
const QUEUE: usize = 4096;

type Reply = oneshot::Sender<Result<Written, StoreError>>;

pub struct ChatCommitter {
    store: Store,
    bus: Arc<dyn Bus>,
    queue: OnceLock<mpsc::Sender<(ChatLine, Reply)>>,
}

impl ChatCommitter {
    pub fn new(store: Store, bus: Arc<dyn Bus>) -> Self {
        Self {
            store,
            bus,
            queue: OnceLock::new(),
        }
    }

    /// Commits `line` (together with whatever else is waiting), publishes it and returns
    /// its entry.
    pub async fn post(&self, line: ChatLine) -> Result<Written, StoreError> {
        let queue = self.queue.get_or_init(|| {
            let (tx, rx) = mpsc::channel(QUEUE);
            tokio::spawn(run(self.store.clone(), self.bus.clone(), rx));
            tx
        });
        let (reply, answer) = oneshot::channel();
        queue
            .send((line, reply))
            .await
            .map_err(|_| StoreError::Conflict("Der Server fährt herunter.".into()))?;
        answer
            .await
            .map_err(|_| StoreError::Conflict("Der Server fährt herunter.".into()))?
    }
}

async fn run(store: Store, bus: Arc<dyn Bus>, mut queue: mpsc::Receiver<(ChatLine, Reply)>) {
    let mut lines = Vec::with_capacity(MAX_BATCH);
    let mut replies = Vec::with_capacity(MAX_BATCH);
    while let Some((line, reply)) = queue.recv().await {
        lines.push(line);
        replies.push(reply);
        while lines.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok((line, reply)) => {
                    lines.push(line);
                    replies.push(reply);
                }
                Err(_) => break,
            }
        }
        let results = store.post_chats(&lines).await;
        // In sequence order, as the store numbered them.
        for written in results.iter().flatten() {
            if written.fresh {
                bus.publish(Broadcast::from_record(&written.record));
            }
        }
        for (reply, result) in replies.drain(..).zip(results) {
            // The sender may have gone; its line is committed and published anyway.
            let _ = reply.send(result);
        }
        lines.clear();
    }
}
