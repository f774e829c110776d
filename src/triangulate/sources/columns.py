"""Excerpt data held column by column, and a fast reader for large, plainly well-formed tables.

:class:`ExcerptColumns` keeps one list per column (excerpt id, participant, code, text, the tags
of each dimension as small integer ids) and answers what sorting needs without building one
object per row: the rows of each code, distinct excerpts and participants among given rows, and
the union of their tags. Rows are materialised as :class:`~triangulate.sources.ExcerptRow` only
when shown (:class:`ExcerptView`).

:func:`read_excerpts_fast` reads a large ``.csv``/``.tsv`` excerpts source with pandas' C parser,
every value as text, and keeps only the columns the tool uses. (Every column is parsed: with
``usecols`` pandas silently drops the surplus cells of a ragged row, which must be reported.) It gives up (returns None) on anything out of
the ordinary (NUL bytes, not UTF-8, a quote or a repeated name in the header, a missing required
column, a record spanning lines, a blank or ragged row, a lone carriage return, an empty required
value, a cell over the size limit); the careful reader (:mod:`triangulate.sources.tables` and
:mod:`triangulate.sources`) then reads the file and reports every finding with its row number, so
both paths give the same findings and the same data.

pandas is imported only here, and only for files of at least :data:`FAST_MIN_BYTES` bytes (set the
environment variable ``TRIANGULATE_FAST_READ_MIN_BYTES`` to change it, e.g. 0 in tests).
"""

from __future__ import annotations

import codecs
import os
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

from triangulate.findings import Finding, Location, warning
from triangulate.inputs import LIMITS
from triangulate.progress import Progress
from triangulate.sources.rows import EXCERPT_COLUMNS
from triangulate.text import has_controls

if TYPE_CHECKING:
    from triangulate.sources.rows import ExcerptRow
    from triangulate.sources.tables import Table


FAST_SUFFIXES: dict[str, str | None] = {
    ".csv": None,
    ".txt": None,
    ".tsv": "\t",
}  # None: detected (, ; tab)


def fast_min_bytes() -> int:
    try:
        return int(os.environ.get("TRIANGULATE_FAST_READ_MIN_BYTES", str(1 << 20)))
    except ValueError:
        return 1 << 20


def _distinct(a: Any) -> Any:
    """The distinct values of a numpy integer array, ascending: what ``np.unique`` returns, by one
    sort. Recent numpy (2.4 measured) answers ``np.unique`` with a hash table, 10 to 30 times slower
    on these arrays (150,000 ids: 64 ms against 2 ms)."""
    import numpy as np

    s = np.sort(a)
    if len(s) < 2:
        return s
    keep = np.empty(len(s), dtype=bool)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s[keep]


class Coded:
    """A column as ids into its distinct values: ``values[ids[i]]`` is row i's value.

    ``ids`` is a numpy array when the fast reader made it (then numpy does the counting), else a
    list (the careful path, which never imports numpy for a small project).
    """

    __slots__ = ("_np", "ids", "values")

    def __init__(self, ids: Any, values: Sequence[Any]) -> None:
        self.ids = ids
        self.values = values
        self._np = not isinstance(ids, list)

    @classmethod
    def of(cls, column: Iterable[Any]) -> Coded:
        seen: dict[Any, int] = {}
        values: list[Any] = []
        ids: list[int] = []
        for v in column:
            k = seen.get(v)
            if k is None:
                k = seen[v] = len(values)
                values.append(v)
            ids.append(k)
        return cls(ids, values)

    def __getitem__(self, i: int) -> Any:
        return self.values[self.ids[i]]

    def distinct_ids(self, idx: Any) -> Any:
        """The distinct ids among rows ``idx`` (idx as returned by ExcerptColumns.rows_of)."""
        if self._np:
            return _distinct(self.ids[idx])
        if len(idx) == 1:
            return {self.ids[idx[0]]}
        return set(itemgetter(*idx)(self.ids)) if idx else set()

    def count(self, idx: Any) -> int:
        return len(self.distinct_ids(idx)) if len(idx) else 0


# A group of rows: their indices, distinct excerpts, distinct participants, tags per dimension.
Stats = tuple[Any, int, int, dict[str, set[str]]]


class ExcerptColumns:
    """One excerpts source, column by column (rows in file order)."""

    def __init__(
        self,
        excerpt_id: Coded,
        participant: Coded,
        code: Coded,
        text: Sequence[str] | Any,  # a list, or a numpy array of str from the fast reader
        tags: dict[str, Coded],
        rows: Sequence[int],
        originals: Sequence[ExcerptRow] | None = None,
    ) -> None:
        self.excerpt_id = excerpt_id
        self.participant = participant
        self.code = code
        self.text = text
        self.tags = tags  # dimension -> the split tag tuple of each row
        self.rows = rows  # row numbers as findings show them
        self.originals = originals  # the ExcerptRow objects these columns were built from, if any
        self._by_code: dict[str, Any] | None = None
        # True when the reader saw every byte of the file and none can be a control character:
        # sources/unsafe.py then has no cell to look at.
        self.no_controls = False

    @classmethod
    def from_rows(cls, rows: Sequence[ExcerptRow]) -> ExcerptColumns:
        dims: dict[str, None] = {}
        for r in rows[:1]:
            dims.update(dict.fromkeys(r.tags))
        return cls(
            Coded.of(r.excerpt_id for r in rows),
            Coded.of(r.participant for r in rows),
            Coded.of(r.code for r in rows),
            [r.text for r in rows],
            {d: Coded.of(r.tags.get(d, ()) for r in rows) for d in dims},
            [r.row for r in rows],
            originals=rows,
        )

    def __len__(self) -> int:
        return len(self.code.ids)

    def row(self, i: int) -> ExcerptRow:
        if self.originals is not None:
            return self.originals[i]
        from triangulate.sources.rows import ExcerptRow

        tags = {d: col[i] for d, col in self.tags.items()}
        return ExcerptRow(
            self.excerpt_id[i], self.participant[i], self.code[i], self.text[i], tags, self.rows[i]
        )

    def by_code(self) -> dict[str, Any]:
        """Row indices of each code, ascending; codes in order of first appearance."""
        if self._by_code is None:
            col = self.code
            if col._np:
                import numpy as np

                order = np.argsort(col.ids, kind="stable")
                counts = np.bincount(col.ids, minlength=len(col.values))
                parts = np.split(order, np.cumsum(counts)[:-1])
                self._by_code = {c: ix for c, ix in zip(col.values, parts) if len(ix)}
            else:
                groups: dict[int, list[int]] = {}
                for i, k in enumerate(col.ids):
                    g = groups.get(k)
                    if g is None:
                        groups[k] = [i]
                    else:
                        g.append(i)
                self._by_code = {col.values[k]: ix for k, ix in groups.items()}
        return self._by_code

    def first_rows(self) -> dict[str, int]:
        """The row number where each code first appears."""
        return {c: self.rows[int(ix[0])] for c, ix in self.by_code().items()}

    def participant_count(self) -> int:
        return len(self.participant.values)  # distinct by construction, each used by some row

    def excerpt_count(self) -> int:
        return len(self.excerpt_id.values)

    def rows_of(self, codes: Sequence[str]) -> Any:
        """Indices of the rows carrying any of ``codes``, in file order."""
        by_code = self.by_code()
        parts = [by_code[c] for c in dict.fromkeys(codes) if c in by_code]
        if self.code._np:
            import numpy as np

            if not parts:
                return np.zeros(0, dtype=np.intp)
            return parts[0] if len(parts) == 1 else np.sort(np.concatenate(parts))
        if len(parts) == 1:
            return list(parts[0])
        out = [i for p in parts for i in p]
        out.sort()
        return out

    def group_stats(
        self, groups: Sequence[Sequence[str]], dimensions: Sequence[str]
    ) -> list[Stats]:
        """For each group of codes (a theme's codes in this source): its rows (as
        :meth:`rows_of`), distinct excerpts, distinct participants and the union of each
        dimension's tags. One pass over all the groups' rows per column, however many groups:
        counting one group at a time cost a numpy call per group and column."""
        idxs = [self.rows_of(codes) for codes in groups]
        if not self.code._np or not idxs:
            return [
                (
                    idx,
                    self.excerpt_id.count(idx),
                    self.participant.count(idx),
                    self.tags_of(idx, dimensions),
                )
                for idx in idxs
            ]
        import numpy as np

        k = len(idxs)
        lengths = np.fromiter(map(len, idxs), dtype=np.int64, count=k)
        label = np.repeat(np.arange(k, dtype=np.int64), lengths)
        rows = np.concatenate(idxs)

        def pairs(col: Coded) -> tuple[Any, Any]:
            """The distinct (group, value id) pairs among the groups' rows, sorted."""
            n = max(len(col.values), 1)
            key = _distinct(label * n + np.asarray(col.ids, dtype=np.int64)[rows])
            return key // n, key % n

        excerpts = np.bincount(pairs(self.excerpt_id)[0], minlength=k).tolist()
        participants = np.bincount(pairs(self.participant)[0], minlength=k).tolist()
        tags: list[dict[str, set[str]]] = [{} for _ in range(k)]
        for d in dimensions:
            col = self.tags.get(d)
            if col is None:
                for t in tags:
                    t[d] = set()
                continue
            group, value = pairs(col)
            bounds = np.searchsorted(group, np.arange(k + 1)).tolist()
            values = col.values
            ids = value.tolist()
            for g in range(k):
                tags[g][d] = set().union(*map(values.__getitem__, ids[bounds[g] : bounds[g + 1]]))
        return [(idx, excerpts[g], participants[g], tags[g]) for g, idx in enumerate(idxs)]

    def tags_of(self, idx: Any, dimensions: Sequence[str]) -> dict[str, set[str]]:
        """For each dimension, the union of the tags of the rows ``idx``."""
        out: dict[str, set[str]] = {}
        for d in dimensions:
            col = self.tags.get(d)
            if col is None or not len(idx):
                out[d] = set()
                continue
            values = col.values
            out[d] = set().union(*map(values.__getitem__, col.distinct_ids(idx)))
        return out


class ExcerptView(Sequence["ExcerptRow"]):
    """Some rows of an :class:`ExcerptColumns` (all of them when ``idx`` is None), as ExcerptRow."""

    __slots__ = ("_cols", "_idx")

    def __init__(self, cols: ExcerptColumns, idx: Sequence[int] | None = None) -> None:
        self._cols = cols
        self._idx = idx

    def __len__(self) -> int:
        return len(self._cols) if self._idx is None else len(self._idx)

    @overload
    def __getitem__(self, i: int) -> ExcerptRow: ...

    @overload
    def __getitem__(self, i: slice) -> list[ExcerptRow]: ...

    def __getitem__(self, i: int | slice) -> ExcerptRow | list[ExcerptRow]:
        if isinstance(i, slice):
            return [self[k] for k in range(*i.indices(len(self)))]
        if i < 0:
            i += len(self)
        if not 0 <= i < len(self):
            raise IndexError("excerpt row index out of range")
        return self._cols.row(i if self._idx is None else self._idx[i])

    def __iter__(self) -> Iterator[ExcerptRow]:
        row = self._cols.row
        if self._idx is None:
            return (row(i) for i in range(len(self._cols)))
        return (row(i) for i in self._idx)

    def quoted(self) -> Iterator[tuple[str, str, str, str]]:
        """(excerpt_id, participant, code, text) of each row, in order: what a report quotes,
        without building each row's tags."""
        c = self._cols
        eid, who, code, text = c.excerpt_id, c.participant, c.code, c.text
        for i in range(len(c)) if self._idx is None else self._idx:
            yield eid[i], who[i], code[i], text[i]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (list, tuple, ExcerptView)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    def __repr__(self) -> str:
        return f"ExcerptView({len(self)} rows)"


# ---------------------------------------------------------------------------- the fast reader


MAX_FAST_HEADER_BYTES = 64 * 1024  # a longer header line is not an ordinary excerpts table
MAX_FAST_COLUMNS = (
    512  # nor is one with more columns: the careful reader takes it (issue 13 item 4)
)
_CHUNK = 1 << 20


def _c0_or_del(chunk: bytes, line_ends: int) -> bool:
    """Whether ``chunk`` holds a C0 control other than tab, line feed and carriage return (given
    their count, ``line_ends``), or DEL. Counted with numpy (a byte compare at memory speed):
    ``bytes.translate`` copying each block cost four times as long."""
    import numpy as np

    below_space = int(np.count_nonzero(np.frombuffer(chunk, dtype=np.uint8) < 0x20))
    tabs = chunk.count(b"\t") if b"\t" in chunk else 0
    return below_space != line_ends + tabs or b"\x7f" in chunk


class _Scan:
    """What one pass over the file's bytes tells (read in blocks, never held whole)."""

    def __init__(self) -> None:
        self.header: bytes = b""
        self.lines = 0
        self.ends_with_newline = False
        self.digest = ""
        self.no_controls = True  # no byte of the file can be a control character (see _scan)


def _scan(path: Path, report: Callable[[int], None] | None) -> _Scan | None:
    """Read the file once in blocks: its SHA-256, its header line and line count; None when it
    holds anything the fast reader leaves to the careful one (NUL bytes, not UTF-8, a lone
    carriage return, a line that may exceed the cell limit, an absurd header)."""
    import hashlib

    from triangulate.sources.tables import MAX_CELL

    out = _Scan()
    h = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")("strict")
    newlines = crs = crlfs = 0
    since_newline = 0  # bytes since the last line feed (across blocks)
    prev_last = b""
    done = 0
    header_done = False
    head = bytearray()
    try:
        with path.open("rb") as fh:
            while True:
                chunk = fh.read(_CHUNK)
                if not chunk:
                    break
                h.update(chunk)
                done += len(chunk)
                if b"\x00" in chunk:
                    return None
                if not chunk.isascii():
                    try:
                        decoded = decoder.decode(chunk)
                    except UnicodeDecodeError:
                        return None
                    if out.no_controls and has_controls(decoded):
                        out.no_controls = False
                first_nl = chunk.find(b"\n")
                if not header_done:
                    head += chunk if first_nl < 0 else chunk[:first_nl]
                    header_done = first_nl >= 0
                    if len(head) > MAX_FAST_HEADER_BYTES:
                        return None  # an absurd header: stop reading now
                if first_nl < 0:
                    since_newline += len(chunk)
                else:
                    since_newline += first_nl
                    if since_newline >= MAX_CELL:
                        return None
                    since_newline = len(chunk) - chunk.rfind(b"\n") - 1
                if since_newline >= MAX_CELL:
                    return (
                        None  # a cell may exceed the csv module's limit: the careful reader says so
                    )
                lf = chunk.count(b"\n")
                newlines += lf
                c = chunk.count(b"\r") if b"\r" in chunk else 0
                if out.no_controls and _c0_or_del(chunk, lf + c):
                    out.no_controls = False
                if c or prev_last == b"\r":
                    crs += c
                    crlfs += chunk.count(b"\r\n") + (
                        1 if prev_last == b"\r" and chunk[:1] == b"\n" else 0
                    )
                prev_last = chunk[-1:]
                if report is not None:
                    report(done // 2)  # the scan is about half the reading
            decoder.decode(b"", final=True)
    except (OSError, UnicodeDecodeError):
        return None
    if crs != crlfs:
        return None  # a lone carriage return (old Mac line ends, or inside a cell)
    out.header = bytes(head)
    out.ends_with_newline = prev_last == b"\n"
    out.lines = newlines + (0 if out.ends_with_newline or done == 0 else 1)
    out.digest = h.hexdigest()
    return out


def read_excerpts_fast(
    path: Path, shown: str, dimensions: list[str], progress: Progress | None = None
) -> tuple[ExcerptColumns, list[Finding]] | None:
    """Read a large, well-formed excerpts table; None means 'use the careful reader instead'."""
    suffix = path.suffix.lower()
    if suffix not in FAST_SUFFIXES:
        return None
    try:
        if not path.is_file():
            return None
        total = path.stat().st_size
    except OSError:
        return None  # the careful reader reports it
    if total < fast_min_bytes() or total > LIMITS["table"]:
        return None  # small, or too large: the careful reader reads or refuses it
    task = f"reading {shown}"
    report = (lambda n: progress(task, min(n, total), total)) if progress is not None else None
    if report is not None:
        report(0)
    parsed = _parse_fast(path, shown, suffix, dimensions, report)
    if report is not None:
        report(total)
    return parsed


def _header_cells(line: bytes, delimiter: str) -> list[str] | None:
    if line.endswith(b"\r"):
        line = line[:-1]
    if b'"' in line:
        return None
    return [c.strip() for c in line.decode("utf-8").split(delimiter)]


def _parse_fast(
    path: Path,
    shown: str,
    suffix: str,
    dimensions: list[str],
    report: Callable[[int], None] | None,
) -> tuple[ExcerptColumns, list[Finding]] | None:
    from triangulate.sources.tables import dialect_note, sniff_delimiter

    scan = _scan(path, report)
    if scan is None:
        return None
    line = scan.header
    bom = line.startswith(codecs.BOM_UTF8)
    if bom:
        line = line[len(codecs.BOM_UTF8) :]
    try:
        header_text = line.decode("utf-8")
    except UnicodeDecodeError:
        return None
    delimiter = FAST_SUFFIXES[suffix] or sniff_delimiter(header_text)
    header = _header_cells(line, delimiter)
    if header is None or len(header) > MAX_FAST_COLUMNS:
        return None
    named = [c for c in header if c]
    if len(set(named)) != len(named):
        return None  # data.duplicate-column
    if any(c not in header for c in EXCERPT_COLUMNS):
        return None  # data.missing-column
    wanted = list(EXCERPT_COLUMNS) + [d for d in dimensions if d in header]
    positions = [header.index(c) for c in wanted]
    lines = scan.lines
    findings: list[Finding] = []
    note = dialect_note(shown, suffix, delimiter, "utf-8-sig" if bom else "utf-8")
    if note is not None:
        findings.append(note)

    import pandas as pd

    try:
        # No usecols: only when it parses every column does pandas notice a row with too many
        # cells (an error, or for the first row a warning with index_col=False).
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            df = pd.read_csv(
                path,
                sep=delimiter,
                header=0,
                dtype=object,
                na_filter=False,
                keep_default_na=False,
                index_col=False,
                engine="c",
                encoding="utf-8-sig" if bom else "utf-8",
                quotechar='"',
                doublequote=True,
                skipinitialspace=False,
                skip_blank_lines=True,
            )
    except Exception:
        return None
    if caught or len(df) != lines - 1:
        return None  # a ragged row, a blank line or a record spanning lines
    from triangulate.digests import remember_digest

    remember_digest(path, scan.digest)  # the report's provenance needs no second read
    if df.shape[1] != len(header):
        return None
    cols = {name: df.iloc[:, p] for name, p in zip(wanted, positions)}
    del df  # the columns the tool does not use go with it
    n = len(cols["text"])
    rows = range(2, n + 2)  # one record per line, no blank line: row i is line i + 2
    built = _build(cols, wanted, rows, lambda i: Location(shown, row=rows[i], field="text"))
    if built is None:
        return None
    built[0].no_controls = scan.no_controls
    return built[0], findings + built[1]


def _build(
    cols: dict[str, Any],
    wanted: list[str],
    rows: Sequence[int],
    text_location: Callable[[int], Location],
) -> tuple[ExcerptColumns, list[Finding]] | None:
    """Excerpt columns from whole columns of cells (pandas Series or lists of str); None when a
    required value is empty (the careful reader then reports each one)."""
    import numpy as np
    import pandas as pd

    def coded(series: Any, strip: bool) -> Coded | None:
        ids, uniques = pd.factorize(np.asarray(series, dtype=object), sort=False)
        values = [str(u) for u in uniques]
        if not strip:
            return Coded(ids, values)
        clean = [u.strip() for u in values]
        if "" in clean:
            return None  # data.missing-value: the careful reader reports each one
        if clean != values:  # surrounding spaces: values that differ only by them are one value
            ids2, uniques2 = pd.factorize(np.asarray(clean, dtype=object), sort=False)
            ids, clean = ids2[ids], [str(u) for u in uniques2]
        return Coded(ids, clean)

    eid = coded(cols["excerpt_id"], True)
    who = coded(cols["participant"], True) if eid is not None else None
    code = coded(cols["code"], True) if who is not None else None
    if eid is None or who is None or code is None:
        return None
    text = np.asarray(cols["text"], dtype=object)
    from triangulate.sources.rows import split_tags

    tags: dict[str, Coded] = {}
    for d in wanted[len(EXCERPT_COLUMNS) :]:
        cells = coded(cols[d], False)
        assert cells is not None
        cells.values = [split_tags(c) for c in cells.values]
        tags[d] = cells
    findings: list[Finding] = []
    blank = np.flatnonzero((text == "") | np.frompyfunc(str.isspace, 1, 1)(text).astype(bool))
    if len(blank):
        findings.append(
            warning(
                "data.empty-text",
                f"{len(blank)} coding(s) have no excerpt text (first shown here); reports will show them as empty",
                text_location(int(blank[0])),
            )
        )
    return ExcerptColumns(eid, who, code, text, tags, rows), findings


def columns_from_table(
    table: Table, dimensions: list[str]
) -> tuple[ExcerptColumns, list[Finding]] | None:
    """A large excerpts table read by the careful reader (.xlsx, .jsonl, an odd CSV), held column
    by column like the fast reader's; None when the row-by-row parse must report something (a
    missing column or value) or a row's record spans lines (its location needs the line)."""
    if table.lines is not None or any(table.index(c) is None for c in EXCERPT_COLUMNS):
        return None
    wanted = list(EXCERPT_COLUMNS) + [d for d in dimensions if table.index(d) is not None]
    if table.by_column:
        cols = {name: table.by_column[table.columns.index(name)] for name in wanted}
    else:
        # Only the columns used, each one C-level pass over the rows (transposing every column
        # with zip(*rows) took most of a second at 150,000 rows).
        try:
            cols = {
                name: list(map(itemgetter(table.columns.index(name)), table.rows))
                for name in wanted
            }
        except IndexError:  # a short row: pad as zip would not, so fall back to the careful path
            return None
    return _build(cols, wanted, table.row_numbers, lambda i: table.loc(i, "text"))
