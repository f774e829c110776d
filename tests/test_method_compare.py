"""Spec 5.1 outcomes, proposals and bands; spec 6 silence kinds; spec 7 judgement-only categories."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conftest import ProjectBuilder, excerpt, survey
from triangulate.pipeline import analyse_path
from triangulate.project.models import Dimension, Protocol
from triangulate.protocol.analysis import ThemeSource
from triangulate.protocol.compare import (
    band,
    category_is_consistent,
    dimension_outcome,
    exact_share,
    outcomes_of,
    proposal_from_outcomes,
)

D = Decimal


def ts(source: str, tags: dict[str, set[str]], p: Fraction = Fraction(1, 2)) -> ThemeSource:
    return ThemeSource(
        "t",
        source,
        "excerpts",
        True,
        [],
        1,
        1,
        1,
        float(p),
        {k: frozenset(v) for k, v in tags.items()},
        prominence_exact=p,
    )


def protocol(dims: list[dict[str, Any]], conflict: str | None = "dissonance") -> Protocol:
    rules: dict[str, Any] = {
        "one_source": "silence",
        "all": "agreement",
        "some": "partial_agreement",
        "none": "dissonance",
    }
    if conflict:
        rules["conflict"] = conflict
    return Protocol.model_validate(
        {
            "id": "p",
            "title": "P",
            "citation": "C",
            "steps": ["sorting"],
            "dimensions": dims,
            "categories": [
                {"id": c, "label": c, "definition": c}
                for c in (
                    "agreement",
                    "partial_agreement",
                    "dissonance",
                    "silence",
                    "complementarity",
                )
            ],
            "rules": rules,
        }
    )


# ---------------------------------------------------------------------------- bands


@pytest.mark.parametrize(
    ("p", "expected"),
    [
        (Fraction(0), 0),
        (Fraction(19, 100), 0),
        (Fraction(2, 10), 1),  # exactly on the cut point: the middle band
        (Fraction(1, 5), 1),
        (Fraction(49, 100), 1),
        (Fraction(1, 2), 2),
        (Fraction(1), 2),
    ],
)
def test_band_edges(p: Fraction, expected: int) -> None:
    assert band(p, [D("0.2"), D("0.5")]) == expected


def test_binary_float_would_misplace_what_exact_arithmetic_gets_right() -> None:
    # 0.1 + 0.2 style trap: 3/10 of respondents against a cut point of 0.3
    assert band(Fraction(3, 10), [D("0.3")]) == 1
    assert band(exact_share(None, 10, 30.0), [D("0.3")]) == 1  # percent 30 as written
    assert band(exact_share(3, 10, None), [D("0.3")]) == 1
    assert exact_share(None, 19, 47.0) == Fraction(47, 100)


def test_two_of_ten_against_yaml_cut_point_is_band_one(builder: ProjectBuilder) -> None:
    # Through the whole pipeline: a protocol file written in YAML with 0.2, a survey with 2/10
    root = builder.write(
        sources=[
            {"id": "a", "kind": "survey", "path": "a.csv"},
            {"id": "b", "kind": "survey", "path": "b.csv"},
        ],
        protocol="p.yaml",
        themes=[{"id": "t", "codes": {"a": ["x"], "b": ["y"]}}],
        data={
            "a": [{"code": "x", "respondents": 10, "endorsed": 2}],
            "b": [{"code": "y", "respondents": 100, "percent": 20}],
        },
    )
    (root / "p.yaml").write_text(
        "id: p\ntitle: P\ncitation: C\nsteps: [sorting]\n"
        "dimensions:\n  - {id: prominence, label: Prominence, compare: prominence, bands: [0.2, 0.5]}\n"
        "categories:\n"
        + "".join(
            f"  - {{id: {c}, label: {c}, definition: {c}}}\n"
            for c in ("agreement", "partial", "none", "silence")
        )
        + "rules: {one_source: silence, all: agreement, some: partial, none: none}\n",
        encoding="utf-8",
    )
    result = analyse_path(root)
    assert result.analysis is not None, result.findings
    (u,) = result.analysis.units
    assert u.outcomes == {"prominence": "meets"}
    assert u.proposed == "agreement"
    assert "both medium" in u.reason


# ---------------------------------------------------------------------------- outcomes

MEANING = {
    "id": "meaning",
    "label": "Meaning",
    "opposites": [["barrier", "facilitator"]],
    "prominence_bands": [0.2, 0.5],
}
EXAMPLES = {"id": "examples", "label": "Examples"}
PROM = {"id": "prominence", "label": "Prominence", "compare": "prominence", "bands": [0.2, 0.5]}


def outcome(dim: dict[str, Any], a: ThemeSource, b: ThemeSource) -> str | None:
    return dimension_outcome(Dimension.model_validate(dim), a, b)[0]


def test_tags_outcomes() -> None:
    d = {"id": "examples", "label": "E"}
    assert outcome(d, ts("a", {"examples": {"x"}}), ts("b", {"examples": set()})) is None
    assert outcome(d, ts("a", {"examples": {"x", "y"}}), ts("b", {"examples": {"Y "}})) == "meets"
    assert outcome(d, ts("a", {"examples": {"x"}}), ts("b", {"examples": {"z"}})) == "does_not_meet"


def test_one_pole_against_the_other_conflicts_both_poles_never_do() -> None:
    a = ts("a", {"meaning": {"barrier", "cost"}})
    b = ts("b", {"meaning": {"Facilitator", "cost"}})
    # conflict beats meeting: they share 'cost', but hold opposite poles
    assert outcome(MEANING, a, b) == "conflicts"
    both = ts("a", {"meaning": {"barrier", "facilitator", "cost"}})
    assert outcome(MEANING, both, b) == "meets"  # a holds both poles: conflicts with neither
    assert outcome(MEANING, both, ts("b", {"meaning": {"barrier"}})) == "meets"
    assert outcome(MEANING, ts("a", {"meaning": {"barrier"}}), ts("b", {"meaning": {"other"}})) == (
        "does_not_meet"
    )


def test_prominence_bands_on_a_tags_dimension() -> None:
    a = ts("a", {"meaning": {"cost"}}, Fraction(1, 5))
    assert outcome(MEANING, a, ts("b", {"meaning": {"cost"}}, Fraction(49, 100))) == "meets"
    assert outcome(MEANING, a, ts("b", {"meaning": {"cost"}}, Fraction(1, 2))) == "does_not_meet"
    assert outcome(MEANING, a, ts("b", {"meaning": {"cost"}}, Fraction(19, 100))) == "does_not_meet"


def test_prominence_dimension() -> None:
    assert outcome(PROM, ts("a", {}, Fraction(1, 5)), ts("b", {}, Fraction(2, 10))) == "meets"
    assert (
        outcome(PROM, ts("a", {}, Fraction(1, 5)), ts("b", {}, Fraction(1, 2))) == "does_not_meet"
    )


def test_proposal_rules_and_reason_words() -> None:
    p = protocol([MEANING, EXAMPLES])
    a = ts("interviews", {"meaning": {"barrier", "cost"}, "examples": {"copay"}})
    b = ts("survey", {"meaning": {"facilitator", "cost"}, "examples": {"copay"}})
    proposed, reason = proposal_from_outcomes(p, outcomes_of(p, a, b))
    assert proposed == "dissonance"  # the conflict category beats 'some'
    assert reason == (
        "meaning conflicts (interviews: barrier; survey: facilitator); examples meets on copay"
    )
    # without a conflict rule, a conflicting dimension counts as not meeting: some -> partial
    p2 = protocol([MEANING, EXAMPLES], conflict=None)
    assert proposal_from_outcomes(p2, outcomes_of(p2, a, b))[0] == "partial_agreement"
    # undetermined: no proposal at all, even though another dimension conflicts
    c = ts("survey", {"meaning": {"facilitator"}, "examples": set()})
    proposed, reason = proposal_from_outcomes(p, outcomes_of(p, a, c))
    assert proposed is None and reason.startswith("no proposal")
    # all / none
    same = ts("survey", {"meaning": {"cost"}, "examples": {"copay"}})
    assert proposal_from_outcomes(p, outcomes_of(p, a, same))[0] == "agreement"
    other = ts("survey", {"meaning": {"x"}, "examples": {"y"}})
    assert proposal_from_outcomes(p, outcomes_of(p, a, other))[0] == "dissonance"


TAGS = st.frozensets(
    st.sampled_from(["barrier", "facilitator", "cost", "time", "Cost "]), max_size=4
)
SHARES = st.fractions(min_value=0, max_value=1, max_denominator=40)


@given(ta=TAGS, tb=TAGS, ea=TAGS, eb=TAGS, pa=SHARES, pb=SHARES)
def test_swapping_the_two_sources_never_changes_an_outcome(
    ta: frozenset[str],
    tb: frozenset[str],
    ea: frozenset[str],
    eb: frozenset[str],
    pa: Fraction,
    pb: Fraction,
) -> None:
    p = protocol([MEANING, EXAMPLES, PROM])
    a = ts("a", {"meaning": set(ta), "examples": set(ea)}, pa)
    b = ts("b", {"meaning": set(tb), "examples": set(eb)}, pb)
    ab = {d: o for d, (o, _) in outcomes_of(p, a, b).items()}
    ba = {d: o for d, (o, _) in outcomes_of(p, b, a).items()}
    assert ab == ba
    assert (
        proposal_from_outcomes(p, outcomes_of(p, a, b))[0]
        == proposal_from_outcomes(p, outcomes_of(p, b, a))[0]
    )


# ---------------------------------------------------------------------------- judgement-only categories


def test_judgement_only_categories_and_the_conflict_category() -> None:
    p = protocol([MEANING, EXAMPLES])
    # complementarity is in no rule: any judgements go with it
    assert category_is_consistent(p, "complementarity", [True, True])
    assert category_is_consistent(p, "complementarity", [False, None])
    # the conflict category needs at least one 'no' (or an unjudged dimension that could be no)
    assert category_is_consistent(p, "dissonance", [True, False])
    assert not category_is_consistent(p, "dissonance", [True, True])
    assert category_is_consistent(p, "dissonance", [True, None])
    # rule categories as v1
    assert category_is_consistent(p, "agreement", [True, True])
    assert not category_is_consistent(p, "agreement", [True, False])
    assert not category_is_consistent(p, "silence", [True, None])


# ---------------------------------------------------------------------------- silence kinds


def test_every_silence_kind(builder: ProjectBuilder) -> None:
    root = builder.write(
        sources=[
            {"id": "interviews", "kind": "excerpts", "path": "i.csv"},
            {"id": "survey", "kind": "survey", "path": "s.csv"},
        ],
        themes=[
            {
                "id": "nc",
                "codes": {"interviews": ["a"], "survey": ["qa"]},
                "not_collected": ["survey"],
            },
            {"id": "zero", "codes": {"interviews": ["b"], "survey": ["qb", "qb2"]}},
            {"id": "raised", "codes": {"interviews": ["c"]}},
            {"id": "quiet", "codes": {"interviews": ["d"], "survey": ["qd"]}},
        ],
        data={
            "interviews": [
                excerpt("E1", "p1", "a", "x", "y"),
                excerpt("E2", "p1", "b", "x", "y"),
                excerpt("E3", "p2", "c", "x", "y"),
            ],
            "survey": [
                survey("qa", 10, endorsed=0),  # listed not_collected wins over measured_zero
                survey("qb", 10, endorsed=0),
                survey("qb2", 10, percent=0),
                survey("qd", 10, endorsed=4, substance="x", mechanism="y"),
            ],
        },
    )
    result = analyse_path(root)
    a = result.analysis
    assert a is not None
    kinds = {u.theme.id: u.silence for u in a.units}
    notes = {u.theme.id: u.note for u in a.units}
    assert kinds == {
        "nc": "not_collected",
        "zero": "measured_zero",
        "raised": "not_raised",
        "quiet": "not_raised",
    }
    assert notes == kinds
    assert a.silences() == {"not_collected": 1, "measured_zero": 1, "not_raised": 2}
    # the interviews are silent on 'quiet': an excerpts source is never measured_zero
    quiet = a.unit("quiet", "interviews", "survey")
    assert quiet is not None and quiet.silent_source is not None
    assert quiet.silent_source.source == "interviews"


def write_sample_like(builder: ProjectBuilder, **extra: Any) -> Path:
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
            "interviews": [excerpt("E1", "p1", "a", "x", "y"), excerpt("E2", "p1", "b", "x", "y")],
            "survey": [
                survey("qa", 10, endorsed=5, substance="x", mechanism="y"),
                survey("qb", 10, endorsed=0),
            ],
        },
        **extra,
    )


def test_worksheet_complementarity_and_conflict_category_are_accepted(
    builder: ProjectBuilder, tmp_path: Path
) -> None:
    root = write_sample_like(builder, reviewers=["r1", "r2"])
    proto = (Path(__file__).resolve().parents[1] / "protocols" / "blebu-2023.yaml").read_text(
        encoding="utf-8"
    )
    proto = proto.replace(
        "  - id: silence\n",
        "  - id: complementarity\n    label: Complementarity\n    definition: The sources tell different, fitting parts.\n  - id: silence\n",
    )
    (root / "custom.yaml").write_text(proto, encoding="utf-8")
    pf = root / "triangulate.yaml"
    pf.write_text(
        pf.read_text(encoding="utf-8").replace("blebu-2023", "custom.yaml"), encoding="utf-8"
    )
    (root / "reviews").mkdir()
    (root / "reviews" / "r1.csv").write_text(
        "theme,source_a,source_b,substance,mechanism,category,rationale\n"
        "both,interviews,survey,yes,yes,complementarity,fits\n",
        encoding="utf-8",
    )
    (root / "reviews" / "r2.csv").write_text(
        "theme,source_a,source_b,substance,mechanism,category,rationale\n"
        "both,interviews,survey,yes,no,disagreement,they contradict\n",
        encoding="utf-8",
    )
    result = analyse_path(root)
    assert not [f for f in result.findings if f.is_error], result.findings
    assert result.analysis is not None
    u = result.analysis.unit("both", "interviews", "survey")
    assert u is not None
    assert (u.category_of("r1"), u.category_of("r2"), u.status) == (
        "complementarity",
        "disagreement",
        "disputed",
    )
