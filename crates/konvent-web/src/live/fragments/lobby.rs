//! The lobby's live regions (K1, K7, K14): the now/next panel, the programme with its
//! current item, the pitch timer (also on the organizers' console and in the plenum),
//! and the destinations with the feedback link.
//!
//! The now/next panel and the programme depend on the clock as long as the organizers
//! have not started an item themselves. A page reads the clock when it is rendered, a
//! live frame at its entry's time (an `agenda` entry carries the whole agenda for that);
//! both name the next moment the clock changes them in `data-refresh-at`, and `live.js`
//! takes the regions from the page anew then (docs/live-protocol.md, "Fragments").

use askama::Template;
use jiff::Timestamp;
use konvent_core::convention::{self as core, AgendaEntry, Phase, SOON_MINUTES};
use konvent_store::{LiveRecord, Timer};

use super::{DomOp, Fx, html};
use crate::i18n::Tr;

/// The agenda as it stands at a moment.
pub struct Programme<'a> {
    pub agenda: &'a [AgendaEntry],
    /// The item the organizers started; `None`: the clock decides.
    pub announced: Option<usize>,
    /// The moment the clock is read at: now for a page, the entry's time for a frame.
    pub at: Timestamp,
}

impl Programme<'_> {
    fn phase(&self) -> Phase<'_> {
        core::phase(self.agenda, self.at, self.announced)
    }

    /// Whether the organizers' choice leads (the clock changes nothing then).
    fn announced(&self) -> bool {
        self.announced.is_some_and(|i| i < self.agenda.len())
    }

    /// The index of the item that runs: the started one, the clock's, or before the
    /// program proper the open space.
    pub fn current(&self) -> Option<usize> {
        let item = match self.phase() {
            Phase::Running { current, .. } => current,
            Phase::Before { open, .. } => open,
            Phase::Over | Phase::Unplanned => None,
        }?;
        self.agenda.iter().position(|a| std::ptr::eq(a, item))
    }

    /// The next moment at which the clock changes what the lobby says: an item begins
    /// or ends, or "beginnt in Kürze" starts. `None` while an item the organizers
    /// started leads, and after the last item.
    pub fn changes_at(&self) -> Option<Timestamp> {
        if self.announced() {
            return None;
        }
        let soon = match self.phase() {
            Phase::Before { first, .. } => first
                .starts_at
                .checked_sub(jiff::SignedDuration::from_mins(SOON_MINUTES))
                .ok(),
            _ => None,
        };
        self.agenda
            .iter()
            .flat_map(|a| [a.starts_at, a.ends_at])
            .chain(soon)
            .filter(|t| *t > self.at)
            .min()
    }

    /// Whether the program is over: the clock has passed the last item and the
    /// organizers run none.
    pub fn over(&self) -> bool {
        matches!(self.phase(), Phase::Over)
    }

    /// What the lobby says now ("Jetzt: …", "beginnt um 12:50 Uhr …") and next
    /// ("Danach, 13:00 Uhr: …").
    pub fn lines(&self, t: &Tr) -> (String, Option<String>) {
        match self.phase() {
            Phase::Before { soon: true, .. } => (t.get("lobby-soon"), None),
            Phase::Before { first, .. } => {
                let with = if t.lang.code() == "de" {
                    first.kind.with_phrase_de()
                } else {
                    first.kind.with_phrase_en()
                };
                (
                    t.with(
                        "lobby-begins-at",
                        &[("time", &core::clock(first.starts_at)), ("with", with)],
                    ),
                    None,
                )
            }
            Phase::Running { current, next } => (
                current
                    .map(|c| t.with("lobby-now", &[("item", &c.title)]))
                    .unwrap_or_default(),
                next.map(|n| {
                    t.with(
                        "lobby-next",
                        &[("time", &core::clock(n.starts_at)), ("item", &n.title)],
                    )
                }),
            ),
            Phase::Over => (t.get("lobby-over"), None),
            Phase::Unplanned => (t.get("lobby-unplanned"), None),
        }
    }
}

/// A kind or type next to a name only when it adds something: "Plenum" is not
/// followed by "(Plenum)", nor "Pitch der Zielbilder" by "(Pitch)".
pub fn kind_adds(name: &str, kind: &str) -> bool {
    !name.to_lowercase().contains(&kind.to_lowercase())
}

#[derive(Template)]
#[template(path = "konvent/fragments/lobby_now.html")]
struct Now<'a> {
    fx: &'a Fx,
    now: String,
    next: Option<String>,
    over: bool,
    refresh_at: Option<String>,
}

/// The lobby's now/next panel: what runs, what comes next, and after the program the
/// lounge.
pub fn now(programme: &Programme, fx: &Fx) -> String {
    let (now, next) = programme.lines(&fx.t);
    html(&Now {
        fx,
        now,
        next,
        over: programme.over(),
        refresh_at: programme.changes_at().map(|t| t.to_string()),
    })
}

struct Row {
    time: String,
    title: String,
    /// The kind, when the title does not already say it.
    kind: Option<String>,
    current: bool,
}

#[derive(Template)]
#[template(path = "konvent/fragments/program.html")]
struct Program<'a> {
    fx: &'a Fx,
    rows: Vec<Row>,
    refresh_at: Option<String>,
}

/// The programme with its current item marked.
pub fn program(programme: &Programme, fx: &Fx) -> String {
    let current = programme.current();
    let rows = programme
        .agenda
        .iter()
        .enumerate()
        .map(|(index, a)| {
            let kind = fx.t.get(&format!("agenda-kind-{}", a.kind.as_str()));
            Row {
                time: format!("{}–{}", core::clock(a.starts_at), core::clock(a.ends_at)),
                kind: kind_adds(&a.title, &kind).then_some(kind),
                title: a.title.clone(),
                current: current == Some(index),
            }
        })
        .collect();
    html(&Program {
        fx,
        rows,
        refresh_at: programme.changes_at().map(|t| t.to_string()),
    })
}

struct Running {
    label: String,
    ends_at: String,
    remaining: String,
    over: bool,
}

#[derive(Template)]
#[template(path = "konvent/fragments/timer.html")]
struct TimerBox {
    running: Option<Running>,
}

/// The pitch timer (K7) as it stands at `at`: label and time left; `live.js` counts
/// down from `data-ends-at`. Hidden while it does not run.
pub fn timer(timer: Option<&Timer>, at: Timestamp) -> String {
    let running = timer.and_then(|t| {
        let ends_at = t.ends_at?;
        let left = (ends_at.as_second() - at.as_second()).max(0);
        Some(Running {
            label: t.label.clone(),
            ends_at: ends_at.to_string(),
            remaining: format!("{}:{:02}", left / 60, left % 60),
            over: left == 0,
        })
    });
    html(&TimerBox { running })
}

#[derive(Template)]
#[template(path = "konvent/fragments/destinations.html")]
struct Destinations<'a> {
    fx: &'a Fx,
    feedback_open: bool,
}

/// Where a participant goes from the lobby: map, café, pinboard, questions, help desk,
/// the survey once it is open, and for organizers their console.
pub fn destinations(feedback_open: bool, fx: &Fx) -> String {
    html(&Destinations { fx, feedback_open })
}

/// An agenda item as an `agenda` entry carries it.
fn agenda_item(value: &serde_json::Value) -> Option<AgendaEntry> {
    Some(AgendaEntry {
        kind: value["kind"].as_str()?.parse().ok()?,
        title: value["title"].as_str()?.to_owned(),
        starts_at: value["starts_at"].as_str()?.parse().ok()?,
        ends_at: value["ends_at"].as_str()?.parse().ok()?,
    })
}

pub fn ops(record: &LiveRecord, fx: &Fx) -> Vec<DomOp> {
    let at = konvent_store::timestamp(record.at);
    match record.kind.as_str() {
        "agenda" => {
            // Entries from before the agenda came along cannot be rendered.
            let Some(items) = record.data["agenda"].as_array() else {
                return Vec::new();
            };
            let Some(agenda) = items.iter().map(agenda_item).collect::<Option<Vec<_>>>() else {
                return Vec::new();
            };
            let programme = Programme {
                agenda: &agenda,
                announced: record.data["current"]
                    .as_u64()
                    .and_then(|i| usize::try_from(i).ok()),
                at,
            };
            vec![
                DomOp::Replace {
                    id: "lobby-now".into(),
                    html: now(&programme, fx),
                },
                DomOp::Replace {
                    id: "program".into(),
                    html: program(&programme, fx),
                },
            ]
        }
        "timer" => {
            let data = &record.data;
            let running = Timer {
                label: data["label"].as_str().unwrap_or_default().to_owned(),
                seconds: data["seconds"].as_i64().unwrap_or_default(),
                ends_at: data["ends_at"].as_str().and_then(|t| t.parse().ok()),
            };
            vec![DomOp::Replace {
                id: "timer".into(),
                html: timer(Some(&running), at),
            }]
        }
        "feedback_open" => vec![DomOp::Replace {
            id: "destinations".into(),
            html: destinations(record.data["open"].as_bool().unwrap_or(false), fx),
        }],
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;
    use jiff::civil::date;
    use konvent_core::convention::{AgendaKind, berlin_time};

    fn at(h: i8, m: i8) -> Timestamp {
        berlin_time(date(2025, 2, 20), h, m).expect("valid time")
    }

    fn agenda() -> Vec<AgendaEntry> {
        let item = |kind, title: &str, from: (i8, i8), to: (i8, i8)| AgendaEntry {
            kind,
            title: title.into(),
            starts_at: at(from.0, from.1),
            ends_at: at(to.0, to.1),
        };
        vec![
            item(AgendaKind::Opening, "Öffnung des Raums", (12, 0), (12, 50)),
            item(
                AgendaKind::TechnicalBriefing,
                "Technische Einweisung",
                (12, 50),
                (13, 0),
            ),
            item(AgendaKind::Pitch, "Pitch der Zielbilder", (13, 0), (13, 30)),
            item(AgendaKind::Closing, "Ausblick", (13, 30), (14, 0)),
        ]
    }

    #[test]
    fn the_clock_names_its_next_change() {
        let agenda = agenda();
        let p = |h, m, announced| Programme {
            agenda: &agenda,
            announced,
            at: at(h, m),
        };
        // Before the briefing: "beginnt in Kürze" from 12:35.
        assert_eq!(p(12, 10, None).changes_at(), Some(at(12, 35)));
        assert_eq!(p(12, 40, None).changes_at(), Some(at(12, 50)));
        assert_eq!(p(13, 10, None).changes_at(), Some(at(13, 30)));
        // After the last item nothing changes any more, nor while a started item leads.
        assert_eq!(p(15, 0, None).changes_at(), None);
        assert_eq!(p(13, 10, Some(1)).changes_at(), None);
    }

    #[test]
    fn an_item_run_after_the_program_is_not_over() {
        let agenda = agenda();
        let later = Programme {
            agenda: &agenda,
            announced: Some(2),
            at: at(18, 0),
        };
        assert!(!later.over());
        assert_eq!(later.current(), Some(2));
        let (now, next) = later.lines(&Tr::new(Lang::De));
        assert_eq!(now, "Jetzt: Pitch der Zielbilder");
        assert_eq!(next.as_deref(), Some("Danach, 13:30 Uhr: Ausblick"));
        let clock = Programme {
            announced: None,
            ..later
        };
        assert!(clock.over());
        assert_eq!(clock.current(), None);
    }

    #[test]
    fn a_kind_shows_only_when_it_adds_something() {
        assert!(!kind_adds("Plenum", "Plenum"));
        assert!(!kind_adds("Technische Einweisung", "Technische Einweisung"));
        assert!(!kind_adds(
            "Pitch der Zielbilder durch die Themenpaten",
            "Pitch"
        ));
        assert!(kind_adds(
            "Gemeinsame Arbeit an den Zielbildern – Teil 1",
            "World-Café-Runde"
        ));
    }
}
