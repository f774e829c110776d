"""The plain, common shape of a ``.xlsx`` worksheet, read straight from its XML (issue 14).

Excel, our own writer (outputs/xlsxml.py) and most exporters hold a sheet's cells as
``<c r="B7" t="s"><v>12</v></c>`` (a shared string) or ``<c r="B8"><v>3</v></c>`` (a number),
with the texts in one shared-strings part as ``<si><t>...</t></si>``. :func:`read_plain_sheet`
reads exactly that shape and gives the cells python-calamine gives (tests/test_xlsx_plain.py
compares the two on random workbooks), without a Python object per cell until the texts
themselves: the sheet's cell data with its digits taken out (its *skeleton*) is cut into rows,
each distinct row skeleton is parsed once, and numpy finds the runs of digits, checks that each
sits exactly where its row's skeleton has a place for one (a reference's row, a style, a value)
and reads them as numbers. Anything else makes it return None, and the calamine reader, then
openpyxl, read the workbook as before:

- a DTD, entity declaration, comment, CDATA section or processing instruction (``<!``, ``<?`` past
  the XML declaration) in any part it reads (defusedxml's rule: never parse a DTD);
- cells without an ``r`` reference, in another order than row by row and left to right, twice,
  with a formula, an inline string (openpyxl and pandas write those), a boolean, an error or a
  date (``t="d"``) (a cell with a style and no value, as Excel writes formatted blanks, is read
  as calamine reads it: as nothing); prefixed (``<x:c>``) or unknown elements; attributes in another
  order or with other quoting; any entity or character reference in the sheet's cell data;
- shared strings with rich text or phonetic runs, ``_xHHHH_`` escapes, raw carriage returns,
  control characters, entities other than the five XML ones and character references, or text
  calamine would trim (white space at the edges of a ``<t>`` without ``xml:space="preserve"``);
- a number that is not whole, not negative and of at most 15 digits, one written with a leading
  zero, or one in a cell whose style is not one of the built-in non-date number formats;
- a sheet chosen by another rule than calamine's (see :func:`_locate`), or larger than the
  caller's cell budget.

What it accepts is checked whole, not sampled: every byte of the sheet's cell data and of the
shared strings is accounted for (the row skeletons by strict patterns, the digits by their places,
the shared strings by counts of ``<`` and of bytes), so nothing it does not understand can hide
between the cells.
"""

from __future__ import annotations

import gc
import re
import zipfile
from operator import not_
from typing import Any

_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
_MAIN_NS = b'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
_DECL = re.compile(
    rb'<\?xml version="1\.0"(?: encoding="(?:UTF-8|utf-8)")?(?: standalone="(?:yes|no)")?\s*\?>\s*'
)
_SI = re.compile(r'<si><t(?: xml:space="preserve")?>([^<]*)</t></si>')
_ESCAPE = re.compile(rb"_x[0-9A-Fa-f]{4}_")
_CONTROL_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20)])
# a <t> without xml:space="preserve" whose text calamine would trim (after resolving references)
_TRIMMED = re.compile(r"<t>(?:\s|&#)|<t>[^<]*(?:\s|&#\w+;)</t>")
_REFERENCE = re.compile(r"&(?:(amp|lt|gt|quot|apos)|#([0-9]{1,7})|#x([0-9A-Fa-f]{1,6}));")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
# built-in number formats that are never a date or time (calamine reads their numbers as numbers)
_NUMBER_FORMATS = frozenset({0, 1, 2, 3, 4, 9, 10, 11, 12, 13, 37, 38, 39, 40, 48, 49})
MAX_SHAPES = 4096  # distinct row skeletons parsed one by one
MAX_ROW = 1_048_576
MAX_COLUMN = 16_384


class Plain:
    """A sheet as a grid: ``cells[i, j]`` is the text of row ``i + 1``, column ``j`` (numpy object
    array, "" where there is no cell); ``blank[i, j]`` whether it is empty or white space only."""

    __slots__ = ("blank", "cells")

    def __init__(self, cells: Any, blank: Any) -> None:
        self.cells = cells
        self.blank = blank


def _read(zf: zipfile.ZipFile, name: str) -> bytes | None:
    try:
        data = zf.read(name)
    except KeyError:
        return None
    return data


def _span(data: bytes, root: bytes) -> tuple[int, int] | None:
    """Where the content of the root element ``root`` of a part lies (start == stop when it is
    empty), or None when the part is anything but an optional UTF-8 XML declaration followed by
    that element, unprefixed. The content itself is not looked at: the caller accounts for every
    byte of it, or looks for ``<!`` and ``<?`` there (a DTD, comment, CDATA section or processing
    instruction)."""
    m = _DECL.match(data)
    start = m.end() if m else 0
    open_ = b"<" + root
    if not data.startswith(open_, start) or data[
        start + len(open_) : start + len(open_) + 1
    ] not in (
        b" ",
        b">",
        b"/",
    ):
        return None
    end = data.find(b">", start)
    if end < 0 or _MAIN_NS not in data[start:end]:
        return None  # another vocabulary (or strict OOXML): calamine's reading is not assumed
    if data[end - 1 : end] == b"/":
        return (end + 1, end + 1) if not data[end + 1 :].strip() else None
    close = b"</" + root + b">"
    stop = data.rfind(close)
    if stop <= end or data[stop + len(close) :].strip():
        return None
    return end + 1, stop


def _markup_free(data: bytes, start: int, stop: int) -> bool:
    """No DTD, entity declaration, comment, CDATA section or processing instruction in
    ``data[start:stop]``."""
    return data.find(b"<!", start, stop) < 0 and data.find(b"<?", start, stop) < 0


def _body(data: bytes, root: bytes, checked: bool = False) -> bytes | None:
    """The content of the root element ``root`` (see :func:`_span`); ``checked``: the caller
    accounts for every byte of it, else it must hold no ``<!`` or ``<?``."""
    span = _span(data, root)
    if span is None or not (checked or _markup_free(data, *span)):
        return None
    return data[span[0] : span[1]]


def _attrs(tag: str) -> dict[str, str]:
    return dict(re.findall(r'([\w:]+)="([^"]*)"', tag))


def _target(base: str, target: str) -> str | None:
    if target.startswith("/"):
        path = target[1:]
    else:
        path = base + target
    if ".." in path.split("/") or "./" in path or "&" in path:
        return None
    return path


def _locate(zf: zipfile.ZipFile, sheet: str | None) -> tuple[str, str | None, str | None] | None:
    """(sheet part, shared strings part or None, styles part or None) as calamine would find them,
    or None when that is not certain: the workbook must be ``xl/workbook.xml`` (the package says
    so), the sheet the first one in the workbook (or the one named ``sheet``) and a worksheet, and
    the shared strings and styles ``xl/sharedStrings.xml`` and ``xl/styles.xml`` when present."""
    names = set(zf.namelist())
    root = _read(zf, "_rels/.rels")
    wb = _read(zf, "xl/workbook.xml")
    rels = _read(zf, "xl/_rels/workbook.xml.rels")
    if root is None or wb is None or rels is None:
        return None
    if any(b"<!" in part for part in (root, wb, rels)):
        return None
    try:
        root_s, wb_s, rels_s = root.decode(), wb.decode(), rels.decode()
    except UnicodeDecodeError:
        return None
    main = [
        a
        for a in map(_attrs, re.findall(r"<Relationship\b([^>]*)>", root_s))
        if a.get("Type") == _REL + "officeDocument"
    ]
    if len(main) != 1 or main[0].get("Target") not in ("xl/workbook.xml", "/xl/workbook.xml"):
        return None
    by_id: dict[str, dict[str, str]] = {}
    for a in map(_attrs, re.findall(r"<Relationship\b([^>]*)>", rels_s)):
        if "Id" in a:
            by_id[a["Id"]] = a
    sheets = re.findall(r"<sheet\b([^>]*)>", wb_s)
    if not sheets or "<sheets" not in wb_s or re.search(r"<\w+:sheet\b", wb_s):
        return None
    chosen: dict[str, str] | None = None
    for tag in sheets:
        a = _attrs(tag)
        name = a.get("name")
        if name is None:
            return None
        if "&" in name:
            name = _resolve(name)
            if name is None:
                return None
        if sheet is None or name == sheet:
            chosen = a
            break
    if chosen is None:
        return None
    rel = by_id.get(chosen.get("r:id", ""))
    if rel is None or rel.get("Type") != _REL + "worksheet" or rel.get("TargetMode"):
        return None
    part = _target("xl/", rel.get("Target", ""))
    if part is None or part not in names:
        return None
    found: list[str | None] = []
    for kind, usual in (("sharedStrings", "xl/sharedStrings.xml"), ("styles", "xl/styles.xml")):
        targets = {
            _target("xl/", r.get("Target", ""))
            for r in by_id.values()
            if r.get("Type") == _REL + kind
        }
        if not targets:
            if usual in names:
                return None  # a part calamine may read by its usual name, not named here
            found.append(None)
        elif targets == {usual} and usual in names:
            found.append(usual)
        else:
            return None
    return part, found[0], found[1]


def _shared_strings(data: bytes) -> list[str] | None:
    body = _body(data, b"sst", checked=True)  # every "<" is in an <si> item, counted below
    if body is None:
        return None
    if (
        b"\r" in body
        or len(body.translate(None, _CONTROL_BYTES)) != len(body)
        or b"\xef\xbf\xbe" in body
        or b"\xef\xbf\xbf" in body
        or (b"_x" in body and _ESCAPE.search(body))
    ):
        return None  # a raw carriage return, a control character, an _xHHHH_ escape
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    del body
    items: list[str] = _SI.findall(text)
    n = len(items)
    preserved = text.count('<t xml:space="preserve">')
    if text.count("<") != 4 * n or len(text) != sum(map(len, items)) + 16 * n + 21 * preserved:
        return None  # something besides plain <si><t>text</t></si> items
    if _TRIMMED.search(text):
        return None
    if "&" in text:
        out = []
        for s in items:
            if "&" in s:
                resolved = _resolve(s)
                if resolved is None:
                    return None
                s = resolved
            out.append(s)
        items = out
    return items


def _resolve(s: str) -> str | None:
    """``s`` with its references resolved, or None when it holds anything else after an ``&``."""
    if s.count("&") != len(_REFERENCE.findall(s)):
        return None
    bad = False

    def one(m: re.Match[str]) -> str:
        nonlocal bad
        named, dec, hexa = m.groups()
        if named:
            return _NAMED[named]
        code = int(dec) if dec else int(hexa, 16)
        if not (
            code in (0x9, 0xA, 0xD)
            or 0x20 <= code <= 0xD7FF
            or 0xE000 <= code <= 0xFFFD
            or 0x10000 <= code <= 0x10FFFF
        ):
            bad = True
            return ""
        return chr(code)

    out = _REFERENCE.sub(one, s)
    return None if bad else out


def _number_styles(data: bytes | None) -> list[int] | None:
    """The number format of each cell style (``cellXfs``), or None when they cannot be read
    plainly or a built-in format is redefined."""
    if data is None:
        return None
    body = _body(data, b"styleSheet")
    if body is None:
        return None
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return None
    for code in re.findall(r'<numFmt\b[^>]*\bnumFmtId="([0-9]+)"', text):
        if int(code) in _NUMBER_FORMATS:
            return None
    m = re.search(r"<cellXfs\b[^>]*>(.*?)</cellXfs>", text, re.S)
    if m is None or text.count("<cellXfs") != 1:
        return None
    out = []
    for tag in re.findall(r"<xf\b([^>]*)>", m.group(1)):
        fmt = _attrs(tag).get("numFmtId", "0")
        out.append(int(fmt) if fmt.isdigit() else -1)
    return out


def read_plain_sheet(
    zf: zipfile.ZipFile, sheet: str | None, max_cells: int
) -> tuple[Plain | None, str | None, bytes | None]:
    """(the grid or None, the sheet's part name, its XML). The grid is None whenever the workbook
    is not in the plain shape (see the module docstring); the part and XML, when they were read,
    spare the caller reading them again."""
    where = _locate(zf, sheet)
    if where is None:
        return None, None, None
    part, sst_part, styles_part = where
    data = _read(zf, part)
    if data is None:
        return None, None, None
    enabled = gc.isenabled()
    gc.disable()  # millions of short-lived tuples: a collection pass would only walk them
    try:
        return _grid(zf, data, sst_part, styles_part, max_cells), part, data
    finally:
        if enabled:
            gc.enable()


def _grid(
    zf: zipfile.ZipFile,
    data: bytes,
    sst_part: str | None,
    styles_part: str | None,
    max_cells: int,
) -> Plain | None:
    """The sheet's cells, read from its skeleton (the cell data with its digits taken out) and the
    runs of digits: each distinct row skeleton is parsed once, and every run of digits must sit
    exactly where a row's skeleton has a place for one (a reference's row, a style, a value)."""
    import numpy as np

    span = _span(data, b"worksheet")
    if span is None:
        return None
    first = data.find(b"<sheetData", *span)
    if first < 0:
        return None
    if data.startswith(b"<sheetData/>", first):
        start = stop = after = first + len(b"<sheetData/>")
    elif data.startswith(b"<sheetData>", first):
        start = first + len(b"<sheetData>")
        stop = data.rfind(b"</sheetData>", first, span[1])
        if stop < 0:
            return None
        after = stop + len(b"</sheetData>")
    else:
        return None
    # the rest of the sheet (columns, merged cells, page setup...): no cells, no DTD or comment
    for a, b in ((span[0], first), (after, span[1])):
        if not _markup_free(data, a, b) or data.find(b"<sheetData", a, b) >= 0:
            return None
    if data.find(b"&", start, stop) >= 0:
        return None
    skeleton = data[start:stop].translate(None, b"0123456789")
    pieces = skeleton.split(b"</row>")  # each a row's start tag and cells (checked by _shape)
    if pieces[-1].strip():
        return None  # something after the last row
    del pieces[-1]
    if not pieces:
        return Plain(np.empty((0, 0), dtype=object), np.ones((0, 0), dtype=bool))
    distinct = set(pieces)
    if len(distinct) > MAX_SHAPES:
        return None  # rows of too many shapes to parse each once: calamine is quicker
    shapes: dict[bytes, int] = {}
    parsed: list[_Shape] = []
    for piece in distinct:
        shape = _shape(piece)
        if shape is None:
            return None
        shapes[piece] = len(parsed)
        parsed.append(shape)
    nrows = len(pieces)
    shape_of = np.fromiter(map(shapes.__getitem__, pieces), dtype=np.int64, count=nrows)
    # where each row's skeleton starts (each piece is followed by the 6 bytes of "</row>")
    lengths = np.fromiter(map(len, pieces), dtype=np.int64, count=nrows)
    del pieces, skeleton
    row_start = np.zeros(nrows, dtype=np.int64)
    np.cumsum(lengths[:-1] + 6, out=row_start[1:])
    slots_per_row = np.array([len(sh.offsets) for sh in parsed], dtype=np.int64)[shape_of]
    first_slot = np.zeros(nrows, dtype=np.int64)
    np.cumsum(slots_per_row[:-1], out=first_slot[1:])
    total = int(slots_per_row.sum())
    # the runs of digits in the cell data, and where each would sit in the skeleton
    arr = np.frombuffer(data, dtype=np.uint8, offset=start, count=stop - start)
    starts, ends = _runs(arr)
    if len(starts) != total:
        return None
    run_len = ends - starts
    before = np.cumsum(run_len, dtype=np.int32) - run_len  # digits before each run
    where = starts - before  # the run's place in the skeleton
    expected = np.empty(total, dtype=np.int32)
    kind = np.empty(total, dtype=np.uint8)
    column = np.empty(total, dtype=np.int32)
    by_shape = np.argsort(shape_of, kind="stable")  # the rows of each shape, in order
    bounds = np.cumsum(np.bincount(shape_of, minlength=len(parsed)))
    for k, sh in enumerate(parsed):
        rows_k = by_shape[(bounds[k - 1] if k else 0) : bounds[k]]
        if not len(rows_k) or not len(sh.offsets):
            continue
        at = (first_slot[rows_k][:, None] + np.arange(len(sh.offsets))).ravel()
        expected[at] = (row_start[rows_k][:, None] + sh.offsets).ravel()
        kind[at] = np.tile(sh.kinds, len(rows_k))
        column[at] = np.tile(sh.columns, len(rows_k))
    if not np.array_equal(where, expected):
        return None  # a digit outside a reference, style or value
    if int(run_len.max(initial=0)) > 15 or bool(np.any((arr[starts] == 48) & (run_len > 1))):
        return None  # a leading zero, or a number too long to be exact
    values = np.zeros(total, dtype=np.int64)
    for length in np.flatnonzero(np.bincount(run_len)).tolist():  # one length at a time
        runs = np.flatnonzero(run_len == length)
        at = starts[runs]
        number = arr[at].astype(np.int64)
        for i in range(1, length):
            number *= 10
            number += arr[at + i]
        number -= 48 * (10**length - 1) // 9  # each digit's "0"
        values[runs] = number
    del arr, starts, ends, before, where, expected
    is_ref = (kind == _REF) | (kind == _EMPTY)
    rows = values[is_ref]
    cols = column[is_ref].astype(np.int64)
    del column
    n = len(rows)
    if not n:
        return Plain(np.empty((0, 0), dtype=object), np.ones((0, 0), dtype=bool))
    if int(rows.min()) < 1:
        return None
    width = int(cols.max()) + 1
    height = int(rows.max())
    if width > MAX_COLUMN or height > MAX_ROW or height * width > max_cells:
        return None
    flat = (rows - 1) * width + cols
    if n > 1 and not bool(np.all(flat[1:] > flat[:-1])):
        return None  # out of order, or a cell given twice
    is_value = (kind == _STRING) | (kind == _NUMBER)  # (a row's own number is not used)
    cell_values = values[is_value]
    strings = kind[is_value] == _STRING
    has_value = None
    if len(cell_values) != n:  # cells without a value (styled blanks): calamine reads nothing
        has_value = kind[is_ref] == _REF
        flat = flat[has_value]
    grid = np.full(height * width, "", dtype=object)
    blank = np.ones(height * width, dtype=bool)
    if strings.any():
        if sst_part is None:
            return None
        texts = _shared_strings(zf.read(sst_part))
        if texts is None:
            return None
        ids = cell_values[strings]
        if int(ids.max()) >= len(texts):
            return None
        table = np.array(texts, dtype=object)
        empty = np.fromiter(map(not_, texts), dtype=bool, count=len(texts))
        space = np.fromiter(map(str.isspace, texts), dtype=bool, count=len(texts))
        at = flat[strings]
        grid[at] = table[ids]
        blank[at] = (empty | space)[ids]
    numbers = ~strings
    if numbers.any():
        styled = kind == _STYLE
        if styled.any():
            # the style of each cell that has one: its cell is the last reference before it
            owner = np.cumsum(is_ref)[styled] - 1
            style = np.zeros(n, dtype=np.int64)
            style[owner] = values[styled]
            if has_value is not None:
                style = style[has_value]
            used = np.unique(style[numbers])
            used = used[used != 0]
            if len(used):
                formats = _number_styles(_read(zf, styles_part) if styles_part else None)
                if formats is None or int(used.max()) >= len(formats):
                    return None
                if any(formats[int(u)] not in _NUMBER_FORMATS for u in used):
                    return None  # a date, a time or a custom format: calamine reads it its way
        at = flat[numbers]
        grid[at] = [str(v) for v in cell_values[numbers].tolist()]
        blank[at] = False
    return Plain(grid.reshape(height, width), blank.reshape(height, width))


_REF, _STYLE, _STRING, _NUMBER, _ROW, _EMPTY = 0, 1, 2, 3, 4, 5
# a row's start tag and cells with their digits taken out; numbers are whole and not negative
_SHAPE_ROW = re.compile(rb'\s*<row((?: [A-Za-z_][\w:.-]*="[^"<&>]*")*)>')
_SHAPE_ATTR = re.compile(rb' ([\w:.-]+)="([^"]*)"')
_SHAPE_CELL = re.compile(rb'<c r="([A-Z]{1,3})"( s="")?(?:(?: t="([sn])")?><v></v></c>|(/>))')
# the row attributes Excel and others write, with where the digits of their names go ("x14ac")
_ROW_ATTRS: dict[bytes, tuple[int, ...]] = {
    b"r": (),
    b"spans": (),
    b"ht": (),
    b"customHeight": (),
    b"hidden": (),
    b"s": (),
    b"customFormat": (),
    b"outlineLevel": (),
    b"collapsed": (),
    b"thickTop": (),
    b"thickBot": (),
    b"ph": (),
    b"xac:dyDescent": (1,),
}
# where the digits of an attribute's value go, by the value without them ("1:7" -> ":")
_ROW_VALUES: dict[bytes, tuple[int, ...]] = {
    b"": (0,),
    b".": (0, 1),
    b":": (0, 1),
    b"true": (),
    b"false": (),
}


class _Shape:
    """A distinct row skeleton: where its runs of digits go, what each is, in which column."""

    __slots__ = ("columns", "kinds", "offsets")

    def __init__(self, offsets: list[int], kinds: list[int], columns: list[int]) -> None:
        import numpy as np

        self.offsets = np.array(offsets, dtype=np.int64)
        self.kinds = np.array(kinds, dtype=np.uint8)
        self.columns = np.array(columns, dtype=np.int64)


def _runs(arr: Any) -> tuple[Any, Any]:
    """Where each run of ASCII digits in ``arr`` (uint8, under 2 GB) starts and ends (int32), found
    a few MB at a time (a mask of the whole sheet and its shifted comparison would be twice its
    size)."""
    import numpy as np

    bounds: list[Any] = []
    previous = False  # whether the byte before the block is a digit
    size = 1 << 22
    for at in range(0, len(arr), size):
        digit = (arr[at : at + size] - np.uint8(48)) < 10
        if digit[0] != previous:
            bounds.append(np.array([at], dtype=np.int32))
        bounds.append(np.flatnonzero(digit[1:] != digit[:-1]).astype(np.int32) + np.int32(at + 1))
        previous = bool(digit[-1])
    if previous:
        bounds.append(np.array([len(arr)], dtype=np.int32))
    edges = np.concatenate(bounds) if bounds else np.zeros(0, dtype=np.int32)
    return edges[0::2], edges[1::2]


def _shape(piece: bytes) -> _Shape | None:
    """A row skeleton's places for digits. Each must hold a run of digits in the sheet (else the
    sheet is refused), so a place is only ever put where digits are valid: in the row number and
    the other known row attributes (whose values are not used: calamine takes a cell's row from its
    own reference), a cell's reference, style and value."""
    offsets: list[int] = []
    kinds: list[int] = []
    columns: list[int] = []
    row = _SHAPE_ROW.match(piece)
    if row is None:
        return None
    names = [a.group(1) for a in _SHAPE_ATTR.finditer(row.group(1))]
    if b"r" not in names or len(set(names)) != len(names):
        return None
    for a in _SHAPE_ATTR.finditer(piece, row.start(1), row.end(1)):
        name_places = _ROW_ATTRS.get(a.group(1))
        value_places = _ROW_VALUES.get(a.group(2))
        if name_places is None or value_places is None:
            return None
        for at in name_places:
            offsets.append(a.start(1) + at)
        for at in value_places:
            offsets.append(a.start(2) + at)
        kinds += [_ROW] * (len(name_places) + len(value_places))
        columns += [0] * (len(name_places) + len(value_places))
    pos = row.end()
    for m in _SHAPE_CELL.finditer(piece, pos):
        if m.start() != pos:
            return None
        pos = m.end()
        letters = m.group(1)
        col = 0
        for ch in letters:
            col = col * 26 + ch - 64
        offsets.append(m.end(1))
        kinds.append(_EMPTY if m.group(4) else _REF)
        columns.append(col - 1)
        if m.group(2):
            offsets.append(m.end(2) - 1)
            kinds.append(_STYLE)
            columns.append(col - 1)
        if m.group(4):
            continue  # a cell without a value (a styled blank)
        offsets.append(m.end() - len(b"</v></c>"))
        kinds.append(_STRING if m.group(3) == b"s" else _NUMBER)
        columns.append(col - 1)
    if pos != len(piece):
        return None
    return _Shape(offsets, kinds, columns)
