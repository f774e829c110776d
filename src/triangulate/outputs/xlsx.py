"""convergence_matrix.xlsx, written with XlsxWriter: byte-identical across runs, fast at 12k units.

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

import io
import re
from datetime import datetime
from typing import TYPE_CHECKING, Any

from triangulate.outputs.display import joint_table, matrix_table
from triangulate.outputs.palette import category_styles
from triangulate.outputs.tabular import SORTING_COLUMNS, matrix_columns, matrix_rows, sorting_rows
from triangulate.review.decisions import DECISION_KEYS

if TYPE_CHECKING:
    from triangulate.outputs.model import Table
    from triangulate.protocol.analysis import Analysis

_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")  # not allowed in XML 1.0
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


def safe_cell(value: Any) -> Any:
    """A cell value an .xlsx can hold: control characters XML forbids become spaces.

    No formula guard is added: every text is written as a typed string cell, which a spreadsheet
    shows as text and never evaluates.
    """
    if not isinstance(value, str):
        return value
    return _XML_ILLEGAL.sub(" ", value)


_LINE_POINTS = 13.0  # one line of 10 pt Arial, with leading
_MAX_ROW_POINTS = 409.0  # the tallest row a spreadsheet allows


def _row_height(row: list[Any], widths: list[float], wrap_cols: set[int]) -> float | None:
    """The height a row of wrapped text needs, estimated from its longest cell and the column
    widths (in characters), or None for a one-line row (left to the default).

    XlsxWriter cannot measure text; without a height LibreOffice (and Excel when it does not
    recalculate) shows wrapped text cut off or overlapping the next row.
    """
    lines = 1
    for c, v in enumerate(row):
        if c not in wrap_cols:
            text = v[1] if isinstance(v, tuple) else v
            if isinstance(text, str):
                lines = max(lines, text.count("\n") + 1)
            continue
        text = v[1] if isinstance(v, tuple) else v
        if not isinstance(text, str) or not text:
            continue
        per_line = max(int(widths[c]) - 2, 1)
        n = sum(max(1, -(-len(part) // per_line)) for part in text.split("\n"))
        lines = max(lines, n)
    if lines <= 1:
        return None
    return min(lines * _LINE_POINTS + 4.0, _MAX_ROW_POINTS)


class _Writer:
    def __init__(self, analysis: Analysis) -> None:
        import xlsxwriter

        self.buf = io.BytesIO()
        self.wb = xlsxwriter.Workbook(
            self.buf,
            {
                "in_memory": True,
                "strings_to_formulas": False,
                "strings_to_urls": False,
                "strings_to_numbers": False,
            },
        )
        self.wb.set_properties(
            {
                "title": f"Convergence matrix: {analysis.project.file.title}",
                "author": "triangulate",
                "comments": "Written by triangulate; the CSV files hold the same data with ids.",
                "created": FIXED_CREATED,
            }
        )
        base = {"font_name": FONT, "font_size": 10, "border": 1, "border_color": "#999999"}
        self.text = self.wb.add_format({**base, "valign": "top"})
        self.wrap = self.wb.add_format({**base, "valign": "top", "text_wrap": True})
        self.num = self.wb.add_format({**base, "valign": "top", "num_format": "0.####"})
        self.head = self.wb.add_format(
            {**base, "bold": True, "bg_color": "#E6E6E6", "valign": "top", "text_wrap": True}
        )
        self.styles = category_styles(analysis.project.protocol)
        self.cat = {
            cid: self.wb.add_format(
                {
                    **base,
                    "bold": True,
                    "valign": "top",
                    "text_wrap": True,
                    "bg_color": s.colour,
                    "font_color": s.text,
                }
            )
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
    ) -> Any:
        ws = self.wb.add_worksheet(name)
        ncols = len(header)
        if widths is None:
            widths = [
                min(max(10.0, max([len(str(h))] + [len(str(r[i])) for r in rows[:300]]) + 2), 48.0)
                for i, h in enumerate(header)
            ]
        for i, w in enumerate(widths):
            ws.set_column(i, i, w)
        wrap_cols = {i for i, w in enumerate(widths) if w >= 20}
        for c, h in enumerate(header):
            ws.write_string(0, c, safe_cell(h), self.head)
        for r, row in enumerate(rows, start=1):
            for c, v in enumerate(row):
                if c in category_cols and isinstance(v, tuple):  # (category id, text shown)
                    ws.write_string(r, c, safe_cell(v[1]), self.cat[v[0]])
                elif c in category_cols and isinstance(v, str) and v in self.cat:
                    shown = (cell_text or {}).get(v, v)
                    ws.write_string(r, c, safe_cell(shown), self.cat[v])
                elif v is None or v == "":
                    ws.write_blank(r, c, None, self.wrap if c in wrap_cols else self.text)
                elif isinstance(v, bool):
                    ws.write_string(r, c, "yes" if v else "no", self.text)
                elif isinstance(v, (int, float)):
                    ws.write_number(r, c, v, self.num)
                else:
                    ws.write_string(
                        r, c, safe_cell(str(v)), self.wrap if c in wrap_cols else self.text
                    )
        for r, row in enumerate([header, *rows]):
            height = _row_height(row, widths, wrap_cols if r else set(range(ncols)))
            if height is not None:
                ws.set_row(r, height)
        ws.freeze_panes(1, 0)
        ws.set_landscape()
        ws.set_paper(9)  # A4; Letter users' printers scale to fit the width anyway
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(0)
        ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.5)
        ws.print_area(0, 0, max(len(rows), 1), ncols - 1)
        if rows:
            ws.autofilter(0, 0, len(rows), ncols - 1)
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
        self.wb.close()
        return self.buf.getvalue()


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
    for r in matrix_rows(analysis):
        row: list[Any] = list(r)
        for i, c in enumerate(cols):
            if c == "theme":
                row[i] = theme_names.get(r[i], r[i])
            elif c == "group":
                row[i] = group_names.get(r[i], r[i])
            elif c in ("source_a", "source_b"):
                row[i] = src.get(r[i], r[i])
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
