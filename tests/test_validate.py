"""`triangulate validate`: every finding in one pass, locations as data, three formats, exit codes."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conftest import SAMPLE, ProjectBuilder, Result, excerpt, survey, write_csv
from test_hostile import invoke, make_project, worksheet_row
from triangulate.cli.render import (
    escape_data,
    escape_property,
    render_github,
    render_json,
    render_text,
    select_findings,
)
from triangulate.findings import Finding, Location, Severity, error, exit_code_for, warning
from triangulate.pipeline import analyse_path

Cli = Callable[..., Result]


@pytest.fixture(autouse=True)
def _no_actions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GITHUB_ACTIONS", raising=False)


def many_faults(builder: ProjectBuilder) -> Path:
    """One fault in every kind of file: codebook, both sources, a worksheet and the decisions."""
    project = make_project(
        builder,
        themes=[
            {"id": "shared", "group": "nowhere", "codes": {"interviews": ["a"], "survey": ["s"]}},
            {"id": "lonely", "codes": {"interviews": ["b", "a"]}},  # 'a' sorted twice
        ],
        data={
            "interviews": [
                excerpt("E1", "", "a", "barrier", "trust"),
                excerpt("E2", "P2", "b", "x", "y"),
                excerpt("E3", "P3", "zzz"),
            ],
            "survey": [survey("s", 10, endorsed=40)],
        },
        worksheets={"bb": [worksheet_row(category="nope")]},
        decisions=[
            {"theme": "shared", "source_a": "interviews", "source_b": "survey", "category": "agree"}
        ],
    )
    return project


def codes_at(findings: list[dict[str, Any]]) -> set[tuple[str, str | None]]:
    return {(f["code"], f["location"]["file"]) for f in findings}


# ---------------------------------------------------------------------------- one pass, exit codes


def test_sample_validates_with_warnings_only() -> None:
    r = invoke(["validate", str(SAMPLE)])
    assert r.exit_code == 0, str(r)
    assert r.stdout.startswith("0 error(s), ")
    assert "[data.unsorted-code]" in r.stderr


def test_every_finding_in_one_pass(builder: ProjectBuilder) -> None:
    project = many_faults(builder)
    r = invoke(["validate", "--format", "json", "."], cwd=project)
    assert r.exit_code == 1, str(r)
    got = codes_at(json.loads(r.stdout)["findings"])
    assert {
        ("codebook.unknown-group", "codebook.yaml"),
        ("codebook.code-sorted-twice", "codebook.yaml"),
        ("data.missing-value", "data/interviews.csv"),
        ("data.endorsed-exceeds-respondents", "data/survey.csv"),
    } <= got


def test_worksheet_and_decision_faults_in_one_pass(builder: ProjectBuilder) -> None:
    project = make_project(
        builder,
        worksheets={
            "bb": [worksheet_row(category="nope"), worksheet_row(theme="ghost", category="silence")]
        },
        decisions=[
            {"theme": "shared", "source_a": "interviews", "source_b": "survey", "category": "agree"}
        ],
    )
    (project / "decisions.jsonl").write_text(
        (project / "decisions.jsonl").read_text() + '{"theme": "sha', encoding="utf-8"
    )
    r = invoke(["validate", "--format", "json", "."], cwd=project)
    assert r.exit_code == 1, str(r)
    got = codes_at(json.loads(r.stdout)["findings"])
    assert {
        ("review.unknown-category", "reviews/bb.csv"),
        ("review.unknown-theme", "reviews/bb.csv"),
        ("decisions.unknown-category", "decisions.jsonl"),
        ("decisions.truncated-line", "decisions.jsonl"),
    } <= got


def test_project_file_faults_are_all_reported(builder: ProjectBuilder) -> None:
    project = make_project(builder)
    (project / "triangulate.yaml").write_text(
        "title: [x]\nprotocl: blebu-2023\nsources:\n  - {id: Bad Id, kind: interviews, path: a.csv}\n  - id: ok\n",
        encoding="utf-8",
    )
    r = invoke(["validate", "--format", "json", "."], cwd=project)
    assert r.exit_code == 1, str(r)
    findings = json.loads(r.stdout)["findings"]
    got = {(f["code"], f["location"]["line"], f["location"]["column"]) for f in findings}
    assert ("yaml.invalid-value", 1, 8) in got  # title: [x]
    assert ("yaml.unknown-key", 2, 1) in got  # protocl
    assert ("yaml.missing-key", 1, 1) in got  # protocol, at the mapping that lacks it
    assert ("yaml.invalid-value", 4, 10) in got  # id: Bad Id
    assert ("yaml.invalid-value", 4, 24) in got  # kind: interviews
    assert ("yaml.missing-key", 5, 5) in got  # the second source lacks kind and path
    assert all(f["location"]["file"] == "triangulate.yaml" for f in findings)


def test_missing_source_exits_2_and_the_rest_is_checked(builder: ProjectBuilder) -> None:
    project = many_faults(builder)
    (project / "data/interviews.csv").unlink()
    r = invoke(["validate", "--format", "json", "."], cwd=project)
    assert r.exit_code == 2, str(r)
    got = codes_at(json.loads(r.stdout)["findings"])
    assert ("file.missing", "data/interviews.csv") in got
    assert ("data.endorsed-exceeds-respondents", "data/survey.csv") in got
    assert ("codebook.code-sorted-twice", "codebook.yaml") in got


def test_text_format_points_at_file_line_and_column(builder: ProjectBuilder) -> None:
    project = many_faults(builder)
    r = invoke(["validate", "."], cwd=project)
    assert r.exit_code == 1
    lines = r.stderr.splitlines()
    assert any(
        line.startswith("data/interviews.csv: row 2, column 'participant': error: ")
        and line.endswith("[data.missing-value]")
        for line in lines
    ), r.stderr
    assert any(
        line.startswith("codebook.yaml:") and "[codebook.code-sorted-twice]" in line
        for line in lines
    ), r.stderr
    assert r.stdout.splitlines()[-1].endswith("warning(s)")


def test_paths_are_shown_relative_to_where_the_command_runs(builder: ProjectBuilder) -> None:
    project = many_faults(builder)
    r = invoke(["validate", "--format", "json", "study"], cwd=project.parent)
    files = {f["location"]["file"] for f in json.loads(r.stdout)["findings"]}
    assert "study/codebook.yaml" in files and "study/data/interviews.csv" in files


def test_strict_makes_warnings_fail(builder: ProjectBuilder) -> None:
    project = make_project(
        builder,
        data={
            "interviews": [
                excerpt("E1", "P1", "a", "barrier", "trust"),
                excerpt("E2", "P2", "b", "x", "y"),
                excerpt("E3", "P3", "unsorted"),
            ],
            "survey": [survey("s", 10, endorsed=4, substance="barrier", mechanism="trust")],
        },
    )
    assert invoke(["validate", "."], cwd=project).exit_code == 0
    r = invoke(["validate", "--strict", "."], cwd=project)
    assert r.exit_code == 1, str(r)
    assert (
        invoke(
            ["validate", "--strict", "--ignore", "data.unsorted-code", "."], cwd=project
        ).exit_code
        == 0
    )


def test_select_and_ignore_by_code_and_prefix(builder: ProjectBuilder) -> None:
    project = many_faults(builder)

    def codes(*args: str) -> tuple[int, set[str]]:
        r = invoke(["validate", "--format", "json", *args, "."], cwd=project)
        return r.exit_code, {f["code"] for f in json.loads(r.stdout)["findings"]}

    _, everything = codes()
    exit_code, only_codebook = codes("--select", "codebook")
    assert only_codebook == {c for c in everything if c.startswith("codebook.")} and exit_code == 1
    _, two = codes("--select", "codebook.unknown-group", "--select", "data.")
    assert two == {c for c in everything if c == "codebook.unknown-group" or c.startswith("data.")}
    _, no_data = codes("--ignore", "data")
    assert no_data == {c for c in everything if not c.startswith("data.")}
    exit_code, none = codes("--select", "codebook", "--ignore", "codebook")
    assert none == set() and exit_code == 0  # exit codes follow the findings kept
    assert not {"codebook.unknown-group"} & codes("--ignore", "codebook.unknown-group")[1]


def test_unknown_select_or_ignore_is_bad_usage(builder: ProjectBuilder) -> None:
    project = make_project(builder)
    r = invoke(["validate", "--ignore", "data.unsorted-cod", "."], cwd=project)
    assert r.exit_code == 2, str(r)
    assert "data.unsorted-cod" in r.stderr and "Traceback" not in r.stderr


def test_bad_format_is_bad_usage(builder: ProjectBuilder) -> None:
    project = make_project(builder)
    r = invoke(["validate", "--format", "xml", "."], cwd=project)
    assert r.exit_code == 2, str(r)


# ---------------------------------------------------------------------------- json


def test_json_printed_by_the_cli_equals_the_library_result(
    cli: Cli, builder: ProjectBuilder
) -> None:
    project = many_faults(builder)
    r = cli(["validate", "--format", "json", "."], cwd=project)
    assert r.exit_code == 1, str(r)
    printed = json.loads(r.stdout)  # one document, nothing else on stdout
    library = json.loads(render_json(analyse_path(project).findings))
    assert printed == library
    assert printed["valid"] is False and printed["errors"] == sum(
        1 for f in printed["findings"] if f["severity"] == "error"
    )
    assert set(printed["findings"][0]) == {"code", "severity", "message", "location"}
    assert set(printed["findings"][0]["location"]) == {"file", "line", "column", "row", "field"}


def test_json_of_a_clean_project_and_of_a_missing_one(
    builder: ProjectBuilder, tmp_path: Path
) -> None:
    project = make_project(builder)
    r = invoke(["validate", "--format", "json", "."], cwd=project)
    assert (r.exit_code, json.loads(r.stdout)["valid"]) == (0, True)
    r = invoke(["validate", "--format", "json", str(tmp_path / "none")])
    doc = json.loads(r.stdout)
    assert r.exit_code == 2 and doc["findings"][0]["code"] == "project.not-found"


# ---------------------------------------------------------------------------- github


def test_github_escaping_is_exactly_the_actions_toolkit() -> None:
    f = Finding(
        "data.ragged-row",
        Severity.ERROR,
        "100% sure: a, b\r\nnext line\nlast",
        Location("data/a,b:c%.csv", row=7, field="text"),
    )
    w = Finding("yaml.unknown-key", Severity.WARNING, "key: value, again", Location("x.yaml", 3, 5))
    assert render_github([f, w]).splitlines() == [
        "::error file=data/a%2Cb%3Ac%25.csv,line=7,title=data.ragged-row::column 'text': 100%25 sure: a, b%0D%0Anext line%0Alast",
        "::warning file=x.yaml,line=3,col=5,title=yaml.unknown-key::key: value, again",
        "triangulate: 1 error(s), 1 warning(s)",  # the summary line (issue 13 item 19)
    ]
    assert escape_data("%\r\n:,") == "%25%0D%0A:,"
    assert escape_property("%\r\n:,") == "%25%0D%0A%3A%2C"


def test_github_format_from_the_cli_and_by_environment(
    builder: ProjectBuilder, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = make_project(builder)
    (project / "data/survey.csv").rename(project / "data/a,b:c%.csv")
    text = (project / "triangulate.yaml").read_text(encoding="utf-8")
    (project / "triangulate.yaml").write_text(
        text.replace("data/survey.csv", "data/a,b:c%.csv"), encoding="utf-8"
    )
    write_csv(
        project / "data/a,b:c%.csv",
        [{"code": "s", "respondents": "ten, maybe: 10%", "endorsed": 4}],
    )
    r = invoke(["validate", "--format", "github", "."], cwd=project)
    assert r.exit_code == 1, str(r)
    line = next(x for x in r.stdout.splitlines() if "data.not-a-number" in x)
    assert line == (
        "::error file=data/a%2Cb%3Ac%25.csv,line=2,title=data.not-a-number::"
        "column 'respondents': 'respondents' must be a whole number, not 'ten, maybe: 10%25'"
    )
    *annotations, summary = r.stdout.splitlines()
    assert all(x.startswith(("::error ", "::warning ")) for x in annotations)
    assert summary.startswith("triangulate: 1 error(s)")
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    auto = invoke(["validate", "."], cwd=project)
    assert auto.stdout == r.stdout and auto.exit_code == 1
    explicit = invoke(["validate", "--format", "text", "."], cwd=project)
    assert not explicit.stdout.startswith("::")


# ---------------------------------------------------------------------------- library


def test_exit_codes() -> None:
    missing = error("file.missing", "gone", Location("a.csv"))
    bad = error("data.empty", "empty", Location("b.csv"))
    warn = warning("data.unsorted-code", "unsorted", Location("c.csv", row=2))
    assert exit_code_for([]) == 0
    assert exit_code_for([warn]) == 0
    assert exit_code_for([warn], strict=True) == 1
    assert exit_code_for([bad, warn]) == 1
    assert exit_code_for([bad, missing]) == 2


def test_select_findings_patterns() -> None:
    fs = [
        error("data.empty", "x"),
        warning("data.unsorted-code", "y"),
        error("codebook.duplicate-theme", "z"),
    ]
    assert [f.code for f in select_findings(fs, ["data"], [])] == [
        "data.empty",
        "data.unsorted-code",
    ]
    assert [f.code for f in select_findings(fs, ["data."], ["data.empty"])] == [
        "data.unsorted-code"
    ]
    assert [
        f.code for f in select_findings(fs, [], ["codebook.duplicate-theme", "data.empty"])
    ] == ["data.unsorted-code"]
    assert (
        select_findings(fs, ["dat"], []) == []
    )  # a prefix is a whole segment, not any string start


def test_text_renderer_formats() -> None:
    fs = [
        error("yaml.unknown-key", "unknown key 'x'", Location("t.yaml", 3, 5, field="x")),
        warning("data.unsorted-code", "code 'q'", Location("d.csv", row=4, field="code")),
        error("data.bad-json", "bad", Location("d.jsonl", line=9)),
    ]
    assert render_text(fs).splitlines() == [
        "t.yaml:3:5: error: unknown key 'x' [yaml.unknown-key]",
        "d.csv: row 4, column 'code': warning: code 'q' [data.unsorted-code]",
        "d.jsonl:9: error: bad [data.bad-json]",
    ]


def test_validate_touches_nothing(builder: ProjectBuilder) -> None:
    project = make_project(builder)
    before = sorted(p.relative_to(project) for p in project.rglob("*"))
    assert invoke(["validate", "."], cwd=project).exit_code == 0
    assert sorted(p.relative_to(project) for p in project.rglob("*")) == before


def test_validate_accepts_the_project_file_path(builder: ProjectBuilder) -> None:
    project = make_project(builder)
    r = invoke(["validate", str(project / "triangulate.yaml")])
    assert r.exit_code == 0, str(r)


def test_sample_copy_validates_the_same_from_anywhere(tmp_path: Path) -> None:
    copy = tmp_path / "mamas"
    shutil.copytree(SAMPLE, copy, ignore=shutil.ignore_patterns("out"))
    a = json.loads(invoke(["validate", "--format", "json", "."], cwd=copy).stdout)
    b = json.loads(render_json(analyse_path(copy).findings))
    assert a == b


def test_json_location_of_a_table_finding_names_row_and_column(builder: ProjectBuilder) -> None:
    """Spec 11: a location is the file and line/column for YAML, the row and column name for tables."""
    from conftest import run_cli

    root = builder.write(
        sources=[
            {"id": "interviews", "kind": "excerpts", "path": "data/interviews.csv"},
            {"id": "survey", "kind": "survey", "path": "data/survey.csv"},
        ],
        themes=[{"id": "t", "codes": {"interviews": ["a"], "survey": ["s"]}}],
        data={
            "interviews": [{"excerpt_id": "E1", "participant": "P1", "code": "a", "text": "x"}],
            "survey": [survey("s", 10, 3), survey("s2", 10, 12)],
        },
    )
    out = run_cli(["validate", str(root), "--format", "json"])
    assert out.exit_code == 1, out
    doc = json.loads(out.stdout)
    hit = next(f for f in doc["findings"] if f["code"] == "data.endorsed-exceeds-respondents")
    loc = hit["location"]
    assert loc["file"].endswith("data/survey.csv")
    assert (loc["row"], loc["column"], loc["field"], loc["line"]) == (
        3,
        "endorsed",
        "endorsed",
        None,
    )
