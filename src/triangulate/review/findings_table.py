"""``findings.csv`` (spec section 6.1): what each source says about each theme, read and saved.

Minimal reader and row writer used by the web workspace's findings page. A row is saved by
rewriting the file atomically with every other row kept as it is (the same promise as a
worksheet row); the caller holds :func:`triangulate.review.locks.file_lock` around a
read-check-write so that a row changed on disk since a page loaded is never overwritten.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from triangulate.files import atomic_write_text, neutralise, unneutralise
from triangulate.findings import Finding
from triangulate.project.loading import Project
from triangulate.protocol.analysis import SourceFinding
from triangulate.sources.tables import read_table

FINDINGS_COLUMNS = ("theme", "source", "finding", "exemplar")


def findings_path(project: Project) -> Path | None:
    """The project's findings.csv, or None when the project file names none."""
    name = getattr(project.file, "findings", None)
    return project.root / name if name else None


def read_source_findings(
    project: Project,
) -> tuple[dict[tuple[str, str], SourceFinding], list[Finding]]:
    """Every row of findings.csv keyed by (theme, source); a missing file is an empty table."""
    path = findings_path(project)
    if path is None or not path.exists():
        return {}, []
    table, findings = read_table(path, str(getattr(project.file, "findings", path.name)))
    out: dict[tuple[str, str], SourceFinding] = {}
    if table is None:
        return out, findings
    ti, si = table.index("theme"), table.index("source")
    fi, ei = table.index("finding"), table.index("exemplar")
    if ti is None or si is None:
        return out, findings
    for cells in table.rows:
        theme, source = cells[ti].strip(), cells[si].strip()
        text = unneutralise(cells[fi].strip()) if fi is not None else ""
        exemplar = cells[ei].strip() if ei is not None else ""
        out.setdefault((theme, source), SourceFinding(theme, source, text, exemplar or None))
    return out, findings


def save_finding_row(project: Project, row: dict[str, str]) -> Path:
    """Put one (theme, source) row into findings.csv, keeping every other row as it is."""
    path = findings_path(project)
    if path is None:
        raise ValueError("the project file names no findings file ('findings:')")
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
    new: list[str] | None = None
    for r in body:
        if (r[ix["theme"]].strip(), r[ix["source"]].strip()) == target:
            new = r
            break
    if new is None:
        new = [""] * width
        body.append(new)
    for col, value in row.items():
        new[ix[col]] = neutralise(value)
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(body)
    atomic_write_text(path, buf.getvalue())
    return path
