//! Networking (K15+, K16+): who sees a profile, contact requests over real sockets,
//! silent declines, blocks, people who marked the same connection point, the vCard and
//! the request budget.

use konvent_core::authz::Role;
use konvent_core::demo;
use konvent_core::ids::{AccountId, EventId};
use konvent_core::strategy::FollowTarget;
use konvent_store::EventRole;
use serde_json::json;

use crate::helpers::{TestApp, User, spawn_app, text};
use crate::ws::connect;

const EVENT: &str = "/konvent/strategiekonvent-2025";

/// A signed-in account `name@test.example`, registered for the demo event unless
/// `registered` is false.
async fn person(app: &TestApp, name: &str, registered: bool) -> (User, AccountId) {
    let user = app.user_named(Role::Participant, name).await;
    let id = app.account_id(&format!("{name}@test.example")).await;
    if registered {
        let event = app.store.event(demo::KONVENT_SLUG).await.expect("event");
        app.store
            .add_to_event(event.id, id, EventRole::Participant)
            .await
            .expect("registered");
    }
    (user, id)
}

/// Saves a profile through the form; `extra` adds or overrides fields.
async fn profile(
    user: &User,
    path: &str,
    visibility: &str,
    organisation: &str,
    extra: &[(&str, &str)],
) {
    let mut form = vec![
        ("visibility", visibility),
        ("organisation", organisation),
        ("role", "Referentin"),
        ("region", "Hessen"),
        ("about", "Ich vernetze gern."),
        ("tags", "Cloud, KI"),
    ];
    form.extend_from_slice(extra);
    let r = user.post(path, &form).await;
    assert_eq!(
        r.status(),
        303,
        "profile saved: {}",
        r.text().await.unwrap_or_default()
    );
}

async fn people_page(user: &User, query: &str) -> (u16, String) {
    user.get_text(&format!("{EVENT}/teilnehmende{query}")).await
}

#[tokio::test]
async fn a_profile_is_seen_only_by_whom_its_visibility_names() {
    let app = spawn_app().await;
    let (hidden, _) = person(&app, "verborgen", true).await;
    let (event_only, _) = person(&app, "nurhier", true).await;
    let (everybody, _) = person(&app, "alle", true).await;
    let (viewer, _) = person(&app, "schaut", true).await;
    let (outsider, _) = person(&app, "draussen", false).await;
    profile(
        &hidden,
        &format!("{EVENT}/profil"),
        "nobody",
        "Amt Unsichtbar",
        &[],
    )
    .await;
    profile(
        &event_only,
        &format!("{EVENT}/profil"),
        "event",
        "Amt Veranstaltung",
        &[],
    )
    .await;
    profile(
        &everybody,
        "/konto/profil",
        "signed_in",
        "Amt Öffentlich",
        &[],
    )
    .await;

    let (status, page) = people_page(&viewer, "").await;
    assert_eq!(status, 200);
    let page = text(&page);
    assert!(
        page.contains("nurhier") && page.contains("Amt Veranstaltung"),
        "{page}"
    );
    assert!(
        page.contains("alle") && page.contains("Amt Öffentlich"),
        "{page}"
    );
    assert!(
        !page.contains("verborgen") && !page.contains("Amt Unsichtbar"),
        "{page}"
    );

    // Filters (GET form, no JavaScript): by organisation, and "online now".
    let (_, filtered) = people_page(&viewer, "?organisation=Amt+Veranstaltung").await;
    assert!(filtered.contains("<h2>nurhier") && !filtered.contains("<h2>alle"));
    let (_, online) = people_page(&viewer, "?online=1").await;
    assert!(!online.contains("<h2>nurhier"), "nobody is connected");

    // Somebody signed in who is not a participant, and a visitor, see no list.
    let (status, page) = people_page(&outsider, "").await;
    assert_ne!(status, 200);
    assert!(!page.contains("Amt Veranstaltung"));
    let (status, page) = people_page(&app.visitor(), "").await;
    assert_eq!(status, 303, "sign in first");
    assert!(!page.contains("Amt Veranstaltung"));

    // The event's own profile wins over the konvent-wide one; deleting it brings that back.
    profile(
        &everybody,
        &format!("{EVENT}/profil"),
        "nobody",
        "Amt Öffentlich",
        &[],
    )
    .await;
    let (_, page) = people_page(&viewer, "").await;
    assert!(!text(&page).contains("Amt Öffentlich"));
    let r = everybody
        .post(&format!("{EVENT}/profil"), &[("delete", "1")])
        .await;
    assert_eq!(r.status(), 303);
    let (_, page) = people_page(&viewer, "").await;
    assert!(text(&page).contains("Amt Öffentlich"));
}

#[tokio::test]
async fn bad_profile_input_is_refused_beside_its_field_and_nothing_is_stored() {
    let app = spawn_app().await;
    let (anna, id) = person(&app, "anna", true).await;
    let long = "x".repeat(301);
    let r = anna
        .post(
            "/konto/profil",
            &[
                ("visibility", "event"),
                ("about", long.as_str()),
                ("tags", "a,b,c,d,e,f,g,h,i"),
            ],
        )
        .await;
    assert_eq!(r.status(), 422);
    let page = r.text().await.expect("body");
    assert!(
        page.contains("f-about-error") && page.contains("f-tags-error"),
        "{page}"
    );
    let r = anna
        .post("/konto/profil", &[("visibility", "everybody")])
        .await;
    assert_eq!(r.status(), 422);
    assert!(
        app.store
            .own_profile(id, EventId::new(0))
            .await
            .expect("read")
            .is_none()
    );
}

#[tokio::test]
async fn an_accepted_request_lets_two_write_to_each_other_live_and_after_a_reload() {
    let app = spawn_app().await;
    let (anna, anna_id) = person(&app, "anna", true).await;
    let (bert, bert_id) = person(&app, "bert", true).await;
    profile(
        &anna,
        "/konto/profil",
        "event",
        "FITKO",
        &[("share_email", "1"), ("phone", "+49 69 1234")],
    )
    .await;
    profile(&bert, "/konto/profil", "event", "Land Hessen", &[]).await;

    // Before they are contacts, Anna may not write to Bert.
    let mut anna_ws = connect(&app, &anna.cookie, "").await;
    let refused = anna_ws
        .command(json!({ "t": "dm", "id": "x1", "to": bert_id, "text": "zu früh" }))
        .await;
    assert_eq!(refused["t"], "error", "{refused}");

    let r = anna
        .post(
            &format!("{EVENT}/kontakte/anfrage"),
            &[
                ("an", &bert_id.to_string()),
                ("nachricht", "Reden wir über Cloud?"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let (_, contacts) = bert.get_text(&format!("{EVENT}/kontakte")).await;
    assert!(contacts.contains("Reden wir über Cloud?"), "{contacts}");
    let request = app
        .store
        .contact_overview(bert_id)
        .await
        .expect("overview")
        .incoming[0]
        .id;
    let r = bert
        .post(
            &format!("{EVENT}/kontakte/{request}/antwort"),
            &[("annehmen", "1")],
        )
        .await;
    assert_eq!(r.status(), 303);

    // Bert sees what Anna's profile shares with contacts; the list shows no phone.
    let (_, contacts) = bert.get_text(&format!("{EVENT}/kontakte")).await;
    assert!(contacts.contains("anna@test.example") && contacts.contains("+49 69 1234"));
    let (_, list) = people_page(&bert, "").await;
    assert!(!list.contains("+49 69 1234"));
    // Anna is a recipient in Bert's message form.
    let (_, messages) = bert.get_text(&format!("{EVENT}/nachrichten")).await;
    assert!(
        messages.contains(&format!("value=\"{anna_id}\"")),
        "{messages}"
    );

    let mut bert_ws = connect(&app, &bert.cookie, "").await;
    let sent = anna_ws
        .command(json!({ "t": "dm", "id": "m1", "to": bert_id, "text": "Hallo Bert" }))
        .await;
    assert_eq!(sent["t"], "ack", "{sent}");
    let arrived = bert_ws
        .until(|f| f["t"] == "ev" && f["kind"] == "dm" && f["data"]["text"] == "Hallo Bert")
        .await;
    assert_eq!(arrived["data"]["from"]["id"], anna_id.get());
    let answer = bert_ws
        .command(json!({ "t": "dm", "id": "m2", "to": anna_id, "text": "Hallo Anna" }))
        .await;
    assert_eq!(answer["t"], "ack");
    anna_ws
        .until(|f| f["t"] == "ev" && f["kind"] == "dm" && f["data"]["text"] == "Hallo Anna")
        .await;

    // Both survive a reload.
    let (_, page) = bert.get_text(&format!("{EVENT}/nachrichten")).await;
    assert!(page.contains("Hallo Bert") && page.contains("Hallo Anna"));

    // Now online, both show as such in the list, filtered by "online now".
    let (_, online) = people_page(&anna, "?online=1").await;
    let online = text(&online);
    assert!(
        online.contains("bert") && online.contains("Land Hessen"),
        "{online}"
    );
}

#[tokio::test]
async fn a_decline_is_silent_and_nobody_asks_twice() {
    let app = spawn_app().await;
    let (anna, _) = person(&app, "anna", true).await;
    let (bert, bert_id) = person(&app, "bert", true).await;
    profile(&bert, "/konto/profil", "event", "Land Hessen", &[]).await;
    let bert_text = bert_id.to_string();
    let path = format!("{EVENT}/kontakte/anfrage");
    let form = [("an", bert_text.as_str())];
    let ask = || anna.post(&path, &form);
    assert_eq!(ask().await.status(), 303);
    let request = app
        .store
        .contact_overview(bert_id)
        .await
        .expect("overview")
        .incoming[0]
        .id;
    let r = bert
        .post(
            &format!("{EVENT}/kontakte/{request}/antwort"),
            &[("annehmen", "0")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let (_, bert_page) = bert.get_text(&format!("{EVENT}/kontakte")).await;
    assert!(
        !text(&bert_page).contains("anna"),
        "declined: gone from Bert's list"
    );

    // Anna still sees her request as asked, and cannot ask again.
    let (_, anna_page) = anna.get_text(&format!("{EVENT}/kontakte")).await;
    let anna_page = text(&anna_page);
    assert!(anna_page.contains("bert angefragt"), "{anna_page}");
    assert!(!anna_page.contains("abgelehnt"));
    assert_eq!(ask().await.status(), 409);
    // Her data export does not tell either.
    let export = anna.get_text("/konto/daten.json").await.1;
    assert!(!export.contains("declined"), "{export}");
    // Answering again or somebody else's request: not found.
    let r = anna
        .post(
            &format!("{EVENT}/kontakte/{request}/antwort"),
            &[("annehmen", "1")],
        )
        .await;
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn a_second_request_is_refused_in_the_askers_language() {
    let app = spawn_app().await;
    let (mut anna, _) = person(&app, "anna", true).await;
    let (bert, bert_id) = person(&app, "bert", true).await;
    profile(&bert, "/konto/profil", "event", "Land Hessen", &[]).await;
    let bert_text = bert_id.to_string();
    let path = format!("{EVENT}/kontakte/anfrage");
    let form = [("an", bert_text.as_str())];
    assert_eq!(anna.post(&path, &form).await.status(), 303);
    let german = anna.post(&path, &form).await;
    assert_eq!(german.status(), 409);
    let german = text(&german.text().await.expect("body"));
    assert!(
        german.contains("Sie haben diese Person schon angefragt."),
        "{german}"
    );

    anna.reads_english();
    let english = anna.post(&path, &form).await;

    assert_eq!(english.status(), 409);
    let english = text(&english.text().await.expect("body"));
    assert!(
        english.contains("You have already sent this person a request."),
        "{english}"
    );
    assert!(!english.contains("angefragt"), "{english}");
}

#[tokio::test]
async fn a_block_stops_requests_and_messages() {
    let app = spawn_app().await;
    let (anna, anna_id) = person(&app, "anna", true).await;
    let (bert, bert_id) = person(&app, "bert", true).await;
    profile(&anna, "/konto/profil", "event", "FITKO", &[]).await;
    profile(&bert, "/konto/profil", "event", "Land Hessen", &[]).await;
    anna.post(
        &format!("{EVENT}/kontakte/anfrage"),
        &[("an", &bert_id.to_string())],
    )
    .await;
    let request = app
        .store
        .contact_overview(bert_id)
        .await
        .expect("overview")
        .incoming[0]
        .id;
    bert.post(
        &format!("{EVENT}/kontakte/{request}/antwort"),
        &[("annehmen", "1")],
    )
    .await;
    assert!(
        app.store
            .are_contacts(anna_id, bert_id)
            .await
            .expect("contacts")
    );

    let r = bert
        .post(
            &format!("{EVENT}/kontakte/sperren"),
            &[("wer", &anna_id.to_string()), ("an", "1")],
        )
        .await;
    assert_eq!(r.status(), 303);
    let mut anna_ws = connect(&app, &anna.cookie, "").await;
    let refused = anna_ws
        .command(json!({ "t": "dm", "id": "b1", "to": bert_id, "text": "trotzdem" }))
        .await;
    assert_eq!(refused["t"], "error", "{refused}");
    let r = anna
        .post(
            "/konvent/strategiekonvent-2025/aktion",
            &[
                ("t", "dm"),
                ("to", &bert_id.to_string()),
                ("text", "per Formular"),
            ],
        )
        .await;
    assert_eq!(r.status(), 403);
    // Bert asking Anna is refused too, either way round.
    let r = anna
        .post(
            &format!("{EVENT}/kontakte/anfrage"),
            &[("an", &bert_id.to_string())],
        )
        .await;
    assert_eq!(r.status(), 409);
    let r = bert
        .post(
            &format!("{EVENT}/kontakte/anfrage"),
            &[("an", &anna_id.to_string())],
        )
        .await;
    assert_eq!(r.status(), 409);
    let (_, vcard) = bert.get_text("/konto/kontakte.vcf").await;
    assert!(
        !vcard.contains("anna"),
        "a blocked contact leaves the vCard"
    );
    let (_, contacts) = bert.get_text(&format!("{EVENT}/kontakte")).await;
    assert!(contacts.contains("Sperre aufheben"));
}

#[tokio::test]
async fn people_who_marked_the_same_point_find_each_other_and_start_a_group() {
    let app = spawn_app().await;
    let (anna, anna_id) = person(&app, "anna", true).await;
    let (bert, bert_id) = person(&app, "bert", true).await;
    let (carl, carl_id) = person(&app, "carl", true).await;
    let topic = app.store.topics().await.expect("topics")[0].clone();
    for id in [anna_id, bert_id, carl_id] {
        app.store
            .follow(id, FollowTarget::Topic, topic.id.get(), true)
            .await
            .expect("marked");
    }
    profile(
        &anna,
        "/konto/profil",
        "signed_in",
        "FITKO",
        &[("match_points", "1")],
    )
    .await;
    profile(
        &bert,
        "/konto/profil",
        "nobody",
        "Amt Geheim",
        &[("match_points", "1")],
    )
    .await;
    // Carl marked it too, but does not allow being found.
    profile(&carl, "/konto/profil", "signed_in", "Amt Carl", &[]).await;

    let (_, page) = anna.get_text("/meine-ergebnisse").await;
    let page = text(&page);
    assert!(
        page.contains(&topic.title) && page.contains("bert"),
        "{page}"
    );
    assert!(!page.contains("carl"), "{page}");
    assert!(
        !page.contains("Amt Geheim"),
        "a hidden profile shows the name only"
    );
    let (_, bert_page) = bert.get_text("/meine-ergebnisse").await;
    assert!(text(&bert_page).contains("anna (FITKO)"));
    // Carl, who does not allow it, sees nobody.
    let (_, carl_page) = carl.get_text("/meine-ergebnisse").await;
    assert!(!text(&carl_page).contains("anna (FITKO)"));

    // A request from there, and a follow-up group.
    assert_eq!(ask(&anna, bert_id.get(), "").await, 303);
    assert_eq!(
        ask(&anna, carl_id.get(), "").await,
        404,
        "Carl is not shown, so cannot be asked from there"
    );
    let target = topic.id.to_string();
    let r = anna
        .post(
            "/meine-ergebnisse/gruppen",
            &[
                ("name", "Cloud-Runde"),
                ("target", "topic"),
                ("id", &target),
                ("mitglied", &bert_id.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let r = anna
        .post(
            "/meine-ergebnisse/gruppen",
            &[
                ("name", "Mit Carl"),
                ("target", "topic"),
                ("id", &target),
                ("mitglied", &carl_id.to_string()),
            ],
        )
        .await;
    assert_eq!(r.status(), 409);
    let (_, bert_page) = bert.get_text("/meine-ergebnisse").await;
    let bert_page = text(&bert_page);
    assert!(
        bert_page.contains("Cloud-Runde : anna, bert"),
        "{bert_page}"
    );
    assert!(!bert_page.contains("Mit Carl"));
    let export = bert.get_text("/konto/daten.json").await.1;
    assert!(export.contains("Cloud-Runde"));
}

#[tokio::test]
async fn the_vcard_holds_only_what_each_contact_shares() {
    let app = spawn_app().await;
    let (anna, anna_id) = person(&app, "anna", true).await;
    let (bert, bert_id) = person(&app, "bert", true).await;
    let (carl, carl_id) = person(&app, "carl", true).await;
    profile(&anna, "/konto/profil", "event", "FITKO", &[]).await;
    profile(
        &bert,
        "/konto/profil",
        "event",
        "Land; Hessen",
        &[("share_email", "1"), ("phone", "0611 123")],
    )
    .await;
    profile(
        &carl,
        "/konto/profil",
        "event",
        "Amt Carl",
        &[("phone", "0228 999")],
    )
    .await;
    for (other, id) in [(&bert, bert_id), (&carl, carl_id)] {
        anna.post(
            &format!("{EVENT}/kontakte/anfrage"),
            &[("an", &id.to_string())],
        )
        .await;
        let request = app
            .store
            .contact_overview(id)
            .await
            .expect("overview")
            .incoming[0]
            .id;
        other
            .post(
                &format!("{EVENT}/kontakte/{request}/antwort"),
                &[("annehmen", "1")],
            )
            .await;
    }
    let r = anna.get("/konto/kontakte.vcf").await;
    assert_eq!(r.status(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .expect("type")
            .starts_with("text/vcard")
    );
    let vcard = r.text().await.expect("body");
    assert_eq!(
        vcard.matches("BEGIN:VCARD\r\nVERSION:4.0\r\n").count(),
        2,
        "{vcard}"
    );
    assert!(vcard.contains("FN:bert\r\n") && vcard.contains("ORG:Land\\; Hessen\r\n"));
    assert!(
        vcard.contains("EMAIL:bert@test.example\r\n") && vcard.contains("TEL;VALUE=text:0611 123")
    );
    assert!(vcard.contains("FN:carl\r\n") && vcard.contains("0228 999"));
    assert!(
        !vcard.contains("carl@test.example"),
        "Carl shares no address"
    );
    assert!(!vcard.contains("anna"), "not one's own card");
    let _ = anna_id;
    let (status, _) = app.visitor().get_text("/konto/kontakte.vcf").await;
    assert_eq!(status, 303);
}

#[tokio::test]
async fn contact_requests_are_budgeted() {
    let app = spawn_app().await;
    let (anna, _) = person(&app, "anna", true).await;
    let mut last = 0;
    for n in 0..=konvent_core::convention::networking::REQUESTS_PER_HOUR {
        let (other, id) = person(&app, &format!("p{n}"), true).await;
        profile(&other, "/konto/profil", "event", "Amt", &[]).await;
        let r = anna
            .post(
                &format!("{EVENT}/kontakte/anfrage"),
                &[("an", &id.to_string())],
            )
            .await;
        last = r.status().as_u16();
        if n < konvent_core::convention::networking::REQUESTS_PER_HOUR {
            assert_eq!(last, 303, "request {n}");
        }
    }
    assert_eq!(last, 429);
    // A message over the limit is refused before anything is stored.
    let (bert, bert_id) = person(&app, "bert", true).await;
    profile(&bert, "/konto/profil", "event", "Amt", &[]).await;
    let (carl, _) = person(&app, "carl", true).await;
    let long = "x".repeat(301);
    let r = carl
        .post(
            &format!("{EVENT}/kontakte/anfrage"),
            &[("an", &bert_id.to_string()), ("nachricht", &long)],
        )
        .await;
    assert_eq!(r.status(), 400);
    assert!(
        app.store
            .contact_overview(bert_id)
            .await
            .expect("o")
            .incoming
            .is_empty()
    );
}

#[tokio::test]
async fn a_request_to_somebody_without_a_visible_profile_is_not_found() {
    let app = spawn_app().await;
    let (anna, _) = person(&app, "anna", true).await;
    let (bert, bert_id) = person(&app, "bert", true).await;
    profile(&bert, "/konto/profil", "nobody", "Amt", &[]).await;
    let r = anna
        .post(
            &format!("{EVENT}/kontakte/anfrage"),
            &[("an", &bert_id.to_string())],
        )
        .await;
    assert_eq!(r.status(), 404);
}

#[tokio::test]
async fn the_people_list_follows_presence_live_and_its_frames_carry_nobody() {
    let app = spawn_app().await;
    let (anna, _) = person(&app, "anna", true).await;
    let (bert, _) = person(&app, "bert", true).await;
    let (carl, _) = person(&app, "carl", true).await;
    profile(
        &anna,
        &format!("{EVENT}/profil"),
        "event",
        "Amt Anna",
        &[("show_location", "1")],
    )
    .await;
    profile(&bert, &format!("{EVENT}/profil"), "nobody", "Amt Bert", &[]).await;

    // The page names the region, where to fetch it, and that its socket watches it.
    let (_, page) = people_page(&carl, "?online=1").await;
    assert!(
        page.contains("id=\"people-list\"")
            && page.contains(
                "data-fragment-url=\"/konvent/strategiekonvent-2025/teilnehmende/liste?online=1\""
            )
            && page.contains("data-watch=\"teilnehmende\""),
        "{page}"
    );
    let mut watcher = connect(&app, &carl.cookie, "?liste=teilnehmende").await;
    let (_, before) = carl
        .get_text(&format!("{EVENT}/teilnehmende/liste?online=1"))
        .await;
    assert!(!before.contains("Amt Anna"), "Anna is not online yet");

    // Anna comes online, in the plenary: the list is told to refresh, and its region
    // (the page's own template) shows her there, with the way to her on the map.
    let _anna_ws = connect(&app, &anna.cookie, "?room=plenum").await;
    let frame = watcher.until(|f| f["t"] == "refresh").await;
    assert_eq!(frame, json!({ "t": "refresh", "id": "people-list" }));
    let (status, region) = carl
        .get_text(&format!("{EVENT}/teilnehmende/liste?online=1"))
        .await;
    assert_eq!(status, 200);
    assert!(region.starts_with("<div id=\"people-list\""), "{region}");
    assert!(
        region.contains("Amt Anna") && region.contains("karte?zu=plenum"),
        "{region}"
    );
    let (_, page) = people_page(&carl, "?online=1").await;
    assert!(
        page.contains(region.trim()),
        "the page holds the same region"
    );

    // Bert, whose profile is visible to nobody, comes online: a frame, but neither it
    // nor the region names him.
    let _bert_ws = connect(&app, &bert.cookie, "").await;
    let frame = watcher.until(|f| f["t"] == "refresh").await;
    assert!(!frame.to_string().contains("bert"));
    let (_, region) = carl.get_text(&format!("{EVENT}/teilnehmende/liste")).await;
    assert!(!region.contains("Amt Bert") && !region.contains(">bert"));

    // Not for somebody outside the event.
    let (outsider, _) = person(&app, "draussen", false).await;
    let (status, region) = outsider
        .get_text(&format!("{EVENT}/teilnehmende/liste"))
        .await;
    assert_ne!(status, 200);
    assert!(!region.contains("Amt Anna"));
}

#[tokio::test]
async fn the_message_of_a_contact_request_goes_to_the_moderators_when_reported() {
    let app = spawn_app().await;
    let (anna, _) = person(&app, "anna", true).await;
    let (bert, bert_id) = person(&app, "bert", true).await;
    let (carl, _) = person(&app, "carl", true).await;
    profile(&bert, "/konto/profil", "event", "Land Hessen", &[]).await;
    anna.post(
        &format!("{EVENT}/kontakte/anfrage"),
        &[
            ("an", &bert_id.to_string()),
            ("nachricht", "Kaufen Sie jetzt Bitcoin"),
        ],
    )
    .await;
    let request = app
        .store
        .contact_overview(bert_id)
        .await
        .expect("overview")
        .incoming[0]
        .id
        .to_string();
    let (_, page) = bert.get_text(&format!("{EVENT}/kontakte")).await;
    assert!(page.contains("name=\"item\" value=\"contact\""), "{page}");
    let path = format!("{EVENT}/aktion");
    let form = [
        ("t", "report"),
        ("item", "contact"),
        ("target", request.as_str()),
        ("reason", "Werbung"),
        ("zurueck", "/konvent/strategiekonvent-2025/kontakte"),
    ];
    // Only the recipient may report it.
    assert_ne!(carl.post(&path, &form).await.status(), 303);
    assert_eq!(bert.post(&path, &form).await.status(), 303);
    let admin = app.admin().await;
    let (_, queue) = admin.get_text(&format!("{EVENT}/moderation")).await;
    assert!(
        queue.contains("Kaufen Sie jetzt Bitcoin") && queue.contains("Werbung"),
        "{queue}"
    );
    // The moderators remove it: the message is gone and the request declined.
    let r = admin
        .post(
            &format!("{EVENT}/aktion"),
            &[
                ("t", "remove"),
                ("item", "contact"),
                ("target", request.as_str()),
                ("reason", ""),
                ("zurueck", "/konvent/strategiekonvent-2025/moderation"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let (_, page) = bert.get_text(&format!("{EVENT}/kontakte")).await;
    assert!(!page.contains("Bitcoin"), "{page}");
    assert!(
        app.store
            .contact_overview(bert_id)
            .await
            .expect("overview")
            .incoming
            .is_empty()
    );
}

#[tokio::test]
async fn a_follow_up_groups_date_goes_out_as_a_calendar_invitation() {
    let app = spawn_app().await;
    let (anna, anna_id) = person(&app, "anna", true).await;
    let (bert, bert_id) = person(&app, "bert", true).await;
    let (carl, _) = person(&app, "carl", true).await;
    let topic = app.store.topics().await.expect("topics")[0].clone();
    for id in [anna_id, bert_id] {
        app.store
            .follow(id, FollowTarget::Topic, topic.id.get(), true)
            .await
            .expect("marked");
    }
    for who in [&anna, &bert] {
        profile(
            who,
            "/konto/profil",
            "event",
            "Amt",
            &[("match_points", "1")],
        )
        .await;
    }
    let group = app
        .store
        .start_group(
            anna_id,
            "Cloud-Runde",
            FollowTarget::Topic,
            topic.id.get(),
            &[bert_id],
            None,
        )
        .await
        .expect("group");
    // Bert reads his mails in English.
    app.store
        .save_mail_preferences(bert_id, "en", &[])
        .await
        .expect("language");
    let day = (jiff::Zoned::now().date() + jiff::Span::new().days(3)).to_string();
    let path = format!("/meine-ergebnisse/gruppen/{group}/termin");
    let form = [
        ("datum", day.as_str()),
        ("uhrzeit", "14:30"),
        ("dauer", "90"),
        ("ort", "Raum Elbe"),
    ];
    // Not a member: not found. A date in the past: refused, nothing sent.
    assert_eq!(carl.post(&path, &form).await.status(), 404);
    let r = bert
        .post(
            &path,
            &[("datum", "2020-01-01"), ("uhrzeit", "10:00"), ("ort", "")],
        )
        .await;
    assert_eq!(r.status(), 400);
    assert_eq!(bert.post(&path, &form).await.status(), 303);
    let mails: Vec<_> = app
        .store
        .mails(100)
        .await
        .expect("mails")
        .into_iter()
        .filter(|m| m.kind == "follow_up_meeting")
        .collect();
    let mut to: Vec<_> = mails.iter().map(|m| m.recipient.clone()).collect();
    to.sort();
    assert_eq!(to, ["anna@test.example", "bert@test.example"]);
    // Each in the recipient's mail language.
    let subject = |to: &str| {
        mails
            .iter()
            .find(|m| m.recipient == to)
            .map(|m| (m.language.clone(), m.subject.clone()))
            .expect("mail")
    };
    assert_eq!(
        subject("bert@test.example"),
        ("en".to_owned(), "Date proposal: Cloud-Runde".to_owned())
    );
    assert_eq!(
        subject("anna@test.example"),
        ("de".to_owned(), "Terminvorschlag: Cloud-Runde".to_owned())
    );
    let (_, mine) = anna.get_text("/meine-ergebnisse").await;
    let mine = text(&mine);
    assert!(
        mine.contains("Vorgeschlagener Termin")
            && mine.contains("14:30")
            && mine.contains("Raum Elbe"),
        "{mine}"
    );
    let _ = group;
}

/// Anna and Bert (registered for the demo event unless `registered` says otherwise)
/// marked the first focus topic and allow being found; answers the topic's id.
async fn two_peers(app: &TestApp, people: &[(&User, i64)]) -> i64 {
    let topic = app.store.topics().await.expect("topics")[0].clone();
    for (who, id) in people {
        app.store
            .follow(
                AccountId::new(*id),
                FollowTarget::Topic,
                topic.id.get(),
                true,
            )
            .await
            .expect("marked");
        profile(
            who,
            "/konto/profil",
            "event",
            "Amt",
            &[("match_points", "1")],
        )
        .await;
    }
    topic.id.get()
}

#[tokio::test]
async fn a_follow_up_group_meets_in_a_room_of_the_event_that_its_members_find_linked() {
    let app = spawn_app().await;
    let (anna, anna_id) = person(&app, "anna", true).await;
    let (bert, bert_id) = person(&app, "bert", true).await;
    let (out, out_id) = person(&app, "draussen", false).await;
    let topic = two_peers(
        &app,
        &[
            (&anna, anna_id.get()),
            (&bert, bert_id.get()),
            (&out, out_id.get()),
        ],
    )
    .await;
    let topic_title = app.store.topics().await.expect("topics")[0].title.clone();
    let event = app.store.event(demo::KONVENT_SLUG).await.expect("event");
    let lounge = app
        .store
        .rooms(event.id)
        .await
        .expect("rooms")
        .into_iter()
        .find(|r| r.kind == konvent_core::convention::RoomKind::Lounge)
        .expect("a lounge");

    // The start form offers the event's rooms and a new one; the outsider's none.
    let (_, mine) = anna.get_text("/meine-ergebnisse").await;
    assert!(
        mine.contains(&format!("value=\"r{}\"", lounge.id))
            && mine.contains(&format!("value=\"neu{}\"", event.id)),
        "{mine}"
    );
    let (_, theirs) = out.get_text("/meine-ergebnisse").await;
    assert!(!theirs.contains("name=\"raum\""), "{theirs}");

    // Somebody outside the event cannot put a group in its rooms: refused, no group.
    let topic_id = topic.to_string();
    let anna_s = anna_id.to_string();
    let lounge_choice = format!("r{}", lounge.id);
    let r = out
        .post(
            "/meine-ergebnisse/gruppen",
            &[
                ("name", "Fremdgruppe"),
                ("target", "topic"),
                ("id", &topic_id),
                ("mitglied", &anna_s),
                ("raum", &lounge_choice),
            ],
        )
        .await;
    assert_eq!(r.status(), 409);
    assert!(
        app.store
            .groups_of(out_id)
            .await
            .expect("groups")
            .is_empty()
    );

    // Anna starts a group with a new small room, named after the connection point.
    let bert_s = bert_id.to_string();
    let new_room = format!("neu{}", event.id);
    let r = anna
        .post(
            "/meine-ergebnisse/gruppen",
            &[
                ("name", "Cloud-Runde"),
                ("target", "topic"),
                ("id", &topic_id),
                ("mitglied", &bert_s),
                ("raum", &new_room),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let group = app.store.groups_of(bert_id).await.expect("groups")[0].clone();
    let room = group.room.clone().expect("a room");
    assert_eq!(room.name, topic_title);
    assert_eq!(room.event_slug, demo::KONVENT_SLUG);
    let created = app
        .store
        .rooms(event.id)
        .await
        .expect("rooms")
        .into_iter()
        .find(|r| r.slug == room.slug)
        .expect("the room exists in the event");
    assert_eq!(created.kind, konvent_core::convention::RoomKind::Other);
    // Bert sees the link in "Meine Ergebnisse", and the room's page opens for him.
    let link = format!("{EVENT}/raeume/{}", room.slug);
    let (_, mine) = bert.get_text("/meine-ergebnisse").await;
    assert!(mine.contains(&format!("href=\"{link}\"")), "{mine}");
    let (status, _) = bert.get_text(&link).await;
    assert_eq!(status, 200);

    // Only the starter changes the room; Anna moves it to the lounge.
    let path = format!("/meine-ergebnisse/gruppen/{}/raum", group.id);
    assert_eq!(
        bert.post(&path, &[("raum", &lounge_choice)]).await.status(),
        404
    );
    assert_eq!(
        anna.post(&path, &[("raum", "irgendwo")]).await.status(),
        400
    );
    assert_eq!(
        anna.post(&path, &[("raum", &lounge_choice)]).await.status(),
        303
    );
    let (_, mine) = bert.get_text("/meine-ergebnisse").await;
    assert!(
        mine.contains(&format!("href=\"{EVENT}/raeume/{}\"", lounge.slug)),
        "{mine}"
    );

    // A date without a place is in the group's room; free text stays possible.
    let day = (jiff::Zoned::now().date() + jiff::Span::new().days(3)).to_string();
    let proposal = format!("/meine-ergebnisse/gruppen/{}/termin", group.id);
    let r = bert
        .post(&proposal, &[("datum", day.as_str()), ("uhrzeit", "10:00")])
        .await;
    assert_eq!(r.status(), 303);
    let place = |g: &konvent_store::FollowUpGroup| g.meeting.clone().expect("meeting").place;
    let now = app.store.groups_of(anna_id).await.expect("groups")[0].clone();
    assert!(
        place(&now).starts_with(&lounge.name) && place(&now).contains(&lounge.slug),
        "{:?}",
        now.meeting
    );
    let r = bert
        .post(
            &proposal,
            &[
                ("datum", day.as_str()),
                ("uhrzeit", "11:00"),
                ("ort", "Café am Markt"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let now = app.store.groups_of(anna_id).await.expect("groups")[0].clone();
    assert_eq!(place(&now), "Café am Markt");
}

#[tokio::test]
async fn a_request_from_my_results_is_reported_like_one_from_the_people_list() {
    let app = spawn_app().await;
    let (anna, anna_id) = person(&app, "anna", true).await;
    let (bert, bert_id) = person(&app, "bert", true).await;
    let (carl, _) = person(&app, "carl", true).await;
    two_peers(&app, &[(&anna, anna_id.get()), (&bert, bert_id.get())]).await;
    assert_eq!(
        ask(&anna, bert_id.get(), "Kaufen Sie jetzt Bitcoin").await,
        303
    );
    let request = app
        .store
        .contact_overview(bert_id)
        .await
        .expect("overview")
        .incoming[0]
        .clone();
    assert_eq!(
        request.event_id,
        EventId::new(0),
        "sent from Meine Ergebnisse"
    );
    let id = request.id.to_string();
    // The same report form as for a request from the people list.
    let (_, page) = bert.get_text(&format!("{EVENT}/kontakte")).await;
    assert!(
        page.contains("name=\"item\" value=\"contact\"")
            && page.contains(&format!("name=\"target\" value=\"{id}\"")),
        "{page}"
    );
    let form = [
        ("t", "report"),
        ("item", "contact"),
        ("target", id.as_str()),
        ("reason", "Werbung"),
        (
            "zurueck",
            "/konvent/strategiekonvent-2025/kontakte?hinweis=gemeldet",
        ),
    ];
    let path = format!("{EVENT}/aktion");
    assert_ne!(carl.post(&path, &form).await.status(), 303);
    let admin = app.admin().await;
    // Before any report, the event's moderators cannot touch it.
    let remove = [
        ("t", "remove"),
        ("item", "contact"),
        ("target", id.as_str()),
        ("reason", ""),
        ("zurueck", "/konvent/strategiekonvent-2025/moderation"),
    ];
    assert_ne!(admin.post(&path, &remove).await.status(), 303);
    let r = bert.post(&path, &form).await;
    assert_eq!(r.status(), 303);
    let back = r
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert!(back.ends_with("/kontakte?hinweis=gemeldet"), "{back}");
    let (_, page) = bert.get_text(&back).await;
    assert!(
        page.contains("Ihre Meldung ist bei der Moderation."),
        "{page}"
    );
    let (_, queue) = admin.get_text(&format!("{EVENT}/moderation")).await;
    assert!(
        queue.contains("Kaufen Sie jetzt Bitcoin") && queue.contains("Werbung"),
        "{queue}"
    );
    assert_eq!(admin.post(&path, &remove).await.status(), 303);
    assert!(
        app.store
            .contact_overview(bert_id)
            .await
            .expect("overview")
            .incoming
            .is_empty()
    );
}

#[tokio::test]
async fn the_api_lists_people_contacts_and_requests_as_visibility_allows() {
    let app = spawn_app().await;
    let (anna, _) = person(&app, "anna", true).await;
    let (bert, bert_id) = person(&app, "bert", true).await;
    let (carl, _) = person(&app, "carl", true).await;
    let (outsider, _) = person(&app, "draussen", false).await;
    profile(
        &bert,
        "/konto/profil",
        "event",
        "Amt Bert",
        &[("phone", "0611 4711")],
    )
    .await;
    profile(&carl, "/konto/profil", "nobody", "Amt Carl", &[]).await;
    let people = format!("/api/v1/events/{}/people", demo::KONVENT_SLUG);
    let (status, body) = anna.get_text(&people).await;
    assert_eq!(status, 200);
    let list: serde_json::Value = serde_json::from_str(&body).expect("json");
    let names: Vec<&str> = list["data"]
        .as_array()
        .expect("data")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert!(
        names.contains(&"bert") && !names.contains(&"carl"),
        "{body}"
    );
    assert!(
        !body.contains("Amt Carl") && !body.contains("0611 4711"),
        "{body}"
    );
    let (status, body) = outsider.get_text(&people).await;
    assert_ne!(status, 200);
    assert!(!body.contains("Amt Bert"));
    let (status, _) = app.visitor().get_text(&people).await;
    assert_eq!(status, 401);

    anna.post(
        &format!("{EVENT}/kontakte/anfrage"),
        &[("an", &bert_id.to_string()), ("nachricht", "Hallo Bert")],
    )
    .await;
    let (_, requests) = bert.get_text("/api/v1/contact-requests").await;
    let requests: serde_json::Value = serde_json::from_str(&requests).expect("json");
    assert_eq!(requests["incoming"][0]["message"], "Hallo Bert");
    assert_eq!(requests["incoming"][0]["person"]["name"], "anna");
    let id = requests["incoming"][0]["id"].as_i64().expect("id");
    bert.post(
        &format!("{EVENT}/kontakte/{id}/antwort"),
        &[("annehmen", "1")],
    )
    .await;
    let (_, contacts) = anna.get_text("/api/v1/contacts").await;
    let contacts: serde_json::Value = serde_json::from_str(&contacts).expect("json");
    assert_eq!(contacts["data"][0]["name"], "bert");
    assert_eq!(contacts["data"][0]["phone"], "0611 4711");
    assert_eq!(contacts["data"][0]["email"], serde_json::Value::Null);
    let (_, none) = carl.get_text("/api/v1/contacts").await;
    assert!(!none.contains("0611 4711"));
}

/// A request from "Meine Ergebnisse" with a message (may be empty); its status.
async fn ask(who: &User, to: i64, message: &str) -> u16 {
    who.post(
        "/konto/kontakte/anfrage",
        &[("an", &to.to_string()), ("nachricht", message)],
    )
    .await
    .status()
    .as_u16()
}

/// Where a form's answer sends the browser.
fn location(r: &reqwest::Response) -> String {
    r.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn a_person_in_no_event_answers_a_request_from_my_results_on_the_konvent_wide_page() {
    let app = spawn_app().await;
    let (anna, anna_id) = person(&app, "anna", false).await;
    let (bert, bert_id) = person(&app, "bert", false).await;
    let (carl, _) = person(&app, "carl", false).await;
    two_peers(&app, &[(&anna, anna_id.get()), (&bert, bert_id.get())]).await;
    assert_eq!(
        ask(&anna, bert_id.get(), "Gern zur Cloud austauschen").await,
        303
    );
    let id = app
        .store
        .contact_overview(bert_id)
        .await
        .expect("overview")
        .incoming[0]
        .id;

    // Bert takes part in no event, and sees the request konvent-wide.
    let (status, page) = bert.get_text("/konto/kontakte").await;
    assert_eq!(status, 200);
    assert!(
        page.contains("Gern zur Cloud austauschen")
            && page.contains(&format!("action=\"/konto/kontakte/{id}/antwort\""))
            && page.contains("action=\"/konto/kontakte/sperren\""),
        "{page}"
    );
    assert!(
        !page.contains("name=\"item\" value=\"contact\""),
        "no event, no moderators: nothing to report to"
    );
    let (_, anna_page) = anna.get_text("/konto/kontakte").await;
    assert!(text(&anna_page).contains("bert angefragt"), "{anna_page}");

    // Only the recipient answers.
    let answer = format!("/konto/kontakte/{id}/antwort");
    let r = carl.post(&answer, &[("annehmen", "1")]).await;
    assert_eq!(r.status(), 404);
    assert!(
        r.text()
            .await
            .expect("body")
            .contains("Diese Seite gibt es nicht.")
    );

    let r = bert.post(&answer, &[("annehmen", "1")]).await;
    assert_eq!(r.status(), 303);
    let back = location(&r);
    assert_eq!(back, "/konto/kontakte?hinweis=angenommen");
    let (_, page) = bert.get_text(&back).await;
    assert!(
        page.contains("id=\"hinweis\"") && page.contains("Die Anfrage ist angenommen"),
        "{page}"
    );
    assert!(page.contains("<h3>anna</h3>"), "{page}");
    let (_, anna_page) = anna.get_text("/konto/kontakte").await;
    assert!(anna_page.contains("<h3>bert</h3>"), "{anna_page}");
    assert!(anna_page.contains("href=\"/konto/kontakte.vcf\""));
    // Answered once only.
    assert_eq!(bert.post(&answer, &[("annehmen", "0")]).await.status(), 404);
}

#[tokio::test]
async fn a_konvent_wide_decline_is_silent_and_a_block_stops_new_requests() {
    let app = spawn_app().await;
    let (anna, anna_id) = person(&app, "anna", false).await;
    let (bert, bert_id) = person(&app, "bert", false).await;
    let (carl, carl_id) = person(&app, "carl", false).await;
    two_peers(
        &app,
        &[
            (&anna, anna_id.get()),
            (&bert, bert_id.get()),
            (&carl, carl_id.get()),
        ],
    )
    .await;
    assert_eq!(ask(&anna, bert_id.get(), "").await, 303);
    let id = app
        .store
        .contact_overview(bert_id)
        .await
        .expect("overview")
        .incoming[0]
        .id;
    let r = bert
        .post(
            &format!("/konto/kontakte/{id}/antwort"),
            &[("annehmen", "0")],
        )
        .await;
    assert_eq!(location(&r), "/konto/kontakte?hinweis=abgelehnt");
    // Anna is not told: her request still reads as open, and she cannot ask again.
    let (_, anna_page) = anna.get_text("/konto/kontakte").await;
    assert!(text(&anna_page).contains("bert angefragt"), "{anna_page}");
    assert!(!anna_page.contains("abgelehnt"));
    assert_ne!(ask(&anna, bert_id.get(), "").await, 303);

    // Bert blocks Carl konvent-wide: Carl can no longer ask.
    let r = bert
        .post(
            "/konto/kontakte/sperren",
            &[("wer", &carl_id.to_string()), ("an", "1")],
        )
        .await;
    assert_eq!(location(&r), "/konto/kontakte?hinweis=gesperrt");
    let (_, page) = bert.get_text("/konto/kontakte?hinweis=gesperrt").await;
    assert!(page.contains("Die Person ist gesperrt.") && page.contains("Sperre aufheben"));
    assert_ne!(ask(&carl, bert_id.get(), "").await, 303);
    let overview = app.store.contact_overview(bert_id).await.expect("overview");
    assert!(overview.incoming.is_empty(), "{overview:?}");
}

#[tokio::test]
async fn a_visitor_is_sent_to_sign_in_from_the_konvent_wide_contacts() {
    let app = spawn_app().await;
    let visitor = app.visitor();
    let r = visitor.get("/konto/kontakte").await;
    assert_eq!(r.status(), 303);
    assert!(
        location(&r).starts_with("/anmelden?weiter="),
        "{}",
        location(&r)
    );
    let r = visitor
        .post("/konto/kontakte/1/antwort", &[("annehmen", "1")])
        .await;
    assert_eq!(r.status(), 303);
    assert!(location(&r).starts_with("/anmelden"));
}

#[tokio::test]
async fn a_request_sent_in_an_event_is_reported_from_the_konvent_wide_page() {
    let app = spawn_app().await;
    let (anna, _) = person(&app, "anna", true).await;
    let (bert, bert_id) = person(&app, "bert", true).await;
    profile(&bert, &format!("{EVENT}/profil"), "event", "Amt", &[]).await;
    let r = anna
        .post(
            &format!("{EVENT}/kontakte/anfrage"),
            &[
                ("an", &bert_id.to_string()),
                ("nachricht", "Kaufen Sie jetzt Bitcoin"),
            ],
        )
        .await;
    assert_eq!(r.status(), 303);
    let (_, page) = bert.get_text("/konto/kontakte").await;
    assert!(
        page.contains(&format!("action=\"{EVENT}/aktion\""))
            && page.contains("value=\"/konto/kontakte?hinweis=gemeldet\""),
        "{page}"
    );
    let id = app
        .store
        .contact_overview(bert_id)
        .await
        .expect("overview")
        .incoming[0]
        .id
        .to_string();
    let r = bert
        .post(
            &format!("{EVENT}/aktion"),
            &[
                ("t", "report"),
                ("item", "contact"),
                ("target", id.as_str()),
                ("reason", "Werbung"),
                ("zurueck", "/konto/kontakte?hinweis=gemeldet"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/konto/kontakte?hinweis=gemeldet");
    let (_, page) = bert.get_text("/konto/kontakte?hinweis=gemeldet").await;
    assert!(
        page.contains("Ihre Meldung ist bei der Moderation."),
        "{page}"
    );
}
