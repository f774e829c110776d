"""Reading one source (spec section 4): dispatch by kind and format, then parse rows."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING

from triangulate.findings import Finding, Location, error, warning
from triangulate.project.models import SourceSpec
from triangulate.sources.data import SourceData
from triangulate.sources.rows import (
    EXCERPT_COLUMNS,
    SURVEY_COLUMNS,
    ExcerptRow,
    SurveyRow,
    split_tags,
)
from triangulate.sources.tables import (
    Table,
    consecutive,
    ensure_rows,
    read_table,
    split_sheet,
)

if TYPE_CHECKING:
    from triangulate.progress import Progress


def load_source(
    root: Path, spec: SourceSpec, dimensions: list[str], progress: Progress | None = None
) -> tuple[SourceData | None, list[Finding]]:
    base, sheet = split_sheet(spec.path)
    if spec.kind == "excerpts" and sheet is None:
        from triangulate.sources.columns import (
            read_excerpts_fast,  # large, well-formed CSV/TSV only
        )

        fast = read_excerpts_fast(root / base, base, dimensions, progress)
        if fast is not None:
            data = SourceData(spec, spec.path)
            data.attach_columns(fast[0])
            return data, fast[1]
    if spec.kind == "excerpts" and base.lower().endswith(".qdpx"):
        from triangulate.sources.refi.qdpx import load_qdpx_source  # REFI-QDA project (spec 4.4)

        return load_qdpx_source(root, spec)
    if spec.kind == "survey_responses":
        from triangulate.sources.responses import load_responses  # respondent-level data (spec 4.3)

        return load_responses(root, spec)
    large = spec.kind == "excerpts" and _large(root / base)
    # A large excerpts source keeps only the cells the tool uses (a .jsonl file leaves the others).
    keep = (*EXCERPT_COLUMNS, *dimensions) if large else None
    table, findings = read_table(root / base, base, sheet, rows=not large, keep=keep)
    if table is None:
        return None, findings
    data = SourceData(spec, spec.path)
    if spec.kind == "excerpts":
        if large:
            from triangulate.sources.columns import columns_from_table

            built = columns_from_table(table, dimensions)  # column by column, as the fast reader
            if built is not None:
                built[0].rows = consecutive(built[0].rows)
                data.attach_columns(built[0])
                return data, findings + built[1]
            ensure_rows(table)
        findings += _parse_excerpts(table, data, dimensions)
    elif spec.kind == "survey":
        findings += _parse_survey(table, data, dimensions)
    return data, findings


def _large(path: Path) -> bool:
    from triangulate.sources.columns import fast_min_bytes

    try:
        return path.stat().st_size >= fast_min_bytes()
    except OSError:
        return False


def _require(table: Table, names: tuple[str, ...], kind: str) -> list[Finding]:
    missing = [c for c in names if c not in table.columns]
    return [
        error(
            "data.missing-column",
            f"a '{kind}' source needs a column '{c}' (the header has: {', '.join(table.columns) or 'nothing'})",
            Location(table.file, row=1, field=c),
        )
        for c in missing
    ]


def _parse_excerpts(table: Table, data: SourceData, dimensions: list[str]) -> list[Finding]:
    findings = _require(table, EXCERPT_COLUMNS, "excerpts")
    if findings:
        return findings
    ix = [table.index(c) for c in EXCERPT_COLUMNS]
    dims = [(d, table.index(d)) for d in dimensions if table.index(d) is not None]
    empty_text = 0
    first_empty: Location | None = None
    for i, cells in enumerate(table.rows):
        eid, who, code, text = (cells[j] for j in ix)  # type: ignore[index]
        eid, who, code = eid.strip(), who.strip(), code.strip()
        bad = False
        for name, value in (("excerpt_id", eid), ("participant", who), ("code", code)):
            if not value:
                findings.append(
                    error(
                        "data.missing-value",
                        f"'{name}' is empty; every coding needs one",
                        table.loc(i, name),
                    )
                )
                bad = True
        if bad:
            continue
        if not text.strip():
            empty_text += 1
            first_empty = first_empty or table.loc(i, "text")
        tags = {d: split_tags(cells[j]) for d, j in dims}  # type: ignore[index]
        data.excerpts.append(ExcerptRow(eid, who, code, text, tags, table.row_numbers[i]))
    if empty_text:
        findings.append(
            warning(
                "data.empty-text",
                f"{empty_text} coding(s) have no excerpt text (first shown here); reports will show them as empty",
                first_empty,
            )
        )
    return findings


def _parse_int(value: str) -> int | None:
    v = value.strip()
    try:
        return int(v)
    except ValueError:
        pass
    try:
        f = float(v)
    except ValueError:
        return None
    if math.isfinite(f) and f.is_integer():
        return int(f)
    return None


def _parse_float(value: str) -> float | None:
    v = value.strip().rstrip("%").strip()
    try:
        f = float(v)
    except ValueError:
        return None
    return f if math.isfinite(f) else None


def _parse_survey(table: Table, data: SourceData, dimensions: list[str]) -> list[Finding]:
    findings = _require(table, SURVEY_COLUMNS, "survey")
    if "endorsed" not in table.columns and "percent" not in table.columns:
        findings.append(
            error(
                "data.missing-column",
                "a 'survey' source needs an 'endorsed' column (counts) or a 'percent' column (published percentages)",
                Location(table.file, row=1, field="endorsed"),
            )
        )
    if findings:
        return findings
    ci, ri = table.index("code"), table.index("respondents")
    ei, pi, ii = table.index("endorsed"), table.index("percent"), table.index("item")
    dims = [(d, table.index(d)) for d in dimensions if table.index(d) is not None]
    seen: dict[str, int] = {}
    for i, cells in enumerate(table.rows):
        code = cells[ci].strip()  # type: ignore[index]
        if not code:
            findings.append(
                error(
                    "data.missing-value",
                    "'code' is empty; every survey row needs a code",
                    table.loc(i, "code"),
                )
            )
            continue
        if code in seen:
            findings.append(
                error(
                    "data.duplicate-code",
                    f"code '{code}' is already on row {seen[code]}; give each survey code one row",
                    table.loc(i, "code"),
                )
            )
            continue
        seen[code] = table.row_numbers[i]
        ok = True
        raw_n = cells[ri].strip()  # type: ignore[index]
        n = _parse_int(raw_n)
        if not raw_n:
            findings.append(
                error(
                    "data.missing-value",
                    "'respondents' is empty; give the number who answered",
                    table.loc(i, "respondents"),
                )
            )
            ok = False
        elif n is None:
            findings.append(
                error(
                    "data.not-a-number",
                    f"'respondents' must be a whole number, not '{raw_n}'",
                    table.loc(i, "respondents"),
                )
            )
            ok = False
        elif n < 1:
            findings.append(
                error(
                    "data.respondents-too-small",
                    f"'respondents' must be at least 1 (it is {n})",
                    table.loc(i, "respondents"),
                )
            )
            ok = False
        raw_e = cells[ei].strip() if ei is not None else ""
        raw_p = cells[pi].strip() if pi is not None else ""
        endorsed = percent = None
        if raw_e:
            endorsed = _parse_int(raw_e)
            if endorsed is None:
                findings.append(
                    error(
                        "data.not-a-number",
                        f"'endorsed' must be a whole number, not '{raw_e}'",
                        table.loc(i, "endorsed"),
                    )
                )
                ok = False
            elif endorsed < 0:
                findings.append(
                    error(
                        "data.negative-endorsed",
                        f"'endorsed' cannot be negative ({endorsed})",
                        table.loc(i, "endorsed"),
                    )
                )
                ok = False
            elif n is not None and n >= 1 and endorsed > n:
                findings.append(
                    error(
                        "data.endorsed-exceeds-respondents",
                        f"'endorsed' ({endorsed}) is more than 'respondents' ({n}); check both numbers",
                        table.loc(i, "endorsed"),
                    )
                )
                ok = False
        if raw_p:
            percent = _parse_float(raw_p)
            if percent is None:
                findings.append(
                    error(
                        "data.not-a-number",
                        f"'percent' must be a number from 0 to 100, not '{raw_p}'",
                        table.loc(i, "percent"),
                    )
                )
                ok = False
            elif not 0 <= percent <= 100:
                findings.append(
                    error(
                        "data.percent-out-of-range",
                        f"'percent' must be from 0 to 100 (it is {raw_p})",
                        table.loc(i, "percent"),
                    )
                )
                ok = False
        if not raw_e and not raw_p:
            findings.append(
                error(
                    "data.no-share",
                    "give 'endorsed' (a count) or 'percent' for this survey code",
                    table.loc(i, "endorsed" if ei is not None else "percent"),
                )
            )
            ok = False
        if ok and endorsed is not None and percent is not None and n:
            if abs(endorsed / n * 100 - percent) > 1.0:
                findings.append(
                    error(
                        "data.endorsed-and-percent",
                        f"'endorsed' {endorsed}/{n} is {endorsed / n * 100:.1f}%, but 'percent' says {raw_p}; keep one of them",
                        table.loc(i, "percent"),
                    )
                )
                ok = False
            percent = None  # the count is exact; it wins
        if not ok:
            continue
        assert n is not None
        tags = {d: split_tags(cells[j]) for d, j in dims}  # type: ignore[index]
        item = cells[ii].strip() if ii is not None else ""
        data.survey.append(SurveyRow(code, item, n, endorsed, percent, tags, table.row_numbers[i]))
    return findings
