"""Spec section 6, Step 1 (sorting): presence, counts, prominence and tags of a theme in a source.

Every expected number is worked out by hand from the rows written in the test (arithmetic in the
comments); none is obtained by re-running the tool's own formulas.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import ProjectBuilder, excerpt, survey
from triangulate.findings import Finding
from triangulate.outputs.write import write_sorting
from triangulate.pipeline import PipelineResult, analyse_path

INTERVIEWS = {
    "id": "interviews",
    "label": "Interviews",
    "kind": "excerpts",
    "path": "data/interviews.csv",
}
SURVEY = {"id": "survey", "label": "Survey (counts)", "kind": "survey", "path": "data/survey.csv"}
POLL = {
    "id": "poll",
    "label": "Poll (published percentages)",
    "kind": "survey",
    "path": "data/poll.csv",
}


def analyse(root: Path) -> PipelineResult:
    result = analyse_path(root)
    assert result.analysis is not None, [str(f) for f in result.findings]
    return result


def codes(findings: list[Finding]) -> list[str]:
    return [f.code for f in findings]


def only(findings: list[Finding], code: str) -> list[Finding]:
    return [f for f in findings if f.code == code]


# ---------------------------------------------------------------------------- the sorting project
#
# interviews: four participants in the whole source (P1, P2, P3 and P4; P4 only has an unsorted code)
#   E1 P1 a       substance "Barrier; caseload"   mechanism "trust"
#   E1 P1 b       substance " barrier ;;"          (same excerpt, second code of the same theme)
#   E2 P1 a       substance "CASELOAD;time "       mechanism "Trust "
#   E3 P2 b                                        mechanism "referral"
#   E4 P3 c       substance "cost"                 mechanism "price"
#   E5 P4 orphan  (sorted into no theme)
# survey (counts):
#   s_hi   6/8   = 0.75  substance "Barrier"  mechanism "TRUST"
#   s_lo   5/20  = 0.25  substance "cost"
#   s_none 0/20  = 0     mechanism "referral"   (listed in 'care' but nobody endorsed it)
#   s_zero 0/20  = 0     substance "zzz"        (the only survey code of 'access')
#   s_orphan 3/10        (sorted into no theme)
# poll (percent only):
#   p_35   35% of 19 -> 0.35 exactly (a count would give round(0.35*19)=7 -> 7/19 = 0.3684...)
#   p_zero 0% of 19  -> 0


def sorting_project(builder: ProjectBuilder) -> Path:
    return builder.write(
        sources=[INTERVIEWS, SURVEY, POLL],
        groups=[{"id": "g1", "label": "Group one"}],
        themes=[
            {
                "id": "care",
                "label": "Care",
                "group": "g1",
                "codes": {
                    "interviews": ["a", "b"],
                    "survey": ["s_hi", "s_lo", "s_none"],
                    "poll": ["p_35"],
                },
            },
            {
                "id": "access",
                "label": "Access",
                "codes": {"interviews": ["c"], "survey": ["s_zero"], "poll": ["p_zero"]},
            },
            {"id": "silent", "label": "Nobody", "codes": {"interviews": ["ghost"]}},
        ],
        data={
            "interviews": [
                excerpt("E1", "P1", "a", substance="Barrier; caseload", mechanism="trust"),
                excerpt("E1", "P1", "b", substance=" barrier ;;"),
                excerpt("E2", "P1", "a", substance="CASELOAD;time ", mechanism="Trust "),
                excerpt("E3", "P2", "b", mechanism="referral"),
                excerpt("E4", "P3", "c", substance="cost", mechanism="price"),
                excerpt("E5", "P4", "orphan", substance="x", mechanism="y"),
            ],
            "survey": [
                survey("s_hi", 8, endorsed=6, substance="Barrier", mechanism="TRUST"),
                survey("s_lo", 20, endorsed=5, substance="cost"),
                survey("s_none", 20, endorsed=0, mechanism="referral"),
                survey("s_zero", 20, endorsed=0, substance="zzz"),
                survey("s_orphan", 10, endorsed=3),
            ],
            "poll": [
                survey("p_35", 19, percent=35),
                survey("p_zero", 19, percent=0),
            ],
        },
    )


@pytest.fixture
def sorted_result(builder: ProjectBuilder) -> PipelineResult:
    return analyse(sorting_project(builder))


# ---------------------------------------------------------------------------- presence


def test_excerpts_theme_present_when_any_row_carries_one_of_its_codes(
    sorted_result: PipelineResult,
) -> None:
    s = sorted_result.analysis.sorting  # type: ignore[union-attr]
    assert s[("care", "interviews")].present is True
    assert s[("access", "interviews")].present is True  # one row (E4) is enough
    assert s[("silent", "interviews")].present is False  # its only code 'ghost' has no row


def test_survey_theme_present_only_with_a_share_above_zero(sorted_result: PipelineResult) -> None:
    s = sorted_result.analysis.sorting  # type: ignore[union-attr]
    assert s[("care", "survey")].present is True  # s_hi 6/8 > 0
    # 'access' has a survey code in the data (s_zero), but endorsed = 0: listed, yet absent.
    assert s[("access", "survey")].present is False
    assert s[("care", "poll")].present is True  # 35% > 0
    # percent = 0 is absent too.
    assert s[("access", "poll")].present is False


def test_zero_share_survey_code_is_in_the_data_so_not_reported_unused(
    sorted_result: PipelineResult,
) -> None:
    unused = only(sorted_result.findings, "codebook.code-unused")
    assert len(unused) == 1 and "'ghost'" in unused[0].message
    for code in ("s_none", "s_zero", "p_zero"):
        assert not any(f"'{code}'" in f.message for f in sorted_result.findings)


def test_absent_survey_theme_makes_a_one_source_unit(sorted_result: PipelineResult) -> None:
    a = sorted_result.analysis
    assert a is not None
    unit = a.unit("access", "interviews", "survey")
    assert unit is not None and unit.one_source
    assert unit.proposed == "silence"
    # Neither survey nor poll has 'access' (both zero shares): no unit for that pair.
    assert a.unit("access", "survey", "poll") is None


# ---------------------------------------------------------------------------- counts


def test_excerpts_are_distinct_ids_and_participants_distinct_people(
    sorted_result: PipelineResult,
) -> None:
    s = sorted_result.analysis.sorting  # type: ignore[union-attr]
    care = s[("care", "interviews")]
    # rows E1(a), E1(b), E2(a), E3(b): distinct excerpt ids {E1, E2, E3} = 3, not 4 rows
    assert care.excerpts == 3
    # participants {P1, P2} = 2 (P1 has three rows)
    assert care.participants == 2
    access = s[("access", "interviews")]
    assert (access.excerpts, access.participants) == (1, 1)
    none = s[("silent", "interviews")]
    assert (none.excerpts, none.participants) == (0, 0)


def test_survey_sources_have_no_excerpt_or_participant_counts(
    sorted_result: PipelineResult,
) -> None:
    s = sorted_result.analysis.sorting  # type: ignore[union-attr]
    for key in (("care", "survey"), ("access", "survey"), ("care", "poll")):
        assert s[key].excerpts is None
        assert s[key].participants is None


# ---------------------------------------------------------------------------- prominence


def test_excerpt_prominence_is_share_of_all_participants_in_the_source(
    sorted_result: PipelineResult,
) -> None:
    s = sorted_result.analysis.sorting  # type: ignore[union-attr]
    # the whole source has P1..P4 = 4 participants (P4 only through the unsorted code 'orphan')
    assert s[("care", "interviews")].prominence == pytest.approx(0.5)  # {P1, P2} / 4 = 0.5
    assert s[("access", "interviews")].prominence == pytest.approx(0.25)  # {P3} / 4 = 0.25
    assert s[("silent", "interviews")].prominence == 0


def test_survey_prominence_is_the_largest_share(sorted_result: PipelineResult) -> None:
    s = sorted_result.analysis.sorting  # type: ignore[union-attr]
    # max(6/8 = 0.75, 5/20 = 0.25, 0/20 = 0) = 0.75
    assert s[("care", "survey")].prominence == pytest.approx(0.75)
    assert s[("access", "survey")].prominence == 0  # 0/20
    assert s[("silent", "survey")].prominence == 0  # no code of 'silent' in the survey


def test_percent_share_is_percent_over_100_never_rounded_to_a_count(
    sorted_result: PipelineResult,
) -> None:
    s = sorted_result.analysis.sorting  # type: ignore[union-attr]
    # 35/100 = 0.35; a rounded count would be 7 of 19 = 0.368421...
    assert s[("care", "poll")].prominence == 0.35
    assert s[("access", "poll")].prominence == 0


def test_percent_with_decimals_is_kept_exactly(builder: ProjectBuilder) -> None:
    root = builder.write(
        sources=[INTERVIEWS, POLL],
        themes=[{"id": "t", "codes": {"interviews": ["a"], "poll": ["p"]}}],
        data={
            "interviews": [excerpt("E1", "P1", "a", "x", "y")],
            "poll": [survey("p", 7, percent=12.5, substance="x", mechanism="y")],
        },
    )
    a = analyse(root).analysis
    assert a is not None
    # 12.5 / 100 = 0.125; a count would be round(0.125 * 7) = 1 -> 1/7 = 0.142857...
    assert a.sorting[("t", "poll")].prominence == 0.125


# ---------------------------------------------------------------------------- tags


def test_tags_union_split_trimmed_casefolded_empties_ignored(sorted_result: PipelineResult) -> None:
    s = sorted_result.analysis.sorting  # type: ignore[union-attr]
    care = s[("care", "interviews")]
    # "Barrier; caseload" + " barrier ;;" + "CASELOAD;time " + "" -> {barrier, caseload, time}
    assert care.tags["substance"] == frozenset({"barrier", "caseload", "time"})
    # "trust" + "" + "Trust " + "referral" -> {trust, referral}
    assert care.tags["mechanism"] == frozenset({"trust", "referral"})


def test_survey_tags_only_from_codes_with_a_positive_share(sorted_result: PipelineResult) -> None:
    s = sorted_result.analysis.sorting  # type: ignore[union-attr]
    care = s[("care", "survey")]
    # s_hi "Barrier" + s_lo "cost" (s_none has no substance)
    assert care.tags["substance"] == frozenset({"barrier", "cost"})
    # s_hi "TRUST"; s_none's "referral" is left out: nobody endorsed s_none
    assert care.tags["mechanism"] == frozenset({"trust"})
    # s_zero's "zzz" is left out as well
    assert s[("access", "survey")].tags["substance"] == frozenset()


def test_tags_compare_case_insensitively_across_sources(sorted_result: PipelineResult) -> None:
    a = sorted_result.analysis
    assert a is not None
    unit = a.unit("care", "interviews", "survey")
    assert unit is not None
    # "Barrier" (survey) meets "barrier" (interviews); "TRUST" meets "trust"/"Trust "
    assert unit.proposed == "full_agreement"
    assert "substance meets on barrier" in unit.reason
    assert "mechanism meets on trust" in unit.reason


def test_zero_share_tags_cannot_make_a_dimension_converge(builder: ProjectBuilder) -> None:
    root = builder.write(
        sources=[INTERVIEWS, SURVEY],
        themes=[{"id": "t", "codes": {"interviews": ["a"], "survey": ["yes_code", "zero_code"]}}],
        data={
            "interviews": [excerpt("E1", "P1", "a", substance="shared", mechanism="only-here")],
            "survey": [
                survey("yes_code", 10, endorsed=4, substance="shared", mechanism="elsewhere"),
                # 0/10: its mechanism tag would converge with the interviews if it were counted
                survey("zero_code", 10, endorsed=0, mechanism="only-here"),
            ],
        },
    )
    unit = analyse(root).analysis.unit("t", "interviews", "survey")  # type: ignore[union-attr]
    assert unit is not None
    # substance meets on "shared", mechanism {only-here} vs {elsewhere} does not -> some -> partial
    assert unit.proposed == "partial_agreement"


# ---------------------------------------------------------------------------- sorting.csv


def test_sorting_csv_rows(sorted_result: PipelineResult, tmp_path: Path) -> None:
    a = sorted_result.analysis
    assert a is not None
    (path,) = write_sorting(a, tmp_path / "out")
    assert path.name == "sorting.csv"
    # One row per theme x source, codebook theme order then project source order. Counts and
    # prominence as worked out above; survey counts are empty, excerpt counts of an absent theme 0.
    expected = (
        "theme,group,source,present,codes,excerpts,participants,prominence,finding\n"
        "care,g1,interviews,yes,a;b,3,2,0.5,\n"
        "care,g1,survey,yes,s_hi;s_lo;s_none,,,0.75,\n"
        "care,g1,poll,yes,p_35,,,0.35,\n"
        "access,,interviews,yes,c,1,1,0.25,\n"
        "access,,survey,no,s_zero,,,0,\n"
        "access,,poll,no,p_zero,,,0,\n"
        "silent,,interviews,no,,0,0,0,\n"
        "silent,,survey,no,,,,0,\n"
        "silent,,poll,no,,,,0,\n"
    )
    assert path.read_text(encoding="utf-8") == expected


def test_sorting_csv_prominence_of_thirds_has_four_decimals(
    builder: ProjectBuilder, tmp_path: Path
) -> None:
    root = builder.write(
        sources=[INTERVIEWS, SURVEY],
        themes=[
            {"id": "t", "codes": {"interviews": ["a"], "survey": ["s"]}},
            {"id": "u", "codes": {"interviews": ["b"], "survey": ["r"]}},
        ],
        data={
            "interviews": [
                excerpt("E1", "P1", "a"),
                excerpt("E2", "P2", "a"),
                excerpt("E3", "P3", "b"),
            ],
            "survey": [survey("s", 3, endorsed=1), survey("r", 3, endorsed=2)],
        },
    )
    a = analyse(root).analysis
    assert a is not None
    (path,) = write_sorting(a, tmp_path / "out")
    lines = path.read_text(encoding="utf-8").splitlines()
    # 2 of 3 participants = 0.666..., 1/3 = 0.333...; survey 1/3 and 2/3
    assert lines[1] == "t,,interviews,yes,a,2,2,0.6667,"
    assert lines[2] == "t,,survey,yes,s,,,0.3333,"
    assert lines[3] == "u,,interviews,yes,b,1,1,0.3333,"
    assert lines[4] == "u,,survey,yes,r,,,0.6667,"


# ---------------------------------------------------------------------------- codebook findings


def test_unsorted_code_is_a_warning_with_its_first_row(sorted_result: PipelineResult) -> None:
    found = only(sorted_result.findings, "data.unsorted-code")
    by_file = {f.location.file: f for f in found}
    assert set(by_file) == {"data/interviews.csv", "data/survey.csv"}
    assert all(not f.is_error for f in found)
    # header is row 1: E5 is the 6th data row -> row 7; s_orphan the 5th -> row 6
    assert by_file["data/interviews.csv"].location.row == 7
    assert "'orphan'" in by_file["data/interviews.csv"].message
    assert by_file["data/survey.csv"].location.row == 6
    assert "'s_orphan'" in by_file["data/survey.csv"].message
    assert not sorted_result.has_errors


def test_unsorted_code_reported_once_per_code(builder: ProjectBuilder) -> None:
    root = builder.write(
        sources=[INTERVIEWS, SURVEY],
        themes=[{"id": "t", "codes": {"interviews": ["a"], "survey": ["s"]}}],
        data={
            "interviews": [
                excerpt("E1", "P1", "a", "x", "y"),
                excerpt("E2", "P1", "stray"),
                excerpt("E3", "P2", "stray"),
            ],
            "survey": [survey("s", 5, endorsed=1)],
        },
    )
    found = only(analyse(root).findings, "data.unsorted-code")
    assert len(found) == 1
    assert found[0].location.row == 3  # first use: E2, the second data row


def test_codebook_code_never_used_is_a_warning(sorted_result: PipelineResult) -> None:
    (f,) = only(sorted_result.findings, "codebook.code-unused")
    assert not f.is_error
    assert "'ghost'" in f.message and "'silent'" in f.message
    assert f.location.file == "codebook.yaml"


def test_code_sorted_into_two_themes_is_an_error(builder: ProjectBuilder) -> None:
    root = builder.write(
        sources=[INTERVIEWS, SURVEY],
        themes=[
            {"id": "t1", "codes": {"interviews": ["a"], "survey": ["s"]}},
            {"id": "t2", "codes": {"interviews": ["b", "a"]}},
        ],
        data={
            "interviews": [excerpt("E1", "P1", "a"), excerpt("E2", "P1", "b")],
            "survey": [survey("s", 5, endorsed=1)],
        },
    )
    result = analyse_path(root)
    (f,) = only(result.findings, "codebook.code-sorted-twice")
    assert f.is_error and result.has_errors
    assert "'t1'" in f.message and "'t2'" in f.message
    # located on the second listing: themes[1].codes.interviews[1], a YAML line
    assert f.location.file == "codebook.yaml" and f.location.line is not None


def test_code_listed_twice_in_one_theme_is_an_error(builder: ProjectBuilder) -> None:
    root = builder.write(
        sources=[INTERVIEWS, SURVEY],
        themes=[{"id": "t1", "codes": {"interviews": ["a", "a"], "survey": ["s"]}}],
        data={"interviews": [excerpt("E1", "P1", "a")], "survey": [survey("s", 5, endorsed=1)]},
    )
    result = analyse_path(root)
    assert codes(result.findings).count("codebook.code-sorted-twice") == 1
    assert result.has_errors


def test_same_code_name_in_two_sources_may_go_to_two_themes(builder: ProjectBuilder) -> None:
    # A code belongs to one source: interviews' 'a' and survey's 'a' are different codes.
    root = builder.write(
        sources=[INTERVIEWS, SURVEY],
        themes=[
            {"id": "t1", "codes": {"interviews": ["a"]}},
            {"id": "t2", "codes": {"survey": ["a"]}},
        ],
        data={"interviews": [excerpt("E1", "P1", "a")], "survey": [survey("a", 5, endorsed=1)]},
    )
    result = analyse(root)
    assert "codebook.code-sorted-twice" not in codes(result.findings)
    assert not result.has_errors
    a = result.analysis
    assert a is not None
    assert a.sorting[("t1", "interviews")].present and not a.sorting[("t1", "survey")].present
    assert a.sorting[("t2", "survey")].present and not a.sorting[("t2", "interviews")].present


# ---------------------------------------------------------------------------- all themes at once


def _columns(rows: list[tuple[str, str, str, str, str]], as_numpy: bool) -> Any:
    import numpy as np

    from triangulate.sources.columns import Coded, ExcerptColumns
    from triangulate.sources.rows import split_tags

    def coded(values: list[str]) -> Coded:
        c = Coded.of(values)
        return Coded(np.asarray(c.ids, dtype=np.intp), c.values) if as_numpy else c

    tags = coded([r[4] for r in rows])
    tags.values = [split_tags(v) for v in tags.values]
    return ExcerptColumns(
        coded([r[0] for r in rows]),
        coded([r[1] for r in rows]),
        coded([r[2] for r in rows]),
        [r[3] for r in rows],
        {"substance": tags},
        list(range(2, len(rows) + 2)),
    )


ROWS = st.lists(
    st.tuples(
        st.sampled_from(["E1", "E2", "E3", "E4", "E5"]),
        st.sampled_from(["P1", "P2", "P3"]),
        st.sampled_from(["a", "b", "c", "d"]),
        st.just("text"),
        st.sampled_from(["", "cost", "cost;trust", "Trust ; time", "time"]),
    ),
    max_size=30,
)
GROUPS = st.lists(st.lists(st.sampled_from(["a", "b", "c", "d", "z"]), max_size=4), max_size=6)


@settings(max_examples=200, deadline=None)
@given(rows=ROWS, groups=GROUPS)
def test_all_themes_at_once_count_as_one_theme_at_a_time(
    rows: list[tuple[str, str, str, str, str]], groups: list[list[str]]
) -> None:
    """Themes share codes, list codes the data lacks, or have none: counted all at once over numpy
    columns, each theme's rows, distinct excerpts, participants and tags are what counting that
    theme alone over plain lists gives (a theme's rows by hand: those whose code it lists)."""
    together = _columns(rows, as_numpy=True).group_stats(groups, ["substance", "mechanism"])
    alone = _columns(rows, as_numpy=False)
    assert len(together) == len(groups)
    for codes, (idx, excerpts, participants, tags) in zip(groups, together):
        mine = [i for i, r in enumerate(rows) if r[2] in codes]
        assert [int(i) for i in idx] == mine
        assert excerpts == len({rows[i][0] for i in mine})
        assert participants == len({rows[i][1] for i in mine})
        expected = alone.tags_of(mine, ["substance", "mechanism"])
        assert tags == expected
        assert tags["mechanism"] == set()
        by_hand = {t.strip() for i in mine for t in rows[i][4].split(";") if t.strip()}
        assert {t.casefold() for t in tags["substance"]} == {t.casefold() for t in by_hand}
