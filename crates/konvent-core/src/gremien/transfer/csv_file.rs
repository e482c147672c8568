//! The directory as a CSV file: read (UTF-8, `,` or `;`, row numbers as a spreadsheet
//! shows them) and written (with a BOM for Excel, formula-like cells defused).

use super::check::Collector;
use super::columns::{Cell, RowSink, export_cells};
use super::{DirectoryRow, HEADERS, ImportReport, check_size};
use crate::export::{BOM, CsvWriter, is_formula_like};

/// Reads a CSV file: UTF-8 (a BOM is ignored), `,` or `;` as delimiter.
pub fn parse_csv(bytes: &[u8]) -> Result<Vec<DirectoryRow>, ImportReport> {
    let mut collector = Collector::default();
    read_csv(bytes, &mut |row, cells| collector.push(row, cells))?;
    collector.finish()
}

pub(super) fn read_csv(bytes: &[u8], sink: &mut RowSink<'_>) -> Result<(), ImportReport> {
    check_size(bytes)?;
    let bytes = bytes.strip_prefix(BOM.as_bytes()).unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        ImportReport::file(format!(
            "Die Datei ist nicht in UTF-8 kodiert (erstes fremdes Zeichen in Zeile {line}). \
             Bitte in Excel als „CSV UTF-8 (durch Trennzeichen getrennt)“ speichern."
        ))
    })?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(sniff_delimiter(text))
        .from_reader(text.as_bytes());
    let mut record = csv::StringRecord::new();
    let mut row = 0;
    loop {
        let line_before = reader.position().line();
        let more = reader
            .read_record(&mut record)
            .map_err(|e| ImportReport::file(format!("Die CSV-Datei ist nicht lesbar: {e}")))?;
        if !more {
            break;
        }
        row += 1 + blank_lines_before(
            &record,
            reader.position().line().saturating_sub(line_before),
        );
        let cells = record
            .iter()
            .enumerate()
            .filter_map(|(position, field)| csv_cell(field).map(|cell| (position, cell)))
            .collect();
        sink(row, cells)?;
    }
    Ok(())
}

/// German Excel writes `;`, everything else `,`: whichever the header line has more of.
fn sniff_delimiter(text: &str) -> u8 {
    let header = text.lines().next().unwrap_or_default();
    let count = |c| header.matches(c).count();
    if count(';') > count(',') { b';' } else { b',' }
}

fn csv_cell(field: &str) -> Option<Cell> {
    let field = field.trim();
    let field = match field.strip_prefix('\'') {
        // The export defuses formula-like cells with an apostrophe; taken away again.
        Some(rest) if is_formula_like(rest) => rest,
        _ => field,
    };
    Cell::text(field)
}

/// The csv crate skips blank lines, which a spreadsheet shows as empty rows; they are
/// counted here so that row numbers match the spreadsheet. `lines_read` is how many lines
/// reading the record took, of which its own are one plus the line breaks inside quotes.
fn blank_lines_before(record: &csv::StringRecord, lines_read: u64) -> usize {
    let own_lines = 1 + record
        .iter()
        .map(|f| f.matches('\n').count())
        .sum::<usize>();
    usize::try_from(lines_read)
        .unwrap_or(usize::MAX)
        .saturating_sub(own_lines)
}

/// Writes a CSV file: `,`-separated, UTF-8 with a BOM so that Excel shows umlauts,
/// dates as `YYYY-MM-DD`, a vacancy as "N.N.", formula-like cells defused
/// ([`crate::export`]).
pub fn write_csv(rows: &[DirectoryRow]) -> Vec<u8> {
    let mut w = CsvWriter::new(HEADERS);
    for row in rows {
        w.row(
            export_cells(row)
                .into_iter()
                .map(|cell| cell.map(Cell::into_text).unwrap_or_default()),
        );
    }
    w.finish()
}
