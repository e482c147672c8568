//! Plain text documents as PDF (the results export): A4 pages, Helvetica and
//! Helvetica-Bold from the PDF base fonts (nothing embedded), WinAnsi encoding for German
//! text, lines wrapped by the fonts' real widths, new pages as needed. Written with
//! `pdf-writer`.

use pdf_writer::{Content, Name, Pdf, Rect, Ref, Str, TextStr};

const WIDTH: f32 = 595.0;
const HEIGHT: f32 = 842.0;
const MARGIN: f32 = 56.0;
const REGULAR: Name<'static> = Name(b"F1");
const BOLD: Name<'static> = Name(b"F2");

/// One paragraph of the document.
pub struct Line {
    text: String,
    size: f32,
    bold: bool,
    indent: f32,
    bullet: bool,
    space_before: f32,
}

impl Line {
    fn new(text: String, size: f32, bold: bool, space_before: f32) -> Self {
        Self {
            text,
            size,
            bold,
            indent: 0.0,
            bullet: false,
            space_before,
        }
    }
    pub fn title(text: String) -> Self {
        Self::new(text, 18.0, true, 0.0)
    }
    pub fn heading(text: String) -> Self {
        Self::new(text, 14.0, true, 14.0)
    }
    pub fn subheading(text: String) -> Self {
        Self::new(text, 11.5, true, 8.0)
    }
    pub fn text(text: String) -> Self {
        Self::new(text, 10.0, false, 4.0)
    }
    pub fn bullet(text: String) -> Self {
        Self {
            indent: 12.0,
            bullet: true,
            ..Self::new(text, 10.0, false, 2.0)
        }
    }
}

/// A character in Windows-1252 (WinAnsiEncoding); others become "?".
fn win_ansi(c: char) -> u8 {
    match c {
        ' '..='~' => c as u8,
        '\u{a0}'..='\u{ff}' => c as u32 as u8,
        '€' => 0x80,
        '‚' => 0x82,
        '„' => 0x84,
        '…' => 0x85,
        '‘' => 0x91,
        '’' => 0x92,
        '“' => 0x93,
        '”' => 0x94,
        '•' => 0x95,
        '–' => 0x96,
        '—' => 0x97,
        '\t' => b' ',
        _ => b'?',
    }
}

/// Helvetica's advance widths (thousandths of the font size) for ASCII 32–126.
const HELVETICA: [u16; 95] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, 1015, 667, 667, 722, 722, 667,
    611, 778, 722, 278, 500, 667, 556, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667,
    667, 611, 278, 278, 278, 469, 556, 333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500,
    222, 833, 556, 556, 556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
];
/// The same for Helvetica-Bold.
const HELVETICA_BOLD: [u16; 95] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, 556, 556, 556,
    556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611, 975, 722, 722, 722, 722, 667,
    611, 778, 722, 278, 556, 722, 611, 833, 722, 778, 667, 778, 722, 667, 611, 722, 667, 944, 667,
    667, 611, 333, 278, 333, 584, 556, 333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556,
    278, 889, 611, 611, 611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584,
];

fn width(byte: u8, bold: bool, size: f32) -> f32 {
    let table = if bold { &HELVETICA_BOLD } else { &HELVETICA };
    let w = match byte {
        32..=126 => table[usize::from(byte - 32)],
        // Umlauts and ß are as wide as their base letters; 556 is a fair guess for the rest.
        0xC4 | 0xD6 | 0xDC => 722,
        0x96 => 556,
        0x97 => 1000,
        _ => 556,
    };
    f32::from(w) * size / 1000.0
}

/// Breaks a paragraph into lines no wider than `max` points, at spaces (a word longer
/// than a line is cut).
fn wrap(bytes: &[u8], bold: bool, size: f32, max: f32) -> Vec<Vec<u8>> {
    let mut lines = Vec::new();
    let mut line: Vec<u8> = Vec::new();
    let mut line_width = 0.0;
    for word in bytes.split(|b| *b == b' ').filter(|w| !w.is_empty()) {
        let word_width: f32 = word.iter().map(|b| width(*b, bold, size)).sum();
        let space = if line.is_empty() {
            0.0
        } else {
            width(b' ', bold, size)
        };
        if !line.is_empty() && line_width + space + word_width > max {
            lines.push(std::mem::take(&mut line));
            line_width = 0.0;
        }
        if !line.is_empty() {
            line.push(b' ');
            line_width += space;
        }
        for &b in word {
            let w = width(b, bold, size);
            if line_width + w > max && !line.is_empty() {
                lines.push(std::mem::take(&mut line));
                line_width = 0.0;
            }
            line.push(b);
            line_width += w;
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// Writes the document; `title` goes into the document information.
pub fn document(title: &str, paragraphs: &[Line]) -> Vec<u8> {
    let mut pages: Vec<Content> = Vec::new();
    let mut content = Content::new();
    let mut y = HEIGHT - MARGIN;
    for p in paragraphs {
        let encoded: Vec<u8> = p
            .text
            .chars()
            .map(|c| if c == '\n' { b' ' } else { win_ansi(c) })
            .collect();
        let left = MARGIN + p.indent;
        let rows = wrap(&encoded, p.bold, p.size, WIDTH - MARGIN - left);
        let leading = p.size * 1.3;
        y -= p.space_before;
        for (i, row) in rows.iter().enumerate() {
            if y - leading < MARGIN {
                pages.push(std::mem::replace(&mut content, Content::new()));
                y = HEIGHT - MARGIN;
            }
            y -= leading;
            let font = if p.bold { BOLD } else { REGULAR };
            content.begin_text();
            content.set_font(font, p.size);
            if p.bullet && i == 0 {
                content.next_line(left - 9.0, y);
                content.show(Str(&[0x95]));
                content.end_text();
                content.begin_text();
                content.set_font(font, p.size);
            }
            content.next_line(left, y);
            content.show(Str(row));
            content.end_text();
        }
    }
    pages.push(content);

    let mut pdf = Pdf::new();
    let catalog = Ref::new(1);
    let tree = Ref::new(2);
    let regular = Ref::new(3);
    let bold = Ref::new(4);
    let info = Ref::new(5);
    let first = 6;
    let page_ids: Vec<Ref> = (0..pages.len())
        .map(|i| Ref::new(first + 2 * i as i32))
        .collect();
    pdf.catalog(catalog).pages(tree);
    pdf.pages(tree)
        .kids(page_ids.iter().copied())
        .count(page_ids.len() as i32);
    pdf.type1_font(regular)
        .base_font(Name(b"Helvetica"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.type1_font(bold)
        .base_font(Name(b"Helvetica-Bold"))
        .encoding_predefined(Name(b"WinAnsiEncoding"));
    pdf.document_info(info)
        .title(TextStr(title))
        .producer(TextStr("konvent"));
    for (content, page_id) in pages.into_iter().zip(&page_ids) {
        let content_id = Ref::new(page_id.get() + 1);
        let mut page = pdf.page(*page_id);
        page.media_box(Rect::new(0.0, 0.0, WIDTH, HEIGHT));
        page.parent(tree);
        page.contents(content_id);
        let mut resources = page.resources();
        let mut fonts = resources.fonts();
        fonts.pair(REGULAR, regular);
        fonts.pair(BOLD, bold);
        drop(fonts);
        drop(resources);
        drop(page);
        pdf.stream(content_id, &content.finish());
    }
    pdf.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn german_text_is_encoded_and_wrapped_onto_pages() {
        let long =
            "Die Registermodernisierung braucht Fachkräfte für Öffentliche Verwaltung. ".repeat(20);
        let mut lines = vec![Line::title("Arbeitsergebnisse – Strategiekonvent".into())];
        for _ in 0..80 {
            lines.push(Line::bullet(long.clone()));
        }
        let pdf = document("Test", &lines);
        assert!(pdf.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("/WinAnsiEncoding"));
        // More than one page, and every page is in the tree.
        let count = text
            .split("/Count ")
            .nth(1)
            .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(0);
        assert!(count > 1, "{count} pages");
        assert_eq!(
            text.matches("/Type /Page\n").count()
                + text.matches("/Type /Page\r").count()
                + text.matches("/Type /Page/").count()
                + text.matches("/Type /Page ").count(),
            count,
            "{text:.2000}"
        );
        // "Fachkräfte" in WinAnsi (ä = 0xE4), as pdf-writer writes strings: in hex.
        assert!(text.contains("466163686B72E4667465"));
        for row in wrap(&long.bytes().collect::<Vec<_>>(), false, 10.0, 300.0) {
            let w: f32 = row.iter().map(|b| width(*b, false, 10.0)).sum();
            assert!(w <= 300.0, "{w}");
        }
    }
}
