//! Group commit: chat lines and impulses that arrive while a transaction is running wait
//! for the next one and share it, so a busy room costs one commit per batch rather than
//! one per line. Each is still committed before it is published and acknowledged.

use std::sync::{Arc, OnceLock};

use futures_util::future::BoxFuture;
use konvent_core::convention::live::LiveRefusal;
use konvent_store::{ChatLine, NewImpulse, Store, StoreError, Written};
use tokio::sync::{mpsc, oneshot};

use super::publish::Publisher;

/// Items per transaction at most.
const MAX_BATCH: usize = 256;
/// Items waiting for a transaction at most; beyond that senders wait their turn.
const QUEUE: usize = 4096;

type Reply = oneshot::Sender<Result<Written, StoreError>>;

/// Commits a batch in one transaction, one answer per item in order.
pub type CommitFn<T> =
    for<'a> fn(&'a Store, &'a [T]) -> BoxFuture<'a, Vec<Result<Written, StoreError>>>;

pub fn chats<'a>(
    store: &'a Store,
    lines: &'a [ChatLine],
) -> BoxFuture<'a, Vec<Result<Written, StoreError>>> {
    Box::pin(store.post_chats(lines))
}

pub fn impulses<'a>(
    store: &'a Store,
    items: &'a [NewImpulse],
) -> BoxFuture<'a, Vec<Result<Written, StoreError>>> {
    Box::pin(store.add_impulses(items))
}

pub struct Committer<T> {
    store: Store,
    publisher: Arc<Publisher>,
    commit: CommitFn<T>,
    queue: OnceLock<mpsc::Sender<(T, Reply)>>,
}

impl<T: Send + Sync + 'static> Committer<T> {
    pub fn new(store: Store, publisher: Arc<Publisher>, commit: CommitFn<T>) -> Self {
        Self {
            store,
            publisher,
            commit,
            queue: OnceLock::new(),
        }
    }

    /// Commits `item` (together with whatever else is waiting), publishes it and
    /// returns its entry.
    pub async fn post(&self, item: T) -> Result<Written, StoreError> {
        let queue = self.queue.get_or_init(|| {
            let (tx, rx) = mpsc::channel(QUEUE);
            tokio::spawn(run(
                self.store.clone(),
                self.publisher.clone(),
                self.commit,
                rx,
            ));
            tx
        });
        let (reply, answer) = oneshot::channel();
        let gone = || StoreError::Refused(LiveRefusal::ShuttingDown.into());
        queue.send((item, reply)).await.map_err(|_| gone())?;
        answer.await.map_err(|_| gone())?
    }
}

async fn run<T>(
    store: Store,
    publisher: Arc<Publisher>,
    commit: CommitFn<T>,
    mut queue: mpsc::Receiver<(T, Reply)>,
) {
    let mut items = Vec::with_capacity(MAX_BATCH);
    let mut replies = Vec::with_capacity(MAX_BATCH);
    while let Some((item, reply)) = queue.recv().await {
        items.push(item);
        replies.push(reply);
        while items.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok((item, reply)) => {
                    items.push(item);
                    replies.push(reply);
                }
                Err(_) => break,
            }
        }
        let results = commit(&store, &items).await;
        // In sequence order, as the store numbered them.
        for written in results.iter().flatten() {
            if written.fresh {
                publisher.publish(&written.record);
            }
        }
        for (reply, result) in replies.drain(..).zip(results) {
            // The sender may have gone; its item is committed and published anyway.
            let _ = reply.send(result);
        }
        items.clear();
    }
}
