"""How text tables are decoded and split (spec v2 section 4; issue 13 items 4, 9, 15 and 19).

- encoding per file: UTF-8 (BOM or not) when the whole file is UTF-8; the bytes that are not UTF-8
  read as Windows-1252 with a warning naming the file and the first such line; UTF-16 with a BOM;
- delimiter of a ``.csv``: ``,``, ``;`` or tab, named in a ``data.dialect`` note (severity info);
- row numbers: spreadsheet rows (records), with the physical start line when they differ.

The user-visible items run through the CLI in process (``triangulate.cli.main``), hostile files
generated in the test.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import ProjectBuilder, Result, excerpt, survey
from triangulate.findings import Severity
from triangulate.project.models import SourceSpec
from triangulate.sources.columns import read_excerpts_fast
from triangulate.sources.load import load_source
from triangulate.sources.tables import read_table, sniff_delimiter

INTERVIEWS = {"id": "interviews", "kind": "excerpts", "path": "data/interviews.csv"}
SURVEY = {"id": "survey", "kind": "survey", "path": "data/survey.csv"}
THEMES = [
    {"id": "shared", "codes": {"interviews": ["a"], "survey": ["s"]}},
    {"id": "lonely", "codes": {"interviews": ["b"]}},
]
HEADER = ["excerpt_id", "participant", "code", "text", "substance", "mechanism"]


def invoke(args: list[str]) -> Result:
    """``triangulate ARGS`` in this process, through the console script's entry point, run in the
    project folder (the second argument) so that paths print as a user there sees them."""
    from triangulate.cli import main

    out, err = io.StringIO(), io.StringIO()
    code: Any = None
    old = os.getcwd()
    os.chdir(args[1])
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main([args[0], ".", *[str(a) for a in args[2:]]])
            except SystemExit as exc:
                code = exc.code
    finally:
        os.chdir(old)
    return Result(int(code or 0), out.getvalue(), err.getvalue())


def project(builder: ProjectBuilder) -> Path:
    return builder.write(
        sources=[INTERVIEWS, SURVEY],
        themes=THEMES,
        data={
            "interviews": [excerpt("E1", "P1", "a", "barrier", "trust")],
            "survey": [survey("s", 10, endorsed=4, substance="barrier", mechanism="trust")],
        },
    )


def write_table(path: Path, rows: list[list[str]], delimiter: str, encoding: str) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\r\n")
    w.writerows(rows)
    raw = buf.getvalue().encode(encoding)
    path.write_bytes(raw)
    return raw


def json_findings(root: Path) -> list[dict[str, Any]]:
    r = invoke(["validate", str(root), "--format", "json"])
    assert r.exit_code in (0, 1), str(r)
    findings: list[dict[str, Any]] = json.loads(r.stdout)["findings"]
    return findings


# ---------------------------------------------------------------------------- encodings (item 9)


def test_one_latin1_row_does_not_turn_a_utf8_file_into_mojibake(builder: ProjectBuilder) -> None:
    root = project(builder)
    rows = [
        HEADER,
        ["E1", "José", "a", "José’s “clinic” – Árvíztűrő", "barrier", "trust"],
        ["E2", "P2", "b", "plain", "x", "y"],
    ]
    raw = write_table(root / "data/interviews.csv", rows, ",", "utf-8")
    # one row as Windows-1252 (Excel appended it): é and ’ as single bytes
    raw += "E3,Zoé,b,Zoé’s reply,x,y\r\n".encode("cp1252")
    (root / "data/interviews.csv").write_bytes(raw)
    table, _ = read_table(root / "data/interviews.csv", "data/interviews.csv")
    assert table is not None
    assert table.rows[0][1] == "José" and table.rows[0][3] == "José’s “clinic” – Árvíztűrő"
    assert table.rows[2][1] == "Zoé" and table.rows[2][3] == "Zoé’s reply"
    assert table.encoding == "utf-8"  # rewriting it as UTF-8 repairs the odd row
    r = invoke(["validate", str(root)])
    assert r.exit_code == 0, str(r)
    assert "data/interviews.csv" in r.stderr and "line 4" in r.stderr, r.stderr
    assert "[data.cp1252-encoding]" in r.stderr
    assert "Ã" not in r.stdout + r.stderr


def test_a_windows_1252_file_is_read_with_a_warning_naming_file_and_line(
    builder: ProjectBuilder,
) -> None:
    root = project(builder)
    rows = [
        HEADER,
        ["E1", "P1", "a", "plain", "barrier", "trust"],
        ["E2", "Zoé", "b", "Ça va", "", ""],
    ]
    write_table(root / "data/interviews.csv", rows, ",", "cp1252")
    table, _ = read_table(root / "data/interviews.csv", "data/interviews.csv")
    assert table is not None and table.encoding == "cp1252"
    assert table.rows[1][1:4] == ["Zoé", "b", "Ça va"]
    found = [f for f in json_findings(root) if f["code"] == "data.cp1252-encoding"]
    assert len(found) == 1
    assert found[0]["location"]["line"] == 3
    assert "data/interviews.csv" in found[0]["message"]


def test_a_valid_utf8_file_is_never_read_as_cp1252(builder: ProjectBuilder) -> None:
    root = project(builder)
    rows = [HEADER, ["E1", "P1", "a", "Ã© looks like mojibake but is UTF-8", "", ""]]
    write_table(root / "data/interviews.csv", rows, ",", "utf-8-sig")
    table, findings = read_table(root / "data/interviews.csv", "data/interviews.csv")
    assert table is not None and table.encoding == "utf-8-sig" and not findings
    assert table.columns[0] == "excerpt_id"
    assert table.rows[0][3] == "Ã© looks like mojibake but is UTF-8"


def test_bytes_that_are_neither_utf8_nor_cp1252_are_an_error(tmp_path: Path) -> None:
    p = tmp_path / "t.csv"
    p.write_bytes(b"code,respondents\nab\x81c,3\n")
    table, findings = read_table(p, "t.csv")
    assert table is None
    assert [(f.code, f.location.line) for f in findings] == [("data.bad-encoding", 2)]


# ---------------------------------------------------------------------------- UTF-16 and delimiters (item 15)


def test_excel_unicode_text_utf16_tabs_is_read_not_refused_as_binary(
    builder: ProjectBuilder,
) -> None:
    root = project(builder)
    rows = [
        HEADER,
        ["E1", "Zoé", "a", "Ça va 😊", "barrier", "trust"],
        ["E2", "P2", "b", "x", "", ""],
    ]
    write_table(root / "data/interviews.csv", rows, "\t", "utf-16")  # BOM + UTF-16-LE, as Excel
    r = invoke(["validate", str(root), "--strict"])
    assert r.exit_code == 0, str(r)  # a note is not a warning: --strict passes
    assert "NUL" not in r.stderr
    assert "tab-separated UTF-16" in r.stderr and "[data.dialect]" in r.stderr
    table, findings = read_table(root / "data/interviews.csv", "data/interviews.csv")
    assert table is not None
    assert (table.encoding, table.delimiter) == ("utf-16", "\t")
    assert table.rows[0][1:4] == ["Zoé", "a", "Ça va 😊"]
    assert [f.severity for f in findings] == [Severity.INFO]


def test_semicolon_csv_from_a_european_excel_is_read_and_named(builder: ProjectBuilder) -> None:
    root = project(builder)
    rows = [
        HEADER,
        ["E1", "P1", "a", "Ja, genau; so", "barrier;cost", "trust"],
        ["E2", "P2", "b", "1,5", "", ""],
    ]
    write_table(root / "data/interviews.csv", rows, ";", "cp1252")
    r = invoke(["validate", str(root)])
    assert r.exit_code == 0, str(r)
    assert "unquoted comma" not in r.stderr
    assert "semicolon-separated" in r.stderr
    found = {f["code"]: f for f in json_findings(root)}
    assert found["data.dialect"]["severity"] == "info"
    table, _ = read_table(root / "data/interviews.csv", "data/interviews.csv")
    assert table is not None and table.delimiter == ";"
    assert table.rows[0][3:5] == ["Ja, genau; so", "barrier;cost"]
    r = invoke(["validate", str(root), "--format", "github"])
    assert "::notice file=data/interviews.csv" in r.stdout


def test_a_ragged_semicolon_row_names_the_semicolon(builder: ProjectBuilder) -> None:
    root = project(builder)
    (root / "data/interviews.csv").write_text(
        "excerpt_id;participant;code;text\nE1;P1;a;one; two\n", encoding="utf-8"
    )
    r = invoke(["validate", str(root)])
    assert r.exit_code == 1
    assert "unquoted semicolon" in r.stderr


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("a,b,c", ","),
        ("a;b;c", ";"),
        ("a\tb\tc", "\t"),
        ("a;b,c", ","),  # a tie: comma first
        ('"a,b";c;d', ";"),  # delimiters inside quotes do not count
        ("only", ","),
        ("a;b;c\nx,y,z,w,v", ";"),  # only the header row counts
    ],
)
def test_sniff_delimiter(header: str, expected: str) -> None:
    assert sniff_delimiter(header) == expected


NAME = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=8)
CELL = st.lists(st.sampled_from([*"ab ,;\t\"\n'éÇ’€£", "\r\n"]), max_size=12).map("".join)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    header=st.lists(NAME, min_size=2, max_size=5, unique=True),
    body=st.lists(st.lists(CELL, min_size=5, max_size=5), min_size=1, max_size=6),
    delimiter=st.sampled_from([",", ";", "\t"]),
    encoding=st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "utf-16-le-bom", "cp1252"]),
)
def test_any_table_round_trips_in_any_dialect(
    tmp_path: Path, header: list[str], body: list[list[str]], delimiter: str, encoding: str
) -> None:
    n = len(header)
    rows = [r[:n] for r in body if any(c.strip() for c in r[:n])]
    if encoding == "cp1252":
        # é and Ç are UTF-8 lead bytes in Windows-1252: followed by ’ or € they can form valid
        # UTF-8 by chance (then UTF-8 wins, by design). Keep to bytes that never start UTF-8.
        rows = [[c.replace("é", "£").replace("Ç", "’") for c in r] for r in rows]
    parts = []
    for r in [header, *rows]:
        buf = io.StringIO()
        csv.writer(buf, delimiter=delimiter, lineterminator="\n").writerow(r)
        parts.append(buf.getvalue())
    text = "".join(parts)
    if encoding == "utf-16-le-bom":
        raw = "\ufeff".encode("utf-16-le") + text.encode("utf-16-le")
    else:
        raw = text.encode(encoding)
    p = tmp_path / "t.csv"
    p.write_bytes(raw)
    table, findings = read_table(p, "t.csv")
    assert table is not None, findings
    assert table.delimiter == delimiter
    assert table.columns == header
    assert table.rows == rows
    expected = {"utf-16-le-bom": "utf-16"}.get(encoding, encoding)
    if encoding == "cp1252" and text.isascii():
        expected = "utf-8"  # plain ASCII is valid UTF-8
    assert table.encoding == expected
    codes = [f.code for f in findings]
    assert ("data.cp1252-encoding" in codes) == (expected == "cp1252")
    assert ("data.dialect" in codes) == (delimiter != "," or expected == "utf-16")
    # row numbers count records; ``lines`` holds where each starts when that differs
    assert table.row_numbers == list(range(2, len(rows) + 2))
    starts = [1 + sum(x.count("\n") for x in parts[:k]) for k in range(1, len(parts))]
    if starts == table.row_numbers:
        assert table.lines is None
    else:
        assert table.lines == starts


# ---------------------------------------------------------------------------- row numbers (item 19)


def test_a_record_after_a_multiline_cell_is_its_spreadsheet_row_with_its_start_line(
    builder: ProjectBuilder,
) -> None:
    root = project(builder)
    (root / "data/interviews.csv").write_text(
        "excerpt_id,participant,code,text,substance,mechanism\n"
        'E1,P1,a,"a three-line\nexcerpt\nhere",barrier,trust\n'  # row 2, lines 2-4
        "E2,,b,missing participant,x,y\n",  # row 3, line 5
        encoding="utf-8",
    )
    table, _ = read_table(root / "data/interviews.csv", "data/interviews.csv")
    assert table is not None
    assert table.row_numbers == [2, 3]
    assert table.lines == [2, 5]
    r = invoke(["validate", str(root)])
    assert r.exit_code == 1
    assert "data/interviews.csv: row 3 (line 5), column 'participant': error:" in r.stderr, r.stderr
    found = [f for f in json_findings(root) if f["code"] == "data.missing-value"]
    assert found[0]["location"]["row"] == 3 and found[0]["location"]["line"] == 5
    r = invoke(["validate", str(root), "--format", "github"])
    assert "::error file=data/interviews.csv,line=5," in r.stdout, r.stdout


def test_an_error_in_a_multiline_record_points_at_its_first_line(builder: ProjectBuilder) -> None:
    root = project(builder)
    (root / "data/interviews.csv").write_text(
        "excerpt_id,participant,code,text,substance,mechanism\n"
        'E1,,a,"a three-line\nexcerpt\nhere",barrier,trust\n',
        encoding="utf-8",
    )
    r = invoke(["validate", str(root), "--format", "github"])
    assert "::error file=data/interviews.csv,line=2," in r.stdout, r.stdout


# ---------------------------------------------------------------------------- the fast reader


def _load(root: Path, name: str, fast: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any]:
    monkeypatch.setenv("TRIANGULATE_FAST_READ_MIN_BYTES", "0" if fast else str(1 << 60))
    spec = SourceSpec.model_validate({"id": "i", "kind": "excerpts", "path": name})
    data, findings = load_source(root, spec, ["substance", "mechanism"])
    rows = [] if data is None else [(r.excerpt_id, r.text, r.tags, r.row) for r in data.excerpts]
    return rows, [(f.code, f.severity, f.location) for f in findings]


@pytest.mark.parametrize("delimiter", [";", "\t"])
@pytest.mark.parametrize("bom", [False, True])
def test_fast_reader_reads_semicolon_and_tab_csv_like_the_careful_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, delimiter: str, bom: bool
) -> None:
    rows = [HEADER] + [
        [f"E{i}", f"P{i % 3}", f"c{i % 4}", f"Text, {i}; more", "a;B", "x"] for i in range(30)
    ]
    write_table(tmp_path / "d.csv", rows, delimiter, "utf-8-sig" if bom else "utf-8")
    monkeypatch.setenv("TRIANGULATE_FAST_READ_MIN_BYTES", "0")
    assert read_excerpts_fast(tmp_path / "d.csv", "d.csv", ["substance"]) is not None
    fast = _load(tmp_path, "d.csv", True, monkeypatch)
    careful = _load(tmp_path, "d.csv", False, monkeypatch)
    assert fast == careful
    assert [c for c, _, _ in fast[1]] == ["data.dialect"]


def test_fast_reader_gives_up_at_once_on_an_absurd_header(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # issue 13 item 4: a 1,000,000-column CSV took 42 s and 2.4 GB on the fast reader
    header = ",".join(
        ["excerpt_id", "participant", "code", "text"] + [f"c{i}" for i in range(200_000)]
    )
    (tmp_path / "wide.csv").write_text(header + "\nE1,P1,a,t\n", encoding="utf-8")
    monkeypatch.setenv("TRIANGULATE_FAST_READ_MIN_BYTES", "0")
    assert read_excerpts_fast(tmp_path / "wide.csv", "wide.csv", []) is None
    rows, findings = _load(tmp_path, "wide.csv", False, monkeypatch)
    assert rows == [("E1", "t", {}, 2)] and findings == []


def test_fast_reader_gives_up_on_utf16_and_cp1252_and_the_careful_one_reads_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = [HEADER] + [[f"E{i}", "Zoé", "c", "Ça", "", ""] for i in range(5)]
    for enc in ("utf-16", "cp1252"):
        write_table(tmp_path / "d.csv", rows, ",", enc)
        monkeypatch.setenv("TRIANGULATE_FAST_READ_MIN_BYTES", "0")
        assert read_excerpts_fast(tmp_path / "d.csv", "d.csv", []) is None
        got, _ = _load(tmp_path, "d.csv", False, monkeypatch)
        assert got[0][1] == "Ça"


def test_provenance_hash_comes_from_the_bytes_read(tmp_path: Path) -> None:
    import hashlib

    from triangulate.digests import sha256_file

    p = tmp_path / "t.csv"
    p.write_bytes(b"code,respondents\nx,3\n")
    assert read_table(p, "t.csv")[0] is not None
    assert sha256_file(p) == hashlib.sha256(p.read_bytes()).hexdigest()
    os.utime(p, ns=(1, 1))  # changed since it was read: hashed afresh
    p.write_bytes(b"code,respondents\ny,4\n")
    assert sha256_file(p) == hashlib.sha256(b"code,respondents\ny,4\n").hexdigest()
