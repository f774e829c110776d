"""convergence_matrix.xlsx, written with our own SpreadsheetML writer (``xlsxml``): byte-identical
across runs, fast at 12k units.

Sheets: ``Matrix`` (the convergence coding matrix as in the report: labels, finding and
prominence per source, each dimension's outcome, the category's colour and mark), ``Joint
display``, ``Coding`` (every column of convergence_matrix.csv with labels for ids), ``Sorting``,
``Agreement`` (each statistic with its n, and the reason beside an undefined one), ``Decisions``
and ``Legend`` (its own sheet, so it never widens a printed page). Every sheet has borders, a named
font, a bold header row repeated on each printed page, landscape pages fitted to the page width.

Cells are typed: text is written as a string cell (never read as a formula, so no visible ``'``
is needed; the CSV files keep their guard), numbers as numbers. Control characters XML cannot
hold become spaces. Document properties are fixed, so two runs give the same bytes.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from triangulate.outputs import xlsxml
from triangulate.outputs.display import joint_table, matrix_table
from triangulate.outputs.palette import category_styles
from triangulate.outputs.tabular import SORTING_COLUMNS, matrix_columns, matrix_rows, sorting_rows
from triangulate.review.decisions import DECISION_KEYS

if TYPE_CHECKING:
    from triangulate.outputs.model import Table
    from triangulate.protocol.analysis import Analysis

FONT = "Arial"
FIXED_CREATED = datetime(2000, 1, 1)
STATISTICS = (
    ("percent", "percent agreement"),
    ("cohen_kappa", "Cohen's kappa"),
    ("fleiss_kappa", "Fleiss' kappa"),
    ("krippendorff_alpha", "Krippendorff's alpha (nominal)"),
    ("krippendorff_alpha_ci95", "Krippendorff's alpha, 95% bootstrap interval"),
    ("gwet_ac1", "Gwet's AC1"),
)


_LINE_POINTS = 13.0  # one line of 10 pt Arial, with leading
_MAX_ROW_POINTS = 409.0  # the tallest row a spreadsheet allows


def _lines(text: str, per_line: int) -> int:
    """The lines a cell's text takes: its line breaks, and in a wrapped column (``per_line``
    characters a line; 0 when not wrapped) every line that is too long to fit."""
    if not per_line:
        return text.count("\n") + 1
    return sum(max(1, -(-len(part) // per_line)) for part in text.split("\n"))


def _row_height(row: list[Any], widths: list[float], wrap_cols: set[int]) -> float | None:
    """The height a row of wrapped text needs, estimated from its longest cell and the column
    widths (in characters), or None for a one-line row (left to the default).

    The writer cannot measure text; without a height LibreOffice (and Excel when it does not
    recalculate) shows wrapped text cut off or overlapping the next row.
    """
    lines = 1
    for c, v in enumerate(row):
        text = v[1] if isinstance(v, tuple) else v
        if isinstance(text, str) and text:
            per_line = max(int(widths[c]) - 2, 1) if c in wrap_cols else 0
            lines = max(lines, _lines(text, per_line))
    if lines <= 1:
        return None
    return min(lines * _LINE_POINTS + 4.0, _MAX_ROW_POINTS)


class _Writer:
    def __init__(self, analysis: Analysis) -> None:
        self.wb = xlsxml.Workbook(
            title=f"Convergence matrix: {analysis.project.file.title}",
            author="triangulate",
            comments="Written by triangulate; the CSV files hold the same data with ids.",
            created=FIXED_CREATED,
        )
        base = xlsxml.Format(font_name=FONT, font_size=10, border_colour="#999999", valign="top")
        add = self.wb.add_format
        self.text = add(base)
        self.wrap = add(replace(base, wrap=True))
        self.num = add(replace(base, num_format="0.####"))
        self.head = add(replace(base, bold=True, fill="#E6E6E6", wrap=True))
        self.styles = category_styles(analysis.project.protocol)
        self.cat = {
            cid: add(replace(base, bold=True, wrap=True, fill=s.colour, font_colour=s.text))
            for cid, s in self.styles.items()
        }

    def sheet(
        self,
        name: str,
        header: list[str],
        rows: list[list[Any]],
        widths: list[float] | None = None,
        category_cols: set[int] | frozenset[int] = frozenset(),
        cell_text: dict[str, str] | None = None,
    ) -> xlsxml.Sheet:
        ncols = len(header)
        if widths is None:
            widths = [
                min(max(10.0, max([len(str(h))] + [len(str(r[i])) for r in rows[:300]]) + 2), 48.0)
                for i, h in enumerate(header)
            ]
        ws = self.wb.add_sheet(name, widths)
        wrap_cols = {i for i, w in enumerate(widths) if w >= 20}
        ws.add_row(header, [self.head] * ncols, _row_height(header, widths, set(range(ncols))))
        shown = cell_text or {}
        cat, text, num = self.cat, self.text, self.num
        plain = [self.wrap if c in wrap_cols else text for c in range(ncols)]
        is_cat = [c in category_cols for c in range(ncols)]
        # characters a wrapped column holds on one line (0: not wrapped), as in _row_height
        per_line = [max(int(w) - 2, 1) if c in wrap_cols else 0 for c, w in enumerate(widths)]
        # one pass a row: the cell values and formats, and the lines its tallest cell needs
        for row in rows:
            values: list[Any] = list(row)  # changed below where a cell shows something else
            styles = plain.copy()  # likewise
            lines = 1
            for c, v in enumerate(row):
                if type(v) is not str:
                    if isinstance(v, str):  # a str subclass: as its text
                        v = values[c] = str(v)
                    elif type(v) is tuple and is_cat[c]:  # (category id, text shown)
                        styles[c] = cat[v[0]]
                        v = values[c] = v[1]
                        if isinstance(v, str) and v:
                            n = _lines(v, per_line[c])
                            lines = n if n > lines else lines
                        continue
                    else:
                        if isinstance(v, bool):
                            values[c] = "yes" if v else "no"
                            styles[c] = text
                        elif isinstance(v, (int, float)):
                            styles[c] = num
                        elif v is not None:
                            values[c] = str(v)
                        continue
                if not v:
                    values[c] = None
                    continue
                if is_cat[c] and v in cat:
                    values[c] = shown.get(v, v)
                    styles[c] = cat[v]
                width = per_line[c]
                if "\n" in v or (width and len(v) > width):
                    n = _lines(v, width)
                    lines = n if n > lines else lines
            height = None if lines <= 1 else min(lines * _LINE_POINTS + 4.0, _MAX_ROW_POINTS)
            if not ws.add_row(values, styles, height):
                break  # past Excel's last row: the rest cannot be shown
        ws.frozen_rows = 1
        ws.landscape = True
        ws.paper = 9  # A4; Letter users' printers scale to fit the width anyway
        ws.fit_width = True  # one page wide, as many pages tall as needed
        ws.print_titles = True
        ws.margins = (0.4, 0.4, 0.5, 0.5)
        ws.filter = bool(rows)
        return ws

    def table(self, name: str, t: Table, widths: list[float]) -> None:
        labels = {cid: f"{s.mark}  {s.label}" for cid, s in self.styles.items()}
        rows: list[list[Any]] = []
        for row in t.rows:
            out: list[Any] = []
            for i, v in enumerate(row):
                if i in t.category_cols:
                    first, _, rest = v.partition("\n")
                    if first in self.cat and "\n" not in rest:  # one category: a filled cell
                        out.append((first, labels[first] + (f"\n{rest}" if rest else "")))
                        continue
                    v = "\n".join(
                        f"{h}: {labels[k]}" if s and k in labels else labels.get(ln, ln)
                        for ln in v.split("\n")
                        for h, s, k in [ln.rpartition(": ")]
                    )
                out.append(v)
            rows.append(out)
        self.sheet(name, t.header, rows, widths, set(t.category_cols), labels)

    def close(self) -> bytes:
        return self.wb.save()


def render_xlsx(analysis: Analysis, redact: bool = False) -> bytes:
    project = analysis.project
    protocol = project.protocol
    w = _Writer(analysis)
    theme_names = {t.id: t.display for t in project.codebook.themes}
    group_names = {g.id: g.label or g.id for g in project.codebook.groups}

    # the convergence coding matrix, as in the report
    m = matrix_table(analysis)
    ndims = len(protocol.dimension_ids)
    nsrc = len(m.header) - 2 - ndims
    w.table("Matrix", m, [30.0] + [30.0] * nsrc + [14.0] * ndims + [22.0])

    j = joint_table(analysis, redact)  # its quotations are excerpts: none under --redact
    jw = [30.0] + [24.0] * (len(j.header) - 1)
    for i in j.category_cols:
        jw[i] = 22.0
    w.table("Joint display", j, jw)

    # every column of the CSV, with labels for ids
    cols = matrix_columns(analysis)
    cat_cols = {i for i, c in enumerate(cols) if c in ("proposed", "final", *analysis.reviewers)}
    labels = {c.id: c.label for c in protocol.categories}
    src = {s: project.source_label(s) for s in project.source_ids}
    rows: list[list[Any]] = []
    # the id columns and the names shown for them
    named = [
        (i, theme_names if c == "theme" else group_names if c == "group" else src)
        for i, c in enumerate(cols)
        if c in ("theme", "group", "source_a", "source_b")
    ]
    for r in matrix_rows(analysis):
        row: list[Any] = list(r)
        for i, names in named:
            row[i] = names.get(r[i], r[i])
        rows.append(row)
    widths = [
        28.0 if c in ("theme", "finding_a", "finding_b") else 40.0 if c == "rationale" else 16.0
        for c in cols
    ]
    w.sheet("Coding", cols, rows, widths, cat_cols, labels)

    srows: list[list[Any]] = []
    for r in sorting_rows(analysis):
        row = list(r)
        row[0] = theme_names.get(r[0], r[0])
        row[1] = group_names.get(r[1], r[1])
        row[2] = src.get(r[2], r[2])
        row[5] = int(r[5]) if r[5] else None
        row[6] = int(r[6]) if r[6] else None
        row[7] = float(r[7])
        srows.append(row)
    w.sheet("Sorting", list(SORTING_COLUMNS), srows)

    w.sheet(
        "Agreement",
        ["scope", "statistic", "value", "units (n)", "reason when undefined"],
        _agreement_rows(analysis),
        [30.0, 34.0, 10.0, 10.0, 60.0],
    )

    drows: list[list[Any]] = []
    for u in analysis.units:
        for d in u.decisions:
            drows.append(
                [
                    theme_names.get(d.theme, d.theme),
                    src.get(d.source_a, d.source_a),
                    src.get(d.source_b, d.source_b),
                    d.category,
                    d.rationale,
                    d.decided_by,
                    d.decided_at,
                    d.line,
                ]
            )
    w.sheet(
        "Decisions",
        [*DECISION_KEYS, "line"],
        drows,
        [28.0, 18.0, 18.0, 18.0, 48.0, 14.0, 22.0, 6.0],
        {3},
        labels,
    )

    w.sheet(
        "Legend",
        ["mark", "category", "definition"],
        [[s.mark, cid, c.definition] for (cid, s), c in zip(w.styles.items(), protocol.categories)],
        [8.0, 24.0, 70.0],
        {1},
        labels,
    )
    return w.close()


def _agreement_rows(analysis: Analysis) -> list[list[Any]]:
    """One row per statistic: the two-source scope (and its dimensions), then every unit."""
    from triangulate.protocol.agreement import AgreementResult

    rows: list[list[Any]] = []

    def add(scope: str, r: AgreementResult) -> None:
        notes = r.notes
        stats = dict(r.statistics())
        for key, name in STATISTICS:
            n: int | None = r.units
            if key == "krippendorff_alpha_ci95":
                ci = r.krippendorff_alpha_ci95
                v: Any = "\u2013".join(f"{x:.3f}" for x in ci) if ci else None
                n = r.krippendorff_alpha.n_units
            else:
                st = stats[key]
                v = None if st.value is None else round(st.value, 4) + 0.0
                n = st.n_units
            reason = "" if v is not None else str(notes.get(key, "undefined for these data"))
            rows.append([scope, name, v, n, reason])

    both = analysis.agreement_all_units is not None
    for r, scope in (
        (analysis.agreement, "two-source units"),
        (analysis.agreement_all_units, "all units"),
    ):
        if r is None:
            continue
        add(f"categories, {scope}" if both else "categories", r)
        if scope == "two-source units":
            for d, v in r.by_dimension.items():
                add(f"{analysis.dimension_label(d)} (yes/no)", v)
    return rows
