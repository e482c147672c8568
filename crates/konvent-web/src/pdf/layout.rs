//! The layout: blocks laid out onto A4 pages, with the structure tree recorded as it
//! goes (which element owns which marked-content sequence on which page).

use pdf_writer::types::{ArtifactType, StructRole};
use pdf_writer::{Content, Name, Str};

use super::fonts::{encode, width, wrap};
use super::{BOLD, CELL_PADDING, FOOTER_Y, HEIGHT, MARGIN, REGULAR, WIDTH};
use crate::pdf::Block;

/// A child of a structure element: another element or a marked-content sequence.
pub(super) enum Kid {
    Element(usize),
    Content { page: usize, mcid: i32 },
}

pub(super) struct Element {
    pub(super) role: StructRole,
    pub(super) parent: Option<usize>,
    pub(super) kids: Vec<Kid>,
}

/// Lays the blocks out onto pages and records the structure tree as it goes.
pub(super) struct Layout {
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
    pub(super) fn new() -> Self {
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

    pub(super) fn block(&mut self, block: &Block) {
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
    pub(super) fn finish(mut self) -> (Vec<Content>, Vec<Element>, Vec<Vec<usize>>) {
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
