"""Spec section 6, Step 2 (convergence coding): units, pairs and the rule's proposed category."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from conftest import ProjectBuilder, excerpt, read_csv, survey
from triangulate.outputs.report import build_report, render_markdown
from triangulate.outputs.tabular import summary
from triangulate.outputs.write import write_matrix
from triangulate.pipeline import analyse_path
from triangulate.protocol.analysis import Analysis

INTERVIEWS = {"id": "interviews", "kind": "excerpts", "path": "data/interviews.csv"}
SURVEY = {"id": "survey", "kind": "survey", "path": "data/survey.csv"}


def analyse(root: Path) -> Analysis:
    result = analyse_path(root)
    assert result.analysis is not None and not result.has_errors, [str(f) for f in result.findings]
    return result.analysis


def keys(a: Analysis) -> list[tuple[str, str, str]]:
    return [u.key for u in a.units]


# ---------------------------------------------------------------------------- units and pairs
#
# Three sources, listed zeta, alpha, mid (not alphabetical: the project's order must win).
#   t_all    present in all three            -> 3 units: (zeta, alpha), (zeta, mid), (alpha, mid)
#   t_alpha  present in alpha only           -> 2 units: (zeta, alpha), (alpha, mid); none for (zeta, mid)
#   t_none   codes listed, no data anywhere  -> 0 units
#   t_zm     present in zeta and mid only    -> 3 units: (zeta, alpha) silence, (zeta, mid), (alpha, mid) silence
#   t_mid0   mid code at endorsed 0 only     -> 0 units (a zero share is not presence)

ZETA = {"id": "zeta", "kind": "excerpts", "path": "data/zeta.csv"}
ALPHA = {"id": "alpha", "kind": "excerpts", "path": "data/alpha.csv"}
MID = {"id": "mid", "kind": "survey", "path": "data/mid.csv"}


def three_source_project(builder: ProjectBuilder, protocol: str = "blebu-2023") -> Path:
    return builder.write(
        sources=[ZETA, ALPHA, MID],
        protocol=protocol,
        themes=[
            {"id": "t_all", "codes": {"zeta": ["z1"], "alpha": ["a1"], "mid": ["m1"]}},
            {"id": "t_alpha", "codes": {"alpha": ["a2"], "mid": ["m2"]}, "not_collected": ["mid"]},
            {"id": "t_none", "codes": {"zeta": ["z-none"], "alpha": ["a-none"]}},
            {"id": "t_zm", "codes": {"zeta": ["z3"], "mid": ["m3"]}},
            {"id": "t_mid0", "codes": {"mid": ["m0"]}},
        ],
        data={
            # zeta/alpha tags: x;y vs y on substance (meet), m vs n on mechanism (do not meet)
            "zeta": [excerpt("Z1", "p1", "z1", "x;y", "m"), excerpt("Z3", "p2", "z3", "k", "w")],
            "alpha": [
                excerpt("A1", "q1", "a1", "y", "n"),
                excerpt("A2", "q1", "a2", "solo", "solo"),
            ],
            "mid": [
                survey("m1", 10, endorsed=5, substance="y", mechanism="n"),
                survey("m3", 10, endorsed=1, substance="other", mechanism="w"),
                survey("m0", 10, endorsed=0, substance="y", mechanism="n"),
            ],
        },
    )


def test_units_are_theme_order_then_pairs_in_project_order(builder: ProjectBuilder) -> None:
    a = analyse(three_source_project(builder))
    assert keys(a) == [
        ("t_all", "zeta", "alpha"),
        ("t_all", "zeta", "mid"),
        ("t_all", "alpha", "mid"),
        ("t_alpha", "zeta", "alpha"),
        ("t_alpha", "alpha", "mid"),
        ("t_zm", "zeta", "alpha"),
        ("t_zm", "zeta", "mid"),
        ("t_zm", "alpha", "mid"),
    ]


def test_three_sources_proposals_per_pair(builder: ProjectBuilder) -> None:
    a = analyse(three_source_project(builder))
    proposed = {u.key: u.proposed for u in a.units}
    # (zeta, alpha): substance {x,y}&{y} = {y} meets; mechanism {m}&{n} empty -> some -> partial
    assert proposed[("t_all", "zeta", "alpha")] == "partial_agreement"
    # (zeta, mid): substance {x,y}&{y} meets; mechanism {m}&{n} empty -> partial
    assert proposed[("t_all", "zeta", "mid")] == "partial_agreement"
    # (alpha, mid): {y}&{y} meets, {n}&{n} meets -> all -> full
    assert proposed[("t_all", "alpha", "mid")] == "full_agreement"
    # t_alpha is only in alpha: both of its units are one-source
    assert proposed[("t_alpha", "zeta", "alpha")] == "silence"
    assert proposed[("t_alpha", "alpha", "mid")] == "silence"
    # t_zm: (zeta, mid) substance {k} vs {other} no, mechanism {w}&{w} yes -> partial
    assert proposed[("t_zm", "zeta", "mid")] == "partial_agreement"
    assert proposed[("t_zm", "zeta", "alpha")] == "silence"
    assert proposed[("t_zm", "alpha", "mid")] == "silence"


def test_no_unit_for_a_pair_where_neither_source_has_the_theme(builder: ProjectBuilder) -> None:
    a = analyse(three_source_project(builder))
    assert a.unit("t_alpha", "zeta", "mid") is None
    assert not [u for u in a.units if u.theme.id in ("t_none", "t_mid0")]
    # the matrix has exactly the 8 units, no row for the absent pairs
    assert summary(a)["units"] == 8


def test_not_collected_note_only_when_the_silent_source_is_listed(builder: ProjectBuilder) -> None:
    a = analyse(three_source_project(builder))
    # t_alpha lists mid under not_collected: (alpha, mid) is silent on mid's side -> marked
    assert a.unit("t_alpha", "alpha", "mid").note == "not_collected"  # type: ignore[union-attr]
    # (zeta, alpha): zeta is the silent source and is not listed: an excerpts source that could
    # have raised the theme and did not (v2 silence kind)
    assert a.unit("t_alpha", "zeta", "alpha").note == "not_raised"  # type: ignore[union-attr]
    # still the one_source category either way
    assert a.unit("t_alpha", "alpha", "mid").proposed == "silence"  # type: ignore[union-attr]
    assert all(u.note == "" for u in a.units if not u.one_source)
    assert all(u.note == "not_raised" for u in a.units if u.theme.id == "t_zm" and u.one_source)


def test_matrix_csv_columns_and_note(builder: ProjectBuilder, tmp_path: Path) -> None:
    a = analyse(three_source_project(builder))
    (path,) = write_matrix(a, tmp_path / "out")
    rows = read_csv(path)
    with path.open(encoding="utf-8") as fh:
        header = fh.readline().rstrip("\n")
    assert header == (
        "theme,group,source_a,source_b,proposed,final,status,rationale,note,"
        "finding_a,finding_b,prominence_a,prominence_b,dim_substance,dim_mechanism"
    )
    assert [(r["theme"], r["source_a"], r["source_b"]) for r in rows] == keys(a)
    notes = {(r["theme"], r["source_a"], r["source_b"]): r["note"] for r in rows}
    assert notes[("t_alpha", "alpha", "mid")] == "not_collected"
    assert notes[("t_alpha", "zeta", "alpha")] == "not_raised"
    # no reviewers: every unit with a proposal is 'proposed' with final = proposal
    assert all(r["status"] == "proposed" and r["final"] == r["proposed"] for r in rows)


# ---------------------------------------------------------------------------- the four categories (two sources)

SUBST_MECH: dict[str, tuple[tuple[str, str], tuple[str, str]]] = {
    # theme: ((interviews substance, mechanism), (survey substance, mechanism))
    "t_full": (("barrier;caseload", "trust"), ("caseload", "trust;time")),  # meets, meets
    "t_part_s": (("barrier", "trust"), ("barrier", "money")),  # meets, not
    "t_part_m": (("barrier", "trust"), ("staffing", "trust")),  # not, meets
    "t_disagree": (("barrier", "trust"), ("facilitator", "money")),  # not, not
    "t_missing": (("barrier", "trust"), ("barrier", "")),  # survey lacks mechanism tags
    "t_missing_both": (("", "trust"), ("", "trust")),  # nobody has substance tags
}


def two_source_project(builder: ProjectBuilder, not_collected: list[str] | None = None) -> Path:
    themes: list[dict[str, Any]] = [
        {"id": t, "codes": {"interviews": [f"i-{t}"], "survey": [f"s-{t}"]}} for t in SUBST_MECH
    ]
    themes.append(
        {"id": "t_silence", "codes": {"interviews": ["i-silence"], "survey": ["s-silence"]}}
    )
    themes.append({"id": "t_nc", "codes": {"interviews": ["i-nc"]}, "not_collected": ["survey"]})
    themes.append(  # listed as not collected, but present in both: not a one-source unit
        {
            "id": "t_nc_both",
            "codes": {"interviews": ["i-ncb"], "survey": ["s-ncb"]},
            "not_collected": ["survey"],
        }
    )
    themes.append(  # lists the source that HAS the theme: the silent one (interviews) is not listed
        {"id": "t_nc_wrong", "codes": {"survey": ["s-ncw"]}, "not_collected": ["survey"]}
    )
    irows = [excerpt(f"E-{t}", "P1", f"i-{t}", s, m) for t, ((s, m), _) in SUBST_MECH.items()]
    irows += [
        excerpt("E-sil", "P2", "i-silence", "a", "b"),
        excerpt("E-nc", "P2", "i-nc", "a", "b"),
    ]
    irows += [excerpt("E-ncb", "P2", "i-ncb", "a", "b")]
    srows = [
        survey(f"s-{t}", 10, endorsed=3, substance=s, mechanism=m)
        for t, (_, (s, m)) in SUBST_MECH.items()
    ]
    srows += [survey("s-silence", 10, endorsed=0, substance="a", mechanism="b")]
    srows += [
        survey("s-ncb", 10, endorsed=2, substance="a", mechanism="c"),
        survey("s-ncw", 10, endorsed=2, substance="a", mechanism="b"),
    ]
    return builder.write(
        sources=[INTERVIEWS, SURVEY],
        themes=themes,
        data={"interviews": irows, "survey": srows},
    )


@pytest.fixture
def two(builder: ProjectBuilder) -> Analysis:
    return analyse(two_source_project(builder))


@pytest.mark.parametrize(
    ("theme", "category"),
    [
        ("t_full", "full_agreement"),
        ("t_part_s", "partial_agreement"),
        ("t_part_m", "partial_agreement"),
        ("t_disagree", "disagreement"),
        ("t_silence", "silence"),
        ("t_nc", "silence"),
        ("t_nc_both", "partial_agreement"),  # substance a&a meets, mechanism b vs c does not
        ("t_nc_wrong", "silence"),
    ],
)
def test_proposed_category(two: Analysis, theme: str, category: str) -> None:
    unit = two.unit(theme, "interviews", "survey")
    assert unit is not None
    assert unit.proposed == category
    assert unit.status == "proposed" and unit.final == category


def test_missing_tags_give_no_proposal_and_status_uncoded(two: Analysis) -> None:
    for theme in ("t_missing", "t_missing_both"):
        unit = two.unit(theme, "interviews", "survey")
        assert unit is not None
        assert unit.proposed is None
        assert unit.final is None
        assert unit.status == "uncoded"
    s = summary(two)
    assert s["uncoded"] == 2 and s["statuses"]["uncoded"] == 2


def test_missing_tags_reason_names_dimension_and_source(two: Analysis) -> None:
    reason = two.unit("t_missing", "interviews", "survey").reason  # type: ignore[union-attr]
    assert "mechanism (survey)" in reason
    assert "substance" not in reason  # substance tags exist on both sides
    both = two.unit("t_missing_both", "interviews", "survey").reason  # type: ignore[union-attr]
    assert "substance (interviews, survey)" in both


def test_reason_names_met_and_unmet_tags(two: Analysis) -> None:
    full = two.unit("t_full", "interviews", "survey").reason  # type: ignore[union-attr]
    # {barrier, caseload} & {caseload} = {caseload}; {trust} & {trust, time} = {trust}
    assert "substance meets on caseload" in full
    assert "mechanism meets on trust" in full
    dis = two.unit("t_disagree", "interviews", "survey").reason  # type: ignore[union-attr]
    # v2: barrier against facilitator is a contradiction (blebu-2023's opposites), not a mismatch
    assert "substance conflicts (interviews: barrier; survey: facilitator)" in dis
    assert "mechanism does not meet (interviews: trust; survey: money)" in dis
    sil = two.unit("t_silence", "interviews", "survey").reason  # type: ignore[union-attr]
    assert "interviews" in sil and "survey is silent" in sil


def test_not_collected_marks_only_one_source_units_with_the_listed_silent_source(
    two: Analysis,
) -> None:
    notes = {u.theme.id: u.note for u in two.units}
    assert notes["t_nc"] == "not_collected"
    assert notes["t_silence"] in ("not_raised", "measured_zero")  # not declared not collected
    assert notes["t_nc_both"] == ""  # present in both sources: nothing is silent
    # the silent source (interviews) is not the one listed: an excerpts source that did not raise it
    assert notes["t_nc_wrong"] == "not_raised"


def test_report_counts_not_collected_separately(two: Analysis) -> None:
    md = render_markdown(build_report(two))
    # silence units: t_silence, t_nc, t_nc_wrong = 3; of them only t_nc is not collected
    # v2: each silence kind counted separately (t_nc not collected; t_silence, t_nc_wrong: the
    # survey side has no zero-share code for them, so they were not raised)
    k = two.silences()
    assert k["not_collected"] == 1 and k["measured_zero"] + k["not_raised"] == 2
    assert (
        f"Of the 3 units present in one source only (1 not collected: the instrument could not "
        f"capture the theme; {k['measured_zero']} measured at 0%"
    ) in md
    assert "3 ended as Silence" in md


def test_summary_counts_proposals_for_all_four_categories(two: Analysis) -> None:
    s = summary(two)
    # full: t_full = 1; partial: t_part_s, t_part_m, t_nc_both = 3; disagreement: t_disagree = 1;
    # silence: t_silence, t_nc, t_nc_wrong = 3; t_missing, t_missing_both have no final
    assert s["counts"] == {
        "full_agreement": 1,
        "partial_agreement": 3,
        "disagreement": 1,
        "silence": 3,
    }
    assert s["units"] == 10
    assert s["statuses"] == {
        "adjudicated": 0,
        "agreed": 0,
        "single": 0,
        "disputed": 0,
        "proposed": 8,
        "uncoded": 2,
    }
    assert s["agreement"] is None  # no reviewers


# ---------------------------------------------------------------------------- farmer-2006


def fx(eid: str, who: str, code: str, meaning: str, examples: str) -> dict[str, str]:
    return {
        "excerpt_id": eid,
        "participant": who,
        "code": code,
        "text": "Words.",
        "meaning": meaning,
        "examples": examples,
    }


def fs(code: str, n: int, endorsed: int, meaning: str, examples: str) -> dict[str, Any]:
    return {
        "code": code,
        "respondents": n,
        "endorsed": endorsed,
        "meaning": meaning,
        "examples": examples,
    }


def test_farmer_protocol_categories_over_three_sources(builder: ProjectBuilder) -> None:
    root = builder.write(
        protocol="farmer-2006",
        sources=[
            {"id": "staff", "kind": "excerpts", "path": "data/staff.csv"},
            {"id": "clients", "kind": "excerpts", "path": "data/clients.csv"},
            {"id": "poll", "kind": "survey", "path": "data/poll.csv"},
        ],
        themes=[
            {
                "id": "waiting",
                "codes": {"staff": ["wait"], "clients": ["queue"], "poll": ["q-wait"]},
            },
            {"id": "trust", "codes": {"staff": ["trust"], "clients": ["faith"]}},
        ],
        data={
            "staff": [
                fx("S1", "s1", "wait", "delay;burden", "clinic"),
                fx("S2", "s2", "trust", "Rapport", "visits"),
            ],
            "clients": [
                fx("C1", "c1", "queue", "delay", "phone"),
                fx("C2", "c1", "faith", "rapport", "Visits"),
            ],
            "poll": [fs("q-wait", 40, 10, "cost", "clinic;phone")],
        },
    )
    a = analyse(root)
    got = {u.key: u.proposed for u in a.units}
    assert got == {
        # meaning {delay, burden}&{delay} meets; examples {clinic}&{phone} not -> partial_agreement
        ("waiting", "staff", "clients"): "partial_agreement",
        # meaning {delay, burden}&{cost} not; examples {clinic}&{clinic, phone} meets -> partial
        ("waiting", "staff", "poll"): "partial_agreement",
        # meaning {delay}&{cost} not; examples {phone}&{clinic, phone} meets -> partial
        ("waiting", "clients", "poll"): "partial_agreement",
        # meaning rapport = Rapport, examples visits = Visits -> agreement
        ("trust", "staff", "clients"): "agreement",
        # poll has no 'trust' code: one-source -> silence
        ("trust", "staff", "poll"): "silence",
        ("trust", "clients", "poll"): "silence",
    }
    assert list(got) == keys(a)


def test_farmer_protocol_dissonance_and_category_ids_in_summary(builder: ProjectBuilder) -> None:
    root = builder.write(
        protocol="farmer-2006",
        sources=[
            {"id": "staff", "kind": "excerpts", "path": "data/staff.csv"},
            {"id": "poll", "kind": "survey", "path": "data/poll.csv"},
        ],
        themes=[
            {"id": "clash", "codes": {"staff": ["c"], "poll": ["qc"]}},
            {"id": "same", "codes": {"staff": ["s"], "poll": ["qs"]}},
        ],
        data={
            "staff": [fx("S1", "s1", "c", "good", "a"), fx("S2", "s1", "s", "good", "a")],
            # 6/10: the same prominence band (high) as 1 of 1 staff member (farmer-2006 v2)
            "poll": [fs("qc", 10, 6, "bad", "b"), fs("qs", 10, 6, "good", "a")],
        },
    )
    a = analyse(root)
    # clash: {good}&{bad} not, {a}&{b} not -> none -> dissonance; same: both meet -> agreement
    assert a.unit("clash", "staff", "poll").proposed == "dissonance"  # type: ignore[union-attr]
    assert a.unit("same", "staff", "poll").proposed == "agreement"  # type: ignore[union-attr]
    s = summary(a)
    assert s["protocol"] == "farmer-2006"
    assert list(s["counts"]) == ["agreement", "partial_agreement", "dissonance", "silence"]
    assert s["counts"] == {"agreement": 1, "partial_agreement": 0, "dissonance": 1, "silence": 0}
