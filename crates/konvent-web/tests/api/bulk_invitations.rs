//! Bulk invitations (A2) through the upload form: a bad list is refused row by row with
//! nothing written and no mail queued; a good one becomes a job whose progress page
//! counts the invitations written and the mails sent. Delivery to a real SMTP server and
//! following the mailed links: crates/konvent/tests/mail.rs.

use std::time::{Duration, Instant};

use konvent_core::authz::Role;
use konvent_core::demo;
use konvent_core::ids::BulkInvitationId;
use konvent_store::{MailStatus, TokenPurpose};
use reqwest::Response;

use crate::helpers::{CSRF, TestApp, User, spawn_app, text};

/// Posts the bulk form: a file (name, bytes) and/or pasted addresses.
async fn send_list(user: &User, path: &str, file: Option<(&str, &str)>, pasted: &str) -> Response {
    let mut form = reqwest::multipart::Form::new()
        .text("csrf", CSRF)
        .text("addresses", pasted.to_owned());
    if let Some((name, content)) = file {
        form = form.part(
            "file",
            reqwest::multipart::Part::bytes(content.as_bytes().to_vec()).file_name(name.to_owned()),
        );
    }
    user.client
        .post(format!("{}{path}", user.base))
        .header("cookie", &user.cookie)
        .multipart(form)
        .send()
        .await
        .expect("upload")
}

/// Accounts, mails and jobs: what a refused list must leave as it was.
async fn written(app: &TestApp) -> (usize, usize, bool) {
    let accounts = app.store.accounts().await.expect("accounts").len();
    let mails = app.store.mails(100).await.expect("mails").len();
    let job = app
        .store
        .bulk_invitation(BulkInvitationId::new(1))
        .await
        .expect("job")
        .is_some();
    (accounts, mails, job)
}

/// Follows the redirect to the progress page and waits until `done` holds for it.
async fn wait_for_progress(user: &User, location: &str, done: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, page) = user.get_text(location).await;
        assert_eq!(status, 200, "{page}");
        let page = text(&page);
        if done(&page) {
            return page;
        }
        assert!(Instant::now() < deadline, "progress stuck: {page}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn a_list_with_a_broken_address_a_duplicate_an_unknown_event_and_role_is_refused_row_by_row()
{
    let app = spawn_app().await;
    let admin = app.admin().await;
    let before = written(&app).await;

    let csv = "E-Mail;Name;Rolle;Veranstaltung\n\
               eva@example.org;Eva Beispiel;;strategiekonvent-2025\n\
               kaputt.example.org;Kaputt;;\n\
               EVA@example.org;Eva doppelt;;\n\
               max@example.org;Max Muster;;gibt-es-nicht\n\
               ora@example.org;Ora Nisa;kaiserin;\n";
    let response = send_list(&admin, "/admin/einladungen", Some(("liste.csv", csv)), "").await;

    assert_eq!(response.status(), 422);
    let page = text(&response.text().await.expect("body"));
    assert!(page.contains("niemand wurde eingeladen"), "{page}");
    for expected in [
        "3 E-Mail „kaputt.example.org“ ist keine gültige E-Mail-Adresse.",
        "4 E-Mail Die Adresse „eva@example.org“ steht schon in Zeile 2.",
        "5 Veranstaltung Unbekannte Veranstaltung „gibt-es-nicht“.",
        "6 Rolle Unbekannte Rolle „kaiserin“",
    ] {
        assert!(page.contains(expected), "{expected:?} missing: {page}");
    }
    assert!(!page.contains("2 E-Mail"), "the good row is no problem");
    assert_eq!(
        written(&app).await,
        before,
        "nothing written, no mail queued"
    );

    // Pasted addresses are checked the same way.
    let response = send_list(
        &admin,
        "/admin/einladungen",
        None,
        "Eva <eva@example.org>\nnicht-gültig\n",
    )
    .await;
    assert_eq!(response.status(), 422);
    let page = text(&response.text().await.expect("body"));
    assert!(page.contains("2 E-Mail „nicht-gültig“"), "{page}");
    assert_eq!(written(&app).await, before);
}

#[tokio::test]
async fn a_good_list_is_written_by_a_job_with_one_mail_each_and_an_existing_account_gets_a_sign_in_link()
 {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let known = app.user_named(Role::Participant, "bekannt").await;
    drop(known);

    let csv = "E-Mail,Name,Organisation,Veranstaltung,Sprache\n\
               eva@example.org,Eva Beispiel,FITKO,strategiekonvent-2025,en\n\
               max@example.org,Max Muster,,,\n\
               bekannt@test.example,Bekannt,,strategiekonvent-2025,\n";
    let response = send_list(&admin, "/admin/einladungen", Some(("liste.csv", csv)), "").await;

    assert_eq!(response.status(), 303);
    let location = response.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    assert!(location.starts_with("/einladungen/"), "{location}");
    let page = wait_for_progress(&admin, &location, |p| {
        p.contains("3 von 3 Einladungen geschrieben") && p.contains("3 E-Mails gesendet")
    })
    .await;
    assert!(page.contains("Alle Einladungen sind geschrieben"), "{page}");

    let mails = app.store.mails(10).await.expect("mails");
    assert_eq!(mails.len(), 3, "{mails:?}");
    let kind_of = |to: &str| {
        let m = mails
            .iter()
            .find(|m| m.recipient == to)
            .unwrap_or_else(|| panic!("a mail to {to}"));
        (m.kind.as_str(), m.language.as_str(), m.status)
    };
    assert_eq!(
        kind_of("eva@example.org"),
        ("invitation", "en", MailStatus::Sent)
    );
    assert_eq!(kind_of("max@example.org").0, "invitation");
    assert_eq!(kind_of("bekannt@test.example").0, "sign_in");

    // The existing account joined the event at once; no second account was made.
    let event = app
        .store
        .event(demo::KONVENT_SLUG)
        .await
        .expect("the event");
    let known_id = app.account_id("bekannt@test.example").await;
    assert!(
        app.store
            .event_role(event.id, known_id)
            .await
            .expect("role")
            .is_some()
    );
    let accounts = app.store.accounts().await.expect("accounts");
    assert_eq!(
        accounts
            .iter()
            .filter(|a| a.email == "bekannt@test.example")
            .count(),
        1
    );

    // The mail's link names the lobby; its invitation form offers the list's name.
    let eml: Vec<String> = std::fs::read_dir(app.state.settings.data_dir.join("outbox-files"))
        .expect("the folder")
        .filter_map(Result::ok)
        .map(|f| std::fs::read_to_string(f.path()).expect("file"))
        // The bodies are quoted-printable: soft line breaks out, `=3D` back to `=`.
        .map(|m| m.replace("=\r\n", "").replace("=3D", "="))
        .collect();
    let eva = eml
        .iter()
        .find(|m| m.contains("To: eva@example.org"))
        .expect("eva's mail");
    let link = eva
        .split_whitespace()
        .find(|w| w.contains("/einladung/") && w.contains("weiter="))
        .expect("an invitation link into the lobby");
    let path = link
        .trim_start_matches(&app.address)
        .trim_start_matches("http://127.0.0.1:8080");
    let token = path
        .split("/einladung/")
        .nth(1)
        .and_then(|t| t.split('?').next())
        .expect("token");
    let info = app
        .store
        .login_token_info(TokenPurpose::Invitation, token)
        .await
        .expect("info")
        .expect("valid");
    assert_eq!(info.account_name.as_deref(), Some("Eva Beispiel"));

    // Someone else cannot see the job's progress.
    let other = app.user(Role::Member).await;
    assert_eq!(other.get(&location).await.status(), 404);
}

#[tokio::test]
async fn an_organizer_invites_participants_of_their_own_event_only() {
    let app = spawn_app().await;
    let organizer = app.user(Role::Organizer).await;
    let event_page = format!("/konvent/{}/einladungen", demo::KONVENT_SLUG);
    let (status, form) = organizer.get_text(&event_page).await;
    assert_eq!(status, 200, "{form}");

    let csv = "E-Mail,Name,Rolle\nteil@example.org,Teil Nehmer,\nchef@example.org,Chef,admin\n";
    let response = send_list(&organizer, &event_page, Some(("liste.csv", csv)), "").await;
    assert_eq!(response.status(), 422);
    let page = text(&response.text().await.expect("body"));
    assert!(
        page.contains("3 Rolle Organisator:innen laden nur Teilnehmende ein"),
        "{page}"
    );
    assert!(app.store.mails(10).await.expect("mails").is_empty());

    // Not the admin page, and not another person's event page.
    let response = send_list(&organizer, "/admin/einladungen", None, "a@example.org").await;
    assert_eq!(response.status(), 403);
    let participant = app.user(Role::Participant).await;
    let response = send_list(&participant, &event_page, None, "a@example.org").await;
    assert_eq!(response.status(), 403);

    // Pasted addresses join the page's event; a second list waits for the first.
    let response = send_list(
        &organizer,
        &event_page,
        None,
        "Teil Nehmer <teil@example.org>\n",
    )
    .await;
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    wait_for_progress(&organizer, &location, |p| {
        p.contains("1 von 1 Einladungen geschrieben")
    })
    .await;
    let mails = app.store.mails(10).await.expect("mails");
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].recipient, "teil@example.org");
}

#[tokio::test]
async fn a_list_left_by_a_node_that_died_is_finished_by_another_each_person_invited_once() {
    use jiff::SignedDuration;
    use konvent_core::authz::{Grant, Scope};
    use konvent_core::invitations::Invitee;
    use konvent_store::Actor;

    let app = spawn_app().await;
    let admin = app.admin().await;
    let admin_id = app.account_id("admin@test.example").await;
    let event = app.store.event(demo::KONVENT_SLUG).await.expect("event");
    let list: Vec<Invitee> = (0..250)
        .map(|n| Invitee {
            row: n + 2,
            email: format!("person{n}@example.org"),
            name: Some(format!("Person {n}")),
            organisation: Some("Bezirksamt".to_owned()),
            grant: Grant::new(Role::Participant, Scope::Global).expect("grant"),
            event: Some(event.id),
            language: None,
        })
        .collect();
    // Another node stored the list and died before its first batch: its lease runs out
    // at once. This node finds the job when it next looks.
    let job = app
        .store
        .start_bulk_invitation(
            &Actor::account(admin_id, "Admin"),
            None,
            "en",
            &list,
            "dead-node",
            SignedDuration::ZERO,
        )
        .await
        .expect("the job");
    tokio::time::sleep(Duration::from_millis(5)).await;
    app.state.jobs.wake();

    let page = wait_for_progress(&admin, &format!("/einladungen/{job}"), |p| {
        p.contains("Alle Einladungen sind geschrieben")
    })
    .await;
    assert!(page.contains("250 von 250"), "{page}");
    let mails = app.store.mails(1000).await.expect("mails");
    let mut recipients: Vec<&str> = mails.iter().map(|m| m.recipient.as_str()).collect();
    recipients.sort_unstable();
    recipients.dedup();
    assert_eq!((mails.len(), recipients.len()), (250, 250), "one mail each");
    assert!(
        mails.iter().all(|m| m.language == "en"),
        "the inviter's language, kept with the job"
    );
    assert!(
        app.store
            .bulk_invitation_rows(job, 10)
            .await
            .expect("rows")
            .is_empty()
    );
}
