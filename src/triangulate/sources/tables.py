"""Reading tables (.csv, .tsv, .xlsx, .jsonl) into rows of text cells, with findings for bad input.

Row numbers are as a spreadsheet shows them: the header is row 1, the first data row is row 2, and
each record (blank ones too) is one row, however many lines its cells span. For a CSV/TSV record
that does not start on the line of the same number (a cell above it spans lines), its findings
also carry ``line``: the physical line where the record starts, which is where a text editor and
GitHub annotations point. JSONL rows are numbered by line.

Text files are decoded per file (spec v2 section 4): UTF-16 when they start with a UTF-16
byte-order mark; UTF-8 (with or without a BOM) when the whole file is valid UTF-8; otherwise the
bytes that are not UTF-8 are read as Windows-1252 (as Excel writes 'CSV'), with a warning naming
the first such line, while every valid UTF-8 character stays as it is (one Latin-1 row does not
turn the rest of a UTF-8 file into mojibake). A ``.csv`` file's delimiter is ``,``, ``;`` or tab,
whichever the header row holds most of (ties: comma first); anything but plain comma-separated
UTF-8 is named in a ``data.dialect`` note.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import math
import os
import threading
import zipfile
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from operator import not_
from pathlib import Path
from typing import Any

from triangulate.findings import Finding, Location, error, info, warning
from triangulate.inputs import LIMITS, open_input, scrub_json_line

MAX_CELL = 10 * 1024 * 1024  # characters in one CSV cell
MAX_XLSX_UNCOMPRESSED = 512 * 1024 * 1024  # bytes, all members of a workbook together
MAX_XLSX_MEMBERS = 10_000
MAX_XLSX_CELLS = 20_000_000  # cells visited in one sheet, counting the gaps a sparse sheet pads


@dataclass
class Table:
    file: str  # as shown to the user
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)  # each the same length as ``columns``
    row_numbers: list[int] = field(default_factory=list)  # spreadsheet rows (header = 1)
    line_based: bool = False  # JSONL: locations are lines, not spreadsheet rows
    # CSV/TSV: the physical line where each row's record starts, kept only when some record
    # starts on a line other than its row number (a cell above it spans lines).
    lines: list[int] | None = None
    encoding: str | None = None  # as read: "utf-8", "utf-8-sig", "utf-16", "cp1252"; None: .xlsx
    delimiter: str | None = None  # as read: ",", ";" or "\t"; None for .xlsx and .jsonl
    by_column: list[Sequence[str]] | None = None  # the same cells column by column, when read so

    def index(self, name: str) -> int | None:
        try:
            return self.columns.index(name)
        except ValueError:
            return None

    def column(self, name: str) -> list[str] | None:
        i = self.index(name)
        if i is None:
            return None
        return [r[i] for r in self.rows]

    def loc(self, i: int, column: str | None = None) -> Location:
        if self.line_based:
            return Location(self.file, line=self.row_numbers[i], field=column)
        row = self.row_numbers[i]
        line = self.lines[i] if self.lines is not None else None
        return Location(self.file, row=row, field=column, line=None if line == row else line)

    def line_of(self, row: int) -> int | None:
        """The physical line where spreadsheet row ``row`` starts, when it differs from ``row``."""
        if self.lines is None:
            return None
        import bisect

        i = bisect.bisect_left(self.row_numbers, row)
        if i < len(self.row_numbers) and self.row_numbers[i] == row and self.lines[i] != row:
            return self.lines[i]
        return None


def consecutive(numbers: Sequence[int]) -> Sequence[int]:
    """Row numbers as a ``range`` when they follow one another (the usual file: no blank or bad
    line), which holds none of them in memory; else as they are."""
    if numbers and numbers[-1] - numbers[0] + 1 == len(numbers):  # increasing: all consecutive
        return range(numbers[0], numbers[-1] + 1)
    return numbers


def ensure_rows(table: Table) -> Table:
    """Fill ``rows`` from ``by_column`` when a reader left them out."""
    if not table.rows and table.row_numbers:
        if table.by_column:
            table.rows = list(map(list, zip(*table.by_column)))
        else:  # records without a single key ("{}" lines): one empty row each
            table.rows = [[] for _ in table.row_numbers]
    return table


def split_sheet(path: str) -> tuple[str, str | None]:
    """``data/file.xlsx#Sheet 2`` -> (``data/file.xlsx``, ``Sheet 2``)."""
    if "#" in path:
        base, _, sheet = path.partition("#")
        if base.lower().endswith((".xlsx", ".xlsm")):
            return base, sheet or None
    return path, None


def read_table(
    path: Path,
    shown: str,
    sheet: str | None = None,
    *,
    limit: int | None = None,
    rows: bool = True,
    keep: Collection[str] | None = None,
) -> tuple[Table | None, list[Finding]]:
    """Read a table file. Returns (table, findings); table is None when nothing usable was read.

    ``limit`` bounds the file's size in bytes (default: ``inputs.LIMITS`` for tables/workbooks).
    ``rows=False`` lets a reader that reads column by column (.jsonl) leave ``rows`` empty and
    fill ``by_column`` only (see :func:`ensure_rows`). ``keep`` names the columns whose cells are
    used: a reader may leave the others' cells empty (.jsonl does; the header is always whole).
    """
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        checked = open_input(path, shown, limit or LIMITS["xlsx"], read=False)
        if checked.findings:
            return None, checked.findings
        try:
            return _read_xlsx(path, shown, sheet, rows)
        except OSError as exc:
            return None, [
                error(
                    "file.unreadable",
                    f"cannot read {shown}: {exc.strerror or exc}",
                    Location(shown),
                )
            ]
    if suffix in (".jsonl", ".ndjson"):
        streamed = _read_jsonl_streamed(path, shown, limit or LIMITS["table"], rows, keep)
        if streamed is not None:
            return streamed
    opened = open_input(path, shown, limit or LIMITS["table"])
    if opened.data is None:
        return None, opened.findings
    raw = opened.data
    from triangulate.digests import remember

    remember(path, raw)  # the report's provenance hashes these bytes, without reading them again
    if suffix in (".csv", ".txt"):
        return _read_delimited(raw, shown, None)
    if suffix == ".tsv":
        return _read_delimited(raw, shown, "\t")
    if suffix in (".jsonl", ".ndjson"):
        return _read_jsonl(raw, shown, rows, keep)
    return None, [
        error(
            "data.unsupported-format",
            f"cannot read '{path.suffix or path.name}' files; use .csv, .tsv, .xlsx or .jsonl",
            Location(shown),
        )
    ]


# cp1252 leaves these five bytes undefined: a file holding them is neither UTF-8 nor Windows-1252.
_CP1252_UNDEFINED = frozenset(b"\x81\x8d\x8f\x90\x9d")
_ASCII = bytes(range(128))


def decode_text(raw: bytes, shown: str) -> tuple[str | None, str, list[Finding]]:
    """Decode a text table per file: (text, encoding as read, findings). See the module docstring."""
    if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        try:
            text = raw.decode("utf-16")  # the BOM tells the byte order, and is dropped
        except UnicodeDecodeError as exc:
            return (
                None,
                "utf-16",
                [
                    error(
                        "data.bad-encoding",
                        f"{shown} starts with a UTF-16 byte-order mark but is not valid UTF-16 (at byte {exc.start}); "
                        "save it again as 'Unicode Text' or as 'CSV UTF-8'",
                        Location(shown),
                    )
                ],
            )
        if "\x00" in text:
            return None, "utf-16", [_nul(shown, text[: text.index("\x00")].count("\n") + 1)]
        return text, "utf-16", []
    if b"\x00" in raw:
        return None, "utf-8", [_nul(shown, raw[: raw.index(b"\x00")].count(b"\n") + 1)]
    bom = raw.startswith(codecs.BOM_UTF8)
    body = raw[len(codecs.BOM_UTF8) :] if bom else raw
    utf8 = "utf-8-sig" if bom else "utf-8"
    try:
        return body.decode("utf-8"), utf8, []
    except UnicodeDecodeError:
        pass
    # Not valid UTF-8: every byte sequence that is valid UTF-8 stays UTF-8; the others are read as
    # Windows-1252, one by one (``_cp1252_fallback`` records where they were).
    _register_fallback()
    state = _FALLBACK.state = _FallbackState()
    try:
        text = body.decode("utf-8", errors=_FALLBACK_NAME)
    except UnicodeDecodeError as exc:
        line = body[: exc.start].count(b"\n") + 1
        return (
            None,
            "cp1252",
            [
                error(
                    "data.bad-encoding",
                    f"{shown} is neither UTF-8 nor Windows-1252 text (line {line}); save it as 'CSV UTF-8' and try again",
                    Location(shown, line=line),
                )
            ],
        )
    finally:
        _FALLBACK.state = None
    spans, handled = state.spans, state.handled
    first = body[: spans[0]].count(b"\n") + 1
    lines = {first}
    pos, line = spans[0], first
    for s in spans[1:]:
        line += body.count(b"\n", pos, s)
        pos = s
        lines.add(line)
    non_ascii = len(body.translate(None, _ASCII))
    if handled == non_ascii:  # nothing in it is UTF-8 beyond ASCII: a Windows-1252 file
        return (
            text,
            "cp1252",
            [
                warning(
                    "data.cp1252-encoding",
                    f"{shown} is not UTF-8 (first non-UTF-8 character on line {first}); it was read as "
                    "Windows-1252, as Excel writes 'CSV' files. Check accented characters, or save it as "
                    "'CSV UTF-8' to silence this",
                    Location(shown, line=first),
                )
            ],
        )
    more = f" and {len(lines) - 1} more line(s)" if len(lines) > 1 else ""
    return (
        text,
        utf8,
        [
            warning(
                "data.cp1252-encoding",
                f"{shown} is UTF-8 except on line {first}{more}, whose other characters were read as "
                "Windows-1252 (the rest of the file stays UTF-8). Check the accented characters there, "
                "or save the file as 'CSV UTF-8' to silence this",
                Location(shown, line=first),
            )
        ],
    )


class _FallbackState:
    def __init__(self) -> None:
        self.spans: list[int] = []  # where each non-UTF-8 sequence starts
        self.handled = 0  # bytes read as Windows-1252


_FALLBACK = threading.local()
_FALLBACK_NAME = "triangulate-utf8-else-cp1252"
_registered = False


def _cp1252_fallback(exc: UnicodeError) -> tuple[str, int]:
    state = getattr(_FALLBACK, "state", None)
    if state is None or not isinstance(exc, UnicodeDecodeError):
        raise exc
    bad = exc.object[exc.start : exc.end]
    if any(b in _CP1252_UNDEFINED for b in bad):
        raise exc
    state.spans.append(exc.start)
    state.handled += len(bad)
    return bytes(bad).decode("cp1252"), exc.end


def _register_fallback() -> None:
    global _registered
    if not _registered:
        codecs.register_error(_FALLBACK_NAME, _cp1252_fallback)
        _registered = True


def _nul(shown: str, line: int) -> Finding:
    return error(
        "data.malformed",
        "the file holds NUL bytes: it is binary or not a text table; export it again as CSV (UTF-8)",
        Location(shown, line=line),
    )


DELIMITERS = (",", ";", "\t")
_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab"}


def sniff_delimiter(text: str) -> str:
    """``,``, ``;`` or tab: whichever the header record holds most of outside quotes (ties: in
    that order; a header with none of them is one column, read as comma-separated)."""
    counts = dict.fromkeys(DELIMITERS, 0)
    quoted = False
    for ch in text[: 1 << 20]:
        if ch == '"':
            quoted = not quoted
        elif quoted:
            continue
        elif ch in counts:
            counts[ch] += 1
        elif ch in "\r\n":
            break
    best = max(DELIMITERS, key=lambda d: counts[d])  # max keeps the first of equal counts
    return best if counts[best] else ","


def dialect_note(shown: str, suffix: str, delimiter: str, encoding: str) -> Finding | None:
    """The ``data.dialect`` note for a text table that is not plain comma-separated UTF-8 (a
    ``.tsv`` is tab-separated by its name, so only its encoding is named)."""
    odd_delimiter = delimiter != ("\t" if suffix == ".tsv" else ",")
    if not odd_delimiter and encoding != "utf-16":
        return None
    parts = []
    if odd_delimiter:
        parts.append(f"{_DELIMITER_NAMES[delimiter]}-separated")
    if encoding == "utf-16":
        parts.append("UTF-16")
    what = " ".join(parts)
    why = (
        "as Excel saves 'CSV' where the list separator is ';'"
        if delimiter == ";"
        else "as Excel saves 'Unicode Text'"
        if encoding == "utf-16"
        else "as Excel saves 'Text (Tab delimited)'"
    )
    return info(
        "data.dialect",
        f"{shown} was read as {what} text ({why}); nothing to fix",
        Location(shown),
    )


def _header(cells: list[str], shown: str) -> tuple[list[str], list[Finding]]:
    findings: list[Finding] = []
    cols = [c.strip() for c in cells]
    seen: set[str] = set()
    for c in cols:
        if c and c in seen:
            findings.append(
                error(
                    "data.duplicate-column",
                    f"column '{c}' appears twice in the header; rename one",
                    Location(shown, row=1, field=c),
                )
            )
        seen.add(c)
    return cols, findings


def _read_delimited(
    raw: bytes, shown: str, delimiter: str | None, suffix: str = ".csv"
) -> tuple[Table | None, list[Finding]]:
    text, encoding, findings = decode_text(raw, shown)
    if text is None:
        return None, findings
    if delimiter is None:
        delimiter = sniff_delimiter(text)
    else:
        suffix = ".tsv"
    note = dialect_note(shown, suffix, delimiter, encoding)
    if note is not None:
        findings.append(note)
    ragged_hint = (
        "check for an unquoted comma in a cell"
        if delimiter == ","
        else f"check for an unquoted {_DELIMITER_NAMES[delimiter]} in a cell"
    )
    old = csv.field_size_limit()
    csv.field_size_limit(MAX_CELL)
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
        table: Table | None = None
        row_start = last_end = 0
        rownum = 0
        starts: list[int] = []
        spans = False  # whether some record starts on a line other than its row number
        try:
            for cells in reader:
                row_start, last_end = last_end + 1, reader.line_num
                rownum += 1  # every record is a spreadsheet row, blank ones too
                if table is None:
                    cols, hf = _header(cells, shown)
                    findings += hf
                    table = Table(shown, cols, encoding=encoding, delimiter=delimiter)
                    continue
                if not any(c.strip() for c in cells):
                    continue  # blank line
                n = len(table.columns)
                if len(cells) > n:
                    extra = cells[n:]
                    if any(c.strip() for c in extra):
                        findings.append(
                            error(
                                "data.ragged-row",
                                f"row has {len(cells)} cells but the header has {n} columns; "
                                + ragged_hint,
                                Location(
                                    shown,
                                    row=rownum,
                                    line=row_start if row_start != rownum else None,
                                ),
                            )
                        )
                        continue
                    cells = cells[:n]
                elif len(cells) < n:
                    cells = cells + [""] * (n - len(cells))
                table.rows.append(cells)
                table.row_numbers.append(rownum)
                starts.append(row_start)
                spans = spans or row_start != rownum
            if table is not None and spans:
                table.lines = starts
            if (
                table is not None
                and table.rows
                and any("\n" in c or "\r" in c for c in table.rows[-1])
            ):
                # A quote that is never closed swallows the rest of the file into one cell; the lenient
                # reader accepts that silently, the strict one says "unexpected end of data".
                try:
                    for _ in csv.reader(
                        io.StringIO(text, newline=""), delimiter=delimiter, strict=True
                    ):
                        pass
                except csv.Error as exc:
                    if "unexpected end of data" in str(exc):
                        findings.append(
                            error(
                                "data.malformed",
                                f"a quoted cell that starts on line {row_start} is never closed, so the rest of the "
                                'file was read into it; add the closing quote (") or remove the opening one',
                                Location(shown, line=row_start),
                            )
                        )
                        return None, findings
        except csv.Error as exc:
            if "field limit" in str(exc):
                findings.append(
                    error(
                        "data.too-large",
                        f"a cell is longer than {MAX_CELL:,} characters (often an unclosed quote); check the quoting here",
                        Location(shown, line=reader.line_num),
                    )
                )
            else:
                findings.append(
                    error(
                        "data.malformed",
                        f"cannot parse the table: {exc}",
                        Location(shown, line=reader.line_num),
                    )
                )
            return None, findings
    finally:
        csv.field_size_limit(old)
    if table is None:
        findings.append(
            error(
                "data.empty",
                "the file is empty; it needs a header row and data rows",
                Location(shown),
            )
        )
        return None, findings
    return table, findings


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return str(int(value))
        return repr(value)
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    return str(value)


def _read_xlsx(
    path: Path, shown: str, sheet: str | None, rows: bool = True
) -> tuple[Table | None, list[Finding]]:
    """Read one sheet: straight from its XML when it has the plain common shape
    (:mod:`triangulate.sources.sheetxml`), else with python-calamine (Rust) when it can give
    exactly what openpyxl gives, else with openpyxl, the reference (same values, findings and row
    numbers either way).
    ``rows=False``: only ``by_column`` is filled (see :func:`ensure_rows`)."""
    bad = error(
        "data.malformed",
        "not a readable .xlsx workbook; open it in Excel and save it again as .xlsx, or export CSV",
        Location(shown),
    )
    raw = path.read_bytes()  # open_input has checked its size
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            infos = zf.infolist()
            if (
                len(infos) > MAX_XLSX_MEMBERS
                or sum(i.file_size for i in infos) > MAX_XLSX_UNCOMPRESSED
            ):
                return None, [
                    error(
                        "data.too-large",
                        "the workbook expands to more than 512 MB or 10,000 parts; refusing to open it "
                        "(export the sheet as CSV instead)",
                        Location(shown),
                    )
                ]
            fast = _read_xlsx_fast(path, raw, zf, shown, sheet, rows)
    except Exception:
        return None, [bad]
    if fast is not None:
        return fast
    return _read_xlsx_openpyxl(path, shown, sheet, bad)


def _read_xlsx_fast(
    path: Path, raw: bytes, zf: zipfile.ZipFile, shown: str, sheet: str | None, rows: bool
) -> tuple[Table | None, list[Finding]] | None:
    """The plain-XML reader, then calamine; None leaves the workbook to openpyxl."""
    if xlsx_reader() != "calamine":
        return None
    plain, part, xml = None, None, None
    if os.environ.get("TRIANGULATE_XLSX_PLAIN", "1") != "0":
        from triangulate.sources.sheetxml import read_plain_sheet

        try:
            plain, part, xml = read_plain_sheet(zf, sheet, MAX_XLSX_CELLS)
        except Exception:
            plain = None
    if plain is not None:
        from triangulate.digests import remember

        remember(path, raw)
        return _grid_table(plain.cells, plain.blank, shown, rows)
    return _read_xlsx_calamine(path, raw, zf, shown, sheet, rows, part, xml)


def xlsx_reader() -> str:
    """Which reader reads workbooks: "calamine" or "openpyxl" (``TRIANGULATE_XLSX_READER``
    forces one; tests compare the two)."""
    forced = os.environ.get("TRIANGULATE_XLSX_READER", "")
    if forced in ("calamine", "openpyxl"):
        return forced
    return "calamine"


def _sheet_part(zf: zipfile.ZipFile, name: str | None, index: int) -> str | None:
    """The zip member of a sheet (by name, else the ``index``-th sheet), from workbook.xml and its
    relationships; None when they cannot be followed."""
    import re

    try:
        wb = zf.read("xl/workbook.xml").decode("utf-8", "replace")
        rels = zf.read("xl/_rels/workbook.xml.rels").decode("utf-8", "replace")
    except KeyError:
        return None
    sheets = re.findall(r"<(?:\w+:)?sheet\b([^>]*)/?>", wb)
    chosen = None
    for k, attrs in enumerate(sheets):
        m_name = re.search(r'\bname="([^"]*)"', attrs)
        if (name is not None and m_name and _xml_unescape(m_name.group(1)) == name) or (
            name is None and k == index
        ):
            chosen = attrs
            break
    if chosen is None:
        return None
    m_id = re.search(r'\br:id="([^"]*)"', chosen) or re.search(r'\b\w+:id="([^"]*)"', chosen)
    if m_id is None:
        return None
    for rel in re.findall(r"<(?:\w+:)?Relationship\b([^>]*)/?>", rels):
        if re.search(rf'\bId="{re.escape(m_id.group(1))}"', rel):
            m_t = re.search(r'\bTarget="([^"]*)"', rel)
            if m_t is None:
                return None
            target = m_t.group(1)
            return target.lstrip("/") if target.startswith("/") else "xl/" + target
    return None


def _xml_unescape(text: str) -> str:
    from xml.sax.saxutils import unescape

    return unescape(text, {"&quot;": '"', "&apos;": "'"})


def _has_error_cells(zf: zipfile.ZipFile, member: str, xml: bytes | None = None) -> bool:
    """Whether the sheet holds error cells (#N/A, #DIV/0!, ...): openpyxl reads their text,
    calamine an empty cell, so such a sheet is read by openpyxl. ``xml``: the sheet's XML when it
    has been read already."""
    if xml is not None:
        return b't="e"' in xml or b"t='e'" in xml
    tail = b""
    with zf.open(member) as fh:
        while True:
            chunk = fh.read(1 << 20)
            if not chunk:
                return False
            if b't="e"' in tail + chunk or b"t='e'" in tail + chunk:
                return True
            tail = chunk[-8:]


_EXACT = 2.0**53  # floats at or above this may be integers openpyxl reads exactly and calamine not


def _read_xlsx_calamine(
    path: Path,
    raw: bytes,
    zf: zipfile.ZipFile,
    shown: str,
    sheet: str | None,
    rows: bool = True,
    part: str | None = None,
    xml: bytes | None = None,
) -> tuple[Table | None, list[Finding]] | None:
    """None: leave the workbook to openpyxl (calamine missing or failing, a sheet that is not a
    worksheet, error cells, huge integers, a sheet too large to hold as a grid). ``part``/``xml``:
    a sheet's part name and XML already read (spares reading it again)."""
    try:
        import python_calamine as pc
    except ImportError:  # pragma: no cover - a declared dependency
        return None
    try:
        wb = pc.CalamineWorkbook.from_filelike(io.BytesIO(raw))
        metas = wb.sheets_metadata
        if sheet is not None:
            if sheet not in wb.sheet_names:
                return None  # openpyxl words the error (and lists its sheet names)
            k = wb.sheet_names.index(sheet)
        else:
            works = [i for i, m in enumerate(metas) if m.typ == pc.SheetTypeEnum.WorkSheet]
            if not works:
                return None
            k = works[0]
        if metas[k].typ != pc.SheetTypeEnum.WorkSheet:
            return None
        member = _sheet_part(zf, wb.sheet_names[k], k)
        if member is None or member not in zf.namelist():
            return None
        if _has_error_cells(zf, member, xml if member == part else None):
            return None
        del xml
        ws = wb.get_sheet_by_index(k)
        end = ws.end
        if end is not None and (end[0] + 1) * (end[1] + 1) > MAX_XLSX_CELLS:
            return None  # openpyxl reads row by row and stops at the budget, naming the row
        grid = ws.to_python(skip_empty_area=False)
        del ws, wb
        held = _calamine_grid(grid)
    except Exception:
        return None
    except BaseException as exc:  # a Rust panic in calamine (pyo3's PanicException is no Exception)
        if type(exc).__name__ != "PanicException":
            raise  # Ctrl-C, SystemExit
        return None  # e.g. python-calamine 0.4 on a shared-string index past the table: openpyxl
    from triangulate.digests import remember

    remember(path, raw)
    if held is None:  # rows of different lengths: row by row
        return _table_from_rows(grid, shown, _calamine_cells)
    if held is False:
        return None  # a number calamine cannot give exactly: openpyxl reads it
    del grid
    return _grid_table(held, None, shown, rows)


def _calamine_grid(grid: list[list[Any]]) -> Any:
    """calamine's rows as a 2-D object array of cell texts, converted column by column; None when
    the rows differ in length, False when a value makes the calamine path give up (see
    :func:`_calamine_cells`)."""
    import numpy as np

    if not grid:
        return np.empty((0, 0), dtype=object)
    try:
        cells = np.array(grid, dtype=object)
    except ValueError:  # rows of different lengths
        return None
    if cells.ndim != 2:
        return None
    if not set(map(type, cells.ravel())) <= _STR:
        for j in range(cells.shape[1]):
            col = cells[:, j]
            if not set(map(type, col)) <= _STR:
                texts = _calamine_cells(col.tolist())
                if texts is None:
                    return False
                cells[:, j] = texts
    return cells


def _blank_texts(texts: Any) -> Any:
    """Which of ``texts`` (a sequence of str) are empty or white space only, as a numpy bool array."""
    import numpy as np

    n = len(texts)
    blank = np.fromiter(map(not_, texts), dtype=bool, count=n)
    blank |= np.fromiter(map(str.isspace, texts), dtype=bool, count=n)
    return blank


def _grid_table(
    cells: Any, blank: Any, shown: str, rows: bool
) -> tuple[Table | None, list[Finding]]:
    """A sheet held as a grid (``cells[i, j]``: the text of spreadsheet row ``i + 1``, column ``j``,
    a 2-D numpy object array) read column by column: the same table, row numbers and findings as
    :func:`_table_from_rows` gives row by row. ``blank``: which cells are empty or white space
    only, as a bool array of the same shape, or None to find out (only where it matters)."""
    import numpy as np

    def blank_of(idx: Any, j: int) -> Any:
        if blank is not None:
            return blank[idx, j]
        return _blank_texts(cells[idx, j])

    findings: list[Finding] = []
    height, width = cells.shape
    # the rows holding a value: column by column, only among rows not yet known to hold one
    unknown = np.arange(height)
    for j in range(width):
        if not len(unknown):
            break
        unknown = unknown[blank_of(unknown, j)]
    filled = np.ones(height, dtype=bool)
    filled[unknown] = False
    if not width:
        filled[:] = False
    full = np.flatnonzero(filled)
    if not len(full):
        findings.append(_empty_sheet(shown))
        return None, findings
    head = int(full[0])
    head_blank = blank[head] if blank is not None else _blank_texts(cells[head])
    n = int(np.flatnonzero(~head_blank)[-1]) + 1  # trailing blank header cells are dropped
    cols, hf = _header(cells[head, :n].tolist(), shown)
    findings += hf
    table = Table(shown, cols)
    later = full[1:]
    if n < width and len(later):
        ragged = np.zeros(len(later), dtype=bool)
        for j in range(n, width):
            ragged |= ~blank_of(later, j)
        if ragged.any():
            for k in later[ragged].tolist():
                findings.append(
                    error(
                        "data.ragged-row",
                        f"row has values beyond the {n} header columns; give them a header",
                        Location(shown, row=k + 1),
                    )
                )
            later = later[~ragged]
    if len(later) and int(later[-1]) - int(later[0]) + 1 == len(later):  # no gap: slices
        a, b = int(later[0]), int(later[-1]) + 1
        table.by_column = [cells[a:b, j].tolist() for j in range(n)]
    else:
        table.by_column = [cells[later, j].tolist() for j in range(n)]
    table.row_numbers = (later + 1).tolist()
    if rows:
        ensure_rows(table)
    return table, findings


_STR = frozenset({str})


def _calamine_cells(values: Any) -> list[str] | None:
    if set(map(type, values)) <= _STR:
        return values  # type: ignore[no-any-return]  # a fresh list of str from to_python
    out: list[str] = []
    for v in values:
        if v.__class__ is str:
            out.append(v)
        elif v.__class__ is float:
            if not -_EXACT < v < _EXACT:
                return None
            out.append(str(int(v)) if v.is_integer() else repr(v))
        elif v.__class__ is date:
            out.append(datetime(v.year, v.month, v.day).isoformat())  # openpyxl gives a datetime
        else:
            out.append(_cell_text(v))
    return out


def _openpyxl_cells(values: Any) -> list[str] | None:
    return [_cell_text(v) for v in values]


def _table_from_rows(
    rows: Any, shown: str, cells_of: Any
) -> tuple[Table | None, list[Finding]] | None:
    findings: list[Finding] = []
    table: Table | None = None
    budget = MAX_XLSX_CELLS
    for rownum, values in enumerate(rows, start=1):
        budget -= max(len(values), 1)
        if budget < 0:
            return None, [
                error(
                    "data.too-large",
                    f"the sheet spans more than {MAX_XLSX_CELLS:,} cells (row {rownum} and beyond); refusing to "
                    "read further (delete stray cells far from the table, or export the sheet as CSV)",
                    Location(shown, row=rownum),
                )
            ]
        cells = cells_of(values)
        if cells is None:
            return None  # the calamine path gives up: openpyxl reads it
        if table is None:
            if not "".join(cells).strip():
                continue
            while cells and not cells[-1].strip():
                cells.pop()
            cols, hf = _header(cells, shown)
            findings += hf
            table = Table(shown, cols)
            continue
        if not "".join(cells).strip():
            continue
        n = len(table.columns)
        if len(cells) > n:
            if "".join(cells[n:]).strip():
                findings.append(
                    error(
                        "data.ragged-row",
                        f"row has values beyond the {n} header columns; give them a header",
                        Location(shown, row=rownum),
                    )
                )
                continue
            cells = cells[:n]
        elif len(cells) < n:
            cells += [""] * (n - len(cells))
        table.rows.append(cells)
        table.row_numbers.append(rownum)
    if table is None:
        findings.append(_empty_sheet(shown))
        return None, findings
    return table, findings


def _empty_sheet(shown: str) -> Finding:
    return error(
        "data.empty", "the sheet is empty; it needs a header row and data rows", Location(shown)
    )


def _read_xlsx_openpyxl(
    path: Path, shown: str, sheet: str | None, bad: Finding
) -> tuple[Table | None, list[Finding]]:
    import openpyxl  # deferred: only needed for workbooks

    # The file is opened here, not by openpyxl: read-only workbooks keep the zip open while rows are
    # read, and some openpyxl releases (3.1.0) leave it to the garbage collector when a sheet is
    # read through reset_dimensions(). Held by this ``with``, it is closed when reading ends.
    with open(path, "rb") as fh:
        try:
            wb = openpyxl.load_workbook(fh, read_only=True, data_only=True)
        except Exception:
            return None, [bad]
        return _read_openpyxl_sheet(wb, shown, sheet, bad)


def _read_openpyxl_sheet(
    wb: Any, shown: str, sheet: str | None, bad: Finding
) -> tuple[Table | None, list[Finding]]:
    try:
        if sheet is not None:
            if sheet not in wb.sheetnames:
                names = ", ".join(repr(s) for s in wb.sheetnames)
                return None, [
                    error(
                        "data.malformed",
                        f"the workbook has no sheet '{sheet}' (it has {names})",
                        Location(shown),
                    )
                ]
            ws = wb[sheet]
        else:
            ws = wb.worksheets[0]
        if hasattr(ws, "reset_dimensions"):
            # The declared dimension (e.g. A1:XFD1048576) is only a hint; trusting it would pad every
            # row to it. Rows then hold the cells they really have.
            ws.reset_dimensions()
        result = _table_from_rows(ws.iter_rows(values_only=True), shown, _openpyxl_cells)
        assert result is not None  # only the calamine path gives up
        return result
    except Exception:
        return None, [bad]
    finally:
        wb.close()


_JSON_SPACE = " \t\r\n"
JSONL_BLOCK = 1 << 18  # bytes (or characters) of lines parsed together, then dropped (small
# enough that a block's records stay in the CPU cache while their cells are taken: 4 MB blocks
# took 0.6 s for a 48 MB file, 256 KB blocks 0.37 s)
_MAX_FAST_KEYS = 1000  # records with more keys than this are read line by line
_MEMO_TRIAL = 20000  # cells of a column read before judging whether its values repeat


def _json_scanner() -> Any:
    """The json module's C scanner: one call per line instead of json.loads' three Python-level
    calls. It accepts exactly what json.loads accepts of a value without surrounding whitespace."""
    from json import scanner

    return scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]


def _jsonl_blocks(raw: bytes, shown: str) -> tuple[Iterator[str] | None, str, list[Finding]]:
    """The text of a JSONL file as :func:`decode_text` reads it, in pieces of about
    ``JSONL_BLOCK`` that each end after a line feed (so ``splitlines`` of the pieces gives the
    lines of the whole text): (pieces, encoding, findings); pieces is None when it cannot be read.

    Plain UTF-8 (the usual export) is decoded piece by piece, so that the whole text never
    exists next to the bytes; anything else is decoded whole by :func:`decode_text`."""
    if not raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) and b"\x00" not in raw:
        skip = len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0
        view = memoryview(raw)
        spans = _line_spans(raw, skip)
        try:
            if not raw.isascii():  # valid UTF-8 throughout? (checked piece by piece)
                for a, b in spans:
                    str(view[a:b], "utf-8")
        except UnicodeDecodeError:
            pass  # decode_text reads it as Windows-1252 where it is not UTF-8, and says so
        else:
            pieces = (str(view[a:b], "utf-8") for a, b in spans)
            return pieces, "utf-8-sig" if skip else "utf-8", []
    text, encoding, findings = decode_text(raw, shown)
    if text is None:
        return None, encoding, findings
    return iter([text[a:b] for a, b in _line_spans(text, 0)]), encoding, findings


def _line_spans(data: Any, start: int) -> list[tuple[int, int]]:
    """``(start, end)`` of consecutive pieces of ``data`` (bytes or str) of about
    ``JSONL_BLOCK`` (the first one smaller: it is read by json, to learn the keys), each ending
    just after a line feed (the last one at the end)."""
    nl = "\n" if isinstance(data, str) else b"\n"
    spans: list[tuple[int, int]] = []
    end = len(data)
    while start < end:
        size = JSONL_BLOCK if spans else max(JSONL_BLOCK // 64, 1)
        cut = data.find(nl, start + size - 1)
        stop = end if cut < 0 else cut + 1
        spans.append((start, stop))
        start = stop
    return spans


class _JsonlColumns:
    """The cells of a JSONL file, column by column, filled block by block. Columns are every key
    in the order first seen; a record without a key has an empty cell there. Only the columns in
    ``keep`` (all when None) hold their cells; the others are filled with empty cells at the end."""

    def __init__(self, keep: Collection[str] | None) -> None:
        self.keep = keep
        self.cells: dict[str, list[Any] | None] = {}  # None: a column not kept
        # Each distinct cell of a column held once (a column of a few hundred participants or
        # codes: less memory, and faster to factorise), while the column repeats its values.
        self.memo: dict[str, dict[str, str] | None] = {}
        self.n = 0

    def _add(self, key: str) -> None:
        if key not in self.cells:
            keep = self.keep is None or key in self.keep
            self.cells[key] = [""] * self.n if keep else None
            self.memo[key] = {"": ""} if keep else None

    def _extend(self, key: str, col: list[Any], values: list[Any]) -> None:
        memo = self.memo[key]
        if memo is None:
            # Mostly distinct values (ids, texts): only a value equal to the one before it (an
            # excerpt coded twice, on consecutive lines) is held once.
            if values:
                from itertools import compress
                from operator import eq

                before = col[-1] if col else None
                for i in compress(range(len(values)), map(eq, values, [before, *values])):
                    values[i] = values[i - 1] if i else before
            col += values
            return
        col += map(memo.setdefault, values, values)
        if len(col) >= _MEMO_TRIAL and len(memo) * 2 > len(col):
            self.memo[key] = None  # mostly distinct values (ids, texts): not worth a look-up

    def add_fast(self, keys: list[str], recs: list[Any]) -> None:
        """Records that all have exactly ``keys``, each value a str (attribute ``f0``, ``f1``...)."""
        from operator import attrgetter

        for k in keys:
            self._add(k)
        have = dict.fromkeys(keys)
        for j, k in enumerate(keys):
            col = self.cells[k]
            if col is not None:
                self._extend(k, col, list(map(attrgetter(f"f{j}"), recs)))
        self._pad(have, len(recs))
        self.n += len(recs)

    def add_dicts(self, objs: list[dict[str, Any]]) -> None:
        for k in dict.fromkeys(k for obj in objs for k in obj):
            self._add(k)
        for k, col in self.cells.items():
            if col is None:
                continue
            values = [obj.get(k) for obj in objs]
            if not set(map(type, values)) <= _STR:
                values = [
                    v
                    if isinstance(v, str)
                    else json.dumps(v)
                    if isinstance(v, (dict, list))
                    else _cell_text(v)
                    for v in values
                ]
            self._extend(k, col, values)
        self.n += len(objs)

    def _pad(self, have: dict[str, None], m: int) -> None:
        for k, col in self.cells.items():
            if col is not None and k not in have:
                col += [""] * m

    def by_column(self) -> list[Sequence[str]]:
        return [[""] * self.n if col is None else col for col in self.cells.values()]


class _FastRecords:
    """msgspec's decoder for records whose keys are exactly those of one record seen before and
    whose values are all strings: on such lines it gives what ``json`` gives (duplicate keys:
    the last wins; escapes; surrogate pairs). It refuses, and the block is read line by line,
    on everything else: another key set, a non-string value, a lone surrogate escape, a blank
    line, bad JSON."""

    def __init__(self, keys: list[str]) -> None:
        import msgspec

        self.keys = keys
        struct = msgspec.defstruct(
            "Record",
            [(f"f{j}", str) for j in range(len(keys))],
            rename={f"f{j}": k for j, k in enumerate(keys)},
            forbid_unknown_fields=True,
            gc=False,
        )
        self.decode = msgspec.json.Decoder(struct).decode

    @staticmethod
    def make(keys: list[str]) -> _FastRecords | None:
        if len(keys) > _MAX_FAST_KEYS or os.environ.get("TRIANGULATE_JSONL_READER") == "json":
            return None
        try:
            return _FastRecords(keys)
        except Exception:  # msgspec missing or refusing the keys: every line by json
            return None

    def records(self, lines: list[str]) -> list[Any] | None:
        try:
            return list(map(self.decode, lines))
        except Exception:
            return None


def _read_jsonl(
    raw: bytes, shown: str, rows: bool = True, keep: Collection[str] | None = None
) -> tuple[Table | None, list[Finding]]:
    """One record per line (blank lines skipped), each a JSON object; its keys are the columns.

    ``rows=False``: only ``by_column`` is filled (``ensure_rows`` makes the rows when needed).
    ``keep``: the columns whose cells are wanted (None: all); the others' cells are left empty.

    Lines are read in blocks of about ``JSONL_BLOCK`` (their records dropped once their cells are
    taken): a block whose every line is a record with the keys of the record before and only
    string values is decoded by msgspec in one pass (:class:`_FastRecords`); any other block line
    by line by the json module, which words the findings."""
    pieces, encoding, findings = _jsonl_blocks(raw, shown)
    if pieces is None:
        return None, findings
    return _jsonl_table(pieces, shown, findings, lambda: encoding, rows, keep)


class _NotPlainUtf8(Exception):
    """A .jsonl file that is not plain UTF-8 (or that changed while read): read it whole."""


def _read_jsonl_streamed(
    path: Path, shown: str, limit: int, rows: bool, keep: Collection[str] | None
) -> tuple[Table | None, list[Finding]] | None:
    """A plain UTF-8 .jsonl file read from disk piece by piece, so that its bytes are never held
    whole (``_read_jsonl`` holds them, and then the cells); None when it is not one (UTF-16, a NUL
    byte, bytes that are not UTF-8), cannot be read or grows past ``limit``: the caller then reads
    it whole, and words any problem as before."""
    import hashlib
    import stat

    if open_input(path, shown, limit, read=False).findings:
        return None
    digest = hashlib.sha256()
    encoding = ["utf-8"]

    def text(data: bytes) -> str:
        if b"\x00" in data:
            raise _NotPlainUtf8
        try:
            return str(data, "utf-8")
        except UnicodeDecodeError:
            raise _NotPlainUtf8 from None

    def pieces() -> Iterator[str]:
        flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(path, flags)
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise _NotPlainUtf8
            parts: list[bytes] = []  # the line begun and not yet ended
            total = 0
            size = max(JSONL_BLOCK // 64, len(codecs.BOM_UTF8))  # the first piece: by json
            while True:
                chunk = os.read(fd, size)
                total += len(chunk)
                if total > limit:
                    raise _NotPlainUtf8
                digest.update(chunk)
                if not chunk:
                    if parts:
                        yield text(b"".join(parts))
                    return
                if total == len(chunk) and chunk.startswith(codecs.BOM_UTF8):  # the first read
                    encoding[0] = "utf-8-sig"
                    chunk = chunk[len(codecs.BOM_UTF8) :]
                cut = chunk.rfind(b"\n") + 1
                if not cut:
                    parts.append(chunk)
                    size = min(size * 2, JSONL_BLOCK)
                    continue
                parts.append(chunk[:cut])
                yield text(b"".join(parts))
                parts = [chunk[cut:]]
                size = JSONL_BLOCK
        finally:
            os.close(fd)

    try:
        result = _jsonl_table(pieces(), shown, [], lambda: encoding[0], rows, keep)
    except (_NotPlainUtf8, OSError):
        return None
    from triangulate.digests import remember_digest

    remember_digest(path, digest.hexdigest())  # the report's provenance hashes these bytes
    return result


def _jsonl_table(
    pieces: Iterable[str],
    shown: str,
    findings: list[Finding],
    encoding: Callable[[], str],
    rows: bool,
    keep: Collection[str] | None,
) -> tuple[Table | None, list[Finding]]:
    """The table of the text ``pieces`` (each ending after a line feed); ``encoding()`` tells the
    encoding once they are read."""
    scan = _json_scanner()
    out = _JsonlColumns(keep)
    linenos: list[int] = []
    fast: _FastRecords | None = None
    lineno = 0
    for piece in pieces:
        lines = piece.splitlines()
        del piece
        first = lineno + 1
        lineno += len(lines)
        recs = None
        if fast is not None:
            if "" in lines:  # empty lines are skipped: decode the others
                at = [i for i, line in enumerate(lines) if line]
                recs = fast.records([lines[i] for i in at])
                numbers: Iterable[int] = [first + i for i in at]
            else:
                recs = fast.records(lines)
                numbers = range(first, lineno + 1)
        if recs is not None:
            assert fast is not None
            out.add_fast(fast.keys, recs)
            linenos += numbers
            continue
        objs: list[dict[str, Any]] = []
        for i, line in enumerate(lines):
            obj = _jsonl_record(line, first + i, shown, scan, findings)
            if obj is not None:
                objs.append(obj)
                linenos.append(first + i)
        if objs:
            out.add_dicts(objs)
            keys = list(objs[-1])
            if fast is None or keys != fast.keys:
                fast = _FastRecords.make(keys)
        del objs, lines
    if not linenos:
        if not findings:
            findings.append(error("data.empty", "the file has no JSON objects", Location(shown)))
        return None, findings
    table = Table(shown, list(out.cells), line_based=True, encoding=encoding())
    table.by_column = out.by_column()
    table.row_numbers = linenos
    if rows:
        ensure_rows(table)
    return table, findings


def _jsonl_record(
    line: str, lineno: int, shown: str, scan: Any, findings: list[Finding]
) -> dict[str, Any] | None:
    """One line read by the json module: its record, or None (a blank line, or a finding)."""
    s = line.strip(_JSON_SPACE)
    if not s or not s.strip():  # a blank line (any white space), skipped
        return None
    try:
        obj, end = scan(s, 0)
        ok = end == len(s)
    except (StopIteration, ValueError, RecursionError):
        ok = False
    if not ok:
        try:
            obj = json.loads(line)  # for its message (or it is valid after all)
        except (ValueError, RecursionError) as exc:  # JSONDecodeError, or an integer too long
            msg = getattr(
                exc,
                "msg",
                "too deeply nested" if isinstance(exc, RecursionError) else "a number is too long",
            )
            findings.append(
                error(
                    "data.bad-json",
                    f"line is not valid JSON ({msg}); make it one JSON object or remove it",
                    Location(shown, line=lineno),
                )
            )
            return None
    if "\\u" in line:  # only an escape can give half a character (checked per line: cheap)
        obj, scrubbed = scrub_json_line(obj, line, Location(shown, line=lineno))
        findings += scrubbed
    if obj.__class__ is not dict and not isinstance(obj, dict):
        findings.append(
            error(
                "data.bad-json",
                "line is not a JSON object ({...}); each line must be one record",
                Location(shown, line=lineno),
            )
        )
        return None
    return obj
