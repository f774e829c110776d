"""`triangulate init`: a project scaffolded from flags, or from answers at a terminal."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import excerpt, survey, write_csv
from triangulate.findings import UsageError
from triangulate.project.init import (
    SourceArg,
    codebook_draft,
    infer_kind,
    init_project,
    parse_source_arg,
)

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "qdpx"))
from qdpx_builder import QdpxBuilder


def qdpx_export(path: Path) -> Path:
    b = QdpxBuilder(folder="Sources", braces=True)
    access = b.code("Access", codable=False)
    contact = b.code("point-person", parent=access)
    other_a = b.code("other", parent=access)
    other_b = b.code("other", parent=b.code("Care", codable=False))
    d = b.doc("Interview 01", "She is our point person. Other things. More things.")
    b.select(d, "She is our point person.", [contact])
    b.select(d, "Other things.", [other_a])
    b.select(d, "More things.", [other_b])
    return b.write(path)


def data_files(tmp_path: Path) -> dict[str, Path]:
    files = {
        "qdpx": qdpx_export(tmp_path / "exports" / "study.qdpx"),
        "survey": write_csv(
            tmp_path / "data" / "survey.csv", [survey("point-person", 10, 4), survey("yes", 10, 1)]
        ),
        "excerpts": write_csv(tmp_path / "data" / "focus.csv", [excerpt("e1", "p1", "trust")]),
        "responses": write_csv(
            tmp_path / "data" / "responses.csv",
            [{"id": 1, "Q1": 1, "Q2": ""}, {"id": 2, "Q1": 0, "Q2": ""}],
        ),
    }
    return files


def test_init_from_flags_writes_a_project_that_validates(
    tmp_path: Path, cli: Callable[..., Any]
) -> None:
    data_files(tmp_path)
    r = cli(
        [
            "init",
            "study",
            "--title",
            "Partners study",
            "--protocol",
            "blebu-2023",
            "--source",
            "interviews=exports/study.qdpx",
            "--source",
            "network=data/survey.csv:survey",
            "-s",
            "focus=data/focus.csv",
            "-s",
            "partners=data/responses.csv",
        ],
        cwd=tmp_path,
        input="",
    )
    assert r.exit_code == 0, r
    root = tmp_path / "study"
    project = yaml.safe_load((root / "triangulate.yaml").read_text(encoding="utf-8"))
    assert project == {
        "title": "Partners study",
        "protocol": "blebu-2023",
        "codebook": "codebook.yaml",
        "sources": [
            # files outside the project folder are copied into it (spec v2 section 1)
            {"id": "interviews", "kind": "excerpts", "path": "data/study.qdpx"},
            {"id": "network", "kind": "survey", "path": "data/survey.csv"},
            {"id": "focus", "kind": "excerpts", "path": "data/focus.csv"},
            {
                "id": "partners",
                "kind": "survey_responses",
                "path": "data/responses.csv",
                "codes": {"id": {"column": "id"}, "Q1": {"column": "Q1"}},
            },
        ],
        "output": "out",
    }
    assert (root / "data" / "survey.csv").read_bytes() == (
        tmp_path / "data" / "survey.csv"
    ).read_bytes()
    assert "Copied data/survey.csv to study/data/survey.csv" in r.stdout
    codebook = (root / "codebook.yaml").read_text(encoding="utf-8")
    assert yaml.safe_load(codebook) == {"themes": []}
    to_sort = codebook[codebook.index("# to sort:") :]
    assert to_sort.splitlines() == [
        "# to sort:",
        "#   interviews:",
        "#     - point-person",
        "#     - Access/other",  # one name for two codes: listed by path
        "#     - Care/other",
        "#   network:",
        "#     - point-person",
        '#     - "yes"',  # quoted: it stays a string when moved into a theme
        "#   focus:",
        "#     - trust",
        "#   partners:",
        "#     - id",
        "#     - Q1",
    ]
    assert "Source 'focus': read as kind 'excerpts'" in r.stdout
    assert (
        "Found 8 code(s) in 4 source(s): interviews 3, network 2, focus 1, partners 2" in r.stdout
    )
    assert "  2. triangulate validate study" in r.stdout
    assert "triangulate validate study" in r.stdout and "triangulate run study" in r.stdout
    assert "import-codebook exports/study.qdpx --source interviews" in r.stdout
    v = cli(["validate", "study"], cwd=tmp_path)
    assert v.exit_code == 0, v
    assert "0 error(s)" in v.stdout and "[data.unsorted-code]" in v.stderr


def test_init_never_overwrites_a_project(tmp_path: Path, cli: Callable[..., Any]) -> None:
    data_files(tmp_path)
    args = ["init", "study", "-s", "a=data/focus.csv", "-s", "b=data/survey.csv"]
    assert cli(args, cwd=tmp_path, input="").exit_code == 0

    def files() -> dict[str, bytes]:
        study = tmp_path / "study"
        return {str(p.relative_to(study)): p.read_bytes() for p in study.rglob("*") if p.is_file()}

    before = files()
    r = cli([*args, "--title", "Other"], cwd=tmp_path, input="")
    assert r.exit_code == 2 and "never overwrites" in r.stderr
    assert files() == before


def test_import_codebook_then_init_keeps_the_codebook(
    tmp_path: Path, cli: Callable[..., Any]
) -> None:
    data_files(tmp_path)
    r = cli(
        ["import-codebook", "exports/study.qdpx", "--output", "study/codebook.yaml"], cwd=tmp_path
    )
    assert r.exit_code == 0, r
    imported = (tmp_path / "study" / "codebook.yaml").read_text(encoding="utf-8")
    r = cli(
        ["init", "study", "-s", "interviews=exports/study.qdpx", "-s", "network=data/survey.csv"],
        cwd=tmp_path,
        input="",
    )
    assert r.exit_code == 0, r
    assert "Kept the existing" in r.stdout
    assert (tmp_path / "study" / "codebook.yaml").read_text(encoding="utf-8") == imported
    v = cli(["validate", "study", "--format", "json"], cwd=tmp_path)
    assert v.exit_code == 0, v
    import json

    found = [f["code"] for f in json.loads(v.stdout)["findings"]]
    assert "data.unsorted-code" in found  # the survey's codes; every .qdpx code is sorted
    assert all(
        "interviews" not in f["message"]
        for f in json.loads(v.stdout)["findings"]
        if f["code"] == "data.unsorted-code"
    )


def test_init_without_sources_and_no_terminal_does_not_prompt(
    tmp_path: Path, cli: Callable[..., Any]
) -> None:
    r = cli(["init", "study"], cwd=tmp_path, input="")
    assert r.exit_code == 2 and "--source ID=PATH[:kind]" in r.stderr
    assert not (tmp_path / "study").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["-s", "interviews"], "ID=PATH"),
        (["-s", "Bad Id=x.csv"], "lowercase"),
        (["-s", "a=missing.csv"], "file not found"),
        (["-s", "a=data/focus.csv", "-s", "a=data/survey.csv"], "given twice"),
        (["-s", "a=data/focus.csv", "--protocol", "nope"], "neither a built-in"),
    ],
)
def test_init_usage_errors(
    tmp_path: Path, cli: Callable[..., Any], args: list[str], message: str
) -> None:
    data_files(tmp_path)
    r = cli(["init", "study", *args], cwd=tmp_path, input="")
    assert r.exit_code == 2 and message in r.stderr, r
    assert not (tmp_path / "study" / "triangulate.yaml").exists()


def test_init_stops_on_unreadable_sources(tmp_path: Path, cli: Callable[..., Any]) -> None:
    (tmp_path / "broken.qdpx").write_bytes(b"not a zip")
    r = cli(["init", "study", "-s", "a=broken.qdpx"], cwd=tmp_path, input="")
    assert r.exit_code == 1 and "[refi.malformed]" in r.stderr and "nothing was written" in r.stderr
    assert not (tmp_path / "study").exists()


def test_interactive_answers_fill_the_gaps(tmp_path: Path) -> None:
    data_files(tmp_path)
    answers = iter(
        [
            "My study",
            "farmer-2006",
            "oops",
            "",
            "a=data/focus.csv",
            "b=data/survey.csv:survey",
            "",
            "BB, pl",  # not an id: asked again
            "",
            "bb, pl pl",
        ]
    )
    asked: list[str] = []

    def ask(question: str, default: str | None) -> str:
        asked.append(question)
        return next(answers)

    result = init_project(Path("study"), ask=ask, cwd=tmp_path)
    assert [q.split(" ")[0] for q in asked] == [
        "Project",
        "Protocol",
        "Data",
        "--source",
        "Data",
        "Data",
        "Data",
        "Reviewer",
        "reviewer",
        "Reviewer",
    ]
    project = yaml.safe_load((tmp_path / "study" / "triangulate.yaml").read_text(encoding="utf-8"))
    assert project["title"] == "My study" and project["protocol"] == "farmer-2006"
    assert project["reviewers"] == ["bb", "pl"]
    assert "triangulate converge study --reviewer ID (ID: bb, pl)" in result.next_steps[-1]
    assert [s["id"] for s in project["sources"]] == ["a", "b"]
    assert result.codes == {"a": ["trust"], "b": ["point-person", "yes"]}


def test_flags_given_means_no_questions(tmp_path: Path) -> None:
    data_files(tmp_path)

    def ask(question: str, default: str | None) -> str:
        raise AssertionError(f"asked {question!r}")

    result = init_project(
        tmp_path / "s",
        title="T",
        protocol="blebu-2023",
        sources=[SourceArg("a", "data/focus.csv", None)],
        ask=ask,
        cwd=tmp_path,
        reviewers=[],
    )
    assert result.next_steps[0].startswith("Add a second source")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("interviews=data/x.qdpx", ("interviews", "data/x.qdpx", None)),
        ("s=data/x.csv:survey", ("s", "data/x.csv", "survey")),
        ("s=C:\\data\\x.sav:survey_responses", ("s", "C:\\data\\x.sav", "survey_responses")),
        ("s=C:\\data\\x.csv", ("s", "C:\\data\\x.csv", None)),
        ("s=a=b.csv", ("s", "a=b.csv", None)),
    ],
)
def test_parse_source_arg(value: str, expected: tuple[str, str, str | None]) -> None:
    a = parse_source_arg(value)
    assert (a.id, a.path, a.kind) == expected


def test_parse_source_arg_errors() -> None:
    for bad in ("noequals", "x=", "=y.csv", "X=y.csv"):
        with pytest.raises(UsageError):
            parse_source_arg(bad)


def test_kind_inference(tmp_path: Path) -> None:
    files = data_files(tmp_path)
    assert infer_kind(files["qdpx"]) == "excerpts"
    assert infer_kind(files["excerpts"]) == "excerpts"
    assert infer_kind(files["survey"]) == "survey"
    assert infer_kind(files["responses"]) == "survey_responses"
    assert infer_kind(tmp_path / "x.sav") == "survey_responses"


def test_codebook_draft_comments_every_code_safely() -> None:
    text = codebook_draft(
        {"s": ["plain", "no", "12", "two\nlines", "with: colon", "# hash"], "empty": []}
    )
    assert yaml.safe_load(text) == {"themes": []}
    items = [line[len("#     - ") :] for line in text.splitlines() if line.startswith("#     - ")]
    assert [yaml.safe_load(i) for i in items] == [
        "plain",
        "no",
        "12",
        "two\nlines",
        "with: colon",
        "# hash",
    ]
    assert "#   empty: []  (no codes found)" in text


@pytest.mark.pty
@pytest.mark.slow
def test_init_in_a_real_terminal(tmp_path: Path) -> None:
    pexpect = pytest.importorskip("pexpect")
    data_files(tmp_path)
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "160"}
    child = pexpect.spawn(
        sys.executable,
        ["-m", "triangulate", "init", "study", "-s", "a=data/focus.csv"],
        cwd=str(tmp_path),
        env=env,
        encoding="utf-8",
        timeout=30,
    )
    child.expect("Project title")
    child.sendline("Terminal study")
    child.expect("Protocol")
    child.sendline("")  # the default: farmer-2006
    child.expect("Reviewer ids")
    child.sendline("bb, pl")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    project = yaml.safe_load((tmp_path / "study" / "triangulate.yaml").read_text(encoding="utf-8"))
    assert project["title"] == "Terminal study" and project["protocol"] == "farmer-2006"
    assert project["reviewers"] == ["bb", "pl"]


# ---------------------------------------------------------------------------- issue 13 items 18, 19


def test_walkthrough_from_a_qda_export_says_what_comes_next(
    tmp_path: Path, cli: Callable[..., Any]
) -> None:
    """Issue 13 item 18: the README's QDA walkthrough ended in '0/3 ... uncoded 3' with no hint.
    Without a terminal, --reviewer gives the reviewers; init and run end with the next step."""
    data_files(tmp_path)
    args = ["init", "study", "-s", "interviews=exports/study.qdpx", "-s", "network=data/survey.csv"]
    r = cli([*args], cwd=tmp_path, input="")
    assert r.exit_code == 0, r
    assert "reviewers" not in yaml.safe_load((tmp_path / "study" / "triangulate.yaml").read_text())
    assert "Add reviewers to triangulate.yaml (reviewers: [ab, cd])" in r.stdout
    (tmp_path / "study" / "codebook.yaml").write_text(
        "themes:\n  - id: contact\n    codes: {interviews: [point-person], network: [point-person]}\n",
        encoding="utf-8",
    )
    run = cli(["run", "study"], cwd=tmp_path)
    assert run.exit_code == 0, run
    last = run.stdout.strip().splitlines()[-1]
    assert last.startswith("next: 1 unit(s) await reviewers: add them to triangulate.yaml")
    assert "`triangulate converge study --reviewer ID`" in last

    r3 = cli(["init", "two", *args[2:], "-r", "bb,pl", "--reviewer", "kt"], cwd=tmp_path, input="")
    assert r3.exit_code == 0, r3
    project = yaml.safe_load((tmp_path / "two" / "triangulate.yaml").read_text(encoding="utf-8"))
    assert project["reviewers"] == ["bb", "pl", "kt"]
    assert "triangulate converge two --reviewer ID (ID: bb, pl, kt)" in r3.stdout
    (tmp_path / "two" / "codebook.yaml").write_text(
        (tmp_path / "study" / "codebook.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    run = cli(["run", "two"], cwd=tmp_path)
    assert run.stdout.strip().splitlines()[-1] == (
        "next: 1 unit(s) await reviewers: `triangulate converge two --reviewer bb` (also: pl, kt)"
    )
    bad = cli(["init", "three", *args[2:], "-r", "B B"], cwd=tmp_path, input="")
    assert bad.exit_code == 2 and "reviewer id 'B'" in bad.stderr


def test_init_writes_schema_modelines_and_the_schemas_beside_them(
    tmp_path: Path, cli: Callable[..., Any]
) -> None:
    """Issue 13 item 19: editors hover and check the files init writes (YAML language server)."""
    import json

    data_files(tmp_path)
    r = cli(
        ["init", "s", "-s", "a=data/focus.csv", "-s", "b=data/survey.csv"], cwd=tmp_path, input=""
    )
    assert r.exit_code == 0, r
    root = tmp_path / "s"
    for name, kind in (("triangulate.yaml", "project"), ("codebook.yaml", "codebook")):
        first = (root / name).read_text(encoding="utf-8").splitlines()[0]
        assert first == f"# yaml-language-server: $schema=schemas/{kind}.schema.json"
        schema = json.loads((root / "schemas" / f"{kind}.schema.json").read_text(encoding="utf-8"))
        assert schema["$id"].startswith("urn:triangulate:")
    assert cli(["validate", "s"], cwd=tmp_path).exit_code == 0
