"""Spec 6.1: ``findings.csv``, what each source says about each theme, and its exemplar.

``read_source_findings`` checks and reads the file; ``write_blank_findings`` writes the blank
file once (never overwriting); ``save_finding_row`` rewrites one row atomically, refusing when that
row changed on disk since the caller read it.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from triangulate.files import neutralise, unneutralise, write_new_file
from triangulate.findings import Finding, Location, error, warning
from triangulate.project.loading import Project
from triangulate.protocol.analysis import SourceFinding, ThemeSource
from triangulate.sources.tables import read_table

__all__ = [
    "FINDINGS_COLUMNS",
    "FindingRowChanged",
    "SourceFinding",
    "read_source_findings",
    "save_finding_row",
    "write_blank_findings",
]

FINDINGS_COLUMNS = ["theme", "source", "finding", "exemplar"]


class FindingRowChanged(Exception):
    """The row was changed on disk since it was read: nothing was written."""


def findings_path(project: Project) -> Path | None:
    return project.root / project.file.findings if project.file.findings else None


def blank_findings(project: Project, sorting: dict[tuple[str, str], ThemeSource]) -> str:
    """One blank row per theme present in a source, in codebook then source order."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(FINDINGS_COLUMNS)
    for t in project.codebook.themes:
        for sid in project.source_ids:
            ts = sorting.get((t.id, sid))
            if ts is not None and ts.present:
                w.writerow([neutralise(t.id), sid, "", ""])
    return buf.getvalue()


def write_blank_findings(
    project: Project, sorting: dict[tuple[str, str], ThemeSource]
) -> Path | None:
    """Write the findings file when the project names it and it does not exist (create-only)."""
    path = findings_path(project)
    if path is None or path.exists():
        return None
    path.parent.mkdir(parents=True, exist_ok=True)
    return path if write_new_file(path, blank_findings(project, sorting)) else None


def _exemplar_ok(project: Project, ts: ThemeSource, exemplar: str) -> bool:
    if ts.kind == "excerpts":
        return any(r.excerpt_id == exemplar for r in ts.excerpt_rows)
    theme = next(t for t in project.codebook.themes if t.id == ts.theme)
    return exemplar in theme.codes.get(ts.source, [])


def read_source_findings(
    project: Project, sorting: dict[tuple[str, str], ThemeSource] | None = None
) -> tuple[dict[tuple[str, str], SourceFinding], list[Finding]]:
    """The findings file's rows keyed by (theme, source), and every problem with them.

    ``sorting`` is the analysis's Step 1 table; without it, the sources are sorted here.
    """
    if sorting is None:
        from triangulate.protocol.analysis import build_units

        sorting = build_units(project)[1]
    path = findings_path(project)
    out: dict[tuple[str, str], SourceFinding] = {}
    if path is None:
        return out, []
    shown = project.file.findings or ""
    findings: list[Finding] = []
    themes = {t.id for t in project.codebook.themes}
    sources = project.source_ids
    if path.exists():
        table, f = read_table(path, shown)
        findings += f
        if table is not None:
            missing = [c for c in ("theme", "source", "finding") if c not in table.columns]
            for c in missing:
                findings.append(
                    error(
                        "findings.missing-column",
                        f"the findings table needs a '{c}' column (columns: {', '.join(FINDINGS_COLUMNS)})",
                        Location(shown, row=1, field=c),
                    )
                )
            if not missing:
                out = _read_rows(project, table, sorting, themes, sources, findings)
    for t in project.codebook.themes:
        for sid in sources:
            ts = sorting.get((t.id, sid))
            if ts is None or not ts.present:
                continue
            sf = out.get((t.id, sid))
            if sf is None or not sf.text.strip():
                findings.append(
                    warning(
                        "findings.missing",
                        f"theme '{t.id}' is present in source '{sid}' but has no finding; "
                        "summarise what the source says about it"
                        + (
                            "" if path.exists() else " ('triangulate converge' writes a blank file)"
                        ),
                        Location(
                            shown, row=sf.row if sf else None, field="finding" if sf else None
                        ),
                    )
                )
    return out, findings


def _read_rows(
    project: Project,
    table: object,
    sorting: dict[tuple[str, str], ThemeSource],
    themes: set[str],
    sources: list[str],
    findings: list[Finding],
) -> dict[tuple[str, str], SourceFinding]:
    from triangulate.sources.tables import Table

    assert isinstance(table, Table)
    out: dict[tuple[str, str], SourceFinding] = {}
    seen: dict[tuple[str, str], int] = {}
    ti, si, fi = table.index("theme"), table.index("source"), table.index("finding")
    ei = table.index("exemplar")
    assert ti is not None and si is not None and fi is not None
    for i, cells in enumerate(table.rows):
        theme, sid = unneutralise(cells[ti].strip()), cells[si].strip()
        text = unneutralise(cells[fi].strip())
        exemplar = unneutralise(cells[ei].strip()) if ei is not None else ""
        if not theme and not sid and not text and not exemplar:
            continue  # an empty line a spreadsheet left behind
        bad = False
        if theme not in themes:
            findings.append(
                error(
                    "findings.unknown-theme",
                    f"theme '{theme}' is not in the codebook"
                    if theme
                    else "the theme cell is empty",
                    table.loc(i, "theme"),
                )
            )
            bad = True
        if sid not in sources:
            findings.append(
                error(
                    "findings.unknown-source",
                    f"source '{sid}' is not in the project (sources: {', '.join(sources)})"
                    if sid
                    else "the source cell is empty",
                    table.loc(i, "source"),
                )
            )
            bad = True
        if bad:
            continue
        key = (theme, sid)
        if key in seen:
            findings.append(
                error(
                    "findings.duplicate-row",
                    f"theme '{theme}' and source '{sid}' already have a row (row {seen[key]}); keep one",
                    table.loc(i, "theme"),
                )
            )
            continue
        seen[key] = table.row_numbers[i]
        ts = sorting[key]
        if not ts.present:
            findings.append(
                warning(
                    "findings.theme-absent",
                    f"theme '{theme}' is not present in source '{sid}', so this finding describes nothing the data shows",
                    table.loc(i, "theme"),
                )
            )
        if exemplar and not _exemplar_ok(project, ts, exemplar):
            what = "an excerpt" if ts.kind == "excerpts" else "a code"
            findings.append(
                error(
                    "findings.bad-exemplar",
                    f"exemplar '{exemplar}' is not {what} of source '{sid}' in theme '{theme}'",
                    table.loc(i, "exemplar"),
                )
            )
            exemplar = ""
        out[key] = SourceFinding(theme, sid, text, exemplar or None, table.row_numbers[i])
    return out


def save_finding_row(
    project: Project,
    row: dict[str, str],
    expected: dict[str, str] | None = None,
) -> Path:
    """Put one (theme, source) row into the findings file, keeping every other row as it is.

    ``row`` holds ``theme``, ``source`` and the cells to set (``finding``, ``exemplar``). With
    ``expected`` (the row's cells as the caller last read them), a row changed on disk since then
    raises :class:`FindingRowChanged` and nothing is written. The file is replaced atomically.
    """
    from triangulate.files import atomic_write_text

    path = findings_path(project)
    if path is None:
        raise ValueError("the project names no findings file ('findings:' in triangulate.yaml)")
    rows: list[list[str]] = []
    if path.exists():
        with path.open(encoding="utf-8-sig", newline="") as fh:
            rows = list(csv.reader(fh))
    header = rows[0] if rows else list(FINDINGS_COLUMNS)
    body = rows[1:]
    for col in FINDINGS_COLUMNS:
        if col not in header:
            header.append(col)
    width = len(header)
    body = [r + [""] * (width - len(r)) for r in body]
    ix = {c: header.index(c) for c in header}
    target = (row["theme"], row["source"])
    current: list[str] | None = None
    for r in body:
        if (unneutralise(r[ix["theme"]].strip()), r[ix["source"]].strip()) == target:
            current = r
            break
    if expected is not None:
        now = {
            c: unneutralise(current[ix[c]].strip()) if current is not None else ""
            for c in ("finding", "exemplar")
        }
        if any(now[c] != expected.get(c, "").strip() for c in now):
            raise FindingRowChanged(f"the row for ({target[0]}, {target[1]}) changed on disk")
    if current is None:
        current = [""] * width
        body.append(current)
    for col, value in row.items():
        if col in ix:
            current[ix[col]] = neutralise(value)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(body)
    atomic_write_text(path, buf.getvalue())
    return path
