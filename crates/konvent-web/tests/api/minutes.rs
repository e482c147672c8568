//! The minutes of a council session (G11) through a real server: who may read and
//! change them (public, participant, member, office), versions after finalisation, the
//! session's JSON, and the PDF as tagged PDF (PDF/UA-1).

use crate::strategy::{check_tagged_pdf, python_with_pikepdf};
use konvent_core::authz::Role;
use serde_json::Value;

use crate::helpers::{spawn_app, text};

const BASE: &str = "/gremien/sitzungen/46/niederschrift";

async fn minutes_json(user: &crate::helpers::User, number: i64) -> Value {
    let r = user.get(&format!("/api/v1/sessions/{number}")).await;
    assert_eq!(r.status().as_u16(), 200);
    let v: Value = r.json().await.expect("JSON");
    v["minutes"].clone()
}

#[tokio::test]
async fn the_released_minutes_reach_members_and_the_office_and_drafts_only_the_office() {
    let app = spawn_app().await;
    let visitor = app.visitor();
    let participant = app.user(Role::Participant).await;
    let member = app.user(Role::Member).await;
    let admin = app.admin().await;

    // The demo released the minutes of the 46th session: members and the office read
    // them; the public and participants do not.
    assert_eq!(visitor.get(BASE).await.status().as_u16(), 303);
    assert_eq!(participant.get(BASE).await.status().as_u16(), 403);
    assert_eq!(
        participant
            .get(&format!("{BASE}/fassungen/1/niederschrift.pdf"))
            .await
            .status()
            .as_u16(),
        403
    );
    let (status, html) = member.get_text(BASE).await;
    assert_eq!(status, 200);
    assert!(text(&html).contains("Die Sitzung wurde um 10:00 Uhr eröffnet"));
    assert!(text(&html).contains("Fassung 1"));
    assert!(!html.contains("niederschrift/abschliessen"));

    // The JSON: the public learns only that minutes were released.
    assert_eq!(
        minutes_json(&visitor, 46).await,
        serde_json::json!({ "status": "released" })
    );
    assert_eq!(
        minutes_json(&participant, 46).await,
        serde_json::json!({ "status": "released" })
    );
    let m = minutes_json(&member, 46).await;
    assert_eq!(m["status"], "released");
    assert_eq!(m["versions"].as_array().expect("versions").len(), 1);
    assert_eq!(minutes_json(&visitor, 47).await, Value::Null);

    // Members may not change them.
    for path in ["erzeugen", "abschliessen", "freigeben", "bearbeiten"] {
        let r = member
            .post(&format!("{BASE}/{path}"), &[("remarks", "x")])
            .await;
        assert_eq!(r.status().as_u16(), 403, "{path}");
    }
    assert_eq!(
        member
            .get(&format!("{BASE}/bearbeiten"))
            .await
            .status()
            .as_u16(),
        403
    );

    // The office edits after the release: a new version, a draft only it sees.
    let r = admin
        .post(
            &format!("{BASE}/bearbeiten"),
            &[("remarks", "Entwurfsbemerkung zur zweiten Fassung")],
        )
        .await;
    assert_eq!(r.status().as_u16(), 303);
    let (_, html) = admin.get_text(BASE).await;
    assert!(text(&html).contains("Entwurfsbemerkung zur zweiten Fassung"));
    assert!(text(&html).contains("Fassung 2"));
    assert_eq!(minutes_json(&admin, 46).await["status"], "draft");
    let (_, html) = member.get_text(BASE).await;
    assert!(!html.contains("Entwurfsbemerkung"));
    assert_eq!(
        member
            .get(&format!("{BASE}/fassungen/2"))
            .await
            .status()
            .as_u16(),
        404
    );
    assert_eq!(
        member
            .get(&format!("{BASE}/fassungen/2/niederschrift.pdf"))
            .await
            .status()
            .as_u16(),
        404
    );
    let m = minutes_json(&member, 46).await;
    assert_eq!(m["version"], 1);
    assert!(!m.to_string().contains("draft"));
    assert_eq!(
        minutes_json(&visitor, 46).await,
        serde_json::json!({ "status": "released" })
    );

    // Too long a text: the message beside the field, nothing saved.
    let long = "x".repeat(konvent_store::MAX_MINUTES_TEXT + 1);
    let r = admin
        .post(&format!("{BASE}/bearbeiten"), &[("remarks", long.as_str())])
        .await;
    assert_eq!(r.status().as_u16(), 422);
    assert!(r.text().await.expect("body").contains("f-remarks-error"));

    // Finalised, not yet released: still only the office; released: the members too,
    // and the first version stays readable.
    assert_eq!(
        admin
            .post(&format!("{BASE}/freigeben"), &[])
            .await
            .status()
            .as_u16(),
        409
    );
    assert_eq!(
        admin
            .post(&format!("{BASE}/abschliessen"), &[])
            .await
            .status()
            .as_u16(),
        303
    );
    assert!(!member.get_text(BASE).await.1.contains("Entwurfsbemerkung"));
    assert_eq!(
        admin
            .post(&format!("{BASE}/freigeben"), &[])
            .await
            .status()
            .as_u16(),
        303
    );
    let (_, html) = member.get_text(BASE).await;
    assert!(text(&html).contains("Entwurfsbemerkung zur zweiten Fassung"));
    let (status, old) = member.get_text(&format!("{BASE}/fassungen/1")).await;
    assert_eq!(status, 200);
    assert!(!old.contains("Entwurfsbemerkung"));
    assert_eq!(
        minutes_json(&member, 46).await["versions"]
            .as_array()
            .expect("versions")
            .len(),
        2
    );

    // A session without minutes: the office generates the first version.
    let r = admin
        .post("/gremien/sitzungen/47/niederschrift/erzeugen", &[])
        .await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(minutes_json(&admin, 47).await["status"], "draft");
    assert_eq!(minutes_json(&member, 47).await, Value::Null);
    assert_eq!(minutes_json(&visitor, 47).await, Value::Null);
    // Without the CSRF token: refused.
    let r = admin
        .post_raw("/gremien/sitzungen/47/niederschrift/abschliessen", &[])
        .await;
    assert_eq!(r.status().as_u16(), 403);
}

/// The minutes' PDF is tagged PDF (PDF/UA-1): language, title, headings, lists and the
/// attendance table, checked by scripts/pdf_check.py with pikepdf.
#[tokio::test]
async fn the_minutes_pdf_is_tagged_for_screen_readers() {
    let Some(python) = python_with_pikepdf("the_minutes_pdf_is_tagged_for_screen_readers") else {
        return;
    };
    let app = spawn_app().await;
    let admin = app.admin().await;
    // The 48th session has attendance with a guest and two votes on its agenda item.
    let base = "/gremien/sitzungen/48/niederschrift";
    for step in ["erzeugen", "abschliessen", "freigeben"] {
        let r = admin.post(&format!("{base}/{step}"), &[]).await;
        assert_eq!(r.status().as_u16(), 303, "{step}");
    }
    let member = app.user(Role::Member).await;
    let r = member
        .get(&format!("{base}/fassungen/1/niederschrift.pdf"))
        .await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(
        r.headers()["content-type"].to_str().expect("type"),
        "application/pdf"
    );
    let pdf = r.bytes().await.expect("pdf");
    assert!(pdf.starts_with(b"%PDF-"));
    check_tagged_pdf(
        &python,
        &pdf,
        "niederschrift.pdf",
        "Niederschrift der 48. Sitzung des IT-Planungsrats",
    );
}

/// Releasing a version tells every council member once, in konvent and by mail (in
/// their language); nobody else; a release cannot happen twice for one version.
#[tokio::test]
async fn releasing_minutes_tells_each_member_once_in_konvent_and_by_mail() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let member = app.user(Role::Member).await;
    let member_id = app.account_id("member@test.example").await;
    app.store
        .save_mail_preferences(member_id, "en", &[])
        .await
        .expect("english");
    let participant = app.user(Role::Participant).await;
    let participant_id = app.account_id("participant@test.example").await;
    let base = "/gremien/sitzungen/47/niederschrift";
    for step in ["erzeugen", "abschliessen", "freigeben"] {
        let r = admin.post(&format!("{base}/{step}"), &[]).await;
        assert_eq!(r.status().as_u16(), 303, "{step}");
    }

    let accounts = app.store.accounts().await.expect("accounts");
    let members: Vec<_> = accounts
        .iter()
        .filter(|a| a.grants.iter().any(|g| g.role == Role::Member))
        .collect();
    assert!(
        members.len() > 1,
        "the demo's seat holders and the test member"
    );
    let released = |m: &konvent_store::InboxNotice| {
        m.kind == konvent_core::notifications::NoticeKind::MinutesReleased
            && m.subject_id == 47
            && m.version == 1
    };
    let mails = app.store.mails(1000).await.expect("outbox");
    let minutes_mails: Vec<_> = mails
        .iter()
        .filter(|m| m.kind == "minutes_released")
        .collect();
    assert_eq!(minutes_mails.len(), members.len(), "one mail per member");
    for m in &members {
        let inbox = app.store.inbox(m.id).await.expect("inbox");
        assert_eq!(
            inbox.iter().filter(|n| released(n)).count(),
            1,
            "{}",
            m.email
        );
        assert_eq!(
            minutes_mails
                .iter()
                .filter(|mail| mail.recipient == m.email)
                .count(),
            1,
            "{}",
            m.email
        );
    }
    // In the recipient's language; the mail says where, not what the minutes say.
    let theirs = minutes_mails
        .iter()
        .find(|m| m.recipient == "member@test.example")
        .expect("the member's mail");
    assert_eq!(theirs.language, "en");
    assert!(theirs.subject.contains("47"), "{}", theirs.subject);
    let german = minutes_mails
        .iter()
        .find(|m| m.recipient != "member@test.example")
        .expect("another member's mail");
    assert!(german.subject.starts_with("Niederschrift der 47. Sitzung"));

    // Nobody else: not the participant, not the office (unless a member).
    assert!(
        app.store
            .inbox(participant_id)
            .await
            .expect("inbox")
            .is_empty()
    );
    assert!(
        !minutes_mails
            .iter()
            .any(|m| m.recipient == "participant@test.example"
                || m.recipient == "admin@test.example")
    );
    let (_, page) = participant.get_text("/konto/benachrichtigungen").await;
    assert!(!page.contains("/niederschrift/fassungen/"), "{page}");

    // The member finds the notice on their page, linked to the version.
    let (status, page) = member.get_text("/konto/benachrichtigungen").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("href=\"/gremien/sitzungen/47/niederschrift/fassungen/1\""),
        "{page}"
    );

    // The same version is not released (nor told) twice; the next version is told.
    let r = admin.post(&format!("{base}/freigeben"), &[]).await;
    assert_eq!(r.status().as_u16(), 409);
    let count = |mails: &[konvent_store::OutboxMail]| {
        mails
            .iter()
            .filter(|m| m.kind == "minutes_released")
            .count()
    };
    assert_eq!(
        count(&app.store.mails(1000).await.expect("outbox")),
        members.len()
    );
    for step in ["bearbeiten", "abschliessen", "freigeben"] {
        let r = admin
            .post(&format!("{base}/{step}"), &[("remarks", "Zweite Fassung")])
            .await;
        assert_eq!(r.status().as_u16(), 303, "{step}");
    }
    assert_eq!(
        count(&app.store.mails(1000).await.expect("outbox")),
        2 * members.len()
    );
    assert_eq!(app.store.inbox(member_id).await.expect("inbox").len(), 2);
}
