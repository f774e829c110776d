"""Spec sections 7, 8 and 9: reviewer worksheets, the decisions log, and each unit's final status."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from conftest import ProjectBuilder, excerpt, read_csv, survey, write_csv
from triangulate.findings import CODES, Finding
from triangulate.outputs.report import build_report, render_markdown
from triangulate.outputs.tabular import summary, summary_json
from triangulate.outputs.write import write_matrix
from triangulate.pipeline import PipelineResult, analyse_path
from triangulate.project.loading import load_project
from triangulate.review.worksheets import write_blank_worksheets

INTERVIEWS = {"id": "interviews", "kind": "excerpts", "path": "data/interviews.csv"}
SURVEY = {"id": "survey", "kind": "survey", "path": "data/survey.csv"}
KEY = ("interviews", "survey")


def analyse(root: Path) -> PipelineResult:
    result = analyse_path(root)
    assert result.analysis is not None, [str(f) for f in result.findings]
    return result


def found(result: PipelineResult, code: str) -> list[Finding]:
    assert code in CODES, code
    return [f for f in result.findings if f.code == code]


def row(
    theme: str,
    category: str = "",
    substance: str = "",
    mechanism: str = "",
    rationale: str = "",
    a: str = "interviews",
    b: str = "survey",
) -> dict[str, str]:
    return {
        "theme": theme,
        "source_a": a,
        "source_b": b,
        "substance": substance,
        "mechanism": mechanism,
        "category": category,
        "rationale": rationale,
    }


def decision(
    theme: str,
    category: str,
    rationale: str = "",
    by: str = "lead",
    at: str = "2024-01-01T00:00:00+00:00",
    a: str = "interviews",
    b: str = "survey",
) -> dict[str, str]:
    return {
        "theme": theme,
        "source_a": a,
        "source_b": b,
        "category": category,
        "rationale": rationale,
        "decided_by": by,
        "decided_at": at,
    }


def project(
    builder: ProjectBuilder,
    themes: list[str],
    *,
    one_source: tuple[str, ...] = (),
    untagged: tuple[str, ...] = (),
    extra_themes: list[dict[str, Any]] | None = None,
    reviewers: list[str] | None = None,
    worksheets: dict[str, list[dict[str, Any]]] | None = None,
    decisions: list[dict[str, Any]] | None = None,
) -> Path:
    """Each theme present in both sources with meeting tags (proposal full_agreement), except:
    ``one_source`` themes only in the interviews (proposal silence), ``untagged`` themes whose survey
    row lacks mechanism tags (no proposal)."""
    irows, srows = [], []
    for t in themes:
        irows.append(excerpt(f"E-{t}", "P1", f"i-{t}", "barrier", "trust"))
        if t in one_source:
            continue
        srows.append(
            survey(
                f"s-{t}",
                10,
                endorsed=5,
                substance="barrier",
                mechanism="" if t in untagged else "trust",
            )
        )
    cb = [{"id": t, "codes": {"interviews": [f"i-{t}"], "survey": [f"s-{t}"]}} for t in themes]
    srows.append(survey("s-filler", 10, endorsed=1))  # keeps the survey non-empty
    cb.append({"id": "filler", "codes": {"survey": ["s-filler"]}})
    cb += extra_themes or []
    return builder.write(
        sources=[INTERVIEWS, SURVEY],
        themes=cb,
        data={"interviews": irows, "survey": srows},
        reviewers=reviewers,
        worksheets=worksheets,
        decisions=decisions,
    )


# ---------------------------------------------------------------------------- section 9: precedence

STATUS_THEMES = [
    "t_adj",
    "t_override",
    "t_agreed",
    "t_single",
    "t_disputed",
    "t_proposed",
    "t_uncoded",
    "t_silence",
]


@pytest.fixture
def statuses(builder: ProjectBuilder) -> PipelineResult:
    root = project(
        builder,
        STATUS_THEMES,
        one_source=("t_silence",),
        untagged=("t_uncoded",),
        reviewers=["r1", "r2"],
        worksheets={
            "r1": [
                row("t_adj", "full_agreement", rationale="r1 adj"),
                row("t_override", "full_agreement"),
                row(
                    "t_agreed", substance="yes", mechanism="yes", rationale="Both say so."
                ),  # rule -> full
                row("t_single", "disagreement", rationale="Only me."),
                row("t_disputed", "full_agreement", rationale="Same."),
                row("t_proposed"),  # blank row: not coded yet
                row("t_silence", substance="yes", mechanism="yes"),  # judgements ignored -> silence
            ],
            "r2": [
                row("t_adj", "partial_agreement", rationale="r2 adj"),
                row("t_override", "full_agreement"),
                row("t_agreed", "full_agreement", rationale="Agree."),
                row("t_single"),  # not coded
                row("t_disputed", "partial_agreement", rationale="Not quite."),
                row("t_silence", "silence", rationale="Survey is silent."),
            ],
        },
        decisions=[
            decision("t_adj", "full_agreement", "first thought", at="2024-05-01T00:00:00+00:00"),
            decision("t_override", "partial_agreement", "Mechanism differs after all."),
            # a later line supersedes the earlier one, whatever its decided_at says
            decision(
                "t_adj",
                "disagreement",
                "Neither dimension lines up.",
                at="2024-01-01T00:00:00+00:00",
            ),
        ],
    )
    return analyse(root)


@pytest.mark.parametrize(
    ("theme", "final", "status"),
    [
        ("t_adj", "disagreement", "adjudicated"),  # the latest decision, not the first one
        (
            "t_override",
            "partial_agreement",
            "adjudicated",
        ),  # a decision beats two agreeing reviewers
        ("t_agreed", "full_agreement", "agreed"),  # r1's rule-derived full = r2's written full
        ("t_single", "disagreement", "single"),  # one reviewer; beats the proposal (full)
        ("t_disputed", None, "disputed"),
        ("t_proposed", "full_agreement", "proposed"),
        ("t_uncoded", None, "uncoded"),
        ("t_silence", "silence", "agreed"),
    ],
)
def test_final_and_status(
    statuses: PipelineResult, theme: str, final: str | None, status: str
) -> None:
    unit = statuses.analysis.unit(theme, *KEY)  # type: ignore[union-attr]
    assert unit is not None
    assert (unit.final, unit.status) == (final, status)


def test_status_run_has_no_errors(statuses: PipelineResult) -> None:
    assert not statuses.has_errors, [str(f) for f in statuses.findings]
    # the only reviewer finding: r1's judgements on a one-source unit
    review = [f for f in statuses.findings if f.code.startswith(("review.", "decisions."))]
    assert [f.code for f in review] == ["review.judgement-ignored"]


def test_rationale_is_the_decisions_when_adjudicated_else_reviewers_joined(
    statuses: PipelineResult, tmp_path: Path
) -> None:
    a = statuses.analysis
    assert a is not None
    (path,) = write_matrix(a, tmp_path / "out")
    rows = {r["theme"]: r for r in read_csv(path)}
    assert list(next(iter(rows.values()))) == [
        "theme",
        "group",
        "source_a",
        "source_b",
        "proposed",
        "r1",
        "r2",
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
    assert rows["t_adj"]["rationale"] == "Neither dimension lines up."
    assert rows["t_override"]["rationale"] == "Mechanism differs after all."
    assert rows["t_agreed"]["rationale"] == "r1: Both say so. | r2: Agree."
    assert rows["t_disputed"]["rationale"] == "r1: Same. | r2: Not quite."
    assert rows["t_single"]["rationale"] == "r1: Only me."
    assert rows["t_silence"]["rationale"] == "r2: Survey is silent."  # r1 wrote none
    assert rows["t_proposed"]["rationale"] == ""
    # reviewer columns hold each reviewer's category (written or given by the rule)
    assert (rows["t_agreed"]["r1"], rows["t_agreed"]["r2"]) == ("full_agreement", "full_agreement")
    assert (rows["t_single"]["r1"], rows["t_single"]["r2"]) == ("disagreement", "")
    assert (rows["t_silence"]["r1"], rows["t_silence"]["r2"]) == ("silence", "silence")
    assert (rows["t_disputed"]["final"], rows["t_disputed"]["status"]) == ("", "disputed")
    assert (rows["t_uncoded"]["proposed"], rows["t_uncoded"]["final"]) == ("", "")


def test_summary_json_counts_statuses_disputed_uncoded(statuses: PipelineResult) -> None:
    a = statuses.analysis
    assert a is not None
    doc = json.loads(summary_json(a))
    assert doc["protocol"] == "blebu-2023"
    # 8 status themes + the one-source 'filler' theme (survey only, proposal silence) = 9 units
    assert doc["units"] == 9
    # finals: full = t_agreed, t_proposed (2); partial = t_override (1);
    # disagreement = t_adj, t_single (2); silence = t_silence, filler (2); none: t_disputed, t_uncoded
    assert doc["counts"] == {
        "full_agreement": 2,
        "partial_agreement": 1,
        "disagreement": 2,
        "silence": 2,
    }
    assert doc["statuses"] == {
        "adjudicated": 2,  # t_adj, t_override
        "agreed": 2,  # t_agreed, t_silence
        "single": 1,  # t_single
        "disputed": 1,  # t_disputed
        "proposed": 2,  # t_proposed, filler
        "uncoded": 1,  # t_uncoded
    }
    assert (doc["disputed"], doc["uncoded"]) == (1, 1)
    assert doc["agreement"] is not None and doc["agreement"]["reviewers"] == ["r1", "r2"]


def test_summary_lists_every_category_even_at_zero(builder: ProjectBuilder) -> None:
    a = analyse(project(builder, ["t1"])).analysis
    assert a is not None
    s = summary(a)
    # t1 full (proposal); filler silence; nothing partial or disagreement
    assert s["counts"] == {
        "full_agreement": 1,
        "partial_agreement": 0,
        "disagreement": 0,
        "silence": 1,
    }
    assert s["statuses"] == {
        "adjudicated": 0,
        "agreed": 0,
        "single": 0,
        "disputed": 0,
        "proposed": 2,
        "uncoded": 0,
    }
    assert s["agreement"] is None


def test_three_reviewers_all_same_is_agreed_one_off_is_disputed(builder: ProjectBuilder) -> None:
    root = project(
        builder,
        ["same", "split"],
        reviewers=["r1", "r2", "r3"],
        worksheets={
            "r1": [row("same", "partial_agreement"), row("split", "full_agreement")],
            "r2": [row("same", "partial_agreement"), row("split", "full_agreement")],
            "r3": [
                row("same", substance="no", mechanism="yes"),
                row("split", "disagreement"),
            ],  # rule: partial
        },
    )
    a = analyse(root).analysis
    assert a is not None
    assert (a.unit("same", *KEY).final, a.unit("same", *KEY).status) == (
        "partial_agreement",
        "agreed",
    )  # type: ignore[union-attr]
    assert (a.unit("split", *KEY).final, a.unit("split", *KEY).status) == (None, "disputed")  # type: ignore[union-attr]


def test_two_of_three_reviewers_coding_alike_is_agreed(builder: ProjectBuilder) -> None:
    root = project(
        builder,
        ["t"],
        reviewers=["r1", "r2", "r3"],
        worksheets={
            "r1": [row("t", "disagreement")],
            "r2": [row("t", "disagreement")],
            "r3": [row("t")],
        },
    )
    unit = analyse(root).analysis.unit("t", *KEY)  # type: ignore[union-attr]
    assert (unit.final, unit.status) == ("disagreement", "agreed")  # type: ignore[union-attr]


def test_report_not_collected_count_is_of_final_silences(builder: ProjectBuilder) -> None:
    # 'nc' is only in the interviews and the survey could not collect it (proposal silence, marked
    # not_collected), but the reviewer decided otherwise; 'plain' is an ordinary silence.
    root = project(
        builder,
        ["nc", "plain"],
        one_source=("nc", "plain"),
        reviewers=["r1"],
        worksheets={"r1": [row("nc", "partial_agreement")]},
    )
    (root / "codebook.yaml").write_text(
        (root / "codebook.yaml")
        .read_text(encoding="utf-8")
        .replace("- id: nc\n", "- id: nc\n  not_collected: [survey]\n"),
        encoding="utf-8",
    )
    a = analyse(root).analysis
    assert a is not None
    assert a.unit("nc", *KEY).note == "not_collected"  # type: ignore[union-attr]
    md = render_markdown(build_report(a))
    # one-source units by kind: nc (not collected), plain and filler; 'nc' ended partial, so only
    # the other two ended as silence
    assert "Of the 3 units present in one source only (1 not collected" in md
    assert "2 ended as Silence" in md


# ---------------------------------------------------------------------------- section 7: worksheets


def ws_project(builder: ProjectBuilder, rows: list[dict[str, str]], **kw: Any) -> PipelineResult:
    root = project(
        builder,
        ["t1", "t2", "t3", "t4", "solo"],
        one_source=("solo",),
        extra_themes=[{"id": "nowhere", "codes": {}}],  # a known theme that is no unit at all
        reviewers=["r1"],
        worksheets={"r1": rows},
        **kw,
    )
    return analyse_path(root)


@pytest.mark.parametrize(
    ("substance", "mechanism", "category"),
    [
        ("yes", "yes", "full_agreement"),  # every dimension converges -> all
        ("yes", "no", "partial_agreement"),  # some
        ("no", "yes", "partial_agreement"),  # some
        ("no", "no", "disagreement"),  # none
    ],
)
def test_category_derived_from_judgements(
    builder: ProjectBuilder, substance: str, mechanism: str, category: str
) -> None:
    result = ws_project(builder, [row("t1", substance=substance, mechanism=mechanism)])
    assert not result.has_errors
    code = result.analysis.unit("t1", *KEY).codes["r1"]  # type: ignore[union-attr]
    assert code is not None and code.category == category and code.derived is True
    assert code.judgements == {"substance": substance == "yes", "mechanism": mechanism == "yes"}
    assert result.analysis.unit("t1", *KEY).final == category  # type: ignore[union-attr]


def test_category_agreeing_with_judgements_is_accepted(builder: ProjectBuilder) -> None:
    result = ws_project(
        builder,
        [
            row("t1", "partial_agreement", substance="yes", mechanism="no"),
            row(
                "t2", "partial_agreement", substance="yes"
            ),  # mechanism not judged: partial or full possible
            row("t3", "disagreement"),  # category alone
        ],
    )
    assert not result.has_errors
    assert not [f for f in result.findings if f.code.startswith("review.")]
    a = result.analysis
    assert a is not None
    assert a.unit("t1", *KEY).codes["r1"].derived is False  # type: ignore[union-attr]
    assert [a.unit(t, *KEY).final for t in ("t1", "t2", "t3")] == [
        "partial_agreement",
        "partial_agreement",
        "disagreement",
    ]  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("substance", "mechanism", "category"),
    [
        ("yes", "yes", "disagreement"),  # rule gives full
        ("no", "no", "partial_agreement"),  # rule gives disagreement
        ("yes", "no", "full_agreement"),  # rule gives partial
        # v2: ("yes", "", "disagreement") is consistent: mechanism=no would make the conflict
        # category (disagreement) possible. The one-source category never fits judgements:
        ("yes", "", "silence"),
    ],
)
def test_rule_conflict_is_an_error(
    builder: ProjectBuilder, substance: str, mechanism: str, category: str
) -> None:
    result = ws_project(builder, [row("t1", category, substance=substance, mechanism=mechanism)])
    (f,) = found(result, "review.rule-conflict")
    assert f.is_error and result.has_errors
    assert (f.location.file, f.location.row, f.location.field) == ("reviews/r1.csv", 2, "category")


def test_one_source_unit_judgements_are_ignored_with_a_warning(builder: ProjectBuilder) -> None:
    result = ws_project(
        builder, [row("solo", substance="yes", mechanism="no", rationale="Looks alike.")]
    )
    (f,) = found(result, "review.judgement-ignored")
    assert not f.is_error and not result.has_errors
    unit = result.analysis.unit("solo", *KEY)  # type: ignore[union-attr]
    assert unit.one_source  # type: ignore[union-attr]
    # with an empty category the row means the one_source category
    assert unit.codes["r1"].category == "silence"  # type: ignore[union-attr]
    assert (unit.final, unit.status) == ("silence", "single")  # type: ignore[union-attr]


def test_one_source_unit_with_category_only_has_no_warning(builder: ProjectBuilder) -> None:
    result = ws_project(builder, [row("solo", "silence")])
    assert not [f for f in result.findings if f.code.startswith("review.")]
    assert result.analysis.unit("solo", *KEY).status == "single"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("bad_row", "code", "field"),
    [
        (row("no_such_theme", "silence"), "review.unknown-theme", "theme"),
        (row("t1", "silence", b="no_such_source"), "review.unknown-source", "source_b"),
        (row("t1", "silence", a="nobody"), "review.unknown-source", "source_a"),
        (row("t1", "strong_agreement"), "review.unknown-category", "category"),
        (row("t1", substance="maybe", mechanism="yes"), "review.bad-judgement", "substance"),
        (row("t1", substance="yes", mechanism="1"), "review.bad-judgement", "mechanism"),
    ],
)
def test_bad_worksheet_values_are_errors(
    builder: ProjectBuilder, bad_row: dict[str, str], code: str, field: str
) -> None:
    result = ws_project(builder, [row("t2", "full_agreement"), bad_row])
    (f,) = found(result, code)
    assert f.is_error and result.has_errors
    # the bad row is the second data row: row 3 of the sheet
    assert (f.location.file, f.location.row, f.location.field) == ("reviews/r1.csv", 3, field)


def test_row_for_a_known_theme_that_is_not_a_unit_is_a_warning(builder: ProjectBuilder) -> None:
    result = ws_project(builder, [row("nowhere", "silence"), row("t1", "full_agreement")])
    (f,) = found(result, "review.not-a-unit")
    assert not f.is_error and not result.has_errors
    assert f.location.row == 2
    assert result.analysis.unit("t1", *KEY).status == "single"  # type: ignore[union-attr]


@pytest.mark.parametrize("reverse", [False, True])
def test_two_rows_for_one_unit_are_an_error(builder: ProjectBuilder, reverse: bool) -> None:
    second = (
        row("t1", "full_agreement", a="survey", b="interviews")
        if reverse
        else row("t1", "full_agreement")
    )
    result = ws_project(builder, [row("t1", "full_agreement"), row("t2", "disagreement"), second])
    (f,) = found(result, "review.duplicate-unit")
    assert f.is_error and result.has_errors
    assert f.location.row == 4


def test_judgements_are_read_without_regard_to_case_or_spaces(builder: ProjectBuilder) -> None:
    # Spreadsheets capitalise the first letter of a cell ("Yes"); that is still yes.
    result = ws_project(builder, [row("t1", substance="Yes", mechanism=" NO ")])
    assert not result.has_errors
    assert result.analysis.unit("t1", *KEY).codes["r1"].category == "partial_agreement"  # type: ignore[union-attr]


def test_some_dimensions_judged_without_category_is_a_warning_and_not_coded(
    builder: ProjectBuilder,
) -> None:
    result = ws_project(builder, [row("t1", substance="yes")])
    (f,) = found(result, "review.incomplete")
    assert not f.is_error and not result.has_errors
    unit = result.analysis.unit("t1", *KEY)  # type: ignore[union-attr]
    assert unit.codes["r1"] is None and unit.status == "proposed"  # type: ignore[union-attr]


def test_blank_row_means_not_coded(builder: ProjectBuilder) -> None:
    result = ws_project(builder, [row("t1", rationale="will do later")])
    assert not result.has_errors
    unit = result.analysis.unit("t1", *KEY)  # type: ignore[union-attr]
    assert unit.codes["r1"] is None  # type: ignore[union-attr]
    assert (unit.final, unit.status) == ("full_agreement", "proposed")  # type: ignore[union-attr]


def test_blank_worksheet_lists_every_unit_and_is_never_overwritten(builder: ProjectBuilder) -> None:
    root = project(builder, ["t1", "solo"], one_source=("solo",), reviewers=["r1", "r2"])
    loaded = load_project(root)
    assert loaded.project is not None
    a = analyse(root).analysis
    assert a is not None
    mine = root / "reviews" / "r2.csv"
    write_csv(mine, [row("t1", "disagreement", rationale="mine")])
    before = mine.read_bytes()
    written = write_blank_worksheets(loaded.project, a.units)
    assert written == [root / "reviews" / "r1.csv"]
    assert (root / "reviews" / "r1.csv").read_text(encoding="utf-8") == (
        "theme,source_a,source_b,substance,mechanism,category,rationale\n"
        "t1,interviews,survey,,,,\n"
        "solo,interviews,survey,,,,\n"
        "filler,interviews,survey,,,,\n"
    )
    assert mine.read_bytes() == before
    # a second call writes nothing at all
    r1 = (root / "reviews" / "r1.csv").read_bytes()
    assert write_blank_worksheets(loaded.project, a.units) == []
    assert (root / "reviews" / "r1.csv").read_bytes() == r1 and mine.read_bytes() == before


def test_blank_worksheet_reads_back_as_nothing_coded(builder: ProjectBuilder) -> None:
    root = project(builder, ["t1"], reviewers=["r1"])
    loaded = load_project(root)
    assert loaded.project is not None
    write_blank_worksheets(loaded.project, analyse(root).analysis.units)  # type: ignore[union-attr]
    result = analyse(root)
    assert not [f for f in result.findings if f.code.startswith("review.")]
    assert all(u.status == "proposed" for u in result.analysis.units)  # type: ignore[union-attr]


# ---------------------------------------------------------------------------- section 8: decisions


def write_decisions(root: Path, text: str) -> None:
    (root / "decisions.jsonl").write_text(text, encoding="utf-8")


def dec_line(theme: str, category: str, rationale: str = "") -> str:
    return json.dumps(decision(theme, category, rationale)) + "\n"


def test_latest_decision_wins_and_all_are_kept(builder: ProjectBuilder) -> None:
    root = project(builder, ["t1", "t2"])
    write_decisions(
        root,
        dec_line("t1", "disagreement", "first")
        + dec_line("t2", "silence", "other unit")
        + dec_line("t1", "partial_agreement", "second")
        + "\n"  # a blank line is harmless
        + dec_line("t1", "full_agreement", "third"),
    )
    result = analyse(root)
    assert not result.findings or not [
        f for f in result.findings if f.code.startswith("decisions.")
    ]
    unit = result.analysis.unit("t1", *KEY)  # type: ignore[union-attr]
    assert [d.category for d in unit.decisions] == [
        "disagreement",
        "partial_agreement",
        "full_agreement",
    ]  # type: ignore[union-attr]
    assert (unit.final, unit.status, unit.rationale) == ("full_agreement", "adjudicated", "third")  # type: ignore[union-attr]
    assert unit.decision.line == 5  # type: ignore[union-attr]


def test_decision_with_sources_in_the_other_order_applies_to_the_unit(
    builder: ProjectBuilder,
) -> None:
    root = project(builder, ["t1"])
    write_decisions(
        root, json.dumps(decision("t1", "disagreement", a="survey", b="interviews")) + "\n"
    )
    unit = analyse(root).analysis.unit("t1", *KEY)  # type: ignore[union-attr]
    assert (unit.final, unit.status) == ("disagreement", "adjudicated")  # type: ignore[union-attr]


def test_decision_with_unknown_category_is_an_error(builder: ProjectBuilder) -> None:
    root = project(builder, ["t1"])
    write_decisions(
        root, dec_line("t1", "disagreement") + dec_line("t1", "agreement")
    )  # a farmer-2006 id
    result = analyse_path(root)
    (f,) = found(result, "decisions.unknown-category")
    assert f.is_error and result.has_errors
    assert (f.location.file, f.location.line) == ("decisions.jsonl", 2)


def test_decision_for_a_unit_that_no_longer_exists_is_a_warning(builder: ProjectBuilder) -> None:
    root = project(builder, ["t1"], extra_themes=[{"id": "gone", "codes": {}}])
    write_decisions(
        root,
        dec_line("gone", "silence")
        + dec_line("deleted_theme", "silence")
        + dec_line("t1", "silence"),
    )
    result = analyse(root)
    got = found(result, "decisions.not-a-unit")
    assert [f.location.line for f in got] == [1, 2]
    assert all(not f.is_error for f in got) and not result.has_errors
    assert result.analysis.unit("t1", *KEY).final == "silence"  # type: ignore[union-attr]


def test_cut_short_last_line_is_a_warning_and_earlier_decisions_stay(
    builder: ProjectBuilder,
) -> None:
    root = project(builder, ["t1", "t2"])
    write_decisions(
        root,
        dec_line("t1", "disagreement", "kept")
        + dec_line("t2", "partial_agreement", "kept too")
        + '{"theme": "t1", "source_a": "interviews", "source_b": "sur',  # the crash: no end, no newline
    )
    result = analyse(root)
    (f,) = found(result, "decisions.truncated-line")
    assert not f.is_error and not result.has_errors
    assert (f.location.file, f.location.line) == ("decisions.jsonl", 3)
    a = result.analysis
    assert a is not None
    assert (a.unit("t1", *KEY).final, a.unit("t1", *KEY).rationale) == ("disagreement", "kept")  # type: ignore[union-attr]
    assert a.unit("t2", *KEY).final == "partial_agreement"  # type: ignore[union-attr]


def test_cut_short_line_followed_by_a_later_decision_is_still_only_a_warning(
    builder: ProjectBuilder,
) -> None:
    # After a crash the next append starts on a fresh line, so the cut-short line ends up inside.
    root = project(builder, ["t1"])
    write_decisions(
        root,
        dec_line("t1", "disagreement")
        + '{"theme": "t1", "categ\n'
        + dec_line("t1", "silence", "after"),
    )
    result = analyse(root)
    (f,) = found(result, "decisions.truncated-line")
    assert f.location.line == 2 and not result.has_errors
    assert result.analysis.unit("t1", *KEY).final == "silence"  # type: ignore[union-attr]


def test_garbage_line_in_the_middle_is_an_error(builder: ProjectBuilder) -> None:
    root = project(builder, ["t1"])
    write_decisions(root, "not json at all\n" + dec_line("t1", "silence"))
    result = analyse_path(root)
    (f,) = found(result, "decisions.bad-line")
    assert f.is_error and f.location.line == 1
