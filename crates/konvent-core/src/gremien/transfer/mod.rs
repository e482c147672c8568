//! Import and export of the conference directory (G1, G2) as CSV and XLSX: the spreadsheet
//! a civil servant keeps in Excel or LibreOffice. One row is one role assignment of one
//! conference.
//!
//! Everything here is a pure function over bytes. Each row is parsed and checked on its
//! own (plus that a conference has the same data on all its rows); whether a conference
//! exists is for the store to decide. An import either yields every row or reports every
//! problem of every row, never a part of the file.
//!
//! This file holds the rows, the report of an import's problems and the file kinds.
//! Both formats sort a file's cells into columns by its header ([`columns`]) and check
//! the rows the same way ([`check`]); [`csv_file`] and [`xlsx_file`] read and write
//! them, and [`sheet`] reads any other table with the same readers.

use std::fmt;

use jiff::civil::Date;

use super::directory::{Abbreviation, ResolutionNumber, RoleKind};

mod check;
mod columns;
mod csv_file;
mod sheet;
mod xlsx_file;

pub use csv_file::{parse_csv, write_csv};
pub use sheet::{SheetRow, read_sheet};
pub use xlsx_file::{parse_xlsx, write_xlsx};

/// Largest file accepted for import.
pub const MAX_FILE_BYTES: usize = 5 * 1024 * 1024;
/// Most data rows accepted in one import.
pub const MAX_ROWS: usize = 10_000;

/// The canonical German headers, in the column order of an export.
pub const HEADERS: [&str; 14] = [
    "Konferenz",
    "Name der Konferenz",
    "Federführung",
    "Geschäftsstelle",
    "Rolle",
    "Person",
    "Titel",
    "Funktion",
    "Organisation",
    "Beginn",
    "Ende",
    "Beschluss",
    "Rechtsgrundlage",
    "Hinweis",
];

/// The English header aliases, in the same order as [`HEADERS`].
const ENGLISH_HEADERS: [&str; 14] = [
    "conference",
    "conference_name",
    "lead_states",
    "office_contact",
    "role",
    "person",
    "title",
    "function",
    "organisation",
    "starts_on",
    "ends_on",
    "resolution",
    "legal_basis",
    "note",
];

/// A person holding a role, as read from or written to a row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonFields {
    pub name: String,
    pub title: Option<String>,
    pub function: Option<String>,
    pub organisation: Option<String>,
}

/// One row of the directory file: one role assignment of one conference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectoryRow {
    /// 1-based row number in the file as a spreadsheet shows it (the header is row 1,
    /// first data row is 2).
    pub row: usize,
    pub conference: Abbreviation,
    pub conference_name: Option<String>,
    pub lead_states: Option<String>,
    pub office_contact: Option<String>,
    pub role: RoleKind,
    /// None = vacancy ("N.N." or empty person cell).
    pub person: Option<PersonFields>,
    pub starts_on: Option<Date>,
    pub ends_on: Option<Date>,
    pub appointing_resolution: Option<ResolutionNumber>,
    pub legal_basis: Option<String>,
    pub note: Option<String>,
}

/// One problem found in an imported file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowProblem {
    /// The spreadsheet row (the header is 1); 0 means the file as a whole.
    pub row: usize,
    /// The header as written in the file, or the canonical German header if the column
    /// is missing; `None` when the problem concerns no single column.
    pub column: Option<String>,
    /// What is wrong, in German.
    pub reason: String,
}

/// All problems of an import that was refused.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub problems: Vec<RowProblem>,
}

impl ImportReport {
    /// A report about the file as a whole (row 0).
    fn file(reason: impl Into<String>) -> Self {
        Self {
            problems: vec![RowProblem {
                row: 0,
                column: None,
                reason: reason.into(),
            }],
        }
    }
}

impl fmt::Display for ImportReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, p) in self.problems.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            match (p.row, &p.column) {
                (0, _) => write!(f, "Datei: {}", p.reason)?,
                (row, Some(column)) => write!(f, "Zeile {row}, Spalte „{column}“: {}", p.reason)?,
                (row, None) => write!(f, "Zeile {row}: {}", p.reason)?,
            }
        }
        Ok(())
    }
}

impl std::error::Error for ImportReport {}

/// Why an export could not be written.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("Die Excel-Datei konnte nicht geschrieben werden: {0}")]
    Xlsx(#[from] rust_xlsxwriter::XlsxError),
}

/// The two file formats of the directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Csv,
    Xlsx,
}

impl FileKind {
    /// By extension (`.csv`, `.xlsx`, any case), else by content: a zip archive is taken
    /// for XLSX, UTF-8 text for CSV.
    pub fn detect(file_name: &str, bytes: &[u8]) -> Option<FileKind> {
        let extension = file_name
            .rsplit_once('.')
            .map(|(_, ext)| ext.to_ascii_lowercase());
        match extension.as_deref() {
            Some("csv") => Some(Self::Csv),
            Some("xlsx") => Some(Self::Xlsx),
            _ if bytes.starts_with(b"PK\x03\x04") => Some(Self::Xlsx),
            _ if std::str::from_utf8(bytes).is_ok() => Some(Self::Csv),
            _ => None,
        }
    }
}

/// Reads a directory file of the given kind.
pub fn parse(kind: FileKind, bytes: &[u8]) -> Result<Vec<DirectoryRow>, ImportReport> {
    match kind {
        FileKind::Csv => parse_csv(bytes),
        FileKind::Xlsx => parse_xlsx(bytes),
    }
}

fn check_size(bytes: &[u8]) -> Result<(), ImportReport> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(ImportReport::file(format!(
            "Die Datei ist größer als {} MB.",
            MAX_FILE_BYTES / (1024 * 1024)
        )));
    }
    Ok(())
}

fn too_many_rows(max_rows: usize) -> ImportReport {
    ImportReport::file(format!(
        "Die Datei hat mehr als {max_rows} Datenzeilen. Bitte in mehrere Dateien aufteilen."
    ))
}

#[cfg(test)]
mod tests {
    use jiff::civil::date;

    use super::xlsx_file::excel_date;
    use super::*;
    use crate::gremien::directory::MAX_TEXT;

    fn abbreviation(value: &str) -> Abbreviation {
        Abbreviation::parse(value).expect("valid abbreviation")
    }

    fn sample_rows() -> Vec<DirectoryRow> {
        vec![
            DirectoryRow {
                row: 2,
                conference: abbreviation("DMK"),
                conference_name: Some("Digitalministerkonferenz".to_owned()),
                lead_states: Some("Berlin & Bund (Vorsitz IT-PLR)".to_owned()),
                office_contact: Some("+49 30 9026-0, \"Geschäftsstelle\"".to_owned()),
                role: RoleKind::Spokesperson,
                person: Some(PersonFields {
                    name: "Martina Klement".to_owned(),
                    title: Some("Dr.".to_owned()),
                    function: Some(
                        "CDO des Landes Berlin und Staatssekretärin für Digitalisierung".to_owned(),
                    ),
                    organisation: Some("Senatskanzlei Berlin".to_owned()),
                }),
                starts_on: Some(date(2022, 6, 29)),
                ends_on: Some(date(2025, 12, 31)),
                appointing_resolution: Some(
                    ResolutionNumber::parse("2022/43").expect("valid resolution"),
                ),
                legal_basis: Some("Beschluss 2022/43; IT-Staatsvertrag § 1 Abs. 2".to_owned()),
                note: Some("Zeile eins\nZeile zwei; mit Semikolon".to_owned()),
            },
            DirectoryRow {
                row: 3,
                conference: abbreviation("E-Justice-Rat"),
                conference_name: None,
                lead_states: None,
                office_contact: None,
                role: RoleKind::Spokesperson,
                person: None,
                starts_on: None,
                ends_on: None,
                appointing_resolution: None,
                legal_basis: None,
                note: Some("Neubesetzung zur 44. IT-PLR-Sitzung geplant".to_owned()),
            },
            DirectoryRow {
                row: 4,
                conference: abbreviation("VMK"),
                conference_name: Some("Verkehrsministerkonferenz".to_owned()),
                lead_states: Some("Hessen".to_owned()),
                office_contact: None,
                role: RoleKind::Contact,
                person: Some(PersonFields {
                    name: "Jörg Müller-Übel".to_owned(),
                    title: None,
                    function: Some("=Referent".to_owned()),
                    organisation: None,
                }),
                starts_on: Some(date(2024, 3, 20)),
                ends_on: None,
                appointing_resolution: Some(
                    ResolutionNumber::parse("2023/7").expect("valid resolution"),
                ),
                legal_basis: None,
                note: None,
            },
        ]
    }

    fn problems(result: Result<Vec<DirectoryRow>, ImportReport>) -> Vec<(usize, Option<String>)> {
        result
            .expect_err("import must be refused")
            .problems
            .into_iter()
            .map(|p| (p.row, p.column))
            .collect()
    }

    fn at(row: usize, column: &str) -> (usize, Option<String>) {
        (row, Some(column.to_owned()))
    }

    fn csv(text: &str) -> Result<Vec<DirectoryRow>, ImportReport> {
        parse_csv(text.as_bytes())
    }

    #[test]
    fn rows_survive_a_round_trip_through_csv() {
        let rows = sample_rows();
        let parsed = parse_csv(&write_csv(&rows)).expect("own export must be readable");
        assert_eq!(parsed, rows);
    }

    #[test]
    fn rows_survive_a_round_trip_through_xlsx() {
        let rows = sample_rows();
        let bytes = write_xlsx(&rows).expect("export");
        let parsed = parse_xlsx(&bytes).expect("own export must be readable");
        assert_eq!(parsed, rows);
    }

    #[test]
    fn the_csv_export_has_a_bom_german_headers_and_german_roles() {
        let bytes = write_csv(&sample_rows());
        let text = String::from_utf8(bytes).expect("utf-8");
        assert!(text.starts_with("\u{feff}Konferenz,Name der Konferenz,Federführung,"));
        assert!(text.contains("E-Justice-Rat,,,,Sprecher:in,N.N.,"));
        assert!(text.contains(",2022-06-29,2025-12-31,2022/43,"));
        assert!(
            text.contains(",'=Referent,"),
            "formula-like cells are defused"
        );
    }

    #[test]
    fn a_semicolon_csv_with_german_headers_and_german_dates_is_read() {
        let rows = csv(
            "Konferenz;Rolle;Person;Funktion;Beginn;Ende;Beschluss\n\
             IMK;Sprecher:in;Stephan Manke;StS im Ministerium für Inneres, Bau;20.03.2024;31.12.2026;Beschluss 2022/43\n",
        )
        .expect("valid");
        assert_eq!(rows.len(), 1);
        let row = &rows[0];
        assert_eq!(row.row, 2);
        assert_eq!(row.conference.as_str(), "IMK");
        assert_eq!(row.role, RoleKind::Spokesperson);
        let person = row.person.as_ref().expect("a person");
        assert_eq!(
            person.function.as_deref(),
            Some("StS im Ministerium für Inneres, Bau")
        );
        assert_eq!(row.starts_on, Some(date(2024, 3, 20)));
        assert_eq!(row.ends_on, Some(date(2026, 12, 31)));
        assert_eq!(
            row.appointing_resolution.map(|r| r.to_string()).as_deref(),
            Some("2022/43")
        );
    }

    #[test]
    fn english_headers_are_accepted_in_any_order_and_case() {
        let rows = csv(" Role ,CONFERENCE,person,starts_on,note\n\
             contact,UMK,Dirk Schrödter,2024-01-15,  Hinweis mit Leerzeichen  \n")
        .expect("valid");
        assert_eq!(rows[0].conference.as_str(), "UMK");
        assert_eq!(rows[0].role, RoleKind::Contact);
        assert_eq!(rows[0].starts_on, Some(date(2024, 1, 15)));
        assert_eq!(rows[0].note.as_deref(), Some("Hinweis mit Leerzeichen"));
    }

    #[test]
    fn a_missing_role_column_is_reported_on_row_one() {
        let found = problems(csv("Konferenz,Person\nDMK,Markus Richter\n"));
        assert_eq!(found, vec![at(1, "Rolle")]);
    }

    #[test]
    fn an_unknown_column_stops_the_import_at_the_header() {
        let found = problems(csv("Konferenz,Rolle,Telefon\nDMK,Vorsitz,030\n"));
        assert_eq!(
            found,
            vec![at(1, "Telefon")],
            "the bad role of row 2 is not checked"
        );
    }

    #[test]
    fn a_duplicate_column_is_reported_on_row_one() {
        let found = problems(csv("Konferenz,Rolle,role\nDMK,contact,contact\n"));
        assert_eq!(found, vec![at(1, "role")]);
    }

    #[test]
    fn an_unknown_role_is_reported_with_row_and_column() {
        let found = problems(csv("Konferenz,Rolle\nDMK,contact\nDMK,Vorsitz\n"));
        assert_eq!(found, vec![at(3, "Rolle")]);
    }

    #[test]
    fn a_bad_date_is_reported_with_row_and_column() {
        let found = problems(csv("Konferenz,Rolle,Beginn\nDMK,contact,31.02.2024\n"));
        assert_eq!(found, vec![at(2, "Beginn")]);
    }

    #[test]
    fn an_end_before_the_start_is_reported_on_the_end_column() {
        let result = csv("conference,role,starts_on,Ende\nDMK,contact,2024-05-01,30.04.2024\n");
        let report = result.expect_err("refused");
        assert_eq!(report.problems.len(), 1);
        assert_eq!(
            report.to_string(),
            "Zeile 2, Spalte „Ende“: Das Ende liegt vor dem Beginn."
        );
    }

    #[test]
    fn a_bad_resolution_number_is_reported_with_row_and_column() {
        let found = problems(csv("Konferenz,Rolle,Beschluss\nDMK,contact,43/2022\n"));
        assert_eq!(found, vec![at(2, "Beschluss")]);
    }

    #[test]
    fn all_problems_of_all_rows_are_reported_together() {
        let found = problems(csv("Konferenz,Rolle,Person,Titel,Beginn,Beschluss\n\
             DMK,Sprecher:in,Markus Richter,,2024-01-01,2022/43\n\
             a b,,Markus Richter,,,\n\
             IMK,Vorsitz,,,gestern,2022\n\
             ,,,\n\
             GMK,contact,N.N.,Dr.,,\n"));
        assert_eq!(
            found,
            vec![
                at(3, "Konferenz"),
                at(3, "Rolle"),
                at(4, "Rolle"),
                at(4, "Beginn"),
                at(4, "Beschluss"),
                at(6, "Titel"),
            ]
        );
    }

    #[test]
    fn nn_and_an_empty_person_are_read_as_vacancies() {
        let rows = csv("Konferenz,Rolle,Person\nVMK,Sprecher:in,N.N.\nJuMiKo,Sprecher:in,\n")
            .expect("valid");
        assert_eq!(rows.len(), 2);
        assert!(rows.iter().all(|r| r.person.is_none()));
    }

    #[test]
    fn a_vacancy_with_a_function_is_refused() {
        let found = problems(csv(
            "Konferenz,Rolle,Person,Funktion\nVMK,contact,n.n.,StS\n",
        ));
        assert_eq!(found, vec![at(2, "Funktion")]);
    }

    #[test]
    fn too_long_text_is_refused() {
        let long = "x".repeat(MAX_TEXT + 1);
        let found = problems(csv(&format!(
            "Konferenz,Rolle,Hinweis\nDMK,contact,{long}\n"
        )));
        assert_eq!(found, vec![at(2, "Hinweis")]);
    }

    #[test]
    fn one_conference_with_two_names_is_reported() {
        let found = problems(csv("Konferenz,Name der Konferenz,Rolle\n\
             DMK,Digitalministerkonferenz,contact\n\
             DMK,,rapporteur\n\
             DMK,Digitalministerrunde,spokesperson\n"));
        assert_eq!(found, vec![at(4, "Name der Konferenz")]);
    }

    #[test]
    fn a_value_in_a_column_without_header_is_reported() {
        let report = csv("Konferenz,Rolle\nDMK,contact,übrig\n").expect_err("refused");
        assert_eq!(report.problems.len(), 1);
        assert_eq!(report.problems[0].row, 2);
        assert_eq!(report.problems[0].column, None);
    }

    #[test]
    fn a_byte_order_mark_is_ignored() {
        let rows = csv("\u{feff}Konferenz;Rolle\nDMK;contact\n").expect("valid");
        assert_eq!(rows[0].conference.as_str(), "DMK");
    }

    #[test]
    fn row_numbers_count_blank_lines_and_not_lines_inside_quotes() {
        let text = "Konferenz,Rolle,Hinweis\n\
                    DMK,contact,\"zwei\nZeilen\"\n\
                    \n\
                    DMK,Vorsitz,\n";
        assert_eq!(problems(csv(text)), vec![at(4, "Rolle")]);
        let windows = text.replace('\n', "\r\n");
        assert_eq!(problems(csv(&windows)), vec![at(4, "Rolle")]);
    }

    #[test]
    fn a_csv_that_is_not_utf8_is_refused_with_advice() {
        let report =
            parse_csv(b"Konferenz;Rolle\nUMK;Ansprechpartner\xfcn\n").expect_err("refused");
        assert_eq!(report.problems.len(), 1);
        assert_eq!(report.problems[0].row, 0);
        assert!(report.problems[0].reason.contains("Zeile 2"));
        assert!(report.to_string().contains("CSV UTF-8"));
    }

    #[test]
    fn too_many_rows_are_refused() {
        let mut text = String::from("Konferenz,Rolle\n");
        for _ in 0..=MAX_ROWS {
            text.push_str("DMK,contact\n");
        }
        let report = csv(&text).expect_err("refused");
        assert_eq!(report.problems.len(), 1);
        assert_eq!(report.problems[0].row, 0);
        text.truncate(text.len() - "DMK,contact\n".len());
        assert_eq!(csv(&text).expect("exactly the limit").len(), MAX_ROWS);
    }

    #[test]
    fn too_large_files_are_refused() {
        let bytes = vec![b'a'; MAX_FILE_BYTES + 1];
        assert_eq!(problems(parse_csv(&bytes)), vec![(0, None)]);
        assert_eq!(problems(parse_xlsx(&bytes)), vec![(0, None)]);
    }

    #[test]
    fn an_empty_file_gives_no_rows() {
        assert_eq!(csv(""), Ok(Vec::new()));
        assert_eq!(csv("Konferenz,Rolle\n"), Ok(Vec::new()));
    }

    #[test]
    fn garbage_bytes_as_xlsx_give_a_problem_not_a_panic() {
        for garbage in [
            &b""[..],
            b"PK\x03\x04",
            b"Konferenz,Rolle\nDMK,contact\n",
            &[0xff; 300],
        ] {
            assert_eq!(problems(parse_xlsx(garbage)), vec![(0, None)]);
        }
        // Damaged copies of a real workbook: any result is fine, a panic is not.
        let good = write_xlsx(&sample_rows()).expect("export");
        for i in (0..good.len()).step_by(37) {
            let mut bad = good.clone();
            bad[i] ^= 0x5a;
            let _ = parse_xlsx(&bad);
            let _ = parse_xlsx(&good[..i]);
        }
    }

    #[test]
    fn xlsx_date_cells_and_text_dates_are_both_read() {
        use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
        let mut workbook = Workbook::new();
        let sheet = workbook.add_worksheet();
        let date_format = Format::new().set_num_format("yyyy-mm-dd hh:mm");
        for (col, header) in (0u16..).zip(["Konferenz", "Rolle", "Beginn", "Ende", "Beschluss"]) {
            sheet.write_string(0, col, header).expect("write");
        }
        sheet.write_string(1, 0, "KMK").expect("write");
        sheet
            .write_string(1, 1, "Ansprechpartner:in")
            .expect("write");
        let start = ExcelDateTime::parse_from_str("2024-03-20 14:30:00").expect("datetime");
        sheet
            .write_datetime_with_format(1, 2, start, &date_format)
            .expect("write");
        sheet.write_string(1, 3, "31.12.2025").expect("write");
        sheet.write_number(1, 4, 2022.0).expect("write");
        let bytes = workbook.save_to_buffer().expect("save");

        let found = problems(parse_xlsx(&bytes));
        assert_eq!(
            found,
            vec![at(2, "Beschluss")],
            "2022 is no resolution number"
        );

        let mut workbook = Workbook::new();
        let sheet = workbook.add_worksheet();
        for (col, header) in (0u16..).zip(["Konferenz", "Rolle", "Beginn", "Ende"]) {
            sheet.write_string(0, col, header).expect("write");
        }
        sheet.write_string(1, 0, "KMK").expect("write");
        sheet.write_string(1, 1, "contact").expect("write");
        let start = ExcelDateTime::parse_from_str("2024-03-20 14:30:00").expect("datetime");
        sheet
            .write_datetime_with_format(1, 2, start, &date_format)
            .expect("write");
        sheet.write_string(1, 3, "31.12.2025").expect("write");
        let rows = parse_xlsx(&workbook.save_to_buffer().expect("save")).expect("valid");
        assert_eq!(rows[0].starts_on, Some(date(2024, 3, 20)));
        assert_eq!(rows[0].ends_on, Some(date(2025, 12, 31)));
    }

    #[test]
    fn excel_serial_dates_count_days_from_1899_12_30() {
        use calamine::{ExcelDateTime, ExcelDateTimeType};
        let epoch = date(1899, 12, 30);
        let serial = |value: f64| ExcelDateTime::new(value, ExcelDateTimeType::DateTime, false);
        // From 1900-03-01 (serial 61) on; before it Excel counts a 29 February 1900.
        for days in (61..=2_958_465).step_by(997).chain([2_958_465]) {
            let expected = epoch.checked_add(jiff::Span::new().days(days)).ok();
            assert_eq!(
                excel_date(&serial(days as f64 + 0.75)),
                expected,
                "serial {days}"
            );
        }
        assert_eq!(excel_date(&serial(45_371.0)), Some(date(2024, 3, 20)));
        for bad in [-1.0, 0.0, 60.0, 2_958_466.0, f64::NAN, f64::INFINITY, 1e300] {
            assert_eq!(excel_date(&serial(bad)), None, "serial {bad}");
        }
    }

    #[test]
    fn xlsx_problems_name_the_sheet_row() {
        use rust_xlsxwriter::Workbook;
        let mut workbook = Workbook::new();
        let sheet = workbook.add_worksheet();
        sheet.write_string(2, 1, "Konferenz").expect("write");
        sheet.write_string(2, 2, "Rolle").expect("write");
        sheet.write_string(3, 1, "DMK").expect("write");
        sheet.write_string(3, 2, "Sprecher:in").expect("write");
        sheet.write_string(5, 1, "DMK").expect("write");
        sheet.write_string(5, 2, "Vorsitz").expect("write");
        let found = problems(parse_xlsx(&workbook.save_to_buffer().expect("save")));
        assert_eq!(found, vec![at(6, "Rolle")]);
    }

    #[test]
    fn file_kind_is_detected_by_extension_then_by_content() {
        assert_eq!(
            FileKind::detect("Verzeichnis.CSV", b"PK\x03\x04"),
            Some(FileKind::Csv)
        );
        assert_eq!(
            FileKind::detect("verzeichnis.xlsx", b""),
            Some(FileKind::Xlsx)
        );
        assert_eq!(
            FileKind::detect("upload", b"PK\x03\x04rest"),
            Some(FileKind::Xlsx)
        );
        assert_eq!(
            FileKind::detect("upload.txt", "Konferenz;Rolle".as_bytes()),
            Some(FileKind::Csv)
        );
        assert_eq!(FileKind::detect("upload", &[0xff, 0xfe, 0x00]), None);
    }

    #[test]
    fn the_report_has_one_line_per_problem() {
        let report = ImportReport {
            problems: vec![
                RowProblem {
                    row: 0,
                    column: None,
                    reason: "Zu groß.".to_owned(),
                },
                RowProblem {
                    row: 4,
                    column: Some("Ende".to_owned()),
                    reason: "Das Ende liegt vor dem Beginn.".to_owned(),
                },
                RowProblem {
                    row: 5,
                    column: None,
                    reason: "Fehler.".to_owned(),
                },
            ],
        };
        assert_eq!(
            report.to_string(),
            "Datei: Zu groß.\nZeile 4, Spalte „Ende“: Das Ende liegt vor dem Beginn.\nZeile 5: Fehler."
        );
    }
}
