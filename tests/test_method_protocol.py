"""Protocol v2 (spec 5.1): how dimensions are compared, and every protocol error at its line.

Also the v2 keys of the project file (findings, narrative, blind) and the codebook's research
questions (spec 2 and 3).
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from conftest import SAMPLE, Result
from triangulate.project.loading import builtin_protocols_dir, load_project

BASE_PROTOCOL = """\
id: custom
title: Custom protocol
citation: "Someone. A paper. 2024."
steps: [sorting, convergence_coding]
dimensions:
  - id: meaning
    label: Meaning
    compare: tags
    opposites: [[barrier, facilitator]]
    prominence_bands: [0.2, 0.5]
  - id: prominence
    label: Prominence
    compare: prominence
    bands: [0.2, 0.5]
    band_labels: [low, medium, high]
categories:
  - {id: agreement, label: Agreement, definition: "Same."}
  - {id: partial_agreement, label: Partial agreement, definition: "Some."}
  - {id: dissonance, label: Dissonance, definition: "None or contradiction."}
  - {id: silence, label: Silence, definition: "One source."}
rules:
  one_source: silence
  all: agreement
  some: partial_agreement
  none: dissonance
  conflict: dissonance
"""


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


def sample_with_protocol(tmp_path: Path, protocol_text: str) -> Path:
    root = tmp_path / "sample"
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns("out"))
    (root / "custom.yaml").write_text(protocol_text, encoding="utf-8")
    pf = root / "triangulate.yaml"
    pf.write_text(
        pf.read_text(encoding="utf-8").replace("protocol: blebu-2023", "protocol: custom.yaml"),
        encoding="utf-8",
    )
    return root


def line_of(text: str, needle: str, nth: int = 1) -> int:
    seen = 0
    for i, line in enumerate(text.splitlines(), 1):
        if needle in line:
            seen += 1
            if seen == nth:
                return i
    raise AssertionError(needle)


def errors(root: Path) -> list[Any]:
    return [f for f in load_project(root).findings if f.is_error]


def test_a_valid_v2_protocol_loads_with_exact_cut_points(tmp_path: Path) -> None:
    root = sample_with_protocol(tmp_path, BASE_PROTOCOL)
    # The sample's data have no 'meaning' tags: only the protocol matters here.
    loaded = load_project(root)
    assert [f for f in loaded.findings if f.code.startswith("protocol.")] == []
    assert loaded.project is not None
    dims = loaded.project.protocol.dimensions
    assert dims[0].prominence_bands == [Decimal("0.2"), Decimal("0.5")]
    assert dims[1].bands == [Decimal("0.2"), Decimal("0.5")]
    assert dims[0].opposites == [("barrier", "facilitator")]
    assert loaded.project.protocol.rules.conflict == "dissonance"


BROKEN = [
    # (description, replace old, with new, expected code, line holding the fault)
    (
        "unknown compare",
        "compare: prominence",
        "compare: weight",
        "yaml.invalid-value",
        "compare: weight",
    ),
    (
        "bands not ascending",
        "bands: [0.2, 0.5]\n    band_labels",
        "bands: [0.5, 0.2]\n    band_labels",
        "protocol.bad-bands",
        "    bands: [0.5, 0.2]",
    ),
    (
        "a cut point of 1",
        "prominence_bands: [0.2, 0.5]",
        "prominence_bands: [0.2, 1.0]",
        "protocol.bad-bands",
        "prominence_bands: [0.2, 1.0]",
    ),
    (
        "labels of the wrong length",
        "band_labels: [low, medium, high]",
        "band_labels: [low, high]",
        "protocol.bad-band-labels",
        "band_labels: [low, high]",
    ),
    (
        "an opposite pair of one tag twice",
        "opposites: [[barrier, facilitator]]",
        "opposites: [[barrier, Barrier]]",
        "protocol.bad-opposites",
        "opposites: [[barrier, Barrier]]",
    ),
    (
        "a tags-only key on a prominence dimension",
        "    band_labels: [low, medium, high]",
        "    band_labels: [low, medium, high]\n    opposites: [[low, high]]",
        "protocol.compare-key",
        "opposites: [[low, high]]",
    ),
    (
        "a band key on a tags dimension",
        "    prominence_bands: [0.2, 0.5]",
        "    prominence_bands: [0.2, 0.5]\n    bands: [0.3]",
        "protocol.compare-key",
        "bands: [0.3]",
    ),
    (
        "a prominence dimension without bands",
        "    bands: [0.2, 0.5]\n    band_labels: [low, medium, high]\n",
        "",
        "protocol.compare-key",
        "compare: prominence",
    ),
    (
        "a conflict category that is not a category",
        "conflict: dissonance",
        "conflict: contradiction",
        "protocol.unknown-category",
        "conflict: contradiction",
    ),
]


@pytest.mark.parametrize(
    ("what", "old", "new", "code", "needle"), BROKEN, ids=[b[0] for b in BROKEN]
)
def test_protocol_errors_are_located_at_the_line_that_says_it(
    tmp_path: Path, what: str, old: str, new: str, code: str, needle: str
) -> None:
    assert old in BASE_PROTOCOL, what
    text = BASE_PROTOCOL.replace(old, new, 1)
    root = sample_with_protocol(tmp_path, text)
    found = [f for f in errors(root) if f.code == code]
    assert found, [(f.code, f.message) for f in errors(root)]
    assert found[0].location.file == "custom.yaml"
    assert found[0].location.line == line_of(text, needle)
    result = invoke(["validate", root])
    assert result.exit_code == 1, str(result)
    assert code in result.stdout + result.stderr


def test_builtin_protocols_as_section_5_1_lists_them(tmp_path: Path) -> None:
    from triangulate.project.loading import load_yaml_model
    from triangulate.project.models import Protocol

    d = builtin_protocols_dir()
    assert d is not None
    got: dict[str, Protocol] = {}
    for name in ("farmer-2006", "blebu-2023", "squires-2015"):
        p, _, f = load_yaml_model(d / f"{name}.yaml", name, Protocol, "a protocol")
        assert p is not None and f == [], f
        got[name] = p
    farmer = got["farmer-2006"]
    meaning = farmer.dimension("meaning")
    assert (meaning.label, meaning.compare, meaning.opposites) == (
        "Meaning and prominence",
        "tags",
        [("barrier", "facilitator")],
    )
    assert meaning.prominence_bands == [Decimal("0.2"), Decimal("0.5")]
    assert farmer.dimension("examples").compare == "tags"
    assert farmer.rules.conflict == "dissonance"
    assert [s.id for s in farmer.steps] == [
        "sorting",
        "convergence_coding",
        "convergence_assessment",
        "completeness_comparison",
        "researcher_comparison",
        "feedback",
    ]
    blebu = got["blebu-2023"]
    assert blebu.dimension("substance").opposites == [("barrier", "facilitator")]
    assert blebu.dimension("substance").prominence_bands is None
    assert blebu.dimension("mechanism").prominence_bands is None
    assert blebu.rules.conflict == "disagreement"
    assert any("Farmer" in c and "2006" in c for c in blebu.based_on)
    squires = got["squires-2015"]
    assert squires.dimension_ids == ["meaning", "prominence", "examples"]
    assert squires.dimension("meaning").opposites == [("barrier", "facilitator")]
    assert squires.dimension("prominence").compare == "prominence"
    assert squires.dimension("prominence").bands == [Decimal("0.2"), Decimal("0.5")]
    assert squires.category_ids == ["agreement", "partial_agreement", "dissonance", "silence"]
    assert squires.rules.conflict == "dissonance"
    assert "s13012-015-0325-y" in squires.citation
    assert any("Farmer" in c for c in squires.based_on)


def test_default_band_labels() -> None:
    from triangulate.project.models import Dimension

    two = Dimension(id="p", label="P", compare="prominence", bands=[Decimal("0.2"), Decimal("0.5")])
    assert [two.band_label(b) for b in range(3)] == ["low", "medium", "high"]
    three = Dimension(
        id="p",
        label="P",
        compare="prominence",
        bands=[Decimal("0.1"), Decimal("0.2"), Decimal("0.3")],
    )
    assert [three.band_label(b) for b in range(4)] == ["band 1", "band 2", "band 3", "band 4"]


def test_project_file_v2_keys(tmp_path: Path) -> None:
    root = tmp_path / "sample"
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns("out"))
    loaded = load_project(root)
    assert loaded.project is not None
    assert loaded.project.file.blind is True
    pf = root / "triangulate.yaml"
    pf.write_text(pf.read_text(encoding="utf-8") + "blind: false\nblindd: true\n", encoding="utf-8")
    found = load_project(root).findings
    unknown = [f for f in found if f.code == "yaml.unknown-key"]
    assert unknown and unknown[0].location.line == line_of(pf.read_text(encoding="utf-8"), "blindd")


CODEBOOK_QUESTIONS = """\
themes:
  - id: a
    codes: {interviews: [x]}
    questions: [rq1, rq9]
  - id: b
    codes: {interviews: [y]}
questions:
  - {id: rq1, text: "What helps?"}
"""


def test_codebook_questions_are_checked(tmp_path: Path) -> None:
    root = tmp_path / "p"
    root.mkdir()
    (root / "triangulate.yaml").write_text(
        "title: t\nprotocol: blebu-2023\nsources:\n"
        "  - {id: interviews, kind: excerpts, path: i.csv}\n"
        "  - {id: survey, kind: survey, path: s.csv}\n",
        encoding="utf-8",
    )
    (root / "codebook.yaml").write_text(CODEBOOK_QUESTIONS, encoding="utf-8")
    (root / "i.csv").write_text(
        "excerpt_id,participant,code,text\n1,p,x,t\n2,p,y,t\n", encoding="utf-8"
    )
    (root / "s.csv").write_text("code,respondents,endorsed\nz,10,2\n", encoding="utf-8")
    found = load_project(root).findings
    unknown = [f for f in found if f.code == "codebook.unknown-question"]
    assert len(unknown) == 1 and unknown[0].is_error
    assert unknown[0].location.line == line_of(CODEBOOK_QUESTIONS, "questions: [rq1, rq9]")
    none = [f for f in found if f.code == "codebook.theme-without-question"]
    assert len(none) == 1 and not none[0].is_error and "'b'" in none[0].message
    assert os.path.basename(str(none[0].location.file)) == "codebook.yaml"
