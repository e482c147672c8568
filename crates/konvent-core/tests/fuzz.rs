//! Fuzz targets for every parser of konvent-core that reads outside input: the directory
//! import (CSV and XLSX), the Tiled import, live commands (as frames and as forms) and
//! texts, resolution numbers and the form inputs. Each target checks what must hold for
//! every input, not only that nothing panics.
//!
//! Under `cargo test` every target replays its saved inputs
//! (`tests/__fuzz__/<name without fuzz_>/corpus` and `crashes`) and then random inputs for one
//! second. With a fuzzing engine (docs/fuzzing.md):
//! `cargo +nightly bolero test -p konvent-core fuzz_live_command -T 180s` (libFuzzer).

use std::collections::HashMap;

use konvent_core::convention::RoomKind;
use konvent_core::convention::live::{self, MAX_ID_CHARS, MAX_TEXT_CHARS};
use konvent_core::convention::map::{RoomRef, import_tiled};
use konvent_core::gremien::council::{ResolutionInput, SessionInput};
use konvent_core::gremien::directory::{
    AssignmentInput, ConferenceInput, PersonInput, ResolutionNumber,
};
use konvent_core::gremien::transfer::{self, DirectoryRow, ImportReport};

/// A refused import names at least one problem, each with a reason.
fn assert_report(report: &ImportReport) {
    assert!(!report.problems.is_empty(), "refused without a problem");
    for p in &report.problems {
        assert!(!p.reason.trim().is_empty(), "{p:?}");
    }
}

/// What an import hands out is what its own export reads back as (row numbers aside:
/// the export has no blank lines).
fn assert_rows(rows: &[DirectoryRow], again: Result<Vec<DirectoryRow>, ImportReport>) {
    let again = again.unwrap_or_else(|report| panic!("own export refused: {report}"));
    let strip = |rows: &[DirectoryRow]| -> Vec<DirectoryRow> {
        rows.iter()
            .cloned()
            .map(|mut r| {
                r.row = 0;
                r
            })
            .collect()
    };
    assert_eq!(strip(rows), strip(&again));
    for pair in rows.windows(2) {
        assert!(pair[0].row < pair[1].row, "rows out of order");
    }
    assert!(
        rows.iter().all(|r| r.row >= 2),
        "a data row on the header line"
    );
}

#[test]
fn fuzz_directory_csv_import() {
    bolero::check!().for_each(|bytes: &[u8]| match transfer::parse_csv(bytes) {
        Ok(rows) => assert_rows(&rows, transfer::parse_csv(&transfer::write_csv(&rows))),
        Err(report) => assert_report(&report),
    });
}

#[test]
fn fuzz_directory_xlsx_import() {
    bolero::check!().for_each(|bytes: &[u8]| match transfer::parse_xlsx(bytes) {
        Ok(rows) => {
            let written = transfer::write_xlsx(&rows).expect("export");
            assert_rows(&rows, transfer::parse_xlsx(&written));
        }
        Err(report) => assert_report(&report),
    });
}

fn rooms() -> Vec<RoomRef> {
    [
        ("plenum", "Plenum", RoomKind::Plenary),
        ("tisch-1", "Tisch 1", RoomKind::Table),
        ("tisch-2", "Tisch 2", RoomKind::Table),
        ("hilfe", "Hilfe", RoomKind::Helpdesk),
    ]
    .into_iter()
    .map(|(slug, name, kind)| RoomRef {
        slug: slug.into(),
        name: name.into(),
        kind,
    })
    .collect()
}

/// The input is a map, then optionally a byte 0xFF (never in UTF-8 JSON) and the
/// tileset `basis.tsj`, then optionally another 0xFF and `moebel.tsj`.
#[test]
fn fuzz_tiled_import() {
    let rooms = rooms();
    bolero::check!().for_each(|bytes: &[u8]| {
        let mut parts = bytes.split(|b| *b == 0xFF);
        let map = parts.next().unwrap_or_default();
        let tilesets: HashMap<String, Vec<u8>> = ["basis.tsj", "moebel.tsj"]
            .into_iter()
            .zip(parts)
            .map(|(name, file)| (name.to_owned(), file.to_vec()))
            .collect();
        match import_tiled("halle.tmj", map, &tilesets, &rooms) {
            Ok(venue) => {
                assert_eq!(venue.check(), Vec::<String>::new(), "{venue:?}");
                assert!(venue.walkable(venue.spawn.0, venue.spawn.1));
                for area in &venue.areas {
                    if let Some(room) = area.room() {
                        assert!(rooms.iter().any(|r| r.slug == room), "{room}");
                    }
                }
            }
            Err(problems) => {
                assert!(!problems.is_empty(), "refused without a problem");
                assert!(problems.iter().all(|p| !p.trim().is_empty()));
            }
        }
    });
}

#[test]
fn fuzz_live_command() {
    bolero::check!().for_each(|bytes: &[u8]| {
        let Ok(frame) = std::str::from_utf8(bytes) else {
            return;
        };
        match live::parse(frame) {
            Ok(command) => {
                if let Some(id) = command.id() {
                    assert!(!id.is_empty() && id.chars().count() <= MAX_ID_CHARS);
                }
                // What the server understood, written out again, means the same.
                let again = serde_json::to_string(&command).expect("serializable");
                assert_eq!(live::parse(&again), Ok(command), "{again}");
            }
            Err(refusal) => {
                assert!(
                    ["too_large", "bad_frame"].contains(&refusal.code()),
                    "{refusal:?}"
                );
                assert!(!refusal.message.is_empty());
            }
        }
    });
}

/// A live command posted as a form: the bytes are its fields, names and values in turn,
/// split at 0x1F (unit separator). What a form is read as means the same written out as
/// a frame; a form that is no command is refused as `bad_frame` with a reason.
#[test]
fn fuzz_live_form() {
    bolero::check!().for_each(|bytes: &[u8]| {
        let Ok(text) = std::str::from_utf8(bytes) else {
            return;
        };
        let parts: Vec<&str> = text.split('\u{1f}').collect();
        let fields = parts
            .chunks(2)
            .map(|p| (p[0], p.get(1).copied().unwrap_or("")));
        match live::from_form(fields) {
            Ok(command) => {
                let frame = serde_json::to_string(&command).expect("serializable");
                assert_eq!(live::parse(&frame), Ok(command), "{frame}");
            }
            Err(refusal) => {
                assert_eq!(refusal.code(), "bad_frame", "{refusal:?}");
                assert!(!refusal.message.is_empty());
            }
        }
    });
}

#[test]
fn fuzz_live_text() {
    bolero::check!().for_each(|bytes: &[u8]| {
        let Ok(value) = std::str::from_utf8(bytes) else {
            return;
        };
        if let Ok(tidy) = live::text(value) {
            assert!(!tidy.is_empty());
            assert_eq!(tidy.trim(), tidy, "not trimmed");
            assert!(tidy.chars().count() <= MAX_TEXT_CHARS);
            assert!(
                !tidy
                    .chars()
                    .any(|c| c.is_control() && !matches!(c, '\n' | '\t')),
                "{tidy:?} keeps a control character"
            );
            // Tidy text stays as it is when it is checked again (an edit re-checks it).
            assert_eq!(live::text(&tidy).as_ref(), Ok(&tidy));
        }
    });
}

#[test]
fn fuzz_resolution_number() {
    bolero::check!().for_each(|bytes: &[u8]| {
        let Ok(value) = std::str::from_utf8(bytes) else {
            return;
        };
        if let Ok(number) = ResolutionNumber::parse(value) {
            let printed = number.to_string();
            assert_eq!(ResolutionNumber::parse(&printed), Ok(number), "{printed}");
            assert!((2010..=2100).contains(&number.year) && number.number >= 1);
            // Only digits were read as the number: "2024/+5" is no resolution number.
            let written = value.trim().trim_start_matches("Beschluss").trim();
            assert!(
                written.chars().all(|c| c.is_ascii_digit() || c == '/'),
                "{value:?} was read as {printed}"
            );
            let json = serde_json::to_string(&number).expect("json");
            assert_eq!(
                serde_json::from_str::<ResolutionNumber>(&json).ok(),
                Some(number)
            );
        }
    });
}

/// The form inputs: fields are split at 0x1F (unit separator). Whatever a form
/// accepts, written out the way the edit form shows it, is accepted as the same value;
/// a refusal names only fields of the form.
#[test]
fn fuzz_form_inputs() {
    bolero::check!().for_each(|bytes: &[u8]| {
        let Ok(text) = std::str::from_utf8(bytes) else {
            return;
        };
        let mut f: Vec<&str> = text.split('\u{1f}').collect();
        f.resize(7, "");
        let fields = |errors: &konvent_core::FieldErrors, names: &[&str]| {
            assert!(!errors.is_empty());
            for e in &errors.0 {
                assert!(
                    names.contains(&e.field),
                    "{e:?} is not a field of {names:?}"
                );
                assert!(!e.message.is_empty());
            }
        };
        let or = |v: &Option<String>| v.clone().unwrap_or_default();

        match PersonInput::parse(f[0], f[1], f[2], f[3]) {
            Ok(p) => assert_eq!(
                PersonInput::parse(
                    &p.name,
                    &or(&p.title),
                    &or(&p.function),
                    &or(&p.organisation)
                ),
                Ok(p.clone())
            ),
            Err(e) => fields(&e, &["name", "title", "function", "organisation"]),
        }
        match ConferenceInput::parse(f[0], f[1], f[2], f[3]) {
            Ok(c) => assert_eq!(
                ConferenceInput::parse(
                    c.abbreviation.as_str(),
                    &c.name,
                    &or(&c.lead_states),
                    &or(&c.office_contact)
                ),
                Ok(c.clone())
            ),
            Err(e) => fields(
                &e,
                &["abbreviation", "name", "lead_states", "office_contact"],
            ),
        }
        match AssignmentInput::parse(f[0], f[1], f[2], f[3], f[4], f[5]) {
            Ok(a) => {
                let date =
                    |d: Option<jiff::civil::Date>| d.map(|d| d.to_string()).unwrap_or_default();
                let resolution = a
                    .appointing_resolution
                    .map(|r| r.to_string())
                    .unwrap_or_default();
                assert_eq!(
                    AssignmentInput::parse(
                        a.role.as_str(),
                        &date(a.starts_on),
                        &date(a.ends_on),
                        &resolution,
                        &a.legal_basis,
                        &or(&a.note)
                    ),
                    Ok(a.clone())
                );
            }
            Err(e) => fields(
                &e,
                &[
                    "role",
                    "starts_on",
                    "ends_on",
                    "appointing_resolution",
                    "legal_basis",
                    "note",
                ],
            ),
        }
        match SessionInput::parse(f[0], f[1], f[2], f[3], f[4], f[5], f[6]) {
            Ok(s) => {
                let time = |t: jiff::civil::Time| format!("{:02}:{:02}", t.hour(), t.minute());
                assert_eq!(
                    SessionInput::parse(
                        &s.number.to_string(),
                        &s.date.to_string(),
                        &time(s.start_time),
                        &time(s.end_time),
                        &or(&s.place),
                        &or(&s.video_url),
                        s.state.as_str()
                    ),
                    Ok(s.clone())
                );
            }
            Err(e) => fields(
                &e,
                &[
                    "number",
                    "date",
                    "start_time",
                    "end_time",
                    "place",
                    "video_url",
                    "state",
                ],
            ),
        }
        match ResolutionInput::parse(f[0], f[1], f[2], f[3], f[4], f[5]) {
            Ok(r) => {
                let session = r.session_number.map(|n| n.to_string()).unwrap_or_default();
                assert_eq!(
                    ResolutionInput::parse(
                        &r.number.to_string(),
                        &r.title,
                        &r.body,
                        &r.links.join("\n"),
                        &session,
                        r.state.as_str()
                    ),
                    Ok(r.clone())
                );
            }
            Err(e) => fields(
                &e,
                &[
                    "number",
                    "title",
                    "body",
                    "links",
                    "session_number",
                    "state",
                ],
            ),
        }
    });
}
