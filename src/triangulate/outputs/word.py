"""report.docx: the publication tables as a Word document (python-docx).

Title, the draft notice when there is one, the convergence coding matrix and the joint display as
Word tables (labels, not ids; header rows repeat on every page; rows never split across pages; each
wide table in a landscape section; category cells shaded in the category's colour with its mark),
the figure's legend in words, and the methods paragraph. The text content is deterministic, and so
are the bytes: fixed document properties and zip entry times.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from triangulate.outputs.model import Heading, Notice, Para, Report, Table

if TYPE_CHECKING:
    from triangulate.outputs.palette import CategoryStyle

FIXED_TIME = datetime(2000, 1, 1, tzinfo=timezone.utc)
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
FONT = "Arial"


def fixed_zip(data: bytes) -> bytes:
    """The same zip with every entry's time fixed and entries in their original order."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()


def _publication(rep: Report, kind: str) -> Table | None:
    for b in rep.blocks:
        if isinstance(b, Table) and b.kind == kind:
            return b
    return None


def _methods(rep: Report) -> list[str]:
    paras: list[str] = []
    inside = False
    for b in rep.blocks:
        if isinstance(b, Heading):
            if inside:
                break
            inside = b.anchor == "methods"
        elif inside and isinstance(b, Para) and b.text:
            paras.append(b.text)
    return paras


def _shade(cell: Any, hex_colour: str) -> None:
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    tc_pr = cell._tc.get_or_add_tcPr()
    shd = OxmlElement("w:shd")
    shd.set(qn("w:val"), "clear")
    shd.set(qn("w:color"), "auto")
    shd.set(qn("w:fill"), hex_colour.lstrip("#").upper())
    tc_pr.append(shd)


def _row_flags(row: Any, header: bool) -> None:
    from docx.oxml import OxmlElement

    tr_pr = row._tr.get_or_add_trPr()
    cant = OxmlElement("w:cantSplit")
    tr_pr.append(cant)
    if header:
        h = OxmlElement("w:tblHeader")
        tr_pr.append(h)


_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _xml_text(text: str) -> str:
    """Text a Word document can hold: characters XML 1.0 forbids (control characters from the
    data, lone surrogates) become a space instead of stopping the whole run (issue 13)."""
    return _XML_ILLEGAL.sub(" ", text)


def _write_cell(cell: Any, text: str, bold: bool = False, size: float = 8.0) -> None:
    from docx.shared import Pt

    lines = text.split("\n")
    par = cell.paragraphs[0]
    for i, line in enumerate(lines):
        run = par.add_run(_xml_text(line))
        run.bold = bold
        run.font.size = Pt(size if i == 0 else size - 1)
        run.font.name = FONT
        if i < len(lines) - 1:
            run.add_break()


def _category_cell(cell: Any, text: str, styles: dict[str, CategoryStyle]) -> None:
    from docx.shared import Pt, RGBColor

    par = cell.paragraphs[0]
    lines = text.split("\n")
    first = True
    for i, line in enumerate(lines):
        head, sep, tail = line.rpartition(": ")
        key, prefix = (tail, head + ": ") if sep and tail in styles else (line, "")
        style = styles.get(key)
        if not first:
            par.add_run().add_break()
        first = False
        if style is None:
            run = par.add_run(_xml_text(line))
            run.font.size = Pt(8 if i == 0 else 7)
            run.font.name = FONT
            continue
        if prefix:
            run = par.add_run(_xml_text(prefix))
            run.font.size = Pt(8)
            run.font.name = FONT
        run = par.add_run(_xml_text(f"{style.mark}  {style.label}"))
        run.bold = True
        run.font.size = Pt(8)
        run.font.name = FONT
        if not prefix and len([ln for ln in lines if ln]) <= 2:
            _shade(cell, style.colour)
            run.font.color.rgb = RGBColor.from_string(style.text.lstrip("#"))
        else:  # several categories in one cell: the mark carries it, the colour as a text colour
            run.font.color.rgb = RGBColor.from_string(
                style.colour.lstrip("#") if style.colour != "#EEEEEE" else "555555"
            )


def _table(doc: Any, t: Table, styles: dict[str, CategoryStyle]) -> None:
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.shared import Pt

    if t.caption:
        cap = doc.add_paragraph()
        run = cap.add_run(_xml_text(t.caption))
        run.bold = True
        run.font.name = FONT
    table = doc.add_table(rows=1 + len(t.rows), cols=len(t.header))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for i, h in enumerate(t.header):
        cell = table.rows[0].cells[i]
        _write_cell(cell, h, bold=True)
        _shade(cell, "#E6E6E6")
    _row_flags(table.rows[0], header=True)
    for r_i, row in enumerate(t.rows, start=1):
        cells = table.rows[r_i].cells
        for c_i, value in enumerate(row):
            if c_i in t.category_cols:
                _category_cell(cells[c_i], value, styles)
            else:
                _write_cell(cells[c_i], value)
        _row_flags(table.rows[r_i], header=False)
    if t.note:
        note = doc.add_paragraph()
        run = note.add_run(_xml_text(t.note))
        run.font.size = Pt(8)
        run.font.name = FONT


def render_docx(rep: Report) -> bytes:
    from docx import Document
    from docx.enum.section import WD_ORIENT, WD_SECTION
    from docx.shared import Pt

    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(10)
    props = doc.core_properties
    props.title = _xml_text(rep.title)
    props.author = "triangulate"
    props.last_modified_by = "triangulate"
    props.comments = "Publication tables written by triangulate"
    props.created = FIXED_TIME.replace(tzinfo=None)
    props.modified = FIXED_TIME.replace(tzinfo=None)
    props.revision = 1
    doc.add_heading(_xml_text(rep.title), level=1)
    for b in rep.blocks:
        if isinstance(b, Notice):
            p = doc.add_paragraph()
            run = p.add_run(_xml_text(b.text))
            run.bold = True
    doc.add_paragraph(
        _xml_text(
            "Tables for a manuscript: the convergence coding matrix and the joint display (labels "
            "as in the report; ids in the CSV files). Category marks: "
            + "; ".join(f"{s.mark} = {s.label}" for s in rep.styles.values())
            + "."
        )
    )
    for kind in ("matrix", "joint"):
        t = _publication(rep, kind)
        if t is None:
            continue
        section = doc.add_section(WD_SECTION.NEW_PAGE)
        if len(t.header) > 4:  # wide: a landscape section
            section.orientation = WD_ORIENT.LANDSCAPE
            w, h = section.page_width, section.page_height
            if w is not None and h is not None and w < h:
                section.page_width, section.page_height = h, w
        _table(doc, t, rep.styles)
    methods = _methods(rep)
    if methods:
        section = doc.add_section(WD_SECTION.NEW_PAGE)
        section.orientation = WD_ORIENT.PORTRAIT
        w, h = section.page_width, section.page_height
        if w is not None and h is not None and w > h:
            section.page_width, section.page_height = h, w
        doc.add_heading("Methods", level=2)
        for text in methods:
            doc.add_paragraph(_xml_text(text))
    buf = io.BytesIO()
    doc.save(buf)
    return fixed_zip(buf.getvalue())
