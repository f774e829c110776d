"""convergence_matrix.xlsx: the matrix with a fill per category, plus sorting, agreement and decisions."""

from __future__ import annotations

import io
import re
from collections.abc import Set as AbstractSet
from typing import Any

from triangulate.files import neutralise
from triangulate.outputs.html import _tint
from triangulate.outputs.tabular import SORTING_COLUMNS, matrix_columns, matrix_rows, sorting_rows
from triangulate.protocol.analysis import Analysis

_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # characters an .xlsx cannot hold


def safe_cell(value: Any) -> Any:
    """A cell value that can neither break the workbook nor run as a formula.

    Control characters that XML 1.0 forbids (a vertical tab pasted from Excel, say) become spaces,
    then text that a spreadsheet would read as a formula is neutralised.
    """
    if not isinstance(value, str):
        return value
    return neutralise(_XML_ILLEGAL.sub(" ", value))


def render_xlsx(analysis: Analysis) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    protocol = analysis.project.protocol
    fills = {
        c.id: PatternFill("solid", fgColor=_tint(c.color or "#dddddd")[1:].upper())
        for c in protocol.categories
    }
    bold = Font(bold=True)
    wrap = Alignment(wrap_text=True, vertical="top")
    wb = Workbook()

    def sheet(
        ws: Any,
        columns: list[str],
        rows: list[list[Any]],
        category_cols: AbstractSet[int] = frozenset(),
    ) -> None:
        ws.append([safe_cell(c) for c in columns])
        for cell in ws[1]:
            cell.font = bold
        for row in rows:
            ws.append([safe_cell(v) for v in row])
        for r_idx, row in enumerate(rows, start=2):
            for c_idx in category_cols:
                v = row[c_idx]
                if v in fills:
                    ws.cell(row=r_idx, column=c_idx + 1).fill = fills[v]
        ws.freeze_panes = "A2"
        ws.page_setup.orientation = "landscape"
        ws.page_setup.fitToWidth = 1
        ws.page_setup.fitToHeight = 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
        ws.print_title_rows = "1:1"
        if rows:
            ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(rows) + 1}"
        for i, col in enumerate(columns, start=1):
            longest = max([len(str(col))] + [len(str(r[i - 1])) for r in rows[:500]])
            ws.column_dimensions[get_column_letter(i)].width = min(max(10, longest + 2), 60)
            if longest > 60:  # long text (rationales): wrap instead of running off the sheet
                for r_idx, cell in enumerate(ws[get_column_letter(i)][1:], start=2):
                    cell.alignment = wrap
                    lines = -(-len(str(cell.value or "")) // 56)
                    current = ws.row_dimensions[r_idx].height or 15
                    ws.row_dimensions[r_idx].height = max(current, 15 * max(lines, 1))

    ws = wb.active
    ws.title = "Matrix"
    cols = matrix_columns(analysis)
    cat_cols = {i for i, c in enumerate(cols) if c in ("proposed", "final", *analysis.reviewers)}
    sheet(ws, cols, matrix_rows(analysis), cat_cols)
    legend_col = len(cols) + 2
    ws.cell(row=1, column=legend_col, value="Legend").font = bold
    for i, c in enumerate(protocol.categories, start=2):
        cell = ws.cell(row=i, column=legend_col, value=safe_cell(f"{c.id}: {c.label}"))
        cell.fill = fills[c.id]
    ws.column_dimensions[get_column_letter(legend_col)].width = 34

    srows: list[list[Any]] = []
    for r in sorting_rows(analysis):
        srows.append(
            r[:5] + [int(r[5]) if r[5] else None, int(r[6]) if r[6] else None, float(r[7])] + r[8:]
        )
    sheet(wb.create_sheet("Sorting"), SORTING_COLUMNS, srows)

    ag = analysis.agreement
    arows: list[list[Any]] = []
    if ag is not None:
        arows.append(
            [
                "(all)",
                "categories",
                ag.get("units"),
                *(
                    ag.get(k)
                    for k in ("percent", "cohen_kappa", "fleiss_kappa", "krippendorff_alpha")
                ),
            ]
        )
        for d, v in (ag.get("by_dimension") or {}).items():
            arows.append(
                [
                    "(dimension)",
                    d,
                    v.get("units"),
                    *(
                        v.get(k)
                        for k in ("percent", "cohen_kappa", "fleiss_kappa", "krippendorff_alpha")
                    ),
                ]
            )
    sheet(
        wb.create_sheet("Agreement"),
        ["scope", "over", "units", "percent", "cohen_kappa", "fleiss_kappa", "krippendorff_alpha"],
        arows,
    )

    drows: list[list[Any]] = []
    for u in analysis.units:
        for d in u.decisions:
            drows.append(
                [
                    d.theme,
                    d.source_a,
                    d.source_b,
                    d.category,
                    d.rationale,
                    d.decided_by,
                    d.decided_at,
                    d.line,
                ]
            )
    sheet(
        wb.create_sheet("Decisions"),
        [
            "theme",
            "source_a",
            "source_b",
            "category",
            "rationale",
            "decided_by",
            "decided_at",
            "line",
        ],
        drows,
        {3},
    )
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
