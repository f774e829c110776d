"""Spec 10.1 (v2): Gwet's AC1 against published reference values, the bootstrap interval for
alpha, and the two scopes (two-source units vs every unit) against an independent computation."""

from __future__ import annotations

import json
import shutil
from collections import Counter
from fractions import Fraction
from pathlib import Path

import pytest

from conftest import SAMPLE
from triangulate.pipeline import analyse_path
from triangulate.protocol.agreement import (
    compute_agreement,
    gwet_ac1,
    krippendorff_alpha_bootstrap,
)

# Gwet KL (2014), Handbook of Inter-Rater Reliability, 4th ed., p. 120; distributed as the
# dataset `cac.raw4raters` of Gwet's R package irrCAC (12 units, 4 raters, categories 1-5,
# missing ratings). irrCAC's gwet.ac1.raw(cac.raw4raters) reports pa = 0.8181818,
# pe = 0.1903212, AC1 = 0.7754 (the same data are Krippendorff's 2011 example: alpha = 0.743).
RAW4RATERS: list[list[int | None]] = [
    [1, 1, None, 1],
    [2, 2, 3, 2],
    [3, 3, 3, 3],
    [3, 3, 3, 3],
    [2, 2, 2, 2],
    [1, 2, 3, 4],
    [4, 4, 4, 4],
    [1, 1, 2, 1],
    [2, 2, 2, 2],
    [None, 5, 5, 5],
    [None, None, 1, 1],
    [None, None, 3, None],
]

# irrCAC vignette "Calculating Chance-corrected Agreement Coefficients" (Gwet), dataset
# `cont3x3abstractors` (2 raters, 100 subjects, categories Ectopic / AIU / NIU):
# gwet.ac1.table -> 0.8493305; kappa2.table (Cohen) -> 0.7964094; pa2.table -> 0.89.
CONT3X3 = {
    ("Ectopic", "Ectopic"): 13,
    ("AIU", "AIU"): 20,
    ("AIU", "NIU"): 7,
    ("NIU", "AIU"): 4,
    ("NIU", "NIU"): 56,
}


def raw4raters_units() -> list[list[str]]:
    return [[str(v) for v in row if v is not None] for row in RAW4RATERS]


def test_ac1_multi_rater_with_missing_ratings_matches_gwet_2014() -> None:
    ac1 = gwet_ac1(raw4raters_units(), q=5)
    assert ac1.value == pytest.approx(0.7754, abs=5e-4)
    assert f"{ac1.value:.3f}" == "0.775"
    assert ac1.n_units == 11  # unit 12 has one rating: it counts in the shares only
    # and alpha on the same data: Krippendorff (2011) 0.743
    r = compute_agreement(
        {
            f"r{j}": {
                i: (str(row[j]) if row[j] is not None else None) for i, row in enumerate(RAW4RATERS)
            }
            for j in range(4)
        },
        [f"r{j}" for j in range(4)],
        list(range(12)),
        q=5,
    )
    assert f"{r.krippendorff_alpha.value:.3f}" == "0.743"
    assert f"{r.gwet_ac1.value:.3f}" == "0.775"


def test_ac1_two_raters_matches_irrcac_vignette() -> None:
    pairs = [pair for pair, n in CONT3X3.items() for _ in range(n)]
    ratings = {
        "a": {i: p[0] for i, p in enumerate(pairs)},
        "b": {i: p[1] for i, p in enumerate(pairs)},
    }
    r = compute_agreement(ratings, ["a", "b"], list(range(len(pairs))), q=3)
    assert f"{r.gwet_ac1.value:.3f}" == "0.849"  # 0.8493305
    assert f"{r.cohen_kappa.value:.3f}" == "0.796"  # 0.7964094
    assert f"{r.percent.value:.3f}" == "0.890"


def test_ac1_undefined_without_pairable_units() -> None:
    assert gwet_ac1([["a"], ["b"]], q=2).value is None
    assert gwet_ac1([], q=2).reason


def test_bootstrap_interval_is_deterministic_and_brackets_alpha() -> None:
    units = raw4raters_units()
    ci1, why1 = krippendorff_alpha_bootstrap(units)
    ci2, _ = krippendorff_alpha_bootstrap(units)
    assert ci1 == ci2 and why1 is None
    assert ci1 is not None and ci1[0] <= 0.743 <= ci1[1] <= 1.0
    # alpha undefined (one category everywhere): no interval, with a reason
    ci, why = krippendorff_alpha_bootstrap([["a", "a"], ["a", "a"]])
    assert ci is None and why


# ---------------------------------------------------------------------------- scope


def independent(ratings: dict[str, dict[str, str]], units: list[str]) -> dict[str, float]:
    """Percent, Cohen's kappa and AC1 for two raters, written out from the textbook formulas."""
    pairs = [(ratings["bb"][u], ratings["pl"][u]) for u in units]
    n = len(pairs)
    po = Fraction(sum(a == b for a, b in pairs), n)
    ma, mb = Counter(a for a, _ in pairs), Counter(b for _, b in pairs)
    pe = sum(Fraction(ma[c] * mb[c], n * n) for c in set(ma) | set(mb))
    kappa = (po - pe) / (1 - pe)
    q = 4  # blebu-2023's categories
    pi = {c: Fraction(ma[c] + mb[c], 2 * n) for c in set(ma) | set(mb)}
    pe_g = sum(p * (1 - p) for p in pi.values()) / (q - 1)
    return {"percent": float(po), "kappa": float(kappa), "ac1": float((po - pe_g) / (1 - pe_g))}


def test_sample_scope_two_source_units_against_an_independent_computation(tmp_path: Path) -> None:
    root = tmp_path / "sample"
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns("out"))
    a = analyse_path(root).analysis
    assert a is not None and a.agreement is not None and a.agreement_all_units is not None
    # read the worksheets independently of the tool's reader
    import csv

    sheets: dict[str, dict[str, str]] = {}
    for r in ("bb", "pl"):
        with (root / "reviews" / f"{r}.csv").open(encoding="utf-8-sig") as fh:
            rows = list(csv.DictReader(fh))
        sheets[r] = {}
        for row in rows:
            cat = row["category"]
            if not cat:  # the rule's category from yes/no judgements
                ys = [row["substance"] == "yes", row["mechanism"] == "yes"]
                cat = (
                    "full_agreement"
                    if all(ys)
                    else "partial_agreement"
                    if any(ys)
                    else "disagreement"
                )
            sheets[r][row["theme"]] = cat
    present_both = {u.theme.id for u in a.units if not u.one_source}
    one_source = {u.theme.id for u in a.units if u.one_source}
    assert len(present_both) == 5 and len(one_source) == 2
    two = independent(sheets, sorted(present_both))
    every = independent(sheets, sorted(present_both | one_source))
    ag, al = a.agreement, a.agreement_all_units
    assert (ag.units, ag.excluded_one_source) == (5, 2)
    assert ag.percent.value == pytest.approx(two["percent"]) == pytest.approx(0.8)
    assert ag.cohen_kappa.value == pytest.approx(two["kappa"]) == pytest.approx(0.0)
    assert ag.gwet_ac1.value == pytest.approx(two["ac1"])
    assert f"{ag.gwet_ac1.value:.2f}" == "0.79"
    assert ag.krippendorff_alpha.value == pytest.approx(0.0, abs=1e-12)
    assert al.units == 7
    assert al.percent.value == pytest.approx(every["percent"])
    assert al.cohen_kappa.value == pytest.approx(every["kappa"]) == pytest.approx(0.72)
    assert al.gwet_ac1.value == pytest.approx(every["ac1"])
    # summary.json: both scopes, with the v2 keys
    from triangulate.outputs.tabular import summary

    s = json.loads(json.dumps(summary(a)))
    assert s["agreement"]["excluded_one_source"] == 2
    assert "excluded_one_source" not in s["agreement_all_units"]
    assert s["agreement"]["gwet_ac1"] == pytest.approx(0.7872, abs=1e-4)
    lo, hi = s["agreement"]["krippendorff_alpha_ci95"]
    assert lo <= 0.0 <= hi
    assert s["agreement_all_units"]["cohen_kappa"] == pytest.approx(0.72)
    assert set(s["agreement"]["by_dimension"]) == {"substance", "mechanism"}
    assert s["blind"] is True
    assert s["silences"] == {"not_collected": 1, "measured_zero": 0, "not_raised": 1}
