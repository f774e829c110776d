"""The tables every renderer shares: sorting, convergence matrix, summary."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from triangulate.files import neutralise
from triangulate.protocol.analysis import Analysis

SORTING_COLUMNS = [
    "theme",
    "group",
    "source",
    "present",
    "codes",
    "excerpts",
    "participants",
    "prominence",
    "finding",  # v2 (spec 6.1)
]


def fmt_share(x: float) -> str:
    """A proportion written plainly with up to four decimals: 0.65, 0.6111, 0, 1."""
    r = round(x, 4)
    if r == int(r):
        return str(int(r))
    return f"{r:.4f}".rstrip("0")


def sorting_rows(analysis: Analysis) -> list[list[str]]:
    rows: list[list[str]] = []
    for theme in analysis.project.codebook.themes:
        for sid in analysis.project.source_ids:
            ts = analysis.sorting[(theme.id, sid)]
            rows.append(
                [
                    theme.id,
                    theme.group or "",
                    sid,
                    "yes" if ts.present else "no",
                    ";".join(ts.codes),
                    "" if ts.excerpts is None else str(ts.excerpts),
                    "" if ts.participants is None else str(ts.participants),
                    fmt_share(ts.prominence),
                    _finding_text(analysis, theme.id, sid),
                ]
            )
    return rows


def _finding_text(analysis: Analysis, theme: str, source: str) -> str:
    sf = analysis.source_findings.get((theme, source))
    return sf.text if sf is not None else ""


def matrix_columns(analysis: Analysis) -> list[str]:
    return [
        "theme",
        "group",
        "source_a",
        "source_b",
        "proposed",
        *analysis.reviewers,
        "final",
        "status",
        "rationale",
        "note",
        # v2 columns, after the v1 ones so v1 readers keep working
        "finding_a",
        "finding_b",
        "prominence_a",
        "prominence_b",
        *(f"dim_{d}" for d in analysis.project.protocol.dimension_ids),
    ]


def matrix_rows(analysis: Analysis) -> list[list[str]]:
    rows: list[list[str]] = []
    for u in analysis.units:
        reviewer_cells = [u.category_of(r) or "" for r in analysis.reviewers]
        rows.append(
            [
                u.theme.id,
                u.group,
                u.source_a,
                u.source_b,
                u.proposed or "",
                *reviewer_cells,
                u.final or "",
                u.status,
                u.rationale,
                u.note,
                _finding_text(analysis, u.theme.id, u.source_a),
                _finding_text(analysis, u.theme.id, u.source_b),
                fmt_share(u.a.prominence),
                fmt_share(u.b.prominence),
                *(u.outcomes.get(d) or "" for d in analysis.project.protocol.dimension_ids),
            ]
        )
    return rows


def to_csv(columns: list[str], rows: list[list[str]]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([neutralise(c) for c in columns])
    for r in rows:
        w.writerow([neutralise(c) for c in r])
    return buf.getvalue()


def summary(analysis: Analysis) -> dict[str, Any]:
    statuses = analysis.statuses()
    return {
        "protocol": analysis.project.protocol.id,
        "units": len(analysis.units),
        "counts": analysis.counts(),
        "statuses": statuses,
        "disputed": statuses["disputed"],
        "uncoded": statuses["uncoded"],
        "agreement": analysis.agreement.to_dict() if analysis.agreement else None,
        "silences": analysis.silences(),
        "blind": analysis.project.file.blind,
        "agreement_all_units": analysis.agreement_all_units.to_dict()
        if analysis.agreement_all_units
        else None,
    }


def summary_json(analysis: Analysis) -> str:
    return json.dumps(summary(analysis), indent=2, ensure_ascii=False) + "\n"
