"""The publication outputs: convergence.svg, report.docx, the matrix and the joint display."""

from __future__ import annotations

import re
import shutil
from typing import Any

import pytest
from defusedxml import ElementTree

from conftest import SAMPLE
from triangulate.outputs.display import (
    QUOTE_LIMIT,
    deciding_tags,
    joint_table,
    matrix_table,
    outcomes,
    shorten,
)
from triangulate.outputs.figure import render_svg
from triangulate.outputs.report import build_report
from triangulate.outputs.word import render_docx
from triangulate.pipeline import analyse_path
from triangulate.protocol.analysis import Analysis

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Analysis:
    root = tmp_path_factory.mktemp("pub") / "sample"
    shutil.copytree(SAMPLE, root)
    result = analyse_path(root)
    assert result.analysis is not None
    return result.analysis


def test_svg_parses_has_a_legend_and_no_script_or_external_reference(sample: Analysis) -> None:
    svg = render_svg(sample)
    assert svg == render_svg(sample)  # deterministic
    root = ElementTree.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    tags = {el.tag.removeprefix(SVG) for el in root.iter()}
    assert tags <= {"svg", "title", "rect", "text", "g"}, tags  # no script, image, use, a, style
    for el in root.iter():
        for name, value in el.attrib.items():
            assert "href" not in name and not name.startswith("on"), (el.tag, name)
            assert "url(" not in value and "://" not in value.replace(
                "http://www.w3.org/2000/svg", ""
            ), (el.tag, name, value)
    texts = [el.text or "" for el in root.iter(f"{SVG}text")]
    assert "Category (final)" in texts
    for label in ("Full agreement", "Partial agreement", "Disagreement", "Silence"):
        assert label in texts
    # one cell per unit, each with its letter mark: the sample has 5 F/P and 2 S units
    marks = [t for t in texts if len(t) == 1 and t.isascii() and t.isalpha()]
    assert sorted(marks[: len(sample.units)]) == sorted(
        {"full_agreement": "F", "partial_agreement": "P", "silence": "S"}[u.final or ""]
        for u in sample.units
    )
    # themes by label, grouped under their group's label
    assert "Relationship-centered perinatal care" in texts
    assert not any("person_centered_care" in t for t in texts)


def test_docx_holds_the_matrix_and_joint_display_with_labels(sample: Analysis) -> None:
    import io

    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.oxml.ns import qn

    data = render_docx(build_report(sample))
    assert data == render_docx(build_report(sample))  # byte-identical
    doc = Document(io.BytesIO(data))
    assert len(doc.tables) == 2
    matrix, joint = doc.tables
    head = [c.text for c in matrix.rows[0].cells]
    assert head[0] == "Theme" and head[-1] == "Category"
    cats = [r.cells[-1].text for r in matrix.rows[1:]]
    assert any(c.startswith("F  Full agreement") for c in cats)
    assert not any(
        "full_agreement" in c for row in matrix.rows for c in (x.text for x in row.cells)
    )
    assert matrix.rows[0]._tr.trPr.find(qn("w:tblHeader")) is not None  # repeats on each page
    assert all(r._tr.trPr.find(qn("w:cantSplit")) is not None for r in matrix.rows)
    assert joint.rows[0].cells[0].text == "Theme"
    assert any(s.orientation == WD_ORIENT.LANDSCAPE for s in doc.sections)
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "Methods" in text and "We triangulated" in text
    assert doc.core_properties.created.year == 2000


def test_matrix_uses_labels_and_shows_findings_prominence_and_outcomes(sample: Analysis) -> None:
    t = matrix_table(sample)
    assert t.header == [
        "Theme",
        "Staff in-depth interviews",
        "Partner network survey (PARTNER CPRM)",
        "Substantive description",
        "Mechanistic description",
        "Category",
    ]
    first = t.rows[0]
    assert first[0] == "Care Coordinators embody a person-centered, place-based approach"
    # the sample keeps findings (findings.csv): the cell is the finding, then the prominence
    assert first[1].startswith("Staff, and Care Coordinators above all, see referral work")
    assert first[1].endswith("\n11/18 (61%) participants") and first[3:5] == ["meets", "meets"]
    assert first[-1] == "full_agreement\nreviewers agreed"  # rendered as label, colour, mark
    silent = [r for r in t.rows if r[-1].startswith("silence")]
    assert {r[1] for r in silent} | {r[2] for r in silent} >= {
        "not raised",
        "not collected (the instrument could not capture it)",
    }
    assert t.row_links[0] == "theme-person_centered_care"


def test_joint_display_names_the_item_and_quotes_a_deciding_excerpt(sample: Analysis) -> None:
    t = joint_table(sample)
    assert t.header[:3] == [
        "Theme",
        "Staff in-depth interviews",
        "Partner network survey (PARTNER CPRM)",
    ]
    row = t.rows[0]
    # the survey statistic names its item
    assert re.match(r".+: \d+% of 17 respondents$", row[2]), row[2]
    units = {u.theme.display: u for u in sample.units}
    for r in t.rows:
        quote = r[3]
        u = units[r[0]]
        ts = u.a if u.a.kind == "excerpts" else u.b
        if not ts.present:
            continue
        m = re.match(r"^\u201c(.*)\u201d \((.+)\)$", quote)
        assert m, quote
        assert len(m.group(1)) <= QUOTE_LIMIT + 1
        decided = deciding_tags(sample, u, ts)
        if decided:  # the quoted excerpt carries a tag that decided the outcome
            rows = [x for x in ts.excerpt_rows if shorten(x.text) == m.group(1)]
            assert rows, quote
            assert any(
                {t.lower() for t in rows[0].tags.get(d, ())} & tags for d, tags in decided
            ), (quote, decided)
    assert "Prominence" in t.note and t.caption


def test_a_quotation_is_cut_at_about_300_characters_with_an_ellipsis() -> None:
    long = "word " * 600
    cut = shorten(long)
    assert cut.endswith("\u2026") and len(cut) <= QUOTE_LIMIT + 1
    assert shorten("short text") == "short text"


def test_outcomes_fall_back_to_shared_tags(sample: Analysis) -> None:
    u = next(u for u in sample.units if not u.one_source)
    outs: dict[str, Any] = outcomes(sample, u)
    assert set(outs) == set(sample.project.protocol.dimension_ids)
    assert set(outs.values()) <= {"meets", "does_not_meet", "conflicts", None}
