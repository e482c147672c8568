//! The council's demo minutes (G11) and documents (G12).

use konvent_core::ids::AgendaItemId;

use crate::{Actor, Result, Store};

/// The minutes of the 46th session (G11), with the office's notes, finalised and
/// released to the members.
pub(super) async fn load_minutes(store: &Store, actor: &Actor) -> Result<()> {
    store.generate_minutes(actor, 46).await?;
    let session = store.session(46).await?;
    let notes: Vec<(AgendaItemId, String)> = store
        .agenda(session.id)
        .await?
        .into_iter()
        .filter(|item| item.is_reporting)
        .map(|item| {
            (
                item.id,
                "Die fachpolitischen Sprecherinnen und Sprecher berichten aus ihren \
                 Fachministerkonferenzen; die Berichte liegen der Niederschrift zugrunde."
                    .to_owned(),
            )
        })
        .collect();
    store
        .edit_minutes(
            actor,
            46,
            "Die Sitzung wurde um 10:00 Uhr eröffnet und um 16:00 Uhr geschlossen.",
            &notes,
        )
        .await?;
    store.finalise_minutes(actor, 46).await?;
    // The demo sends no mail: the members find the release in konvent.
    store.release_minutes(actor, 46, &|_| None).await?;
    Ok(())
}

/// Documents (G12) on two agenda items: the reporting items of the 46th and 47th
/// sessions, each a small PDF; the 46th's in a second version.
pub(super) async fn load_documents(store: &Store, actor: &Actor) -> Result<()> {
    use crate::{NewFile, Owner};
    use konvent_core::documents::{Format, OwnerKind, simple_pdf};
    for (number, title, lines) in [
        (
            46,
            "Übersicht der Berichte der Fachministerkonferenzen",
            [
                "Uebersicht der Berichte",
                "46. Sitzung des IT-Planungsrats",
                "Stand: Entwurf",
            ],
        ),
        (
            47,
            "Sachstand Reporting FachMK",
            [
                "Sachstand Reporting FachMK",
                "47. Sitzung des IT-Planungsrats",
                "Stand: final",
            ],
        ),
    ] {
        let Ok(session) = store.session(number).await else {
            continue;
        };
        let Some(item) = store.agenda(session.id).await?.into_iter().next() else {
            continue;
        };
        let owner = Owner {
            kind: OwnerKind::AgendaItem,
            id: item.id.get(),
        };
        let pdf = simple_pdf(&lines);
        let file_name = format!("Reporting-FachMK-{number}.pdf");
        let id = store
            .add_document(
                actor,
                owner,
                title,
                NewFile {
                    file_name: &file_name,
                    format: Format::Pdf,
                    bytes: &pdf,
                },
            )
            .await?;
        if number == 46 {
            let pdf = simple_pdf(&[lines[0], lines[1], "Stand: nach Abstimmung mit den FachMK"]);
            store
                .replace_document(
                    actor,
                    id,
                    NewFile {
                        file_name: &file_name,
                        format: Format::Pdf,
                        bytes: &pdf,
                    },
                )
                .await?;
        }
    }
    Ok(())
}
