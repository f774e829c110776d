"""The fast .xlsx reader (python-calamine) gives exactly what openpyxl, the reference, gives: the
same cells as text, row numbers and findings (issue 14). Workbooks are written in the test."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from triangulate.sources.tables import read_table


def both(path: Path, monkeypatch: pytest.MonkeyPatch, sheet: str | None = None) -> tuple[Any, Any]:
    out = []
    for reader in ("calamine", "openpyxl"):
        monkeypatch.setenv("TRIANGULATE_XLSX_READER", reader)
        table, findings = read_table(path, "w.xlsx", sheet)
        out.append(
            (
                None if table is None else (table.columns, table.rows, table.row_numbers),
                [(f.code, f.severity, f.location, f.message) for f in findings],
            )
        )
    return out[0], out[1]


VALUE = st.one_of(
    st.none(),
    st.text(alphabet=st.sampled_from(list("ab é;,'\"\n") + [" "]), max_size=6),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(allow_nan=False, allow_infinity=False, width=64, min_value=-1e12, max_value=1e12),
    st.booleans(),
    st.datetimes(min_value=dt.datetime(1901, 1, 1), max_value=dt.datetime(2100, 1, 1)).map(
        lambda d: d.replace(microsecond=0)
    ),
    st.dates(min_value=dt.date(1901, 1, 1), max_value=dt.date(2100, 1, 1)),
    st.sampled_from(["#N/A", "=1+1", "code-1", "P1"]),
)


@settings(
    max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    header=st.lists(
        st.sampled_from(["code", "respondents", "text", " x ", "", "code"]), max_size=5
    ),
    rows=st.lists(st.lists(VALUE, max_size=7), max_size=8),
    top=st.integers(0, 2),
    left=st.integers(0, 2),
)
def test_calamine_reads_any_sheet_as_openpyxl_does(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    header: list[str],
    rows: list[list[Any]],
    top: int,
    left: int,
) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    for r, values in enumerate([header, *rows], start=1 + top):
        for c, v in enumerate(values, start=1 + left):
            ws.cell(row=r, column=c, value=v)
    path = tmp_path / "w.xlsx"
    wb.save(path)
    fast, reference = both(path, monkeypatch)
    assert fast == reference
    # read column by column only (as a large excerpts source is): the same cells
    monkeypatch.setenv("TRIANGULATE_XLSX_READER", "calamine")
    table, _ = read_table(path, "w.xlsx", rows=False)
    if table is not None:
        if table.by_column is not None:  # read by calamine (openpyxl always gives rows)
            assert not table.rows
            assert [list(r) for r in zip(*table.by_column)] == fast[0][1]
        else:
            assert table.rows == fast[0][1]


def test_a_named_sheet_and_a_missing_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wb = openpyxl.Workbook()
    first = wb.active
    assert first is not None
    first.append(["other"])
    second = wb.create_sheet("Codings & more")
    second.append(["code", "respondents"])
    second.append(["a", 3])
    wb.save(tmp_path / "w.xlsx")
    fast, reference = both(tmp_path / "w.xlsx", monkeypatch, "Codings & more")
    assert fast == reference and fast[0] == (["code", "respondents"], [["a", "3"]], [2])
    fast, reference = both(tmp_path / "w.xlsx", monkeypatch, "Nope")
    assert fast == reference and fast[1][0][0] == "data.malformed"


def test_error_cells_read_as_their_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["code", "respondents"])
    ws.append(["#N/A", 3])  # openpyxl stores this as an error cell
    wb.save(tmp_path / "w.xlsx")
    fast, reference = both(tmp_path / "w.xlsx", monkeypatch)
    assert fast == reference
    assert fast[0][1] == [["#N/A", "3"]]


def test_integers_beyond_double_precision_stay_exact(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    assert ws is not None
    ws.append(["code", "respondents"])
    ws.append([12345678901234567890, 3])
    wb.save(tmp_path / "w.xlsx")
    fast, reference = both(tmp_path / "w.xlsx", monkeypatch)
    assert fast == reference
