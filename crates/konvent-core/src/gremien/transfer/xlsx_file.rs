//! The directory as an XLSX workbook: its first worksheet read cell by cell (date cells
//! or text dates, damaged files refused without a panic), and written with real date
//! cells.

use std::io::Cursor;

use calamine::{DataRef, Reader, Xlsx};
use jiff::civil::Date;

use super::check::Collector;
use super::columns::{Cell, RowSink, export_cells};
use super::{DirectoryRow, ExportError, HEADERS, ImportReport, check_size};
use crate::export::XlsxWriter;
use crate::validation::parse_date;

/// Column widths of the XLSX export, in characters, in the order of [`HEADERS`].
const XLSX_WIDTHS: [f64; 14] = [
    14.0, 40.0, 24.0, 30.0, 20.0, 28.0, 10.0, 45.0, 40.0, 12.0, 12.0, 11.0, 36.0, 45.0,
];

/// Reads the first worksheet of an XLSX workbook. Dates may be date cells or text.
pub fn parse_xlsx(bytes: &[u8]) -> Result<Vec<DirectoryRow>, ImportReport> {
    let mut collector = Collector::default();
    read_xlsx_guarded(bytes, &mut |row, cells| collector.push(row, cells))?;
    collector.finish()
}

pub(super) fn read_xlsx_guarded(bytes: &[u8], sink: &mut RowSink<'_>) -> Result<(), ImportReport> {
    // calamine indexes shared strings without a bounds check: a cell naming a string the
    // file does not have panics inside it. Such a file is unreadable, not a crash (the
    // rows taken before the panic are thrown away with the error).
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| read_xlsx(bytes, sink)))
        .unwrap_or_else(|_| {
            Err(ImportReport::file(
                "Die Datei ist keine lesbare Excel-Arbeitsmappe (.xlsx).",
            ))
        })
}

fn read_xlsx(bytes: &[u8], sink: &mut RowSink<'_>) -> Result<(), ImportReport> {
    check_size(bytes)?;
    let mut workbook: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).map_err(unreadable_xlsx)?;
    let Some(sheet) = workbook.sheet_names().into_iter().next() else {
        return Err(ImportReport::file(
            "Die Arbeitsmappe enthält kein Tabellenblatt.",
        ));
    };
    // The cell reader streams the sheet; a whole `Range` would be allocated from the
    // sheet's stated dimensions, which a small file can make enormous.
    let mut cells = workbook
        .worksheet_cells_reader(&sheet)
        .map_err(unreadable_xlsx)?;
    let mut current: Option<(u32, Vec<(usize, Cell)>)> = None;
    while let Some(cell) = cells.next_cell().map_err(unreadable_xlsx)? {
        let (row, position) = cell.get_position();
        let Some(value) = xlsx_cell(cell.get_value()) else {
            continue;
        };
        let position = position as usize;
        match &mut current {
            Some((current_row, values)) if *current_row == row => values.push((position, value)),
            _ => {
                if let Some((done, values)) = current.replace((row, vec![(position, value)])) {
                    sink(done as usize + 1, values)?;
                }
            }
        }
    }
    if let Some((done, values)) = current {
        sink(done as usize + 1, values)?;
    }
    Ok(())
}

fn unreadable_xlsx(error: calamine::XlsxError) -> ImportReport {
    match error {
        calamine::XlsxError::Password => {
            ImportReport::file("Die Arbeitsmappe ist mit einem Passwort geschützt.")
        }
        other => ImportReport::file(format!(
            "Die Datei ist keine lesbare Excel-Arbeitsmappe (.xlsx): {other}"
        )),
    }
}

fn xlsx_cell(value: &DataRef<'_>) -> Option<Cell> {
    match value {
        DataRef::Empty => None,
        DataRef::String(s) | DataRef::DurationIso(s) => Cell::text(s),
        DataRef::SharedString(s) => Cell::text(s),
        DataRef::Int(i) => Cell::text(&i.to_string()),
        DataRef::Float(f) => Cell::text(&number_text(*f)),
        DataRef::Bool(b) => Cell::text(if *b { "WAHR" } else { "FALSCH" }),
        DataRef::DateTime(dt) => match excel_date(dt) {
            Some(date) => Some(Cell::Date(date)),
            None => Cell::text(&number_text(dt.as_f64())),
        },
        DataRef::DateTimeIso(s) => match s.get(..10).and_then(parse_date) {
            Some(date) => Some(Cell::Date(date)),
            None => Cell::text(s),
        },
        DataRef::Error(e) => Some(Cell::ExcelError(e.to_string())),
    }
}

/// Whole numbers without ".0", as a spreadsheet shows them.
fn number_text(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        value.to_string()
    }
}

/// The calendar day of an Excel serial date. calamine does the arithmetic (days since
/// 1899-12-30, the 1900 leap-year bug, and the 1904 date system of old Mac workbooks,
/// whose flag it keeps private); jiff checks the result. Time of day is dropped.
pub(super) fn excel_date(value: &calamine::ExcelDateTime) -> Option<Date> {
    // Excel's dates end at 9999-12-31 (serial 2 958 465); the range also keeps
    // calamine's unchecked arithmetic away from overflow.
    if !value.is_datetime() || !(1.0..2_958_466.0).contains(&value.as_f64()) {
        return None;
    }
    let (year, month, day, ..) = value.to_ymd_hms_milli();
    let month = i8::try_from(month).ok()?;
    let day = i8::try_from(day).ok()?;
    Date::new(i16::try_from(year).ok()?, month, day).ok()
}

/// Writes an XLSX workbook: the same columns as [`write_csv`], the header bold and
/// frozen with a filter, dates as real date cells shown `dd.mm.yyyy`.
pub fn write_xlsx(rows: &[DirectoryRow]) -> Result<Vec<u8>, ExportError> {
    let headers: Vec<(&str, f64)> = HEADERS.into_iter().zip(XLSX_WIDTHS).collect();
    let mut w = XlsxWriter::new("Verzeichnis", &headers)?;
    for (row_number, row) in (1u32..).zip(rows) {
        for (col, cell) in (0u16..).zip(export_cells(row)) {
            match cell {
                None => {}
                Some(Cell::Date(date)) => w.date(row_number, col, date)?,
                Some(cell) => w.text(row_number, col, &cell.into_text())?,
            }
        }
    }
    Ok(w.finish()?)
}
