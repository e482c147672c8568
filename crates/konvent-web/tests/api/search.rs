//! Search (issue 20) through the server: the page with the form's empty fields, the API
//! with its filters, its pages and its refusals. What each viewer must not find is the
//! leak test's (`leaks.rs`).

use serde_json::Value;

use crate::helpers::{spawn_app, text};

async fn api(user: &crate::helpers::User, query: &str) -> (u16, Value) {
    let (status, body) = user.get_text(&format!("/api/v1/search?{query}")).await;
    let value = serde_json::from_str(&body).unwrap_or(Value::String(body));
    (status, value)
}

#[tokio::test]
async fn the_page_searches_with_the_forms_empty_fields_and_says_what_is_wrong() {
    let app = spawn_app().await;
    let visitor = app.visitor();
    let (status, form) = visitor.get_text("/suche").await;
    assert_eq!(status, 200);
    assert!(form.contains("name=\"q\""), "{form}");

    // The form sends every field, the empty ones too: they mean "no filter".
    let (status, page) = visitor
        .get_text("/suche?q=Sitzung&art=&jahr=&fachmk=&stand=")
        .await;
    assert_eq!(status, 200);
    let shown = text(&page);
    assert!(shown.contains("Sitzung"), "{shown}");
    assert!(!shown.contains("0 Treffer"), "{shown}");

    let (status, page) = visitor.get_text("/suche?q=Sitzung&jahr=zwanzig").await;
    assert_eq!(status, 200);
    assert!(
        text(&page).contains("Bitte ein Jahr mit vier Ziffern angeben."),
        "{page}"
    );
}

#[tokio::test]
async fn the_api_filters_pages_and_refuses_what_its_schema_refuses() {
    let app = spawn_app().await;
    let visitor = app.visitor();
    let (status, all) = api(&visitor, "q=Sitzung").await;
    assert_eq!(status, 200, "{all}");
    let total = all["total"].as_i64().expect("total");
    assert!(total >= 2, "{all}");

    // A filter by kind keeps only that kind.
    let (status, sessions) = api(&visitor, "q=Sitzung&kind=session&per_page=50").await;
    assert_eq!(status, 200);
    let hits = sessions["data"].as_array().expect("data");
    assert!(!hits.is_empty());
    assert!(hits.iter().all(|h| h["kind"] == "session"), "{sessions}");

    // Pages: one hit per page, the second page is the second hit.
    let (_, first) = api(&visitor, "q=Sitzung&per_page=1&page=1").await;
    let (_, second) = api(&visitor, "q=Sitzung&per_page=1&page=2").await;
    assert_eq!(first["data"].as_array().map(Vec::len), Some(1));
    assert_eq!(second["page"], 2);
    assert_ne!(first["data"][0], second["data"][0]);
    assert_eq!(second["data"][0], all["data"][1]);

    // A conference is a value: a wildcard finds nothing.
    let (status, wild) = api(&visitor, "q=Sitzung&conference=%25").await;
    assert_eq!(status, 200);
    assert_eq!(wild["total"], 0, "{wild}");

    // Only signs: nothing to search for, nothing found, no error.
    let (status, none) = api(&visitor, "q=%3F%3F%20%21%21").await;
    assert_eq!(status, 200);
    assert_eq!(none["total"], 0);

    // What the schema refuses is a 400 with a message.
    for bad in [
        "q=",
        "q=Sitzung&year=",
        "q=Sitzung&kind=",
        "q=Sitzung&page=",
        "q=Sitzung&per_page=",
        "q=Sitzung&year=1899",
        "q=Sitzung&kind=minutes_of_nothing",
        "q=Sitzung&per_page=51",
        "q=Sitzung&page=0",
        "q=%3F%3F&year=abc",
    ] {
        let (status, body) = api(&visitor, bad).await;
        assert_eq!(status, 400, "{bad}: {body}");
        assert!(
            body.to_string().len() > 20,
            "{bad}: a message says why: {body}"
        );
    }
}

#[tokio::test]
async fn a_member_finds_the_released_minutes_a_visitor_does_not_and_a_draft_only_the_office() {
    let app = spawn_app().await;
    let member = app.user(konvent_core::authz::Role::Member).await;
    // The demo's minutes of the 46th session, released: "… um 10:00 Uhr eröffnet …".
    let (status, found) = api(&member, "q=er%C3%B6ffnet&kind=minutes").await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["total"], 1, "{found}");
    let hit = &found["data"][0];
    assert_eq!(hit["state"], "released");
    let link = hit["link"].as_str().expect("link");
    assert!(
        link.starts_with("/gremien/sitzungen/46/niederschrift/fassungen/"),
        "{hit}"
    );
    // The link is the page the member may read.
    assert_eq!(member.get(link).await.status(), 200);
    for outsider in [
        app.visitor(),
        app.user(konvent_core::authz::Role::Spokesperson).await,
    ] {
        let (status, none) = api(&outsider, "q=er%C3%B6ffnet&kind=minutes").await;
        assert_eq!(status, 200);
        assert_eq!(none["total"], 0, "{none}");
    }

    // A new draft: the office finds its words, the member does not.
    app.store
        .edit_minutes(
            &konvent_store::Actor::system("Geschäftsstelle"),
            46,
            "Die Sitzung wurde eröffnet; die Wombatzählung ist vertagt.",
            &[],
        )
        .await
        .expect("draft");
    let admin = app.admin().await;
    let (_, office) = api(&admin, "q=Wombatz%C3%A4hlung").await;
    assert_eq!(office["total"], 1, "{office}");
    assert_eq!(office["data"][0]["state"], "draft");
    let draft_link = office["data"][0]["link"].as_str().expect("link");
    assert_eq!(admin.get(draft_link).await.status(), 200);
    let (_, none) = api(&member, "q=Wombatz%C3%A4hlung").await;
    assert_eq!(none["total"], 0, "{none}");
    // The member still finds the released version, the office both.
    let (_, still) = api(&member, "q=er%C3%B6ffnet&kind=minutes").await;
    assert_eq!(still["data"][0]["state"], "released", "{still}");
    let (_, both) = api(&admin, "q=er%C3%B6ffnet&kind=minutes").await;
    assert_eq!(both["total"], 2, "{both}");
}

#[tokio::test]
async fn a_visitor_finds_a_public_documents_title_and_the_page_offers_both_new_kinds() {
    let app = spawn_app().await;
    let visitor = app.visitor();
    // The demo's document on the 46th session's first agenda item.
    let (status, found) = api(&visitor, "q=%C3%9Cbersicht%20Berichte&kind=document").await;
    assert_eq!(status, 200, "{found}");
    assert_eq!(found["total"], 1, "{found}");
    let hit = &found["data"][0];
    assert_eq!(
        hit["title"],
        "Übersicht der Berichte der Fachministerkonferenzen"
    );
    let link = hit["link"].as_str().expect("link");
    assert!(link.starts_with("/dokumente/"), "{hit}");
    let download = visitor.get(link).await;
    assert_eq!(download.status(), 200);
    // By the file name of its current version too.
    let (_, by_name) = api(&visitor, "q=Reporting-FachMK-46.pdf&kind=document").await;
    assert_eq!(by_name["data"][0]["link"], link, "{by_name}");

    let (status, page) = visitor.get_text("/suche?q=Reporting&art=document").await;
    assert_eq!(status, 200);
    assert!(page.contains("<option value=\"minutes\""), "{page}");
    assert!(
        page.contains("<option value=\"document\" selected"),
        "{page}"
    );
    assert!(text(&page).contains("Sachstand Reporting FachMK"), "{page}");
}
