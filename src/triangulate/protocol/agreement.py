"""Inter-rater agreement for nominal codes, with missing codes allowed.

This module computes four agreement statistics over reviewers' categorical
codes:

* raw percent agreement (mean share of agreeing reviewer pairs per unit),
* Cohen's kappa (Cohen 1960) for exactly two reviewers,
* Fleiss' kappa (Fleiss 1971) for three or more reviewers, over the units
  that every reviewer coded,
* Krippendorff's alpha for nominal data (coincidence-matrix method of
  Krippendorff 2011, "Computing Krippendorff's Alpha-Reliability"), which
  uses every unit coded by at least two reviewers, with a 95% bootstrap
  interval (units resampled, fixed seed),
* Gwet's AC1 (Gwet 2008; the multi-rater form with missing ratings of
  Gwet 2014, Handbook of Inter-Rater Reliability, 4th ed., ch. 2 and 5).

All arithmetic is done on integers or :class:`fractions.Fraction` values and
converted to ``float`` only at the end, so perfect agreement gives exactly
``1.0`` and degenerate denominators are detected exactly rather than by a
floating-point tolerance.

Degenerate inputs never raise and never produce ``NaN``: the statistic's
``value`` is ``None`` and ``reason`` says why in one plain-English sentence.

Only the standard library is used.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, TypeVar

__all__ = [
    "AgreementResult",
    "Ratings",
    "Statistic",
    "cohen_kappa",
    "compute_agreement",
    "confusion_table",
    "fleiss_kappa",
    "gwet_ac1",
    "krippendorff_alpha_bootstrap",
    "krippendorff_alpha_nominal",
    "percent_agreement",
]

Ratings = Mapping[str, Mapping[Hashable, str | None]]
"""Reviewer id -> unit key -> category; ``None`` (or an absent key) means not coded."""

UnitT = TypeVar("UnitT", bound=Hashable)

_NO_PAIRABLE_UNIT = "no unit was coded by two reviewers"
_NO_SHARED_UNIT = "no unit was coded by both reviewers"
_MAX_CATEGORY_LABEL = 40


@dataclass(frozen=True)
class Statistic:
    """One agreement statistic.

    Attributes:
        value: The statistic, or ``None`` when it is undefined for the data.
        reason: Why ``value`` is ``None`` (one plain-English sentence), else ``None``.
        n_units: The number of units the statistic was (or would have been)
            computed over; ``0`` when the statistic does not apply at all.
    """

    value: float | None
    reason: str | None
    n_units: int


@dataclass(frozen=True)
class AgreementResult:
    """Agreement statistics for a set of reviewers over a set of units.

    Attributes:
        reviewers: The reviewers considered, in the order given (duplicates removed).
        units: The number of units coded by at least two of those reviewers.
        percent: Mean share of agreeing reviewer pairs per unit, over ``units``.
        cohen_kappa: Cohen's kappa (exactly two reviewers, units both coded).
        fleiss_kappa: Fleiss' kappa (three or more reviewers, units all coded).
        krippendorff_alpha: Nominal Krippendorff's alpha over every unit with
            at least two codes.
        gwet_ac1: Gwet's AC1 (multi-rater, missing ratings allowed).
        krippendorff_alpha_ci95: 95% bootstrap interval for alpha, or None.
        by_dimension: The same statistics per protocol dimension (yes/no judgements).
        excluded_one_source: Units coded by at least two reviewers left out of
            this scope because their theme is in one source only (None when the
            scope is every unit).
        scope: ``"two_source"`` or ``"all_units"`` (words for the report).
    """

    reviewers: tuple[str, ...]
    units: int
    percent: Statistic
    cohen_kappa: Statistic
    fleiss_kappa: Statistic
    krippendorff_alpha: Statistic
    gwet_ac1: Statistic = field(default_factory=lambda: Statistic(None, "not computed", 0))
    krippendorff_alpha_ci95: tuple[float, float] | None = None
    ci_reason: str | None = None
    by_dimension: dict[str, AgreementResult] = field(default_factory=dict)
    excluded_one_source: int | None = None
    scope: str = "all_units"

    def statistics(self) -> tuple[tuple[str, Statistic], ...]:
        return (
            ("percent", self.percent),
            ("cohen_kappa", self.cohen_kappa),
            ("fleiss_kappa", self.fleiss_kappa),
            ("krippendorff_alpha", self.krippendorff_alpha),
            ("gwet_ac1", self.gwet_ac1),
        )

    def get(self, key: str, default: Any = None) -> Any:
        """Dict-style access to the JSON form's keys (for callers written against the dict)."""
        return self.to_dict().get(key, default)

    @property
    def notes(self) -> dict[str, str]:
        """Why each undefined statistic is undefined."""
        out: dict[str, str] = {}
        for name, stat in self.statistics():
            if stat.value is None:
                out[name] = stat.reason or "the statistic is undefined for these data"
        if self.krippendorff_alpha_ci95 is None and self.krippendorff_alpha.value is not None:
            out["krippendorff_alpha_ci95"] = self.ci_reason or "no bootstrap resample defines alpha"
        return out

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable summary with a deterministic key order.

        Floats are rounded to four decimals. ``notes`` maps the name of each
        statistic whose value is ``None`` to the reason it is undefined.
        """
        out: dict[str, Any] = {
            "reviewers": list(self.reviewers),
            "units": self.units,
        }
        for name, stat in self.statistics()[:4]:
            out[name] = _round4(stat.value)
        out["krippendorff_alpha_ci95"] = (
            [_round4(self.krippendorff_alpha_ci95[0]), _round4(self.krippendorff_alpha_ci95[1])]
            if self.krippendorff_alpha_ci95 is not None
            else None
        )
        out["gwet_ac1"] = _round4(self.gwet_ac1.value)
        out["notes"] = self.notes
        if self.by_dimension:
            by: dict[str, Any] = {}
            for d, r in self.by_dimension.items():
                dd = r.to_dict()
                dd.pop("reviewers", None)
                by[d] = dd
            out["by_dimension"] = by
        if self.excluded_one_source is not None:
            out["excluded_one_source"] = self.excluded_one_source
        return out


def _round4(value: float | None) -> float | None:
    """Round to four decimals, normalising ``-0.0`` to ``0.0``."""
    if value is None:
        return None
    rounded = round(value, 4)
    return 0.0 if rounded == 0 else rounded


def _label(category: object) -> str:
    """Return a short quoted label for a category, for use in reasons."""
    text = str(category)
    if len(text) > _MAX_CATEGORY_LABEL:
        text = text[: _MAX_CATEGORY_LABEL - 3] + "..."
    return f'"{text}"'


def _one_category_reason(category: object) -> str:
    """Reason used when every code is the same category."""
    return (
        f"all codes fall in one category ({_label(category)}); "
        "chance-corrected agreement is undefined"
    )


def _single_unit_reason(who: str) -> str:
    """Reason used when only one unit is available to a chance-corrected statistic."""
    return f"only one unit was coded by {who}; chance-corrected agreement needs at least two units"


def _pairable(unit_values: Iterable[Sequence[str]]) -> list[Sequence[str]]:
    """Keep only the units with at least two codes."""
    return [values for values in unit_values if len(values) >= 2]


def _ratio(numerator: Fraction | int, denominator: Fraction | int) -> float:
    """Exact ratio converted to float (denominator must be non-zero)."""
    return float(Fraction(numerator) / Fraction(denominator))


def percent_agreement(unit_values: Sequence[Sequence[str]]) -> Statistic:
    """Mean per-unit share of agreeing pairs of codes.

    For a unit with ``m`` codes, of which ``n_c`` are category ``c``, the share
    is ``sum_c n_c (n_c - 1) / (m (m - 1))``. The statistic is the mean share
    over units with at least two codes; units with fewer are dropped.

    Args:
        unit_values: One inner sequence per unit holding the codes given to
            that unit (missing codes already removed).

    Returns:
        The proportion (0..1), or ``None`` with a reason when no unit has two codes.
    """
    units = _pairable(unit_values)
    if not units:
        return Statistic(None, _NO_PAIRABLE_UNIT, 0)
    # Group units by their number of codes so the sum stays exact and cheap.
    agreeing_by_size: dict[int, int] = {}
    for values in units:
        m = len(values)
        agreeing = sum(n * (n - 1) for n in Counter(values).values())
        agreeing_by_size[m] = agreeing_by_size.get(m, 0) + agreeing
    total = sum(
        (Fraction(agreeing, m * (m - 1)) for m, agreeing in agreeing_by_size.items()),
        Fraction(0),
    )
    return Statistic(_ratio(total, len(units)), None, len(units))


def cohen_kappa(pairs: Sequence[tuple[str, str]]) -> Statistic:
    """Cohen's (1960) unweighted kappa for two raters.

    ``kappa = (p_o - p_e) / (1 - p_e)`` where ``p_o`` is the observed share of
    agreeing pairs and ``p_e = sum_c p_A(c) p_B(c)`` comes from each rater's
    own marginal distribution.

    Args:
        pairs: One ``(code_of_rater_A, code_of_rater_B)`` tuple per unit both coded.

    Returns:
        The kappa, or ``None`` with a reason when there are no pairs, a single
        pair, or every code is the same single category.
    """
    n = len(pairs)
    if n == 0:
        return Statistic(None, _NO_SHARED_UNIT, 0)
    if n == 1:
        return Statistic(None, _single_unit_reason("both reviewers"), 1)
    agree = sum(1 for a, b in pairs if a == b)
    margin_a = Counter(a for a, _ in pairs)
    margin_b = Counter(b for _, b in pairs)
    chance = sum(count * margin_b[cat] for cat, count in margin_a.items())
    # Multiply numerator and denominator by n**2 to stay in integers.
    numerator = agree * n - chance
    denominator = n * n - chance
    if denominator == 0:
        return Statistic(None, _one_category_reason(pairs[0][0]), n)
    return Statistic(_ratio(numerator, denominator), None, n)


def fleiss_kappa(unit_values: Sequence[Sequence[str]]) -> Statistic:
    """Fleiss' (1971) kappa for a fixed number of raters per unit.

    ``kappa = (P_bar - P_e) / (1 - P_e)`` where ``P_bar`` is the mean per-unit
    agreement ``(sum_j n_ij^2 - n) / (n (n - 1))`` and ``P_e = sum_j p_j^2``
    uses the pooled category proportions ``p_j``.

    Args:
        unit_values: One inner sequence per unit holding the codes given to
            it; every unit must have the same number ``n >= 2`` of codes.

    Returns:
        The kappa, or ``None`` with a reason when there are no units, a single
        unit, or every code is the same single category.

    Raises:
        ValueError: If the units do not all have the same number of codes, or
            that number is below two.
    """
    if not unit_values:
        return Statistic(None, "no unit was coded by all reviewers", 0)
    raters = len(unit_values[0])
    if raters < 2:
        raise ValueError(f"Fleiss' kappa needs at least two codes per unit; got {raters}")
    for index, values in enumerate(unit_values):
        if len(values) != raters:
            raise ValueError(
                f"Fleiss' kappa needs the same number of codes for every unit; "
                f"unit {index} has {len(values)}, expected {raters}"
            )
    n_units = len(unit_values)
    if n_units == 1:
        return Statistic(None, _single_unit_reason("all reviewers"), 1)
    sum_sq = 0  # S = sum_i sum_j n_ij^2
    totals: Counter[str] = Counter()  # T_j = sum_i n_ij
    for values in unit_values:
        counts = Counter(values)
        sum_sq += sum(c * c for c in counts.values())
        totals.update(counts)
    if len(totals) == 1:
        return Statistic(None, _one_category_reason(next(iter(totals))), n_units)
    nn = n_units * raters
    q = sum(t * t for t in totals.values())  # Q = sum_j T_j^2
    # kappa scaled by (N n)^2 (n - 1) in numerator and denominator:
    numerator = (sum_sq - nn) * nn - q * (raters - 1)
    denominator = (nn * nn - q) * (raters - 1)
    return Statistic(_ratio(numerator, denominator), None, n_units)


def krippendorff_alpha_nominal(unit_values: Sequence[Sequence[str]]) -> Statistic:
    """Krippendorff's alpha for nominal data, missing codes allowed.

    Coincidence-matrix method (Krippendorff 2011): with ``o_ck`` the number of
    ordered ``c``-``k`` value pairs within each unit divided by that unit's
    ``m_u - 1``, ``n_c`` the pairable values of category ``c`` and ``n`` their
    total, ``alpha = 1 - (n - 1) * sum_{c != k} o_ck / sum_{c != k} n_c n_k``.

    Args:
        unit_values: One inner sequence per unit holding the codes given to
            it (missing codes removed). Units with fewer than two codes are
            not pairable and are dropped.

    Returns:
        The alpha, or ``None`` with a reason when no unit (or only one unit)
        is pairable, or every pairable code is the same single category.
    """
    units = _pairable(unit_values)
    if not units:
        return Statistic(None, _NO_PAIRABLE_UNIT, 0)
    if len(units) == 1:
        return Statistic(None, _single_unit_reason("two or more reviewers"), 1)
    totals: Counter[str] = Counter()
    disagreeing_by_size: dict[int, int] = {}
    for values in units:
        m = len(values)
        counts = Counter(values)
        totals.update(counts)
        # Ordered pairs of different values within the unit: m^2 - sum_c n_uc^2.
        disagreeing = m * m - sum(c * c for c in counts.values())
        disagreeing_by_size[m] = disagreeing_by_size.get(m, 0) + disagreeing
    if len(totals) == 1:
        return Statistic(None, _one_category_reason(next(iter(totals))), len(units))
    n = sum(totals.values())
    observed = sum(
        (Fraction(d, m - 1) for m, d in disagreeing_by_size.items()),
        Fraction(0),
    )
    expected = n * n - sum(t * t for t in totals.values())
    alpha = 1 - Fraction(n - 1) * observed / expected
    return Statistic(float(alpha), None, len(units))


def gwet_ac1(unit_values: Sequence[Sequence[str]], q: int) -> Statistic:
    """Gwet's AC1 for nominal ratings by any number of raters, missing ratings allowed.

    Gwet (2014), Handbook of Inter-Rater Reliability, 4th ed.: with ``r_i`` the ratings of unit
    ``i`` and ``r_ik`` those in category ``k``, observed agreement
    ``p_a = mean over units with r_i >= 2 of sum_k r_ik (r_ik - 1) / (r_i (r_i - 1))``; category
    shares ``pi_k = mean over units with r_i >= 1 of r_ik / r_i``; chance agreement
    ``p_e = sum_k pi_k (1 - pi_k) / (q - 1)``; ``AC1 = (p_a - p_e) / (1 - p_e)``.

    Args:
        unit_values: One inner sequence per unit holding its codes (missing removed); units
            with one code count towards the shares only.
        q: The number of categories raters could choose (the protocol's, 2 for yes/no).
    """
    rated = [v for v in unit_values if len(v) >= 1]
    pairable = _pairable(rated)
    if not pairable:
        return Statistic(None, _NO_PAIRABLE_UNIT, 0)
    if q < 2:
        return Statistic(None, "AC1 needs at least two categories to choose from", len(pairable))
    pa = sum(
        (
            Fraction(sum(c * (c - 1) for c in Counter(v).values()), len(v) * (len(v) - 1))
            for v in pairable
        ),
        Fraction(0),
    ) / len(pairable)
    shares: dict[str, Fraction] = {}
    for v in rated:
        for cat, c in Counter(v).items():
            shares[cat] = shares.get(cat, Fraction(0)) + Fraction(c, len(v))
    pi = [s / len(rated) for s in shares.values()]
    pe = sum((p * (1 - p) for p in pi), Fraction(0)) / (q - 1)
    if pe == 1:
        return Statistic(None, "chance agreement is 1; AC1 is undefined", len(pairable))
    return Statistic(float((pa - pe) / (1 - pe)), None, len(pairable))


BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 20060301  # fixed: the same data always give the same interval


def krippendorff_alpha_bootstrap(
    unit_values: Sequence[Sequence[str]],
    resamples: int = BOOTSTRAP_RESAMPLES,
    seed: int = BOOTSTRAP_SEED,
) -> tuple[tuple[float, float] | None, str | None]:
    """A 95% percentile bootstrap interval for nominal alpha, resampling units.

    Units with at least two codes are drawn with replacement (as many as there are);
    resamples in which alpha is undefined are skipped, and the interval is the 2.5th and
    97.5th percentile (linear interpolation) of the others. Deterministic: NumPy's legacy
    ``RandomState`` with a fixed seed, whose stream NumPy keeps stable across releases.
    Identical units are pooled, so the cost does not grow with the number of units.
    """
    units = _pairable(unit_values)
    if len(units) < 2:
        return None, "alpha is undefined, so it has no interval"
    import numpy as np

    profiles: Counter[tuple[tuple[str, int], ...]] = Counter(
        tuple(sorted(Counter(v).items())) for v in units
    )
    keys = list(profiles)
    cats = sorted({c for k in keys for c, _ in k})
    counts = np.array([[dict(k).get(c, 0) for c in cats] for k in keys], dtype=float)
    m = counts.sum(axis=1)
    disagree = (m * m - (counts * counts).sum(axis=1)) / (m - 1)
    probs = np.array([profiles[k] for k in keys], dtype=float) / len(units)
    rs = np.random.RandomState(seed)
    draws = rs.multinomial(len(units), probs, size=resamples).astype(float)
    n = draws @ m
    observed = draws @ disagree
    totals = draws @ counts
    expected = n * n - (totals * totals).sum(axis=1)
    ok = expected > 0
    if not ok.any():
        return None, "no bootstrap resample defines alpha (every resample holds one category)"
    alphas = 1 - (n[ok] - 1) * observed[ok] / expected[ok]
    low, high = np.percentile(alphas, [2.5, 97.5])
    return (float(low), float(high)), None


def _unique(items: Iterable[UnitT]) -> list[UnitT]:
    """Remove duplicates, keeping the first occurrence's position."""
    return list(dict.fromkeys(items))


def _code(
    ratings: Mapping[str, Mapping[UnitT, str | None]], reviewer: str, unit: UnitT
) -> str | None:
    """The code ``reviewer`` gave ``unit``, or ``None`` if not coded."""
    codes = ratings.get(reviewer)
    if codes is None:
        return None
    return codes.get(unit)


def compute_agreement(
    ratings: Mapping[str, Mapping[UnitT, str | None]],
    reviewers: Sequence[str],
    units: Sequence[UnitT],
    q: int | None = None,
    interval: bool = True,
) -> AgreementResult:
    """Compute every agreement statistic for ``reviewers`` over ``units``.

    Args:
        ratings: Reviewer id -> unit key -> category (``None`` or absent means
            not coded). Reviewers and units not listed in ``reviewers`` /
            ``units`` are ignored; a listed reviewer absent from ``ratings``
            coded nothing.
        reviewers: The reviewers to compare, in reporting order. Duplicates
            are ignored.
        units: The universe and order of units. Duplicates are ignored.

    Returns:
        An :class:`AgreementResult`. This function does not raise on any
        ratings of the declared types; undefined statistics carry a reason.
    """
    reviewer_list = _unique(reviewers)
    unit_list = _unique(units)
    table: list[list[str | None]] = [
        [_code(ratings, reviewer, unit) for reviewer in reviewer_list] for unit in unit_list
    ]
    coded: list[list[str]] = [[c for c in row if c is not None] for row in table]
    pairable = _pairable(coded)

    percent = percent_agreement(pairable)
    alpha = krippendorff_alpha_nominal(pairable)

    if len(reviewer_list) != 2:
        cohen = Statistic(
            None,
            f"Cohen's kappa needs exactly two reviewers; {len(reviewer_list)} were given",
            0,
        )
    else:
        pairs = [(row[0], row[1]) for row in table if row[0] is not None and row[1] is not None]
        cohen = cohen_kappa(pairs)

    if len(reviewer_list) < 3:
        fleiss = Statistic(
            None,
            f"Fleiss' kappa needs three or more reviewers; {len(reviewer_list)} were given",
            0,
        )
    else:
        complete = [values for values in coded if len(values) == len(reviewer_list)]
        if complete:
            fleiss = fleiss_kappa(complete)
        else:
            fleiss = Statistic(None, f"no unit was coded by all {len(reviewer_list)} reviewers", 0)

    n_categories = q if q is not None else len({c for row in coded for c in row})
    ac1 = gwet_ac1(coded, n_categories)
    ci: tuple[float, float] | None = None
    ci_reason: str | None = None
    if interval and alpha.value is not None:
        ci, ci_reason = krippendorff_alpha_bootstrap(pairable)
    elif alpha.value is None:
        ci_reason = "alpha is undefined, so it has no interval"
    return AgreementResult(
        reviewers=tuple(reviewer_list),
        units=len(pairable),
        percent=percent,
        cohen_kappa=cohen,
        fleiss_kappa=fleiss,
        krippendorff_alpha=alpha,
        gwet_ac1=ac1,
        krippendorff_alpha_ci95=ci,
        ci_reason=ci_reason,
    )


def confusion_table(
    ratings: Mapping[str, Mapping[UnitT, str | None]],
    reviewer_a: str,
    reviewer_b: str,
    units: Sequence[UnitT],
    categories: Sequence[str],
) -> list[list[int]]:
    """Cross-tabulate two reviewers' codes over the units both coded.

    Args:
        ratings: Reviewer id -> unit key -> category (``None`` means not coded).
        reviewer_a: Reviewer whose codes index the rows.
        reviewer_b: Reviewer whose codes index the columns.
        units: The units to consider (duplicates ignored).
        categories: Row/column order.

    Returns:
        A square ``len(categories)`` x ``len(categories)`` table of counts.

    Raises:
        ValueError: If ``categories`` has duplicates, or a code of either
            reviewer on a considered unit is not in ``categories``.
    """
    index: dict[str, int] = {}
    for position, category in enumerate(categories):
        if category in index:
            raise ValueError(f"duplicate category {_label(category)} in categories")
        index[category] = position
    size = len(index)
    table = [[0] * size for _ in range(size)]
    for unit in _unique(units):
        code_a = _code(ratings, reviewer_a, unit)
        code_b = _code(ratings, reviewer_b, unit)
        if code_a is None or code_b is None:
            continue
        for reviewer, code in ((reviewer_a, code_a), (reviewer_b, code_b)):
            if code not in index:
                raise ValueError(
                    f"reviewer {reviewer!r} used category {_label(code)} on unit {unit!r}, "
                    "which is not in the given categories"
                )
        table[index[code_a]][index[code_b]] += 1
    return table
