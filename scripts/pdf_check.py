#!/usr/bin/env python3
"""Checks that PDFs konvent generates are tagged PDF in the sense of PDF/UA-1.

    pdf_check.py [--title TITLE] [--lang LANG] [--tags H1,H2,L,...] FILE.pdf...

For each file, with pikepdf (PyPI): the document language (/Lang), the title in the
document information and the XMP metadata and DisplayDocTitle, the XMP identifier
pdfuaid:part 1, MarkInfo /Marked true, a structure tree under StructTreeRoot that has
the expected tags (--tags) and nests them as PDF/UA wants (L > LI > Lbl/LBody, Table >
TR > TH/TD, TH with a Scope, headings starting at H1 without skipped levels), every
font embedded, and on every page: all text and paths inside marked content, each
marked-content sequence either an Artifact or one with an MCID whose structure
element (found through the ParentTree) points back at that page and MCID.

Exits 1 listing every problem; prints one summary line per good file.
"""

import argparse
import sys

import pikepdf
from pikepdf import Name

PAINT_OPERATORS = {"Tj", "TJ", "'", '"', "S", "s", "f", "F", "f*", "B", "B*", "b", "b*", "Do", "sh"}


def number_tree(node, out):
    """The entries of a number tree (a /Nums array, or /Kids with their own)."""
    if "/Nums" in node:
        nums = node.Nums
        for i in range(0, len(nums), 2):
            out[int(nums[i])] = nums[i + 1]
    for kid in node.get("/Kids", []):
        number_tree(kid, out)
    return out


def same(a, b):
    return a.is_indirect and b.is_indirect and a.objgen == b.objgen


class Checker:
    def __init__(self, path, args):
        self.path = path
        self.args = args
        self.problems = []
        self.tags = []
        # (page objgen, mcid) -> structure element, from the elements' /K.
        self.mcrs = {}

    def problem(self, text):
        self.problems.append(text)

    def check(self):
        pdf = pikepdf.open(self.path)
        root = pdf.Root
        lang = str(root.get("/Lang", ""))
        if not lang:
            self.problem("no /Lang in the catalog")
        elif self.args.lang and lang != self.args.lang:
            self.problem(f"/Lang is {lang!r}, expected {self.args.lang!r}")

        title = str(pdf.docinfo.get("/Title", "")) if pdf.docinfo else ""
        if not title:
            self.problem("no /Title in the document information")
        elif self.args.title and title != self.args.title:
            self.problem(f"/Title is {title!r}, expected {self.args.title!r}")
        prefs = root.get("/ViewerPreferences")
        if prefs is None or not bool(prefs.get("/DisplayDocTitle", False)):
            self.problem("ViewerPreferences /DisplayDocTitle is not true")

        meta = pdf.open_metadata()
        if meta.get("dc:title") != title:
            self.problem(f"XMP dc:title is {meta.get('dc:title')!r}, the title {title!r}")
        if str(meta.get("pdfuaid:part", "")) != "1":
            self.problem(f"XMP pdfuaid:part is {meta.get('pdfuaid:part')!r}, not 1")

        mark_info = root.get("/MarkInfo")
        if mark_info is None or not bool(mark_info.get("/Marked", False)):
            self.problem("MarkInfo /Marked is not true")

        tree = root.get("/StructTreeRoot")
        if tree is None:
            self.problem("no StructTreeRoot")
            return
        kids = tree.get("/K")
        if kids is None:
            self.problem("the StructTreeRoot has no /K")
            return
        for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
            self.element(kid, tree, None)
        found = set(self.tags)
        missing = [t for t in self.args.tags if t not in found]
        if missing:
            self.problem(f"the structure tree lacks {', '.join(missing)} (it has {', '.join(sorted(found))})")
        self.headings()

        parent_tree = number_tree(tree.ParentTree, {}) if "/ParentTree" in tree else {}
        if not parent_tree:
            self.problem("the StructTreeRoot has no ParentTree")
        fonts_seen = set()
        for number, page in enumerate(pdf.pages, start=1):
            self.page(number, page, parent_tree)
            fonts = page.obj.get("/Resources", {}).get("/Font", {})
            for name, font in fonts.items():
                if font.objgen in fonts_seen:
                    continue
                fonts_seen.add(font.objgen)
                self.font(number, name, font)
        if not fonts_seen:
            self.problem("no fonts at all")
        return len(pdf.pages)

    def element(self, elem, parent, parent_tag):
        if not isinstance(elem, pikepdf.Dictionary):
            return
        kind = elem.get("/Type")
        if kind == Name.MCR or kind == Name.OBJR:
            return
        tag = str(elem.get("/S", ""))[1:]
        if not tag:
            self.problem("a structure element without /S")
            return
        self.tags.append(tag)
        if not same(elem.get("/P"), parent):
            self.problem(f"{tag}: /P is not its parent")
        allowed = {
            "LI": {"L"},
            "Lbl": {"LI"},
            "LBody": {"LI"},
            "TR": {"Table", "THead", "TBody", "TFoot"},
            "TH": {"TR"},
            "TD": {"TR"},
        }
        if tag in allowed and parent_tag not in allowed[tag]:
            self.problem(f"{tag} inside {parent_tag}")
        if tag == "TH":
            attributes = elem.get("/A")
            attrs = attributes if isinstance(attributes, pikepdf.Array) else [attributes] if attributes else []
            if not any(a.get("/O") == Name.Table and "/Scope" in a for a in attrs):
                self.problem("a TH without /Scope")
        kids = elem.get("/K")
        if kids is None:
            return
        for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
            if isinstance(kid, int):
                page = elem.get("/Pg")
                if page is None:
                    self.problem(f"{tag}: MCID {kid} without /Pg")
                else:
                    self.mcrs[(page.objgen, int(kid))] = elem
            elif isinstance(kid, pikepdf.Dictionary) and kid.get("/Type") == Name.MCR:
                page = kid.get("/Pg", elem.get("/Pg"))
                if page is None:
                    self.problem(f"{tag}: MCR without /Pg")
                else:
                    self.mcrs[(page.objgen, int(kid.MCID))] = elem
            else:
                self.element(kid, elem, tag)

    def headings(self):
        levels = [int(t[1:]) for t in self.tags if len(t) == 2 and t[0] == "H" and t[1].isdigit()]
        if not levels:
            return
        if levels[0] != 1:
            self.problem(f"the first heading is H{levels[0]}, not H1")
        for before, after in zip(levels, levels[1:]):
            if after > before + 1:
                self.problem(f"H{before} is followed by H{after} (a level skipped)")

    def page(self, number, page, parent_tree):
        key = page.obj.get("/StructParents")
        owners = parent_tree.get(int(key)) if key is not None else None
        stack = []  # per open marked-content sequence: "artifact", an MCID, or None
        used = set()
        for operands, operator in pikepdf.parse_content_stream(page):
            op = str(operator)
            if op in ("BDC", "BMC"):
                tag = operands[0]
                mcid = None
                if op == "BDC" and isinstance(operands[1], pikepdf.Dictionary) and "/MCID" in operands[1]:
                    mcid = int(operands[1].MCID)
                if tag == Name.Artifact:
                    stack.append("artifact")
                elif mcid is not None:
                    if stack:
                        self.problem(f"page {number}: MCID {mcid} nested in other marked content")
                    if mcid in used:
                        self.problem(f"page {number}: MCID {mcid} used twice")
                    used.add(mcid)
                    stack.append(mcid)
                    self.owner(number, page, owners, mcid, str(tag)[1:])
                else:
                    stack.append(None)
            elif op == "EMC":
                if not stack:
                    self.problem(f"page {number}: EMC without BDC")
                else:
                    stack.pop()
            elif op in PAINT_OPERATORS:
                if not any(s == "artifact" or isinstance(s, int) for s in stack):
                    self.problem(f"page {number}: {op} outside tagged content and artifacts")
        if stack:
            self.problem(f"page {number}: marked content left open")
        if used and owners is None:
            self.problem(f"page {number}: marked content but no /StructParents entry in the ParentTree")

    def owner(self, number, page, owners, mcid, tag):
        if owners is None:
            return
        if mcid >= len(owners):
            self.problem(f"page {number}: MCID {mcid} has no entry in the ParentTree")
            return
        elem = owners[mcid]
        back = self.mcrs.get((page.obj.objgen, mcid))
        if back is None or not same(back, elem):
            self.problem(f"page {number}: the element of MCID {mcid} does not point back at it")
        elif str(elem.get("/S"))[1:] != tag:
            self.problem(f"page {number}: MCID {mcid} is marked {tag}, its element is {elem.get('/S')}")

    def font(self, number, name, font):
        subtype = font.get("/Subtype")
        descriptor = font.get("/FontDescriptor")
        if subtype == Name.Type0:
            descriptor = font.DescendantFonts[0].get("/FontDescriptor")
        if subtype == Name.Type3:
            return
        if descriptor is None or not any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3")):
            self.problem(f"page {number}: font {name} ({font.get('/BaseFont')}) is not embedded")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--title", help="the exact title expected")
    parser.add_argument("--lang", help="the exact /Lang expected, e.g. de-DE")
    parser.add_argument(
        "--tags",
        default="Document,H1,P",
        help="structure types the tree must have, comma-separated",
    )
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    args.tags = [t for t in args.tags.split(",") if t]
    failed = False
    for path in args.files:
        checker = Checker(path, args)
        try:
            pages = checker.check()
        except Exception as e:  # a file pikepdf cannot read is a failure too
            checker.problem(f"unreadable: {e!r}")
            pages = 0
        if checker.problems:
            failed = True
            print(f"{path}: NOT tagged PDF/UA as expected:", file=sys.stderr)
            for p in checker.problems:
                print(f"  - {p}", file=sys.stderr)
        else:
            print(f"{path}: ok ({pages} pages, {len(checker.tags)} structure elements, tags {', '.join(sorted(set(checker.tags)))})")
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
