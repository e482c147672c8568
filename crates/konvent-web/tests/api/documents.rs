//! Documents (G12): upload, versions, downloads with safe headers, rights by owner,
//! refusals with a clear message, the JSON list, OParl files.

use konvent_core::authz::Role;
use konvent_core::documents::{OwnerKind, simple_pdf};
use konvent_core::ids::{AgendaItemId, DocumentId, EventId, TopicId, WorkshopId};
use konvent_store::Owner;

use crate::helpers::{CSRF, TestApp, User, spawn_app, spawn_app_with, text};

/// Posts the upload form: the token, a title (if any) and one file.
async fn send(
    user: &User,
    path: &str,
    title: Option<&str>,
    file_name: &str,
    bytes: Vec<u8>,
) -> reqwest::Response {
    let mut form = reqwest::multipart::Form::new().text("csrf", CSRF);
    if let Some(title) = title {
        form = form.text("title", title.to_owned());
    }
    form = form.part(
        "file",
        reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_owned()),
    );
    user.client
        .post(format!("{}{path}", user.base))
        .header("cookie", &user.cookie)
        .header("origin", &user.base)
        .multipart(form)
        .send()
        .await
        .expect("upload")
}

/// The id of the first agenda item of session `number` (the demo's reporting item).
async fn agenda_item(app: &TestApp, number: i64) -> AgendaItemId {
    let session = app.store.session(number).await.expect("session");
    app.store.agenda(session.id).await.expect("agenda")[0].id
}

#[tokio::test]
async fn the_office_uploads_replaces_and_serves_a_document_with_its_versions() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let item = agenda_item(&app, 45).await;
    let new = format!("/dokumente/neu/agenda-item/{item}");
    let (status, form) = admin.get_text(&new).await;
    assert_eq!(status, 200);
    assert!(form.contains("enctype=\"multipart/form-data\""), "{form}");

    let first = simple_pdf(&["Erste Fassung"]);
    let response = send(
        &admin,
        &new,
        Some("Beschlussvorlage Länder"),
        "Vorlage Länder.pdf",
        first.clone(),
    )
    .await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers()["location"],
        format!("/gremien/sitzungen/45#top-{item}").as_str()
    );
    let docs = app
        .store
        .documents(Owner {
            kind: OwnerKind::AgendaItem,
            id: item.get(),
        })
        .await
        .expect("documents");
    assert_eq!(docs.len(), 1);
    let id = docs[0].id;

    let second = simple_pdf(&["Zweite Fassung", "mit Ergaenzungen"]);
    let replace = format!("/dokumente/{id}/ersetzen");
    assert_eq!(admin.get(&replace).await.status(), 200);
    let response = send(
        &admin,
        &replace,
        None,
        "Vorlage Länder v2.pdf",
        second.clone(),
    )
    .await;
    assert_eq!(response.status(), 303);

    // The owner's page lists it with version 2 and its earlier version, for everybody.
    let (_, page) = app.visitor().get_text("/gremien/sitzungen/45").await;
    let page_text = text(&page);
    assert!(page_text.contains("Beschlussvorlage Länder"), "{page_text}");
    assert!(
        page.contains(&format!("href=\"/dokumente/{id}\"")),
        "{page}"
    );
    assert!(
        page.contains(&format!("href=\"/dokumente/{id}/versionen/1\"")),
        "{page}"
    );
    assert!(
        page.contains("<span class=\"document-version\">2</span>"),
        "{page}"
    );
    assert!(!page.contains(&replace), "visitors get no replace link");
    let (_, admin_page) = admin.get_text("/gremien/sitzungen/45").await;
    assert!(admin_page.contains(&replace));

    // The stable address serves the newest version, each version its own, as attachments.
    let response = app.visitor().get(&format!("/dokumente/{id}")).await;
    assert_eq!(response.status(), 200);
    let h = response.headers().clone();
    assert_eq!(h["content-type"], "application/pdf");
    assert_eq!(
        h["content-disposition"],
        "attachment; filename=\"Vorlage Laender v2.pdf\"; \
         filename*=UTF-8''Vorlage%20L%C3%A4nder%20v2.pdf"
    );
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(
        h["content-security-policy"]
            .to_str()
            .expect("ascii")
            .starts_with("sandbox"),
        "{h:?}"
    );
    assert_eq!(response.bytes().await.expect("body").to_vec(), second);
    let old = app
        .visitor()
        .get(&format!("/dokumente/{id}/versionen/1"))
        .await;
    assert_eq!(old.status(), 200);
    assert!(
        old.headers()["content-disposition"]
            .to_str()
            .expect("ascii")
            .contains("Vorlage%20L%C3%A4nder.pdf")
    );
    assert_eq!(old.bytes().await.expect("body").to_vec(), first);
    assert_eq!(
        app.visitor()
            .get(&format!("/dokumente/{id}/versionen/3"))
            .await
            .status(),
        404
    );

    // The JSON API lists it with both versions.
    let list: serde_json::Value = app
        .visitor()
        .get(&format!("/api/v1/documents/agenda-item/{item}"))
        .await
        .json()
        .await
        .expect("json");
    let doc = &list["documents"][0];
    assert_eq!(doc["title"], "Beschlussvorlage Länder");
    assert_eq!(doc["version"], 2);
    assert_eq!(doc["versions"].as_array().expect("versions").len(), 2);
    assert_eq!(doc["content_type"], "application/pdf");

    // OParl: a File, linked from its agenda item.
    let (status, file) = app
        .visitor()
        .get_text(&format!("/oparl/v1/file/document-{id}"))
        .await;
    assert_eq!(status, 200, "{file}");
    assert!(file.contains("Beschlussvorlage Länder") && file.contains("application/pdf"));
    let (_, agenda) = app
        .visitor()
        .get_text(&format!("/oparl/v1/agendaitem/{item}"))
        .await;
    assert!(agenda.contains("auxiliaryFile"), "{agenda}");

    // The audit log has both steps (each with its event-log entry).
    let events = app
        .store
        .events_since("directory", 0, 100_000)
        .await
        .expect("events");
    assert!(events.iter().any(|e| e.kind == "document_create"));
    assert!(events.iter().any(|e| e.kind == "document_new_version"));

    // The uploader's export lists both versions, without their bytes.
    let (_, export) = admin.get_text("/konto/daten.json").await;
    assert!(export.contains("Vorlage Länder v2.pdf"), "{export}");
}

#[tokio::test]
async fn bad_files_are_refused_with_a_message_beside_the_field() {
    let app = spawn_app_with(|s| s.max_document_bytes = 4096).await;
    let admin = app.admin().await;
    let item = agenda_item(&app, 45).await;
    let new = format!("/dokumente/neu/agenda-item/{item}");
    let owner = Owner {
        kind: OwnerKind::AgendaItem,
        id: item.get(),
    };

    // HTML that calls itself a PDF.
    let response = send(
        &admin,
        &new,
        Some("Seite"),
        "seite.pdf",
        b"<html><script>alert(1)</script></html>".to_vec(),
    )
    .await;
    assert_eq!(response.status(), 422);
    let page = text(&response.text().await.expect("body"));
    assert!(page.contains("kein PDF- oder Office-Dokument"), "{page}");

    // Too large.
    let mut big = simple_pdf(&["gross"]);
    big.resize(8192, b' ');
    let response = send(&admin, &new, Some("Groß"), "gross.pdf", big).await;
    assert_eq!(response.status(), 413);
    let page = text(&response.text().await.expect("body"));
    assert!(page.contains("Die Datei ist zu groß"), "{page}");

    // No title, no file.
    let response = send(&admin, &new, Some(" "), "a.pdf", simple_pdf(&["a"])).await;
    assert_eq!(response.status(), 422);
    let response = send(&admin, &new, Some("Ohne Datei"), "", Vec::new()).await;
    assert_eq!(response.status(), 422);
    let page = text(&response.text().await.expect("body"));
    assert!(page.contains("Bitte eine Datei wählen"), "{page}");

    // Without the token nothing is written either.
    let form = reqwest::multipart::Form::new()
        .text("title", "ohne Token")
        .part(
            "file",
            reqwest::multipart::Part::bytes(simple_pdf(&["x"])).file_name("x.pdf"),
        );
    let response = admin
        .client
        .post(format!("{}{new}", admin.base))
        .header("cookie", &admin.cookie)
        .multipart(form)
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), 403);
    assert!(app.store.documents(owner).await.expect("docs").is_empty());
}

#[tokio::test]
async fn who_sees_and_changes_documents_follows_their_owner() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let item = agenda_item(&app, 45).await;
    let new = format!("/dokumente/neu/agenda-item/{item}");
    let pdf = simple_pdf(&["x"]);

    // Only the office changes agenda items' documents.
    let visitor = app.visitor();
    let response = visitor.get(&new).await;
    assert!(
        response.status() == 303 || response.status() == 401,
        "{}",
        response.status()
    );
    for role in [Role::Member, Role::Participant, Role::Spokesperson] {
        let user = app.user(role).await;
        assert_eq!(user.get(&new).await.status(), 403, "{role:?}");
        assert_eq!(
            send(&user, &new, Some("x"), "x.pdf", pdf.clone())
                .await
                .status(),
            403,
            "{role:?}"
        );
    }
    assert_eq!(
        app.visitor().get("/dokumente/neu/planet/1").await.status(),
        404
    );
    assert_eq!(
        admin
            .get("/dokumente/neu/agenda-item/999999")
            .await
            .status(),
        404
    );

    // A draft resolution's documents are as confidential as the draft.
    let draft = konvent_core::gremien::council::ResolutionInput::parse(
        "2025/90", "Entwurf", "Text", "", "", "draft",
    )
    .expect("valid");
    let actor = konvent_store::Actor::system("Test");
    let draft_id = app
        .store
        .save_resolution(&actor, None, &draft, &[])
        .await
        .expect("saved");
    let draft_new = format!("/dokumente/neu/resolution/{draft_id}");
    assert_eq!(
        send(
            &admin,
            &draft_new,
            Some("Anlage"),
            "anlage.pdf",
            pdf.clone()
        )
        .await
        .status(),
        303
    );
    let doc = app
        .store
        .documents(Owner {
            kind: OwnerKind::Resolution,
            id: draft_id.get(),
        })
        .await
        .expect("docs")[0]
        .id;
    let member = app.user(Role::Member).await;
    for (who, user, status) in [
        ("visitor", app.visitor(), 404),
        ("participant", app.user(Role::Participant).await, 404),
        ("member", member, 200),
    ] {
        assert_eq!(
            user.get(&format!("/dokumente/{doc}")).await.status(),
            status,
            "{who}"
        );
        assert_eq!(
            user.get(&format!("/dokumente/{doc}/versionen/1"))
                .await
                .status(),
            status,
            "{who}"
        );
        assert_eq!(
            user.get(&format!("/api/v1/documents/resolution/{draft_id}"))
                .await
                .status(),
            status,
            "{who}"
        );
    }
    let (_, files) = app
        .visitor()
        .get_text(&format!("/oparl/v1/file/document-{doc}"))
        .await;
    assert!(!files.contains("Anlage"), "{files}");

    // A patron changes the documents of their topic's target-picture versions.
    let topics = app.store.topics().await.expect("topics");
    let topic = topics
        .iter()
        .find(|t| t.id == TopicId::new(1))
        .expect("topic 1");
    let picture = app
        .store
        .target_pictures(topic.id, true)
        .await
        .expect("pictures")[0]
        .id;
    let patron = app.user(Role::Patron).await;
    let path = format!("/dokumente/neu/target-picture/{picture}");
    let response = send(
        &patron,
        &path,
        Some("Zielbild-Anlage"),
        "z.pdf",
        pdf.clone(),
    )
    .await;
    assert_eq!(response.status(), 303);
    assert!(
        response.headers()["location"]
            .to_str()
            .expect("ascii")
            .starts_with(&format!("/strategie/themen/{}#v", topic.slug))
    );
    let (_, page) = patron
        .get_text(&format!("/strategie/themen/{}", topic.slug))
        .await;
    assert!(page.contains("Zielbild-Anlage"), "{page}");
    assert_eq!(
        send(
            &member_again(&app).await,
            &path,
            Some("x"),
            "x.pdf",
            pdf.clone()
        )
        .await
        .status(),
        403
    );

    // Workshops: the office.
    let workshops = app.store.workshops().await.expect("workshops");
    let path = format!("/dokumente/neu/workshop/{}", workshops[0].0);
    assert_eq!(
        send(&admin, &path, Some("Ergebnisse"), "e.pdf", pdf.clone())
            .await
            .status(),
        303
    );
    let (_, page) = app
        .visitor()
        .get_text(&format!("/gremien/workshops/{}", workshops[0].0))
        .await;
    assert!(page.contains("Ergebnisse"), "{page}");
}

async fn member_again(app: &TestApp) -> User {
    app.user(Role::Member).await
}

/// A workshop of the demo's event (its organizers run it) with one document of the office.
async fn event_workshop(app: &TestApp) -> (i64, WorkshopId, DocumentId) {
    let event = app
        .store
        .event(konvent_core::demo::KONVENT_SLUG)
        .await
        .expect("event")
        .id;
    let workshop = app
        .store
        .create_workshop(
            &konvent_store::Actor::system("Test"),
            "Werkstatt Registermodernisierung",
            None,
            Some(event),
            &["Was brauchen die Länder?"],
        )
        .await
        .expect("workshop");
    (
        event.get(),
        workshop,
        upload_to(app, OwnerKind::Workshop, workshop.get()).await,
    )
}

/// Stores a document directly (as the office) and answers its id.
async fn upload_to(app: &TestApp, kind: OwnerKind, id: i64) -> DocumentId {
    let pdf = simple_pdf(&["Anlage"]);
    app.store
        .add_document(
            &konvent_store::Actor::system("Test"),
            Owner { kind, id },
            "Anlage zum Löschen",
            konvent_store::NewFile {
                file_name: "anlage.pdf",
                format: konvent_core::documents::Format::Pdf,
                bytes: &pdf,
            },
        )
        .await
        .expect("document")
}

#[tokio::test]
async fn an_events_organizer_keeps_the_documents_of_its_workshops_and_a_participant_does_not() {
    let app = spawn_app().await;
    let (event, workshop, doc) = event_workshop(&app).await;
    let grant = |scope| konvent_core::authz::Grant::new(Role::Organizer, scope).expect("grant");
    let (_, organizer) = crate::leaks::user_with(
        &app,
        "Olga Organisiert",
        &[grant(konvent_core::authz::Scope::Event(EventId::new(
            event,
        )))],
    )
    .await;
    let (_, elsewhere) = crate::leaks::user_with(
        &app,
        "Otto Anderswo",
        &[grant(konvent_core::authz::Scope::Event(EventId::new(
            event + 1000,
        )))],
    )
    .await;
    let new = format!("/dokumente/neu/workshop/{workshop}");
    let pdf = simple_pdf(&["Ergebnisse"]);

    // The organizer sees the links on the workshop's page, uploads and replaces.
    let (status, page) = organizer
        .get_text(&format!("/gremien/workshops/{workshop}"))
        .await;
    assert_eq!(status, 200);
    assert!(page.contains(&new), "{page}");
    assert!(
        page.contains(&format!("/dokumente/{doc}/loeschen")),
        "{page}"
    );
    assert_eq!(organizer.get(&new).await.status(), 200);
    let response = send(
        &organizer,
        &new,
        Some("Fotoprotokoll"),
        "foto.pdf",
        pdf.clone(),
    )
    .await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers()["location"],
        format!("/gremien/workshops/{workshop}#dokumente-workshop-{workshop}").as_str()
    );
    let replace = format!("/dokumente/{doc}/ersetzen");
    assert_eq!(
        send(&organizer, &replace, None, "anlage-2.pdf", pdf.clone())
            .await
            .status(),
        303
    );
    let docs = app
        .store
        .documents(Owner {
            kind: OwnerKind::Workshop,
            id: workshop.get(),
        })
        .await
        .expect("docs");
    assert_eq!(docs.len(), 2);
    assert_eq!(docs[0].versions.len(), 2);

    // Neither the council's workshop nor another event's is theirs.
    let council_workshop = app.store.workshops().await.expect("workshops");
    let council_workshop = council_workshop
        .iter()
        .find(|(id, ..)| *id != workshop)
        .expect("the demo's workshop")
        .0;
    let other_new = format!("/dokumente/neu/workshop/{council_workshop}");
    assert_eq!(organizer.get(&other_new).await.status(), 403);

    // A participant, an organizer of another event: refused with a German message, and
    // no links on the page.
    for (who, user) in [
        ("participant", app.user(Role::Participant).await),
        ("other organizer", elsewhere),
    ] {
        let response = send(&user, &new, Some("x"), "x.pdf", pdf.clone()).await;
        assert_eq!(response.status(), 403, "{who}");
        let body = text(&response.text().await.expect("body"));
        assert!(
            body.contains("fehlt Ihnen die Berechtigung"),
            "{who}: {body}"
        );
        assert_eq!(
            send(&user, &replace, None, "x.pdf", pdf.clone())
                .await
                .status(),
            403,
            "{who}"
        );
        let (_, page) = user
            .get_text(&format!("/gremien/workshops/{workshop}"))
            .await;
        assert!(page.contains("Fotoprotokoll"), "{who} reads the list");
        assert!(!page.contains(&new) && !page.contains(&replace), "{who}");
    }
}

#[tokio::test]
async fn whoever_may_upload_deletes_a_document_with_all_its_versions_after_a_confirmation() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let item = agenda_item(&app, 45).await;
    let doc = upload_to(&app, OwnerKind::AgendaItem, item.get()).await;
    assert_eq!(
        send(
            &admin,
            &format!("/dokumente/{doc}/ersetzen"),
            None,
            "v2.pdf",
            simple_pdf(&["v2"])
        )
        .await
        .status(),
        303
    );
    let delete = format!("/dokumente/{doc}/loeschen");

    // Visitors and participants may do neither step.
    let visitor = app.visitor();
    let status = visitor.get(&delete).await.status();
    assert!(status == 303 || status == 401, "{status}");
    let status = visitor.post(&delete, &[]).await.status();
    assert!(status == 303 || status == 401, "{status}");
    let participant = app.user(Role::Participant).await;
    assert_eq!(participant.get(&delete).await.status(), 403);
    let response = participant.post(&delete, &[]).await;
    assert_eq!(response.status(), 403);
    assert!(text(&response.text().await.expect("body")).contains("fehlt Ihnen die Berechtigung"));
    assert_eq!(
        app.visitor()
            .get(&format!("/dokumente/{doc}"))
            .await
            .status(),
        200
    );

    // The office: the confirmation (a form with the token), then without the token
    // nothing happens, then the deletion.
    let (status, page) = admin.get_text(&delete).await;
    assert_eq!(status, 200);
    assert!(page.contains("name=\"csrf\"") && page.contains(&format!("action=\"{delete}\"")));
    assert!(text(&page).contains("Anlage zum Löschen"), "{page}");
    assert_eq!(admin.post_raw(&delete, &[]).await.status(), 403);
    let response = admin.post(&delete, &[]).await;
    assert_eq!(response.status(), 303);
    let location = response.headers()["location"]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert_eq!(
        location,
        format!("/gremien/sitzungen/45?dokument-geloescht=agenda-item-{item}#top-{item}")
    );
    let (_, page) = admin.get_text(&location).await;
    assert!(
        text(&page).contains("Das Dokument wurde mit allen Versionen gelöscht."),
        "{page}"
    );
    // The message is the office's only.
    let (_, page) = app.visitor().get_text(&location).await;
    assert!(!page.contains("Versionen gelöscht"));

    // Everything of it is gone: addresses, versions, the list, OParl, the bytes.
    for path in [
        format!("/dokumente/{doc}"),
        format!("/dokumente/{doc}/versionen/1"),
        format!("/dokumente/{doc}/versionen/2"),
        format!("/dokumente/{doc}/ersetzen"),
        delete.clone(),
        format!("/oparl/v1/file/document-{doc}"),
    ] {
        assert_eq!(admin.get(&path).await.status(), 404, "{path}");
    }
    assert_eq!(admin.post(&delete, &[]).await.status(), 404);
    assert!(
        app.store
            .documents(Owner {
                kind: OwnerKind::AgendaItem,
                id: item.get()
            })
            .await
            .expect("docs")
            .is_empty()
    );
    assert!(app.store.document_content(doc, 1).await.is_err());
    let (_, agenda) = app
        .visitor()
        .get_text(&format!("/oparl/v1/agendaitem/{item}"))
        .await;
    assert!(!agenda.contains(&format!("document-{doc}")), "{agenda}");

    // The audit log keeps what went (without the bytes).
    let events = app
        .store
        .events_since("directory", 0, 100_000)
        .await
        .expect("events");
    assert!(events.iter().any(|e| e.kind == "document_deleted"));

    // A workshop's organizer deletes the workshop's documents too.
    let (event, workshop, doc) = event_workshop(&app).await;
    let (_, organizer) = crate::leaks::user_with(
        &app,
        "Olga Organisiert",
        &[konvent_core::authz::Grant::new(
            Role::Organizer,
            konvent_core::authz::Scope::Event(EventId::new(event)),
        )
        .expect("grant")],
    )
    .await;
    let delete = format!("/dokumente/{doc}/loeschen");
    assert_eq!(participant.post(&delete, &[]).await.status(), 403);
    assert_eq!(organizer.get(&delete).await.status(), 200);
    let response = organizer.post(&delete, &[]).await;
    assert_eq!(response.status(), 303);
    assert_eq!(
        response.headers()["location"],
        format!(
            "/gremien/workshops/{workshop}?dokument-geloescht=workshop-{workshop}\
             #dokumente-workshop-{workshop}"
        )
        .as_str()
    );
    assert_eq!(
        app.visitor()
            .get(&format!("/dokumente/{doc}"))
            .await
            .status(),
        404
    );
}
