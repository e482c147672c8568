//! Documents as tagged PDF (PDF/UA-1), written with `pdf-writer`: A4 pages, headings,
//! paragraphs, bullet lists and tables, lines wrapped by the fonts' real widths, new
//! pages as needed.
//!
//! What makes the file accessible (ISO 14289-1): the document language (`/Lang`), the
//! title in the document information and the XMP metadata, shown in the viewer's
//! window (`DisplayDocTitle`), the XMP identifier `pdfuaid:part 1`, `MarkInfo /Marked`,
//! and a structure tree (Document > H1, H2, H3, P, L > LI > Lbl + LBody, Table > TR >
//! TH + TD) whose elements own the page's marked-content sequences (BDC with an MCID)
//! through the ParentTree, in reading order. Page numbers and table rules are marked as
//! artifacts. The fonts are embedded: DejaVu Sans and DejaVu Sans Bold, cut down to
//! Windows-1252 (see `fonts/README.md`), as simple TrueType fonts in WinAnsiEncoding
//! whose `/Widths` are read from the font files themselves.

use std::sync::LazyLock;

use pdf_writer::types::{
    ArtifactType, FontFlags, ListNumbering, StructRole, TabOrder, TableHeaderScope,
};
use pdf_writer::writers::StructTreeRoot;
use pdf_writer::{Content, Finish, Name, Pdf, Rect, Ref, Str, TextStr};

const WIDTH: f32 = 595.0;
const HEIGHT: f32 = 842.0;
const MARGIN: f32 = 56.0;
/// The page number sits in the bottom margin.
const FOOTER_Y: f32 = 30.0;
const CELL_PADDING: f32 = 3.0;
const REGULAR: Name<'static> = Name(b"F1");
const BOLD: Name<'static> = Name(b"F2");

/// One block of the document, in reading order.
pub enum Block {
    /// The document's title (H1).
    Title(String),
    /// A section heading (H2).
    Heading(String),
    /// A heading inside a section (H3).
    Subheading(String),
    /// A paragraph (P).
    Text(String),
    /// A bullet list (L > LI > Lbl + LBody).
    List(Vec<String>),
    /// A table with one header row (Table > TR > TH / TD); `widths` are the columns'
    /// shares of the line (summing to 1).
    Table {
        header: Vec<String>,
        widths: Vec<f32>,
        rows: Vec<Vec<String>>,
    },
}

impl Block {
    pub fn title(text: String) -> Self {
        Self::Title(text)
    }
    pub fn heading(text: String) -> Self {
        Self::Heading(text)
    }
    pub fn subheading(text: String) -> Self {
        Self::Subheading(text)
    }
    pub fn text(text: String) -> Self {
        Self::Text(text)
    }
    pub fn list(items: Vec<String>) -> Self {
        Self::List(items)
    }
    /// A table; `columns` are the header cells with their shares of the line.
    pub fn table(columns: &[(&str, f32)], rows: Vec<Vec<String>>) -> Self {
        Self::Table {
            header: columns.iter().map(|(h, _)| (*h).to_owned()).collect(),
            widths: columns.iter().map(|(_, w)| *w).collect(),
            rows,
        }
    }
}

/// Windows-1252 at 0x80–0x9F (the rest of the upper half is Latin-1); `None` where the
/// code page has no character.
const WIN_ANSI_80: [Option<char>; 32] = [
    Some('€'),
    None,
    Some('‚'),
    Some('ƒ'),
    Some('„'),
    Some('…'),
    Some('†'),
    Some('‡'),
    Some('ˆ'),
    Some('‰'),
    Some('Š'),
    Some('‹'),
    Some('Œ'),
    None,
    Some('Ž'),
    None,
    None,
    Some('‘'),
    Some('’'),
    Some('“'),
    Some('”'),
    Some('•'),
    Some('–'),
    Some('—'),
    Some('˜'),
    Some('™'),
    Some('š'),
    Some('›'),
    Some('œ'),
    None,
    Some('ž'),
    Some('Ÿ'),
];

/// The character a WinAnsiEncoding byte stands for.
fn decode_win_ansi(byte: u8) -> Option<char> {
    match byte {
        0x20..=0x7E | 0xA0..=0xFF => Some(char::from(byte)),
        0x80..=0x9F => WIN_ANSI_80[usize::from(byte - 0x80)],
        _ => None,
    }
}

/// A character in Windows-1252 (WinAnsiEncoding); tabs and line breaks become spaces,
/// characters outside the code page "?".
fn win_ansi(c: char) -> u8 {
    match c {
        '\t' | '\n' | '\r' => b' ',
        ' '..='~' | '\u{a0}'..='\u{ff}' => c as u32 as u8,
        _ => WIN_ANSI_80
            .iter()
            .position(|x| *x == Some(c))
            .and_then(|i| u8::try_from(0x80 + i).ok())
            .unwrap_or(b'?'),
    }
}

/// An embedded font and what the PDF says about it, read from the font file.
struct Font {
    base_name: &'static [u8],
    data: &'static [u8],
    /// Advance widths of the WinAnsi codes in thousandths of the font size.
    widths: [f32; 256],
    bbox: Rect,
    ascent: f32,
    descent: f32,
    cap_height: f32,
    stem_v: f32,
}

impl Font {
    fn load(base_name: &'static [u8], data: &'static [u8], stem_v: f32) -> Self {
        let face = ttf_parser::Face::parse(data, 0).expect("the bundled font parses");
        let scale = 1000.0 / f32::from(face.units_per_em());
        let mut widths = [0.0; 256];
        for (code, width) in widths.iter_mut().enumerate() {
            let advance = u8::try_from(code)
                .ok()
                .and_then(decode_win_ansi)
                .and_then(|c| face.glyph_index(c))
                .and_then(|g| face.glyph_hor_advance(g));
            *width = advance.map_or(0.0, |a| f32::from(a) * scale);
        }
        let b = face.global_bounding_box();
        Self {
            base_name,
            data,
            widths,
            bbox: Rect::new(
                f32::from(b.x_min) * scale,
                f32::from(b.y_min) * scale,
                f32::from(b.x_max) * scale,
                f32::from(b.y_max) * scale,
            ),
            ascent: f32::from(face.ascender()) * scale,
            descent: f32::from(face.descender()) * scale,
            cap_height: f32::from(face.capital_height().unwrap_or(face.ascender())) * scale,
            stem_v,
        }
    }
}

static REGULAR_FONT: LazyLock<Font> = LazyLock::new(|| {
    Font::load(
        b"DejaVuSans",
        include_bytes!("../fonts/DejaVuSans.ttf"),
        80.0,
    )
});
static BOLD_FONT: LazyLock<Font> = LazyLock::new(|| {
    Font::load(
        b"DejaVuSans-Bold",
        include_bytes!("../fonts/DejaVuSans-Bold.ttf"),
        140.0,
    )
});

fn font(bold: bool) -> &'static Font {
    if bold { &BOLD_FONT } else { &REGULAR_FONT }
}

fn width(byte: u8, bold: bool, size: f32) -> f32 {
    font(bold).widths[usize::from(byte)] * size / 1000.0
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

fn encode(text: &str) -> Vec<u8> {
    text.chars().map(win_ansi).collect()
}

/// A child of a structure element: another element or a marked-content sequence.
enum Kid {
    Element(usize),
    Content { page: usize, mcid: i32 },
}

struct Element {
    role: StructRole,
    parent: Option<usize>,
    kids: Vec<Kid>,
}

/// Lays the blocks out onto pages and records the structure tree as it goes.
struct Layout {
    pages: Vec<Content>,
    content: Content,
    y: f32,
    elements: Vec<Element>,
    /// Per page: the element that owns each MCID (the page's ParentTree entry).
    page_owners: Vec<Vec<usize>>,
    /// The element whose marked-content sequence is open on the current page.
    open: Option<usize>,
}

impl Layout {
    fn new() -> Self {
        Self {
            pages: Vec::new(),
            content: Content::new(),
            y: HEIGHT - MARGIN,
            elements: vec![Element {
                role: StructRole::Document,
                parent: None,
                kids: Vec::new(),
            }],
            page_owners: vec![Vec::new()],
            open: None,
        }
    }

    fn element(&mut self, role: StructRole, parent: usize) -> usize {
        let id = self.elements.len();
        self.elements.push(Element {
            role,
            parent: Some(parent),
            kids: Vec::new(),
        });
        self.elements[parent].kids.push(Kid::Element(id));
        id
    }

    fn page(&self) -> usize {
        self.pages.len()
    }

    /// Makes what is drawn next part of `element`'s content.
    fn mark(&mut self, element: usize) {
        if self.open == Some(element) {
            return;
        }
        self.close();
        let page = self.page();
        let owners = &mut self.page_owners[page];
        let mcid = i32::try_from(owners.len()).unwrap_or(i32::MAX);
        owners.push(element);
        self.content
            .begin_marked_content_with_properties(self.elements[element].role.to_name())
            .properties()
            .identify(mcid);
        self.elements[element]
            .kids
            .push(Kid::Content { page, mcid });
        self.open = Some(element);
    }

    fn close(&mut self) {
        if self.open.take().is_some() {
            self.content.end_marked_content();
        }
    }

    fn new_page(&mut self) {
        self.close();
        let full = std::mem::replace(&mut self.content, Content::new());
        self.pages.push(full);
        self.page_owners.push(Vec::new());
        self.y = HEIGHT - MARGIN;
    }

    fn at_top(&self) -> bool {
        self.y >= HEIGHT - MARGIN
    }

    /// Starts a new page unless `height` points still fit on this one.
    fn room_for(&mut self, height: f32) {
        if self.y - height < MARGIN && !self.at_top() {
            self.new_page();
        }
    }

    fn show(&mut self, element: usize, x: f32, y: f32, bold: bool, size: f32, row: &[u8]) {
        self.mark(element);
        self.content
            .begin_text()
            .set_font(if bold { BOLD } else { REGULAR }, size)
            .next_line(x, y)
            .show(Str(row))
            .end_text();
    }

    /// A horizontal rule, marked as a layout artifact.
    fn rule(&mut self, x1: f32, x2: f32, y: f32) {
        self.close();
        self.content
            .begin_marked_content_with_properties(Name(b"Artifact"))
            .properties()
            .artifact()
            .kind(ArtifactType::Layout);
        self.content
            .set_line_width(0.5)
            .move_to(x1, y)
            .line_to(x2, y)
            .stroke()
            .end_marked_content();
    }

    /// A paragraph of `element` at `x`, `max` points wide, continued on new pages.
    fn paragraph(&mut self, element: usize, text: &str, x: f32, max: f32, bold: bool, size: f32) {
        let leading = size * 1.3;
        for row in wrap(&encode(text), bold, size, max) {
            if self.y - leading < MARGIN {
                self.new_page();
            }
            self.y -= leading;
            self.show(element, x, self.y, bold, size, &row);
        }
    }

    fn heading(&mut self, role: StructRole, text: &str, size: f32, space_before: f32) {
        let element = self.element(role, 0);
        if !self.at_top() {
            self.y -= space_before;
        }
        // A heading is not left alone at the bottom of a page.
        self.room_for(size * 1.3 * 3.0);
        self.paragraph(element, text, MARGIN, WIDTH - 2.0 * MARGIN, true, size);
    }

    fn list(&mut self, items: &[String]) {
        let list = self.element(StructRole::L, 0);
        let size = 10.0;
        let leading = size * 1.3;
        let left = MARGIN + 12.0;
        for text in items {
            let item = self.element(StructRole::LI, list);
            let label = self.element(StructRole::Lbl, item);
            let body = self.element(StructRole::LBody, item);
            self.y -= 2.0;
            self.room_for(leading);
            // The label on the first line of the body.
            self.show(label, left - 9.0, self.y - leading, false, size, &[0x95]);
            self.paragraph(body, text, left, WIDTH - MARGIN - left, false, size);
        }
    }

    fn table_row(&mut self, row: usize, cells: &[String], widths: &[f32], header: bool) {
        let size = 9.0;
        let leading = size * 1.3;
        let line = WIDTH - 2.0 * MARGIN;
        let columns: Vec<(f32, f32)> = widths
            .iter()
            .scan(MARGIN, |x, w| {
                let start = *x;
                *x += w * line;
                Some((start, w * line))
            })
            .collect();
        let wrapped: Vec<Vec<Vec<u8>>> = columns
            .iter()
            .enumerate()
            .map(|(i, (_, w))| {
                let text = cells.get(i).map_or("", String::as_str);
                wrap(&encode(text), header, size, w - 2.0 * CELL_PADDING)
            })
            .collect();
        let lines = wrapped.iter().map(Vec::len).max().unwrap_or(1);
        let height = lines as f32 * leading + 2.0 * CELL_PADDING;
        self.room_for(height);
        let role = if header {
            StructRole::TH
        } else {
            StructRole::TD
        };
        if self.y - height >= MARGIN {
            let top = self.y - CELL_PADDING;
            for ((x, _), rows) in columns.iter().zip(&wrapped) {
                let cell = self.element(role, row);
                for (i, text) in rows.iter().enumerate() {
                    let y = top - (i + 1) as f32 * leading;
                    if !text.is_empty() {
                        self.show(cell, x + CELL_PADDING, y, header, size, text);
                    }
                }
            }
            self.y -= height;
        } else {
            // Taller than a page: each cell in turn, continued on new pages.
            for (i, (x, w)) in columns.iter().enumerate() {
                let cell = self.element(role, row);
                let text = cells.get(i).map_or("", String::as_str);
                self.paragraph(
                    cell,
                    text,
                    x + CELL_PADDING,
                    w - 2.0 * CELL_PADDING,
                    header,
                    size,
                );
            }
            self.y -= CELL_PADDING;
        }
        self.rule(MARGIN, WIDTH - MARGIN, self.y);
    }

    fn table(&mut self, header: &[String], widths: &[f32], rows: &[Vec<String>]) {
        let table = self.element(StructRole::Table, 0);
        self.y -= 6.0;
        let head = self.element(StructRole::TR, table);
        self.table_row(head, header, widths, true);
        for cells in rows {
            let row = self.element(StructRole::TR, table);
            self.table_row(row, cells, widths, false);
        }
    }

    fn block(&mut self, block: &Block) {
        match block {
            Block::Title(t) => self.heading(StructRole::H1, t, 18.0, 0.0),
            Block::Heading(t) => self.heading(StructRole::H2, t, 14.0, 14.0),
            Block::Subheading(t) => self.heading(StructRole::H3, t, 11.5, 8.0),
            Block::Text(t) => {
                if !t.trim().is_empty() {
                    let p = self.element(StructRole::P, 0);
                    self.y -= 4.0;
                    self.paragraph(p, t, MARGIN, WIDTH - 2.0 * MARGIN, false, 10.0);
                }
            }
            Block::List(items) => {
                if !items.is_empty() {
                    self.list(items);
                }
            }
            Block::Table {
                header,
                widths,
                rows,
            } => self.table(header, widths, rows),
        }
    }

    /// The finished pages, each with its page number as a pagination artifact.
    fn finish(mut self) -> (Vec<Content>, Vec<Element>, Vec<Vec<usize>>) {
        self.close();
        self.pages.push(self.content);
        let count = self.pages.len();
        for (i, page) in self.pages.iter_mut().enumerate() {
            let label = encode(&format!("Seite {} von {count}", i + 1));
            let w: f32 = label.iter().map(|b| width(*b, false, 8.0)).sum();
            page.begin_marked_content_with_properties(Name(b"Artifact"))
                .properties()
                .artifact()
                .kind(ArtifactType::Pagination);
            page.begin_text()
                .set_font(REGULAR, 8.0)
                .next_line(WIDTH - MARGIN - w, FOOTER_Y)
                .show(Str(&label))
                .end_text()
                .end_marked_content();
        }
        (self.pages, self.elements, self.page_owners)
    }
}

/// The XMP metadata: title, language and the PDF/UA-1 identifier.
fn xmp(title: &str, lang: &str) -> String {
    let escape = |s: &str| {
        s.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    };
    format!(
        "<?xpacket begin=\"\u{feff}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>\n\
<x:xmpmeta xmlns:x=\"adobe:ns:meta/\">\n\
<rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">\n\
<rdf:Description rdf:about=\"\" xmlns:dc=\"http://purl.org/dc/elements/1.1/\" \
xmlns:pdf=\"http://ns.adobe.com/pdf/1.3/\" xmlns:pdfuaid=\"http://www.aiim.org/pdfua/ns/id/\">\n\
<dc:format>application/pdf</dc:format>\n\
<dc:title><rdf:Alt><rdf:li xml:lang=\"x-default\">{}</rdf:li></rdf:Alt></dc:title>\n\
<dc:language><rdf:Bag><rdf:li>{}</rdf:li></rdf:Bag></dc:language>\n\
<pdf:Producer>konvent</pdf:Producer>\n\
<pdfuaid:part>1</pdfuaid:part>\n\
</rdf:Description>\n</rdf:RDF>\n</x:xmpmeta>\n<?xpacket end=\"w\"?>",
        escape(title),
        escape(lang)
    )
}

/// Writes the document as tagged PDF; `title` is its title (document information, XMP
/// metadata, the viewer's window) and `lang` its language (e.g. "de-DE").
pub fn document(title: &str, lang: &str, blocks: &[Block]) -> Vec<u8> {
    let mut layout = Layout::new();
    for block in blocks {
        layout.block(block);
    }
    let (pages, elements, page_owners) = layout.finish();

    let mut next = Ref::new(1);
    let catalog_id = next.bump();
    let tree_id = next.bump();
    let info_id = next.bump();
    let metadata_id = next.bump();
    let root_id = next.bump();
    let fonts: Vec<(Name, &Font, Ref, Ref, Ref)> = [(REGULAR, false), (BOLD, true)]
        .into_iter()
        .map(|(name, bold)| (name, font(bold), next.bump(), next.bump(), next.bump()))
        .collect();
    let page_ids: Vec<(Ref, Ref, Ref)> = pages
        .iter()
        .map(|_| (next.bump(), next.bump(), next.bump()))
        .collect();
    let element_ids: Vec<Ref> = elements.iter().map(|_| next.bump()).collect();

    let mut pdf = Pdf::new();
    let mut catalog = pdf.catalog(catalog_id);
    catalog.pages(tree_id);
    catalog.lang(TextStr(lang));
    catalog.viewer_preferences().display_doc_title(true);
    catalog.mark_info().marked(true);
    catalog.pair(Name(b"StructTreeRoot"), root_id);
    catalog.metadata(metadata_id);
    catalog.finish();

    pdf.document_info(info_id)
        .title(TextStr(title))
        .producer(TextStr("konvent"));
    pdf.metadata(metadata_id, xmp(title, lang).as_bytes());

    pdf.pages(tree_id)
        .kids(page_ids.iter().map(|(page, _, _)| *page))
        .count(i32::try_from(page_ids.len()).unwrap_or(i32::MAX));

    for (_, font, font_id, descriptor_id, file_id) in &fonts {
        let base = Name(font.base_name);
        let mut dict = pdf.indirect(*font_id).dict();
        dict.pair(Name(b"Type"), Name(b"Font"));
        dict.pair(Name(b"Subtype"), Name(b"TrueType"));
        dict.pair(Name(b"BaseFont"), base);
        dict.pair(Name(b"FirstChar"), 32);
        dict.pair(Name(b"LastChar"), 255);
        dict.insert(Name(b"Widths"))
            .array()
            .items(font.widths[32..].iter().copied());
        dict.pair(Name(b"FontDescriptor"), *descriptor_id);
        dict.pair(Name(b"Encoding"), Name(b"WinAnsiEncoding"));
        dict.finish();
        pdf.font_descriptor(*descriptor_id)
            .name(base)
            .flags(FontFlags::NON_SYMBOLIC)
            .bbox(font.bbox)
            .italic_angle(0.0)
            .ascent(font.ascent)
            .descent(font.descent)
            .cap_height(font.cap_height)
            .stem_v(font.stem_v)
            .font_file2(*file_id);
        pdf.stream(*file_id, font.data).pair(
            Name(b"Length1"),
            i32::try_from(font.data.len()).unwrap_or(0),
        );
    }

    for (i, (content, (page_id, content_id, owners_id))) in
        pages.into_iter().zip(&page_ids).enumerate()
    {
        let mut page = pdf.page(*page_id);
        page.media_box(Rect::new(0.0, 0.0, WIDTH, HEIGHT));
        page.parent(tree_id);
        page.contents(*content_id);
        page.struct_parents(i32::try_from(i).unwrap_or(i32::MAX));
        page.tab_order(TabOrder::StructureOrder);
        let mut resources = page.resources();
        let mut font_dict = resources.fonts();
        for (name, _, font_id, _, _) in &fonts {
            font_dict.pair(*name, *font_id);
        }
        font_dict.finish();
        resources.finish();
        page.finish();
        pdf.stream(*content_id, &content.finish());
        pdf.indirect(*owners_id)
            .array()
            .items(page_owners[i].iter().map(|e| element_ids[*e]));
    }

    let mut root = pdf.indirect(root_id).start::<StructTreeRoot>();
    root.child(element_ids[0]);
    let mut nums = root.parent_tree();
    let mut entries = nums.nums();
    for (i, (_, _, owners_id)) in page_ids.iter().enumerate() {
        entries.insert(i32::try_from(i).unwrap_or(i32::MAX), *owners_id);
    }
    entries.finish();
    nums.finish();
    root.parent_tree_next_key(i32::try_from(page_ids.len()).unwrap_or(i32::MAX));
    root.finish();

    for (element, id) in elements.iter().zip(&element_ids) {
        let mut e = pdf.struct_element(*id);
        e.kind(element.role);
        e.parent(element.parent.map_or(root_id, |p| element_ids[p]));
        match element.role {
            StructRole::L => {
                e.attributes()
                    .push()
                    .list()
                    .list_numbering(ListNumbering::Disc);
            }
            StructRole::TH => {
                e.attributes()
                    .push()
                    .table()
                    .scope(TableHeaderScope::Column);
            }
            _ => {}
        }
        let mut kids = e.children();
        for kid in &element.kids {
            match kid {
                Kid::Element(k) => {
                    kids.struct_element(element_ids[*k]);
                }
                Kid::Content { page, mcid } => {
                    kids.marked_content_ref()
                        .page(page_ids[*page].0)
                        .marked_content_id(*mcid);
                }
            }
        }
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
        let blocks = vec![
            Block::title("Arbeitsergebnisse – Strategiekonvent".into()),
            Block::list(vec![long.clone(); 80]),
            Block::table(
                &[("Beitrag", 0.7), ("Stimmen", 0.3)],
                vec![vec![long.clone(), "3".into()]; 20],
            ),
        ];
        let pdf = document("Test", "de-DE", &blocks);
        assert!(pdf.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&pdf);
        assert!(text.contains("/WinAnsiEncoding"));
        assert!(text.contains("/FontFile2"));
        assert!(text.contains("<pdfuaid:part>1</pdfuaid:part>"));
        // More than one page, and every page is in the tree.
        let count = text
            .split("/Count ")
            .nth(1)
            .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(0);
        assert!(count > 1, "{count} pages");
        assert_eq!(text.matches("/StructParents ").count(), count);
        // "Fachkräfte" in WinAnsi (ä = 0xE4), as pdf-writer writes strings: in hex.
        assert!(text.contains("466163686B72E4667465"));
        for row in wrap(&long.bytes().collect::<Vec<_>>(), false, 10.0, 300.0) {
            let w: f32 = row.iter().map(|b| width(*b, false, 10.0)).sum();
            assert!(w <= 300.0, "{w}");
        }
    }

    #[test]
    fn every_win_ansi_character_has_a_glyph_and_round_trips() {
        for byte in (0x20..=0x7E).chain(0x80..=0xFF) {
            if let Some(c) = decode_win_ansi(byte) {
                assert_eq!(win_ansi(c), byte, "{c}");
                for bold in [false, true] {
                    assert!(width(byte, bold, 1000.0) > 0.0, "{c} bold={bold}");
                }
            }
        }
        assert_eq!(win_ansi('€'), 0x80);
        assert_eq!(win_ansi('✓'), b'?');
    }
}
