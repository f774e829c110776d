"""convergence_matrix.xlsx as written by our SpreadsheetML writer (outputs/xlsxml.py): read back
with openpyxl (values, types, formats, widths, heights, print settings, properties), every XML part
parsed and in ECMA-376 element order, hostile text round-tripped, and opened by LibreOffice."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from defusedxml import ElementTree

from conftest import SAMPLE
from triangulate.outputs import xlsxml
from triangulate.outputs.palette import category_styles
from triangulate.outputs.tabular import SORTING_COLUMNS, sorting_rows
from triangulate.outputs.xlsx import FIXED_CREATED, render_xlsx

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
SHEETS = ["Matrix", "Joint display", "Coding", "Sorting", "Agreement", "Decisions", "Legend"]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    """The shipped sample's analysis and its workbook, rendered in process."""
    from triangulate.pipeline import analyse_path

    project = tmp_path_factory.mktemp("xlsx") / "mamas"
    shutil.copytree(SAMPLE, project, ignore=shutil.ignore_patterns("out"))
    analysis = analyse_path(project).analysis
    path = project / "convergence_matrix.xlsx"
    path.write_bytes(render_xlsx(analysis, False))
    return analysis, path


@pytest.fixture(scope="module")
def book(sample: tuple[Any, Path]) -> Any:
    from openpyxl import load_workbook

    wb = load_workbook(sample[1])
    yield wb
    wb.close()


def test_sheets_values_and_types(sample: tuple[Any, Path], book: Any) -> None:
    analysis = sample[0]
    assert book.sheetnames == SHEETS
    # Sorting: every row as the analysis gives it; counts are numbers, blanks are empty cells
    ws = book["Sorting"]
    assert [c.value for c in ws[1]] == list(SORTING_COLUMNS)
    want = list(sorting_rows(analysis))
    got = [[c.value for c in r] for r in ws.iter_rows(min_row=2)]
    assert len(got) == len(want) > 5
    for g, w in zip(got, want):
        assert g[7] == float(w[7]) and isinstance(g[7], (int, float))
        assert g[5] == (int(w[5]) if w[5] else None)
        assert g[6] == (int(w[6]) if w[6] else None)
        assert all(isinstance(v, str) for v in g[:3])
        for i in (3, 4, 8):
            assert (g[i] or "") == str(w[i] or "")  # text stays text ("" is a blank cell)
    # Agreement: values are numbers (never text), an undefined one is blank with its reason
    a = [[c.value for c in r] for r in book["Agreement"].iter_rows(min_row=2)]
    assert any(isinstance(r[2], float) for r in a)
    assert all(isinstance(r[3], int) for r in a)
    assert all(r[4] for r in a if r[2] is None)
    # strings are shared strings (t="s"), never formulas or inline strings
    with zipfile.ZipFile(sample[1]) as zf:
        for i in range(1, len(SHEETS) + 1):
            root = ElementTree.fromstring(zf.read(f"xl/worksheets/sheet{i}.xml"))
            for c in root.iter(f"{MAIN}c"):
                assert c.get("t") in (None, "s")
                assert c.find(f"{MAIN}f") is None


def test_cell_formats(sample: tuple[Any, Path], book: Any) -> None:
    analysis = sample[0]
    ws = book["Matrix"]
    head = ws["A1"]
    assert head.font.b and head.font.name == "Arial" and head.font.sz == 10
    assert head.fill.fill_type == "solid" and head.fill.fgColor.rgb == "FFE6E6E6"
    assert head.alignment.wrap_text and head.alignment.vertical == "top"
    for side in ("left", "right", "top", "bottom"):
        border = getattr(head.border, side)
        assert border.style == "thin" and border.color.rgb == "FF999999"
    plain = ws["A2"]  # a theme label in a wide column: wrapped, not bold, no fill
    assert not plain.font.b and plain.font.name == "Arial" and plain.fill.fill_type is None
    assert plain.alignment.wrap_text and plain.alignment.vertical == "top"
    narrow = ws["D2"]  # a 14-character dimension column: not wrapped
    assert not narrow.alignment.wrap_text and narrow.border.left.style == "thin"
    # each category's cell: bold, filled with its colour, in its text colour
    styles = category_styles(analysis.project.protocol)
    by_mark = {s.mark: s for s in styles.values()}
    last = ws.max_column
    for r in range(2, ws.max_row + 1):
        cell = ws.cell(row=r, column=last)
        s = by_mark[cell.value.split()[0]]
        assert cell.font.b and cell.fill.fill_type == "solid"
        assert cell.fill.fgColor.rgb == "FF" + s.colour.lstrip("#").upper()
        assert cell.font.color.rgb == "FF" + s.text.lstrip("#").upper()
    # numbers: the 0.#### format; a blank cell keeps its border
    agreement = book["Agreement"]
    num = next(r[2] for r in agreement.iter_rows(min_row=2) if isinstance(r[2].value, float))
    assert num.number_format == "0.####" and num.border.top.style == "thin"
    blank = next(r[4] for r in agreement.iter_rows(min_row=2) if r[4].value is None)
    assert blank.border.bottom.style == "thin" and blank.alignment.wrap_text


def test_widths_heights_and_frozen_header(sample: tuple[Any, Path], book: Any) -> None:
    from triangulate.outputs.xlsx import _row_height

    ws = book["Matrix"]
    # a width of w characters: w * 7 px + 5 px padding, in 1/256 of a 7 px character
    assert ws.column_dimensions["A"].width == pytest.approx(30.7109375)
    assert ws.column_dimensions["D"].width == pytest.approx(14.7109375)
    assert book["Legend"].column_dimensions["C"].width == pytest.approx(70.7109375)
    widths = [30.0] * 3 + [14.0] * 2 + [22.0]
    wrap = {i for i, w in enumerate(widths) if w >= 20}
    for r in range(2, ws.max_row + 1):
        row = [ws.cell(row=r, column=c).value for c in range(1, 7)]
        est = _row_height(row, widths, wrap)
        got = ws.row_dimensions[r].height
        if est is None:
            assert got is None
        else:  # whole pixels (3/4 pt), as a spreadsheet stores them
            assert got == int(est * 4 / 3 + 0.5) * 0.75 and got > 15
    assert ws.row_dimensions[1].height == 30  # "Substantive description" wraps to two lines
    for name in SHEETS:
        assert book[name].freeze_panes == "A2", name


def test_print_settings_and_autofilter(book: Any) -> None:
    for name in SHEETS:
        ws = book[name]
        last = ws.cell(row=1, column=ws.max_column).column_letter
        rows = ws.max_row
        assert ws.print_title_rows == "$1:$1", name
        assert ws.print_area.endswith(f"!$A$1:${last}${rows}"), name
        assert ws.auto_filter.ref == (f"A1:{last}{rows}" if rows > 1 else None), name
        assert ws.page_setup.orientation == "landscape"
        assert int(ws.page_setup.paperSize) == 9  # A4
        assert ws.page_setup.fitToHeight == 0 and ws.page_setup.fitToWidth in (None, 1)
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        m = ws.page_margins
        assert (m.left, m.right, m.top, m.bottom) == (0.4, 0.4, 0.5, 0.5)


def test_document_properties(sample: tuple[Any, Path], book: Any) -> None:
    p = book.properties
    assert p.title == f"Convergence matrix: {sample[0].project.file.title}"
    assert p.creator == "triangulate"
    assert p.description and "CSV" in p.description
    assert p.created == FIXED_CREATED == datetime(2000, 1, 1)


def test_filter_database_names_are_hidden(sample: tuple[Any, Path]) -> None:
    with zipfile.ZipFile(sample[1]) as zf:
        root = ElementTree.fromstring(zf.read("xl/workbook.xml"))
    names = root.findall(f"{MAIN}definedNames/{MAIN}definedName")
    filters = [n for n in names if n.get("name") == "_xlnm._FilterDatabase"]
    assert len(filters) == len(SHEETS)  # every sheet of the sample has rows (Decisions: one)
    assert all(n.get("hidden") == "1" for n in filters)
    assert {n.get("localSheetId") for n in names} == {str(i) for i in range(len(SHEETS))}
    joint = [n.text for n in names if n.get("localSheetId") == "1"]
    assert all(t and t.startswith("'Joint display'!") for t in joint)  # quoted: it has a space


# ECMA-376 Part 1 (CT_Worksheet, CT_Workbook, CT_Stylesheet, CT_CellXfs ...): the order of children
ORDER = {
    "worksheet": [
        "sheetPr",
        "dimension",
        "sheetViews",
        "sheetFormatPr",
        "cols",
        "sheetData",
        "autoFilter",
        "printOptions",
        "pageMargins",
        "pageSetup",
    ],
    "workbook": [
        "fileVersion",
        "workbookPr",
        "bookViews",
        "sheets",
        "definedNames",
        "calcPr",
    ],
    "styleSheet": [
        "numFmts",
        "fonts",
        "fills",
        "borders",
        "cellStyleXfs",
        "cellXfs",
        "cellStyles",
        "dxfs",
        "tableStyles",
    ],
    # CT_Font is a choice (any order); Excel writes b, sz, color, name, family: hold us to that
    "font": ["b", "i", "strike", "sz", "color", "u", "vertAlign", "name", "family", "scheme"],
    "border": ["left", "right", "top", "bottom", "diagonal"],
    "patternFill": ["fgColor", "bgColor"],
    "row": ["c"],
    "c": ["f", "v", "is"],
}


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def test_every_part_parses_and_follows_schema_order(sample: tuple[Any, Path]) -> None:
    with zipfile.ZipFile(sample[1]) as zf:
        names = zf.namelist()
        assert names[0] == "[Content_Types].xml"
        for required in (
            "_rels/.rels",
            "docProps/core.xml",
            "docProps/app.xml",
            "xl/workbook.xml",
            "xl/_rels/workbook.xml.rels",
            "xl/styles.xml",
            "xl/sharedStrings.xml",
        ):
            assert required in names
        assert [n for n in names if n.startswith("xl/worksheets/")] == [
            f"xl/worksheets/sheet{i}.xml" for i in range(1, len(SHEETS) + 1)
        ]
        for info in zf.infolist():
            assert info.date_time == (1980, 1, 1, 0, 0, 0)
            assert info.compress_type == zipfile.ZIP_DEFLATED
            assert info.create_system == 0  # not the writing system's: same bytes anywhere
        types = ElementTree.fromstring(zf.read("[Content_Types].xml"))
        overridden = {e.get("PartName") for e in types if local(e.tag) == "Override"}
        assert overridden == {"/" + n for n in names if not n.endswith(".rels")} - {
            "/[Content_Types].xml"
        }
        checked = 0
        for name in names:
            root = ElementTree.fromstring(zf.read(name))
            for el in root.iter():
                order = ORDER.get(local(el.tag))
                if order is None:
                    continue
                seen = [order.index(local(ch.tag)) for ch in el]
                assert seen == sorted(seen), (name, local(el.tag), [local(c.tag) for c in el])
                checked += 1
        assert checked > 100
        styles = ElementTree.fromstring(zf.read("xl/styles.xml"))
        fills = styles.find(f"{MAIN}fills")
        assert fills is not None
        patterns = [f.find(f"{MAIN}patternFill").get("patternType") for f in fills][:2]
        assert patterns == ["none", "gray125"]  # the two fills every workbook starts with
        for part in ("fonts", "fills", "borders", "cellStyleXfs", "cellXfs", "cellStyles"):
            el = styles.find(f"{MAIN}{part}")
            assert el is not None and int(el.get("count", "-1")) == len(el) >= 1, part


def one_sheet(rows: list[list[Any]], widths: list[float] | None = None) -> bytes:
    wb = xlsxml.Workbook(title="T", author="a", comments="c", created=FIXED_CREATED)
    fmt = wb.add_format(xlsxml.Format(font_name="Arial", wrap=True))
    ws = wb.add_sheet("Hostile & 'odd' <names>", widths or [20.0] * len(rows[0]))
    for row in rows:
        ws.add_row(row, [fmt] * len(row))
    ws.filter = True
    ws.print_titles = True
    return wb.save()


def read_back(data: bytes) -> list[list[Any]]:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data))
    try:
        return [[c.value for c in r] for r in wb.worksheets[0].iter_rows()]
    finally:
        wb.close()


HOSTILE = [
    "a & b < c > d \"quoted\" 'single'",
    "  leading and trailing spaces  ",
    "line one\nline two\n",
    "tab\there",
    "carriage\r\nreturn",
    "non-BMP: \U0001f600 \U0001d11e and CJK 漢字",
    "=SUM(A1:A2)",  # text, never a formula
    "_x0041_ is literal text, not an escape",
    "]]> and &amp; as text",
]


def test_hostile_text_round_trips() -> None:
    rows = [["header", "other"], *[[t, f"{t}!"] for t in HOSTILE]]
    data = one_sheet(rows)
    assert read_back(data) == rows
    # edge spaces are kept for every reader, not only a lenient one (xml:space="preserve")
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        sst = ElementTree.fromstring(zf.read("xl/sharedStrings.xml"))
    texts = list(sst.iter(f"{MAIN}t"))
    edged = [t for t in texts if t.text and (t.text[0].isspace() or t.text[-1].isspace())]
    assert len(edged) >= 3
    space = "{http://www.w3.org/XML/1998/namespace}space"
    assert all(t.get(space) == "preserve" for t in edged)
    assert int(sst.get("uniqueCount", "0")) == len(texts) and int(sst.get("count", "0")) == 20


def test_control_characters_and_lone_surrogates_become_spaces() -> None:
    got = read_back(one_sheet([["h"], ["a\x00b\x1fc\ufffed"], ["\x01lead"], ["x\ud800y"]]))
    assert got == [["h"], ["a b c d"], [" lead"], ["x y"]]


def test_numbers_and_blanks() -> None:
    values = [0, 7, -3, 0.1 + 0.2, 1e-20, 2**53, 12.5, True]
    got = read_back(one_sheet([["h"] * 8, values, [None, float("nan"), float("inf"), "", *"abcd"]]))
    assert got[1][:7] == values[:7] and got[1][7] == 1
    assert got[2][:3] == [None, None, None]  # non-finite numbers: blank, not a broken part
    assert got[2][3] in ("", None)


def test_excel_string_limit_cuts_at_32767_utf16_units() -> None:
    long = "x" * 40_000
    emoji = "y" * 32_766 + "\U0001f600" + "z"  # the pair would end at unit 32,768: cut before it
    got = read_back(one_sheet([["h", "i"], [long, emoji]]))
    assert got[1][0] == "x" * 32_767
    assert got[1][1] == "y" * 32_766
    assert xlsxml.clip_string("short") == "short"


def test_rows_past_excels_last_row_are_left_out(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xlsxml, "MAX_ROWS", 3)
    wb = xlsxml.Workbook(created=FIXED_CREATED)
    ws = wb.add_sheet("S", [10.0])
    assert [ws.add_row([str(i)], [0]) for i in range(5)] == [True, True, True, False, False]
    ws.filter = True
    data = wb.save()
    assert read_back(data) == [["0"], ["1"], ["2"]]
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert b'<autoFilter ref="A1:A3"/>' in zf.read("xl/worksheets/sheet1.xml")


def test_same_workbook_same_bytes() -> None:
    rows = [["h", "n"], ["a", 1], ["b", 2.5]]
    assert one_sheet(rows) == one_sheet(rows)


def test_sheet_names_are_quoted_and_escaped() -> None:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(one_sheet([["h"], ["v"]])))
    try:
        ws = wb.worksheets[0]
        assert ws.title == "Hostile & 'odd' <names>"
        assert ws.print_area == "'Hostile & ''odd'' <names>'!$A$1:$A$2"
        assert ws.print_title_rows == "$1:$1"
    finally:
        wb.close()


def test_column_letters() -> None:
    assert [xlsxml.column_letter(i) for i in (0, 25, 26, 51, 52, 701, 702, 16383)] == [
        "A",
        "Z",
        "AA",
        "AZ",
        "BA",
        "ZZ",
        "AAA",
        "XFD",
    ]


@pytest.mark.slow
def test_libreoffice_opens_the_workbook(sample: tuple[Any, Path], tmp_path: Path) -> None:
    office = shutil.which("soffice") or shutil.which("libreoffice")
    if office is None:
        pytest.skip("LibreOffice is not installed")
    from openpyxl import load_workbook

    proc = subprocess.run(
        [
            office,
            f"-env:UserInstallation=file://{tmp_path / 'profile'}",
            "--headless",
            "--convert-to",
            "csv:Text - txt - csv (StarCalc):44,34,76",
            "--outdir",
            str(tmp_path),
            str(sample[1]),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    )
    out = tmp_path / "convergence_matrix.csv"
    assert out.exists(), proc.stdout + proc.stderr
    with out.open(encoding="utf-8", newline="") as fh:
        got = list(csv.reader(fh))
    wb = load_workbook(sample[1])
    try:
        want = [
            ["" if v is None else str(v) for v in r]
            for r in wb["Matrix"].iter_rows(values_only=True)
        ]
    finally:
        wb.close()
    assert got == want  # the first sheet, every value as LibreOffice read it
