"""Helpers for the importer's tests: documents made on the fly (docx, pdf) and a parser."""

from __future__ import annotations

import io
from pathlib import Path

from knowledge.importer import NameFinder, ParsedPlan, parse_bytes, seed_registry

DATA = Path(__file__).parent / "data"
SEEDS = Path(__file__).resolve().parent.parent.parent / "shared" / "seeds"


def parse_text(text: str, name: str = "plan.txt") -> ParsedPlan:
    return parse_bytes(text.encode("utf-8"), name, NameFinder(seed_registry()))


def parse_bytes_docx(data: bytes) -> ParsedPlan:
    return parse_bytes(data, "plan.docx", NameFinder(seed_registry()))


def make_docx(paragraphs: list[str], table: list[list[str]] | None = None, after: list[str] | None = None,
              header: list[list[str]] | None = None) -> bytes:
    """A Word file: a header table, paragraphs, then a table, then more paragraphs (document order matters)."""
    import docx

    d = docx.Document()
    if header:
        h = d.add_table(rows=len(header), cols=len(header[0]))
        for r, row in enumerate(header):
            for c, value in enumerate(row):
                h.cell(r, c).text = value
    for p in paragraphs:
        d.add_paragraph(p)
    if table:
        t = d.add_table(rows=len(table), cols=len(table[0]))
        for r, row in enumerate(table):
            for c, value in enumerate(row):
                t.cell(r, c).text = value
    for p in after or []:
        d.add_paragraph(p)
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


def make_pdf(lines: list[str]) -> bytes:
    """A minimal one-page PDF with a text layer (Helvetica, so ASCII: accents are optional on input)."""
    ops = ["BT", "/F1 10 Tf", "12 TL", "40 800 Td"]
    for line in lines:
        esc = line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        ops.append(f"({esc}) Tj T*")
    ops.append("ET")
    stream = "\n".join(ops).encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 5 0 R >> >> "
        b"/Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def blank_pdf() -> bytes:
    """A scanned document as far as text goes: a page with no text layer."""
    from pypdf import PdfWriter

    w = PdfWriter()
    w.add_blank_page(width=595, height=842)
    buf = io.BytesIO()
    w.write(buf)
    return buf.getvalue()
