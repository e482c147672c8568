//! The World Café's live regions (K9, K10): an impulse line, a table's summary, "Am
//! Tisch" with its headcount, the café page's rounds and a table page's round state.
//! Pages render these from the store, live frames from the entries' data; both through
//! the functions here, so an open page always equals its reload.

use askama::Template;
use jiff::Timestamp;
use konvent_core::ids::{AccountId, ImpulseId, RoundId, TableId};
use konvent_core::strategy::IMPULSE_EDIT_SECONDS;
use konvent_store::{Impulse, LiveRecord, Who};
use serde::Deserialize;
use serde_json::Value;

use super::{DomOp, Fx, html, sort_key};

/// An impulse as its line shows it.
#[derive(Debug, Clone)]
pub struct ImpulseLine {
    pub id: ImpulseId,
    pub table: TableId,
    /// The table's room: its moderators hide, show and merge.
    pub room: String,
    pub author_id: Option<AccountId>,
    pub author: String,
    /// Empty for a hidden impulse: its text is not sent to anybody (the moderation page
    /// keeps it for the organizers).
    pub text: String,
    pub hidden: bool,
    pub merged: bool,
    pub edited: bool,
    pub created_at: Timestamp,
}

impl ImpulseLine {
    pub fn of(impulse: &Impulse, room: &str) -> Self {
        Self {
            id: impulse.id,
            table: impulse.table_id,
            room: room.to_owned(),
            author_id: impulse.author_id,
            author: impulse.author_name.clone(),
            text: if impulse.hidden {
                String::new()
            } else {
                impulse.text.clone()
            },
            hidden: impulse.hidden,
            merged: impulse.merged_into.is_some(),
            edited: impulse.edited,
            created_at: impulse.created_at,
        }
    }

    /// From an `impulse` entry. An entry written before the impulse was hidden lost its
    /// text then (a tombstone); `created_at` is the entry's time for `added`, which is
    /// what the edit window counts from.
    fn from_record(record: &LiveRecord) -> Option<Self> {
        let d = &record.data;
        let hidden = d["hidden"].as_bool() == Some(true) || d["redacted"].as_bool() == Some(true);
        let created_at = d["created_at"]
            .as_str()
            .and_then(|c| c.parse().ok())
            .unwrap_or_else(|| konvent_store::timestamp(record.at));
        Some(Self {
            id: ImpulseId::new(d["id"].as_i64()?),
            table: TableId::new(d["table"].as_i64()?),
            room: record.room.clone().unwrap_or_default(),
            author_id: d["author"]["id"].as_i64().map(AccountId::new),
            author: d["author"]["name"].as_str().unwrap_or_default().to_owned(),
            text: if hidden {
                String::new()
            } else {
                d["text"].as_str().unwrap_or_default().to_owned()
            },
            hidden,
            merged: !d["merged_into"].is_null(),
            edited: d["edited"].as_bool() == Some(true),
            created_at,
        })
    }
}

#[derive(Template)]
#[template(path = "konvent/fragments/impulse.html")]
struct ImpulseFragment<'a> {
    fx: &'a Fx,
    i: &'a ImpulseLine,
    sort: String,
    /// The table's moderators (and the organizers).
    lead_gate: String,
    /// The author, within the quarter of an hour the server lets them edit.
    edit_gate: String,
    /// Everybody but the author may report it.
    report_gate: String,
}

/// One impulse: its text, author and state, "Ändern" for its author in the first
/// quarter of an hour, "Melden" for the others, "Entfernen" for the organizers, and
/// "Ausblenden"/"Wieder einblenden" for the table's moderators. A hidden impulse shows
/// only to them, without its text.
pub fn impulse(i: &ImpulseLine, fx: &Fx) -> String {
    // A deleted author is account 0 in the gates: nobody is.
    let author = i.author_id.map_or(0, AccountId::get);
    let until = i
        .created_at
        .checked_add(jiff::SignedDuration::from_secs(IMPULSE_EDIT_SECONDS))
        .unwrap_or(i.created_at);
    html(&ImpulseFragment {
        fx,
        i,
        sort: sort_key(i.id.get()),
        lead_gate: format!("moderator:{}", i.room),
        edit_gate: format!("account:{author} until:{until}"),
        report_gate: format!("not-account:{author}"),
    })
}

#[derive(Template)]
#[template(path = "konvent/fragments/merge_option.html")]
struct MergeOption<'a> {
    list: &'a str,
    id: ImpulseId,
    table: TableId,
    sort: String,
    text: &'a str,
}

/// An impulse as a choice in the table's merge form (`merge-from` or `merge-into`).
pub fn merge_option(list: &str, i: &ImpulseLine) -> String {
    html(&MergeOption {
        list,
        id: i.id,
        table: i.table,
        sort: sort_key(i.id.get()),
        text: &i.text,
    })
}

/// Whether an impulse can still be merged (or merged into): shown and not merged.
pub fn mergeable(i: &ImpulseLine) -> bool {
    !i.hidden && !i.merged
}

/// A person at a table, as the entries carry them.
#[derive(Debug, Clone, Deserialize)]
pub struct Seated {
    pub id: AccountId,
    pub name: String,
}

impl From<&Who> for Seated {
    fn from(w: &Who) -> Self {
        Self {
            id: w.id,
            name: w.name.clone(),
        }
    }
}

#[derive(Template)]
#[template(path = "konvent/fragments/table_people.html")]
struct TablePeople<'a> {
    fx: &'a Fx,
    table: TableId,
    capacity: i64,
    people: &'a [Seated],
}

/// A table's "Am Tisch": how many sit there of how many seats, and who, from one list.
pub fn table_people(table: TableId, capacity: i64, people: &[Seated], fx: &Fx) -> String {
    html(&TablePeople {
        fx,
        table,
        capacity,
        people,
    })
}

#[derive(Template)]
#[template(path = "konvent/fragments/table_summary.html")]
struct TableSummary<'a> {
    fx: &'a Fx,
    table: TableId,
    room: &'a str,
    text: &'a str,
    by: &'a str,
}

/// A table's summary of its round as everybody reads it (empty until there is one).
pub fn table_summary(table: TableId, room: &str, text: &str, by: &str, fx: &Fx) -> String {
    html(&TableSummary {
        fx,
        table,
        room,
        text,
        by,
    })
}

/// A café round as the café page shows it: the `rounds` of a `round` entry, or
/// [`konvent_store::Store::cafe_rounds`] for a page.
#[derive(Debug, Clone, Deserialize)]
pub struct RoundLine {
    pub id: RoundId,
    pub number: i64,
    pub status: String,
    pub ends_at: Option<Timestamp>,
    pub tables: Vec<TableLine>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct TableLine {
    pub id: TableId,
    pub topic: String,
    pub question: String,
    pub moderator: Option<String>,
    pub capacity: i64,
    pub people: Vec<Seated>,
}

impl TableLine {
    fn full(&self) -> bool {
        self.people.len() as i64 >= self.capacity
    }
}

/// Parses the café's rounds as entries and the store give them; what does not parse (an
/// entry from before they carried them) gives none.
pub fn rounds_of(value: &Value) -> Vec<RoundLine> {
    serde_json::from_value(value.clone()).unwrap_or_default()
}

#[derive(Template)]
#[template(path = "konvent/fragments/cafe_table.html")]
struct CafeTableRow<'a> {
    fx: &'a Fx,
    t: &'a TableLine,
    seated: usize,
    full: bool,
    /// Seats can be taken (the round has not ended).
    open: bool,
    /// Those who sit here see "Ihr Tisch"; the others "Platz nehmen" or "voll".
    here: String,
    elsewhere: String,
}

/// A table's row on the café page: topic, moderation, seats taken, and "Platz nehmen"
/// (or "voll", or "Ihr Tisch" for those who sit there) while its round has not ended.
pub fn cafe_table(t: &TableLine, open: bool, fx: &Fx) -> String {
    html(&CafeTableRow {
        fx,
        t,
        seated: t.people.len(),
        full: t.full(),
        open,
        here: ids_rule("account", &t.people),
        elsewhere: ids_rule("not-account", &t.people),
    })
}

struct RoundView<'a> {
    r: &'a RoundLine,
    running: bool,
    /// The next round to start: the first planned one, while none runs.
    startable: bool,
    ends_at: Option<super::At>,
    rows: Vec<String>,
}

#[derive(Template)]
#[template(path = "konvent/fragments/cafe_round.html")]
struct CafeRound<'a> {
    fx: &'a Fx,
    v: RoundView<'a>,
    status_key: String,
}

#[derive(Template)]
#[template(path = "konvent/fragments/cafe_rounds.html")]
struct CafeRounds<'a> {
    fx: &'a Fx,
    running: Vec<String>,
    planned: Vec<String>,
    ended: Vec<String>,
}

/// The café page's rounds: the running round first (with its end time and "Platz
/// nehmen"), then the planned ones, then the ended ones folded away. Only the next
/// planned round offers "starten", and only while no round runs.
pub fn cafe_rounds(rounds: &[RoundLine], fx: &Fx) -> String {
    let any_running = rounds.iter().any(|r| r.status == "running");
    let next = rounds.iter().find(|r| r.status == "planned").map(|r| r.id);
    let mut running = Vec::new();
    let mut planned = Vec::new();
    let mut ended = Vec::new();
    for r in rounds {
        let open = r.status != "ended";
        let v = RoundView {
            r,
            running: r.status == "running",
            startable: !any_running && Some(r.id) == next,
            ends_at: r
                .ends_at
                .filter(|_| r.status == "running")
                .map(|e| super::At::of(e.as_microsecond())),
            rows: r.tables.iter().map(|t| cafe_table(t, open, fx)).collect(),
        };
        let section = html(&CafeRound {
            fx,
            v,
            status_key: format!("round-status-{}", r.status),
        });
        match r.status.as_str() {
            "running" => running.push(section),
            "ended" => ended.push(section),
            _ => planned.push(section),
        }
    }
    html(&CafeRounds {
        fx,
        running,
        planned,
        ended,
    })
}

/// `account:1,2` / `not-account:1,2` for the people at a table (`account:` with
/// nobody there holds for nobody, `not-account:` for everybody).
fn ids_rule(name: &str, people: &[Seated]) -> String {
    let ids: Vec<String> = people.iter().map(|p| p.id.to_string()).collect();
    format!("{name}:{}", ids.join(","))
}

/// A table page's round state: `planned`, `running` or `ended` (its `data-state`).
pub fn table_round_id(table: TableId) -> String {
    format!("table-round-{table}")
}

pub fn ops(record: &LiveRecord, fx: &Fx) -> Vec<DomOp> {
    match record.kind.as_str() {
        "impulse" => impulse_ops(record, fx),
        "summary" => {
            let d = &record.data;
            let Some(table) = d["table"].as_i64().map(TableId::new) else {
                return Vec::new();
            };
            vec![DomOp::Replace {
                id: format!("summary-{table}"),
                html: table_summary(
                    table,
                    record.room.as_deref().unwrap_or_default(),
                    d["text"].as_str().unwrap_or_default(),
                    d["by"].as_str().unwrap_or_default(),
                    fx,
                ),
            }]
        }
        "seat" => {
            let mut ops = Vec::new();
            // Each table the change concerns (where the person sits now, and where
            // they sat before): its "Am Tisch" and its row on the café page.
            for t in record.data["tables"].as_array().into_iter().flatten() {
                let Ok(line) = serde_json::from_value::<TableLine>(t.clone()) else {
                    continue;
                };
                ops.push(DomOp::Replace {
                    id: format!("table-people-{}", line.id),
                    html: table_people(line.id, line.capacity, &line.people, fx),
                });
                ops.push(DomOp::Replace {
                    id: format!("cafe-table-{}", line.id),
                    html: cafe_table(&line, t["status"].as_str() != Some("ended"), fx),
                });
            }
            ops
        }
        "round" => {
            let rounds = rounds_of(&record.data["rounds"]);
            let mut ops = Vec::new();
            for r in &rounds {
                for t in &r.tables {
                    ops.push(DomOp::State {
                        id: table_round_id(t.id),
                        state: r.status.clone(),
                    });
                }
            }
            if !rounds.is_empty() {
                ops.push(DomOp::Replace {
                    id: "cafe-rounds".into(),
                    html: cafe_rounds(&rounds, fx),
                });
            }
            ops
        }
        _ => Vec::new(),
    }
}

fn impulse_ops(record: &LiveRecord, fx: &Fx) -> Vec<DomOp> {
    let Some(i) = ImpulseLine::from_record(record) else {
        return Vec::new();
    };
    let mut ops = vec![DomOp::Upsert {
        into: "impulses",
        html: impulse(&i, fx),
    }];
    for list in ["merge-from", "merge-into"] {
        ops.push(if mergeable(&i) {
            DomOp::Upsert {
                into: list,
                html: merge_option(list, &i),
            }
        } else {
            DomOp::Remove {
                id: format!("{list}-{}", i.id),
            }
        });
    }
    ops
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;
    use konvent_core::ids::EventId;

    fn line(hidden: bool) -> ImpulseLine {
        ImpulseLine {
            id: ImpulseId::new(7),
            table: TableId::new(3),
            room: "datennutzung".into(),
            author_id: Some(AccountId::new(5)),
            author: "Jana Albers".into(),
            text: if hidden {
                String::new()
            } else {
                "Register vernetzen".into()
            },
            hidden,
            merged: false,
            edited: false,
            created_at: "2026-12-03T10:00:00Z".parse().expect("time"),
        }
    }

    #[test]
    fn an_impulse_offers_its_author_a_change_for_a_quarter_of_an_hour() {
        let html = impulse(&line(false), &Fx::live(Lang::De, "k"));
        assert!(
            html.contains(r#"data-gate="account:5 until:2026-12-03T10:15:00Z" hidden"#),
            "{html}"
        );
        assert!(html.contains(r#"data-gate="not-account:5" hidden"#));
        assert!(html.contains(r#"data-gate="moderator:datennutzung" hidden"#));
    }

    #[test]
    fn a_hidden_impulse_shows_only_to_the_tables_moderators_and_without_its_text() {
        let mut record = LiveRecord {
            event_id: EventId::new(1),
            seq: 9,
            kind: "impulse".into(),
            room: Some("datennutzung".into()),
            audience: konvent_store::Audience::All,
            sender_id: Some(AccountId::new(1)),
            recipient_id: None,
            data: serde_json::json!({
                "id": 7, "table": 3, "author": {"id": 5, "name": "Jana Albers"},
                "text": "Geheim", "hidden": true, "action": "moderated"
            }),
            at: 0,
        };
        let ops = ops(&record, &Fx::live(Lang::De, "k"));
        let DomOp::Upsert { html, .. } = &ops[0] else {
            panic!("{ops:?}")
        };
        assert!(!html.contains("Geheim"), "{html}");
        assert!(html.starts_with(
            r#"<li id="impulse-7" data-impulse="7" data-scope="table-3" data-sort="00000000000000000007" class="hidden-impulse" data-gate="moderator:datennutzung" hidden>"#
        ), "{html}");
        // It leaves the merge form.
        assert!(ops.contains(&DomOp::Remove {
            id: "merge-from-7".into()
        }));
        record.data["hidden"] = serde_json::json!(false);
        let ops = super::ops(&record, &Fx::live(Lang::De, "k"));
        assert!(matches!(
            &ops[1],
            DomOp::Upsert {
                into: "merge-from",
                ..
            }
        ));
    }
}
