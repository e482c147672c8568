use crate::helpers::{spawn_app, text};

#[tokio::test]
async fn health_answers_ok_and_metrics_count_requests() {
    let app = spawn_app().await;
    let visitor = app.visitor();
    let (status, body) = visitor.get_text("/healthz").await;
    assert_eq!((status, body.trim()), (200, "ok"));
    visitor.get("/gremien/konferenzen").await;
    let (status, metrics) = visitor.get_text("/metrics").await;
    assert_eq!(status, 200);
    assert!(metrics.contains("konvent_http_requests_total"), "{metrics}");
    assert!(
        metrics.contains("route=\"/gremien/konferenzen\""),
        "{metrics}"
    );
}

#[tokio::test]
async fn pages_carry_a_strict_content_security_policy_and_load_nothing_from_elsewhere() {
    let app = spawn_app().await;
    let visitor = app.visitor();
    for path in [
        "/",
        "/konvent",
        "/gremien",
        "/strategie",
        "/gremien/konferenzen",
        "/anmelden",
    ] {
        let response = visitor.get(path).await;
        assert_eq!(response.status(), 200, "{path}");
        let csp = response.headers()["content-security-policy"]
            .to_str()
            .expect("ascii")
            .to_owned();
        assert!(
            csp.contains("script-src 'self'") && csp.contains("default-src 'self'"),
            "{csp}"
        );
        assert!(!csp.contains("unsafe-inline"));
        let html = response.text().await.expect("body");
        for attr in ["src=\"http", "href=\"http", "src=\"//", "href=\"//"] {
            assert!(
                !html.contains(attr),
                "{path} refers to another host: {attr}"
            );
        }
        assert!(html.contains("<html lang=\"de\">"), "{path} is German");
        assert!(
            html.contains("href=\"#inhalt\"") && html.contains("<main id=\"inhalt\""),
            "{path}"
        );
        assert!(!html.contains("<script>"), "{path} has inline script");
    }
}

#[tokio::test]
async fn the_stylesheet_is_served_from_a_versioned_url_and_cached() {
    let app = spawn_app().await;
    let visitor = app.visitor();
    let (_, html) = visitor.get_text("/").await;
    let marker = "rel=\"stylesheet\" href=\"";
    let start = html.find(marker).expect("stylesheet link") + marker.len();
    let end = start + html[start..].find('"').expect("end of href");
    let response = visitor.get(&html[start..end]).await;
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["cache-control"]
            .to_str()
            .expect("ascii")
            .contains("immutable")
    );
    assert!(
        response
            .text()
            .await
            .expect("css")
            .contains(":focus-visible")
    );
    assert_eq!(visitor.get("/static/x/nothing.css").await.status(), 404);
}

#[tokio::test]
async fn switching_to_english_changes_the_language_and_returns_to_the_page() {
    let app = spawn_app().await;
    let visitor = app.visitor();
    let response = visitor.get("/sprache/en?zurueck=/gremien").await;
    assert_eq!(response.status(), 303);
    assert_eq!(response.headers()["location"], "/gremien");
    let set_cookie = response.headers()["set-cookie"].to_str().expect("ascii");
    assert!(set_cookie.starts_with("konvent_lang=en"), "{set_cookie}");
    let english = crate::helpers::User {
        cookie: format!("{}; konvent_lang=en", visitor.cookie),
        ..visitor
    };
    let (_, html) = english.get_text("/gremien").await;
    assert!(html.contains("<html lang=\"en\">"));
    assert!(text(&html).contains("Councils"));
    // Leaving the site is refused.
    let response = english.get("/sprache/de?zurueck=//evil.example").await;
    assert_eq!(response.headers()["location"], "/");
    assert_eq!(english.get("/sprache/fr").await.status(), 404);
}

#[tokio::test]
async fn an_unknown_page_is_a_german_404_page_with_the_navigation() {
    let app = spawn_app().await;
    let (status, html) = app.visitor().get_text("/gibt-es-nicht").await;
    assert_eq!(status, 404);
    assert!(text(&html).contains("Seite nicht gefunden"));
    assert!(html.contains("href=\"/gremien\""));
    let (status, _) = app.visitor().get_text("/gremien/personen/keine-zahl").await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn the_json_api_lists_the_directory_and_answers_errors_as_json() {
    let app = spawn_app().await;
    let visitor = app.visitor();
    let body: serde_json::Value = visitor
        .get("/api/v1/conferences")
        .await
        .json()
        .await
        .expect("json");
    let data = body["data"].as_array().expect("data");
    assert_eq!(data.len(), 13);
    let vmk = data
        .iter()
        .find(|c| c["abbreviation"] == "VMK")
        .expect("VMK");
    assert_eq!(vmk["assignments"][0]["person"], serde_json::Value::Null);
    let dmk: serde_json::Value = visitor
        .get("/api/v1/conferences/DMK")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(dmk["lead_states"], "Berlin & Bund (Vorsitz IT-PLR)");
    for path in [
        "/api/v1/conferences/NOPE",
        "/api/v1/persons/abc",
        "/api/v1/persons/99999",
        "/api/v1/nothing",
    ] {
        let response = visitor.get(path).await;
        assert_eq!(response.status(), 404, "{path}");
        let error: serde_json::Value = response.json().await.expect("json error");
        assert_eq!(error["error"]["code"], "not_found", "{path}");
        assert!(
            error["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty())
        );
    }
    let spec: serde_json::Value = visitor
        .get("/api/v1/openapi.json")
        .await
        .json()
        .await
        .expect("json");
    assert_eq!(spec["openapi"], "3.1.0");
    assert!(spec["paths"]["/conferences"].is_object());
}
