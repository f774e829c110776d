"""Spec 5.1: how each dimension of a unit is compared, and the rule's proposal with its reason.

Arithmetic is exact: a prominence is a :class:`fractions.Fraction` of its counts (or of the
percentage as written) and each cut point the decimal written in the protocol, so ``2/10``
against a cut point of ``0.2`` is equal (band 1), never a binary-float near miss.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Protocol as Interface

from triangulate.project.models import Dimension, Protocol


class ThemeSource(Interface):
    """What a comparison reads of one theme in one source (protocol.analysis.ThemeSource)."""

    @property
    def source(self) -> str: ...
    @property
    def tags(self) -> dict[str, frozenset[str]]: ...
    @property
    def prominence_exact(self) -> Fraction: ...


MEETS = "meets"
DOES_NOT_MEET = "does_not_meet"
CONFLICTS = "conflicts"
OUTCOMES = (MEETS, DOES_NOT_MEET, CONFLICTS)

OUTCOME_WORDS = {MEETS: "meets", DOES_NOT_MEET: "does not meet", CONFLICTS: "conflicts"}


def exact_share(endorsed: int | None, respondents: int, percent: float | None) -> Fraction:
    """A survey code's share as an exact fraction: endorsed/respondents, else percent/100 as written."""
    if endorsed is not None:
        return Fraction(endorsed, respondents) if respondents else Fraction(0)
    if percent is None:
        return Fraction(0)
    # repr gives the shortest decimal that reads back as this float: the digits as written
    # for any percentage with up to 15 significant digits.
    return Fraction(Decimal(repr(float(percent)))) / 100


def band(p: Fraction, cuts: Sequence[Decimal]) -> int:
    """The number of cut points <= p (with [0.2, 0.5]: < 0.2 is 0, [0.2, 0.5) is 1, >= 0.5 is 2)."""
    return sum(1 for c in cuts if Fraction(c) <= p)


def _norm(tag: str) -> str:
    return tag.strip().casefold()


def tags_conflict(
    a: frozenset[str], b: frozenset[str], opposites: Sequence[tuple[str, str]]
) -> tuple[str, str] | None:
    """The first opposite pair on which each source holds one pole only (a's pole, b's pole)."""
    na, nb = {_norm(t) for t in a}, {_norm(t) for t in b}
    for x, y in opposites:
        x, y = _norm(x), _norm(y)
        if x == y or not x or not y:
            continue
        if x in na and y not in na and y in nb and x not in nb:
            return x, y
        if y in na and x not in na and x in nb and y not in nb:
            return y, x
    return None


def dimension_outcome(dim: Dimension, a: ThemeSource, b: ThemeSource) -> tuple[str | None, str]:
    """The outcome of one dimension on a two-source unit, and the words behind it."""
    cuts = dim.cuts
    if dim.compare == "prominence":
        ba, bb = band(a.prominence_exact, cuts), band(b.prominence_exact, cuts)
        if ba == bb:
            return MEETS, f"{dim.id} meets (both {dim.band_label(ba)})"
        return DOES_NOT_MEET, (
            f"{dim.id} does not meet ({a.source}: {dim.band_label(ba)}; "
            f"{b.source}: {dim.band_label(bb)})"
        )
    ta, tb = a.tags.get(dim.id, frozenset()), b.tags.get(dim.id, frozenset())
    if not ta or not tb:
        missing = ", ".join(s.source for s, t in ((a, ta), (b, tb)) if not t)
        return None, f"tags missing for {dim.id} ({missing})"
    pole = tags_conflict(ta, tb, dim.opposites)
    if pole is not None:
        return CONFLICTS, f"{dim.id} conflicts ({a.source}: {pole[0]}; {b.source}: {pole[1]})"
    na, nb = {_norm(t) for t in ta}, {_norm(t) for t in tb}
    shared = sorted(na & nb)
    if shared and cuts:
        ba, bb = band(a.prominence_exact, cuts), band(b.prominence_exact, cuts)
        if ba != bb:
            return DOES_NOT_MEET, (
                f"{dim.id} does not meet: tags meet on {', '.join(shared)} but prominence differs "
                f"({a.source}: {dim.band_label(ba)}; {b.source}: {dim.band_label(bb)})"
            )
        return (
            MEETS,
            f"{dim.id} meets on {', '.join(shared)} (prominence both {dim.band_label(ba)})",
        )
    if shared:
        return MEETS, f"{dim.id} meets on {', '.join(shared)}"
    return DOES_NOT_MEET, (
        f"{dim.id} does not meet ({a.source}: {', '.join(sorted(na))}; "
        f"{b.source}: {', '.join(sorted(nb))})"
    )


def outcomes_of(
    protocol: Protocol, a: ThemeSource, b: ThemeSource
) -> dict[str, tuple[str | None, str]]:
    return {d.id: dimension_outcome(d, a, b) for d in protocol.dimensions}


def proposal_from_outcomes(
    protocol: Protocol, outcomes: dict[str, tuple[str | None, str]]
) -> tuple[str | None, str]:
    """Spec 5.1: no proposal when a dimension is undetermined; the conflict category when one
    conflicts (and the rule has one); else all/some/none by how many dimensions meet."""
    undetermined = [words for o, words in outcomes.values() if o is None]
    if undetermined:
        return None, "no proposal: " + "; ".join(undetermined)
    reason = "; ".join(words for _, words in outcomes.values())
    values = [o for o, _ in outcomes.values()]
    if CONFLICTS in values and protocol.rules.conflict is not None:
        return protocol.rules.conflict, reason
    return protocol.category_from_judgements([o == MEETS for o in values]), reason


def consistent_categories(protocol: Protocol, judgements: Sequence[bool | None]) -> set[str]:
    """Spec 5.1/7: every rule category that some judgement of the unjudged dimensions makes
    consistent with the row: all/some/none for the completed judgements, and the conflict
    category whenever at least one dimension is (or could be) judged no."""
    known = [v for v in judgements if v is not None]
    unknown = len(judgements) - len(known)
    total = len(judgements)
    out: set[str] = set()
    for extra_yes in range(unknown + 1):
        yes = sum(known) + extra_yes
        out.add(
            protocol.rules.all
            if yes == total
            else protocol.rules.none
            if yes == 0
            else protocol.rules.some
        )
        if yes < total and protocol.rules.conflict is not None:
            out.add(protocol.rules.conflict)
    return out


def category_is_consistent(
    protocol: Protocol, category: str, judgements: Sequence[bool | None]
) -> bool:
    """A judgement-only category (not named in the rules) goes with any judgements."""
    if category not in protocol.rule_categories:
        return True
    return category in consistent_categories(protocol, judgements)
