"""Reviewer worksheets (spec section 7): the blank sheet, reading every sheet, saving one row."""

from __future__ import annotations

import csv
import io
import os
from pathlib import Path

from triangulate.files import neutralise, unneutralise, write_new_file
from triangulate.findings import Finding, Location, error, warning
from triangulate.inputs import LIMITS
from triangulate.project import paths
from triangulate.project.loading import Project
from triangulate.protocol.analysis import ReviewerCode, Unit
from triangulate.protocol.compare import category_is_consistent, consistent_categories
from triangulate.sources.tables import read_table

YES = "yes"
NO = "no"


def worksheet_path(project: Project, reviewer: str) -> Path:
    return paths.worksheet_file(project.root, reviewer)


def worksheet_columns(project: Project) -> list[str]:
    return [
        "theme",
        "source_a",
        "source_b",
        *project.protocol.dimension_ids,
        "category",
        "rationale",
    ]


def blank_worksheet(project: Project, units: list[Unit]) -> str:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    cols = worksheet_columns(project)
    w.writerow(cols)
    for u in units:
        w.writerow([neutralise(u.theme.id), u.source_a, u.source_b] + [""] * (len(cols) - 3))
    return buf.getvalue()


def write_blank_worksheets(project: Project, units: list[Unit]) -> list[Path]:
    """Write reviews/<id>.csv for every configured reviewer that has none. Never overwrites."""
    written: list[Path] = []
    for r in project.file.reviewers:
        path = worksheet_path(project, r)
        if path.exists():
            continue
        if write_new_file(path, blank_worksheet(project, units)):
            written.append(path)
    return written


def _judgement(value: str) -> bool | str | None:
    v = value.strip().casefold()
    if v == "":
        return None
    if v == YES:
        return True
    if v == NO:
        return False
    return value


def read_worksheets(project: Project, units: list[Unit]) -> list[Finding]:
    """Read every configured reviewer's worksheet into ``unit.codes``. Returns findings."""
    findings: list[Finding] = []
    by_key = {u.key: u for u in units}
    themes = {t.id for t in project.codebook.themes}
    order = {sid: i for i, sid in enumerate(project.source_ids)}
    protocol = project.protocol
    dims = protocol.dimension_ids
    reviews_dir = project.root / "reviews"
    for u in units:
        u.codes = dict.fromkeys(project.file.reviewers)
    if reviews_dir.is_dir():
        for p in sorted(reviews_dir.glob("*.csv")):
            if p.stem not in project.file.reviewers:
                findings.append(
                    warning(
                        "review.unknown-reviewer",
                        f"worksheet {p.name} is not read: '{p.stem}' is not listed under 'reviewers' in the project file",
                        Location(f"reviews/{p.name}"),
                    )
                )
    for reviewer in project.file.reviewers:
        path = worksheet_path(project, reviewer)
        shown = paths.worksheet_shown(reviewer)
        if not os.path.lexists(path):
            continue  # not started yet (a dangling link or a loop is read, and reported)
        table, f = read_table(path, shown, limit=LIMITS["worksheet"])
        findings += f
        if table is None:
            continue
        missing = [c for c in ("theme", "source_a", "source_b") if c not in table.columns]
        if "category" not in table.columns and not any(d in table.columns for d in dims):
            missing.append("category")
        if missing:
            findings += [
                error(
                    "review.missing-column",
                    f"the worksheet needs a '{c}' column (columns: {', '.join(worksheet_columns(project))})",
                    Location(shown, row=1, field=c),
                )
                for c in missing
            ]
            continue
        seen: dict[tuple[str, str, str], int] = {}
        ti, ai, bi = table.index("theme"), table.index("source_a"), table.index("source_b")
        ci, ri = table.index("category"), table.index("rationale")
        dix = {d: table.index(d) for d in dims}
        for i, cells in enumerate(table.rows):
            theme, sa, sb = cells[ti].strip(), cells[ai].strip(), cells[bi].strip()  # type: ignore[index]
            category = cells[ci].strip() if ci is not None else ""
            rationale = unneutralise(cells[ri].strip()) if ri is not None else ""
            loc = table.loc
            bad = False
            if theme not in themes:
                findings.append(
                    error(
                        "review.unknown-theme",
                        f"theme '{theme}' is not in the codebook"
                        if theme
                        else "the theme cell is empty",
                        loc(i, "theme"),
                    )
                )
                bad = True
            for col, sid in (("source_a", sa), ("source_b", sb)):
                if sid not in order:
                    findings.append(
                        error(
                            "review.unknown-source",
                            f"source '{sid}' is not in the project (sources: {', '.join(order)})"
                            if sid
                            else f"the {col} cell is empty",
                            loc(i, col),
                        )
                    )
                    bad = True
            if category and category not in protocol.category_ids:
                findings.append(
                    error(
                        "review.unknown-category",
                        f"category '{category}' is not in protocol {protocol.id} (categories: {', '.join(protocol.category_ids)})",
                        loc(i, "category"),
                    )
                )
                bad = True
            judgements: dict[str, bool | None] = {}
            for d, j in dix.items():
                v = _judgement(cells[j]) if j is not None else None
                if isinstance(v, str):
                    findings.append(
                        error(
                            "review.bad-judgement",
                            f"'{d}' must be yes, no or empty, not '{v}'",
                            loc(i, d),
                        )
                    )
                    bad = True
                    v = None
                judgements[d] = v
            if bad:
                continue
            key = project.unit_key(theme, sa, sb)
            theme, sa, sb = key
            if key in seen:
                findings.append(
                    error(
                        "review.duplicate-unit",
                        f"this unit ({theme}, {sa}, {sb}) already has a row ({seen[key]}); keep one",
                        loc(i, "theme"),
                    )
                )
                continue
            seen[key] = table.row_numbers[i]
            unit = by_key.get(key)
            if unit is None:
                findings.append(
                    warning(
                        "review.not-a-unit",
                        f"({theme}, {sa}, {sb}) is not a unit: neither source has this theme in the data; the row is ignored",
                        loc(i, "theme"),
                    )
                )
                continue
            judged = [v for v in judgements.values() if v is not None]
            if not category and not judged:
                continue  # not coded yet
            derived = False
            if unit.one_source:
                if judged:
                    findings.append(
                        warning(
                            "review.judgement-ignored",
                            f"theme '{theme}' is in one source only, so dimension judgements do not apply and are ignored",
                            loc(i, dims[0]),
                        )
                    )
                if not category:
                    category, derived = protocol.rules.one_source, True
            else:
                if category:
                    if judged and not category_is_consistent(
                        protocol, category, list(judgements.values())
                    ):
                        possible = consistent_categories(protocol, list(judgements.values()))
                        said = ", ".join(
                            f"{d}={'yes' if v else 'no'}"
                            for d, v in judgements.items()
                            if v is not None
                        )
                        findings.append(
                            error(
                                "review.rule-conflict",
                                f"category '{category}' contradicts the judgements ({said}), which give "
                                f"{' or '.join(sorted(possible))} by the protocol's rule; correct one of them or leave the category empty",
                                loc(i, "category"),
                            )
                        )
                        continue
                elif len(judged) == len(dims):
                    category, derived = (
                        protocol.category_from_judgements([bool(v) for v in judgements.values()]),
                        True,
                    )
                else:
                    findings.append(
                        warning(
                            "review.incomplete",
                            f"only {len(judged)} of {len(dims)} dimensions are judged and no category is given; the unit counts as not coded",
                            loc(i, "category"),
                        )
                    )
                    continue
            unit.codes[reviewer] = ReviewerCode(
                reviewer, category, judgements, rationale, derived, table.row_numbers[i]
            )
    return findings


WRITE_ENCODINGS = {
    "utf-8": "utf-8",
    "utf-8-sig": "utf-8-sig",
    "utf-16": "utf-16",
    "cp1252": "cp1252",
}


def encode_worksheet(text: str, encoding: str | None) -> bytes:
    """``text`` in the encoding the worksheet was read with (spec section 7).

    A Windows-1252 worksheet that must now hold a character Windows-1252 cannot (a rationale typed
    with "ő" or an emoji) is written as UTF-8 with a byte-order mark instead, which Excel also opens
    correctly: losing the reviewer's text would be worse than changing the file's encoding.
    """
    name = WRITE_ENCODINGS.get(encoding or "utf-8", "utf-8")
    try:
        return text.encode(name)
    except UnicodeEncodeError:
        return text.encode("utf-8-sig", "replace")


def save_worksheet_row(
    project: Project, units: list[Unit], reviewer: str, row: dict[str, str]
) -> Path:
    """Put one unit's coding into the reviewer's worksheet, keeping every other row as it is.

    The worksheet is re-read just before the write (so edits made meanwhile are kept) through the
    same table reader the analysis uses, the one row for the unit is replaced (or added), and the
    file is replaced atomically and fsynced in the encoding and delimiter it was read with (UTF-8
    with or without BOM, UTF-16, Windows-1252; ``,``, ``;`` or tab), keeping its permissions: a
    crash leaves either the old worksheet or the new one, never half of one. A worksheet that
    cannot be read back whole (a ragged row would be dropped) is not rewritten: the coding is
    refused with the findings, and nothing is lost.
    """
    from triangulate.files import atomic_write_bytes
    from triangulate.findings import TriangulateError, exit_code_for

    path = worksheet_path(project, reviewer)
    shown = paths.worksheet_shown(reviewer)
    if not os.path.lexists(path):
        write_new_file(path, blank_worksheet(project, units))
    table, found = read_table(path, shown, limit=LIMITS["worksheet"])
    errors = [f for f in found if f.is_error]
    if table is None or errors:
        raise TriangulateError(
            f"your coding was not saved: {shown} cannot be read back whole; fix it and code this unit again",
            errors or found,
            exit_code_for(errors or found) or 1,
        )
    header = list(table.columns)
    for col in worksheet_columns(project):
        if col not in header:
            header.append(col)
    width = len(header)
    body = [r + [""] * (width - len(r)) for r in table.rows]
    ix = {c: header.index(c) for c in header}
    target = (row["theme"], row["source_a"], row["source_b"])
    new = [""] * width
    for r in body:
        cells = (r[ix["theme"]].strip(), r[ix["source_a"]].strip(), r[ix["source_b"]].strip())
        if project.unit_key(*cells) == target:
            new = r
            break
    else:
        body.append(new)
    for col, value in row.items():
        new[ix[col]] = neutralise(
            value
        )  # the worksheet is opened in Excel; read back by unneutralise
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=table.delimiter or ",", lineterminator="\n")
    w.writerow(header)
    w.writerows(body)
    atomic_write_bytes(path, encode_worksheet(buf.getvalue(), table.encoding))
    return path
