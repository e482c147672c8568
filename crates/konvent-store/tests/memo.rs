//! The copies the store keeps for the pages (who is behind a session, a person's part in
//! an event) follow every change the store makes at once, on both databases; what
//! another node changed is forgotten when its notice arrives.

use konvent_core::authz::{Grant, Role, Scope};
use konvent_core::demo;
use konvent_core::ids::{AccountId, EventId};
use konvent_store::testing::TestStore;
use konvent_store::{Actor, EventRole, Forget, Membership, Store, Who};
use sqlx::Connection;

#[tokio::test]
async fn the_pages_copies_follow_every_change_on_every_backend() {
    for t in TestStore::every_backend().await {
        story(t.backend, &t.store, &t.url).await;
    }
}

/// A connection of its own to the same database: what another node writes through.
async fn other_node(url: &str) -> sqlx::AnyConnection {
    sqlx::any::install_default_drivers();
    sqlx::AnyConnection::connect(url)
        .await
        .expect("a second connection")
}

async fn part_in(store: &Store, event: EventId, account: AccountId) -> std::sync::Arc<Membership> {
    store.membership(event, account).await.expect("membership")
}

async fn story(backend: &str, store: &Store, url: &str) {
    konvent_store::demo::load(store, 21).await.expect("demo");
    let event = store.event(demo::KONVENT_SLUG).await.expect("demo event");
    let tokens = store
        .load_test_sessions(event.id, 2)
        .await
        .expect("sessions");
    let mut notices = store.memo_changes();
    let anna = store
        .signed_in(&tokens[0])
        .await
        .expect("read")
        .expect("a valid session");
    let bert = store
        .signed_in(&tokens[1])
        .await
        .expect("read")
        .expect("a valid session");
    let organizer = Who::new(bert.user_id, bert.display_name.clone());
    let person = Who::new(anna.user_id, anna.display_name.clone());

    // Registered: the copy is kept, and the removal replaces it at once.
    let member = part_in(store, event.id, anna.user_id).await;
    assert_eq!(member.role, Some(EventRole::Participant), "{backend}");
    assert!(!member.removed, "{backend}");
    assert_eq!(member.name, anna.display_name, "{backend}");
    store
        .expel(event.id, &organizer, &person, "Test", None)
        .await
        .expect("expelled");
    let member = part_in(store, event.id, anna.user_id).await;
    assert_eq!(
        (member.role, member.removed),
        (None, true),
        "{backend}: removed at once"
    );
    assert_eq!(
        notices.try_recv().ok(),
        Some(Forget::Account(anna.user_id)),
        "{backend}: the other nodes are told"
    );
    store
        .readmit(event.id, &organizer, &person, None)
        .await
        .expect("readmitted");
    let member = part_in(store, event.id, anna.user_id).await;
    assert_eq!(
        (member.role, member.removed),
        (Some(EventRole::Participant), false),
        "{backend}: back at once"
    );

    // A grant given is in the next request's principal.
    let grant = Grant::new(
        Role::Spokesperson,
        "conference:DMK".parse::<Scope>().expect("scope"),
    )
    .expect("grant");
    store
        .add_grant(&Actor::system("Test"), anna.user_id, &grant)
        .await
        .expect("granted");
    let principal = store
        .signed_in(&tokens[0])
        .await
        .expect("read")
        .expect("still signed in");
    assert!(
        principal.grants.contains(&grant),
        "{backend}: the new grant"
    );

    // Signed out, or disabled: the session is gone at once.
    store.sign_out(&tokens[0]).await.expect("signed out");
    assert!(
        store.signed_in(&tokens[0]).await.expect("read").is_none(),
        "{backend}: signed out at once"
    );
    store
        .set_account_disabled(&Actor::system("Test"), bert.user_id, true)
        .await
        .expect("disabled");
    assert!(
        store.signed_in(&tokens[1]).await.expect("read").is_none(),
        "{backend}: disabled at once"
    );

    // Another node (here: a connection of its own) changes a registration; this node's
    // copy stays until the other node's notice arrives.
    let before = part_in(store, event.id, bert.user_id).await;
    assert_eq!(before.role, Some(EventRole::Participant), "{backend}");
    let mut other = other_node(url).await;
    sqlx::query("UPDATE event_people SET role = 'helper' WHERE event_id = $1 AND account_id = $2")
        .bind(event.id.get())
        .bind(bert.user_id.get())
        .execute(&mut other)
        .await
        .expect("changed elsewhere");
    let kept = part_in(store, event.id, bert.user_id).await;
    assert_eq!(
        kept.role,
        Some(EventRole::Participant),
        "{backend}: the copy"
    );
    store.forget_remembered(Some(Forget::Event(event.id)));
    let read = part_in(store, event.id, bert.user_id).await;
    assert_eq!(
        read.role,
        Some(EventRole::Helper),
        "{backend}: read anew after the notice"
    );
}

/// The duties list a node keeps (G3) serves only while no write touched its tables:
/// this store's own, another node's (a connection of its own), and a grant's.
#[tokio::test]
async fn the_kept_duties_list_follows_every_write_whoever_writes() {
    for t in TestStore::every_backend().await {
        duties_story(t.backend, &t.store, &t.url).await;
    }
}

async fn duties_story(backend: &str, store: &Store, url: &str) {
    use konvent_store::{DutyListQuery, DutyStatus, Visibility};

    konvent_store::demo::load(store, 21).await.expect("demo");
    let query = DutyListQuery {
        allowed: None,
        conference: None,
        status: DutyStatus::Open,
        today: jiff::civil::date(2025, 6, 1),
        page: 1,
        per_page: 50,
        visibility: Visibility::Confidential,
    };
    let listing = |q| async move { store.duty_listing(q).await.expect("listing") };
    let first = listing(&query).await;
    assert!(
        std::sync::Arc::ptr_eq(&first, &listing(&query).await),
        "{backend}: kept while nothing changed"
    );
    assert_eq!(
        first.page,
        store.duty_page(&query).await.expect("page"),
        "{backend}"
    );

    // Done through this store.
    let duty = first.page.duties[0].id;
    store
        .set_duty_done(&Actor::system("Test"), duty, true)
        .await
        .expect("done");
    let after = listing(&query).await;
    assert_eq!(after.page.open, first.page.open - 1, "{backend}: own write");
    assert!(after.page.duties.iter().all(|d| d.id != duty), "{backend}");

    // Opened again by another node.
    let mut other = other_node(url).await;
    sqlx::query("UPDATE duties SET done_at = NULL, done_by = NULL WHERE id = $1")
        .bind(duty.get())
        .execute(&mut other)
        .await
        .expect("changed elsewhere");
    let reopened = listing(&query).await;
    assert_eq!(reopened.page, first.page, "{backend}: another node's write");

    // A new spokesperson is named beside the duties of their conference.
    let before = reopened.spokespersons.len();
    let account = store
        .accounts()
        .await
        .expect("accounts")
        .into_iter()
        .next()
        .expect("an account");
    let grant = Grant::new(
        Role::Spokesperson,
        "conference:DMK".parse::<Scope>().expect("scope"),
    )
    .expect("grant");
    store
        .add_grant(&Actor::system("Test"), account.id, &grant)
        .await
        .expect("granted");
    let named = listing(&query).await;
    assert_eq!(named.spokespersons.len(), before + 1, "{backend}: a grant");
    assert!(
        named
            .spokespersons
            .iter()
            .any(|(c, id, _)| c == "DMK" && *id == account.id),
        "{backend}"
    );
}

/// What "Meine Ergebnisse" shows a person is kept while nothing it reads changed, and
/// read anew after a write to any of it, here from another node.
#[tokio::test]
async fn the_kept_results_of_a_person_follow_writes_elsewhere() {
    for t in TestStore::every_backend().await {
        results_story(t.backend, &t.store, &t.url).await;
    }
}

async fn results_story(backend: &str, store: &Store, url: &str) {
    konvent_store::demo::load(store, 21).await.expect("demo");
    let mut other = other_node(url).await;
    let (author,): (i64,) = sqlx::query_as("SELECT author_id FROM impulses ORDER BY id LIMIT 1")
        .fetch_one(&mut other)
        .await
        .expect("an impulse's author");
    let author = AccountId::new(author);
    let first = store.my_results(author).await.expect("results");
    assert!(!first.impulses.is_empty(), "{backend}: the demo's impulses");
    assert!(
        std::sync::Arc::ptr_eq(&first, &store.my_results(author).await.expect("kept")),
        "{backend}: kept while nothing changed"
    );
    sqlx::query("UPDATE impulses SET text = 'Anders gesagt' WHERE author_id = $1")
        .bind(author.get())
        .execute(&mut other)
        .await
        .expect("an impulse changed elsewhere");
    let read = store.my_results(author).await.expect("results");
    assert!(
        read.impulses.iter().all(|i| i.text == "Anders gesagt"),
        "{backend}: the impulses read anew"
    );
    sqlx::query("UPDATE topics SET title = 'Neuer Titel'")
        .execute(&mut other)
        .await
        .expect("a topic changed elsewhere");
    let read = store.my_results(author).await.expect("results");
    assert!(
        read.topics.iter().all(|t| t.title == "Neuer Titel"),
        "{backend}: the topics read anew"
    );
}

/// The live log moves an event's `last_seq` with every entry, and a room's speaker with
/// every turn: neither the lists' counter nor the search's may move with them. Both are
/// one row every writer of their tables takes, so a chat line that took them would queue
/// behind every other (and in PostgreSQL take them in the order opposite to an impulse's
/// writer). What the lists and the search show (an event's slug) still moves both.
#[tokio::test]
async fn the_live_log_s_own_moves_leave_the_change_counters_alone() {
    for t in TestStore::every_backend().await {
        let backend = t.backend;
        konvent_store::demo::load(&t.store, 21).await.expect("demo");
        let mut db = other_node(&t.url).await;
        sqlx::query(
            "INSERT INTO search_dirty (kind, generation) VALUES ('impulse', 1) \
             ON CONFLICT DO NOTHING",
        )
        .execute(&mut db)
        .await
        .expect("the impulses' search row");
        let before = counters(&mut db).await;
        for moved in [
            "UPDATE events SET last_seq = last_seq + 1",
            "UPDATE rooms SET speaker_id = NULL",
        ] {
            sqlx::query(moved).execute(&mut db).await.expect(moved);
        }
        assert_eq!(counters(&mut db).await, before, "{backend}");
        sqlx::query("UPDATE events SET slug = slug || '-neu'")
            .execute(&mut db)
            .await
            .expect("renamed");
        let (lists, search) = counters(&mut db).await;
        assert!(lists > before.0 && search > before.1, "{backend}");
    }
}

/// The lists' counter and the impulses' search generation.
async fn counters(db: &mut sqlx::AnyConnection) -> (i64, i64) {
    sqlx::query_as(
        "SELECT (SELECT generation FROM change_counters WHERE kind = 'lists'), \
         (SELECT generation FROM search_dirty WHERE kind = 'impulse')",
    )
    .fetch_one(db)
    .await
    .expect("the counters")
}
