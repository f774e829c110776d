"""Reading tables (.csv, .tsv, .xlsx, .jsonl) into rows of text cells, with findings for bad input.

Row numbers are as a spreadsheet shows them: the header is row 1, the first data row is row 2
(for a CSV this is also the line number when no cell spans lines). JSONL rows are numbered by line.
"""

from __future__ import annotations

import csv
import io
import json
import math
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from triangulate.findings import Finding, Location, error, warning

MAX_CELL = 10 * 1024 * 1024  # characters in one CSV cell
MAX_XLSX_UNCOMPRESSED = 512 * 1024 * 1024  # bytes, all members of a workbook together
MAX_XLSX_MEMBERS = 10_000
MAX_XLSX_CELLS = 20_000_000  # cells visited in one sheet, counting the gaps a sparse sheet pads
SUPPORTED = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".jsonl", ".ndjson")


@dataclass
class Table:
    file: str  # as shown to the user
    columns: list[str]
    rows: list[list[str]] = field(default_factory=list)  # each the same length as ``columns``
    row_numbers: list[int] = field(default_factory=list)
    line_based: bool = False  # JSONL: locations are lines, not spreadsheet rows

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
        return Location(self.file, row=self.row_numbers[i], field=column)


def split_sheet(path: str) -> tuple[str, str | None]:
    """``data/file.xlsx#Sheet 2`` -> (``data/file.xlsx``, ``Sheet 2``)."""
    if "#" in path:
        base, _, sheet = path.partition("#")
        if base.lower().endswith((".xlsx", ".xlsm")):
            return base, sheet or None
    return path, None


def read_table(
    path: Path, shown: str, sheet: str | None = None
) -> tuple[Table | None, list[Finding]]:
    """Read a table file. Returns (table, findings); table is None when nothing usable was read."""
    if not path.exists():
        return None, [
            error(
                "file.missing",
                f"file not found: {shown} (check the path in the project file: paths are relative to the folder that holds it)",
                Location(shown),
            )
        ]
    if not path.is_file():
        return None, [error("file.unreadable", f"not a file: {shown}", Location(shown))]
    suffix = path.suffix.lower()
    try:
        if suffix in (".xlsx", ".xlsm"):
            return _read_xlsx(path, shown, sheet)
        raw = path.read_bytes()
    except OSError as exc:
        return None, [
            error("file.unreadable", f"cannot read {shown}: {exc.strerror or exc}", Location(shown))
        ]
    if suffix in (".csv", ".txt"):
        return _read_delimited(raw, shown, ",")
    if suffix == ".tsv":
        return _read_delimited(raw, shown, "\t")
    if suffix in (".jsonl", ".ndjson"):
        return _read_jsonl(raw, shown)
    return None, [
        error(
            "data.unsupported-format",
            f"cannot read '{path.suffix or path.name}' files; use .csv, .tsv, .xlsx or .jsonl",
            Location(shown),
        )
    ]


def _decode(raw: bytes, shown: str) -> tuple[str | None, list[Finding]]:
    if b"\x00" in raw:
        line = raw[: raw.index(b"\x00")].count(b"\n") + 1
        return None, [
            error(
                "data.malformed",
                "the file holds NUL bytes: it is binary or not a text table; export it again as CSV (UTF-8)",
                Location(shown, line=line),
            )
        ]
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
    try:
        text = raw.decode("cp1252")
    except UnicodeDecodeError:
        return None, [
            error(
                "data.bad-encoding",
                "the file is not UTF-8 text; save it as 'CSV UTF-8' and try again",
                Location(shown, line=line),
            )
        ]
    return text, [
        warning(
            "data.cp1252-encoding",
            f"the file is not UTF-8 (first non-UTF-8 byte on line {line}); it was read as Windows-1252, "
            "as Excel writes 'CSV' files. Check accented characters, or save it as 'CSV UTF-8' to silence this",
            Location(shown, line=line),
        )
    ]


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


def _read_delimited(raw: bytes, shown: str, delimiter: str) -> tuple[Table | None, list[Finding]]:
    text, findings = _decode(raw, shown)
    if text is None:
        return None, findings
    old = csv.field_size_limit()
    csv.field_size_limit(MAX_CELL)
    try:
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=False)
        table: Table | None = None
        row_start = last_end = 0
        try:
            for cells in reader:
                row_start, last_end = last_end + 1, reader.line_num
                if table is None:
                    cols, hf = _header(cells, shown)
                    findings += hf
                    table = Table(shown, cols)
                    continue
                if not any(c.strip() for c in cells):
                    continue  # blank line
                n = len(table.columns)
                rownum = reader.line_num
                if len(cells) > n:
                    extra = cells[n:]
                    if any(c.strip() for c in extra):
                        findings.append(
                            error(
                                "data.ragged-row",
                                f"row has {len(cells)} cells but the header has {n} columns; "
                                "check for an unquoted comma in a cell",
                                Location(shown, row=rownum),
                            )
                        )
                        continue
                    cells = cells[:n]
                elif len(cells) < n:
                    cells = cells + [""] * (n - len(cells))
                table.rows.append(cells)
                table.row_numbers.append(rownum)
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


def _read_xlsx(path: Path, shown: str, sheet: str | None) -> tuple[Table | None, list[Finding]]:
    bad = error(
        "data.malformed",
        "not a readable .xlsx workbook; open it in Excel and save it again as .xlsx, or export CSV",
        Location(shown),
    )
    try:
        with zipfile.ZipFile(path) as zf:
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
    except Exception:
        return None, [bad]
    import openpyxl  # deferred: only needed for workbooks
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        wb = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (
        InvalidFileException,
        zipfile.BadZipFile,
        KeyError,
        ValueError,
        TypeError,
        OSError,
        IndexError,
    ):
        return None, [bad]
    except Exception:
        return None, [bad]
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
        findings: list[Finding] = []
        table: Table | None = None
        if hasattr(ws, "reset_dimensions"):
            # The declared dimension (e.g. A1:XFD1048576) is only a hint; trusting it would pad every
            # row to it. Rows then hold the cells they really have.
            ws.reset_dimensions()
        budget = MAX_XLSX_CELLS
        for rownum, values in enumerate(ws.iter_rows(values_only=True), start=1):
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
            cells = [_cell_text(v) for v in values]
            if table is None:
                if not any(c.strip() for c in cells):
                    continue
                while cells and not cells[-1].strip():
                    cells.pop()
                cols, hf = _header(cells, shown)
                findings += hf
                table = Table(shown, cols)
                continue
            if not any(c.strip() for c in cells):
                continue
            n = len(table.columns)
            if len(cells) > n:
                if any(c.strip() for c in cells[n:]):
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
    except Exception:
        return None, [bad]
    finally:
        wb.close()
    if table is None:
        findings.append(
            error(
                "data.empty",
                "the sheet is empty; it needs a header row and data rows",
                Location(shown),
            )
        )
        return None, findings
    return table, findings


def _read_jsonl(raw: bytes, shown: str) -> tuple[Table | None, list[Finding]]:
    text, findings = _decode(raw, shown)
    if text is None:
        return None, findings
    records: list[tuple[int, dict[str, Any]]] = []
    lines = text.splitlines()
    for lineno, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except (
            ValueError,
            RecursionError,
        ) as exc:  # JSONDecodeError, or an integer too long to convert
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
            continue
        if not isinstance(obj, dict):
            findings.append(
                error(
                    "data.bad-json",
                    "line is not a JSON object ({...}); each line must be one record",
                    Location(shown, line=lineno),
                )
            )
            continue
        records.append((lineno, obj))
    columns: list[str] = []
    seen: set[str] = set()
    for _, obj in records:
        for k in obj:
            if k not in seen:
                seen.add(k)
                columns.append(k)
    if not records:
        if not findings:
            findings.append(error("data.empty", "the file has no JSON objects", Location(shown)))
        return None, findings
    table = Table(shown, columns, line_based=True)
    for lineno, obj in records:
        row = []
        for c in columns:
            v = obj.get(c)
            row.append(
                v
                if isinstance(v, str)
                else _cell_text(v)
                if not isinstance(v, (dict, list))
                else json.dumps(v)
            )
        table.rows.append(row)
        table.row_numbers.append(lineno)
    return table, findings
