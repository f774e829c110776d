"""Excerpt data held column by column, and a fast reader for large, plainly well-formed tables.

:class:`ExcerptColumns` keeps one list per column (excerpt id, participant, code, text, the tags
of each dimension as small integer ids) and answers what sorting needs without building one
object per row: the rows of each code, distinct excerpts and participants among given rows, and
the union of their tags. Rows are materialised as :class:`~triangulate.sources.ExcerptRow` only
when shown (:class:`ExcerptView`).

:func:`read_excerpts_fast` reads a large ``.csv``/``.tsv`` excerpts source with pandas' C parser,
only the columns the tool uses, every value as text. It gives up (returns None) on anything out of
the ordinary (NUL bytes, not UTF-8, a quote or a repeated name in the header, a missing required
column, a record spanning lines, a blank or ragged row, a lone carriage return, an empty required
value, a cell over the size limit); the careful reader (:mod:`triangulate.tables` and
:mod:`triangulate.sources`) then reads the file and reports every finding with its row number, so
both paths give the same findings and the same data.

pandas is imported only here, and only for files of at least :data:`FAST_MIN_BYTES` bytes (set the
environment variable ``TRIANGULATE_FAST_READ_MIN_BYTES`` to change it, e.g. 0 in tests).
"""

from __future__ import annotations

import codecs
import io
import os
import warnings
from collections.abc import Iterator, Sequence
from operator import itemgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, overload

from triangulate.findings import Finding, Location, warning

if TYPE_CHECKING:
    from triangulate.sources import ExcerptRow

Progress = Callable[[str, int, int], None]
"""``progress(task, done, total)``: the library's only way to report progress (it never prints)."""

FAST_SUFFIXES = {".csv": ",", ".txt": ",", ".tsv": "\t"}
EXCERPT_COLUMNS = ("excerpt_id", "participant", "code", "text")


def fast_min_bytes() -> int:
    try:
        return int(os.environ.get("TRIANGULATE_FAST_READ_MIN_BYTES", 1 << 20))
    except ValueError:
        return 1 << 20


class ExcerptColumns:
    """One excerpts source, column by column (rows in file order)."""

    def __init__(
        self,
        excerpt_id: Sequence[str],
        participant: Sequence[str],
        code: Sequence[str],
        text: Sequence[str],
        tag_ids: dict[str, Sequence[int]],
        tag_values: dict[str, list[tuple[str, ...]]],
        rows: Sequence[int],
        originals: Sequence[ExcerptRow] | None = None,
    ) -> None:
        self.excerpt_id = excerpt_id
        self.participant = participant
        self.code = code
        self.text = text
        self.tag_ids = tag_ids  # dimension -> per row, an index into tag_values[dimension]
        self.tag_values = tag_values  # dimension -> the distinct split tag tuples
        self.rows = rows  # row numbers as findings show them
        self.originals = originals  # the ExcerptRow objects these columns were built from, if any
        self._by_code: dict[str, list[int]] | None = None
        self._participants: int | None = None
        self._excerpts: int | None = None

    @classmethod
    def from_rows(cls, rows: Sequence[ExcerptRow]) -> ExcerptColumns:
        dims: dict[str, None] = {}
        for r in rows[:1]:
            dims.update(dict.fromkeys(r.tags))
        tag_ids: dict[str, list[int]] = {d: [] for d in dims}
        tag_values: dict[str, list[tuple[str, ...]]] = {d: [] for d in dims}
        for d in dims:
            seen: dict[tuple[str, ...], int] = {}
            ids = tag_ids[d]
            values = tag_values[d]
            for r in rows:
                t = r.tags.get(d, ())
                i = seen.get(t)
                if i is None:
                    i = seen[t] = len(values)
                    values.append(t)
                ids.append(i)
        return cls(
            [r.excerpt_id for r in rows],
            [r.participant for r in rows],
            [r.code for r in rows],
            [r.text for r in rows],
            tag_ids,  # type: ignore[arg-type]
            tag_values,
            [r.row for r in rows],
            originals=rows,
        )

    def __len__(self) -> int:
        return len(self.code)

    def row(self, i: int) -> ExcerptRow:
        if self.originals is not None:
            return self.originals[i]
        from triangulate.sources import ExcerptRow

        tags = {d: self.tag_values[d][ids[i]] for d, ids in self.tag_ids.items()}
        return ExcerptRow(self.excerpt_id[i], self.participant[i], self.code[i], self.text[i], tags, self.rows[i])

    def by_code(self) -> dict[str, list[int]]:
        """Row indices of each code, ascending; codes in order of first appearance."""
        if self._by_code is None:
            groups: dict[str, list[int]] = {}
            for i, c in enumerate(self.code):
                g = groups.get(c)
                if g is None:
                    groups[c] = [i]
                else:
                    g.append(i)
            self._by_code = groups
        return self._by_code

    def first_rows(self) -> dict[str, int]:
        """The row number where each code first appears."""
        return {c: self.rows[ix[0]] for c, ix in self.by_code().items()}

    def participant_count(self) -> int:
        if self._participants is None:
            self._participants = len(set(self.participant))
        return self._participants

    def excerpt_count(self) -> int:
        if self._excerpts is None:
            self._excerpts = len(set(self.excerpt_id))
        return self._excerpts

    def rows_of(self, codes: Sequence[str]) -> list[int]:
        """Indices of the rows carrying any of ``codes``, in file order."""
        by_code = self.by_code()
        parts = [by_code[c] for c in dict.fromkeys(codes) if c in by_code]
        if len(parts) == 1:
            return list(parts[0])
        out = [i for p in parts for i in p]
        out.sort()
        return out

    def distinct(self, column: Sequence[str], idx: Sequence[int]) -> int:
        if not idx:
            return 0
        if len(idx) == 1:
            return 1
        return len(set(itemgetter(*idx)(column)))

    def tags_of(self, idx: Sequence[int], dimensions: Sequence[str]) -> dict[str, set[str]]:
        """For each dimension, the union of the tags of the rows ``idx``."""
        out: dict[str, set[str]] = {}
        for d in dimensions:
            tags: set[str] = set()
            ids = self.tag_ids.get(d)
            if ids is not None and idx:
                values = self.tag_values[d]
                picked = {ids[idx[0]]} if len(idx) == 1 else set(itemgetter(*idx)(ids))
                for t in picked:
                    tags.update(values[t])
            out[d] = tags
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

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (list, tuple, ExcerptView)):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other))
        return NotImplemented

    def __repr__(self) -> str:
        return f"ExcerptView({len(self)} rows)"


# ---------------------------------------------------------------------------- the fast reader


class _Reading(io.BytesIO):
    """The file's bytes, reporting how far the parser has read."""

    def __init__(self, raw: bytes, start: int, report: Callable[[int], None] | None) -> None:
        super().__init__(raw)
        self.seek(start)
        self._report = report

    def read(self, size: int | None = -1) -> bytes:
        chunk = super().read(size)
        if self._report is not None:
            self._report(self.tell())
        return chunk


def _has_long_line(raw: bytes, start: int, limit: int) -> bool:
    """Whether some line may be ``limit`` bytes or longer (every such line covers a whole block of
    ``limit // 2`` bytes that holds no newline; the check looks for such a block)."""
    half = max(1, limit // 2)
    return any(raw.find(b"\n", a, a + half) < 0 for a in range(start, len(raw) - half + 1, half))


def read_excerpts_fast(
    path: Path, shown: str, dimensions: list[str], progress: Progress | None = None
) -> tuple[ExcerptColumns, list[Finding]] | None:
    """Read a large, well-formed excerpts table; None means 'use the careful reader instead'."""
    delimiter = FAST_SUFFIXES.get(path.suffix.lower())
    if delimiter is None:
        return None
    try:
        if not path.is_file():
            return None
        total = path.stat().st_size
    except OSError:
        return None  # the careful reader reports it
    if total < fast_min_bytes():
        return None
    task = f"reading {shown}"
    report = (lambda n: progress(task, min(n, total), total)) if progress is not None else None
    if report is not None:
        report(0)
    parsed = _parse_fast(path, shown, delimiter, dimensions, report)
    if report is not None:
        report(total)
    return parsed


def _header_cells(raw: bytes, start: int, delimiter: str) -> list[str] | None:
    end = raw.find(b"\n", start)
    line = raw[start:] if end < 0 else raw[start:end]
    if line.endswith(b"\r"):
        line = line[:-1]
    if b'"' in line:
        return None
    return [c.strip() for c in line.decode("utf-8").split(delimiter)]


def _parse_fast(
    path: Path, shown: str, delimiter: str, dimensions: list[str], report: Callable[[int], None] | None
) -> tuple[ExcerptColumns, list[Finding]] | None:
    from triangulate.tables import MAX_CELL

    try:
        raw = path.read_bytes()
    except OSError:
        return None
    if b"\x00" in raw:
        return None
    if not raw.isascii():
        try:
            raw.decode("utf-8")
        except UnicodeDecodeError:
            return None
    if b"\r" in raw and raw.count(b"\r") != raw.count(b"\r\n"):
        return None
    start = len(codecs.BOM_UTF8) if raw.startswith(codecs.BOM_UTF8) else 0
    header = _header_cells(raw, start, delimiter)
    if header is None:
        return None
    named = [c for c in header if c]
    if len(set(named)) != len(named):
        return None  # data.duplicate-column
    if any(c not in header for c in EXCERPT_COLUMNS):
        return None  # data.missing-column
    wanted = list(EXCERPT_COLUMNS) + [d for d in dimensions if d in header]
    positions = [header.index(c) for c in wanted]
    lines = raw.count(b"\n", start) + (0 if raw.endswith(b"\n") else 1)
    if len(raw) - start >= MAX_CELL and _has_long_line(raw, start, MAX_CELL):
        return None  # a cell may exceed the csv module's limit: let the careful reader say so

    import numpy as np
    import pandas as pd

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            df = pd.read_csv(
                _Reading(raw, start, report),
                sep=delimiter,
                header=0,
                usecols=positions,
                dtype=object,
                na_filter=False,
                keep_default_na=False,
                index_col=False,
                engine="c",
                encoding="utf-8",
                quotechar='"',
                doublequote=True,
                skipinitialspace=False,
                skip_blank_lines=True,
            )
    except Exception:  # any parser complaint: the careful reader explains it
        return None
    if caught or len(df) != lines - 1:
        return None  # a ragged row, a blank line or a record spanning lines
    del raw
    by_pos = {p: df.iloc[:, k] for k, p in enumerate(sorted(positions))}
    cols = {name: by_pos[p] for name, p in zip(wanted, positions)}
    del df

    def stripped(series: Any) -> list[str] | None:
        ids, uniques = pd.factorize(series, sort=False)
        uniq = [str(u) for u in uniques]
        clean = [u.strip() for u in uniq]
        if "" in clean:
            return None  # data.missing-value
        if clean != uniq:
            ids2, uniques2 = pd.factorize(np.asarray(clean, dtype=object), sort=False)
            ids = ids2[ids]
            uniques = uniques2
        return np.asarray(uniques, dtype=object)[ids].tolist()  # type: ignore[no-any-return]

    eid = stripped(cols["excerpt_id"])
    who = stripped(cols["participant"]) if eid is not None else None
    code = stripped(cols["code"]) if who is not None else None
    if eid is None or who is None or code is None:
        return None
    text: list[str] = cols["text"].tolist()
    from triangulate.sources import split_tags

    tag_ids: dict[str, Sequence[int]] = {}
    tag_values: dict[str, list[tuple[str, ...]]] = {}
    for d in wanted[len(EXCERPT_COLUMNS) :]:
        ids, uniques = pd.factorize(cols[d], sort=False)
        tag_ids[d] = ids.tolist()
        tag_values[d] = [split_tags(str(u)) for u in uniques]
    del cols, by_pos
    n = len(code)
    rows = range(2, n + 2)  # one record per line, no blank line: row i is line i + 2
    findings: list[Finding] = []
    blank = [i for i, t in enumerate(text) if not t or t.isspace()]
    if blank:
        findings.append(
            warning(
                "data.empty-text",
                f"{len(blank)} coding(s) have no excerpt text (first shown here); reports will show them as empty",
                Location(shown, row=rows[blank[0]], field="text"),
            )
        )
    return ExcerptColumns(eid, who, code, text, tag_ids, tag_values, rows), findings
