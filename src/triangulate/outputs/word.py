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
from collections.abc import Callable
from datetime import datetime, timezone
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from triangulate.outputs.model import Heading, Notice, Para, Report, Table

if TYPE_CHECKING:
    from triangulate.outputs.palette import CategoryStyle

FIXED_TIME = datetime(2000, 1, 1, tzinfo=timezone.utc)
ZIP_TIME = (1980, 1, 1, 0, 0, 0)
FONT = "Arial"


def fixed_zip(data: bytes, edit: dict[str, Callable[[str], str]] | None = None) -> bytes:
    """The same zip with every entry's time fixed, entries in their original order, and the
    entries named in ``edit`` rewritten (as UTF-8 text) by the function given for each."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, ZIP_TIME)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = 0o644 << 16
            body = src.read(info.filename)
            if edit and info.filename in edit:
                body = edit[info.filename](body.decode("utf-8")).encode("utf-8")
            dst.writestr(fixed, body)
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


W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


def _xml_text(text: str) -> str:
    """Text a Word document can hold: characters XML 1.0 forbids (control characters from the
    data, lone surrogates) become a space instead of stopping the whole run (issue 13)."""
    return _XML_ILLEGAL.sub(" ", text)


def _x(text: str) -> str:
    if not text.isprintable():
        text = _XML_ILLEGAL.sub(" ", text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


@lru_cache(maxsize=64)
def _props(size: float, bold: bool, colour: str) -> str:
    half = int(size * 2)
    props = f'<w:rFonts w:ascii="{FONT}" w:hAnsi="{FONT}" w:cs="{FONT}"/>'
    props += "<w:b/>" if bold else ""
    props += f'<w:color w:val="{colour.lstrip("#").upper()}"/>' if colour else ""
    return f'<w:r><w:rPr>{props}<w:sz w:val="{half}"/><w:szCs w:val="{half}"/></w:rPr><w:t xml:space="preserve">'


def _run(text: str, size: float = 8.0, bold: bool = False, colour: str = "") -> str:
    return _props(size, bold, colour) + _x(text) + "</w:t></w:r>"


BREAK = "<w:r><w:br/></w:r>"


def _cell_xml(runs: list[str], fill: str = "") -> str:
    shade = (
        f'<w:shd w:val="clear" w:color="auto" w:fill="{fill.lstrip("#").upper()}"/>' if fill else ""
    )
    return (
        f'<w:tc><w:tcPr>{shade}</w:tcPr><w:p><w:pPr><w:spacing w:before="0" w:after="0"/>'
        f"</w:pPr>{''.join(runs)}</w:p></w:tc>"
    )


def _text_runs(text: str, bold: bool = False) -> list[str]:
    runs: list[str] = []
    for i, line in enumerate(text.split("\n")):
        if i:
            runs.append(BREAK)
        runs.append(_run(line, 8.0 if i == 0 else 7.0, bold))
    return runs


def _category_xml(text: str, styles: dict[str, CategoryStyle]) -> str:
    lines = text.split("\n")
    single = len([ln for ln in lines if ln.strip()]) <= 2 and lines[0] in styles
    runs: list[str] = []
    fill = ""
    for i, line in enumerate(lines):
        if i:
            runs.append(BREAK)
        head, sep, tail = line.rpartition(": ")
        key, prefix = (tail, head + ": ") if sep and tail in styles else (line, "")
        style = styles.get(key)
        if style is None:
            runs.append(
                _run(line, 8.0 if i == 0 else 7.0, colour=styles[lines[0]].text if single else "")
            )
            continue
        if prefix:
            runs.append(_run(prefix))
        if single:
            fill = style.colour
            runs.append(_run(f"{style.mark}  {style.label}", bold=True, colour=style.text))
        else:  # several categories in one cell: the mark carries it, the colour as text colour
            ink = style.colour if style.colour != "#EEEEEE" else "#555555"
            runs.append(_run(f"{style.mark}  {style.label}", bold=True, colour=ink))
    return _cell_xml(runs, fill)


def _table_xml(t: Table, styles: dict[str, CategoryStyle], width_twips: int) -> str:
    n = len(t.header)
    col = max(width_twips // max(n, 1), 400)
    out = [
        '<w:tbl><w:tblPr><w:tblStyle w:val="TableGrid"/>'
        '<w:tblW w:w="5000" w:type="pct"/><w:jc w:val="center"/>'
        '<w:tblLook w:val="04A0" w:firstRow="1" w:lastRow="0" w:firstColumn="1" '
        'w:lastColumn="0" w:noHBand="0" w:noVBand="1"/></w:tblPr><w:tblGrid>'
        + f'<w:gridCol w:w="{col}"/>' * n
        + "</w:tblGrid>",
        "<w:tr><w:trPr><w:cantSplit/><w:tblHeader/></w:trPr>"
        + "".join(_cell_xml(_text_runs(h, bold=True), "#E6E6E6") for h in t.header)
        + "</w:tr>",
    ]
    cats = set(t.category_cols)
    for row in t.rows:
        cells = [
            _category_xml(v, styles) if i in cats else _cell_xml(_text_runs(v))
            for i, v in enumerate(row)
        ]
        out.append("<w:tr><w:trPr><w:cantSplit/></w:trPr>" + "".join(cells) + "</w:tr>")
    out.append("</w:tbl>")
    return "".join(out)


def _table(
    doc: Any, t: Table, styles: dict[str, CategoryStyle], width_twips: int, tables: list[str]
) -> None:
    """A caption, a placeholder paragraph for the table, and the note.

    The table itself is WordprocessingML built as text and put in place of the placeholder in the
    saved document.xml (``_place_tables``): python-docx's cell API, and even moving a parsed
    table into the document, take seconds at thousands of rows.
    """
    from docx.shared import Pt

    cap = doc.add_paragraph()
    if t.caption:
        run = cap.add_run(_xml_text(t.caption))
        run.bold = True
        run.font.name = FONT
    doc.add_paragraph(_token(len(tables)))
    tables.append(_table_xml(t, styles, width_twips))
    if t.note:
        note = doc.add_paragraph()
        run = note.add_run(_xml_text(t.note))
        run.font.size = Pt(8)
        run.font.name = FONT


def _token(k: int) -> str:
    return f"TRIANGULATE-TABLE-PLACEHOLDER-{k}"


def _place_tables(document_xml: str, tables: list[str]) -> str:
    for k, xml in enumerate(tables):
        at = document_xml.index(_token(k) + "<")
        start = max(document_xml.rfind("<w:p>", 0, at), document_xml.rfind("<w:p ", 0, at))
        end = document_xml.index("</w:p>", at) + len("</w:p>")
        document_xml = document_xml[:start] + xml + document_xml[end:]
    return document_xml


def render_docx(rep: Report) -> bytes:
    from docx import Document
    from docx.enum.section import WD_ORIENT, WD_SECTION
    from docx.shared import Pt

    doc = Document()
    tables: list[str] = []
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.font.size = Pt(10)
    props = doc.core_properties
    props.title = _xml_text(rep.title)[:255]  # Word refuses a longer core property (fuzzing)
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
            "Tables for a manuscript: the convergence coding matrix and the joint display (labels as "
            "in the report; ids in the CSV files). Category marks: "
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
        usable = (
            (section.page_width or 0) - (section.left_margin or 0) - (section.right_margin or 0)
        )
        _table(doc, t, rep.styles, int(usable / 635), tables)  # EMU to twips
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
    return fixed_zip(buf.getvalue(), {"word/document.xml": lambda x: _place_tables(x, tables)})
