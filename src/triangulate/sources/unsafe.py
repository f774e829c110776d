"""Cells holding control characters: a warning located at the cell (spec v2 section 11).

The tool never prints such text raw (see :func:`triangulate.text.visible`); the warning tells the
team where the data holds escape sequences, bells or stray carriage returns, usually pasted from a
terminal or left by a broken export.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from triangulate.findings import Finding, Location, warning
from triangulate.sources.data import SourceData
from triangulate.text import has_controls

MAX_FINDINGS = 20  # per source: the first cells locate the problem well enough
_CHUNK = 4096


def _finding(file: str, row: int, column: str) -> Finding:
    return warning(
        "data.control-characters",
        "the cell holds control characters (an escape sequence, a bell, a carriage return); "
        "they are shown visibly wherever the tool prints them, never raw",
        Location(file, row=row, field=column),
    )


def _as_strings(values: Sequence[Any]) -> list[str]:
    """The values as a list of str (the fast reader gives a numpy array of str objects)."""
    vals = values.tolist() if hasattr(values, "tolist") else list(values)
    try:
        "".join(vals)  # C speed; raises TypeError when some value is not a str
    except TypeError:
        return [str(v) for v in vals]
    return vals


def _any_controls(values: list[str]) -> bool:
    """One check per ``_CHUNK`` values joined (C speed; a chunk at a time, so a source's text is
    never copied whole), the common case being no control at all. Joined by a space: joined by a
    newline, a value ending in a lone carriage return before one starting with a newline would
    read as a Windows line break and pass."""
    return any(
        has_controls(" ".join(values[start : start + _CHUNK]))
        for start in range(0, len(values), _CHUNK)
    )


def _bad_rows(values: Sequence[Any], limit: int) -> list[int]:
    """Indexes of the first ``limit`` strings in ``values`` holding control characters."""
    out: list[int] = []
    values = _as_strings(values)
    for start in range(0, len(values), _CHUNK):
        chunk = values[start : start + _CHUNK]
        if not has_controls(" ".join(chunk)):
            continue
        for i, v in enumerate(chunk):
            if has_controls(v):
                out.append(start + i)
                if len(out) >= limit:
                    return out
    return out


def control_character_findings(data: SourceData) -> list[Finding]:
    found: list[tuple[int, str]] = []
    if data.is_excerpts and data._columns is not None and data._columns.no_controls:
        return []  # the fast reader saw no control character anywhere in the file's bytes
    if data.is_excerpts and data._columns is None:
        # rows as read (building the columns here would fix codes a later step may still rename);
        # a chunk of rows is checked as one text first (fields joined by a space, so that no
        # carriage return can pair with the next field's newline), the rare bad chunk cell by cell
        rows = data.excerpts
        for start in range(0, len(rows), _CHUNK):
            chunk = rows[start : start + _CHUNK]
            if not has_controls(
                " ".join(f for r in chunk for f in (r.excerpt_id, r.participant, r.code, r.text))
            ):
                continue
            for r in chunk:
                for name in ("excerpt_id", "participant", "code", "text"):
                    if has_controls(getattr(r, name)):
                        found.append((r.row, name))
                if len(found) >= MAX_FINDINGS:
                    break
            if len(found) >= MAX_FINDINGS:
                break
    elif data.is_excerpts:
        cols = data.excerpt_columns()
        for name in ("excerpt_id", "participant", "code"):
            coded = getattr(cols, name)
            distinct = _as_strings(coded.values)
            if not _any_controls(distinct):
                continue
            bad_values = {k for k, v in enumerate(distinct) if has_controls(v)}
            if not bad_values:
                continue
            for i, vid in enumerate(coded.ids):
                if int(vid) in bad_values:
                    found.append((int(cols.rows[i]), name))
                    bad_values.discard(int(vid))  # once per distinct value
                    if not bad_values:
                        break
        for i in _bad_rows(cols.text, MAX_FINDINGS):
            found.append((int(cols.rows[i]), "text"))
    else:
        for s in data.survey:
            for name in ("code", "item"):
                if has_controls(getattr(s, name)):
                    found.append((s.row, name))
            if len(found) >= MAX_FINDINGS:
                break
    found.sort()
    return [_finding(data.file, row, column) for row, column in found[:MAX_FINDINGS]]
