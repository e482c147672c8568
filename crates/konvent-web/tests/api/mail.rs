//! Invitations by mail through the outbox, seen from the admin's forms and pages (the
//! delivery to a real SMTP server is tested in crates/konvent/tests/mail.rs). Without
//! `smtp_url` the worker writes each mail as an .eml file into the data folder.

use std::time::{Duration, Instant};

use konvent_core::authz::Role;
use konvent_store::{MailStatus, TokenPurpose};

use crate::helpers::spawn_app;

#[tokio::test]
async fn an_invitation_queues_one_mail_in_the_chosen_language_and_still_shows_its_link() {
    let app = spawn_app().await;
    let admin = app.admin().await;

    let response = admin
        .post(
            "/admin/konten/einladen",
            &[
                ("email", "new.person@example.org"),
                ("role", "member"),
                ("scope", ""),
                ("language", "en"),
            ],
        )
        .await;

    assert_eq!(response.status(), 200);
    let page = response.text().await.expect("page");
    let link = page
        .split("<code class=\"link\">")
        .nth(1)
        .and_then(|rest| rest.split('<').next())
        .expect("the link is shown")
        .to_owned();
    let token = link.rsplit('/').next().expect("token");
    assert!(
        app.store
            .login_token_info(TokenPurpose::Invitation, token)
            .await
            .expect("info")
            .is_some()
    );
    let mails = app.store.mails(10).await.expect("mails");
    assert_eq!(mails.len(), 1, "{mails:?}");
    assert_eq!(mails[0].recipient, "new.person@example.org");
    assert_eq!(
        (mails[0].kind.as_str(), mails[0].language.as_str()),
        ("invitation", "en")
    );
    assert_eq!(mails[0].subject, "Your invitation to konvent");

    // The worker writes it into outbox-files/ and marks it sent, bodies erased.
    let deadline = Instant::now() + Duration::from_secs(20);
    let sent = loop {
        let mail = app
            .store
            .mail(mails[0].id)
            .await
            .expect("mail")
            .expect("exists");
        if mail.status == MailStatus::Sent {
            break mail;
        }
        assert!(Instant::now() < deadline, "not sent: {mail:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(!app.store.mail_has_bodies(sent.id).await.expect("bodies"));
    let files: Vec<_> = std::fs::read_dir(app.state.settings.data_dir.join("outbox-files"))
        .expect("the folder")
        .filter_map(Result::ok)
        .collect();
    assert_eq!(files.len(), 1);
    let eml = std::fs::read_to_string(files[0].path()).expect("file");
    assert!(eml.contains("Subject: Your invitation to konvent"), "{eml}");

    let (status, list) = admin.get_text("/admin/mails").await;
    assert_eq!(status, 200);
    assert!(list.contains("new.person@example.org"), "{list}");
    assert!(
        list.contains("outbox-files"),
        "the page says mails become files: {list}"
    );
}

#[tokio::test]
async fn inviting_an_address_with_an_account_grants_the_role_and_mails_a_sign_in_link() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    app.user(Role::Participant).await;
    let accounts_before = app.store.accounts().await.expect("accounts").len();

    let response = admin
        .post(
            "/admin/konten/einladen",
            &[
                ("email", "Participant@test.example"),
                ("role", "member"),
                ("language", "de"),
            ],
        )
        .await;

    assert_eq!(response.status(), 200);
    let page = response.text().await.expect("page");
    assert!(
        !page.contains("<code class=\"link\">"),
        "no sign-in link for the admin: {page}"
    );
    assert!(page.contains("Anmeldelink gesendet"), "{page}");
    let mails = app.store.mails(10).await.expect("mails");
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].kind, "sign_in");
    assert_eq!(mails[0].subject, "Ihr Anmeldelink für konvent");
    let account = app
        .store
        .accounts()
        .await
        .expect("accounts")
        .into_iter()
        .find(|a| a.email == "participant@test.example")
        .expect("account");
    assert!(
        account.grants.iter().any(|g| g.role == Role::Member),
        "{account:?}"
    );
    assert_eq!(
        app.store.accounts().await.expect("accounts").len(),
        accounts_before,
        "no second account"
    );
}

#[tokio::test]
async fn a_bad_invitation_writes_neither_link_nor_mail() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    for form in [
        [
            ("email", "kein-at-zeichen"),
            ("role", "member"),
            ("language", "de"),
        ],
        [
            ("email", "ok@example.org"),
            ("role", "member"),
            ("language", "fr"),
        ],
        [
            ("email", "ok@example.org"),
            ("role", ""),
            ("language", "de"),
        ],
    ] {
        let response = admin.post("/admin/konten/einladen", &form).await;
        assert_eq!(response.status(), 422, "{form:?}");
    }
    assert!(app.store.mails(10).await.expect("mails").is_empty());
}

#[tokio::test]
async fn only_a_failed_mail_can_be_sent_again() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let response = admin.post("/admin/mails/4711/erneut-senden", &[]).await;
    assert_eq!(response.status(), 404);
    let without_csrf = admin.post_raw("/admin/mails/4711/erneut-senden", &[]).await;
    assert_eq!(without_csrf.status(), 403);
}
