//! Property test of the live log's resume on SQLite: whatever was written (chat lines in
//! two rooms, commands re-sent with their client id), reading page by page from any
//! `since` yields exactly the entries after it, in order, each once — what a reconnecting
//! client is replayed.

use konvent_core::ids::EventId;
use std::collections::HashMap;
use std::sync::OnceLock;

use konvent_core::demo;
use konvent_store::Who;
use konvent_store::testing::TestStore;
use proptest::prelude::*;

struct Log {
    runtime: tokio::runtime::Runtime,
    /// A static is never dropped: the folder stays in the temporary folder, as any
    /// process-wide fixture's would.
    database: TestStore,
    event_id: EventId,
    people: [Who; 2],
}

/// One store for all cases: the property holds for the log as it grows.
fn log() -> &'static Log {
    static LOG: OnceLock<Log> = OnceLock::new();
    LOG.get_or_init(|| {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let (database, event_id, people) = runtime.block_on(async {
            let database = TestStore::sqlite().await;
            let store = &database.store;
            konvent_store::demo::load(store, 21).await.expect("demo");
            let event = store.event(demo::KONVENT_SLUG).await.expect("demo event");
            let tokens = store
                .load_test_sessions(event.id, 2)
                .await
                .expect("sessions");
            let mut people = Vec::new();
            for token in &tokens {
                let p = store.signed_in(token).await.expect("query").expect("valid");
                people.push(Who::new(p.user_id, p.display_name));
            }
            let people: [Who; 2] = people.try_into().expect("two people");
            (database, event.id, people)
        });
        Log {
            runtime,
            database,
            event_id,
            people,
        }
    })
}

/// One write: who, in which room, with which client id (a repeated id is a re-sent
/// command).
type Write = (usize, bool, Option<u8>);

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn replaying_from_any_since_yields_exactly_the_entries_after_it_in_order(
        writes in prop::collection::vec((0usize..2, any::<bool>(), prop::option::of(0u8..6)), 0..12),
        since_back in 0i64..40,
        page in 1i64..8,
    ) {
        let log = log();
        let prefix = konvent_store::new_token()[..8].to_owned();
        let run = |writes: Vec<Write>| log.runtime.block_on(async {
            let mut first: HashMap<(usize, u8), i64> = HashMap::new();
            for (who, plenum, id) in writes {
                let room = if plenum { "plenum" } else { "lounge" };
                // Client ids are fresh per case; a repeated one is a re-sent command.
                let client_id = id.map(|i| format!("{prefix}-{i}"));
                let w = log.database.store
                    .post_chat(log.event_id, room, &log.people[who], client_id.as_deref(), "Hallo", "<p>Hallo</p>")
                    .await
                    .expect("chat");
                if let Some(i) = id {
                    match first.get(&(who, i)) {
                        Some(seq) => {
                            assert!(!w.fresh, "a re-sent command is not stored twice");
                            assert_eq!(w.record.seq, *seq);
                        }
                        None => {
                            assert!(w.fresh);
                            first.insert((who, i), w.record.seq);
                        }
                    }
                }
            }
        });
        run(writes);
        let last = log.runtime.block_on(log.database.store.event(demo::KONVENT_SLUG)).expect("event").last_seq;

        let since = (last - since_back).max(-1);
        let replayed = log.runtime.block_on(async {
            let mut seqs = Vec::new();
            let mut after = since;
            loop {
                let entries = log.database.store.live_since(log.event_id, after, page).await.expect("page");
                prop_assert!(entries.len() as i64 <= page);
                let Some(end) = entries.last().map(|e| e.seq) else { break };
                for e in &entries {
                    prop_assert_eq!(e.event_id, log.event_id);
                    seqs.push(e.seq);
                }
                after = end;
            }
            Ok(seqs)
        })?;
        let expected: Vec<i64> = (since.max(0) + 1..=last).collect();
        prop_assert_eq!(replayed, expected);
    }
}
