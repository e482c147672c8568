//! What the walk-through of the live convention (issue 15) found on its pages: the help
//! desk room names who is on duty, the recipients of a direct message are grouped by
//! who they are, and "Meine Ergebnisse" is reachable from the convention's pages.

use konvent_core::demo;
use konvent_core::strategy::demo as strategy_demo;

use crate::helpers::{spawn_app, text};

const EVENT: &str = "/konvent/strategiekonvent-2025";

#[tokio::test]
async fn the_help_desk_room_names_the_helpers_on_duty_and_other_rooms_do_not() {
    let app = spawn_app().await;
    let jana = app
        .sign_in_existing(&strategy_demo::participant_email("Jana Albers"))
        .await;
    let (status, html) = jana.get_text(&format!("{EVENT}/raeume/helpdesk")).await;
    assert_eq!(status, 200);
    let page = text(&html);
    assert!(page.contains("Heute am Help Desk"), "{page}");
    for (_, name) in demo::KONVENT_HELPERS {
        assert!(
            html.contains(&format!("<li>{name}</li>")),
            "{name} listed: {page}"
        );
    }
    let (_, plenum) = jana.get_text(&format!("{EVENT}/raeume/plenum")).await;
    assert!(!text(&plenum).contains("Heute am Help Desk"));
}

#[tokio::test]
async fn the_recipients_of_a_message_are_grouped_by_who_they_are() {
    let app = spawn_app().await;
    let jana = app
        .sign_in_existing(&strategy_demo::participant_email("Jana Albers"))
        .await;
    let (status, html) = jana.get_text(&format!("{EVENT}/nachrichten")).await;
    assert_eq!(status, 200);
    let select = html
        .split("<select id=\"dm-to\"")
        .nth(1)
        .and_then(|s| s.split("</select>").next())
        .expect("recipient list");
    let groups: Vec<&str> = select
        .split("<optgroup label=\"")
        .skip(1)
        .map(|s| s.split('"').next().unwrap_or_default())
        .collect();
    assert_eq!(
        groups,
        ["Help Desk", "Moderation", "Themenpat*innen"],
        "{select}"
    );
    let group = |label: &str| {
        select
            .split(&format!("<optgroup label=\"{label}\">"))
            .nth(1)
            .and_then(|s| s.split("</optgroup>").next())
            .unwrap_or_default()
            .to_owned()
    };
    let desk = group("Help Desk");
    assert!(desk.contains(">Info / Help Desk</option>"), "{desk}");
    for (_, name) in demo::KONVENT_HELPERS {
        assert!(desk.contains(name), "{desk}");
    }
    assert!(
        group("Moderation").contains("Dr. André Göbel – Plenum"),
        "{select}"
    );
    let patrons = group("Themenpat*innen");
    for t in strategy_demo::topics().expect("topics") {
        assert!(
            patrons.contains(&format!("{} – Thementisch {}", t.patron, t.title)),
            "{} at {}: {patrons}",
            t.patron,
            t.title
        );
    }
    // Everybody once.
    let options = select.matches("<option ").count();
    assert_eq!(options, 1 + 2 + 1 + 5, "{select}");
}

#[tokio::test]
async fn my_results_are_linked_from_the_convention_pages_for_signed_in_people() {
    let app = spawn_app().await;
    let jana = app
        .sign_in_existing(&strategy_demo::participant_email("Jana Albers"))
        .await;
    for path in [
        EVENT.to_owned(),
        format!("{EVENT}/raeume/plenum"),
        format!("{EVENT}/cafe"),
        format!("{EVENT}/nachrichten"),
    ] {
        let (status, html) = jana.get_text(&path).await;
        assert_eq!(status, 200, "{path}");
        assert!(
            html.contains("<a href=\"/meine-ergebnisse\">Meine Ergebnisse</a>"),
            "{path}"
        );
    }
    // Not in the other areas' header, and not for visitors.
    let (_, gremien) = jana.get_text("/gremien").await;
    assert!(!gremien.contains("href=\"/meine-ergebnisse\""));
    let (_, lobby) = app.visitor().get_text(EVENT).await;
    assert!(!lobby.contains("href=\"/meine-ergebnisse\""));
}
