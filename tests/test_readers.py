"""Source readers: the same data as .csv (BOM, CRLF), .tsv, .xlsx (first sheet or #Sheet) and .jsonl
gives the same sorting; tags split as the spec says, whatever the text."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ProjectBuilder, read_csv
from triangulate.pipeline import analyse_path
from triangulate.sources.rows import split_tags
from triangulate.sources.tables import read_table

EXCERPTS = [
    {
        "excerpt_id": "E1",
        "participant": "P1",
        "code": "contact",
        "text": 'Caf\u00e9 staff, "quoted", and a comma',
        "substance": "Barrier; caseload",
        "mechanism": "x",
    },
    {
        "excerpt_id": "E2",
        "participant": "P2",
        "code": "contact",
        "text": "line one\nline two",
        "substance": "barrier",
        "mechanism": "y",
    },
    {
        "excerpt_id": "E3",
        "participant": "P3",
        "code": "other",
        "text": "Other theme",
        "substance": "z",
        "mechanism": "z",
    },
]
SURVEY = [
    {
        "code": "point-person",
        "item": "Access to a point-person",
        "respondents": 17,
        "percent": 65,
        "endorsed": "",
        "substance": "barrier",
        "mechanism": "x",
    },
    {
        "code": "follow-up",
        "item": "Follow-up",
        "respondents": 10,
        "percent": "",
        "endorsed": 0,
        "substance": "q",
        "mechanism": "q",
    },
]
THEMES = [
    {"id": "contact", "codes": {"interviews": ["contact"], "survey": ["point-person"]}},
    {"id": "other", "codes": {"interviews": ["other"], "survey": ["follow-up"]}},
]


def _csv_text(rows: list[dict[str, Any]], delimiter: str = ",") -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]), delimiter=delimiter, lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue()


def _write(path: Path, rows: list[dict[str, Any]], fmt: str) -> str:
    """Write rows in a format; returns the path to put in the project file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if fmt == "csv-bom-crlf":
        p = path.with_suffix(".csv")
        p.write_bytes(b"\xef\xbb\xbf" + _csv_text(rows).replace("\n", "\r\n").encode("utf-8"))
        return f"data/{p.name}"
    if fmt == "tsv":
        p = path.with_suffix(".tsv")
        p.write_text(_csv_text(rows, "\t"), encoding="utf-8")
        return f"data/{p.name}"
    if fmt == "jsonl":
        p = path.with_suffix(".jsonl")
        p.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
        return f"data/{p.name}"
    from openpyxl import Workbook

    p = path.with_suffix(".xlsx")
    wb = Workbook()
    first = wb.active
    first.title = "Notes"
    if fmt == "xlsx-sheet":
        first.append(["this sheet is not the data"])
        ws = wb.create_sheet("Coded data")
    else:
        ws = first
    ws.append(list(rows[0]))
    for r in rows:
        ws.append([v if v != "" else None for v in r.values()])
    wb.save(p)
    return f"data/{p.name}#Coded data" if fmt == "xlsx-sheet" else f"data/{p.name}"


def _project(builder: ProjectBuilder, fmt: str) -> Path:
    root = builder.root
    ipath = _write(root / "data" / "interviews", EXCERPTS, fmt)
    spath = _write(root / "data" / "survey", SURVEY, fmt)
    sources = [
        {"id": "interviews", "kind": "excerpts", "path": ipath},
        {"id": "survey", "kind": "survey", "path": spath},
    ]
    return builder.write(sources=sources, themes=THEMES)


def _sorting(root: Path) -> list[tuple[Any, ...]]:
    result = analyse_path(root)
    assert result.analysis is not None and not result.has_errors, result.findings
    a = result.analysis
    return [
        (
            t,
            s,
            ts.present,
            ts.excerpts,
            ts.participants,
            round(ts.prominence, 6),
            {d: sorted(v) for d, v in ts.tags.items()},
        )
        for (t, s), ts in sorted(a.sorting.items())
    ]


EXPECTED = [
    # contact/interviews: E1, E2 from P1, P2 of 3 participants -> 2/3; tags case-folded and trimmed.
    (
        "contact",
        "interviews",
        True,
        2,
        2,
        round(2 / 3, 6),
        {"substance": ["barrier", "caseload"], "mechanism": ["x", "y"]},
    ),
    # contact/survey: 65% -> 0.65 exactly (not 11/17).
    ("contact", "survey", True, None, None, 0.65, {"substance": ["barrier"], "mechanism": ["x"]}),
    ("other", "interviews", True, 1, 1, round(1 / 3, 6), {"substance": ["z"], "mechanism": ["z"]}),
    # other/survey: endorsed 0 of 10 -> absent, prominence 0, no tags from a zero-share code.
    ("other", "survey", False, None, None, 0.0, {"substance": [], "mechanism": []}),
]


@pytest.mark.parametrize("fmt", ["csv-bom-crlf", "tsv", "jsonl", "xlsx", "xlsx-sheet"])
def test_every_format_gives_the_same_sorting(builder: ProjectBuilder, fmt: str) -> None:
    assert _sorting(_project(builder, fmt)) == EXPECTED


def test_excerpt_text_survives_every_format(builder: ProjectBuilder) -> None:
    texts = {}
    for fmt in ("csv-bom-crlf", "tsv", "jsonl", "xlsx"):
        root = _project(ProjectBuilder(builder.root.parent / fmt), fmt)
        a = analyse_path(root).analysis
        assert a is not None
        texts[fmt] = [
            r.text.replace("\r\n", "\n") for r in a.project.sources["interviews"].excerpts
        ]
    assert all(v == [e["text"] for e in EXCERPTS] for v in texts.values()), texts


def test_bom_is_not_part_of_the_first_column(tmp_path: Path) -> None:
    p = tmp_path / "t.csv"
    p.write_bytes(b"\xef\xbb\xbfcode,respondents\r\nx,3\r\n")
    table, findings = read_table(p, "t.csv")
    assert table is not None and findings == []
    assert table.columns == ["code", "respondents"] and table.rows == [["x", "3"]]
    assert table.row_numbers == [2]


@pytest.mark.slow
def test_sorting_csv_is_written_the_same_from_xlsx_and_csv(
    builder: ProjectBuilder, tmp_path: Path
) -> None:
    from conftest import run_cli

    outs = []
    for fmt in ("csv-bom-crlf", "xlsx"):
        root = _project(ProjectBuilder(tmp_path / fmt), fmt)
        res = run_cli(["sort", str(root), "-q"])
        assert res.exit_code == 0, res
        outs.append(read_csv(root / "out" / "sorting.csv"))
    assert outs[0] == outs[1]


@pytest.mark.fuzz
@given(
    st.lists(
        st.text(
            alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters=";"),
            max_size=12,
        ),
        max_size=8,
    )
)
@settings(max_examples=200, deadline=None)
def test_split_tags_properties(parts: list[str]) -> None:
    cell = ";".join(parts)
    tags = split_tags(cell)
    # no empty tag, no surrounding space, no ';', no duplicates, all case-folded
    assert all(t and t == t.strip() and ";" not in t and t == t.casefold() for t in tags)
    assert len(set(tags)) == len(tags)
    # every non-blank part is there, case-insensitively
    assert set(tags) == {p.strip().casefold() for p in parts if p.strip()}


@pytest.mark.fuzz
@given(
    st.lists(
        st.lists(
            st.text(
                alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"),
                max_size=15,
            ),
            min_size=3,
            max_size=3,
        ),
        min_size=1,
        max_size=6,
    )
)
@settings(max_examples=150, deadline=None)
def test_csv_reader_round_trips_any_cells(
    tmp_path_factory: pytest.TempPathFactory, rows: list[list[str]]
) -> None:
    rows = [r for r in rows if any(c.strip() for c in r)]  # blank lines are skipped by design
    p = tmp_path_factory.mktemp("rt") / "t.csv"
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["a", "b", "c"])
    w.writerows(rows)
    p.write_text(buf.getvalue(), encoding="utf-8")
    table, findings = read_table(p, "t.csv")
    assert table is not None, findings
    assert [f for f in findings if f.is_error] == []
    assert table.rows == rows
