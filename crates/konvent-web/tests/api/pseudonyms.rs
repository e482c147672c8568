//! Pseudonymous participation (issue 21): the page without JavaScript, its checks and
//! the organizers' switch; the organizer sees "Pseudonym (name)", another participant
//! the pseudonym only. (The leak test checks every page, API and the live replay.)

use konvent_core::authz::{Grant, Role, Scope};
use konvent_core::demo;
use konvent_core::ids::AccountId;
use konvent_store::{Event, EventRole};

use crate::helpers::{TestApp, User, spawn_app, text};
use crate::leaks::user_with;

const EVENT: &str = "/konvent/strategiekonvent-2025";

/// Anna Echtname and Otto Anders, both participants of the demo event: the event, Anna's
/// account id, and both signed in.
async fn anna_and_otto(app: &TestApp) -> (Event, i64, User, User) {
    let event = app.store.event(demo::KONVENT_SLUG).await.expect("event");
    let grant = Grant::new(Role::Participant, Scope::Global).expect("grant");
    let (id, anna) = user_with(app, "Anna Echtname", std::slice::from_ref(&grant)).await;
    let (other_id, other) = user_with(app, "Otto Anders", &[grant]).await;
    for person in [id, other_id] {
        app.store
            .add_to_event(event.id, person, EventRole::Participant)
            .await
            .expect("registered");
    }
    (event, id.get(), anna, other)
}

#[tokio::test]
async fn a_participant_chooses_a_checked_pseudonym_and_others_see_only_it() {
    let app = spawn_app().await;
    let (event, id, anna, other) = anna_and_otto(&app).await;
    let page = format!("{EVENT}/pseudonym");
    let (status, body) = anna.get_text(&page).await;
    assert_eq!(status, 200);
    assert!(body.contains("name=\"pseudonym\""), "the form: {body}");

    // Refused beside the field: bad characters, another participant's real name.
    for bad in ["<i>x</i>", "Otto Anders", "", "Datenlotse"] {
        let r = anna
            .post(&page, &[("pseudonym", bad), ("action", "save")])
            .await;
        assert_eq!(r.status(), 422, "{bad:?}");
        let body = r.text().await.expect("body");
        assert!(body.contains("pseudonym-error"), "{bad:?}: {body}");
    }
    let r = anna
        .post(&page, &[("pseudonym", "Nachtfalter"), ("action", "save")])
        .await;
    assert!(r.status().is_redirection());
    let r = anna
        .post(
            &format!("{EVENT}/aktion"),
            &[("t", "chat"), ("room", "plenum"), ("text", "Grüße")],
        )
        .await;
    assert!(r.status().is_redirection());

    // Another participant sees the pseudonym only; the organizer both.
    let (_, room) = other.get_text(&format!("{EVENT}/raeume/plenum")).await;
    assert!(room.contains("Nachtfalter"));
    assert!(!room.contains("Anna Echtname"));
    let (_, own) = other.get_text(&page).await;
    assert!(!own.contains("Anna Echtname"), "no list for participants");
    let organizer = app.user(Role::Admin).await;
    let (_, list) = organizer.get_text(&page).await;
    assert!(list.contains("Nachtfalter (Anna Echtname)"), "{list}");

    // Removing it, and the organizer's switch (audited in the store's suite).
    let r = anna.post(&page, &[("action", "remove")]).await;
    assert!(r.status().is_redirection());
    assert!(
        app.store
            .pseudonym(event.id, AccountId::new(id))
            .await
            .expect("read")
            .is_none()
    );
    let r = anna
        .post(&format!("{page}/einstellung"), &[("allowed", "false")])
        .await;
    assert_eq!(r.status(), 403, "participants cannot switch it");
    let r = organizer
        .post(&format!("{page}/einstellung"), &[("allowed", "false")])
        .await;
    assert!(r.status().is_redirection());
    assert!(!app.store.pseudonyms_allowed(event.id).await.expect("read"));
    let r = anna
        .post(&page, &[("pseudonym", "Eule"), ("action", "save")])
        .await;
    assert_eq!(r.status(), 409);
}

#[tokio::test]
async fn a_taken_pseudonym_is_refused_in_english_to_an_english_reader() {
    let app = spawn_app().await;
    let (_, _, mut anna, other) = anna_and_otto(&app).await;
    let page = format!("{EVENT}/pseudonym");
    let r = other
        .post(&page, &[("pseudonym", "Nachtfalter"), ("action", "save")])
        .await;
    assert!(r.status().is_redirection());

    anna.reads_english();
    let taken = anna
        .post(&page, &[("pseudonym", "nachtfalter"), ("action", "save")])
        .await;
    let real_name = anna
        .post(&page, &[("pseudonym", "Otto Anders"), ("action", "save")])
        .await;

    assert_eq!(taken.status(), 422);
    let taken = text(&taken.text().await.expect("body"));
    assert!(
        taken.contains("Another person already goes by this name."),
        "{taken}"
    );
    assert!(!taken.contains("trägt schon"), "{taken}");
    assert_eq!(real_name.status(), 422);
    let real_name = text(&real_name.text().await.expect("body"));
    assert!(
        real_name.contains("This name belongs to another person of the event."),
        "{real_name}"
    );
}
