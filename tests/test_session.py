"""The interactive walks as state machines, with no terminal and no files."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from conftest import ProjectBuilder, excerpt, survey
from triangulate.pipeline import analyse_path
from triangulate.protocol.analysis import Analysis, Decision
from triangulate.review.session import (
    Back,
    Code,
    CodingSession,
    Decide,
    Quit,
    ReviewSession,
    SessionError,
    Skip,
    select_for_review,
)

SOURCES = [
    {"id": "interviews", "kind": "excerpts", "path": "data/interviews.csv"},
    {"id": "survey", "kind": "survey", "path": "data/survey.csv"},
]
THEMES = [
    {"id": "alpha", "label": "Alpha", "codes": {"interviews": ["a"], "survey": ["a-item"]}},
    {"id": "beta", "label": "Beta", "codes": {"interviews": ["b"], "survey": ["b-item"]}},
    {"id": "gamma", "label": "Gamma", "codes": {"interviews": ["g"]}},
]
DATA = {
    "interviews": [
        excerpt("E1", "P1", "a", "x", "m"),
        excerpt("E2", "P2", "b", "y", "n"),
        excerpt("E3", "P1", "g", "z", "o"),
    ],
    "survey": [
        survey("a-item", 10, 5, substance="x", mechanism="m"),
        survey("b-item", 10, 2, substance="y", mechanism="q"),
    ],
}


def row(theme: str, category: str = "", s: str = "", m: str = "", why: str = "") -> dict[str, str]:
    return {
        "theme": theme,
        "source_a": "interviews",
        "source_b": "survey",
        "substance": s,
        "mechanism": m,
        "category": category,
        "rationale": why,
    }


def analysed(builder: ProjectBuilder, **kw: object) -> Analysis:
    root = builder.write(sources=SOURCES, themes=THEMES, data=DATA, reviewers=["r1", "r2"], **kw)  # type: ignore[arg-type]
    result = analyse_path(root)
    assert result.analysis is not None, result.findings
    assert not result.has_errors, result.findings
    return result.analysis


def test_coding_starts_at_first_uncoded_unit_and_derives_from_the_rule(
    builder: ProjectBuilder,
) -> None:
    a = analysed(builder, worksheets={"r1": [row("alpha", "full_agreement")]})
    s = CodingSession(a.units, "r1", a.project.protocol)
    assert s.current is not None and s.current.theme.id == "beta"  # alpha is already coded by r1
    out = s.apply(Code({"substance": True, "mechanism": False}, None, " mixed "))
    assert out is not None
    assert (out.theme, out.category, out.rationale) == ("beta", "partial_agreement", "mixed")
    assert out.judgements == {"substance": True, "mechanism": False}
    assert s.current is not None and s.current.theme.id == "gamma"


def test_coding_rejects_a_category_that_contradicts_the_judgements(builder: ProjectBuilder) -> None:
    a = analysed(builder)
    s = CodingSession(a.units, "r1", a.project.protocol)
    with pytest.raises(SessionError, match="partial_agreement"):
        s.apply(Code({"substance": True, "mechanism": False}, "full_agreement", ""))
    assert s.current is not None and s.current.theme.id == "alpha"  # nothing moved
    with pytest.raises(SessionError):
        s.apply(Code({"substance": True}, None, ""))  # half-judged and no category
    with pytest.raises(SessionError):
        s.apply(Code({}, "no_such_category", ""))


def test_one_source_unit_ignores_judgements_and_defaults_to_silence(
    builder: ProjectBuilder,
) -> None:
    a = analysed(builder)
    s = CodingSession(a.units, "r1", a.project.protocol)
    s.apply(Skip())
    s.apply(Skip())
    assert s.current is not None and s.current.theme.id == "gamma"
    out = s.apply(Code({"substance": True, "mechanism": True}, None, ""))
    assert out is not None and out.category == "silence"
    assert out.judgements == {"substance": None, "mechanism": None}


def test_skip_back_quit(builder: ProjectBuilder) -> None:
    a = analysed(builder)
    s = CodingSession(a.units, "r1", a.project.protocol)
    assert s.remaining == 3
    s.apply(Skip())
    assert s.current is not None and s.current.theme.id == "beta"
    s.apply(Back())
    assert s.current is not None and s.current.theme.id == "alpha"
    s.apply(Back())  # at the start: stays
    assert s.current is not None and s.current.theme.id == "alpha"
    s.apply(Quit())
    assert s.current is None and s.remaining == 3
    with pytest.raises(SessionError):
        s.apply(Code({}, "silence", ""))


def test_coding_everything_ends_the_walk(builder: ProjectBuilder) -> None:
    a = analysed(builder)
    s = CodingSession(a.units, "r1", a.project.protocol)
    rows = [s.apply(Code({}, "silence", "")) for _ in range(3)]
    assert [r.theme for r in rows if r] == ["alpha", "beta", "gamma"]
    assert s.current is None and s.remaining == 0


def test_review_walks_disputed_units_and_resumes_after_decisions(builder: ProjectBuilder) -> None:
    sheets = {
        "r1": [
            row("alpha", "full_agreement"),
            row("beta", "partial_agreement"),
            row("gamma", "silence"),
        ],
        "r2": [
            row("alpha", "partial_agreement"),
            row("beta", "disagreement"),
            row("gamma", "silence"),
        ],
    }
    a = analysed(builder, worksheets=sheets)
    units = select_for_review(a.units, a.reviewers)
    assert [u.theme.id for u in units] == ["alpha", "beta"]  # gamma is agreed
    fixed = datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc)
    s = ReviewSession(units, "ada", a.project.protocol, clock=lambda: fixed)
    with pytest.raises(SessionError, match="rationale"):
        s.apply(Decide("partial_agreement", "   "))
    d = s.apply(Decide("partial_agreement", "mechanism differs"))
    assert isinstance(d, Decision)
    assert d.as_json() == {
        "theme": "alpha",
        "source_a": "interviews",
        "source_b": "survey",
        "category": "partial_agreement",
        "rationale": "mechanism differs",
        "decided_by": "ada",
        "decided_at": "2026-01-02T03:04:05+00:00",
    }
    assert s.current is not None and s.current.theme.id == "beta"

    # Restart after the first decision is on disk: the walk resumes at beta.
    root = builder.root
    with (root / "decisions.jsonl").open("a") as fh:
        import json

        fh.write(json.dumps(d.as_json()) + "\n")
    a2 = analyse_path(root).analysis
    assert a2 is not None
    units2 = select_for_review(a2.units, a2.reviewers)
    assert [u.theme.id for u in units2] == ["alpha", "beta"]  # still selected, alpha now decided
    s2 = ReviewSession(units2, "ada", a2.project.protocol)
    assert s2.current is not None and s2.current.theme.id == "beta"
    assert s2.remaining == 1
    s3 = ReviewSession(units2, "ada", a2.project.protocol, revise=True)
    assert s3.current is not None and s3.current.theme.id == "alpha"


def test_review_selection_options(builder: ProjectBuilder) -> None:
    a = analysed(builder)
    assert select_for_review(a.units, a.reviewers) == []  # nobody coded: nothing disputed
    assert [u.theme.id for u in select_for_review(a.units, a.reviewers, all_units=True)] == [
        "alpha",
        "beta",
        "gamma",
    ]
    assert [
        u.theme.id for u in select_for_review(a.units, a.reviewers, categories=["silence"])
    ] == ["gamma"]
    assert [u.theme.id for u in select_for_review(a.units, a.reviewers, themes=["beta"])] == [
        "beta"
    ]


def test_review_rejects_unknown_category(builder: ProjectBuilder, tmp_path: Path) -> None:
    a = analysed(builder)
    s = ReviewSession(a.units, "ada", a.project.protocol)
    with pytest.raises(SessionError):
        s.apply(Decide("agreement", "farmer's id, not blebu's"))
    with pytest.raises(SessionError):
        s.apply(Code({}, "silence", ""))


def test_worksheet_rows_saved_by_the_tool_are_formula_safe_and_read_back_intact(
    builder: ProjectBuilder,
) -> None:
    from triangulate.review.worksheets import save_worksheet_row

    a = analysed(builder)
    values = {
        "theme": "alpha",
        "source_a": "interviews",
        "source_b": "survey",
        "substance": "yes",
        "mechanism": "yes",
        "category": "full_agreement",
        "rationale": '=HYPERLINK("http://x")',
    }
    path = save_worksheet_row(a.project, a.units, "r1", values)
    raw = path.read_text()
    assert "'=HYPERLINK" in raw  # Excel shows it as text, never runs it
    again = analyse_path(builder.root).analysis
    assert again is not None
    code = again.units[0].codes["r1"]
    assert (
        code is not None
        and code.rationale == '=HYPERLINK("http://x")'
        and code.category == "full_agreement"
    )
    # The other units' blank rows are still there, untouched.
    assert [r.split(",")[0] for r in raw.splitlines()[1:]] == ["alpha", "beta", "gamma"]


def test_rationale_needs_three_non_space_characters_and_is_never_a_control_or_category(
    builder: ProjectBuilder,
) -> None:
    sheets = {
        "r1": [row("alpha", "full_agreement"), row("beta", "partial_agreement")],
        "r2": [row("alpha", "partial_agreement"), row("beta", "disagreement")],
    }
    a = analysed(builder, worksheets=sheets)
    units = select_for_review(a.units, a.reviewers)
    s = ReviewSession(units, "ada", a.project.protocol)
    for bad in ("b", "ok", " a b ", "q", "full_agreement", "quit", "back"):
        with pytest.raises(SessionError):
            s.apply(Decide("partial_agreement", bad))
    assert s.saved_now == 0 and s.current is not None and s.current.theme.id == "alpha"
    assert s.apply(Decide("partial_agreement", "a b c")) is not None  # three non-space characters

    c = CodingSession(a.units, "r3", a.project.protocol)
    for bad in ("b", "x", "disagreement", "skip"):
        with pytest.raises(SessionError):
            c.apply(Code({}, "disagreement", bad))
    assert c.apply(Code({}, "disagreement", "")) is not None  # a worksheet rationale is optional


def test_end_of_session_counts_after_back_redo_and_revise(builder: ProjectBuilder) -> None:
    sheets = {
        "r1": [row("alpha", "full_agreement"), row("beta", "partial_agreement")],
        "r2": [row("alpha", "partial_agreement"), row("beta", "disagreement")],
    }
    a = analysed(builder, worksheets=sheets)
    # Back, then recode the same unit: one unit coded, not two.
    s = CodingSession(a.units, "r3", a.project.protocol)
    s.apply(Code({}, "disagreement", ""))
    s.apply(Back())
    s.apply(Code({}, "partial_agreement", ""))
    assert (s.saved_now, s.unanswered) == (1, 2)
    # --redo over a fully coded sheet: nothing is left to code whatever was recoded.
    r1 = CodingSession(a.units, "r1", a.project.protocol, redo=True)
    r1.apply(Code({}, "full_agreement", ""))
    assert (r1.saved_now, r1.revised_now, r1.unanswered) == (1, 1, 1)  # gamma was never coded
    # --revise with every unit decided: "Decided 1 now; 0 still undecided", never "4 undecided".
    units = select_for_review(a.units, a.reviewers)
    for u in units:
        u.decisions = [
            Decision(u.theme.id, u.source_a, u.source_b, "disagreement", "old", "x", "t")
        ]
    rv = ReviewSession(units, "ada", a.project.protocol, revise=True)
    rv.apply(Decide("partial_agreement", "second thoughts"))
    rv.apply(Quit())
    assert (rv.saved_now, rv.revised_now, rv.unanswered) == (1, 1, 0)


def test_terminal_unit_view_is_blind_and_shows_findings(builder: ProjectBuilder) -> None:
    from rich.console import Console

    from triangulate.cli.walks import help_view, unit_view
    from triangulate.protocol.analysis import SourceFinding

    a = analysed(builder)
    a.source_findings = {
        ("alpha", "interviews"): SourceFinding(
            "alpha", "interviews", "Staff say alpha helps.\x1b[2J\x1b]0;pwned\x07", None
        )
    }

    def shown(**kw: object) -> str:
        console = Console(record=True, width=80, color_system=None)
        console.print(unit_view(a, a.units[0], 1, 3, **kw)[0])  # type: ignore[arg-type]
        return console.export_text()

    text = shown()
    flat = "".join(text.split())
    assert "helps.␛[2J␛]0;pwned␇" in flat  # the finding, its controls visible
    assert "\x1b" not in text and "\x07" not in text  # control characters from the data...
    assert "␛[2J" in flat  # ...shown visibly (spec section 11)
    assert "Proposal" not in text and a.units[0].reason not in text  # blind by default
    assert "Proposal: full_agreement" in shown(show_proposal=True)
    console = Console(record=True, width=80, color_system=None)
    console.print(help_view(a))
    helptext = console.export_text()
    assert "Both sources describe the factor" in helptext  # a category's definition
    assert "substance" in helptext
