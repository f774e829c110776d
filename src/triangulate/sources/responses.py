"""Respondent-level survey data, ``kind: survey_responses`` (spec section 4.3).

One row per respondent, from ``.csv``/``.tsv``/``.xlsx``/``.jsonl`` (through :mod:`triangulate.sources.tables`)
or from SPSS ``.sav``/``.zsav``/``.por`` and Stata ``.dta`` files (through pyreadstat, the optional
``spss`` extra). The source maps each survey code to a column and optionally to the answers that
count as endorsing it; each code becomes one :class:`~triangulate.sources.SurveyRow`:

- ``respondents``: answers that are not missing (empty cells; system- and user-missing values);
- ``endorsed``: answers that count. With ``endorse: [...]`` an answer counts when its value or its
  value label equals one of the listed values (numbers compare as numbers, ``4`` = ``4.0``; text
  compares trimmed and case-insensitively). Without ``endorse``: a column of yes/no-like answers
  (numbers, yes/no, true/false, checked/unchecked, ...) counts 1, yes, y, true, checked and selected
  (or, when its value labels say yes/no, the values labelled so); any other column is an open
  question, where every non-empty answer counts;
- ``item``: the column, its variable label and the endorsing answers' labels, e.g.
  ``Q7_3: Follow-up works (Agree, Strongly agree)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from triangulate.findings import Finding, Location, error, warning
from triangulate.inputs import LIMITS, open_input
from triangulate.sources.data import SourceData
from triangulate.sources.rows import DEFAULT_ENDORSE, NOT_ENDORSED, SurveyRow
from triangulate.sources.tables import read_table, split_sheet

if TYPE_CHECKING:
    from triangulate.project.models import ResponseCode, SourceSpec

STAT_SUFFIXES = (".sav", ".zsav", ".por", ".dta")


@dataclass
class Column:
    name: str
    label: str = ""  # the variable label (SPSS/Stata), else ""
    values: list[Any] = field(default_factory=list)  # one per respondent; None when missing
    value_labels: dict[str, str] = field(default_factory=dict)  # normalised value -> label


@dataclass
class ResponseTable:
    file: str
    columns: dict[str, Column]

    def find(self, name: str) -> Column | None:
        if name in self.columns:
            return self.columns[name]
        folded = [c for n, c in self.columns.items() if n.casefold() == name.casefold()]
        return folded[0] if len(folded) == 1 else None


def norm(value: Any) -> str:
    """Answers and endorse values compared: numbers as numbers (``4`` = ``4.0`` = ``"4"``), text trimmed, case-folded."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        f = float(value)
        if math.isfinite(f) and f.is_integer():
            return str(int(f))
        return repr(f)
    s = str(value).strip().casefold()
    try:
        f = float(s)
    except ValueError:
        return s
    if math.isfinite(f):
        return str(int(f)) if f.is_integer() else repr(f)
    return s


def _is_number(n: str) -> bool:
    try:
        return math.isfinite(float(n))
    except ValueError:
        return False


def read_responses(
    path: Path, shown: str, sheet: str | None = None
) -> tuple[ResponseTable | None, list[Finding]]:
    """Read one respondent per row; SPSS/Stata files keep their variable and value labels."""
    if path.suffix.lower() in STAT_SUFFIXES:
        return _read_stat(path, shown)
    table, findings = read_table(path, shown, sheet)
    if table is None:
        return None, findings
    cols: dict[str, Column] = {}
    for j, name in enumerate(table.columns):
        if not name or name in cols:
            continue
        cols[name] = Column(name, values=[r[j] if r[j].strip() else None for r in table.rows])
    return ResponseTable(shown, cols), findings


def _read_stat(path: Path, shown: str) -> tuple[ResponseTable | None, list[Finding]]:
    loc = Location(shown)
    checked = open_input(path, shown, LIMITS["stat"], read=False)
    if checked.findings:
        return None, checked.findings
    try:
        import pyreadstat
    except ImportError:
        return None, [
            error(
                "data.needs-extra",
                f"reading {path.suffix} files needs pyreadstat, which is not installed: run "
                "`pip install pyreadstat` in the environment that runs triangulate (or "
                "`pip install '.[spss]'` in a triangulate checkout), or export the data as CSV",
                loc,
            )
        ]
    suffix = path.suffix.lower()
    reader: Any = {".dta": pyreadstat.read_dta, ".por": pyreadstat.read_por}.get(
        suffix, pyreadstat.read_sav
    )
    try:
        df, meta = reader(str(path))
    except Exception as exc:
        what = "Stata" if suffix == ".dta" else "SPSS"
        return None, [
            error(
                "data.malformed",
                f"not a readable {what} file ({str(exc).strip() or type(exc).__name__}); save it again, or export CSV",
                loc,
            )
        ]
    var_labels = dict(zip(meta.column_names, meta.column_labels or [None] * len(meta.column_names)))
    value_labels: dict[str, dict[Any, Any]] = meta.variable_value_labels or {}
    cols: dict[str, Column] = {}
    for name in df.columns:
        values: list[Any] = []
        for v in df[name].tolist():
            if v is None or v != v or (isinstance(v, str) and not v.strip()):
                values.append(None)
            else:
                values.append(v)
        labels = {norm(k): str(lab) for k, lab in value_labels.get(name, {}).items()}
        cols[str(name)] = Column(str(name), (var_labels.get(name) or "").strip(), values, labels)
    return ResponseTable(shown, cols), []


def _label_of(col: Column, value: Any) -> str | None:
    return col.value_labels.get(norm(value))


def count_endorsed(
    col: Column, rc: ResponseCode, code: str, shown: str
) -> tuple[int, int, str, list[Finding]]:
    """(respondents, endorsed, item text, findings) for one survey code."""
    findings: list[Finding] = []
    answered = [v for v in col.values if v is not None and norm(v) != ""]
    item = f"{col.name}: {col.label}" if col.label else col.name
    if rc.endorse is not None:
        accept = {norm(e) for e in rc.endorse}
        endorsed = 0
        for v in answered:
            label = _label_of(col, v)
            if norm(v) in accept or (label is not None and norm(label) in accept):
                endorsed += 1
        known = (
            {norm(v) for v in answered}
            | set(col.value_labels)
            | {norm(lab) for lab in col.value_labels.values()}
        )
        for e in rc.endorse:
            if norm(e) not in known:
                seen = sorted({str(v) for v in answered}, key=str)[:8]
                findings.append(
                    warning(
                        "data.endorse-unmatched",
                        f"survey code '{code}': endorse value {e!r} matches no answer in column '{col.name}'"
                        + (" and no value label" if col.value_labels else "")
                        + f" (answers include: {', '.join(seen) or 'none'}); check the spelling",
                        Location(shown, row=1, field=col.name),
                    )
                )
        shown_values = []
        for e in rc.endorse:
            label = _label_of(col, e)
            shown_values.append(label if label is not None else str(e))
        item += f" ({', '.join(shown_values)})"
        return len(answered), endorsed, item, findings
    labelled = [norm(lab) for lab in col.value_labels.values()]
    if any(lab in DEFAULT_ENDORSE or lab in NOT_ENDORSED for lab in labelled):
        endorsed = 0
        for v in answered:
            label = _label_of(col, v)
            key = norm(label) if label is not None else norm(v)
            endorsed += key in DEFAULT_ENDORSE
        return len(answered), endorsed, item, findings
    normed = [norm(v) for v in answered]
    if all(n in DEFAULT_ENDORSE or n in NOT_ENDORSED or _is_number(n) for n in normed):
        endorsed = sum(1 for n in normed if n in DEFAULT_ENDORSE)
        distinct = set(normed)
        if len(distinct) > 2:
            findings.append(
                warning(
                    "data.endorse-default",
                    f"survey code '{code}': column '{col.name}' has {len(distinct)} different answers, but without "
                    "'endorse:' only 1, yes, true and checked count; say which answers endorse it, "
                    f"e.g. {{column: {col.name}, endorse: [4, 5]}}",
                    Location(shown, row=1, field=col.name),
                )
            )
        return len(answered), endorsed, item, findings
    return len(answered), len(answered), item, findings  # an open question: any answer counts


def load_responses(root: Path, spec: SourceSpec) -> tuple[SourceData | None, list[Finding]]:
    base, sheet = split_sheet(spec.path)
    table, findings = read_responses(root / base, base, sheet)
    if table is None:
        return None, findings
    data = SourceData(spec, spec.path)
    if not spec.codes:
        findings.append(
            error(
                "project.source-option",
                f"source '{spec.id}' is kind 'survey_responses' and needs a 'codes' mapping of survey codes to columns, "
                "e.g. codes: {point-person: {column: Q7_1}}",
                Location(),
            )
        )
        return data, findings
    for code, rc in spec.codes.items():
        col = table.find(rc.column)
        if col is None:
            have = ", ".join(list(table.columns)[:12]) + (
                ", ..." if len(table.columns) > 12 else ""
            )
            findings.append(
                error(
                    "data.missing-column",
                    f"survey code '{code}' reads column '{rc.column}', which the file does not have (it has: {have or 'nothing'})",
                    Location(table.file, row=1, field=rc.column),
                )
            )
            continue
        n, endorsed, item, f = count_endorsed(col, rc, code, table.file)
        findings += f
        if n == 0:
            findings.append(
                warning(
                    "data.missing-value",
                    f"column '{col.name}' (survey code '{code}') has no answers; the code is left out",
                    Location(table.file, row=1, field=col.name),
                )
            )
            continue
        data.survey.append(SurveyRow(code, item, n, endorsed, None, {}, 1))
    return data, findings
