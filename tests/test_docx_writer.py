"""report.docx as written by outputs/docxml.py, read back by independent readers: python-docx
(paragraphs, styles, runs, tables, sections, properties), defusedxml (every part well-formed, every
relationship pointing at a part that is there) and LibreOffice (it lays the document out: slow)."""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from defusedxml import ElementTree

from conftest import SAMPLE
from triangulate.outputs import docxml
from triangulate.outputs.model import Heading, Notice, Para, Report, Table
from triangulate.outputs.palette import CategoryStyle
from triangulate.outputs.report import build_report
from triangulate.outputs.word import render_docx

docx = pytest.importorskip("docx")
from docx.enum.section import WD_ORIENT  # noqa: E402
from docx.oxml.ns import qn  # noqa: E402
from docx.shared import Pt, Twips  # noqa: E402

W = f"{{{docxml.W_NS}}}"
PKG = "{http://schemas.openxmlformats.org/package/2006/relationships}"
CT = "{http://schemas.openxmlformats.org/package/2006/content-types}"
STYLES = {
    "full_agreement": CategoryStyle("full_agreement", "Full agreement", "#1F4E79", "#FFFFFF", "F"),
    "silence": CategoryStyle("silence", "Silence", "#EEEEEE", "#000000", "S"),
}


@pytest.fixture(scope="module")
def sample_docx(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    from triangulate.pipeline import analyse_path

    root = tmp_path_factory.mktemp("docx") / "sample"
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns("out"))
    result = analyse_path(root)
    assert result.analysis is not None
    return render_docx(build_report(result.analysis))


def _report(cell: str = "plain", title: str = "A title", wide: bool = True) -> Report:
    n = 6 if wide else 3
    header = [f"Column {i}" for i in range(n - 1)] + ["Category"]
    matrix = Table(
        header,
        [[cell] + ["x"] * (n - 2) + ["full_agreement"], ["y"] * (n - 1) + ["silence"]],
        category_cols=(n - 1,),
        caption="Matrix caption",
        note="Matrix note",
        kind="matrix",
    )
    joint = Table(["Theme", "Quote"], [["t", "q"]], caption="Joint caption", kind="joint")
    return Report(
        title=title,
        blocks=[
            Notice("DRAFT notice"),
            matrix,
            joint,
            Heading(2, "Methods", anchor="methods"),
            Para("First methods paragraph."),
            Para("Second methods paragraph."),
            Heading(2, "Next", anchor="next"),
            Para("not methods"),
        ],
        styles=STYLES,
    )


def _open(data: bytes) -> Any:
    return docx.Document(io.BytesIO(data))


def test_paragraphs_styles_bold_runs_and_tables_read_back() -> None:
    doc = _open(render_docx(_report()))
    paras = [(p.style.name, p.text) for p in doc.paragraphs]
    assert paras == [
        ("Heading 1", "A title"),
        ("Normal", "DRAFT notice"),
        ("Normal", paras[2][1]),
        ("Normal", "Matrix caption"),
        ("Normal", "Matrix note"),
        ("Normal", "Joint caption"),
        ("Normal", ""),  # ends the joint display's section (its table has no note after it)
        ("Heading 2", "Methods"),
        ("Normal", "First methods paragraph."),
        ("Normal", "Second methods paragraph."),
    ]
    assert paras[2][1].startswith("Tables for a manuscript") and "F = Full agreement" in paras[2][1]
    notice, caption, note = doc.paragraphs[1], doc.paragraphs[3], doc.paragraphs[4]
    assert [r.bold for r in notice.runs] == [True]
    assert [r.bold for r in caption.runs] == [True] and caption.runs[0].font.name == "Arial"
    assert note.runs[0].font.size == Pt(8) and not note.runs[0].bold
    assert not any(r.bold for r in doc.paragraphs[2].runs)  # the intro is plain
    assert doc.styles["Normal"].font.name == "Arial"
    assert doc.styles["Normal"].font.size == Pt(10)
    matrix, joint = doc.tables
    assert matrix.style.name == "Table Grid"
    assert [c.text for c in matrix.rows[0].cells][-1] == "Category"
    assert matrix.rows[1].cells[-1].text == "F  Full agreement"
    assert matrix.rows[2].cells[-1].text == "S  Silence"
    assert [[c.text for c in r.cells] for r in joint.rows] == [["Theme", "Quote"], ["t", "q"]]
    # every style id the document refers to is defined in styles.xml
    body = ElementTree.fromstring(
        zipfile.ZipFile(io.BytesIO(render_docx(_report()))).read("word/document.xml")
    )
    used = {
        el.get(f"{W}val")
        for tag in ("pStyle", "tblStyle", "rStyle")
        for el in body.iter(f"{W}{tag}")
    }
    defined = {s.style_id for s in doc.styles}
    assert used and used <= defined, used - defined


def test_sections_orientation_page_size_and_where_their_properties_live() -> None:
    data = render_docx(_report())
    doc = _open(data)
    got = [(s.orientation, s.page_width, s.page_height) for s in doc.sections]
    portrait = (WD_ORIENT.PORTRAIT, Twips(12240), Twips(15840))
    landscape = (WD_ORIENT.LANDSCAPE, Twips(15840), Twips(12240))
    # title and intro; the 6-column matrix (landscape); the 2-column joint display; methods
    assert got == [portrait, landscape, portrait, portrait]
    for s in doc.sections:
        assert (s.left_margin, s.right_margin) == (Twips(1800), Twips(1800))
        assert (s.top_margin, s.bottom_margin) == (Twips(1440), Twips(1440))
    body = ElementTree.fromstring(zipfile.ZipFile(io.BytesIO(data)).read("word/document.xml"))[0]
    children = list(body)
    assert children[-1].tag == f"{W}sectPr"  # the last section's properties end the body
    ends = [i for i, el in enumerate(children) if el.find(f"{W}pPr/{W}sectPr") is not None]
    assert len(ends) == 3
    texts = ["".join(t.text or "" for t in children[i].iter(f"{W}t")) for i in ends]
    # each in the last paragraph of its section: the intro, the matrix's note, and an empty
    # paragraph after the joint display (which has no note: its table ends the section)
    assert texts[0].startswith("Tables for a manuscript")
    assert texts[1] == "Matrix note"
    assert texts[2] == "" and children[ends[2] - 1].tag == f"{W}tbl"
    # the table width follows its section: text width / columns, in twips
    grids = [{int(c.get(f"{W}w")) for c in tbl.iter(f"{W}gridCol")} for tbl in body.iter(f"{W}tbl")]
    assert grids == [{(15840 - 3600) // 6}, {(12240 - 3600) // 2}]


def test_core_properties_and_bytes_are_fixed() -> None:
    data = render_docx(_report(title="T" * 300))
    assert data == render_docx(_report(title="T" * 300))
    props = _open(data).core_properties
    assert props.title == "T" * 255  # Word refuses a longer property
    assert (props.author, props.last_modified_by) == ("triangulate", "triangulate")
    assert props.comments == "Publication tables written by triangulate"
    # python-docx 1.1 gives a naive time, 1.2 an aware one: the XML says UTC either way
    assert props.created.replace(tzinfo=None) == props.modified.replace(tzinfo=None)
    assert props.created.replace(tzinfo=None) == datetime(2000, 1, 1)
    assert props.revision == 1
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert {i.date_time for i in zf.infolist()} == {(1980, 1, 1, 0, 0, 0)}
        core = zf.read("docProps/core.xml").decode("utf-8")
    assert core.count(">2000-01-01T00:00:00Z</dcterms:") == 2


def test_every_part_parses_is_typed_and_every_relationship_resolves() -> None:
    with zipfile.ZipFile(io.BytesIO(render_docx(_report()))) as zf:
        names = zf.namelist()
        assert names[0] == "[Content_Types].xml"
        parts = {n: ElementTree.fromstring(zf.read(n)) for n in names}
    types = parts["[Content_Types].xml"]
    overrides = {o.get("PartName") for o in types.iter(f"{CT}Override")}
    defaults = {d.get("Extension") for d in types.iter(f"{CT}Default")}
    for name in names[1:]:
        assert f"/{name}" in overrides or name.rsplit(".", 1)[-1] in defaults, name
    for rels, base in (("_rels/.rels", ""), ("word/_rels/document.xml.rels", "word/")):
        for rel in parts[rels].iter(f"{PKG}Relationship"):
            assert base + rel.get("Target") in names, rel.get("Target")
    assert "word/styles.xml" in names and "word/settings.xml" in names


HOSTILE = " lead & <b>\"quote\" 'apos'\x01\x0b\x1f\ufffe end \U0001f600 trail  "


def test_hostile_text_round_trips() -> None:
    long = "é" * 10_000
    rep = _report(cell=HOSTILE, title=HOSTILE)
    rep.blocks.insert(0, Notice(HOSTILE))
    table = rep.blocks[2]
    assert isinstance(table, Table)
    table.rows.append([long] * (len(table.header) - 1) + ["silence"])
    table.caption = "tab\there\nnew line\r\nand CR\rend"
    data = render_docx(rep)
    assert data == render_docx(rep)
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for name in zf.namelist():
            ElementTree.fromstring(zf.read(name))  # well-formed after all that
    doc = _open(data)
    clean = HOSTILE.replace("\x01", " ").replace("\x0b", " ").replace("\x1f", " ")
    clean = clean.replace("\ufffe", " ")
    assert doc.paragraphs[0].text == clean  # the title heading: spaces kept at both ends
    assert doc.core_properties.title == clean
    assert doc.paragraphs[1].text == clean  # the notice
    assert doc.paragraphs[1].runs[0].bold
    matrix = doc.tables[0]
    assert matrix.rows[1].cells[0].text == clean
    assert matrix.rows[3].cells[0].text == long
    caption = next(p for p in doc.paragraphs if p.text.startswith("tab"))
    assert caption.text == "tab\there\nnew line\nand CR\nend"  # w:tab and w:br, as Word reads


def test_writer_ends_a_section_after_a_table_with_an_empty_paragraph() -> None:
    w = docxml.DocxWriter()
    w.paragraph("one")
    w.new_section(landscape=True)
    assert w.usable_width == 15840 - 3600
    w.raw("<w:tbl><w:tblGrid/><w:tr><w:tc><w:p/></w:tc></w:tr></w:tbl>")
    w.new_section(landscape=False)
    assert w.usable_width == 12240 - 3600
    w.paragraph("")  # an empty paragraph has no run
    doc = _open(w.save())
    assert [s.orientation for s in doc.sections] == [
        WD_ORIENT.PORTRAIT,
        WD_ORIENT.LANDSCAPE,
        WD_ORIENT.PORTRAIT,
    ]
    body = doc.element.body
    first = body[0]
    assert first.tag == qn("w:p") and first.find(f"{W}pPr/{W}sectPr") is not None
    assert body[1].tag == qn("w:tbl") and body[2].find(f"{W}pPr/{W}sectPr") is not None
    assert body[3].find(f"{W}r") is None


def test_sample_document_has_the_publication_tables_in_landscape(sample_docx: bytes) -> None:
    doc = _open(sample_docx)
    assert doc.paragraphs[0].style.name == "Heading 1"
    assert [p.text for p in doc.paragraphs if p.style.name == "Heading 2"] == ["Methods"]
    assert [s.orientation for s in doc.sections] == [
        WD_ORIENT.PORTRAIT,
        WD_ORIENT.LANDSCAPE,
        WD_ORIENT.LANDSCAPE,
        WD_ORIENT.PORTRAIT,
    ]
    assert len(doc.tables) == 2 and doc.tables[0].rows[0].cells[0].text == "Theme"


def _pdf(data: bytes, tmp_path: Path) -> Path:
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is None:
        pytest.skip("LibreOffice is not installed")
    src = tmp_path / "report.docx"
    src.write_bytes(data)
    proc = subprocess.run(
        [
            office,
            f"-env:UserInstallation=file://{tmp_path / 'profile'}",
            "--headless",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(src),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    out = tmp_path / "report.pdf"
    assert out.exists(), proc.stdout + proc.stderr
    return out


@pytest.mark.slow
def test_libreoffice_lays_out_the_tables_and_the_landscape_pages(
    sample_docx: bytes, tmp_path: Path
) -> None:
    from pypdf import PdfReader

    reader = PdfReader(_pdf(sample_docx, tmp_path))
    pages = [(float(p.mediabox.width), float(p.mediabox.height)) for p in reader.pages]
    texts = [" ".join(p.extract_text().split()) for p in reader.pages]  # lines wrap anywhere
    assert pages[0] == (612.0, 792.0)  # Letter, portrait: the title page
    assert pages[-1] == (612.0, 792.0) and "Methods" in texts[-1]
    wide = [i for i, (w, h) in enumerate(pages) if w > h]
    assert wide and (792.0, 612.0) in pages
    matrix = next(i for i, t in enumerate(texts) if "Convergence coding matrix" in t)
    assert matrix in wide  # the matrix's page is the landscape one
    assert "Care Coordinators embody" in texts[matrix]
    assert "Full agreement" in texts[matrix]
    assert any("Joint display" in texts[i] for i in wide)


def test_writing_the_document_imports_neither_python_docx_nor_lxml() -> None:
    code = (
        "import sys\n"
        "from triangulate.outputs.model import Report, Table\n"
        "from triangulate.outputs.word import render_docx\n"
        "t = Table(['a'] * 5, [['x'] * 5], kind='matrix')\n"
        "assert render_docx(Report(title='t', blocks=[t]))[:2] == b'PK'\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('docx', 'lxml')))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"
