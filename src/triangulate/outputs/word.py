"""report.docx: the publication tables as a Word document (written by ``outputs/docxml.py``).

Title, the draft notice when there is one, the convergence coding matrix and the joint display as
Word tables (labels, not ids; header rows repeat on every page; rows never split across pages; each
wide table in a landscape section; category cells shaded in the category's colour with its mark),
the figure's legend in words, and the methods paragraph. The text content is deterministic, and so
are the bytes: fixed document properties and zip entry times.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING

from triangulate.outputs.docxml import DocxWriter
from triangulate.outputs.docxml import xml_text as _xml_text
from triangulate.outputs.model import Heading, Notice, Para, Report, Table

if TYPE_CHECKING:
    from triangulate.outputs.palette import CategoryStyle

FIXED_TIME = datetime(2000, 1, 1)  # the documents' created and modified time (UTC)
FONT = "Arial"


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


_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


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


def _table_xml(t: Table, styles: dict[str, CategoryStyle], width_twips: int) -> Iterator[str]:
    """The table as WordprocessingML, one piece a row, made as the document is written (at
    12,000 rows the joined text, its copy in the document and its UTF-8 encoding were 100 MB at
    once; the rows made all before writing, 26 MB at 2,000 themes)."""
    n = len(t.header)
    col = max(width_twips // max(n, 1), 400)
    yield from [
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
        yield "<w:tr><w:trPr><w:cantSplit/></w:trPr>" + "".join(cells) + "</w:tr>"
    yield "</w:tbl>"


def render_docx(rep: Report) -> bytes:
    doc = DocxWriter(font=FONT, size=10.0)
    doc.title = _xml_text(rep.title)[:255]  # Word refuses a longer core property (fuzzing)
    doc.author = "triangulate"
    doc.comments = "Publication tables written by triangulate"
    doc.created = FIXED_TIME
    doc.heading(rep.title, level=1)
    for b in rep.blocks:
        if isinstance(b, Notice):
            doc.paragraph(b.text, bold=True)
    doc.paragraph(
        "Tables for a manuscript: the convergence coding matrix and the joint display (labels as "
        "in the report; ids in the CSV files). Category marks: "
        + "; ".join(f"{s.mark} = {s.label}" for s in rep.styles.values())
        + "."
    )
    for kind in ("matrix", "joint"):
        t = _publication(rep, kind)
        if t is None:
            continue
        doc.new_section(landscape=len(t.header) > 4)  # wide: a landscape section
        doc.paragraph(t.caption, bold=True, font=FONT)
        doc.raw(_table_xml(t, rep.styles, doc.usable_width))
        if t.note:
            doc.paragraph(t.note, font=FONT, size=8.0)
    methods = _methods(rep)
    if methods:
        doc.new_section(landscape=False)
        doc.heading("Methods", level=2)
        for text in methods:
            doc.paragraph(text)
    return doc.save()
