//! The lobby (K1, K7, K14): what its now/next panel says while the clock or the
//! organizers lead, names said once, and its live regions equal to a reload.

use konvent_core::authz::Role;
use konvent_core::demo;
use konvent_store::EventRole;

use crate::helpers::{TestApp, User, spawn_app, text};

const EVENT: &str = "/konvent/strategiekonvent-2025";
const LOUNGE: &str = "Die Lounge bleibt zur Vernetzung geöffnet.";

/// A participant registered for the demo event.
async fn participant(app: &TestApp) -> User {
    let user = app.user_named(Role::Participant, "lobbygast").await;
    let id = app.account_id("lobbygast@test.example").await;
    let event = app.store.event(demo::KONVENT_SLUG).await.expect("event");
    app.store
        .add_to_event(event.id, id, EventRole::Participant)
        .await
        .expect("registered");
    user
}

async fn set_current(admin: &User, current: &str) {
    let r = admin
        .post(
            &format!("{EVENT}/aktion"),
            &[("t", "agenda"), ("current", current)],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
}

#[tokio::test]
async fn an_item_run_after_the_program_replaces_the_lounge_note_until_the_clock_leads_again() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let guest = participant(&app).await;
    // The demo convention was held in February 2025: by the clock, it is over.
    let (_, lobby) = guest.get_text(EVENT).await;
    let page = text(&lobby);
    assert!(page.contains("Das Programm ist beendet."), "{page}");
    assert!(page.contains(LOUNGE));

    // The organizers run the pitches once more, after the program.
    set_current(&admin, "3").await;
    let (_, lobby) = guest.get_text(EVENT).await;
    let page = text(&lobby);
    assert!(
        page.contains("Jetzt: Pitch der Zielbilder durch die Themenpaten"),
        "{page}"
    );
    assert!(page.contains("Danach, 13:40 Uhr: Pause und Orientierung auf der Karte"));
    assert!(!page.contains(LOUNGE), "{page}");
    assert!(!page.contains("Das Programm ist beendet."));
    assert!(
        lobby.contains(
            r#"<tr class="current" aria-current="step"><td class="agenda-time">13:15–13:40</td>"#
        ),
        "the pitches are marked in the programme"
    );
    // Nothing changes by the clock while the organizers lead.
    assert!(!lobby.contains("data-refresh-at"));

    // "Der Uhr folgen": the clock says the program is over again.
    set_current(&admin, "").await;
    let (_, lobby) = guest.get_text(EVENT).await;
    let page = text(&lobby);
    assert!(page.contains("Das Programm ist beendet."), "{page}");
    assert!(page.contains(LOUNGE));
    assert!(!page.contains("Jetzt:"));
    assert!(!lobby.contains("aria-current=\"step\""));
}

#[tokio::test]
async fn rooms_and_items_are_named_once_and_times_stay_on_one_line() {
    let app = spawn_app().await;
    let guest = participant(&app).await;
    let (_, lobby) = guest.get_text(EVENT).await;
    let page = text(&lobby);
    assert!(!page.contains("Plenum Plenum"), "{page}");
    assert!(
        page.contains("Plenum 0 /"),
        "the plenum's headcount follows its name: {page}"
    );
    assert!(!page.contains("Technische Einweisung (Technische Einweisung)"));
    assert!(page.contains("13:00–13:15 Begrüßung sowie Vorstellung der Agenda und Methodik 13:15"));
    // The kind stays where the title does not say it.
    assert!(page.contains("Gemeinsame Arbeit an den Zielbildern – Teil 1 (World-Café-Runde)"));
    assert!(page.contains("Ausblick, Schlussworte und Verabschiedung (Abschluss)"));
    assert!(lobby.contains(r#"<td class="agenda-time">12:00–12:50</td>"#));
}

#[tokio::test]
async fn the_destinations_lead_the_lobby_and_the_survey_joins_them_when_it_opens() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let guest = participant(&app).await;
    let (_, lobby) = guest.get_text(EVENT).await;
    let destinations = lobby
        .find(r#"<nav id="destinations""#)
        .expect("destinations");
    let program = lobby.find(r#"<table id="program""#).expect("programme");
    let announcements = lobby.find(r#"id="announcements""#).expect("announcements");
    let rules = lobby.find(r#"id="regeln""#).expect("house rules");
    assert!(destinations < program && program < announcements && announcements < rules);
    let nav = text(&lobby[destinations..program]);
    for place in [
        "Auf die Karte",
        "World Café",
        "Postkasten & Pinnwand",
        "Fragen ans Podium",
        "Help Desk",
    ] {
        assert!(nav.contains(place), "{place} in {nav}");
    }
    assert!(!nav.contains("Feedback"));
    // The organizers' console is there for everybody to see only when they may use it.
    assert!(
        lobby
            .contains(r#"<li class="destination destination-staff" data-gate="organizer" hidden>"#)
    );

    let r = admin
        .post(&format!("{EVENT}/feedback/freigabe"), &[("open", "true")])
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let (_, lobby) = guest.get_text(EVENT).await;
    assert!(lobby.contains(&format!(r#"<a href="{EVENT}/feedback">Feedback</a>"#)));
    let (_, own) = admin.get_text(EVENT).await;
    assert!(own.contains(r#"<li class="destination destination-staff" data-gate="organizer">"#));
}

#[tokio::test]
async fn the_pitch_timer_runs_in_the_plenum_too_but_not_at_the_tables() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let guest = participant(&app).await;
    let plenum = format!("{EVENT}/raeume/plenum");
    let (_, room) = guest.get_text(&plenum).await;
    assert!(
        room.contains(
            r#"<div id="timer" class="timer" role="timer" aria-live="off" hidden></div>"#
        )
    );
    let r = admin
        .post(
            &format!("{EVENT}/aktion"),
            &[
                ("t", "timer"),
                ("action", "start"),
                ("seconds", "300"),
                ("label", "Pitch Datennutzung"),
            ],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    for page in [plenum.as_str(), EVENT] {
        let (_, html) = guest.get_text(page).await;
        assert!(html.contains("data-ends-at="), "{page}");
        assert!(text(&html).contains("Pitch Datennutzung"), "{page}");
    }
    let (_, html) = admin.get_text(&format!("{EVENT}/organisation")).await;
    assert!(html.contains("data-ends-at="));
    let (_, lounge) = guest.get_text(&format!("{EVENT}/raeume/lounge")).await;
    assert!(!lounge.contains(r#"id="timer""#));
}
