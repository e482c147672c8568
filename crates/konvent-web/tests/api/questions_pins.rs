//! Podium questions (K13) and the pinboard (K11) as their pages show them: the asker's
//! own question waiting for approval, a second "Unterstützen" by plain form, and the
//! viewer's own votes marked on the page (issue 15, items 3 and 4).

use konvent_core::authz::Role;
use konvent_core::demo;
use konvent_core::ids::AccountId;
use konvent_store::{EventRole, LiveRecord};

use crate::helpers::{TestApp, User, text};

const EVENT: &str = "/konvent/strategiekonvent-2025";

/// A signed-in participant registered for the demo event, with their account id.
async fn participant(app: &TestApp, name: &str) -> (User, i64) {
    let user = app.user_named(Role::Participant, name).await;
    let id = app.account_id(&format!("{name}@test.example")).await;
    let event = app.store.event(demo::KONVENT_SLUG).await.expect("event");
    app.store
        .add_to_event(event.id, id, EventRole::Participant)
        .await
        .expect("registered");
    (user, id.get())
}

async fn act(user: &User, form: &[(&str, &str)]) -> reqwest::Response {
    let mut fields = form.to_vec();
    fields.push(("zurueck", "/konvent/strategiekonvent-2025/fragen"));
    user.post(&format!("{EVENT}/aktion"), &fields).await
}

/// The id of the question or pin whose fragment root (`<li id="KIND-ID"`) holds `text`.
fn item_id(page: &str, kind: &str, text: &str) -> String {
    let at = page.find(text).expect("the item is on the page");
    let before = &page[..at];
    let start = before
        .rfind(&format!("<li id=\"{kind}-"))
        .expect("the item's element")
        + format!("<li id=\"{kind}-").len();
    page[start..].split('"').next().expect("id").to_owned()
}

/// The `data-mine` set on the element with `id`.
fn mine(page: &str, id: &str) -> Vec<String> {
    let at = page
        .find(&format!("id=\"{id}\""))
        .expect("the region's container");
    let tag = &page[page[..at].rfind('<').expect("tag")..];
    let tag = &tag[..tag.find('>').expect("tag end")];
    tag.split("data-mine=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_default()
        .split_whitespace()
        .map(str::to_owned)
        .collect()
}

async fn last_record(app: &TestApp) -> LiveRecord {
    let event = app.store.event(demo::KONVENT_SLUG).await.expect("event");
    app.store
        .live_since(event.id, 0, 10_000)
        .await
        .expect("log")
        .pop()
        .expect("an entry")
}

#[tokio::test]
async fn the_asker_sees_their_question_waiting_for_approval_and_its_every_status() {
    let app = crate::helpers::spawn_app().await;
    let admin = app.admin().await;
    let (anna, anna_id) = participant(&app, "anna").await;
    let (bert, bert_id) = participant(&app, "bert").await;
    let asked = "Wie geht es nach dem Konvent weiter?";
    act(&anna, &[("t", "ask"), ("text", asked), ("anonymous", "on")]).await;

    let (_, page) = anna.get_text(&format!("{EVENT}/fragen")).await;
    let shown = text(&page);
    assert!(shown.contains(asked), "the asker sees her question");
    assert!(
        shown.contains(&format!("{asked} anonym · wartet auf Freigabe")),
        "with its status: {shown}"
    );
    let (_, page) = bert.get_text(&format!("{EVENT}/fragen")).await;
    assert!(!page.contains(asked), "nobody else sees it before approval");

    // The organizers' decisions reach the asker live, whoever made them; a rejection
    // reaches nobody else.
    let (_, page) = admin.get_text(&format!("{EVENT}/fragen")).await;
    let id = item_id(&page, "question", asked);
    act(
        &admin,
        &[("t", "moderate"), ("question", &id), ("status", "rejected")],
    )
    .await;
    let record = last_record(&app).await;
    assert_eq!(record.kind, "question");
    assert!(
        record.visible_to(AccountId::new(anna_id), false),
        "the asker hears of it"
    );
    assert!(
        !record.visible_to(AccountId::new(bert_id), false),
        "nobody else does"
    );
    assert!(
        record.data["asker"].is_null(),
        "an anonymous asker stays anonymous in the entry"
    );
    let (_, page) = anna.get_text(&format!("{EVENT}/fragen")).await;
    assert!(
        text(&page).contains("abgelehnt"),
        "the asker sees the rejection"
    );
}

#[tokio::test]
async fn a_second_support_by_plain_form_goes_back_to_the_question_with_a_notice() {
    let app = crate::helpers::spawn_app().await;
    let admin = app.admin().await;
    let (anna, _) = participant(&app, "anna").await;
    let (bert, _) = participant(&app, "bert").await;
    let asked = "Wer pflegt die Zielbilder?";
    act(&anna, &[("t", "ask"), ("text", asked)]).await;
    let (_, page) = admin.get_text(&format!("{EVENT}/fragen")).await;
    let id = item_id(&page, "question", asked);
    act(
        &admin,
        &[("t", "moderate"), ("question", &id), ("status", "approved")],
    )
    .await;

    let first = act(&bert, &[("t", "upvote"), ("question", &id)]).await;
    assert_eq!(first.status().as_u16(), 303);
    assert_eq!(first.headers()["location"], format!("{EVENT}/fragen"));
    let again = act(&bert, &[("t", "upvote"), ("question", &id)]).await;
    assert_eq!(again.status().as_u16(), 303, "no error page");
    let location = again.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert_eq!(
        location,
        format!("{EVENT}/fragen?hinweis=schon-unterstuetzt&frage={id}#questions-notice")
    );
    let (status, page) = bert.get_text(&location).await;
    assert_eq!(status, 200);
    let shown = text(&page);
    assert!(
        shown.contains(&format!("Sie unterstützen die Frage „{asked}“ bereits")),
        "the notice names the question: {shown}"
    );
    assert!(shown.contains("1 Stimme"), "still one vote: {shown}");
    assert!(!shown.contains("1 Stimmen"));

    // An unknown notice and a refusal that is no repeated vote stay what they were.
    let (_, page) = bert
        .get_text(&format!("{EVENT}/fragen?hinweis=<b>x</b>"))
        .await;
    assert!(!text(&page).contains("bereits"));
    assert!(!page.contains("<b>x</b>"));
    let (status, page) = bert
        .get_text(&format!(
            "{EVENT}/fragen?hinweis=schon-unterstuetzt&frage=x"
        ))
        .await;
    assert_eq!(status, 200, "a bad question id is no error");
    assert!(text(&page).contains("Sie unterstützen diese Frage bereits"));
    let missing = act(&bert, &[("t", "upvote"), ("question", "999999")]).await;
    assert_eq!(missing.status().as_u16(), 400);
}

#[tokio::test]
async fn the_pages_mark_the_viewers_own_votes_and_nobody_elses() {
    let app = crate::helpers::spawn_app().await;
    let admin = app.admin().await;
    let (anna, _) = participant(&app, "anna").await;
    let (bert, _) = participant(&app, "bert").await;
    let asked = "Gibt es die Folien?";
    act(&anna, &[("t", "ask"), ("text", asked)]).await;
    let (_, page) = admin.get_text(&format!("{EVENT}/fragen")).await;
    let question = item_id(&page, "question", asked);
    act(
        &admin,
        &[
            ("t", "moderate"),
            ("question", &question),
            ("status", "approved"),
        ],
    )
    .await;
    act(&bert, &[("t", "upvote"), ("question", &question)]).await;

    let (_, page) = bert.get_text(&format!("{EVENT}/fragen")).await;
    assert_eq!(mine(&page, "questions"), [format!("q{question}")]);
    assert!(
        page.contains(&format!(
            r#"<p class="supported" data-gate="mine:q{question}">Sie unterstützen diese Frage.</p>"#
        )),
        "bert reads that he supports it"
    );
    assert!(page.contains(&format!(r#"data-gate="not-mine:q{question}" hidden"#)));
    let (_, page) = anna.get_text(&format!("{EVENT}/fragen")).await;
    assert!(mine(&page, "questions").is_empty(), "anna did not vote");
    assert!(page.contains(&format!(r#"data-gate="mine:q{question}" hidden"#)));
    assert!(page.contains(&format!(r#"data-gate="not-mine:q{question}">"#)));

    let parked = "Barrierefreiheit der Portale";
    anna.post(
        &format!("{EVENT}/aktion"),
        &[("t", "pin"), ("text", parked), ("topic", "")],
    )
    .await;
    let (_, page) = anna.get_text(&format!("{EVENT}/pinnwand")).await;
    let pin = item_id(&page, "pin", parked);
    let vote = |on: &'static str| {
        let pin = pin.clone();
        let bert = &bert;
        async move {
            bert.post(
                &format!("{EVENT}/aktion"),
                &[("t", "vote_pin"), ("pin", &pin), ("on", on)],
            )
            .await
        }
    };
    assert_eq!(vote("true").await.status().as_u16(), 303);
    assert_eq!(
        vote("true").await.status().as_u16(),
        303,
        "a vote again is no error"
    );
    let (_, page) = bert.get_text(&format!("{EVENT}/pinnwand")).await;
    assert_eq!(mine(&page, "pins"), [format!("p{pin}")]);
    let shown = text(&page);
    assert!(shown.contains("1 Stimme"), "{shown}");
    assert!(!shown.contains("1 Stimmen"));
    let (_, page) = anna.get_text(&format!("{EVENT}/pinnwand")).await;
    assert!(mine(&page, "pins").is_empty());

    assert_eq!(vote("false").await.status().as_u16(), 303);
    let (_, page) = bert.get_text(&format!("{EVENT}/pinnwand")).await;
    assert!(mine(&page, "pins").is_empty(), "the vote was taken back");
    assert!(text(&page).contains("0 Stimmen"));
}

#[tokio::test]
async fn a_public_question_rejected_leaves_everybodys_page_but_its_askers() {
    let app = crate::helpers::spawn_app().await;
    let admin = app.admin().await;
    let (anna, anna_id) = participant(&app, "anna").await;
    let (bert, bert_id) = participant(&app, "bert").await;
    let asked = "Darf ich das fragen?";
    act(&anna, &[("t", "ask"), ("text", asked)]).await;
    let (_, page) = admin.get_text(&format!("{EVENT}/fragen")).await;
    let id = item_id(&page, "question", asked);
    act(
        &admin,
        &[("t", "moderate"), ("question", &id), ("status", "approved")],
    )
    .await;
    let (_, page) = bert.get_text(&format!("{EVENT}/fragen")).await;
    assert!(page.contains(asked), "public after approval");

    act(
        &admin,
        &[("t", "moderate"), ("question", &id), ("status", "rejected")],
    )
    .await;
    let event = app.store.event(demo::KONVENT_SLUG).await.expect("event");
    let log = app
        .store
        .live_since(event.id, 0, 10_000)
        .await
        .expect("log");
    let [.., withdrawn, decided] = log.as_slice() else {
        panic!("two entries at least");
    };
    assert_eq!(withdrawn.kind, "removed", "first it leaves every page");
    assert_eq!(withdrawn.data["item"], "question");
    assert_eq!(withdrawn.data["id"].to_string(), id);
    assert!(withdrawn.visible_to(AccountId::new(bert_id), false));
    assert!(!withdrawn.data.to_string().contains(asked));
    assert_eq!(
        decided.kind, "question",
        "then the asker and the staff get it back"
    );
    assert_eq!(decided.data["status"], "rejected");
    assert!(decided.visible_to(AccountId::new(anna_id), false));
    assert!(!decided.visible_to(AccountId::new(bert_id), false));

    let (_, page) = bert.get_text(&format!("{EVENT}/fragen")).await;
    assert!(!page.contains(asked), "gone for the others");
    let (_, page) = anna.get_text(&format!("{EVENT}/fragen")).await;
    assert!(text(&page).contains("abgelehnt"), "the asker sees why");

    // Rejecting it again changes nothing for the others: no second removal.
    let before = log.len();
    act(
        &admin,
        &[("t", "moderate"), ("question", &id), ("status", "rejected")],
    )
    .await;
    let log = app
        .store
        .live_since(event.id, 0, 10_000)
        .await
        .expect("log");
    assert_eq!(log.len(), before + 1);
    assert_eq!(log.last().expect("entry").kind, "question");
}
