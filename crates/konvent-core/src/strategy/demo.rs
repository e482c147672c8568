//! The demo's strategy content: the five focus topics of the deck with their patrons and
//! guiding questions (`shared/seeds/FACTS.md`), and, written for the demo, a target
//! picture per topic, two café rounds of impulses per table, the moderators' summaries
//! and pinboard entries. The texts are fictional; one JSON file per topic.

use serde::Deserialize;

/// One focus topic as the demo fills it.
#[derive(Debug, Clone, Deserialize)]
pub struct DemoTopic {
    pub slug: String,
    pub title: String,
    pub patron: String,
    pub question: String,
    pub guiding_questions: Vec<String>,
    /// The target picture as presented at the convention (Markdown).
    pub target_picture: String,
    /// The table's summary at the end of each round.
    pub summaries: Vec<String>,
    /// Impulses per round.
    pub impulses: Vec<Vec<String>>,
    /// Topics parked on the pinboard at this table.
    pub pins: Vec<String>,
}

impl DemoTopic {
    /// The start of the target picture (its first paragraph and first bullets): the
    /// earlier, published version the convention built on.
    pub fn earlier_target_picture(&self) -> String {
        let mut lines = Vec::new();
        let mut bullets = 0;
        for line in self.target_picture.lines() {
            if line.starts_with("- ") {
                bullets += 1;
                if bullets > 3 {
                    continue;
                }
            }
            lines.push(line);
        }
        lines.join("\n")
    }
}

const FILES: [&str; 5] = [
    include_str!("demo/digitale-transformation.json"),
    include_str!("demo/datennutzung.json"),
    include_str!("demo/digitale-anwendung.json"),
    include_str!("demo/digitale-infrastruktur.json"),
    include_str!("demo/informationssicherheit.json"),
];

/// The five topics in the deck's order.
pub fn topics() -> Result<Vec<DemoTopic>, String> {
    FILES
        .iter()
        .map(|f| serde_json::from_str(f).map_err(|e| format!("demo topic: {e}")))
        .collect()
}

/// Participants made up for the demo (no real persons).
pub const PARTICIPANTS: [&str; 12] = [
    "Jana Albers",
    "Tobias Brandt",
    "Miriam Celik",
    "Frank Dorn",
    "Aylin Ergün",
    "Henrik Fiedler",
    "Sabine Gerlach",
    "Lukas Hoffmeister",
    "Nadine Iversen",
    "Peter Jankowski",
    "Katrin Lorenz",
    "Omar Mansour",
];

/// The networking profiles (K15+) of the made-up participants, in the order of
/// [`PARTICIPANTS`]: organisation, role, Land or conference, a free tag, a line about
/// themselves. Made up, like the names.
pub const PROFILES: [(&str, &str, &str, &str, &str); 12] = [
    (
        "Staatskanzlei Hessen",
        "Referentin Digitalisierung",
        "Hessen",
        "Registermodernisierung",
        "Ich bringe Fachverfahren und Länderkoordination zusammen.",
    ),
    (
        "FITKO",
        "Produktmanager",
        "Bund",
        "Föderale Architektur",
        "Suche Mitstreiter für gemeinsame Komponenten.",
    ),
    (
        "Innenministerium Nordrhein-Westfalen",
        "Referatsleiterin",
        "IMK",
        "Cloud",
        "Interessiert an Souveränität und Betrieb in der Cloud.",
    ),
    (
        "Senatskanzlei Hamburg",
        "CDO-Stab",
        "Hamburg",
        "Open Data",
        "Daten teilen, aber richtig: gern ins Gespräch kommen.",
    ),
    (
        "Landesamt für Digitalisierung Bayern",
        "Architektin",
        "Bayern",
        "KI",
        "KI in der Verwaltung, pragmatisch und prüfbar.",
    ),
    (
        "Bundesministerium des Innern",
        "Referent",
        "Bund",
        "OZG",
        "OZG-Nachnutzung und Einer-für-Alle.",
    ),
    (
        "Ministerium für Umwelt Baden-Württemberg",
        "Digitalbeauftragte",
        "UMK",
        "Umweltdaten",
        "Wie kommen Umweltdaten schneller in die Fachverfahren?",
    ),
    (
        "Kommunale Spitzenverbände",
        "Referent Digitalisierung",
        "Niedersachsen",
        "Kommunen",
        "Die kommunale Sicht einbringen.",
    ),
    (
        "Justizministerium Sachsen",
        "Projektleiterin E-Akte",
        "E-Justice-Rat",
        "E-Akte",
        "E-Akte und Justizportal.",
    ),
    (
        "Dataport",
        "Lösungsarchitekt",
        "Schleswig-Holstein",
        "Betrieb",
        "Gemeinsamer Betrieb über Ländergrenzen.",
    ),
    (
        "Gesundheitsministerium Brandenburg",
        "Referentin",
        "GMK",
        "Gesundheitsdaten",
        "Digitale Gesundheitsämter vernetzen.",
    ),
    (
        "Digitalagentur Berlin",
        "Teamleiter",
        "Berlin",
        "Nutzerzentrierung",
        "Nutzerforschung für Verwaltungsleistungen.",
    ),
];

/// The demo e-mail address of a made-up participant ("Jana Albers" →
/// "jana.albers@konvent.example").
pub fn participant_email(name: &str) -> String {
    let local: String = name
        .to_lowercase()
        .replace(' ', ".")
        .replace('ü', "ue")
        .replace('ö', "oe")
        .replace('ä', "ae")
        .replace('ß', "ss");
    format!("{local}@konvent.example")
}

/// The demo e-mail address of a topic's patron.
pub fn patron_email(slug: &str) -> String {
    format!("pate.{slug}@konvent.example")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_five_topics_of_the_deck_have_two_rounds_of_impulses() {
        let topics = topics().expect("demo topics parse");
        let titles: Vec<&str> = topics.iter().map(|t| t.title.as_str()).collect();
        assert_eq!(
            titles,
            [
                "Digitale Transformation",
                "Datennutzung",
                "Digitale Anwendung",
                "Digitale Infrastruktur",
                "Informationssicherheit"
            ]
        );
        let patrons: Vec<&str> = topics.iter().map(|t| t.patron.as_str()).collect();
        assert_eq!(
            patrons,
            [
                "Bernd Schlömer",
                "Christian Pfromm",
                "Dr. Martin Hagen",
                "Stefan Sauer",
                "Dr. Markus Richter"
            ]
        );
        let mut impulses = 0;
        for t in &topics {
            assert_eq!(t.guiding_questions.len(), 3, "{}", t.slug);
            assert_eq!(t.summaries.len(), 2, "{}", t.slug);
            assert_eq!(t.impulses.len(), 2, "{}", t.slug);
            assert!(t.pins.len() >= 2, "{}", t.slug);
            for round in &t.impulses {
                for i in round {
                    assert!(super::super::text(i, super::super::IMPULSE_MAX, "").is_ok());
                }
                impulses += round.len();
            }
            assert!(t.earlier_target_picture().len() < t.target_picture.len());
        }
        // "A few hundred" impulses.
        assert!(impulses >= 250, "{impulses}");
        assert_eq!(
            participant_email("Aylin Ergün"),
            "aylin.erguen@konvent.example"
        );
    }
}
