use crate::helpers::{snapshot, spawn_app, text};

#[tokio::test]
async fn a_malformed_import_is_refused_with_row_level_reasons_and_changes_nothing() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let before = snapshot(&app.store).await;

    // Wrong columns.
    let response = admin
        .upload(
            "falsch.csv",
            "Gremium;Person\nVMK;Erika\n".as_bytes().to_vec(),
        )
        .await;
    assert_eq!(response.status(), 422);
    let page = text(&response.text().await.expect("body"));
    assert!(
        page.contains("nicht übernommen") && page.contains("Gremium"),
        "{page}"
    );

    // An unknown conference and an end before the start, in different rows.
    let csv = "Konferenz;Rolle;Person;Beginn;Ende\n\
               VMK;Sprecher:in;Erika Mustermann;01.07.2025;\n\
               XYZ;Sprecher:in;Max Muster;;\n\
               DMK;Ansprechpartner:in;Eva Beispiel;01.05.2025;30.04.2025\n";
    let response = admin
        .upload("verzeichnis.csv", csv.as_bytes().to_vec())
        .await;
    assert_eq!(response.status(), 422);
    let page = text(&response.text().await.expect("body"));
    assert!(page.contains("Das Ende liegt vor dem Beginn."), "{page}");

    let csv =
        "Konferenz;Rolle;Person\nVMK;Sprecher:in;Erika Mustermann\nXYZ;Sprecher:in;Max Muster\n";
    let response = admin
        .upload("verzeichnis.csv", csv.as_bytes().to_vec())
        .await;
    assert_eq!(response.status(), 422);
    let page = text(&response.text().await.expect("body"));
    assert!(
        page.contains("3 Konferenz Unbekannte Konferenz „XYZ“"),
        "{page}"
    );

    // Not a spreadsheet at all.
    let response = admin
        .upload("kaputt.xlsx", b"PK\x03\x04 kaputt".to_vec())
        .await;
    assert_eq!(response.status(), 422);
    let response = admin.upload("leer.csv", Vec::new()).await;
    assert_eq!(response.status(), 422);

    assert_eq!(snapshot(&app.store).await, before, "nothing half-imported");
}

#[tokio::test]
async fn an_import_adds_conferences_persons_and_assignments() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let csv = "Konferenz;Name der Konferenz;Federführung;Rolle;Person;Funktion;Beginn;Beschluss\n\
               VMK;;;Sprecher:in;Erika Mustermann;StS;01.07.2025;2025/12\n\
               AMK;Agrarministerkonferenz;Bayern;Ansprechpartner:in;Max Muster;Referatsleiter;;\n";
    let response = admin
        .upload("verzeichnis.csv", csv.as_bytes().to_vec())
        .await;
    assert_eq!(response.status(), 200);
    let page = text(&response.text().await.expect("body"));
    assert!(page.contains("Import abgeschlossen"), "{page}");
    assert!(
        page.contains("Konferenzen angelegt: 1") && page.contains("Personen angelegt: 2"),
        "{page}"
    );
    let (_, amk) = admin.get_text("/gremien/konferenzen/AMK").await;
    assert!(text(&amk).contains("Max Muster"));
    let (_, audit) = admin.get_text("/gremien/konferenzen/AMK/protokoll").await;
    assert!(text(&audit).contains("Konferenz importiert"));
}

#[tokio::test]
async fn the_export_imports_back_without_changes_in_both_formats() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let before = snapshot(&app.store).await;
    for (path, name) in [
        ("/gremien/verzeichnis.csv", "v.csv"),
        ("/gremien/verzeichnis.xlsx", "v.xlsx"),
    ] {
        let response = admin.get(path).await;
        assert_eq!(response.status(), 200);
        assert!(
            response.headers()["content-disposition"]
                .to_str()
                .expect("ascii")
                .contains("attachment")
        );
        let bytes = response.bytes().await.expect("file").to_vec();
        let response = admin.upload(name, bytes).await;
        assert_eq!(response.status(), 200, "{name}");
        let page = text(&response.text().await.expect("body"));
        assert!(page.contains("Zeilen ohne Änderung: 17"), "{name}: {page}");
        assert!(page.contains("Besetzungen angelegt: 0"), "{name}: {page}");
    }
    assert_eq!(snapshot(&app.store).await, before);
}
