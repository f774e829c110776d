"""CLI acceptance: the commands as a user runs them (``python -m triangulate ...`` in a subprocess)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from conftest import SAMPLE, ProjectBuilder, Result, excerpt, read_csv, survey, write_csv
from triangulate import __version__

Cli = Callable[..., Result]
TEXT_OUTPUTS = ("sorting.csv", "convergence_matrix.csv", "summary.json", "report.md", "report.html")
ALL_OUTPUTS = {
    *TEXT_OUTPUTS,
    "convergence_matrix.xlsx",
    "convergence.svg",
    "report.docx",
    "manifest.json",
}

INTERVIEWS = {"id": "interviews", "kind": "excerpts", "path": "data/interviews.csv"}
SURVEY = {"id": "survey", "kind": "survey", "path": "data/survey.csv"}


def copy_sample(dest: Path) -> Path:
    """The shipped sample without its out/ folder (so a test never writes into the repository)."""
    shutil.copytree(SAMPLE, dest, ignore=shutil.ignore_patterns("out"))
    return dest


def no_traceback(r: Result) -> None:
    assert "Traceback" not in r.stderr, str(r)
    assert "Traceback" not in r.stdout, str(r)


def small_project(builder: ProjectBuilder, **kw: Any) -> Path:
    """Two sources, two themes: 'shared' (both sources, tags meet: full_agreement) and 'lonely'
    (interviews only: silence)."""
    kw.setdefault(
        "themes",
        [
            {"id": "shared", "codes": {"interviews": ["a"], "survey": ["s"]}},
            {"id": "lonely", "codes": {"interviews": ["b"]}},
        ],
    )
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
    return builder.write(sources=[INTERVIEWS, SURVEY], **kw)


def files_in(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


# ---------------------------------------------------------------------------- --version, --help


def test_version(cli: Cli) -> None:
    r = cli(["--version"])
    assert r.exit_code == 0, str(r)
    assert r.stdout == f"triangulate {__version__}\n"


def test_help_lists_the_commands(cli: Cli) -> None:
    r = cli(["--help"])
    assert r.exit_code == 0, str(r)
    for command in ("validate", "sort", "converge", "report", "run"):
        assert f"  {command} " in r.stdout, command
    no_traceback(r)


def test_help_does_not_import_pandas() -> None:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "triangulate", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    # -X importtime writes "import time: self | cumulative | module" lines to stderr
    modules = [
        line.rsplit("|", 1)[-1].strip()
        for line in proc.stderr.splitlines()
        if line.startswith("import time:")
    ]
    assert "triangulate.cli" in modules  # the log is real
    assert not [m for m in modules if m.split(".")[0] == "pandas"]


# ---------------------------------------------------------------------------- the shipped sample


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Result, Result]:
    """The shipped sample, run twice in a row (for determinism); returns (project, first, second)."""
    from conftest import run_cli

    project = copy_sample(tmp_path_factory.mktemp("sample") / "mamas")
    reviews_before = {p.name: p.read_bytes() for p in (project / "reviews").iterdir()}
    first = run_cli(["run", str(project)])
    snapshot = project.parent / "first_out"
    shutil.copytree(project / "out", snapshot)
    second = run_cli(["run", str(project)])
    assert {p.name: p.read_bytes() for p in (project / "reviews").iterdir()} == reviews_before
    return project, first, second


def test_run_sample_summary(sample_run: tuple[Path, Result, Result]) -> None:
    project, first, _ = sample_run
    assert first.exit_code == 0, str(first)
    no_traceback(first)
    assert files_in(project / "out") == ALL_OUTPUTS
    doc = json.loads((project / "out" / "summary.json").read_text(encoding="utf-8"))
    assert doc["protocol"] == "blebu-2023"
    assert doc["units"] == 7
    assert doc["counts"] == {
        "full_agreement": 4,
        "partial_agreement": 1,
        "disagreement": 0,
        "silence": 2,
    }
    assert (doc["disputed"], doc["uncoded"]) == (0, 0)
    # one decision (coordinator_client_relationship), both reviewers agree on the other six
    assert doc["statuses"] == {
        "adjudicated": 1,
        "agreed": 6,
        "single": 0,
        "disputed": 0,
        "proposed": 0,
        "uncoded": 0,
    }
    assert doc["agreement"]["reviewers"] == ["bb", "pl"]
    assert "7 units" in first.stdout


def test_run_sample_matrix(sample_run: tuple[Path, Result, Result]) -> None:
    project = sample_run[0]
    rows = read_csv(project / "out" / "convergence_matrix.csv")
    assert len(rows) == 7
    assert list(rows[0]) == [
        "theme",
        "group",
        "source_a",
        "source_b",
        "proposed",
        "bb",
        "pl",
        "final",
        "status",
        "rationale",
        "note",
        "finding_a",
        "finding_b",
        "prominence_a",
        "prominence_b",
        "dim_substance",
        "dim_mechanism",
    ]
    assert Counter(r["final"] for r in rows) == {
        "full_agreement": 4,
        "partial_agreement": 1,
        "silence": 2,
    }
    by_theme = {r["theme"]: r for r in rows}
    ccr = by_theme["coordinator_client_relationship"]
    assert (ccr["bb"], ccr["pl"], ccr["final"], ccr["status"]) == (
        "partial_agreement",
        "full_agreement",
        "partial_agreement",
        "adjudicated",
    )
    assert ccr["rationale"].startswith("Both sources say follow-up works")
    assert by_theme["coordinator_centered_tracking"]["note"] == "not_collected"
    assert [r["theme"] for r in rows] == [
        "person_centered_care",
        "coordinator_client_relationship",
        "point_of_contact",
        "shared_tracking_gap",
        "coordinator_centered_tracking",
        "bidirectional_referrals",
        "networking_meetings",
    ]


def test_run_is_deterministic(sample_run: tuple[Path, Result, Result]) -> None:
    project, _first, second = sample_run
    assert second.exit_code == 0, str(second)
    # every output byte for byte, the .xlsx and .docx included (spec 10, v2)
    for name in ALL_OUTPUTS:
        assert (project / "out" / name).read_bytes() == (
            project.parent / "first_out" / name
        ).read_bytes(), name


def test_run_sample_with_strict_fails_on_its_unsorted_codes(cli: Cli, tmp_path: Path) -> None:
    project = copy_sample(tmp_path / "mamas")
    r = cli(["run", str(project), "--strict"])
    assert r.exit_code == 1, str(r)
    assert "data.unsorted-code" in r.stderr
    no_traceback(r)


# ---------------------------------------------------------------------------- XLSX


def xlsx_cells(path: Path) -> dict[str, list[list[Any]]]:
    from openpyxl import load_workbook

    wb = load_workbook(path)
    try:
        return {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}
    finally:
        wb.close()


def as_text(v: Any) -> str:
    return "" if v is None else str(v)


def test_xlsx_sheets_labels_fills_borders_and_values(
    sample_run: tuple[Path, Result, Result],
) -> None:
    from openpyxl import load_workbook

    out = sample_run[0] / "out"
    wb = load_workbook(out / "convergence_matrix.xlsx")
    try:
        assert wb.sheetnames == [
            "Matrix",
            "Joint display",
            "Coding",
            "Sorting",
            "Agreement",
            "Decisions",
            "Legend",
        ]
        # the matrix: labels, never ids; category cells filled with the category's colour
        ws = wb["Matrix"]
        header = [c.value for c in ws[1]]
        assert header[0] == "Theme" and header[-1] == "Category"
        assert "Staff in-depth interviews" in header
        themes = [ws.cell(row=i, column=1).value for i in range(2, ws.max_row + 1)]
        assert themes[0] == "Care Coordinators embody a person-centered, place-based approach"
        assert "person_centered_care" not in themes
        cats = [ws.cell(row=i, column=len(header)) for i in range(2, ws.max_row + 1)]
        assert {c.value.split("\n")[0] for c in cats} == {
            "F  Full agreement",
            "P  Partial agreement",
            "S  Silence",
        }
        assert cats[0].value == "F  Full agreement\nreviewers agreed"
        fills = {c.value: c.fill.fgColor.rgb for c in cats}
        assert len(set(fills.values())) == 3 and all(c.fill.fill_type == "solid" for c in cats)
        head = ws.cell(row=1, column=1)
        assert head.font.bold and head.font.name == "Arial" and head.border.bottom.style == "thin"
        assert ws.cell(row=2, column=1).border.left.style == "thin"
        assert ws.print_title_rows == "$1:$1"
        assert ws.page_setup.orientation == "landscape"
        assert ws.sheet_properties.pageSetUpPr.fitToPage  # one page wide (the default width)
        assert ws.page_setup.fitToWidth in (None, 1) and ws.page_setup.fitToHeight == 0
        # Coding: every column of the CSV, the same values with labels for ids
        c = wb["Coding"]
        csv_rows = read_csv(out / "convergence_matrix.csv")
        cols = list(csv_rows[0])
        assert [x.value for x in c[1]] == cols
        final = c.cell(row=2, column=cols.index("final") + 1)
        assert final.value == "Full agreement" and final.fill.fill_type == "solid"
        assert c.cell(row=2, column=cols.index("status") + 1).value == csv_rows[0]["status"]
        assert c.cell(row=2, column=cols.index("rationale") + 1).value == csv_rows[0]["rationale"]
        # Agreement: the reason beside each undefined statistic
        a = wb["Agreement"]
        rows = [[x.value for x in r] for r in a.iter_rows(min_row=2)]
        undefined = [r for r in rows if r[2] is None]
        assert undefined and all(r[4] for r in undefined)
        assert any("three or more reviewers" in r[4] for r in undefined)
        d = wb["Decisions"]
        assert d.max_row == 2  # the sample has one decision
        assert d.cell(row=2, column=4).value == "Partial agreement"
        assert d.cell(row=2, column=4).fill.fill_type == "solid"
        legend = wb["Legend"]
        assert [legend.cell(row=i, column=1).value for i in range(2, 6)] == ["F", "P", "D", "S"]
        assert "Legend" not in [x.value for x in ws[1]]  # not beside the matrix any more
    finally:
        wb.close()


# ---------------------------------------------------------------------------- exit codes


def test_missing_project_exits_2(cli: Cli, tmp_path: Path) -> None:
    r = cli(["run", str(tmp_path / "no-such-study")])
    assert r.exit_code == 2, str(r)
    assert "no-such-study" in r.stderr
    no_traceback(r)


def test_missing_source_file_exits_2_and_names_it(cli: Cli, builder: ProjectBuilder) -> None:
    root = small_project(builder)
    (root / "data" / "survey.csv").unlink()
    r = cli(["run", str(root)])
    assert r.exit_code == 2, str(r)
    assert "data/survey.csv" in r.stderr.replace("\\", "/")
    assert not (root / "out").exists()
    no_traceback(r)


def test_bad_usage_exits_2(cli: Cli, builder: ProjectBuilder) -> None:
    r = cli(["run", str(small_project(builder)), "--no-such-option"])
    assert r.exit_code == 2, str(r)
    no_traceback(r)


def test_rule_conflict_exits_1_and_writes_nothing(cli: Cli, builder: ProjectBuilder) -> None:
    root = small_project(
        builder,
        reviewers=["r1"],
        worksheets={
            "r1": [
                {
                    "theme": "shared",
                    "source_a": "interviews",
                    "source_b": "survey",
                    "substance": "yes",
                    "mechanism": "yes",
                    "category": "disagreement",
                }
            ]
        },
    )
    r = cli(["run", str(root)])
    assert r.exit_code == 1, str(r)
    assert "review.rule-conflict" in r.stderr
    assert "r1.csv" in r.stderr
    assert not (root / "out").exists()
    no_traceback(r)


def test_clean_project_exits_0(cli: Cli, builder: ProjectBuilder) -> None:
    root = small_project(builder)
    r = cli(["run", str(root), "--strict"])
    assert r.exit_code == 0, str(r)
    assert r.stderr == ""
    assert files_in(root / "out") == ALL_OUTPUTS


def test_project_file_path_is_accepted(cli: Cli, builder: ProjectBuilder) -> None:
    root = small_project(builder)
    r = cli(["sort", str(root / "triangulate.yaml")])
    assert r.exit_code == 0, str(r)
    assert files_in(root / "out") == {"sorting.csv"}


def test_default_project_is_the_current_directory(cli: Cli, builder: ProjectBuilder) -> None:
    root = small_project(builder)
    r = cli(["sort"], cwd=root)
    assert r.exit_code == 0, str(r)
    assert (root / "out" / "sorting.csv").exists()


# ---------------------------------------------------------------------------- sort, converge, run and worksheets


def test_sort_writes_only_sorting_csv(cli: Cli, builder: ProjectBuilder) -> None:
    root = small_project(builder, reviewers=["r1"])
    r = cli(["sort", str(root)])
    assert r.exit_code == 0, str(r)
    assert files_in(root / "out") == {"sorting.csv"}
    assert not (root / "reviews").exists()
    rows = read_csv(root / "out" / "sorting.csv")
    # shared: interviews E1/P1 of 2 participants (P1, P2) -> 0.5; survey 4/10 = 0.4
    assert [(r["theme"], r["source"], r["present"], r["prominence"]) for r in rows] == [
        ("shared", "interviews", "yes", "0.5"),
        ("shared", "survey", "yes", "0.4"),
        ("lonely", "interviews", "yes", "0.5"),
        ("lonely", "survey", "no", "0"),
    ]


def test_converge_writes_missing_blank_worksheets_and_never_overwrites(
    cli: Cli, builder: ProjectBuilder
) -> None:
    root = small_project(builder, reviewers=["r1", "r2"])
    mine = write_csv(
        root / "reviews" / "r2.csv",
        [
            {
                "theme": "shared",
                "source_a": "interviews",
                "source_b": "survey",
                "category": "partial_agreement",
                "rationale": "mine",
            }
        ],
        ["theme", "source_a", "source_b", "substance", "mechanism", "category", "rationale"],
    )
    r2_before = mine.read_bytes()
    r = cli(["converge", str(root)])
    assert r.exit_code == 0, str(r)
    assert files_in(root / "out") == {"convergence_matrix.csv"}
    assert files_in(root / "reviews") == {"r1.csv", "r2.csv"}
    assert mine.read_bytes() == r2_before
    blank = root / "reviews" / "r1.csv"
    assert blank.read_text(encoding="utf-8") == (
        "theme,source_a,source_b,substance,mechanism,category,rationale\n"
        "shared,interviews,survey,,,,\n"
        "lonely,interviews,survey,,,,\n"
    )
    # the reviewer fills it in; converge again must keep both worksheets byte for byte
    blank.write_text(
        blank.read_text(encoding="utf-8").replace(
            "shared,interviews,survey,,,,", "shared,interviews,survey,yes,no,,x"
        ),
        encoding="utf-8",
    )
    r1_filled = blank.read_bytes()
    r = cli(["converge", str(root)])
    assert r.exit_code == 0, str(r)
    assert blank.read_bytes() == r1_filled and mine.read_bytes() == r2_before
    # r1 (rule: partial) and r2 (partial) agree
    rows = read_csv(root / "out" / "convergence_matrix.csv")
    assert (rows[0]["r1"], rows[0]["r2"], rows[0]["final"], rows[0]["status"]) == (
        "partial_agreement",
        "partial_agreement",
        "partial_agreement",
        "agreed",
    )


def test_run_never_writes_worksheets(cli: Cli, builder: ProjectBuilder) -> None:
    root = small_project(builder, reviewers=["r1", "r2"])
    r = cli(["run", str(root)])
    assert r.exit_code == 0, str(r)
    assert not (root / "reviews").exists()
    assert files_in(root / "out") == ALL_OUTPUTS
    doc = json.loads((root / "out" / "summary.json").read_text(encoding="utf-8"))
    # nobody coded: shared -> proposed full_agreement, lonely -> proposed silence
    assert doc["statuses"]["proposed"] == 2
    assert doc["counts"] == {
        "full_agreement": 1,
        "partial_agreement": 0,
        "disagreement": 0,
        "silence": 1,
    }


def test_cut_short_decision_line_is_reported_not_fatal(cli: Cli, builder: ProjectBuilder) -> None:
    root = small_project(builder)
    good = {
        "theme": "shared",
        "source_a": "interviews",
        "source_b": "survey",
        "category": "disagreement",
        "rationale": "kept",
        "decided_by": "x",
        "decided_at": "2024-01-01T00:00:00Z",
    }
    (root / "decisions.jsonl").write_text(
        json.dumps(good) + "\n" + '{"theme": "lonely", "sou', encoding="utf-8"
    )
    r = cli(["run", str(root)])
    assert r.exit_code == 0, str(r)
    assert "decisions.truncated-line" in r.stderr
    rows = read_csv(root / "out" / "convergence_matrix.csv")
    assert (rows[0]["final"], rows[0]["status"], rows[0]["rationale"]) == (
        "disagreement",
        "adjudicated",
        "kept",
    )


# ---------------------------------------------------------------------------- protocol resolution


def fx(eid: str, who: str, code: str, meaning: str, examples: str) -> dict[str, str]:
    return {
        "excerpt_id": eid,
        "participant": who,
        "code": code,
        "text": "Words.",
        "meaning": meaning,
        "examples": examples,
    }


def test_protocol_by_builtin_id(cli: Cli, builder: ProjectBuilder) -> None:
    root = small_project(
        builder,
        protocol="farmer-2006",
        data={
            "interviews": [fx("E1", "P1", "a", "delay", "clinic"), fx("E2", "P2", "b", "x", "y")],
            "survey": [
                {
                    "code": "s",
                    "respondents": 10,
                    "endorsed": 5,  # 0.5: the same prominence band as 1 of 2 interviewees (v2)
                    "meaning": "delay",
                    "examples": "phone",
                }
            ],
        },
    )
    r = cli(["run", str(root)])
    assert r.exit_code == 0, str(r)
    doc = json.loads((root / "out" / "summary.json").read_text(encoding="utf-8"))
    assert doc["protocol"] == "farmer-2006"
    # shared: meaning delay=delay meets, examples clinic vs phone not -> partial; lonely -> silence
    assert doc["counts"] == {"agreement": 0, "partial_agreement": 1, "dissonance": 0, "silence": 1}


CUSTOM_PROTOCOL = """\
id: two-way
title: A custom protocol
citation: "Test, 2024."
steps: [sorting, convergence_coding]
dimensions:
  - {id: substance, label: Substance}
  - {id: mechanism, label: Mechanism}
categories:
  - {id: match, label: Match, definition: Both dimensions meet.}
  - {id: mixed, label: Mixed, definition: One dimension meets.}
  - {id: clash, label: Clash, definition: No dimension meets.}
  - {id: gap, label: Gap, definition: One source only.}
rules: {one_source: gap, all: match, some: mixed, none: clash}
"""


@pytest.mark.parametrize("ref", ["protocols/two-way.yaml", "two-way.yml"])
def test_protocol_by_relative_path(cli: Cli, builder: ProjectBuilder, ref: str) -> None:
    root = small_project(builder, protocol=ref)
    (root / ref).parent.mkdir(parents=True, exist_ok=True)
    (root / ref).write_text(CUSTOM_PROTOCOL, encoding="utf-8")
    r = cli(["run", str(root)])
    assert r.exit_code == 0, str(r)
    doc = json.loads((root / "out" / "summary.json").read_text(encoding="utf-8"))
    assert doc["protocol"] == "two-way"
    # shared: both dimensions meet -> match; lonely: one source -> gap
    assert doc["counts"] == {"match": 1, "mixed": 0, "clash": 0, "gap": 1}


def test_missing_protocol_file_exits_2(cli: Cli, builder: ProjectBuilder) -> None:
    root = small_project(builder, protocol="protocols/nope.yaml")
    r = cli(["run", str(root)])
    assert r.exit_code == 2, str(r)
    assert "protocols/nope.yaml" in r.stderr.replace("\\", "/")
    no_traceback(r)


def test_unknown_builtin_protocol_id_exits_1(cli: Cli, builder: ProjectBuilder) -> None:
    root = small_project(builder, protocol="no-such-protocol")
    r = cli(["run", str(root)])
    assert r.exit_code == 1, str(r)
    assert "protocol.not-found" in r.stderr and "farmer-2006" in r.stderr  # lists the built-ins
    no_traceback(r)
