"""The plain-XML .xlsx reader (sources/sheetxml.py) gives exactly what the calamine path gives, on
everything it accepts, and leaves everything else to it (issue 14).

Workbooks are written in the test by openpyxl, by our own writer (outputs/xlsxml.py) and by hand
(the odd shapes: prefixes, formulas, inline strings, escapes, comments, a DTD...). Each is read
twice, with the plain reader allowed and not (``TRIANGULATE_XLSX_PLAIN=0``), and the tables, row
numbers and findings must be the same.
"""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from triangulate.outputs.xlsxml import Format, Workbook
from triangulate.sources.sheetxml import read_plain_sheet
from triangulate.sources.tables import MAX_XLSX_CELLS, read_table


def _read(path: Path, monkeypatch: pytest.MonkeyPatch, plain: bool, rows: bool) -> Any:
    monkeypatch.setenv("TRIANGULATE_XLSX_PLAIN", "1" if plain else "0")
    table, findings = read_table(path, "w.xlsx", rows=rows)
    if table is not None:
        cells = table.rows if rows else [list(r) for r in zip(*(table.by_column or []))]
        table = (table.columns, cells, table.row_numbers)
    return table, [(f.code, f.severity, f.location, f.message) for f in findings]


def accepted(path: Path) -> bool:
    with zipfile.ZipFile(path) as zf:
        return read_plain_sheet(zf, None, MAX_XLSX_CELLS)[0] is not None


def same(path: Path, monkeypatch: pytest.MonkeyPatch) -> bool:
    """Both readers agree (by rows and column by column); whether the plain one took the file."""
    for rows in (True, False):
        assert _read(path, monkeypatch, True, rows) == _read(path, monkeypatch, False, rows)
    return accepted(path)


TEXT = st.lists(
    st.sampled_from(
        list("ab Zé€😀&<>\"';,\n\t_x0D9\u00a0\u2028\r\x01")
        + ["_x000D_", "_x005F_", "&amp;", "&#13;", "\r\n", "]]>", "code-1", "P01"]
    ),
    max_size=6,
).map("".join)
NUMBER = st.one_of(
    st.integers(min_value=0, max_value=10**15),
    st.integers(min_value=-1000, max_value=-1),
    st.floats(allow_nan=False, allow_infinity=False, min_value=-1e6, max_value=1e6),
    st.sampled_from([0, 7, 10**16, 2**53, 2**53 + 1]),
)
VALUE = st.one_of(st.none(), TEXT, NUMBER, st.booleans(), st.dates(dt.date(1990, 1, 1)))
FORMATS = st.sampled_from([None, "General", "0", "0.00", "@", "yyyy-mm-dd", "h:mm", "0%", "#,##0"])


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    grid=st.lists(st.lists(VALUE, max_size=6), min_size=0, max_size=8),
    top=st.integers(0, 2),
    left=st.integers(0, 2),
    formats=st.lists(FORMATS, min_size=6, max_size=6),
    bold=st.booleans(),
)
def test_openpyxl_workbooks_read_as_calamine_reads_them(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    grid: list[list[Any]],
    top: int,
    left: int,
    formats: list[str | None],
    bold: bool,
) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    for r, values in enumerate(grid, start=1 + top):
        for c, v in enumerate(values, start=1 + left):
            if isinstance(v, str):
                v = openpyxl.cell.cell.ILLEGAL_CHARACTERS_RE.sub("", v)
            cell = ws.cell(row=r, column=c, value=v)
            fmt = formats[c - 1 - left]
            if fmt is not None and not isinstance(v, (dt.date, dt.datetime)):
                cell.number_format = fmt
            if bold and r == 1 + top:
                cell.font = openpyxl.styles.Font(bold=True)
    path = tmp_path / "w.xlsx"
    wb.save(path)
    same(path, monkeypatch)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    grid=st.lists(st.lists(st.one_of(st.none(), TEXT, NUMBER), min_size=1, max_size=5), max_size=8),
    formats=st.lists(st.sampled_from([None, "0.0", "yyyy-mm-dd", "@"]), min_size=5, max_size=5),
)
def test_our_own_workbooks_read_as_calamine_reads_them(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    grid: list[list[Any]],
    formats: list[str | None],
) -> None:
    book = Workbook(created=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))
    styles = [book.add_format(Format(num_format=f, bold=f is None)) if f else 0 for f in formats]
    sheet = book.add_sheet("codings", [10.0] * 5)
    for values in grid:
        sheet.add_row(values, styles[: len(values)])
    path = tmp_path / "w.xlsx"
    path.write_bytes(book.save())
    same(path, monkeypatch)


# ---------------------------------------------------------------------------- by hand

_PARTS = {
    "[Content_Types].xml": '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
    "_rels/.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
    "xl/workbook.xml": '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="codings" sheetId="1" r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels": '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/></Relationships>',
}
_SHEET = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>{}</sheetData></worksheet>'
_SST = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">{}</sst>'
_HEADER = '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
_STRINGS = ["<si><t>code</t></si>", "<si><t>text</t></si>", "<si><t>x</t></si>"]


def _book(
    path: Path, rows: str, strings: list[str] | None = None, sheet: str = _SHEET, sst: str = _SST
) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in _PARTS.items():
            zf.writestr(name, text)
        zf.writestr("xl/worksheets/sheet1.xml", sheet.format(_HEADER + rows))
        zf.writestr("xl/sharedStrings.xml", sst.format("".join(strings or _STRINGS)))
    return path


PLAIN_CASES = [
    '<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2"><v>42</v></c></row>',
    '<row r="2" spans="1:2" x14ac:dyDescent="0.25"><c r="A2" s="3" t="s"><v>2</v></c></row>',
    '<row r="5"><c r="B5" t="s"><v>2</v></c></row>\n<row r="9"><c r="A9" t="n"><v>7</v></c></row>',
    '<row r="2"></row><row r="3"><c r="C3" t="s"><v>2</v></c></row>',  # ragged row
    '<row r="2"><c r="A3" t="s"><v>2</v></c></row>',  # the cell's own row wins, as in calamine
    '<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2" s="4"/><c r="C2"/></row>',  # styled blanks
    '<row r="2"><c r="A2" s="1"/><c r="B2" s="1"/></row><row r="3"><c r="B3"><v>5</v></c></row>',
    '<row r="2" spans="1:2" ht="15" customHeight="1" hidden="true"><c r="A2" t="s"><v>2</v></c></row>',
    "",
]


@pytest.mark.parametrize("rows", PLAIN_CASES)
def test_plain_shapes_are_read_plainly_and_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rows: str
) -> None:
    path = _book(tmp_path / "w.xlsx", rows)
    assert same(path, monkeypatch)


@pytest.mark.parametrize(
    "rows",
    [
        '<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2"><v>4.5</v></c></row>',  # not whole
        '<row r="2"><c r="A2"><v>-4</v></c></row>',
        '<row r="2"><c r="A2"><v>007</v></c></row>',  # a leading zero
        '<row r="2"><c r="A2" t="s"><v>02</v></c></row>',
        '<row r="2"><c r="A2"><v>12345678901234567890</v></c></row>',
        '<row r="2"><c r="A2" t="str"><f>1+1</f><v>2</v></c></row>',  # a formula
        '<row r="2"><c r="A2" t="inlineStr"><is><t>x</t></is></c></row>',
        '<row r="2"><c r="A2" t="b"><v>1</v></c></row>',
        '<row r="2"><c r="A2" t="e"><v>#N/A</v></c></row>',
        '<row r="2"><c t="s"><v>2</v></c></row>',  # no reference
        '<row r="2"><c r="B2" t="s"><v>2</v></c><c r="A2" t="s"><v>2</v></c></row>',  # order
        '<row r="2"><c r="A2" t="s"><v>2</v></c><c r="A2" t="s"><v>1</v></c></row>',  # twice
        '<row r="2"><c r="A2" t="s"><v>9</v></c></row>',  # no such shared string
        '<row r="2"><c r="A2" t="s"><v>2</v></c></row><!-- note -->',
        '<row r="2"><c r="A2" t="s" s="1"><v>2</v></c></row>',  # attributes in another order
        "<row r='2'><c r='A2' t='s'><v>2</v></c></row>",
        '<row r="2"><c r="A2" t="s"><v>2</v></c><row r="3"></row></row>',
        '<row r="2"><c r="A2" t="s"><v>2</v></c>',
        '<row r="2"><c r="A2" t="s"><v>2</v></c></row><c r="A4" t="s"><v>2</v></c>',
        '<row r="2"><c r="A2" t="s"><v>2</v></c></row>junk3',
        '<row r="2"><c r="A2" t="s"><v> 2</v></c></row>',
        '<row r="2"><c r="A2" s="1"><v>2</v></c></row>',  # a styled number, no styles part
        '<row r="2"><c r="A2" t="s"><v>&#50;</v></c></row>',
        '<row r="2"><x:c r="A2" t="s"><v>2</v></x:c></row>',
        '<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2" s="4" t="s"/></row>',
        '<row r="2"><c r="A2" t="s"><v>2</v></c><c r="B2" s="4"></c></row>',
        '<row r="2" foo="1"><c r="A2" t="s"><v>2</v></c></row>',  # an unknown row attribute
        '<row r="2" ht=""><c r="A2" t="s"><v>2</v></c></row>',
        '<row r="2" r="3"><c r="A2" t="s"><v>2</v></c></row>',
        '<row r="2" spans="1:2" spans="1:2"><c r="A2" t="s"><v>2</v></c></row>',
        '<row r="2" 1x="2"><c r="A2" t="s"><v>2</v></c></row>',
        '<row r="2" ht="1.5.5"><c r="A2" t="s"><v>2</v></c></row>',
        '<row r="2"3><c r="A2" t="s"><v>2</v></c></row>',
        '3<row r="2"><c r="A2" t="s"><v>2</v></c></row>',
        '<row1 r="2"><c r="A2" t="s"><v>2</v></c></row>',
        '<row r="2"><c r="A2" t="s"><v>2</v></c>4</row>',
        '<row r="2"><c r="A2" t="s"><v>2</v></c></row>5',
    ],
)
def test_odd_shapes_are_left_to_calamine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, rows: str
) -> None:
    path = _book(tmp_path / "w.xlsx", rows)
    assert not same(path, monkeypatch)


@pytest.mark.parametrize(
    "item",
    [
        "<si><t>  x  </t></si>",  # calamine trims a <t> without xml:space="preserve"
        "<si><t>x&#10;</t></si>",
        "<si><t>&#32;x</t></si>",
        "<si><t>x\ry</t></si>",  # a raw carriage return (calamine reads it as a line feed)
        "<si><t>x_x000D_y</t></si>",
        "<si><t>x&nbsp;y</t></si>",
        "<si><t>x&#1;y</t></si>",
        "<si><t>x&#xD800;y</t></si>",
        "<si><r><t>rich</t></r></si>",
        "<si><t>x</t><rPh sb='0' eb='1'><t>phonetic</t></rPh></si>",
        "<si><t/></si>",
        '<si><t xml:space="default">x</t></si>',
        "<si><![CDATA[x]]></si>",
    ],
)
def test_odd_shared_strings_are_left_to_calamine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, item: str
) -> None:
    strings = [*_STRINGS[:2], item]
    path = _book(tmp_path / "w.xlsx", '<row r="2"><c r="A2" t="s"><v>2</v></c></row>', strings)
    assert not same(path, monkeypatch)


@pytest.mark.parametrize(
    "item",
    [
        '<si><t xml:space="preserve">  x  </t></si>',
        "<si><t>x &amp; &lt;y&gt; &quot;z&quot; &apos;</t></si>",
        "<si><t>a&#13;b&#x1F600;c&#10;d</t></si>",
        "<si><t>é 😀 x\ny\tz</t></si>",
        "<si><t></t></si>",
        '<si><t xml:space="preserve"> </t></si>',
    ],
)
def test_plain_shared_strings_are_read_plainly_and_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, item: str
) -> None:
    strings = [*_STRINGS[:2], item]
    path = _book(tmp_path / "w.xlsx", '<row r="2"><c r="A2" t="s"><v>2</v></c></row>', strings)
    assert same(path, monkeypatch)


def test_a_dtd_is_never_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """defusedxml's rule: a part with a DTD (entity declarations) goes to the other readers."""
    dtd = '<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY e "x">]>'
    sheet = _SHEET.replace('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n', dtd)
    path = _book(tmp_path / "w.xlsx", '<row r="2"><c r="A2" t="s"><v>2</v></c></row>', sheet=sheet)
    assert not accepted(path)
    sst = _SST.replace('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n', dtd)
    path = _book(tmp_path / "v.xlsx", '<row r="2"><c r="A2" t="s"><v>2</v></c></row>', sst=sst)
    assert not accepted(path)
    assert accepted(_book(tmp_path / "u.xlsx", '<row r="2"><c r="A2" t="s"><v>2</v></c></row>'))


def test_a_sparse_sheet_over_the_cell_budget_is_left_to_the_others(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import triangulate.sources.tables

    monkeypatch.setattr(triangulate.sources.tables, "MAX_XLSX_CELLS", 1000)
    path = _book(tmp_path / "w.xlsx", '<row r="900"><c r="Z900" t="s"><v>2</v></c></row>')
    with zipfile.ZipFile(path) as zf:
        assert read_plain_sheet(zf, None, 1000)[0] is None
    same(path, monkeypatch)


def test_a_named_sheet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    book = Workbook(created=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc))
    book.add_sheet("first", [10.0]).add_row(["other"], [0])
    second = book.add_sheet("Codings & <more>", [10.0, 10.0])
    second.add_row(["code", "respondents"], [0, 0])
    second.add_row(["a", 3], [0, 0])
    path = tmp_path / "w.xlsx"
    path.write_bytes(book.save())
    with zipfile.ZipFile(path) as zf:
        assert read_plain_sheet(zf, "Codings & <more>", MAX_XLSX_CELLS)[0] is not None
        assert read_plain_sheet(zf, "Nope", MAX_XLSX_CELLS)[0] is None
    for plain in (True, False):
        monkeypatch.setenv("TRIANGULATE_XLSX_PLAIN", "1" if plain else "0")
        table, _ = read_table(path, "w.xlsx", "Codings & <more>")
        assert table is not None and table.rows == [["a", "3"]] and table.row_numbers == [2]


# Random workbooks in the plain shape, written by hand: always read plainly, always the same.

SAFE_TEXT = st.lists(
    st.sampled_from(list("ab Zé€😀&<>\"';,\n\t_x0D9\u00a0\u2028") + ["code-1", "P01", "x_y"]),
    max_size=6,
).map("".join)


@st.composite
def _escaped(draw: st.DrawFn, text: str) -> str:
    out = []
    for ch in text:
        if ch == "&":
            out.append("&amp;")
        elif ch == "<":
            out.append("&lt;")
        elif ch == ">":
            out.append(draw(st.sampled_from([">", "&gt;"])))
        elif ch == '"':
            out.append(draw(st.sampled_from(['"', "&quot;"])))
        elif ch == "'":
            out.append(draw(st.sampled_from(["'", "&apos;"])))
        elif ch not in " \t\n" and draw(st.integers(0, 9)) == 0:
            out.append(draw(st.sampled_from([f"&#{ord(ch)};", f"&#x{ord(ch):X};"])))
        else:
            out.append(ch)
    return "".join(out)


@st.composite
def plain_books(draw: st.DrawFn) -> tuple[list[str], str]:
    texts = draw(st.lists(SAFE_TEXT, min_size=1, max_size=8))
    items = []
    for t in texts:
        body = draw(_escaped(t))
        # calamine trims a <t> without xml:space="preserve", after resolving references
        edge = t[:1].isspace() or t[-1:].isspace() or body.startswith("&#") or body.endswith(";")
        if edge or draw(st.booleans()):
            items.append(f'<si><t xml:space="preserve">{body}</t></si>')
        else:
            items.append(f"<si><t>{body}</t></si>")
    rows = []
    for r in range(1, draw(st.integers(1, 8)) + 1):
        if draw(st.integers(0, 5)) == 0:
            continue  # no row element
        cells = []
        for c in "ABCDEF"[: draw(st.integers(0, 6))]:
            kind = draw(st.sampled_from(["none", "s", "s", "s", "n", "blank"]))
            style = draw(st.sampled_from(["", ' s="0"', ' s="3"']))
            if kind == "s":
                i = draw(st.integers(0, len(texts) - 1))
                cells.append(f'<c r="{c}{r}"{style} t="s"><v>{i}</v></c>')
            elif kind == "blank":
                cells.append(f'<c r="{c}{r}"{style}/>')
            elif kind == "n":
                v = draw(st.integers(0, 10**15 - 1))
                t = draw(st.sampled_from(["", ' t="n"']))
                zero = ' s="0"' if style else ""
                cells.append(f'<c r="{c}{r}"{zero}{t}><v>{v}</v></c>')
        spans = draw(st.sampled_from(["", ' spans="1:6"', ' spans="1:6" x14ac:dyDescent="0.25"']))
        rows.append(f'<row r="{r}"{spans}>{"".join(cells)}</row>')
    return items, "".join(rows)


@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(book=plain_books())
def test_plain_workbooks_are_read_plainly_and_as_calamine_reads_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, book: tuple[list[str], str]
) -> None:
    items, rows = book
    sheet = _SHEET.format(rows)
    path = tmp_path / "w.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, text in _PARTS.items():
            zf.writestr(name, text)
        zf.writestr("xl/worksheets/sheet1.xml", sheet)
        zf.writestr("xl/sharedStrings.xml", _SST.format("".join(items)))
    assert same(path, monkeypatch)


@pytest.mark.parametrize(
    ("fmt", "plain"),
    [("General", True), ("0.00", True), ("@", True), ("0%", True), ("yyyy-mm-dd", False)],
)
def test_styled_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str, plain: bool
) -> None:
    """A whole number styled with a built-in non-date format is read plainly; a date format (a
    custom one here) is left to calamine, which reads the number as a date."""
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append([1, 2])  # openpyxl writes text as inline strings: a sheet of numbers only
    ws.append([45000, 3])
    ws.cell(row=2, column=1).number_format = fmt
    path = tmp_path / "w.xlsx"
    wb.save(path)
    assert same(path, monkeypatch) is plain


def test_another_vocabulary_is_left_to_calamine(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    strict = _SHEET.replace(
        "http://schemas.openxmlformats.org/spreadsheetml/2006/main",
        "http://purl.oclc.org/ooxml/spreadsheetml/main",
    )
    path = _book(tmp_path / "w.xlsx", '<row r="2"><c r="A2" t="s"><v>2</v></c></row>', sheet=strict)
    assert not same(path, monkeypatch)


def test_a_panic_inside_calamine_leaves_the_workbook_to_openpyxl(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """python-calamine 0.4 (the lowest release allowed) panics on a shared-string index past the
    table; pyo3 raises that as a PanicException, which is not an Exception. The workbook is then
    read by openpyxl, as any other workbook calamine fails on, instead of ending the command."""
    import python_calamine

    class PanicException(BaseException):  # pyo3_runtime.PanicException's shape
        pass

    def panic(*args: Any, **kwargs: Any) -> Any:
        raise PanicException("index out of bounds: the len is 2 but the index is 2")

    path = _book(tmp_path / "w.xlsx", '<row r="2"><c r="A2" t="s"><v>2</v></c></row>')
    expected = _read(path, monkeypatch, False, True)
    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_filelike", panic)
    monkeypatch.setenv("TRIANGULATE_XLSX_PLAIN", "0")
    table, findings = read_table(path, "w.xlsx")
    assert table is not None and (table.columns, table.rows, table.row_numbers) == expected[0]
    assert [(f.code, f.severity, f.location, f.message) for f in findings] == expected[1]

    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(python_calamine.CalamineWorkbook, "from_filelike", interrupted)
    with pytest.raises(KeyboardInterrupt):
        read_table(path, "w.xlsx")
