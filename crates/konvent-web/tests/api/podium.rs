//! The podium bundle (K13): every group carries a title the moderator can say on stage,
//! suggested from its most typical impulse until the moderator names it; the name stays
//! with the group as impulses arrive.

use konvent_core::demo;
use konvent_core::strategy::demo as strategy_demo;
use konvent_store::Who;

use crate::helpers::{User, spawn_app, text};

const EVENT: &str = "/konvent/strategiekonvent-2025";

/// The value of the first `name="NAME" value="…"` on the page.
fn form_value(html: &str, name: &str) -> String {
    html.split(&format!("name=\"{name}\" value=\""))
        .nth(1)
        .and_then(|s| s.split('"').next())
        .unwrap_or_else(|| panic!("no field {name}"))
        .to_owned()
}

/// The groups' titles as the page shows them, in order.
fn titles(html: &str) -> Vec<String> {
    html.split("<h3 class=\"podium-title\">")
        .skip(1)
        .map(|s| s.split(" <span").next().unwrap_or_default().to_owned())
        .collect()
}

async fn name(organizer: &User, topic: &str, impulse: &str, title: &str) -> reqwest::Response {
    organizer
        .post(
            &format!("{EVENT}/podium/titel"),
            &[("topic", topic), ("impulse", impulse), ("title", title)],
        )
        .await
}

#[tokio::test]
async fn the_moderator_names_a_podium_group_and_the_name_stays_as_impulses_arrive() {
    let app = spawn_app().await;
    let organizer = app.sign_in_existing(demo::KONVENT_MODERATOR.0).await;
    let (status, html) = organizer.get_text(&format!("{EVENT}/podium")).await;
    assert_eq!(status, 200);
    // Suggested titles are sentences' openings, not lowercase keyword lists.
    let suggested = titles(&html);
    assert!(suggested.len() >= 5, "{suggested:?}");
    for t in &suggested {
        assert!(
            t.chars().next().is_some_and(char::is_uppercase),
            "a title for the stage: {t:?}"
        );
        assert!(t.split(' ').count() <= 7, "the opening words: {t:?}");
    }
    assert!(text(&html).contains("Titelvorschlag"));
    let topic = form_value(&html, "topic");
    let impulse = form_value(&html, "impulse");

    // Named: the group carries the name, no longer a suggestion.
    let r = name(&organizer, &topic, &impulse, "  Daten gemeinsam   nutzen ").await;
    assert_eq!(r.status().as_u16(), 303);
    assert_eq!(
        r.headers()["location"].to_str().expect("location"),
        format!("{EVENT}/podium#gruppe-{impulse}")
    );
    let (_, html) = organizer.get_text(&format!("{EVENT}/podium")).await;
    assert_eq!(
        titles(&html)[0],
        "Daten gemeinsam nutzen",
        "{:?}",
        titles(&html)
    );

    // Another impulse joins the group (the same words as its most typical one): the
    // name stays.
    let anchor = app
        .store
        .impulse(impulse.parse().expect("id"))
        .await
        .expect("impulse");
    let someone = Who::new(
        app.account_id(&strategy_demo::participant_email("Jana Albers"))
            .await,
        "Jana Albers",
    );
    app.store
        .add_impulse(anchor.table_id, &someone, &anchor.text, None)
        .await
        .expect("impulse added");
    let (_, html) = organizer.get_text(&format!("{EVENT}/podium")).await;
    let shown = titles(&html);
    assert!(
        shown.iter().any(|t| t == "Daten gemeinsam nutzen"),
        "{shown:?}"
    );

    // Renamed, then emptied: back to the suggestion.
    let r = name(&organizer, &topic, &impulse, "Datenräume für alle").await;
    assert_eq!(r.status().as_u16(), 303);
    let (_, html) = organizer.get_text(&format!("{EVENT}/podium")).await;
    let shown = titles(&html);
    assert!(
        shown.iter().any(|t| t == "Datenräume für alle"),
        "{shown:?}"
    );
    assert!(
        !shown.iter().any(|t| t == "Daten gemeinsam nutzen"),
        "one name per group: {shown:?}"
    );
    let r = name(&organizer, &topic, &impulse, "   ").await;
    assert_eq!(r.status().as_u16(), 303);
    let (_, html) = organizer.get_text(&format!("{EVENT}/podium")).await;
    assert!(!titles(&html).iter().any(|t| t == "Datenräume für alle"));
    assert!(titles(&html).contains(&suggested[0]), "{:?}", titles(&html));

    // Too long: refused beside the field, with what was entered.
    let long = "Sehr langer Titel ".repeat(10);
    let r = name(&organizer, &topic, &impulse, &long).await;
    assert_eq!(r.status().as_u16(), 422);
    let page = r.text().await.expect("page");
    assert!(page.contains("höchstens 120 Zeichen"), "{}", text(&page));
    assert!(page.contains("aria-invalid=\"true\""));

    // Only organizers name groups.
    let participant = app
        .sign_in_existing(&strategy_demo::participant_email("Jana Albers"))
        .await;
    let r = name(&participant, &topic, &impulse, "Meins").await;
    assert_eq!(r.status().as_u16(), 403);
    // An impulse that is not in the bundle: a clear conflict, nothing stored.
    let r = name(&organizer, &topic, "999999", "Nirgends").await;
    assert_eq!(r.status().as_u16(), 409);
}
