"""Tests for :mod:`triangulate.protocol.agreement`.

Expected values come from published worked examples (each cited next to its
data) or are worked out by hand in the comments; none is derived by re-running
the implementation's formulas. statsmodels is used as an independent, test-only
oracle for Cohen's and Fleiss' kappa on random data.
"""

from __future__ import annotations

import json
import math
from collections.abc import Hashable, Sequence

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from triangulate.protocol.agreement import (
    AgreementResult,
    Statistic,
    cohen_kappa,
    compute_agreement,
    confusion_table,
    fleiss_kappa,
    krippendorff_alpha_nominal,
    percent_agreement,
)

# ---------------------------------------------------------------------------
# Helpers (data reshaping only; no statistics are computed here)
# ---------------------------------------------------------------------------

MISSING = "."


def _columns(rows: Sequence[str]) -> list[list[str]]:
    """Turn observer rows of space-separated codes into per-unit code lists."""
    split = [row.split() for row in rows]
    return [[code for code in unit if code != MISSING] for unit in zip(*split)]


def _ratings(rows: dict[str, str]) -> dict[str, dict[Hashable, str | None]]:
    """Turn observer rows into a ratings mapping keyed by 1-based unit number."""
    return {
        observer: {
            unit: (None if code == MISSING else code)
            for unit, code in enumerate(row.split(), start=1)
        }
        for observer, row in rows.items()
    }


def _expand_counts(table: Sequence[Sequence[int]]) -> list[list[str]]:
    """Turn a units x categories count table into per-unit code lists."""
    return [[f"c{j}" for j, count in enumerate(row) for _ in range(count)] for row in table]


def _pairs_from_table(table: Sequence[Sequence[int]]) -> list[tuple[str, str]]:
    """Turn a square rater-A x rater-B contingency table into code pairs."""
    return [
        (f"c{i}", f"c{j}")
        for i, row in enumerate(table)
        for j, count in enumerate(row)
        for _ in range(count)
    ]


def _assert_undefined(stat: Statistic, *fragments: str) -> None:
    assert stat.value is None
    assert stat.reason is not None and stat.reason.strip()
    for fragment in fragments:
        assert fragment in stat.reason


def _values(result: AgreementResult) -> tuple[object, ...]:
    return (
        result.units,
        result.percent.value,
        result.percent.n_units,
        result.cohen_kappa.value,
        result.cohen_kappa.n_units,
        result.fleiss_kappa.value,
        result.fleiss_kappa.n_units,
        result.krippendorff_alpha.value,
        result.krippendorff_alpha.n_units,
    )


# ---------------------------------------------------------------------------
# Krippendorff's alpha: published reference values
# ---------------------------------------------------------------------------

# Krippendorff, K. (2011). "Computing Krippendorff's Alpha-Reliability".
# Annenberg School for Communication Departmental Papers 43, University of
# Pennsylvania. https://repository.upenn.edu/asc_papers/43
# Section C, "Nominal data, any number of observers, missing data":
# 4 observers x 12 units ("." = missing). Published nominal alpha = 0.743.
# (The same matrix appears, with the same 0.743, in Krippendorff's
# "Content Analysis", 4th ed., 2019, ch. 12, and in many reference
# implementations' test suites.)
KRIPPENDORFF_2011_NOMINAL = {
    "A": "1 2 3 3 2 1 4 1 2 . . .",
    "B": "1 2 3 3 2 2 4 1 2 5 . 3",
    "C": ". 3 3 3 2 3 4 2 2 5 1 .",
    "D": "1 2 3 3 2 4 4 1 2 5 1 .",
}

# Krippendorff (2011), section A, "Binary or dichotomous data, two observers,
# no missing data": 10 units. Published alpha = 0.095.
KRIPPENDORFF_2011_BINARY = {
    "Mary": "0 1 0 0 0 0 0 0 1 0",
    "Dave": "1 1 1 0 0 1 0 0 0 0",
}

# Wikipedia, "Krippendorff's alpha", section "A computational example":
# 3 coders x 15 units with missing values ("*" there, "." here).
# Published nominal alpha = 0.691.
WIKIPEDIA_ALPHA_EXAMPLE = {
    "A": ". . . . . 3 4 1 2 1 1 3 3 . 3",
    "B": "1 . 2 1 3 3 4 3 . . . . . . .",
    "C": ". . 2 1 3 4 4 . 2 1 1 3 3 . 4",
}


def test_alpha_krippendorff_2011_nominal_missing() -> None:
    stat = krippendorff_alpha_nominal(_columns(list(KRIPPENDORFF_2011_NOMINAL.values())))
    assert stat.value == pytest.approx(0.743, abs=5e-4)
    assert stat.reason is None
    # Unit 12 has a single value and is not pairable: 11 units remain.
    assert stat.n_units == 11


def test_alpha_krippendorff_2011_binary_two_observers() -> None:
    stat = krippendorff_alpha_nominal(_columns(list(KRIPPENDORFF_2011_BINARY.values())))
    assert stat.value == pytest.approx(0.095, abs=5e-4)
    assert stat.n_units == 10


def test_alpha_wikipedia_computational_example() -> None:
    stat = krippendorff_alpha_nominal(_columns(list(WIKIPEDIA_ALPHA_EXAMPLE.values())))
    assert stat.value == pytest.approx(0.691, abs=5e-4)
    # Units 2 and 14 are uncoded and unit 1 has one value: 12 pairable units.
    assert stat.n_units == 12


def test_compute_agreement_on_krippendorff_2011_data() -> None:
    ratings = _ratings(KRIPPENDORFF_2011_NOMINAL)
    result = compute_agreement(ratings, ["A", "B", "C", "D"], list(range(1, 13)))
    assert result.units == 11
    assert result.krippendorff_alpha.value == pytest.approx(0.743, abs=5e-4)
    # Percent agreement, worked by hand. Agreeing / all reviewer pairs per unit:
    #   u1 (1,1,1) 1; u2 (2,2,3,2) 3/6; u3 1; u4 1; u5 1; u6 (1,2,3,4) 0;
    #   u7 1; u8 (1,1,2,1) 3/6; u9 1; u10 (5,5,5) 1; u11 (1,1) 1
    #   mean = 9 / 11 = 0.818181...
    assert result.percent.value == pytest.approx(9 / 11, abs=1e-12)
    # Fleiss over the 8 units all four coded (u2..u9), worked by hand:
    #   sum of squared category counts S = 10+16+16+16+4+16+10+16 = 104
    #   P_bar = (S - N n) / (N n (n-1)) = (104 - 32) / 96 = 0.75
    #   pooled totals: cat1 4, cat2 13, cat3 10, cat4 5 (of 32)
    #   P_e = (16 + 169 + 100 + 25) / 1024 = 310 / 1024
    #   kappa = (0.75 - 310/1024) / (1 - 310/1024) = 458 / 714 = 0.641456...
    assert result.fleiss_kappa.n_units == 8
    assert result.fleiss_kappa.value == pytest.approx(458 / 714, abs=1e-12)
    _assert_undefined(result.cohen_kappa, "exactly two")


# ---------------------------------------------------------------------------
# Fleiss' kappa: published reference values
# ---------------------------------------------------------------------------

# Fleiss, J. L. (1971). Measuring nominal scale agreement among many raters.
# Psychological Bulletin, 76(5), 378-382. Table 1: psychiatric diagnoses of
# 30 patients by 6 raters each; categories 1 depression, 2 personality
# disorder, 3 schizophrenia, 4 neurosis, 5 other. Published kappa = .430.
# (Distributed as the `diagnoses` data set of the R package irr; this
# row-per-patient layout is as in statsmodels' test suite.)
FLEISS_1971_DIAGNOSES = [
    "4 4 4 4 4 4", "2 2 2 5 5 5", "2 3 3 3 3 5", "5 5 5 5 5 5", "2 2 2 4 4 4",
    "1 1 3 3 3 3", "3 3 3 3 5 5", "1 1 3 3 3 4", "1 1 4 4 4 4", "5 5 5 5 5 5",
    "1 4 4 4 4 4", "1 2 4 4 4 4", "2 2 2 3 3 3", "1 4 4 4 4 4", "2 2 4 4 4 5",
    "3 3 3 3 3 5", "1 1 1 4 5 5", "1 1 1 1 1 2", "2 2 4 4 4 4", "1 3 3 5 5 5",
    "5 5 5 5 5 5", "2 4 4 4 4 4", "2 2 4 5 5 5", "1 1 4 4 4 4", "1 4 4 4 4 5",
    "2 2 2 2 2 4", "1 1 1 1 5 5", "2 2 4 4 4 4", "1 3 3 3 3 3", "5 5 5 5 5 5",
]  # fmt: skip

# Wikipedia, "Fleiss' kappa", worked example: 10 subjects, 14 raters,
# 5 categories, given as counts of raters per category. Published kappa = 0.210.
WIKIPEDIA_FLEISS_COUNTS = [
    [0, 0, 0, 0, 14],
    [0, 2, 6, 4, 2],
    [0, 0, 3, 5, 6],
    [0, 3, 9, 2, 0],
    [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0],
    [3, 2, 6, 3, 0],
    [2, 5, 3, 2, 2],
    [6, 5, 2, 1, 0],
    [0, 2, 2, 3, 7],
]


def test_fleiss_1971_diagnoses() -> None:
    stat = fleiss_kappa([row.split() for row in FLEISS_1971_DIAGNOSES])
    assert stat.value == pytest.approx(0.430, abs=5e-4)
    assert stat.n_units == 30


def test_fleiss_wikipedia_example() -> None:
    stat = fleiss_kappa(_expand_counts(WIKIPEDIA_FLEISS_COUNTS))
    assert stat.value == pytest.approx(0.210, abs=5e-4)
    assert stat.n_units == 10


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        # Randolph, J. J. (2008). Online Kappa Calculator, "fixed-marginal
        # kappa" (= Fleiss 1971) outputs, as quoted in statsmodels' tests.
        ([[7, 1], [3, 5]], 0.161905),
        ([[6, 1, 0], [0, 7, 0]], 0.708333),
    ],
)
def test_fleiss_randolph_calculator(counts: list[list[int]], expected: float) -> None:
    assert fleiss_kappa(_expand_counts(counts)).value == pytest.approx(expected, abs=1e-6)


def test_compute_agreement_fleiss_1971_diagnoses() -> None:
    raters = [f"rater{i}" for i in range(1, 7)]
    ratings: dict[str, dict[Hashable, str | None]] = {r: {} for r in raters}
    for patient, row in enumerate(FLEISS_1971_DIAGNOSES, start=1):
        for rater, code in zip(raters, row.split()):
            ratings[rater][f"patient-{patient}"] = code
    units = [f"patient-{p}" for p in range(1, 31)]
    result = compute_agreement(ratings, raters, units)
    assert result.units == 30
    assert result.fleiss_kappa.value == pytest.approx(0.430, abs=5e-4)
    assert result.fleiss_kappa.n_units == 30
    _assert_undefined(result.cohen_kappa, "exactly two", "6")


# ---------------------------------------------------------------------------
# Cohen's kappa: published reference values
# ---------------------------------------------------------------------------

# Wikipedia, "Cohen's kappa", first worked example: 50 grant proposals,
# reader A (rows) x reader B (columns), categories yes / no:
#   yes/yes 20, A yes & B no 5, A no & B yes 10, no/no 15.
#   p_o = 35/50 = 0.7, p_e = 0.5*0.6 + 0.5*0.4 = 0.5, kappa = 0.4.
WIKIPEDIA_COHEN_PAIRS = (
    [("yes", "yes")] * 20 + [("yes", "no")] * 5 + [("no", "yes")] * 10 + [("no", "no")] * 15
)

# SAS PROC FREQ example printout (simple kappa 0.4842, ASE 0.1380) for this
# 3x3 table, as reproduced in statsmodels' test suite (TestUnweightedCohens).
# Check by hand: N = 19, agreements 13, row sums 5/8/6, column sums 0/13/6,
# kappa = (13*19 - (0 + 104 + 36)) / (19^2 - 140) = 107 / 221 = 0.48416.
SAS_COHEN_TABLE = [[0, 4, 1], [0, 8, 0], [0, 1, 5]]


def test_cohen_wikipedia_two_by_two() -> None:
    stat = cohen_kappa(WIKIPEDIA_COHEN_PAIRS)
    assert stat.value == pytest.approx(0.4, abs=5e-4)
    assert stat.n_units == 50


def test_cohen_sas_three_by_three() -> None:
    stat = cohen_kappa(_pairs_from_table(SAS_COHEN_TABLE))
    assert stat.value == pytest.approx(0.4842, abs=5e-5)
    assert stat.value == pytest.approx(107 / 221, abs=1e-12)


def test_cohen_opposite_constant_raters_is_zero_not_none() -> None:
    # A always says x, B always says y: p_o = 0 and p_e = 0, so kappa = 0/1 = 0.
    stat = cohen_kappa([("x", "y")] * 4)
    assert stat.value == 0.0
    assert stat.reason is None


# ---------------------------------------------------------------------------
# Hand-worked end-to-end example
# ---------------------------------------------------------------------------


def test_compute_agreement_hand_worked_two_reviewers() -> None:
    # Units u1..u7; one disagreement (u6). u8 is coded by A only and u9 is not
    # in `units`, so neither counts.
    #   unit: u1  u2  u3  u4 u5 u6  u7
    #   ann : yes yes yes no no no  yes
    #   bob : yes yes yes no no yes yes
    # percent: 6 of 7 units agree -> 6/7 = 0.857142...
    # Cohen: ann yes 4 / no 3, bob yes 5 / no 2, N = 7
    #   p_o = 6/7, p_e = (4*5 + 3*2) / 49 = 26/49
    #   kappa = (42/49 - 26/49) / (23/49) = 16/23 = 0.695652...
    # Alpha: 14 pairable values, n_yes = 9, n_no = 5
    #   o_yes,no = o_no,yes = 1 (u6 has m_u = 2, so 1 / (2 - 1))
    #   alpha = 1 - (14 - 1) * 2 / (2 * 9 * 5) = 1 - 26/90 = 32/45 = 0.711111...
    ratings: dict[str, dict[Hashable, str | None]] = {
        "ann": {
            "u1": "yes", "u2": "yes", "u3": "yes", "u4": "no", "u5": "no",
            "u6": "no", "u7": "yes", "u8": "no", "u9": "yes",
        },
        "bob": {
            "u1": "yes", "u2": "yes", "u3": "yes", "u4": "no", "u5": "no",
            "u6": "yes", "u7": "yes", "u8": None, "u9": "no",
        },
    }  # fmt: skip
    units = ["u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8"]
    result = compute_agreement(ratings, ["ann", "bob"], units)

    assert result.reviewers == ("ann", "bob")
    assert result.units == 7
    assert result.percent.value == pytest.approx(6 / 7, abs=1e-12)
    assert result.percent.n_units == 7
    assert result.percent.reason is None
    assert result.cohen_kappa.value == pytest.approx(16 / 23, abs=1e-12)
    assert result.cohen_kappa.n_units == 7
    assert result.krippendorff_alpha.value == pytest.approx(32 / 45, abs=1e-12)
    assert result.krippendorff_alpha.n_units == 7
    _assert_undefined(result.fleiss_kappa, "three or more")

    as_dict = result.to_dict()
    assert list(as_dict) == [
        "reviewers",
        "units",
        "percent",
        "cohen_kappa",
        "fleiss_kappa",
        "krippendorff_alpha",
        "krippendorff_alpha_ci95",  # v2
        "gwet_ac1",  # v2
        "notes",
    ]
    for v2_key in ("krippendorff_alpha_ci95", "gwet_ac1"):
        as_dict.pop(v2_key)
    assert as_dict == {
        "reviewers": ["ann", "bob"],
        "units": 7,
        "percent": 0.8571,
        "cohen_kappa": 0.6957,
        "fleiss_kappa": None,
        "krippendorff_alpha": 0.7111,
        "notes": {"fleiss_kappa": result.fleiss_kappa.reason},
    }
    assert json.loads(json.dumps(as_dict)) == as_dict


def test_confusion_table_wikipedia_cohen_example() -> None:
    ratings: dict[str, dict[Hashable, str | None]] = {"A": {}, "B": {}}
    for unit, (a, b) in enumerate(WIKIPEDIA_COHEN_PAIRS):
        ratings["A"][unit] = a
        ratings["B"][unit] = b
    ratings["A"][100] = "yes"  # coded by A only: ignored
    ratings["B"][100] = None
    ratings["A"][101] = "no"  # not in `units`: ignored
    ratings["B"][101] = "no"
    units: list[Hashable] = [*range(len(WIKIPEDIA_COHEN_PAIRS)), 100]
    assert confusion_table(ratings, "A", "B", units, ["yes", "no"]) == [[20, 5], [10, 15]]
    assert confusion_table(ratings, "B", "A", units, ["no", "yes"]) == [[15, 5], [10, 20]]
    # A category not in the table's categories is an error.
    with pytest.raises(ValueError, match="not in the given categories"):
        confusion_table(ratings, "A", "B", units, ["yes"])
    with pytest.raises(ValueError, match="duplicate"):
        confusion_table(ratings, "A", "B", units, ["yes", "no", "yes"])
    # Unused categories just give empty rows/columns; unknown reviewers code nothing.
    assert confusion_table(ratings, "A", "B", units, ["maybe", "yes", "no"]) == [
        [0, 0, 0],
        [0, 20, 5],
        [0, 10, 15],
    ]
    assert confusion_table(ratings, "A", "nobody", units, ["yes", "no"]) == [[0, 0], [0, 0]]


# ---------------------------------------------------------------------------
# Degenerate cases: value None with a reason, never a crash, 1.0 or NaN
# ---------------------------------------------------------------------------


def test_percent_agreement_undefined_without_pairable_units() -> None:
    _assert_undefined(percent_agreement([]), "no unit was coded by two reviewers")
    _assert_undefined(percent_agreement([["x"], []]), "no unit was coded by two reviewers")


def test_percent_agreement_single_category_is_defined() -> None:
    assert percent_agreement([["x", "x"], ["x", "x", "x"]]) == Statistic(1.0, None, 2)
    # Hand-worked: (x,x,y) has 1 agreeing pair of 3 -> 1/3; (x,y) -> 0; mean 1/6.
    assert percent_agreement([["x", "x", "y"], ["x", "y"], ["z"]]).value == pytest.approx(1 / 6)


def test_alpha_degenerate_cases() -> None:
    _assert_undefined(krippendorff_alpha_nominal([]), "no unit was coded by two reviewers")
    _assert_undefined(krippendorff_alpha_nominal([["a"], ["b"]]), "no unit was coded by two")
    _assert_undefined(krippendorff_alpha_nominal([["a", "b", "a"]]), "only one unit")
    stat = krippendorff_alpha_nominal([["a", "a"], ["a", "a", "a"], ["a"]])
    _assert_undefined(stat, "one category", '"a"', "undefined")
    assert stat.n_units == 2


def test_cohen_degenerate_cases() -> None:
    _assert_undefined(cohen_kappa([]), "no unit was coded by both reviewers")
    # A single unit: agreement would otherwise read as a misleading 1.0.
    _assert_undefined(cohen_kappa([("x", "x")]), "only one unit")
    _assert_undefined(cohen_kappa([("x", "y")]), "only one unit")
    stat = cohen_kappa([("x", "x")] * 5)
    _assert_undefined(stat, "one category", '"x"', "chance-corrected agreement is undefined")
    assert stat.n_units == 5


def test_fleiss_degenerate_cases() -> None:
    _assert_undefined(fleiss_kappa([]), "no unit was coded by all reviewers")
    _assert_undefined(fleiss_kappa([["x", "x", "y"]]), "only one unit")
    _assert_undefined(fleiss_kappa([["x"] * 3] * 4), "one category", '"x"')


def test_fleiss_rejects_unequal_or_too_few_raters() -> None:
    with pytest.raises(ValueError, match="same number"):
        fleiss_kappa([["a", "b", "a"], ["a", "b"]])
    with pytest.raises(ValueError, match="at least two"):
        fleiss_kappa([["a"], ["b"]])


def test_compute_agreement_empty_inputs() -> None:
    result = compute_agreement({}, [], [])
    assert result.units == 0
    assert result.reviewers == ()
    for stat in (result.percent, result.krippendorff_alpha):
        _assert_undefined(stat, "no unit was coded by two reviewers")
    _assert_undefined(result.cohen_kappa, "exactly two", "0 were given")
    _assert_undefined(result.fleiss_kappa, "three or more", "0 were given")
    assert result.to_dict()["notes"] == {
        "percent": result.percent.reason,
        "cohen_kappa": result.cohen_kappa.reason,
        "fleiss_kappa": result.fleiss_kappa.reason,
        "krippendorff_alpha": result.krippendorff_alpha.reason,
        "gwet_ac1": result.gwet_ac1.reason,
    }


def test_compute_agreement_all_missing() -> None:
    ratings: dict[str, dict[Hashable, str | None]] = {
        "a": {1: None, 2: None},
        "b": {1: None, 2: None},
    }
    result = compute_agreement(ratings, ["a", "b"], [1, 2])
    assert result.units == 0
    _assert_undefined(result.percent, "no unit was coded by two reviewers")
    _assert_undefined(result.cohen_kappa, "no unit was coded by both reviewers")
    _assert_undefined(result.krippendorff_alpha, "no unit was coded by two reviewers")


def test_compute_agreement_one_reviewer() -> None:
    ratings: dict[str, dict[Hashable, str | None]] = {"solo": {1: "x", 2: "y"}}
    result = compute_agreement(ratings, ["solo"], [1, 2])
    assert result.units == 0
    _assert_undefined(result.cohen_kappa, "exactly two", "1 were given")
    _assert_undefined(result.fleiss_kappa, "three or more", "1 were given")
    _assert_undefined(result.krippendorff_alpha, "no unit was coded by two reviewers")


def test_compute_agreement_single_shared_unit_is_not_perfect() -> None:
    ratings: dict[str, dict[Hashable, str | None]] = {
        "a": {1: "x", 2: "y"},
        "b": {1: "x", 2: None},
    }
    result = compute_agreement(ratings, ["a", "b"], [1, 2])
    assert result.units == 1
    assert result.percent.value == 1.0
    _assert_undefined(result.cohen_kappa, "only one unit")
    _assert_undefined(result.krippendorff_alpha, "only one unit")


def test_compute_agreement_one_category_everywhere() -> None:
    ratings: dict[str, dict[Hashable, str | None]] = {
        r: dict.fromkeys(range(5), "theme-present") for r in ("a", "b", "c")
    }
    result = compute_agreement(ratings, ["a", "b", "c"], list(range(5)))
    assert result.percent.value == 1.0
    for stat in (result.fleiss_kappa, result.krippendorff_alpha):
        _assert_undefined(stat, "one category", "theme-present", "undefined")
    two = compute_agreement(ratings, ["a", "b"], list(range(5)))
    _assert_undefined(two.cohen_kappa, "one category", "theme-present")


def test_compute_agreement_fleiss_needs_a_unit_all_coded() -> None:
    ratings: dict[str, dict[Hashable, str | None]] = {
        "a": {1: "x", 2: "y", 3: None},
        "b": {1: "x", 2: None, 3: "y"},
        "c": {1: None, 2: "y", 3: "x"},
    }
    result = compute_agreement(ratings, ["a", "b", "c"], [1, 2, 3])
    assert result.units == 3
    _assert_undefined(result.fleiss_kappa, "no unit was coded by all 3 reviewers")
    assert result.krippendorff_alpha.value is not None


def test_compute_agreement_ignores_duplicates_and_unlisted() -> None:
    ratings: dict[str, dict[Hashable, str | None]] = {
        "a": {1: "x", 2: "y", 3: "x"},
        "b": {1: "x", 2: "y", 3: "y"},
        "ghost": {1: "z", 2: "z", 3: "z"},
    }
    base = compute_agreement(ratings, ["a", "b"], [1, 2, 3])
    dup = compute_agreement(ratings, ["a", "b", "a"], [1, 2, 3, 2, 1])
    assert dup == base
    assert dup.reviewers == ("a", "b")
    # A listed reviewer with no ratings codes nothing.
    with_missing = compute_agreement(ratings, ["a", "b", "nobody"], [1, 2, 3])
    assert with_missing.krippendorff_alpha == base.krippendorff_alpha
    _assert_undefined(with_missing.fleiss_kappa, "no unit was coded by all 3 reviewers")


def test_to_dict_rounding_and_negative_zero() -> None:
    result = AgreementResult(
        reviewers=("a", "b"),
        units=3,
        percent=Statistic(2 / 3, None, 3),
        cohen_kappa=Statistic(-0.00001, None, 3),
        fleiss_kappa=Statistic(None, "not applicable", 0),
        krippendorff_alpha=Statistic(0.123456, None, 3),
        gwet_ac1=Statistic(0.5, None, 3),
        krippendorff_alpha_ci95=(0.01, 0.3),
    )
    as_dict = result.to_dict()
    assert as_dict["percent"] == 0.6667
    assert as_dict["krippendorff_alpha"] == 0.1235
    assert json.dumps(as_dict["cohen_kappa"]) == "0.0"
    assert as_dict["notes"] == {"fleiss_kappa": "not applicable"}


# ---------------------------------------------------------------------------
# statsmodels as a test-only oracle
# ---------------------------------------------------------------------------

CATS = ["a", "b", "c", "d"]


@pytest.mark.slow
@pytest.mark.fuzz
@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(CATS), st.sampled_from(CATS)), min_size=2, max_size=40))
def test_cohen_matches_statsmodels(pairs: list[tuple[str, str]]) -> None:
    inter_rater = pytest.importorskip("statsmodels.stats.inter_rater")
    assume(len({c for pair in pairs for c in pair}) >= 2)
    table = [[0] * len(CATS) for _ in CATS]
    for a, b in pairs:
        table[CATS.index(a)][CATS.index(b)] += 1
    expected = float(inter_rater.cohens_kappa(table, return_results=False))
    stat = cohen_kappa(pairs)
    assert stat.value is not None
    assert stat.value == pytest.approx(expected, abs=1e-9)


@pytest.mark.fuzz
@settings(max_examples=150, deadline=None)
@given(
    st.integers(min_value=3, max_value=6).flatmap(
        lambda n: st.lists(
            st.lists(st.sampled_from(CATS), min_size=n, max_size=n), min_size=2, max_size=25
        )
    )
)
def test_fleiss_matches_statsmodels(units: list[list[str]]) -> None:
    inter_rater = pytest.importorskip("statsmodels.stats.inter_rater")
    assume(len({c for unit in units for c in unit}) >= 2)
    numeric = [[CATS.index(c) for c in unit] for unit in units]
    counts, _ = inter_rater.aggregate_raters(numeric, n_cat=len(CATS))
    expected = float(inter_rater.fleiss_kappa(counts, method="fleiss"))
    stat = fleiss_kappa(units)
    assert stat.value is not None
    assert stat.value == pytest.approx(expected, abs=1e-9)


def test_statsmodels_oracle_agrees_on_fleiss_1971() -> None:
    inter_rater = pytest.importorskip("statsmodels.stats.inter_rater")
    numeric = [[int(c) for c in row.split()] for row in FLEISS_1971_DIAGNOSES]
    counts, _ = inter_rater.aggregate_raters(numeric)
    expected = float(inter_rater.fleiss_kappa(counts, method="fleiss"))
    stat = fleiss_kappa([row.split() for row in FLEISS_1971_DIAGNOSES])
    assert stat.value == pytest.approx(expected, abs=1e-12)


# ---------------------------------------------------------------------------
# Hypothesis properties
# ---------------------------------------------------------------------------

REVIEWERS = ["r1", "r2", "r3", "r4"]
codes = st.one_of(st.none(), st.sampled_from(CATS))
small_ratings = st.dictionaries(
    st.sampled_from(REVIEWERS),
    st.dictionaries(st.integers(min_value=0, max_value=7), codes, max_size=8),
    max_size=4,
)
unit_lists = st.lists(
    st.lists(st.sampled_from(CATS), max_size=6), max_size=20
)  # per-unit codes, possibly unpairable


def _in_range(stat: Statistic) -> bool:
    return stat.value is None or (-1.0 <= stat.value <= 1.0 and not math.isnan(stat.value))


@pytest.mark.fuzz
@given(unit_lists)
def test_alpha_and_percent_in_range(units: list[list[str]]) -> None:
    alpha = krippendorff_alpha_nominal(units)
    percent = percent_agreement(units)
    assert _in_range(alpha)
    assert percent.value is None or 0.0 <= percent.value <= 1.0
    for stat in (alpha, percent):
        assert (stat.value is None) == (stat.reason is not None)


@pytest.mark.fuzz
@given(st.lists(st.tuples(st.sampled_from(CATS), st.sampled_from(CATS)), max_size=30))
def test_cohen_in_range(pairs: list[tuple[str, str]]) -> None:
    stat = cohen_kappa(pairs)
    assert _in_range(stat)
    assert (stat.value is None) == (stat.reason is not None)


@pytest.mark.fuzz
@given(
    st.integers(min_value=2, max_value=6).flatmap(
        lambda n: st.lists(st.lists(st.sampled_from(CATS), min_size=n, max_size=n), max_size=20)
    )
)
def test_fleiss_in_range(units: list[list[str]]) -> None:
    stat = fleiss_kappa(units)
    assert _in_range(stat)
    assert (stat.value is None) == (stat.reason is not None)


@pytest.mark.fuzz
@given(
    st.lists(st.sampled_from(CATS), min_size=2, max_size=20),
    st.integers(min_value=2, max_value=5),
)
def test_perfect_agreement_is_exactly_one(truth: list[str], raters: int) -> None:
    assume(len(set(truth)) >= 2)
    units = [[c] * raters for c in truth]
    assert krippendorff_alpha_nominal(units).value == 1.0
    assert fleiss_kappa(units).value == 1.0
    assert cohen_kappa([(c, c) for c in truth]).value == 1.0
    assert percent_agreement(units).value == 1.0
    ratings: dict[str, dict[Hashable, str | None]] = {
        f"r{i}": dict(enumerate(truth)) for i in range(raters)
    }
    result = compute_agreement(ratings, list(ratings), list(range(len(truth))))
    assert result.krippendorff_alpha.value == 1.0
    if raters == 2:
        assert result.cohen_kappa.value == 1.0
    else:
        assert result.fleiss_kappa.value == 1.0


@pytest.mark.fuzz
@given(small_ratings, st.permutations(CATS))
def test_invariant_to_renaming_categories(
    ratings: dict[str, dict[int, str | None]], renamed: list[str]
) -> None:
    mapping = {old: f"new-{new}" for old, new in zip(CATS, renamed)}
    renamed_ratings = {
        r: {u: (None if c is None else mapping[c]) for u, c in codes_.items()}
        for r, codes_ in ratings.items()
    }
    for reviewers in (REVIEWERS[:2], REVIEWERS[:3], REVIEWERS):
        units = list(range(8))
        before = compute_agreement(ratings, reviewers, units)
        after = compute_agreement(renamed_ratings, reviewers, units)
        assert _values(before) == _values(after)


@pytest.mark.fuzz
@given(small_ratings, st.permutations(REVIEWERS))
def test_invariant_to_reviewer_order(
    ratings: dict[str, dict[int, str | None]], order: list[str]
) -> None:
    units = list(range(8))
    for size in (2, 3, 4):
        chosen = REVIEWERS[:size]
        reordered = [r for r in order if r in chosen]
        before = compute_agreement(ratings, chosen, units)
        after = compute_agreement(ratings, reordered, units)
        assert _values(before) == _values(after)
        assert after.reviewers == tuple(reordered)


arbitrary_codes = st.one_of(st.none(), st.text(max_size=60))
arbitrary_units = st.one_of(st.integers(), st.text(max_size=5), st.tuples(st.integers()))


@pytest.mark.slow
@pytest.mark.fuzz
@settings(suppress_health_check=[HealthCheck.too_slow])
@given(
    st.dictionaries(
        st.text(max_size=5),
        st.dictionaries(arbitrary_units, arbitrary_codes, max_size=10),
        max_size=5,
    ),
    st.lists(st.text(max_size=5), max_size=6),
    st.lists(arbitrary_units, max_size=12),
)
def test_compute_agreement_never_raises(
    ratings: dict[str, dict[Hashable, str | None]],
    extra_reviewers: list[str],
    extra_units: list[Hashable],
) -> None:
    reviewers = [*ratings, *extra_reviewers]
    units = [*{u for codes_ in ratings.values() for u in codes_}, *extra_units]
    result = compute_agreement(ratings, reviewers, units)
    for stat in (
        result.percent,
        result.cohen_kappa,
        result.fleiss_kappa,
        result.krippendorff_alpha,
        result.gwet_ac1,
    ):
        assert _in_range(stat)
        assert (stat.value is None) == (stat.reason is not None)
        assert 0 <= stat.n_units <= result.units
    as_dict = result.to_dict()
    assert json.loads(json.dumps(as_dict)) == as_dict
    notes = as_dict["notes"]
    assert isinstance(notes, dict)
    # v2: gwet_ac1, and the alpha interval when alpha is defined but no resample defines it
    assert set(notes) - {"krippendorff_alpha_ci95"} == {
        name
        for name in ("percent", "cohen_kappa", "fleiss_kappa", "krippendorff_alpha", "gwet_ac1")
        if as_dict[name] is None
    }
