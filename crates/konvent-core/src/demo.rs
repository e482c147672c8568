//! The demo data: the seed decks as konvent records (DESIGN.md "Demo data"). The
//! directory is exactly the slide "Übersicht benannter Personen" of the FachMK deck
//! (`seeds/004_…`, source Beschluss 2022/43), written as import rows so that the demo
//! goes through the same checks as any import.

use crate::gremien::transfer::{DirectoryRow, PersonFields};
use crate::gremien::{Abbreviation, ResolutionNumber, RoleKind};

/// The demo admin's e-mail address; `--demo` prints a sign-in link for this account.
pub const ADMIN_EMAIL: &str = "admin@konvent.example";
pub const ADMIN_NAME: &str = "Demo-Administration (FITKO)";

struct Box {
    abbreviation: &'static str,
    name: &'static str,
    lead: &'static str,
    /// (title, name, function as on the slide, organisation)
    persons: &'static [(&'static str, &'static str, &'static str, &'static str)],
    note: Option<&'static str>,
}

const BOXES: &[Box] = &[
    Box {
        abbreviation: "WMK",
        name: "Wirtschaftsministerkonferenz",
        lead: "Hamburg",
        persons: &[(
            "",
            "Jan Pörksen",
            "Chef der Senatskanzlei und des Personalamtes",
            "Freie und Hansestadt Hamburg",
        )],
        note: None,
    },
    Box {
        abbreviation: "IMK",
        name: "Innenministerkonferenz",
        lead: "NI & MV",
        persons: &[
            (
                "",
                "Stephan Manke",
                "StS im Ministerium für Inneres",
                "Niedersachsen",
            ),
            (
                "",
                "Ina-Maria Ulbrich",
                "StS im Ministerium für Inneres, Bau und Digitalisierung",
                "Mecklenburg-Vorpommern",
            ),
        ],
        note: None,
    },
    Box {
        abbreviation: "FMK",
        name: "Finanzministerkonferenz",
        lead: "Bremen & Thüringen",
        persons: &[
            (
                "Dr.",
                "Martin Hagen",
                "Staatsrat für Haushalt, Personal und IT beim Senator für Finanzen",
                "Freie Hansestadt Bremen",
            ),
            (
                "Dr.",
                "Hartmut Schubert",
                "StS im Finanzministerium",
                "Freistaat Thüringen",
            ),
        ],
        note: None,
    },
    Box {
        abbreviation: "JuMiKo",
        name: "E-Justice-Rat (Justizministerkonferenz)",
        lead: "",
        persons: &[],
        note: Some(
            "Eine Neubesetzung erfolgt aus dem Kreis der Mitglieder des IT-PLR (geplant zur 44. IT-PLR-Sitzung).",
        ),
    },
    Box {
        abbreviation: "UMK",
        name: "Umweltministerkonferenz",
        lead: "Schleswig-Holstein",
        persons: &[(
            "",
            "Dirk Schrödter",
            "Minister und Chef der Staatskanzlei",
            "Schleswig-Holstein",
        )],
        note: None,
    },
    Box {
        abbreviation: "BMK",
        name: "Bauministerkonferenz",
        lead: "MV & NRW",
        persons: &[
            (
                "",
                "Ina-Maria Ulbrich",
                "StS im Ministerium für Inneres, Bau und Digitalisierung",
                "Mecklenburg-Vorpommern",
            ),
            (
                "",
                "Daniel Sieveke",
                "StS im Ministerium für Heimat, Kommunales, Bau und Digitalisierung",
                "Nordrhein-Westfalen",
            ),
        ],
        note: None,
    },
    Box {
        abbreviation: "VMK",
        name: "Verkehrsministerkonferenz",
        lead: "Hessen",
        persons: &[],
        note: None,
    },
    Box {
        abbreviation: "ASMK",
        name: "Arbeits- und Sozialministerkonferenz",
        lead: "Rheinland-Pfalz",
        persons: &[(
            "",
            "Fedor Ruhose",
            "StS für Arbeit, Soziales, Transformation und Digitalisierung",
            "Rheinland-Pfalz",
        )],
        note: None,
    },
    Box {
        abbreviation: "GMK",
        name: "Gesundheitsministerkonferenz",
        lead: "Niedersachsen",
        persons: &[(
            "",
            "Stephan Manke",
            "StS im Ministerium für Inneres und Sport",
            "Niedersachsen",
        )],
        note: None,
    },
    Box {
        abbreviation: "KMK",
        name: "Kultusministerkonferenz",
        lead: "Sachsen-Anhalt",
        persons: &[(
            "",
            "Bernd Schlömer",
            "StS für Digitalisierung im Ministerium für Infrastruktur und Digitales & Beauftragter der Landesregierung für Informationstechnik",
            "Sachsen-Anhalt",
        )],
        note: None,
    },
    Box {
        abbreviation: "EnMK",
        name: "Energieministerkonferenz",
        lead: "Schleswig-Holstein",
        persons: &[(
            "",
            "Dirk Schrödter",
            "Minister und Chef der Staatskanzlei",
            "Schleswig-Holstein",
        )],
        note: None,
    },
    Box {
        abbreviation: "SMK",
        name: "Sportministerkonferenz",
        lead: "Nordrhein-Westfalen",
        persons: &[(
            "",
            "Daniel Sieveke",
            "StS im Ministerium für Heimat, Kommunales, Bau und Digitalisierung",
            "Nordrhein-Westfalen",
        )],
        note: None,
    },
    Box {
        abbreviation: "DMK",
        name: "Digitalministerkonferenz",
        lead: "Berlin & Bund (Vorsitz IT-PLR)",
        persons: &[
            (
                "",
                "Martina Klement",
                "CDO des Landes Berlin und Staatssekretärin für Digitalisierung und Verwaltungsmodernisierung",
                "Land Berlin",
            ),
            (
                "",
                "Markus Richter",
                "StS & CIO Bundesministerium des Innern und für Heimat",
                "Bund",
            ),
        ],
        note: None,
    },
];

/// The thirteen boxes of the slide as import rows: one row per spokesperson, and one
/// vacancy row for a box without a name.
pub fn directory_rows() -> Vec<DirectoryRow> {
    let resolution = ResolutionNumber::parse("2022/43").ok();
    let text = |s: &str| (!s.is_empty()).then(|| s.to_owned());
    let mut rows = Vec::new();
    for b in BOXES {
        let Ok(conference) = Abbreviation::parse(b.abbreviation) else {
            continue;
        };
        let row = |person: Option<PersonFields>| DirectoryRow {
            row: 0,
            conference: conference.clone(),
            conference_name: Some(b.name.to_owned()),
            lead_states: text(b.lead),
            office_contact: None,
            role: RoleKind::Spokesperson,
            person,
            starts_on: None,
            ends_on: None,
            appointing_resolution: resolution,
            legal_basis: Some(RoleKind::Spokesperson.default_legal_basis().to_owned()),
            note: b.note.map(str::to_owned),
        };
        if b.persons.is_empty() {
            rows.push(row(None));
        }
        for (title, name, function, organisation) in b.persons {
            rows.push(row(Some(PersonFields {
                name: (*name).to_owned(),
                title: text(title),
                function: text(function),
                organisation: text(organisation),
            })));
        }
    }
    // Numbered as if written to a file after its header row.
    for (i, row) in rows.iter_mut().enumerate() {
        row.row = i + 2;
    }
    rows
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_directory_has_all_thirteen_boxes_of_the_slide() {
        let rows = directory_rows();
        let mut conferences: Vec<_> = rows.iter().map(|r| r.conference.as_str()).collect();
        conferences.dedup();
        assert_eq!(conferences.len(), 13);
        let vmk: Vec<_> = rows
            .iter()
            .filter(|r| r.conference.as_str() == "VMK")
            .collect();
        assert_eq!(vmk.len(), 1);
        assert!(vmk[0].person.is_none(), "VMK is N.N.");
        let dmk = rows
            .iter()
            .find(|r| r.conference.as_str() == "DMK")
            .expect("DMK");
        assert_eq!(
            dmk.lead_states.as_deref(),
            Some("Berlin & Bund (Vorsitz IT-PLR)")
        );
        let ejr = rows
            .iter()
            .find(|r| r.conference.as_str() == "JuMiKo")
            .expect("E-Justice-Rat");
        assert!(ejr.person.is_none());
        assert!(ejr.note.as_deref().is_some_and(|n| n.contains("44.")));
        assert!(
            rows.iter()
                .all(|r| r.appointing_resolution.map(|n| n.to_string())
                    == Some("2022/43".to_owned()))
        );
    }
}
