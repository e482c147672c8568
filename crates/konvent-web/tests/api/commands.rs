//! Live commands posted as plain forms (`/konvent/{event}/aktion`, `/cafe/platz`): read
//! by core's one definition of the commands, so a form that is no command is answered
//! with a clear 400 that names what was wrong, never with a crash or a silent default.

use konvent_core::authz::Role;
use konvent_core::demo;
use konvent_store::EventRole;
use reqwest::StatusCode;

use crate::helpers::{TestApp, User, text};

const EVENT: &str = "/konvent/strategiekonvent-2025";

/// A signed-in participant registered for the demo event.
async fn participant(app: &TestApp, name: &str) -> User {
    let user = app.user_named(Role::Participant, name).await;
    let id = app.account_id(&format!("{name}@test.example")).await;
    let event = app.store.event(demo::KONVENT_SLUG).await.expect("event");
    app.store
        .add_to_event(event.id, id, EventRole::Participant)
        .await
        .expect("registered");
    user
}

#[tokio::test]
async fn a_form_with_a_bad_number_or_flag_is_refused_with_what_was_wrong() {
    let app = crate::helpers::spawn_app().await;
    let anna = participant(&app, "anna").await;

    for (form, wrong) in [
        (&[("t", "upvote"), ("question", "zwölf")][..], "zwölf"),
        (
            &[("t", "hand"), ("room", "plenum"), ("up", "vielleicht")],
            "vielleicht",
        ),
        (&[("t", "vote_pin"), ("pin", "1e3"), ("on", "true")], "1e3"),
        (&[("t", "explode")], "explode"),
    ] {
        let r = anna.post(&format!("{EVENT}/aktion"), form).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{form:?}");
        let page = text(&r.text().await.expect("body"));
        assert!(page.contains("Formular nicht lesbar"), "{form:?}: {page}");
        assert!(page.contains(wrong), "{form:?}: {page}");
    }

    let r = anna
        .post(&format!("{EVENT}/cafe/platz"), &[("table", "Tisch 3")])
        .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let page = text(&r.text().await.expect("body"));
    assert!(page.contains("Tisch 3"), "{page}");
}

#[tokio::test]
async fn a_form_s_ticked_checkbox_and_empty_number_mean_what_the_frame_s_values_do() {
    let app = crate::helpers::spawn_app().await;
    let anna = participant(&app, "anna").await;

    // `anonymous=on` is a ticked checkbox: the question is asked anonymously.
    let r = anna
        .post(
            &format!("{EVENT}/aktion"),
            &[
                ("t", "ask"),
                ("text", "Wer liest die Zielbilder?"),
                ("anonymous", "on"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let event = app.store.event(demo::KONVENT_SLUG).await.expect("event");
    let questions = app
        .store
        .questions(event.id, None, true)
        .await
        .expect("questions");
    let asked = questions
        .iter()
        .find(|q| q.text == "Wer liest die Zielbilder?")
        .expect("the question was asked");
    assert_eq!(asked.asker, None, "asked anonymously");

    // An empty `user` is "nobody", as JSON's null: the command is read, and refused
    // only because a participant does not lead the room.
    let r = anna
        .post(
            &format!("{EVENT}/aktion"),
            &[("t", "floor"), ("room", "plenum"), ("user", "")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_form_with_a_bad_number_is_refused_in_english_to_an_english_reader() {
    let app = crate::helpers::spawn_app().await;
    let mut anna = participant(&app, "anna").await;

    anna.reads_english();
    let r = anna
        .post(
            &format!("{EVENT}/aktion"),
            &[("t", "upvote"), ("question", "zwölf")],
        )
        .await;

    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let page = text(&r.text().await.expect("body"));
    assert!(
        page.contains("The form could not be read: “zwölf” is not a whole number."),
        "{page}"
    );
    assert!(!page.contains("nicht lesbar"), "{page}");
}

#[tokio::test]
async fn a_live_command_refused_by_its_own_checks_reads_in_english_to_an_english_reader() {
    let app = crate::helpers::spawn_app().await;
    let mut anna = participant(&app, "anna").await;

    anna.reads_english();
    for (form, english, german) in [
        (
            &[("t", "hand"), ("up", "true")][..],
            "Please enter a room first.",
            "Bitte zuerst einen Raum betreten.",
        ),
        (
            &[("t", "ask"), ("text", "   ")],
            "The text is empty.",
            "Der Text ist leer.",
        ),
    ] {
        let r = anna.post(&format!("{EVENT}/aktion"), form).await;

        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{form:?}");
        let page = text(&r.text().await.expect("body"));
        assert!(page.contains(english), "{page}");
        assert!(!page.contains(german), "{page}");
    }
}
