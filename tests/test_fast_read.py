"""The fast excerpts reader (pandas' C parser, column-wise) against the careful one (csv module).

Large, well-formed CSV/TSV excerpts sources are read by :mod:`triangulate.sources.columns`; anything odd
falls back to the careful reader. Whichever path reads a file, the rows, their row numbers and
the findings must be the same. The size threshold is lowered through the environment so that
small files take the fast path here.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from triangulate.project.models import SourceSpec
from triangulate.sources.columns import ExcerptView, read_excerpts_fast
from triangulate.sources.load import load_source

DIMS = ["substance", "mechanism"]
SPEC = SourceSpec.model_validate({"id": "interviews", "kind": "excerpts", "path": "data.csv"})


def _load(
    root: Path, fast: bool, monkeypatch: pytest.MonkeyPatch, name: str = "data.csv"
) -> tuple[list[tuple], list]:
    monkeypatch.setenv("TRIANGULATE_FAST_READ_MIN_BYTES", "0" if fast else str(1 << 60))
    spec = SourceSpec.model_validate({"id": "interviews", "kind": "excerpts", "path": name})
    data, findings = load_source(root, spec, DIMS)
    rows = (
        []
        if data is None
        else [(r.excerpt_id, r.participant, r.code, r.text, r.tags, r.row) for r in data.excerpts]
    )
    return rows, findings


def _both(
    content: bytes, monkeypatch: pytest.MonkeyPatch, suffix: str = ".csv"
) -> tuple[bool, tuple, tuple]:
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        name = f"data{suffix}"
        (root / name).write_bytes(content)
        monkeypatch.setenv("TRIANGULATE_FAST_READ_MIN_BYTES", "0")
        took_fast = read_excerpts_fast(root / name, name, DIMS) is not None
        return (
            took_fast,
            _load(root, True, monkeypatch, name),
            _load(root, False, monkeypatch, name),
        )


HEADER = b"excerpt_id,participant,code,text,substance,mechanism,extra\n"
WELL_FORMED = HEADER + b"".join(
    f'E{i},P{i % 3},code-{i % 4},"Text, number {i}",barrier; Cost;;{i % 2},Trust,x\n'.encode()
    for i in range(40)
)


def test_a_well_formed_file_takes_the_fast_path_and_reads_the_same(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    fast, a, b = _both(WELL_FORMED, monkeypatch)
    assert fast
    assert a == b
    assert a[0][0][4] == {"substance": ("barrier", "cost", "0"), "mechanism": ("trust",)}
    assert [r[5] for r in a[0]] == list(range(2, 42))


@pytest.mark.parametrize(
    "content",
    [
        HEADER + b"E1,P1,c,text,a,b,x\nE2,P1,c,te\x00xt,a,b,x\n",  # NUL byte
        HEADER + b"E1,P1,c,caf\xe9,a,b,x\n",  # Windows-1252, not UTF-8
        HEADER + b"E1,P1,c,text,a,b,x,surplus\nE2,P1,c,t,a,b,x\n",  # ragged first row
        HEADER + b"E1,P1,c,text,a,b,x\nE2,P1,c,t,a,b,x,surplus\n",  # ragged later row
        HEADER + b"E1,P1,c,text,a,b,x,\n",  # a trailing empty cell
        HEADER + b"E1,P1,c,text,a,b,x\n\nE2,P1,c,t,a,b,x\n",  # a blank line
        HEADER + b"E1,P1,c,text,a,b,x\n  ,  ,  , ,,,\nE2,P1,c,t,a,b,x\n",  # a row of blanks
        HEADER + b'E1,P1,c,"two\nlines",a,b,x\nE2,P1,c,t,a,b,x\n',  # a cell spanning lines
        HEADER + b"E1,,c,text,a,b,x\n",  # a missing participant
        HEADER + b"E1,P1, ,text,a,b,x\n",  # a blank code
        HEADER + b"E1,P1,c,text,a,b,x\rE2,P1,c,t,a,b,x\r",  # old Mac line ends
        HEADER + b'E1,P1,c,"unterminated,a,b,x\n',  # an unterminated quote
        b'excerpt_id,"participant",code,text\nE1,P1,c,t\n',  # a quoted header cell
        b"excerpt_id,participant,code,text,code\nE1,P1,c,t,d\n",  # a repeated column
        b"excerpt_id,participant,text\nE1,P1,t\n",  # a missing column
        b"",  # empty
        HEADER,  # a header only
    ],
)
def test_odd_files_give_the_same_rows_and_findings_either_way(
    content: bytes, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, a, b = _both(content, monkeypatch)
    assert a == b


def test_bom_crlf_spaces_and_empty_text_are_read_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    content = b"\xef\xbb\xbf excerpt_id , participant,code,text,substance\r\n" + b"".join(
        f" E{i} ,P{i % 2}, c{i % 3} ,{'' if i % 5 == 0 else '  ' if i % 7 == 0 else 'said'},A;b\r\n".encode()
        for i in range(30)
    )
    fast, a, b = _both(content, monkeypatch)
    assert fast
    assert a == b
    assert [f.code for f in a[1]] == ["data.empty-text"]


def test_tsv_is_read_the_same(monkeypatch: pytest.MonkeyPatch) -> None:
    content = WELL_FORMED.replace(b",", b"\t").replace(b'"Text\t number', b'"Text, number')
    fast, a, b = _both(content, monkeypatch, ".tsv")
    assert fast
    assert a == b


CELL = st.sampled_from(
    [
        "a",
        "b",
        "",
        " ",
        "x y",
        "A;b",
        ";",
        '"',
        '""',
        ",",
        "\n",
        "\r\n",
        "é",
        "1",
        "P1",
        "code-1",
        '"q, r"',
        '"say ""hi"""',
        'x"y',
        '"a"b',
    ]
)
KEY = st.sampled_from(["E1", "E2", " E3 ", "P1", "c1", "c2"]) | CELL
ROW = st.tuples(st.lists(KEY, min_size=3, max_size=3), st.lists(CELL, max_size=5)).map(
    lambda t: ",".join(t[0] + t[1])
)


@pytest.mark.slow
@pytest.mark.fuzz
@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(ROW, max_size=12), quote=st.booleans(), crlf=st.booleans())
def test_any_small_table_reads_the_same_either_way(
    rows: list[str], quote: bool, crlf: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    if quote:
        rows = [
            ",".join(f'"{c}"' if i % 2 else c for i, c in enumerate(r.split(","))) for r in rows
        ]
    end = "\r\n" if crlf else "\n"
    content = ("excerpt_id,participant,code,text,substance" + end + end.join(rows) + end).encode()
    _, a, b = _both(content, monkeypatch)
    assert a == b


# Characters the control check objects to (C0, DEL, C1, bidirectional marks, line separators),
# characters it allows (tab, a Windows line break, non-ASCII letters, typographic quotes whose UTF-8
# starts like the bidirectional marks), and plain text.
CONTROL_CELL = st.lists(
    st.sampled_from(
        ["a", "b c", "\t", "\x1b[31m", "\x07", "\x7f", "\x85", "\u200e", "\u202e", "\u2066"]
        + ["\u2028", "\u2019", "\u201c", "\u2014", "é", "ß", "\r\n", "\n", "中"]
    ),
    max_size=4,
).map("".join)


def _control_findings(root: Path, fast: bool, monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    from triangulate.sources.unsafe import control_character_findings

    monkeypatch.setenv("TRIANGULATE_FAST_READ_MIN_BYTES", "0" if fast else str(1 << 60))
    data, _ = load_source(root, SPEC, DIMS)
    assert data is not None
    return [(f.code, f.location.row, f.location.field) for f in control_character_findings(data)]


@pytest.mark.fuzz
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    cells=st.lists(st.tuples(CONTROL_CELL, CONTROL_CELL), min_size=1, max_size=8),
    chunk=st.integers(min_value=1, max_value=64),
)
def test_control_characters_are_found_the_same_when_the_fast_reader_skips_the_cells(
    cells: list[tuple[str, str]], chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The fast reader looks for control characters in the file's bytes as it scans them (in
    blocks: a small block size puts block edges inside characters and line breaks); only when it
    finds none does the per-cell check have nothing to do. Its findings are the careful reader's."""
    import triangulate.sources.columns as columns

    monkeypatch.setattr(columns, "_CHUNK", chunk)
    body = "".join(
        f'E{i},"P{i}{who}",c1,"{text}",barrier,x\n' for i, (who, text) in enumerate(cells)
    )
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        (root / "data.csv").write_bytes(
            ("excerpt_id,participant,code,text,substance,mechanism\n" + body).encode()
        )
        assert _control_findings(root, True, monkeypatch) == _control_findings(
            root, False, monkeypatch
        )


def test_a_clean_file_needs_no_cell_by_cell_control_check(monkeypatch: pytest.MonkeyPatch) -> None:
    from triangulate.sources.columns import read_excerpts_fast as fast

    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        for name, content, clean in [
            ("clean.csv", WELL_FORMED, True),
            ("quotes.csv", WELL_FORMED.replace(b"Text", "\u201cText\u201d".encode()), True),
            ("escape.csv", WELL_FORMED.replace(b"number 3", b"number \x1b[2J3"), False),
            ("bidi.csv", WELL_FORMED.replace(b"number 3", "\u202e3".encode()), False),
        ]:
            (root / name).write_bytes(content)
            monkeypatch.setenv("TRIANGULATE_FAST_READ_MIN_BYTES", "0")
            read = fast(root / name, name, DIMS)
            assert read is not None, name
            assert read[0].no_controls is clean, name


def test_views_index_like_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    with tempfile.TemporaryDirectory() as d:
        (Path(d) / "data.csv").write_bytes(WELL_FORMED)
        monkeypatch.setenv("TRIANGULATE_FAST_READ_MIN_BYTES", "0")
        got = read_excerpts_fast(Path(d) / "data.csv", "data.csv", DIMS)
    assert got is not None
    view = ExcerptView(got[0], [3, 5, 7])
    assert len(view) == 3 and view[-1].excerpt_id == "E7" and [r.row for r in view[0:2]] == [5, 7]
    with pytest.raises(IndexError):
        view[3]


# ---------------------------------------------------------------------------- .jsonl and .xlsx, column by column

JCELL = st.one_of(
    st.sampled_from(["a", "", " ", "P1", " c1 ", "x;Y", "é", "\n", "1"]),
    st.integers(-5, 5),
    st.booleans(),
    st.none(),
)


def _write_format(root: Path, fmt: str, header: list[str], rows: list[list[object]]) -> str:
    import json

    import openpyxl

    name = f"data.{fmt}"
    if fmt == "jsonl":
        lines = [json.dumps(dict(zip(header, r))) for r in rows]
        (root / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    else:
        wb = openpyxl.Workbook()
        ws = wb.active
        assert ws is not None
        ws.append(header)
        for r in rows:
            ws.append(r)
        wb.save(root / name)
    return name


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.lists(JCELL, min_size=5, max_size=5), min_size=1, max_size=10),
    fmt=st.sampled_from(["jsonl", "xlsx"]),
)
def test_jsonl_and_xlsx_read_column_by_column_as_row_by_row(
    rows: list[list[object]], fmt: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    header = ["excerpt_id", "participant", "code", "text", "substance"]
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        name = _write_format(root, fmt, header, rows)
        fast = _load(root, True, monkeypatch, name)
        careful = _load(root, False, monkeypatch, name)
        assert fast == careful


def test_a_lone_carriage_return_ending_a_cell_is_found_on_the_column_path() -> None:
    """Cells are checked a chunk at a time, joined: joined by a newline, a text ending in a lone
    carriage return before one starting with a newline read as one Windows line break and the
    warning was lost (column-wise sources: .xlsx, .jsonl, .qdpx)."""
    from triangulate.sources.columns import ExcerptColumns
    from triangulate.sources.data import SourceData
    from triangulate.sources.rows import ExcerptRow
    from triangulate.sources.unsafe import control_character_findings

    rows = [
        ExcerptRow("E1", "P1", "c1", "first\r", {}, 2),
        ExcerptRow("E2", "P2\r", "c1", "\nsecond", {}, 3),
        ExcerptRow("E3", "\nP3", "c1", "third", {}, 4),
    ]
    data = SourceData(SPEC, "data.jsonl")
    data.attach_columns(ExcerptColumns.from_rows(rows))
    found = [(f.location.row, f.location.field) for f in control_character_findings(data)]
    assert found == [(2, "text"), (3, "participant")]
