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

/// The council sessions 43 to 48 (FACTS.md; the 43rd introduced "Reporting FachMK").
/// (number, date, place) — all held by now.
pub const SESSIONS: [(i64, &str, &str); 6] = [
    (43, "2024-03-20", "Videokonferenz"),
    (44, "2024-06-19", "Berlin"),
    (45, "2024-11-13", "Videokonferenz"),
    (46, "2025-03-26", "Schwerin"),
    (47, "2025-06-26", "Berlin"),
    (48, "2025-11-26", "Videokonferenz"),
];

/// A resolution of the demo: number, title, Markdown text from the deck, the session
/// that decided it (where the decks place it), and why it matters for the conferences.
pub struct DemoResolution {
    pub number: &'static str,
    pub title: &'static str,
    pub body: &'static str,
    pub session: Option<i64>,
    pub relevance: &'static str,
}

/// The four resolutions the decks name, all marked "hohe Relevanz für die FachMK". The
/// decks do not say in which session 2022/43 and 2023/07 were decided (before the 43rd);
/// 2024/02 and 2024/15 are placed in the 43rd session, the first of 2024 — an
/// assumption of the demo, stated in its text.
pub const RESOLUTIONS: [DemoResolution; 4] = [
    DemoResolution {
        number: "2022/43",
        title: "Fachpolitische Sprecherinnen und Sprecher",
        body: "Der IT-Planungsrat ernennt aus seinem Mitgliederkreis fachpolitische Sprecher \
               für die Fachministerkonferenzen.\n\nDer Steuerungskreis erarbeitet mit der FITKO \
               ein Konzept, das die inhaltliche Zusammenarbeit des IT-Planungsrats mit den \
               Fachministerkonferenzen strukturiert und die Sprecher bei ihrer Aufgabe unterstützt.",
        session: None,
        relevance: "Benennt die fachpolitische Sprecherin oder den Sprecher für diese Konferenz.",
    },
    DemoResolution {
        number: "2023/07",
        title: "EfA-Mindestanforderungen",
        body: "Der IT-Planungsrat beschließt das Dokument **Mindestanforderungen an den Betrieb \
               von „Einer für Alle“-Services** und erklärt, dieses als Richtlinienempfehlung \
               anzuwenden.\n\n- Beschreibung von Mindestanforderungen, die jeder Betrieb von \
               EfA-Onlinediensten erfüllen muss, um „EfA-konform“ zu sein\n- Verpflichtung der \
               Länder untereinander, den Betrieb von EfA-Services nach den hier vereinbarten \
               Mindestanforderungen umzusetzen",
        session: None,
        relevance: "Betrifft den Betrieb der EfA-Onlinedienste im Zuständigkeitsbereich der Fachressorts.",
    },
    DemoResolution {
        number: "2024/02",
        title: "Föderale Digitalstrategie",
        body: "Start der Arbeit an einer **föderalen Digitalisierungsstrategie**.\n\n\
               - Wirkungsorientierung als zentraler Maßstab\n- Partizipationsprozess ist ein \
               zentraler Bestandteil der Erstellung der Strategie; aktive Beteiligung der FachMK \
               ist vorgesehen\n- Erste Version soll zur 45. Sitzung des IT-PLR vorliegen\n\n\
               *Demo: der Sitzung 43 zugeordnet, der ersten Sitzung des Jahres 2024.*",
        session: Some(43),
        relevance: "Aktive Beteiligung der Fachministerkonferenzen am Partizipationsprozess.",
    },
    DemoResolution {
        number: "2024/15",
        title: "Registermodernisierung",
        body: "Der IT-Planungsrat beschließt die **Konkretisierung des Zielbildes** \
               Registermodernisierung durch:\n\n- Erprobungsprojekte mit den FachMK\n- Schaffung \
               der rechtlichen, fachlichen und technischen Rahmenbedingungen\n- Intensivierung der \
               Zusammenarbeit mit den FachMK im Rahmen einer transparenten Kommunikation\n\n\
               *Demo: der Sitzung 43 zugeordnet, der ersten Sitzung des Jahres 2024.*",
        session: Some(43),
        relevance: "Erprobungsprojekte der Registermodernisierung mit den Fachministerkonferenzen.",
    },
];

/// Reports in the demo: (session, conference, no exchange, answer on collaboration).
pub const REPORTS: [(i64, &str, bool, &str); 4] = [
    (
        46,
        "DMK",
        false,
        "Gemeinsame Sitzung der Arbeitsgruppen zur Registermodernisierung; Austausch zu den Zielbildern des Strategiekonvents.",
    ),
    (46, "KMK", true, ""),
    (
        46,
        "ASMK",
        false,
        "Die ASMK hat die Nachbesprechung zur 45. Sitzung genutzt; ein Impulsvortrag im IT-PLR ist angefragt.",
    ),
    (45, "IMK", true, ""),
];

/// The workshop of the FachMK deck ("Diskussionsfragen für den Workshop").
pub const WORKSHOP_TITLE: &str = "Workshop: Zusammenarbeit mit den Fachministerkonferenzen";
pub const WORKSHOP_QUESTIONS: [&str; 4] = [
    "Wie und mit welchen Maßnahmen stellen Sie die Einbindung der föderalen Fachlichkeit \
     (außerhalb Ihres eigenen Bundeslandes) sicher? Was war dabei erfolgreich? Was hat nicht \
     so gut geklappt?",
    "Welche weiteren Maßnahmen des IT-PLR/FITKO neben den vorgestellten Aktivitäten könnten \
     die Zusammenarbeit mit den Fachministerkonferenzen stärken – auf der Ebene der \
     Entscheider:innen, auf der Arbeitsebene?",
    "Welche zukünftigen Formate für den Dialog mit den Fachministerkonferenzen benötigen wir \
     neben den vorgestellten Maßnahmen?",
    "Wer kann im Ökosystem der Fachministerkonferenzen und des IT-PLR jeweils Aufgaben zur \
     gegenseitigen Einbindung übernehmen?",
];

/// The Strategiekonvent 2025 (deck `000_…`, held 20.02.2025, virtual).
pub const KONVENT_SLUG: &str = "strategiekonvent-2025";
pub const KONVENT_TITLE: &str = "Strategiekonvent 2025";
pub const KONVENT_DATE: (i16, i8, i8) = (2025, 2, 20);

/// The house rules of the welcome screen, word for word (K2).
pub const HOUSE_RULES: &str = "\
**Chat einblenden** – Hier können Sie Fragen stellen und wichtige Hinweise erhalten.

**Mikrofone stummschalten** – Ab 20 Personen werden die Mikrofone automatisch stummgeschaltet.

**Video einschalten** – Bei Wortbeitrag oder in kleineren Gruppen gerne das Video einschalten.

**Eine Person spricht** – Fragen und Wortmeldungen gerne per Chat und Hand heben adressieren.";

/// A Berlin wall-clock time: hour and minute.
pub type Clock = (i8, i8);

/// The agenda: kind, title, start and end.
pub const KONVENT_AGENDA: [(&str, &str, Clock, Clock); 12] = [
    (
        "opening",
        "Öffnung des Raums mit Gelegenheit zur Vernetzung",
        (12, 0),
        (12, 50),
    ),
    (
        "technical_briefing",
        "Technische Einweisung",
        (12, 50),
        (13, 0),
    ),
    (
        "welcome",
        "Begrüßung sowie Vorstellung der Agenda und Methodik",
        (13, 0),
        (13, 15),
    ),
    (
        "pitch",
        "Pitch der Zielbilder durch die Themenpaten",
        (13, 15),
        (13, 40),
    ),
    (
        "break",
        "Pause und Orientierung auf der Karte",
        (13, 40),
        (13, 50),
    ),
    (
        "cafe_round",
        "Gemeinsame Arbeit an den Zielbildern – Teil 1",
        (13, 50),
        (14, 45),
    ),
    (
        "break",
        "Pause und Wechsel in andere Session",
        (14, 45),
        (15, 0),
    ),
    (
        "cafe_round",
        "Gemeinsame Arbeit an den Zielbildern – Teil 2",
        (15, 0),
        (15, 55),
    ),
    (
        "break",
        "Pause mit Gelegenheit zur Vernetzung",
        (15, 55),
        (16, 0),
    ),
    (
        "podium",
        "Podiumsdiskussion mit Lena-Sophie Müller (D21), Malte Spitz (NKR), Florian Theißing (Agora) und Ann Cathrin Riedel (NExT e.V.)",
        (16, 0),
        (16, 45),
    ),
    (
        "closing",
        "Ausblick, Schlussworte und Verabschiedung",
        (16, 45),
        (17, 0),
    ),
    // "Ab 17:00 Uhr": the deck gives no end; two hours are assumed. The lounge stays
    // open after that too (K15).
    (
        "networking",
        "Vernetzung / virtuelle Party",
        (17, 0),
        (19, 0),
    ),
];

/// Rooms: slug, name, kind, capacity.
pub const KONVENT_ROOMS: [(&str, &str, &str, i64); 3] = [
    ("plenum", "Plenum", "plenary", 3000),
    ("helpdesk", "Info / Help Desk", "helpdesk", 50),
    ("lounge", "Lounge", "lounge", 1000),
];

/// The two helpers named in the deck ("Moritz Dittrich und Jürina Hildebrand über den
/// Chat"), and the moderation (Dr. André Göbel, president of FITKO).
pub const KONVENT_HELPERS: [(&str, &str); 2] = [
    ("moritz.dittrich@konvent.example", "Moritz Dittrich"),
    ("juerina.hildebrand@konvent.example", "Jürina Hildebrand"),
];
pub const KONVENT_MODERATOR: (&str, &str) = ("andre.goebel@konvent.example", "Dr. André Göbel");

/// The demo's council member for a seat (G9): an account with the member role that
/// represents the Bund or a Land; the Bund also has a deputy.
pub fn seat_member(seat: crate::gremien::majority::Seat) -> (String, String) {
    (
        format!("mitglied-{}@konvent.example", seat.code()),
        format!("Mitglied {} (Demo)", seat.name()),
    )
}

/// The demo's deputy for the Bund's seat.
pub const SEAT_DEPUTY: (&str, &str) = (
    "stellvertretung-bund@konvent.example",
    "Stellvertretung Bund (Demo)",
);

/// A guest of a FachMK at the 48th session (the deck: "Einladung von Vertreter:innen
/// der FachMK"): address, name, conference.
pub const SESSION_GUEST: (&str, &str, &str) =
    ("gast-dmk@konvent.example", "Gast der DMK (Demo)", "DMK");

/// The votes of the demo's 48th session (G9): number, title, text. The first is adopted
/// and published, the second rejected (the Bund voted no).
pub const SESSION_VOTES: [(&str, &str, &str); 2] = [
    (
        "2025/40",
        "Betrieb der Registermodernisierung",
        "Der IT-Planungsrat beschließt den gemeinsamen Betrieb der Komponenten der \
         Registermodernisierung ab 2026.\n\n*Demo: Abstimmung in der 48. Sitzung.*",
    ),
    (
        "2025/41",
        "Gemeinsame Finanzierung eines Dienstes",
        "Der IT-Planungsrat beschließt, einen Dienst gemeinsam zu finanzieren.\n\n\
         *Demo: in der 48. Sitzung abgelehnt, der Bund stimmte nicht zu.*",
    ),
];

/// The demo's running written procedure (G10): number, title, text.
pub const WRITTEN_PROCEDURE: (&str, &str, &str) = (
    "2025/42",
    "Empfehlung zur Barrierefreiheit der Onlinedienste",
    "Der IT-Planungsrat empfiehlt, neue Onlinedienste vor dem Start auf Barrierefreiheit \
     zu prüfen.\n\n*Demo: im Umlaufverfahren.*",
);

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
