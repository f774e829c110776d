"""Hostile input: every command meets bad files with a clear finding (exit 1 or 2), never a traceback.

Each case builds a small valid project, spoils one file, and checks the exit code, the finding code
and the file the finding names. Commands run in-process through ``triangulate.cli.main`` (the same
entry point as the console script) to keep the suite fast; a few cases also run as a subprocess.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import struct
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from conftest import ProjectBuilder, Result, excerpt, survey, write_csv

INTERVIEWS = {"id": "interviews", "kind": "excerpts", "path": "data/interviews.csv"}
SURVEY = {"id": "survey", "kind": "survey", "path": "data/survey.csv"}
THEMES = [
    {"id": "shared", "codes": {"interviews": ["a"], "survey": ["s"]}},
    {"id": "lonely", "codes": {"interviews": ["b"]}},
]
# Commands that take a project; each must turn bad input into exit 1 or 2 without a traceback.
PROJECT_COMMANDS: list[list[str]] = [
    ["validate"],
    ["sort"],
    ["converge"],
    ["report"],
    ["run"],
    ["agreement"],
    ["review", "--as", "tester"],
    ["export-codebook"],
]


def invoke(args: list[str], cwd: Path | None = None) -> Result:
    """Run ``triangulate ARGS`` in this process, through the console script's entry point."""
    from triangulate.cli import main

    out, err = io.StringIO(), io.StringIO()
    old = os.getcwd()
    code: Any = None
    try:
        if cwd is not None:
            os.chdir(cwd)
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                main([str(a) for a in args])
            except SystemExit as exc:
                code = exc.code
    finally:
        os.chdir(old)
    return Result(int(code or 0), out.getvalue(), err.getvalue())


@pytest.fixture(autouse=True)
def _no_actions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)


def make_project(builder: ProjectBuilder, **kw: Any) -> Path:
    """A clean two-source project with one reviewer worksheet and one decision."""
    kw.setdefault("themes", THEMES)
    kw.setdefault("reviewers", ["bb"])
    kw.setdefault(
        "data",
        {
            "interviews": [
                excerpt("E1", "P1", "a", "barrier", "trust"),
                excerpt("E2", "P2", "b", "x", "y"),
            ],
            "survey": [survey("s", 10, endorsed=4, substance="barrier", mechanism="trust")],
        },
    )
    kw.setdefault(
        "worksheets",
        {
            "bb": [
                {
                    "theme": "shared",
                    "source_a": "interviews",
                    "source_b": "survey",
                    "substance": "yes",
                    "mechanism": "yes",
                    "rationale": "same",
                }
            ]
        },
    )
    return builder.write(sources=[INTERVIEWS, SURVEY], **kw)


def validate_json(project: Path) -> tuple[Result, list[dict[str, Any]]]:
    r = invoke(["validate", "--format", "json", "."], cwd=project)
    assert "Traceback" not in r.stderr, str(r)
    doc = json.loads(r.stdout)
    return r, doc["findings"]


def expect(project: Path, exit_code: int, code: str, file: str, **where: Any) -> dict[str, Any]:
    """validate exits ``exit_code`` and reports ``code`` at ``file`` (and the given line/row/...)."""
    r, findings = validate_json(project)
    assert r.exit_code == exit_code, str(r)
    hits = [f for f in findings if f["code"] == code and f["location"]["file"] == file]
    assert hits, f"no {code} at {file} in:\n{json.dumps(findings, indent=1)}"
    for key, value in where.items():
        assert any(h["location"][key] == value for h in hits), (key, value, hits)
    return hits[0]


# ---------------------------------------------------------------------------- the baseline


def test_baseline_project_is_clean(builder: ProjectBuilder) -> None:
    project = make_project(builder)
    r, findings = validate_json(project)
    assert r.exit_code == 0, str(r)
    assert [f for f in findings if f["severity"] == "error"] == []


# ---------------------------------------------------------------------------- YAML


def test_yaml_syntax_error(builder: ProjectBuilder) -> None:
    project = make_project(builder)
    (project / "codebook.yaml").write_text(
        "themes:\n  - id: shared\n    codes: {interviews: [a\n", encoding="utf-8"
    )
    hit = expect(project, 1, "yaml.syntax", "codebook.yaml")
    assert hit["location"]["line"] is not None and hit["location"]["column"] is not None


@pytest.mark.parametrize(
    "payload",
    [
        '!!python/object/apply:os.system ["touch PWNED"]',
        '!!python/object/apply:subprocess.check_output [["touch", "PWNED"]]',
        "!!python/name:os.system",
        "!custom {a: 1}",
    ],
)
def test_yaml_tags_that_build_objects_are_refused(builder: ProjectBuilder, payload: str) -> None:
    project = make_project(builder)
    text = (project / "triangulate.yaml").read_text(encoding="utf-8")
    (project / "triangulate.yaml").write_text(
        text.replace("title: Test project", f"title: {payload}"), encoding="utf-8"
    )
    expect(project, 1, "yaml.unsafe-tag", "triangulate.yaml", line=1, column=8)
    assert not (project / "PWNED").exists()


def test_yaml_tag_in_codebook_is_refused_and_the_rest_still_checked(
    builder: ProjectBuilder,
) -> None:
    project = make_project(builder)
    (project / "codebook.yaml").write_text(
        "themes: !!python/object/new:dict [[]]\n", encoding="utf-8"
    )
    write_csv(project / "data/survey.csv", [{"code": "s", "respondents": "many", "endorsed": 1}])
    expect(project, 1, "yaml.unsafe-tag", "codebook.yaml", line=1)
    expect(project, 1, "data.not-a-number", "data/survey.csv", row=2, field="respondents")


def billion_laughs(levels: int = 12) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        refs = ", ".join([f"*a{i - 1}"] * 10)
        lines.append(f"a{i}: &a{i} [{refs}]")
    lines.append(f"themes: *a{levels - 1}")
    return "\n".join(lines) + "\n"


@pytest.mark.slow
def test_yaml_alias_bomb_is_bounded_in_time_and_memory(builder: ProjectBuilder) -> None:
    from triangulate.project.yamlio import parse_yaml

    project = make_project(builder)
    (project / "codebook.yaml").write_text(
        billion_laughs(), encoding="utf-8"
    )  # 10**12 strings expanded
    started = time.perf_counter()
    hit = expect(project, 1, "yaml.too-complex", "codebook.yaml")
    assert time.perf_counter() - started < 10
    assert hit["location"]["line"] == 1
    doc, findings = parse_yaml(billion_laughs(), "codebook.yaml")
    assert doc is None and [f.code for f in findings] == ["yaml.too-complex"]
    # memory: the peak resident size of a fresh interpreter that parses the bomb. VmHWM belongs to
    # the new process image; ru_maxrss would carry over the forking (large) pytest process's peak.
    script = (
        "import re, sys; from triangulate.project.yamlio import parse_yaml; "
        "doc, f = parse_yaml(sys.stdin.read(), 'c.yaml'); assert doc is None; "
        "print(re.search(r'VmHWM:\\s+(\\d+) kB', open('/proc/self/status').read()).group(1))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script],
        input=billion_laughs(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout) < 300 * 1024, proc.stdout  # kilobytes on Linux: under 300 MB in all


@pytest.mark.slow
def test_yaml_recursive_alias_and_deep_nesting(builder: ProjectBuilder) -> None:
    project = make_project(builder)
    (project / "codebook.yaml").write_text("themes: &x [*x]\n", encoding="utf-8")
    expect(project, 1, "yaml.too-complex", "codebook.yaml")
    (project / "codebook.yaml").write_text(
        "themes: " + "[" * 1500 + "]" * 1500 + "\n", encoding="utf-8"
    )
    expect(project, 1, "yaml.too-complex", "codebook.yaml")


def test_yaml_unknown_key_points_at_the_key(builder: ProjectBuilder) -> None:
    project = make_project(builder)
    text = (project / "triangulate.yaml").read_text(encoding="utf-8")
    lines = text.splitlines()
    i = next(n for n, line in enumerate(lines) if line.startswith("  kind: excerpts"))
    lines.insert(i + 1, "  pathh: data/other.csv")  # a typo of 'path' in the first source
    (project / "triangulate.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    hit = expect(project, 1, "yaml.unknown-key", "triangulate.yaml", line=i + 2, column=3)
    assert "pathh" in hit["message"] and "path" in hit["message"]


def test_yaml_wrong_types_point_at_the_value(builder: ProjectBuilder) -> None:
    project = make_project(builder)
    (project / "codebook.yaml").write_text(
        "themes:\n  - id: shared\n    label: [not, text]\n    codes: {interviews: [a], survey: [s]}\n  - id: Lonely Theme\n    codes: 7\n",
        encoding="utf-8",
    )
    r, findings = validate_json(project)
    assert r.exit_code == 1, str(r)
    got = {
        (f["code"], f["location"]["line"], f["location"]["column"])
        for f in findings
        if f["location"]["file"] == "codebook.yaml"
    }
    assert ("yaml.invalid-value", 3, 12) in got  # the list, not the key 'label'
    assert ("yaml.invalid-value", 5, 9) in got  # the id 'Lonely Theme'
    assert ("yaml.invalid-value", 6, 12) in got  # codes: 7


def test_yaml_duplicate_key(builder: ProjectBuilder) -> None:
    project = make_project(builder)
    text = (project / "codebook.yaml").read_text(encoding="utf-8")
    (project / "codebook.yaml").write_text(text + "themes: []\n", encoding="utf-8")
    hit = expect(project, 1, "yaml.duplicate-key", "codebook.yaml")
    assert hit["location"]["line"] == len(text.splitlines()) + 1


@pytest.mark.parametrize(
    "value", ["2023-02-30", "1" * 5000, "0x" + "f" * 20000, "2001-12-14 21:59:43.10 +99"]
)
def test_yaml_values_that_look_like_numbers_or_dates_but_are_not(
    builder: ProjectBuilder, value: str
) -> None:
    project = make_project(builder)
    text = (project / "triangulate.yaml").read_text(encoding="utf-8")
    (project / "triangulate.yaml").write_text(
        text.replace("title: Test project", f"title: {value}"), encoding="utf-8"
    )
    expect(project, 1, "yaml.invalid-value", "triangulate.yaml", line=1)


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "yaml.not-a-mapping"),
        (b"- just\n- a list\n", "yaml.not-a-mapping"),
        (b"themes: []\n\x00\x01\x02", "data.malformed"),
        ("themes: [caf\u00e9]\n".encode("cp1252"), "data.bad-encoding"),
    ],
)
def test_yaml_empty_list_binary_and_non_utf8_files(
    builder: ProjectBuilder, content: bytes, code: str
) -> None:
    project = make_project(builder)
    (project / "codebook.yaml").write_bytes(content)
    expect(project, 1, code, "codebook.yaml")


def test_yaml_control_character(builder: ProjectBuilder) -> None:
    """Found by fuzzing: PyYAML's reader raised before parsing began."""
    project = make_project(builder)
    (project / "codebook.yaml").write_text(
        "themes:\n  - id: t\n    label: a\x1fb\n", encoding="utf-8"
    )
    hit = expect(project, 1, "yaml.syntax", "codebook.yaml", line=3)
    assert hit["location"]["column"] == 13


def test_protocol_rule_naming_an_unknown_category_points_at_the_rule(
    builder: ProjectBuilder,
) -> None:
    project = make_project(builder, protocol="my-protocol.yaml")
    (project / "my-protocol.yaml").write_text(
        "id: mine\ntitle: Mine\ncitation: none\nsteps: [sorting]\n"
        "dimensions:\n  - {id: substance, label: S}\n  - {id: mechanism, label: M}\n"
        "categories:\n  - {id: agree, label: A, definition: d}\n  - {id: silence, label: S, definition: d}\n"
        "rules:\n  one_source: silence\n  all: agree\n  some: partial\n  none: dissonance\n",
        encoding="utf-8",
    )
    r, findings = validate_json(project)
    assert r.exit_code == 1, str(r)
    hits = {
        (f["location"]["line"], f["location"]["column"])
        for f in findings
        if f["code"] == "protocol.unknown-category"
    }
    assert hits == {(14, 9), (15, 9)}


# ---------------------------------------------------------------------------- CSV


def test_csv_with_bom_and_crlf_is_read(builder: ProjectBuilder) -> None:
    project = make_project(builder)
    path = project / "data/interviews.csv"
    text = path.read_text(encoding="utf-8").replace("\n", "\r\n")
    path.write_bytes("\ufeff".encode() + text.encode("utf-8"))
    r, findings = validate_json(project)
    assert r.exit_code == 0, str(r)
    assert not [f for f in findings if f["location"]["file"] == "data/interviews.csv"]


def test_csv_with_nul_bytes(builder: ProjectBuilder) -> None:
    project = make_project(builder)
    path = project / "data/interviews.csv"
    path.write_bytes(path.read_bytes().replace(b"Some words.", b"Some\x00words."))
    expect(project, 1, "data.malformed", "data/interviews.csv", line=2)


def test_csv_ragged_row(builder: ProjectBuilder) -> None:
    project = make_project(builder)
    path = project / "data/interviews.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[2] += ",an extra cell,and another"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    expect(project, 1, "data.ragged-row", "data/interviews.csv", row=3)


def test_csv_quote_never_closed_is_an_error_not_a_swallowed_file(builder: ProjectBuilder) -> None:
    project = make_project(builder)
    path = project / "data/interviews.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace(
        "Some words.", '"He said no, then'
    )  # opens a quote, never closes it
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    expect(project, 1, "data.malformed", "data/interviews.csv", line=2)


def test_csv_multiline_quoted_cells_are_fine(builder: ProjectBuilder) -> None:
    project = make_project(builder)
    path = project / "data/interviews.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    lines[2] = lines[2].replace("Some words.", '"two\nlines, quoted"')
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    r, _findings = validate_json(project)
    assert r.exit_code == 0, str(r)


def test_csv_in_cp1252_is_read_with_a_warning(builder: ProjectBuilder) -> None:
    project = make_project(builder)
    path = project / "data/interviews.csv"
    path.write_bytes(
        path.read_text(encoding="utf-8")
        .replace("Some words.", "Caf\u00e9 \u2013 na\u00efve")
        .encode("cp1252")
    )
    expect(project, 0, "data.cp1252-encoding", "data/interviews.csv", line=2)
    from triangulate.sources.tables import read_table

    table, _ = read_table(path, "data/interviews.csv")
    assert table is not None and table.column("text")[0] == "Caf\u00e9 \u2013 na\u00efve"


def test_csv_empty_file(builder: ProjectBuilder) -> None:
    project = make_project(builder)
    (project / "data/interviews.csv").write_bytes(b"")
    expect(project, 1, "data.empty", "data/interviews.csv")


def test_csv_header_only_is_missing_nothing_but_has_no_rows(builder: ProjectBuilder) -> None:
    project = make_project(builder)
    (project / "data/survey.csv").write_text("code,respondents,endorsed\n", encoding="utf-8")
    r, _findings = validate_json(project)
    assert r.exit_code in (0, 1) and "Traceback" not in r.stderr, str(r)


def test_csv_binary_file(builder: ProjectBuilder) -> None:
    project = make_project(builder)
    (project / "data/interviews.csv").write_bytes(bytes(range(256)) * 64)
    expect(project, 1, "data.malformed", "data/interviews.csv")


def test_csv_binary_without_nul_bytes(builder: ProjectBuilder) -> None:
    project = make_project(builder)
    (project / "data/interviews.csv").write_bytes(
        bytes(range(1, 256)) * 64
    )  # 0x81 is not cp1252 either
    expect(project, 1, "data.bad-encoding", "data/interviews.csv")


def test_csv_huge_cell(builder: ProjectBuilder) -> None:
    from triangulate.sources.tables import MAX_CELL

    project = make_project(builder)
    path = project / "data/interviews.csv"
    path.write_text(
        'excerpt_id,participant,code,text\nE1,P1,a,"' + "x" * (MAX_CELL + 10) + '"\n',
        encoding="utf-8",
    )
    expect(project, 1, "data.too-large", "data/interviews.csv", line=2)


def test_csv_unsupported_extension(builder: ProjectBuilder) -> None:
    project = make_project(builder)
    text = (project / "triangulate.yaml").read_text(encoding="utf-8")
    (project / "triangulate.yaml").write_text(
        text.replace("data/survey.csv", "data/survey.docx"), encoding="utf-8"
    )
    (project / "data/survey.docx").write_bytes(b"PK\x03\x04 not really")
    expect(project, 1, "data.unsupported-format", "data/survey.docx")


# ---------------------------------------------------------------------------- XLSX


def use_xlsx(project: Path, sid: str = "survey") -> Path:
    text = (project / "triangulate.yaml").read_text(encoding="utf-8")
    (project / "triangulate.yaml").write_text(
        text.replace(f"data/{sid}.csv", f"data/{sid}.xlsx"), encoding="utf-8"
    )
    return project / f"data/{sid}.xlsx"


def test_xlsx_that_is_not_a_workbook(builder: ProjectBuilder) -> None:
    project = make_project(builder)
    use_xlsx(project).write_bytes(b"code,respondents\ns,10\n")
    expect(project, 1, "data.malformed", "data/survey.xlsx")


def test_xlsx_zip_that_is_not_a_workbook(builder: ProjectBuilder) -> None:
    project = make_project(builder)
    with zipfile.ZipFile(use_xlsx(project), "w") as zf:
        zf.writestr("hello.txt", "not a workbook")
    expect(project, 1, "data.malformed", "data/survey.xlsx")


def claim_huge_sizes(data: bytes, claimed: int = 0xFFFF_FFF0) -> bytes:
    """Rewrite the uncompressed size of every member in a zip's central directory."""
    out = bytearray(data)
    i = out.find(b"PK\x01\x02")
    while i != -1:
        struct.pack_into("<I", out, i + 24, claimed)
        i = out.find(b"PK\x01\x02", i + 4)
    return bytes(out)


def test_xlsx_zip_needing_an_unknown_zip_version(builder: ProjectBuilder) -> None:
    """Found by fuzzing: zipfile raises NotImplementedError for 'version needed to extract' 6.4."""
    import openpyxl

    project = make_project(builder)
    wb = openpyxl.Workbook()
    wb.active.append(["code", "respondents", "endorsed"])
    buf = io.BytesIO()
    wb.save(buf)
    data = bytearray(buf.getvalue())
    i = data.find(b"PK\x01\x02")
    struct.pack_into("<H", data, i + 6, 64)  # version needed to extract: 6.4
    use_xlsx(project).write_bytes(bytes(data))
    expect(project, 1, "data.malformed", "data/survey.xlsx")


def test_xlsx_workbook_bomb_claiming_a_huge_size(builder: ProjectBuilder) -> None:
    import openpyxl

    project = make_project(builder)
    wb = openpyxl.Workbook()
    wb.active.append(["code", "respondents", "endorsed"])
    wb.active.append(["s", 10, 4])
    buf = io.BytesIO()
    wb.save(buf)
    path = use_xlsx(project)
    path.write_bytes(claim_huge_sizes(buf.getvalue()))
    assert path.stat().st_size < 20_000
    started = time.perf_counter()
    expect(project, 1, "data.too-large", "data/survey.xlsx")
    assert time.perf_counter() - started < 10


def test_xlsx_sparse_sheet_bomb(builder: ProjectBuilder, monkeypatch: pytest.MonkeyPatch) -> None:
    """A few cells far apart make a reader pad millions of empty cells; the reader stops early."""
    import openpyxl

    import triangulate.sources.tables

    monkeypatch.setattr(triangulate.sources.tables, "MAX_XLSX_CELLS", 200_000)
    project = make_project(builder)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["code", "respondents", "endorsed"])
    for r in range(2, 40):
        ws.cell(row=r, column=16384, value="far")  # column XFD: every row padded to 16,384 cells
    path = use_xlsx(project)
    wb.save(path)
    assert path.stat().st_size < 50_000
    expect(project, 1, "data.too-large", "data/survey.xlsx")


def test_xlsx_declared_dimension_is_not_trusted(builder: ProjectBuilder) -> None:
    """A sheet claiming A1:XFD1048576 but holding three cells reads quickly and correctly."""
    import openpyxl

    project = make_project(builder)
    wb = openpyxl.Workbook()
    wb.active.append(["code", "respondents", "endorsed"])
    wb.active.append(["s", 10, 4])
    buf = io.BytesIO()
    wb.save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.startswith("xl/worksheets/sheet"):
                data = data.replace(
                    b'<dimension ref="A1:C2"/>', b'<dimension ref="A1:XFD1048576"/>'
                )
                assert b"XFD1048576" in data
            dst.writestr(info, data)
    use_xlsx(project).write_bytes(out.getvalue())
    started = time.perf_counter()
    r, _findings = validate_json(project)
    assert time.perf_counter() - started < 10
    assert r.exit_code == 0, str(r)


def test_xlsx_formula_cells_yield_values_never_formulas(builder: ProjectBuilder) -> None:
    import openpyxl

    from triangulate.sources.tables import read_table

    project = make_project(builder)
    text = (project / "triangulate.yaml").read_text(encoding="utf-8")
    (project / "triangulate.yaml").write_text(
        text.replace("data/interviews.csv", "data/interviews.xlsx"), encoding="utf-8"
    )
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["excerpt_id", "participant", "code", "text", "substance", "mechanism"])
    ws.append(["E1", "P1", "a", '=HYPERLINK("http://example.invalid","click")', "barrier", "trust"])
    ws.append(
        ["E2", "P2", "=CHAR(98)", "=1+1", "x", "y"]
    )  # no cached values: openpyxl never computes
    path = project / "data/interviews.xlsx"
    wb.save(path)
    table, _ = read_table(path, "data/interviews.xlsx")
    assert table is not None
    cells = [c for row in table.rows for c in row]
    assert not [c for c in cells if c.startswith("=")], cells
    # the code of row 3 is a formula with no cached value: an empty code, not '=CHAR(98)'
    expect(project, 1, "data.missing-value", "data/interviews.xlsx", row=3, field="code")


# ---------------------------------------------------------------------------- JSONL


def test_jsonl_bad_lines_are_reported_with_their_line_numbers(builder: ProjectBuilder) -> None:
    project = make_project(builder)
    text = (project / "triangulate.yaml").read_text(encoding="utf-8")
    (project / "triangulate.yaml").write_text(
        text.replace("data/interviews.csv", "data/interviews.jsonl"), encoding="utf-8"
    )
    good = [excerpt("E1", "P1", "a", "barrier", "trust"), excerpt("E2", "P2", "b", "x", "y")]
    lines = [
        json.dumps(good[0]),
        '{"excerpt_id": "E9", "code": ',
        "[1, 2]",
        json.dumps(good[1]),
        '{"n": ' + "9" * 5000 + "}",
    ]
    (project / "data/interviews.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    r, findings = validate_json(project)
    assert r.exit_code == 1, str(r)
    bad = sorted(f["location"]["line"] for f in findings if f["code"] == "data.bad-json")
    assert bad == [2, 3, 5]
    assert all(
        f["location"]["file"] == "data/interviews.jsonl"
        for f in findings
        if f["code"] == "data.bad-json"
    )


# ---------------------------------------------------------------------------- missing files


def test_missing_source_exits_2_names_it_and_other_checks_still_run(
    builder: ProjectBuilder,
) -> None:
    project = make_project(builder)
    (project / "data/interviews.csv").unlink()
    write_csv(project / "data/survey.csv", [{"code": "s", "respondents": 10, "endorsed": 40}])
    text = (project / "codebook.yaml").read_text(encoding="utf-8")
    (project / "codebook.yaml").write_text(
        text.replace("- id: lonely", "- id: lonely\n  group: nowhere"), encoding="utf-8"
    )
    hit = expect(project, 2, "file.missing", "data/interviews.csv")
    assert "data/interviews.csv" in hit["message"]
    expect(project, 2, "data.endorsed-exceeds-respondents", "data/survey.csv", row=2)
    expect(project, 2, "codebook.unknown-group", "codebook.yaml")


@pytest.mark.parametrize("what", ["codebook.yaml", "my-protocol.yaml"])
def test_missing_codebook_or_protocol_exits_2(builder: ProjectBuilder, what: str) -> None:
    project = make_project(builder, protocol="my-protocol.yaml")
    if what == "codebook.yaml":
        (project / "codebook.yaml").unlink()
    expect(project, 2, "file.missing", what)


def test_missing_project_exits_2(tmp_path: Path) -> None:
    r = invoke(["validate", "--format", "json", str(tmp_path / "nowhere")])
    assert r.exit_code == 2, str(r)
    (f,) = json.loads(r.stdout)["findings"]
    assert f["code"] == "project.not-found" and "nowhere" in f["location"]["file"]


def test_folder_where_a_source_file_should_be(builder: ProjectBuilder) -> None:
    project = make_project(builder)
    (project / "data/interviews.csv").unlink()
    (project / "data/interviews.csv").mkdir()
    expect(project, 2, "file.unreadable", "data/interviews.csv")


# ---------------------------------------------------------------------------- files that are not regular files
# Every input goes through triangulate.inputs.open_input: stat first, only regular files opened.


def run_with_timeout(args: list[str], cwd: Path, timeout: float = 60) -> Result:
    """``python -m triangulate ARGS`` in a subprocess; a hang fails the test instead of the suite."""
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200"}
    env.pop("GITHUB_ACTIONS", None)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "triangulate", *args],
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"triangulate {' '.join(args)} hung (still running after {timeout} s)")
    return Result(proc.returncode, proc.stdout, proc.stderr)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
@pytest.mark.parametrize("command", ["validate", "run"])
def test_decisions_fifo_does_not_hang(builder: ProjectBuilder, command: str) -> None:
    project = make_project(builder)
    (project / "decisions.jsonl").unlink(missing_ok=True)
    os.mkfifo(project / "decisions.jsonl")
    r = run_with_timeout([command, "."], cwd=project)
    assert r.exit_code == 2, str(r)
    assert (
        "decisions.jsonl: error: cannot read decisions.jsonl: it is a named pipe (FIFO), "
        "not a regular file; use a regular file instead [file.unreadable]"
    ) in r.stdout + r.stderr, str(r)
    assert not (project / "out").exists()


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="needs /dev/zero")
@pytest.mark.parametrize(
    "target",
    ["decisions.jsonl", "data/interviews.csv", "codebook.yaml", "reviews/bb.csv"],
)
def test_symlink_to_dev_zero_is_refused(builder: ProjectBuilder, target: str) -> None:
    project = make_project(builder)
    (project / target).unlink(missing_ok=True)
    (project / target).symlink_to("/dev/zero")
    hit = expect(project, 2, "file.unreadable", target)
    assert "a device, not a regular file" in hit["message"]


@pytest.mark.parametrize("target", ["decisions.jsonl", "data/interviews.csv", "reviews/bb.csv"])
def test_symlink_loop_is_reported(builder: ProjectBuilder, target: str) -> None:
    project = make_project(builder)
    path = project / target
    path.unlink(missing_ok=True)
    loop = path.with_name("loop-" + path.name)
    path.symlink_to(loop.name)
    loop.symlink_to(path.name)
    hit = expect(project, 2, "file.unreadable", target)
    assert "symbolic link loop" in hit["message"]


def test_dangling_symlink_is_a_missing_file(builder: ProjectBuilder) -> None:
    project = make_project(builder)
    (project / "data/interviews.csv").unlink()
    (project / "data/interviews.csv").symlink_to("gone.csv")
    hit = expect(project, 2, "file.missing", "data/interviews.csv")
    assert "symbolic link to a file that does not exist" in hit["message"]


@pytest.mark.parametrize("target", ["codebook.yaml", "decisions.jsonl", "reviews/bb.csv"])
def test_folder_where_a_file_should_be_is_reported(builder: ProjectBuilder, target: str) -> None:
    project = make_project(builder)
    (project / target).unlink(missing_ok=True)
    (project / target).mkdir()
    hit = expect(project, 2, "file.unreadable", target)
    assert "a folder, not a regular file" in hit["message"]


def test_huge_codebook_is_refused_by_its_size_at_once(builder: ProjectBuilder) -> None:
    """A 50 MB codebook was parsed for minutes (and GBs) before it was refused; now its size is
    checked before a byte is read (inputs.LIMITS['yaml'] = 4 MiB)."""
    project = make_project(builder)
    with (project / "codebook.yaml").open("a", encoding="utf-8") as fh:
        fh.write("# padding\n" * (50 * 1024 * 1024 // 10))
    start = time.monotonic()
    hit = expect(project, 1, "data.too-large", "codebook.yaml")
    assert time.monotonic() - start < 10
    assert "50.0 MiB" in hit["message"] and "4.0 MiB" in hit["message"]


def test_input_bounds_are_given_by_the_caller(tmp_path: Path) -> None:
    from triangulate.inputs import open_input

    path = tmp_path / "t.csv"
    path.write_bytes(b"a,b\n1,2\n")
    assert open_input(path, "t.csv", 8).data == b"a,b\n1,2\n"
    (finding,) = open_input(path, "t.csv", 7).findings
    assert finding.code == "data.too-large"
    checked = open_input(path, "t.csv", 8, read=False)
    assert checked.ok and checked.data is None and checked.size == 8
    absent = open_input(tmp_path / "none.jsonl", "none.jsonl", 8, optional=True)
    assert absent.absent and not absent.findings and not absent.ok
    (missing,) = open_input(tmp_path / "none.jsonl", "none.jsonl", 8).findings
    assert missing.code == "file.missing"


# ---------------------------------------------------------------------------- worksheets and decisions


def worksheet_row(**kw: str) -> dict[str, str]:
    row = {
        "theme": "shared",
        "source_a": "interviews",
        "source_b": "survey",
        "substance": "",
        "mechanism": "",
        "category": "",
        "rationale": "",
    }
    row.update(kw)
    return row


@pytest.mark.parametrize(
    ("row", "code", "field"),
    [
        (
            worksheet_row(theme="no_such_theme", category="full_agreement"),
            "review.unknown-theme",
            "theme",
        ),
        (worksheet_row(category="total_agreement"), "review.unknown-category", "category"),
        (
            worksheet_row(substance="yes", mechanism="no", category="full_agreement"),
            "review.rule-conflict",
            "category",
        ),
        (worksheet_row(substance="maybe", mechanism="yes"), "review.bad-judgement", "substance"),
        (worksheet_row(source_b="survay", category="silence"), "review.unknown-source", "source_b"),
    ],
)
def test_bad_worksheet_rows(
    builder: ProjectBuilder, row: dict[str, str], code: str, field: str
) -> None:
    project = make_project(builder, worksheets={"bb": [row]})
    expect(project, 1, code, "reviews/bb.csv", row=2, field=field)


def test_worksheet_that_is_not_a_table(builder: ProjectBuilder) -> None:
    project = make_project(builder)
    (project / "reviews/bb.csv").write_bytes(b"\x00\x01PK binary")
    expect(project, 1, "data.malformed", "reviews/bb.csv")


def decisions(project: Path, *lines: str) -> Path:
    path = project / "decisions.jsonl"
    path.write_text("".join(lines), encoding="utf-8")
    return path


def decision(category: str, theme: str = "shared", **kw: str) -> str:
    d = {
        "theme": theme,
        "source_a": "interviews",
        "source_b": "survey",
        "category": category,
        "rationale": "r",
        "decided_by": "x",
        "decided_at": "2024-01-01T00:00:00Z",
    }
    d.update(kw)
    return json.dumps(d) + "\n"


def test_decisions_last_line_cut_short_is_reported_and_ignored(builder: ProjectBuilder) -> None:
    project = make_project(builder)
    decisions(
        project,
        decision("disagreement"),
        decision("partial_agreement", theme="lonely", source_b="survey"),
        decision("silence")[:40],
    )
    hit = expect(project, 0, "decisions.truncated-line", "decisions.jsonl", line=3)
    assert hit["severity"] == "warning"
    r = invoke(["run", "."], cwd=project)
    assert r.exit_code == 0, str(r)
    rows = (project / "out/convergence_matrix.csv").read_text(encoding="utf-8")
    assert (
        "shared,,interviews,survey" in rows and ",disagreement,adjudicated," in rows
    )  # line 1 kept
    assert "decisions.truncated-line" in r.stderr


def test_decisions_bad_lines(builder: ProjectBuilder) -> None:
    project = make_project(builder)
    decisions(
        project,
        "not json at all\n",
        "[1, 2]\n",
        decision("agree"),
        '{"theme": "shared"}\n',
        decision("silence"),
    )
    r, findings = validate_json(project)
    assert r.exit_code == 1, str(r)
    got = sorted(
        (f["location"]["line"], f["code"])
        for f in findings
        if f["location"]["file"] == "decisions.jsonl"
    )
    assert got == [
        (1, "decisions.bad-line"),
        (2, "decisions.bad-line"),
        (3, "decisions.unknown-category"),
        (4, "decisions.bad-line"),
    ]


def test_decisions_not_utf8(builder: ProjectBuilder) -> None:
    project = make_project(builder)
    (project / "decisions.jsonl").write_bytes(decision("silence").encode() + b"\xff\xfe\n")
    expect(project, 1, "data.bad-encoding", "decisions.jsonl", line=2)


# ---------------------------------------------------------------------------- every command


def spoil(kind: str) -> Callable[[Path], tuple[int, str, str]]:
    """Ways to spoil a project: returns (expected exit, finding code, file named)."""

    def apply(project: Path) -> tuple[int, str, str]:
        if kind == "yaml-syntax":
            (project / "codebook.yaml").write_text("themes: [\n", encoding="utf-8")
            return 1, "yaml.syntax", "codebook.yaml"
        if kind == "python-tag":
            (project / "triangulate.yaml").write_text(
                "title: !!python/object/apply:os.getcwd []\n", encoding="utf-8"
            )
            return 1, "yaml.unsafe-tag", "triangulate.yaml"
        if kind == "nul-bytes":
            (project / "data/survey.csv").write_bytes(b"code,respondents\x00\n")
            return 1, "data.malformed", "data/survey.csv"
        if kind == "missing-source":
            (project / "data/survey.csv").unlink()
            return 2, "file.missing", "data/survey.csv"
        if kind == "bad-worksheet":
            write_csv(project / "reviews/bb.csv", [worksheet_row(category="nope")])
            return 1, "review.unknown-category", "reviews/bb.csv"
        raise AssertionError(kind)

    return apply


SPOILS = ["yaml-syntax", "python-tag", "nul-bytes", "missing-source", "bad-worksheet"]
YAML_SPOILS = [
    "yaml-syntax",
    "python-tag",
]  # export-codebook reads only the project file and the codebook


@pytest.mark.parametrize(
    ("command", "kind"),
    [
        (c, k)
        for c in PROJECT_COMMANDS
        for k in (YAML_SPOILS if c[0] == "export-codebook" else SPOILS)
    ],
    ids=lambda v: v[0] if isinstance(v, list) else v,
)
def test_every_command_turns_bad_input_into_a_clear_error(
    builder: ProjectBuilder, command: list[str], kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from triangulate.cli import app, commands

    # The interactive commands check for a terminal first (before a long analysis); here the
    # question is what they say about bad input once they have one.
    monkeypatch.setattr(commands, "_need_terminal", lambda command: None)

    names = {c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands}
    if command[0] not in names:
        pytest.skip(f"no '{command[0]}' command")
    project = make_project(builder)
    exit_code, code, file = spoil(kind)(project)
    r = invoke([command[0], ".", *command[1:]], cwd=project)
    assert r.exit_code == exit_code, str(r)
    assert "Traceback" not in r.stderr + r.stdout, str(r)
    assert file in r.stderr and f"[{code}]" in r.stderr, str(r)
    assert not (project / "out").exists(), "nothing is written from bad inputs"


@pytest.mark.parametrize(
    "content",
    [
        None,
        b"",
        b"\x00\x01binary",
        b"PK\x03\x04 not a zip",
        b"<?xml version='1.0'?><!DOCTYPE x [<!ENTITY a 'aaaa'>]><x>&a;</x>",
    ],
    ids=["missing", "empty", "binary", "fake-zip", "xml-entities"],
)
@pytest.mark.parametrize("suffix", [".qdc", ".qdpx"])
def test_import_codebook_and_init_meet_bad_files(
    tmp_path: Path, content: bytes | None, suffix: str
) -> None:
    from triangulate.cli import app

    names = {c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands}
    src = tmp_path / f"export{suffix}"
    if content is not None:
        src.write_bytes(content)
    if "import-codebook" in names:
        r = invoke(["import-codebook", str(src), "--output", str(tmp_path / "codebook.yaml")])
        assert r.exit_code in (1, 2), str(r)
        assert "Traceback" not in r.stderr and f"export{suffix}" in r.stderr, str(r)
        assert not (tmp_path / "codebook.yaml").exists()
    if "init" in names:
        r = invoke(
            [
                "init",
                str(tmp_path / "study"),
                "--source",
                f"interviews={src}",
                "--source",
                f"survey={tmp_path / 'nothing.csv'}",
            ]
        )
        assert r.exit_code in (1, 2), str(r)
        assert "Traceback" not in r.stderr, str(r)


def test_a_bad_project_as_a_subprocess(cli: Callable[..., Result], builder: ProjectBuilder) -> None:
    project = make_project(builder)
    spoil("python-tag")(project)
    r = cli(["run", str(project)])
    assert r.exit_code == 1, str(r)
    assert "Traceback" not in r.stderr and "yaml.unsafe-tag" in r.stderr


def test_unwritable_output_is_exit_2_not_a_traceback(builder: ProjectBuilder) -> None:
    project = make_project(builder)
    text = (project / "triangulate.yaml").read_text(encoding="utf-8")
    (project / "triangulate.yaml").write_text(text + "output: blocker\n", encoding="utf-8")
    (project / "blocker").write_text("a file where the output folder should be", encoding="utf-8")
    r = invoke(["run", "."], cwd=project)
    assert r.exit_code == 2, str(r)
    assert "Traceback" not in r.stderr and "blocker" in r.stderr


def test_output_folder_that_would_overwrite_an_input(builder: ProjectBuilder) -> None:
    project = make_project(builder)
    text = (project / "triangulate.yaml").read_text(encoding="utf-8")
    (project / "triangulate.yaml").write_text(
        text.replace("data/survey.csv", "data/sorting.csv") + "output: data\n", encoding="utf-8"
    )
    (project / "data/survey.csv").rename(project / "data/sorting.csv")
    before = (project / "data/sorting.csv").read_bytes()
    hit = expect(project, 1, "project.output-collision", "triangulate.yaml")
    assert hit["location"]["line"] is not None
    r = invoke(["run", "."], cwd=project)
    assert r.exit_code == 1, str(r)
    assert (project / "data/sorting.csv").read_bytes() == before


# ---------------------------------------------------------------------------- outputs that cannot hurt


FORMULA = "=cmd|' /C calc'!A0"
SCRIPT = "<script>alert(1)</script>"
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


def hostile_project(builder: ProjectBuilder) -> Path:
    """Codes, participants, excerpts, items and rationales that try formulas, markup and table breaks."""
    return make_project(
        builder,
        themes=[
            {"id": "shared", "codes": {"interviews": [FORMULA], "survey": ["+s"]}},
            {"id": "lonely", "codes": {"interviews": ["@b|c"]}},
        ],
        data={
            "interviews": [
                excerpt(
                    "E1",
                    "=P1",
                    FORMULA,
                    "barrier",
                    "trust",
                    text=f"{SCRIPT} | {FORMULA} **bold** [x](javascript:alert(1))",
                ),
                excerpt("-E2", "@P2", "@b|c", "x", "y", text=f"\t{FORMULA}\r\n| not | a | row |"),
            ],
            "survey": [
                survey(
                    "+s",
                    10,
                    endorsed=4,
                    substance="other",
                    mechanism="other",
                    item=f"{SCRIPT}{FORMULA}",
                )
            ],
        },
        worksheets={
            "bb": [
                worksheet_row(
                    category="disagreement", rationale=f"{FORMULA} {SCRIPT} | pipe \x0b vtab"
                )
            ]
        },
        decisions=[
            {
                "theme": "lonely",
                "source_a": "interviews",
                "source_b": "survey",
                "category": "silence",
                "rationale": f"{FORMULA} {SCRIPT} | pipe \x0b vtab",
                "decided_by": "@me",
                "decided_at": "2024-01-01T00:00:00Z",
            },
        ],
    )


def is_number(s: str) -> bool:
    try:
        float(s)
    except ValueError:
        return False
    return True


def test_csv_and_xlsx_outputs_neutralise_formulas(builder: ProjectBuilder) -> None:
    import csv

    import openpyxl

    project = hostile_project(builder)
    r = invoke(["run", "."], cwd=project)
    assert r.exit_code == 0, str(r)
    out = project / "out"
    seen = set()
    for name in ("sorting.csv", "convergence_matrix.csv"):
        with (out / name).open(encoding="utf-8", newline="") as fh:
            for row in csv.reader(fh):
                for cell in row:
                    seen.add(cell)
                    assert not (cell.startswith(DANGEROUS) and not is_number(cell)), (name, cell)
    assert (
        "'" + FORMULA in seen and f"'{FORMULA} {SCRIPT} | pipe \x0b vtab" in seen
    )  # rationale kept, neutralised
    wb = openpyxl.load_workbook(out / "convergence_matrix.xlsx")  # formulas as written, not values
    texts = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                if isinstance(cell.value, str):
                    texts.append(cell.value)
                    assert cell.data_type == "s", (ws.title, cell.coordinate, cell.value)
    # a typed string cell is never evaluated: no visible ' (spec 10, v2); the vertical tab
    # (illegal in XML) became a space
    assert f"{FORMULA} {SCRIPT} | pipe   vtab" in texts
    assert not any(t.startswith("'") for t in texts)


def test_report_escapes_every_piece_of_source_text(builder: ProjectBuilder) -> None:
    project = hostile_project(builder)
    r = invoke(["run", "."], cwd=project)
    assert r.exit_code == 0, str(r)
    html = (project / "out/report.html").read_text(encoding="utf-8")
    assert "<script" not in html.lower()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "javascript:alert" not in html or 'href="javascript' not in html
    md = (project / "out/report.md").read_text(encoding="utf-8")
    assert "<script" not in md.lower()
    assert "&lt;script&gt;" in md
    # every table keeps its column count: no source text opened a new cell
    tables = _md_tables(md)
    assert tables
    for rows in tables:
        assert len({len(r) for r in rows}) == 1, rows
    assert (
        "[x](javascript:" not in md and "\\[x\\](javascript:" in md
    )  # brackets escaped: no live link


def _split_md_row(line: str) -> list[str]:
    cells, cur, i = [], "", 0
    while i < len(line):
        ch = line[i]
        if ch == "\\" and i + 1 < len(line):
            cur += line[i : i + 2]
            i += 2
            continue
        if ch == "|":
            cells.append(cur)
            cur = ""
        else:
            cur += ch
        i += 1
    cells.append(cur)
    return cells[1:-1]


def _md_tables(md: str) -> list[list[list[str]]]:
    tables: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in md.splitlines() + [""]:
        if line.startswith("|"):
            current.append(_split_md_row(line))
        elif current:
            tables.append(current)
            current = []
    return tables


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize(
    ("module", "name"),
    [
        ("triangulate.outputs.write", "render_html_chunks"),
        ("triangulate.outputs.write", "render_markdown_chunks"),
        ("triangulate.outputs.xlsx", "render_xlsx"),
        ("triangulate.outputs.write", "summary_json"),
    ],
)
def test_a_renderer_crash_leaves_the_old_outputs_intact(
    builder: ProjectBuilder, monkeypatch: pytest.MonkeyPatch, module: str, name: str
) -> None:
    import importlib

    project = make_project(builder)
    assert invoke(["run", "."], cwd=project).exit_code == 0
    out = project / "out"
    # make every old output distinguishable from a fresh one
    for p in out.iterdir():
        p.write_bytes(p.read_bytes() + b"\n<!-- old -->")
    before = _snapshot(out)

    def crash(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("renderer crashed midway")

    def crash_midway(*args: Any, **kwargs: Any) -> Iterator[Any]:
        # the reports are written as they are made: part of one is on disk when it fails
        yield b"<html>" if "html" in name else "# Report\n"
        raise RuntimeError("renderer crashed midway")

    chunked = name.endswith("_chunks")
    monkeypatch.setattr(importlib.import_module(module), name, crash_midway if chunked else crash)
    r = invoke(["run", "."], cwd=project)
    assert r.exit_code == 3, str(r)  # a bug: the one case with a traceback
    after = _snapshot(out)
    # no temporary file is left behind, and the manifest is gone: the set is marked incomplete
    assert set(after) == set(before) - {"manifest.json"}, "no temporary file is left behind"
    for fname, data in after.items():
        assert data == before[fname] or not data.endswith(b"<!-- old -->"), fname
        assert data == before[fname] or fname in (
            "sorting.csv",
            "convergence_matrix.csv",
            "summary.json",
            "report.md",
            "report.html",
        )
    target = {
        "render_html_chunks": "report.html",
        "render_markdown_chunks": "report.md",
        "render_xlsx": "convergence_matrix.xlsx",
        "summary_json": "summary.json",
    }[name]
    assert after[target] == before[target]


def test_a_crash_while_writing_leaves_the_old_file_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import triangulate.files as files

    path = tmp_path / "out" / "report.html"
    files.atomic_write_text(path, "old report\n")

    def fail(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(files.os, "fsync", fail)
    with pytest.raises(OSError):
        files.atomic_write_text(path, "new report, half written " * 1000)
    assert path.read_text(encoding="utf-8") == "old report\n"
    assert [p.name for p in path.parent.iterdir()] == ["report.html"]


def test_an_error_while_a_report_is_made_leaves_the_old_file_and_no_temp_file(
    tmp_path: Path,
) -> None:
    """report.md and report.html are written as they are made (files.atomic_write_chunks): an
    error half way through making them leaves the previous report whole."""
    import triangulate.files as files

    path = tmp_path / "out" / "report.md"
    files.atomic_write_text(path, "old report\n")

    def chunks() -> Iterator[bytes]:
        yield b"# New report\n" * 1000
        raise RuntimeError("a bug half way through the report")

    with pytest.raises(RuntimeError):
        files.atomic_write_chunks(path, chunks())
    assert path.read_text(encoding="utf-8") == "old report\n"
    assert [p.name for p in path.parent.iterdir()] == ["report.md"]
    files.atomic_write_chunks(path, iter([b"a", b"b\n"]))
    assert path.read_bytes() == b"ab\n"


def test_worksheets_and_decisions_are_never_overwritten(builder: ProjectBuilder) -> None:
    project = make_project(builder, reviewers=["bb", "pl"])
    (project / "decisions.jsonl").write_text(decision("disagreement"), encoding="utf-8")
    (project / "reviews/pl.csv").write_text("", encoding="utf-8")  # even an empty worksheet is kept
    before = {
        p: p.read_bytes()
        for p in [
            project / "reviews/bb.csv",
            project / "reviews/pl.csv",
            project / "decisions.jsonl",
        ]
    }
    for command in (
        ["validate"],
        ["sort"],
        ["converge"],
        ["report"],
        ["run"],
        ["agreement"],
        ["converge"],
    ):
        r = invoke([command[0], "."], cwd=project)
        assert "Traceback" not in r.stderr, str(r)
        for p, data in before.items():
            assert p.read_bytes() == data, (command, p)
    from triangulate.files import write_new_file

    assert write_new_file(project / "decisions.jsonl", "x") is False
    assert (project / "decisions.jsonl").read_bytes() == before[project / "decisions.jsonl"]
    assert not [p.name for p in project.rglob("*.tmp")]
