"""Spec 10.2/10.3: the methods paragraph is true of the run; draft notice; custom steps; Step 4."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from conftest import ProjectBuilder, excerpt, survey
from triangulate.outputs.markdown import render_markdown
from triangulate.outputs.report import build_report
from triangulate.outputs.sections import methods_paragraph
from triangulate.pipeline import analyse_path
from triangulate.protocol.analysis import Analysis

COLS = ["theme", "source_a", "source_b", "substance", "mechanism", "category", "rationale"]


def project(
    builder: ProjectBuilder,
    reviewers: list[str] | None = None,
    worksheets: dict[str, list[dict[str, Any]]] | None = None,
    decisions: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> Path:
    return builder.write(
        sources=[
            {"id": "interviews", "label": "Staff interviews", "kind": "excerpts", "path": "i.csv"},
            {"id": "survey", "label": "Partner survey", "kind": "survey", "path": "s.csv"},
        ],
        themes=[
            {
                "id": "t1",
                "label": "Point of contact",
                "codes": {"interviews": ["a"], "survey": ["qa"]},
            },
            {"id": "t2", "label": "Meetings", "codes": {"interviews": ["b"], "survey": ["qb"]}},
            {"id": "t3", "label": "Tracking", "codes": {"interviews": ["c"], "survey": ["qc"]}},
        ],
        data={
            "interviews": [
                excerpt("E1", "p1", "a", "x", "y"),
                excerpt("E2", "p2", "b", "x", "y"),
                excerpt("E3", "p2", "c", "x", "y"),
            ],
            "survey": [
                survey("qa", 10, endorsed=5, substance="x", mechanism="y"),
                survey("qb", 10, endorsed=5, substance="x", mechanism="z"),
                survey("qc", 10, endorsed=0),
            ],
        },
        reviewers=reviewers,
        worksheets=worksheets,
        decisions=decisions,
        **extra,
    )


def analysis(root: Path) -> Analysis:
    result = analyse_path(root)
    assert result.analysis is not None and not result.has_errors, result.findings
    return result.analysis


def row(theme: str, category: str, rationale: str = "ok") -> dict[str, str]:
    return {
        "theme": theme,
        "source_a": "interviews",
        "source_b": "survey",
        "category": category,
        "rationale": rationale,
    }


def sentences(text: str) -> list[str]:
    return [s.strip() for s in text.replace("e.g.", "eg").split(". ") if s.strip()]


def test_no_reviewers(builder: ProjectBuilder) -> None:
    a = analysis(project(builder))
    text = methods_paragraph(a)
    assert "Blebu BE" in text and "Qual Health Res. 2006" in text  # citation and based_on
    assert "No researcher reviewed the units" in text
    assert "independently" not in text and "discussed" not in text and "adjudicated" not in text
    assert "Of the 3 units, all 3 remain the rule's proposal, unreviewed" in text
    assert "proposals, not findings" in text
    assert "full_agreement" not in text and "t1" not in text  # labels, never ids
    md = render_markdown(build_report(a))
    assert md.index("Draft: 3 of 3 units") < md.index("## ")  # at the top
    assert "rule's proposal" in md.split("\n## ", 1)[0]


def test_reviewers_who_coded_nothing(builder: ProjectBuilder) -> None:
    root = project(builder, reviewers=["r1", "r2", "r3"], worksheets={"r1": [], "r2": [], "r3": []})
    text = methods_paragraph(analysis(root))
    assert (
        "Three researchers were named as reviewers, but none of the 3 units had been coded" in text
    )
    assert "independently" not in text and "coded 0" not in text
    assert "percent agreement" not in text and "kappa" not in text  # nothing to compare
    assert "Of the 3 units, all 3 remain the rule's proposal, unreviewed" in text


def test_one_reviewer(builder: ProjectBuilder) -> None:
    root = project(builder, reviewers=["r1"], worksheets={"r1": [row("t1", "full_agreement")]})
    text = methods_paragraph(analysis(root))
    assert "One researcher coded 1 of the 3 units" in text
    assert "independently" not in text and "kappa" not in text
    assert "Of the 3 units, 1 has a reviewed category" in text
    assert "Two units remain the rule's proposal, unreviewed" in text


def test_two_reviewers_disputes_settled_by_a_third_person(builder: ProjectBuilder) -> None:
    root = project(
        builder,
        reviewers=["r1", "r2"],
        worksheets={
            "r1": [
                row("t1", "full_agreement"),
                row("t2", "partial_agreement"),
                row("t3", "silence"),
            ],
            "r2": [row("t1", "full_agreement"), row("t2", "disagreement"), row("t3", "silence")],
        },
        decisions=[
            {
                "theme": "t2",
                "source_a": "interviews",
                "source_b": "survey",
                "category": "partial_agreement",
                "rationale": "Mechanism differs.",
                "decided_by": "carol",
                "decided_at": "2024-01-01T00:00:00Z",
            }
        ],
    )
    a = analysis(root)
    text = methods_paragraph(a)
    assert "Two researchers coded units independently, blind to the rule's proposal" in text
    assert "every unit was coded by both" in text
    assert "over the 2 units present in both sources" in text
    assert "(n=2)" in text and "(n=3)" in text  # each statistic with its n, both scopes
    assert "One unit was adjudicated (by carol), settling the disputed unit." in text
    assert "not by a third person" not in text
    assert "discussed" not in text
    assert "all 3 have a reviewed category" in text
    assert "Draft" not in render_markdown(build_report(a))


def test_a_dispute_settled_by_one_of_the_disputants(builder: ProjectBuilder) -> None:
    root = project(
        builder,
        reviewers=["r1", "r2"],
        worksheets={
            "r1": [row("t2", "partial_agreement")],
            "r2": [row("t2", "disagreement")],
        },
        decisions=[
            {
                "theme": "t2",
                "source_a": "interviews",
                "source_b": "survey",
                "category": "partial_agreement",
                "rationale": "Mechanism differs.",
                "decided_by": "r1",
                "decided_at": "2024-01-01T00:00:00Z",
            }
        ],
    )
    a = analysis(root)
    text = methods_paragraph(a)
    assert (
        "That decision was made by one of the researchers who disagreed on the unit, not by a third person."
        in text
    )
    # both disputants deciding together is not flagged
    (root / "decisions.jsonl").write_text(
        json.dumps(
            {
                "theme": "t2",
                "source_a": "interviews",
                "source_b": "survey",
                "category": "partial_agreement",
                "rationale": "Agreed together.",
                "decided_by": "r1 + r2",
                "decided_at": "2024-01-02T00:00:00Z",
            }
        )
        + "\n",
        encoding="utf-8",
    )
    assert "third person" not in methods_paragraph(analysis(root))


def test_custom_step_rendered_with_narrative_or_nothing_recorded(builder: ProjectBuilder) -> None:
    root = project(builder, protocol="farmer-2006")
    root = project(builder)
    pf = root / "triangulate.yaml"
    pf.write_text(
        pf.read_text(encoding="utf-8").replace("blebu-2023", "farmer-2006"), encoding="utf-8"
    )
    a = analysis(root)
    md = render_markdown(build_report(a))
    assert "## Feedback" in md
    assert "Nothing was recorded for this step" in md.split("## Feedback", 1)[1]
    pf.write_text(pf.read_text(encoding="utf-8") + "narrative: narrative.yaml\n", encoding="utf-8")
    (root / "narrative.yaml").write_text(
        "feedback: We shared the matrix with the partners in March.\n"
        "completeness_comparison: The survey asked nothing about tracking.\n",
        encoding="utf-8",
    )
    md = render_markdown(build_report(analysis(root)))
    assert "We shared the matrix with the partners in March." in md.split("## Feedback", 1)[1]
    assert "The survey asked nothing about tracking." in md


def test_step4_per_research_question_and_measured_zero(builder: ProjectBuilder) -> None:
    root = project(builder)
    cb = root / "codebook.yaml"
    text = cb.read_text(encoding="utf-8")
    text = text.replace(
        "  label: Point of contact\n", "  label: Point of contact\n  questions: [rq1]\n"
    )
    text = text.replace("  label: Tracking\n", "  label: Tracking\n  questions: [rq1]\n")
    text = text.replace("  label: Meetings\n", "  label: Meetings\n  questions: [rq2]\n")
    text += "questions:\n- {id: rq1, text: 'What helps referrals?'}\n- {id: rq2, text: 'How do partners meet?'}\n"
    cb.write_text(text, encoding="utf-8")
    a = analysis(root)
    md = render_markdown(build_report(a))
    step4 = md.split("Completeness", 1)[1]
    assert "### What helps referrals?" in step4 and "### How do partners meet?" in step4
    rq1 = step4.split("### What helps referrals?", 1)[1].split("###", 1)[0]
    # Tracking: asked in the survey, nobody endorsed it: measured at 0%, never "silent"
    assert "| Tracking | yes | measured at 0% | 1 |" in rq1
    assert "Only Staff interviews contributes: Tracking" in rq1
    assert "Shared by every source: Point of contact" in rq1
    assert "silent" not in step4.split("## ", 1)[0].lower()


def test_broken_variant_rule_category_inconsistent_with_judgements(builder: ProjectBuilder) -> None:
    """A category the rule cannot give for the row's judgements: exit 1, located in the worksheet."""
    import contextlib
    import io

    from triangulate.cli import main

    root = project(
        builder,
        reviewers=["r1"],
        worksheets={
            "r1": [
                {
                    "theme": "t1",
                    "source_a": "interviews",
                    "source_b": "survey",
                    "substance": "yes",
                    "mechanism": "yes",
                    "category": "disagreement",
                    "rationale": "x",
                }
            ]
        },
    )
    out, err = io.StringIO(), io.StringIO()
    code: Any = None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            main(["validate", str(root), "--format", "json"])
        except SystemExit as exc:
            code = exc.code
    assert code == 1
    doc = json.loads(out.getvalue())
    items = doc["findings"] if isinstance(doc, dict) else doc
    (f,) = [x for x in items if x["code"] == "review.rule-conflict"]
    assert f["location"]["file"].endswith("reviews/r1.csv") and f["location"]["row"] == 2
