//! Registration for an event through the public form, seen from the form and the
//! organizers' pages (the mails themselves are tested against a real SMTP server in
//! crates/konvent/tests/mail.rs): bad input is refused beside its field with nothing
//! written, and the list of registrants is for organizers and admins only.

use konvent_core::authz::Role;
use konvent_core::demo;
use konvent_store::{EventRole, NewMail, NewRegistration, RegistrationStatus};

use crate::helpers::{TestApp, spawn_app};

fn form_path() -> String {
    format!("/konvent/{}/anmeldung", demo::KONVENT_SLUG)
}

fn list_path() -> String {
    format!("/konvent/{}/anmeldungen", demo::KONVENT_SLUG)
}

async fn written(app: &TestApp) -> (usize, usize) {
    let event = app.store.event(demo::KONVENT_SLUG).await.expect("event");
    (
        app.store
            .registrations(event.id)
            .await
            .expect("registrations")
            .len(),
        app.store.mails(100).await.expect("mails").len(),
    )
}

/// A registration started as the form would, with a known confirmation token.
async fn registered_unconfirmed(app: &TestApp, email: &str, token: &str) {
    let event = app.store.event(demo::KONVENT_SLUG).await.expect("event");
    let stored = app
        .store
        .start_registration(
            &NewRegistration {
                event_id: event.id,
                email,
                name: &format!("Person {email}"),
                organisation: "Senatskanzlei",
                language: "de",
                confirm_token: token,
            },
            &NewMail {
                message_id: format!("<{token}@konvent.test>"),
                kind: "registration_confirm".into(),
                recipient: email.into(),
                language: "de".into(),
                subject: "Bitte bestätigen".into(),
                body_text: "Link".into(),
                body_html: "<p>Link</p>".into(),
                calendar: None,
            },
        )
        .await
        .expect("registration");
    assert!(stored);
}

#[tokio::test]
async fn bad_registrations_are_refused_beside_their_field_and_nothing_is_written() {
    let app = spawn_app().await;
    let visitor = app.visitor();
    let before = written(&app).await;

    // By invitation only (the default): the form says so, and refuses.
    let (status, page) = visitor.get_text(&form_path()).await;
    assert_eq!(status, 200);
    assert!(page.contains("nur auf Einladung"), "{page}");
    let response = visitor
        .post(
            &form_path(),
            &[("name", "Eva"), ("email", "eva@example.org")],
        )
        .await;
    assert_eq!(response.status(), 422);
    assert_eq!(written(&app).await, before);

    let admin = app.admin().await;
    let response = admin
        .post(
            &format!("{}/einstellungen", list_path()),
            &[("mode", "open"), ("capacity", "0")],
        )
        .await;
    assert_eq!(response.status(), 422, "a capacity of 0 is refused");
    let page = response.text().await.expect("page");
    assert!(page.contains("aria-invalid=\"true\""), "{page}");
    let response = admin
        .post(
            &format!("{}/einstellungen", list_path()),
            &[("mode", "offen?"), ("capacity", "")],
        )
        .await;
    assert_eq!(response.status(), 422, "an unknown mode is refused");
    let response = admin
        .post(
            &format!("{}/einstellungen", list_path()),
            &[("mode", "open"), ("capacity", "")],
        )
        .await;
    assert_eq!(response.status(), 303);

    let long = "x".repeat(201);
    for (form, field) in [
        (
            vec![("name", long.as_str()), ("email", "eva@example.org")],
            "f-name-error",
        ),
        (
            vec![
                ("name", "Eva"),
                ("email", "eva@example.org"),
                ("organisation", long.as_str()),
            ],
            "f-organisation-error",
        ),
        (
            vec![("name", "Eva"), ("email", "keine-adresse")],
            "f-email-error",
        ),
        (
            vec![("name", "Eva"), ("email", "eva@@example.org")],
            "f-email-error",
        ),
        (
            vec![("name", "Eva"), ("email", &format!("{long}@example.org"))],
            "f-email-error",
        ),
        (
            vec![("name", ""), ("email", "eva@example.org")],
            "f-name-error",
        ),
    ] {
        let response = visitor.post(&form_path(), &form).await;
        assert_eq!(response.status(), 422, "{form:?}");
        let page = response.text().await.expect("page");
        assert!(
            page.contains(&format!("id=\"{field}\"")),
            "{form:?}: {page}"
        );
        assert!(page.contains("aria-invalid=\"true\""));
    }
    assert_eq!(written(&app).await, before, "nothing written");

    // A good one is stored with its mail; the page does not tell whether the address
    // had registered before. Trying again while unconfirmed sends a new link.
    let good = [("name", "Eva Muster"), ("email", "Eva@Example.org")];
    let (status, page) = {
        let r = visitor.post(&form_path(), &good).await;
        (r.status().as_u16(), r.text().await.expect("page"))
    };
    assert_eq!(status, 200, "{page}");
    assert!(page.contains("eva@example.org"), "{page}");
    assert_eq!(written(&app).await, (before.0 + 1, before.1 + 1));

    // The budget per address: five tries an hour, then 429, nothing written.
    for _ in 0..4 {
        assert_eq!(visitor.post(&form_path(), &good).await.status(), 200);
    }
    assert_eq!(written(&app).await, (before.0 + 1, before.1 + 5));
    let response = visitor.post(&form_path(), &good).await;
    assert_eq!(response.status(), 429);
    assert!(response.headers().contains_key("retry-after"));
    assert_eq!(written(&app).await, (before.0 + 1, before.1 + 5));
}

#[tokio::test]
async fn organizers_list_export_approve_and_decline_and_participants_see_no_registrant() {
    let app = spawn_app().await;
    let event = app.store.event(demo::KONVENT_SLUG).await.expect("event");
    let organizer = app.sign_in_existing(demo::KONVENT_MODERATOR.0).await;
    let response = organizer
        .post(
            &format!("{}/einstellungen", list_path()),
            &[("mode", "approval"), ("capacity", "1")],
        )
        .await;
    assert_eq!(response.status(), 303);

    for (email, token) in [
        ("eins@example.org", "a".repeat(64)),
        ("zwei@example.org", "b".repeat(64)),
        ("drei@example.org", "c".repeat(64)),
    ] {
        registered_unconfirmed(&app, email, &token).await;
        let path = format!("{}/bestaetigen/{token}", form_path());
        let (status, page) = app.visitor().get_text(&path).await;
        assert_eq!(status, 200, "{page}");
        let (status, page) = {
            let r = app.visitor().post(&path, &[]).await;
            (r.status().as_u16(), r.text().await.expect("page"))
        };
        assert_eq!(status, 200, "{page}");
        assert!(page.contains("Zulassung"), "{page}");
        // Used up.
        assert_eq!(app.visitor().post(&path, &[]).await.status(), 404);
    }

    let (status, page) = organizer.get_text(&list_path()).await;
    assert_eq!(status, 200);
    assert_eq!(page.matches("wartet auf Zulassung").count(), 3, "{page}");
    let regs = app.store.registrations(event.id).await.expect("list");
    let id = |email: &str| regs.iter().find(|r| r.email == email).expect("reg").id;

    // Capacity 1: the first approved is registered (and a participant), the second waits.
    for email in ["eins@example.org", "zwei@example.org"] {
        let response = organizer
            .post(&format!("{}/{}/zulassen", list_path(), id(email)), &[])
            .await;
        assert_eq!(response.status(), 303);
    }
    let response = organizer
        .post(
            &format!("{}/{}/ablehnen", list_path(), id("drei@example.org")),
            &[],
        )
        .await;
    assert_eq!(response.status(), 303);
    // A declined one cannot be approved.
    let response = organizer
        .post(
            &format!("{}/{}/zulassen", list_path(), id("drei@example.org")),
            &[],
        )
        .await;
    assert_eq!(response.status(), 409);
    let status_of = |regs: &[konvent_store::Registration], email: &str| {
        regs.iter().find(|r| r.email == email).expect("reg").status
    };
    let regs = app.store.registrations(event.id).await.expect("list");
    assert_eq!(
        status_of(&regs, "eins@example.org"),
        RegistrationStatus::Registered
    );
    assert_eq!(
        status_of(&regs, "zwei@example.org"),
        RegistrationStatus::Waiting
    );
    assert_eq!(
        status_of(&regs, "drei@example.org"),
        RegistrationStatus::Declined
    );
    let eins = app.account_id("eins@example.org").await;
    assert_eq!(
        app.store.event_role(event.id, eins).await.expect("role"),
        Some(EventRole::Participant),
        "a registered person takes part with a (new) account"
    );

    // Declining the registered one moves the waiting one up.
    let response = organizer
        .post(
            &format!("{}/{}/ablehnen", list_path(), id("eins@example.org")),
            &[],
        )
        .await;
    assert_eq!(response.status(), 303);
    let regs = app.store.registrations(event.id).await.expect("list");
    assert_eq!(
        status_of(&regs, "zwei@example.org"),
        RegistrationStatus::Registered
    );
    assert_eq!(
        app.store.event_role(event.id, eins).await.expect("role"),
        None
    );

    let response = organizer.get(&format!("{}/export.csv", list_path())).await;
    assert_eq!(response.status(), 200);
    assert!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/csv"))
    );
    let csv = response.text().await.expect("csv");
    let mut reader = csv::ReaderBuilder::new().from_reader(csv.as_bytes());
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("row")).collect();
    assert_eq!(rows.len(), 3, "{csv}");
    assert!(csv.contains("zwei@example.org") && csv.contains("Senatskanzlei"));

    // Participants, other people and visitors see neither list nor export.
    let participant = app.user(Role::Participant).await;
    let participant_id = app.account_id("participant@test.example").await;
    app.store
        .add_to_event(event.id, participant_id, EventRole::Participant)
        .await
        .expect("participant");
    let member = app.user(Role::Member).await;
    for user in [&participant, &member] {
        for path in [list_path(), format!("{}/export.csv", list_path())] {
            let (status, body) = user.get_text(&path).await;
            assert!(status == 403 || status == 400, "{path}: {status}");
            assert!(!body.contains("zwei@example.org"));
        }
        let response = user
            .post(
                &format!("{}/{}/zulassen", list_path(), id("zwei@example.org")),
                &[],
            )
            .await;
        assert!(matches!(response.status().as_u16(), 400 | 403));
    }
    let (status, _) = app.visitor().get_text(&list_path()).await;
    assert!(matches!(status, 303 | 401 | 403), "{status}");
}

#[tokio::test]
async fn signed_in_people_join_by_the_events_rules_invitation_approval_and_a_full_house() {
    let app = spawn_app().await;
    let event = app.store.event(demo::KONVENT_SLUG).await.expect("event");
    let lobby = format!("/konvent/{}", demo::KONVENT_SLUG);
    let join = format!("{lobby}/anmelden");
    let eva = app.user_named(Role::Participant, "eva").await;
    let eva_id = app.account_id("eva@test.example").await;

    // By invitation only (the demo's default): no button, and the post is refused.
    let (_, page) = eva.get_text(&lobby).await;
    assert!(page.contains("nur auf Einladung"), "{page}");
    assert!(!page.contains(&format!("action=\"{join}\"")), "{page}");
    let response = eva.post(&join, &[]).await;
    assert_eq!(response.status(), 403);
    assert_eq!(
        app.store.event_role(event.id, eva_id).await.expect("role"),
        None
    );

    // With approval: the person's request waits for the organizers, no place yet.
    let organizer = app.sign_in_existing(demo::KONVENT_MODERATOR.0).await;
    let settings = format!("/konvent/{}/anmeldungen/einstellungen", demo::KONVENT_SLUG);
    let response = organizer
        .post(&settings, &[("mode", "approval"), ("capacity", "")])
        .await;
    assert_eq!(response.status(), 303);
    let (_, page) = eva.get_text(&lobby).await;
    assert!(page.contains("Teilnahme beantragen"), "{page}");
    let response = eva.post(&join, &[]).await;
    assert_eq!(response.status(), 200);
    assert!(response.text().await.expect("page").contains("Zulassung"));
    assert_eq!(
        app.store.event_role(event.id, eva_id).await.expect("role"),
        None
    );
    let (_, page) = eva.get_text(&lobby).await;
    assert!(page.contains("wartet auf die Zulassung"), "{page}");
    let regs = app.store.registrations(event.id).await.expect("list");
    let eva_reg = regs
        .iter()
        .find(|r| r.email == "eva@test.example")
        .expect("eva's registration");
    assert_eq!(eva_reg.status, RegistrationStatus::AwaitingApproval);
    assert!(
        eva_reg.confirmed_at.is_some(),
        "the account vouches for the address"
    );

    // Open, with one place: the first joins at once, the second waits.
    let response = organizer
        .post(&settings, &[("mode", "open"), ("capacity", "1")])
        .await;
    assert_eq!(response.status(), 303);
    let max = app.user_named(Role::Participant, "max").await;
    let max_id = app.account_id("max@test.example").await;
    let response = max.post(&join, &[]).await;
    assert_eq!(response.status(), 303, "registered: back to the lobby");
    assert_eq!(
        app.store.event_role(event.id, max_id).await.expect("role"),
        Some(EventRole::Participant)
    );
    let ida = app.user_named(Role::Participant, "ida").await;
    let response = ida.post(&join, &[]).await;
    assert_eq!(response.status(), 200);
    assert!(response.text().await.expect("page").contains("Warteliste"));
    let (_, page) = ida.get_text(&lobby).await;
    assert!(page.contains("Warteliste"), "{page}");
    // Each got the mail a registration through the form gets.
    let kinds: Vec<(String, String)> = app
        .store
        .mails(100)
        .await
        .expect("mails")
        .into_iter()
        .map(|m| (m.recipient, m.kind))
        .collect();
    for who in ["eva@test.example", "max@test.example", "ida@test.example"] {
        assert!(kinds.iter().any(|(to, _)| to == who), "{who}: {kinds:?}");
    }

    // The budget: a few tries an hour.
    let mut last = 0;
    for _ in 0..6 {
        last = ida.post(&join, &[]).await.status().as_u16();
    }
    assert_eq!(last, 429);
}
