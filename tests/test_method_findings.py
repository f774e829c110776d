"""Spec 6.1 (findings.csv) and 10.2 (narrative.yaml): reading, every error and warning, and the
blank file that `converge` writes once."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Any

import pytest

from conftest import ProjectBuilder, Result, excerpt, read_csv, survey
from triangulate.pipeline import analyse_path


def invoke(args: list[str]) -> Result:
    from triangulate.cli import main

    out, err = io.StringIO(), io.StringIO()
    code: Any = None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main([str(a) for a in args])
        except SystemExit as exc:
            code = exc.code
    return Result(int(code or 0), out.getvalue(), err.getvalue())


def project(builder: ProjectBuilder, **extra: Any) -> Path:
    return builder.write(
        sources=[
            {"id": "interviews", "kind": "excerpts", "path": "i.csv"},
            {"id": "survey", "kind": "survey", "path": "s.csv"},
        ],
        themes=[
            {"id": "both", "codes": {"interviews": ["a"], "survey": ["qa"]}},
            {"id": "only_i", "codes": {"interviews": ["b"], "survey": ["qb"]}},
        ],
        data={
            "interviews": [excerpt("E1", "p1", "a", "x", "y"), excerpt("E2", "p2", "b", "x", "y")],
            "survey": [
                survey("qa", 10, endorsed=5, substance="x", mechanism="y"),
                survey("qb", 10, endorsed=0),
            ],
        },
        extra_project={"findings": "findings.csv", **extra},
    )


def codes_of(root: Path) -> list[tuple[str, str, int | None, str | None]]:
    result = analyse_path(root)
    return [
        (f.code, f.severity.value, f.location.row, f.location.field)
        for f in result.findings
        if f.code.startswith("findings.")
    ]


def test_converge_writes_the_blank_file_once(builder: ProjectBuilder) -> None:
    root = project(builder)
    r = invoke(["converge", root])
    assert r.exit_code == 0, str(r)
    rows = read_csv(root / "findings.csv")
    assert [(x["theme"], x["source"], x["finding"], x["exemplar"]) for x in rows] == [
        ("both", "interviews", "", ""),
        ("both", "survey", "", ""),
        ("only_i", "interviews", "", ""),
    ]
    (root / "findings.csv").write_text(
        "theme,source,finding,exemplar\nboth,interviews,Staff say X.,E1\n", encoding="utf-8"
    )
    assert invoke(["converge", root]).exit_code == 0
    assert "Staff say X." in (root / "findings.csv").read_text(
        encoding="utf-8"
    )  # never overwritten


def test_missing_findings_are_warnings_each(builder: ProjectBuilder) -> None:
    root = project(builder)
    # no file yet: each theme present in a source is missing its finding
    assert [c[0] for c in codes_of(root)] == ["findings.missing"] * 3
    (root / "findings.csv").write_text(
        "theme,source,finding,exemplar\n"
        "both,interviews,Staff say X.,E1\n"
        "both,survey,Half endorse it.,qa\n"
        "only_i,interviews,,\n",
        encoding="utf-8",
    )
    assert codes_of(root) == [("findings.missing", "warning", 4, "finding")]
    result = analyse_path(root)
    a = result.analysis
    assert a is not None
    sf = a.source_findings[("both", "interviews")]
    assert (sf.text, sf.exemplar) == ("Staff say X.", "E1")
    assert invoke(["validate", root, "--strict"]).exit_code == 1
    assert invoke(["validate", root]).exit_code == 0


ERRORS = [
    ("nope,interviews,Text.,\n", "findings.unknown-theme", "theme"),
    ("both,diary,Text.,\n", "findings.unknown-source", "source"),
    ("both,interviews,Again.,\n", "findings.duplicate-row", "theme"),
    ("both,survey,Text.,E1\n", "findings.bad-exemplar", "exemplar"),  # an excerpt id, for a survey
    ("only_i,survey,Text.,qb\n", None, None),  # a theme absent from the source: warning only
]


@pytest.mark.parametrize(("line", "code", "column"), ERRORS)
def test_every_findings_error(
    builder: ProjectBuilder, line: str, code: str | None, column: str | None
) -> None:
    root = project(builder)
    (root / "findings.csv").write_text(
        "theme,source,finding,exemplar\nboth,interviews,Staff say X.,E1\n" + line, encoding="utf-8"
    )
    found = [c for c in codes_of(root) if c[0] != "findings.missing"]
    if code is None:
        assert found == [("findings.theme-absent", "warning", 3, "theme")]
        return
    assert found == [(code, "error", 3, column)]
    r = invoke(["validate", root])
    assert r.exit_code == 1 and code in r.stdout + r.stderr


def test_exemplar_outside_its_theme_is_an_error(builder: ProjectBuilder) -> None:
    root = project(builder)
    # E2 is an excerpt of the interviews, but coded into 'only_i', not 'both'
    (root / "findings.csv").write_text(
        "theme,source,finding,exemplar\nboth,interviews,Staff say X.,E2\n", encoding="utf-8"
    )
    found = [c for c in codes_of(root) if c[0] == "findings.bad-exemplar"]
    assert found == [("findings.bad-exemplar", "error", 2, "exemplar")]
    r = invoke(["run", root])
    assert r.exit_code == 1
    assert "findings.csv" in r.stdout + r.stderr


def test_missing_column(builder: ProjectBuilder) -> None:
    root = project(builder)
    (root / "findings.csv").write_text("theme,source,text\nboth,interviews,X\n", encoding="utf-8")
    assert ("findings.missing-column", "error", 1, "finding") in codes_of(root)


def test_findings_in_the_csv_outputs(builder: ProjectBuilder) -> None:
    root = project(builder)
    (root / "findings.csv").write_text(
        "theme,source,finding,exemplar\nboth,interviews,Staff say X.,E1\nboth,survey,Half endorse it.,\n",
        encoding="utf-8",
    )
    assert invoke(["run", root]).exit_code == 0
    sorting = read_csv(root / "out" / "sorting.csv")
    assert [r["finding"] for r in sorting] == ["Staff say X.", "Half endorse it.", "", ""]
    (row,) = [r for r in read_csv(root / "out" / "convergence_matrix.csv") if r["theme"] == "both"]
    assert (row["finding_a"], row["finding_b"], row["prominence_a"], row["prominence_b"]) == (
        "Staff say X.",
        "Half endorse it.",
        "0.5",
        "0.5",
    )
    assert (row["dim_substance"], row["dim_mechanism"]) == ("meets", "meets")


def test_save_finding_row_refuses_a_row_changed_on_disk(builder: ProjectBuilder) -> None:
    from triangulate.project.loading import load_project
    from triangulate.review.findings_table import FindingRowChanged, save_finding_row

    root = project(builder)
    (root / "findings.csv").write_text(
        "theme,source,finding,exemplar\nboth,interviews,Old.,\nboth,survey,Keep me.,\n",
        encoding="utf-8",
    )
    loaded = load_project(root)
    assert loaded.project is not None
    save_finding_row(
        loaded.project,
        {"theme": "both", "source": "interviews", "finding": "=New.", "exemplar": "E1"},
        expected={"finding": "Old.", "exemplar": ""},
    )
    rows = read_csv(root / "findings.csv")
    assert rows[1]["finding"] == "Keep me."
    with pytest.raises(FindingRowChanged):
        save_finding_row(
            loaded.project,
            {"theme": "both", "source": "interviews", "finding": "Other."},
            expected={"finding": "Old.", "exemplar": ""},
        )
    a = analyse_path(root).analysis
    assert a is not None
    assert a.source_findings[("both", "interviews")].text == "=New."  # neutralised, read back


def test_narrative_unknown_key_is_an_error_at_its_line(builder: ProjectBuilder) -> None:
    root = project(builder, narrative="narrative.yaml")
    (root / "narrative.yaml").write_text(
        "convergence_assessment: Most themes converged.\n"
        "completness_comparison: typo\n"
        "themes:\n"
        "  both: Both sources agree.\n"
        "  nothere: No such theme.\n",
        encoding="utf-8",
    )
    result = analyse_path(root)
    bad = [f for f in result.findings if f.code == "narrative.unknown-key"]
    assert [(f.location.file, f.location.line) for f in bad] == [
        ("narrative.yaml", 2),
        ("narrative.yaml", 5),
    ]
    assert result.analysis is not None
    assert result.analysis.narrative.steps == {"convergence_assessment": "Most themes converged."}
    assert result.analysis.narrative.themes == {"both": "Both sources agree."}
    assert invoke(["validate", root]).exit_code == 1
