//! Meeting invitations from the office's buttons (the mails and their calendar entries
//! are tested against a real SMTP server in crates/konvent/tests/mail.rs).

use konvent_core::authz::Role;
use konvent_store::MeetingKind;

use crate::helpers::spawn_app;

#[tokio::test]
async fn only_the_office_sends_invitations_and_each_invitee_gets_one_mail() {
    let app = spawn_app().await;
    let member = app.user(Role::Member).await;
    let session = app.store.session(48).await.expect("session");

    let response = member.post("/gremien/sitzungen/48/einladungen", &[]).await;
    assert_eq!(response.status(), 403);
    assert!(
        app.store
            .meeting_invitation(MeetingKind::Session, session.id.get())
            .await
            .expect("read")
            .is_none(),
        "nothing recorded"
    );
    assert!(app.store.mails(10).await.expect("mails").is_empty());

    let admin = app.admin().await;
    let response = admin.post("/gremien/sitzungen/48/einladungen", &[]).await;
    assert_eq!(response.status(), 303);
    let sent = app
        .store
        .meeting_invitation(MeetingKind::Session, session.id.get())
        .await
        .expect("read")
        .expect("recorded");
    assert!(
        sent.invitees
            .iter()
            .any(|i| i.email == "member@test.example"),
        "{sent:?}"
    );
    let mails = app.store.mails(100).await.expect("mails");
    assert_eq!(mails.len(), sent.invitees.len());
    assert!(mails.iter().all(|m| m.kind == "meeting_invitation"));

    // Again: nobody is mailed twice.
    admin.post("/gremien/sitzungen/48/einladungen", &[]).await;
    assert_eq!(
        app.store.mails(100).await.expect("mails").len(),
        mails.len()
    );

    // A follow-up meeting that does not exist: 404.
    let response = admin
        .post("/gremien/sitzungen/48/nachbesprechung/einladungen", &[])
        .await;
    assert!(matches!(response.status().as_u16(), 303 | 404));
}

#[tokio::test]
async fn a_move_whose_update_a_dying_node_missed_is_sent_by_the_next_look_once() {
    let app = spawn_app().await;
    let _member = app.user(Role::Member).await;
    let admin = app.admin().await;
    let response = admin.post("/gremien/sitzungen/48/einladungen", &[]).await;
    assert_eq!(response.status(), 303);
    let invited = app.store.mails(100).await.expect("mails").len();
    assert!(invited > 0);

    // The session moves, and the node dies before it sends the updates: the change is
    // saved as the edit form saves it, without what follows the save.
    let s = app.store.session(48).await.expect("session");
    let moved = konvent_core::gremien::council::SessionInput {
        number: s.number,
        date: s.date.tomorrow().expect("a day later"),
        start_time: s.start_time,
        end_time: s.end_time,
        place: s.place.clone(),
        video_url: s.video_url.clone(),
        state: s.state,
    };
    app.store
        .update_session(&konvent_store::Actor::system("test"), 48, &moved, 21)
        .await
        .expect("saved");
    assert_eq!(app.store.mails(100).await.expect("mails").len(), invited);

    konvent_web::reconcile_meeting_invitations(&app.state)
        .await
        .expect("look");
    let mails = app.store.mails(200).await.expect("mails");
    let updates = mails.iter().filter(|m| m.kind == "meeting_update").count();
    assert_eq!(updates, invited, "an update to everybody invited");
    // A second look (or another node's) finds nothing missed.
    konvent_web::reconcile_meeting_invitations(&app.state)
        .await
        .expect("look");
    assert_eq!(
        app.store.mails(200).await.expect("mails").len(),
        mails.len()
    );
}
