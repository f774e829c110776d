"""The interactive walks as pure state machines: no I/O, tested directly.

Two walks share one shape. :class:`CodingSession` is one reviewer coding their own units
(``triangulate converge --reviewer ID``); :class:`ReviewSession` is an adjudicator settling
units (``triangulate review --as NAME``). The prompt loop in :mod:`triangulate.cli.walks` asks
the questions, calls ``apply`` with the answer, persists what ``apply`` returns *before* asking
the next question, and renders ``current``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone

from triangulate.project.models import Protocol
from triangulate.protocol.analysis import Decision, Unit

MIN_RATIONALE = 3
"""Spec section 8 (v2): a rationale needs at least this many non-space characters."""


def rationale_problem(text: str, protocol: Protocol | None = None, *, required: bool) -> str | None:
    """Why ``text`` cannot be saved as a rationale, or None when it can.

    A rationale is required for a decision and optional for a worksheet row; when given it must
    have at least three non-space characters and must not be a category id (typed at the wrong
    prompt) or one of the walks' control words.
    """
    stripped = text.strip()
    if not stripped and not required:
        return None
    if sum(1 for ch in stripped if not ch.isspace()) < MIN_RATIONALE:
        return (
            f"a rationale needs at least {MIN_RATIONALE} characters (not counting spaces): "
            "say why, in a few words"
        )
    if protocol is not None and stripped in protocol.category_ids:
        return f"'{stripped}' is a category id, not a rationale: say why the unit gets its category"
    if stripped.casefold() in CONTROL_WORDS:
        return f"'{stripped}' is a command word, not a rationale: say why, in a few words"
    return None


CONTROL_WORDS = frozenset({"back", "quit", "skip", "all", "yes", "help", "exit"})


class SessionError(ValueError):
    """An answer the session cannot accept (the loop shows the message and asks again)."""


# ---------------------------------------------------------------------------- answers


@dataclass(frozen=True)
class Code:
    """A reviewer's answer for the current unit: judgements and/or a category, and a rationale."""

    judgements: dict[str, bool | None]
    category: str | None
    rationale: str


@dataclass(frozen=True)
class Decide:
    """An adjudicator's final category and rationale for the current unit."""

    category: str
    rationale: str


@dataclass(frozen=True)
class Skip:
    pass


@dataclass(frozen=True)
class Back:
    pass


@dataclass(frozen=True)
class Quit:
    pass


Answer = Code | Decide | Skip | Back | Quit


# ---------------------------------------------------------------------------- the shared walk


@dataclass
class _Walk:
    units: list[Unit]
    position: int = 0
    finished: bool = False
    done: set[tuple[str, str, str]] = field(default_factory=set)
    skipped: set[tuple[str, str, str]] = field(default_factory=set)
    had: set[tuple[str, str, str]] = field(default_factory=set)
    """Units that already had an answer (a worksheet row or a decision) when the walk started."""
    saved: set[tuple[str, str, str]] = field(default_factory=set)
    """Units answered in this walk (each counted once, however often it was revisited)."""

    @property
    def current(self) -> Unit | None:
        if self.finished or self.position >= len(self.units):
            return None
        return self.units[self.position]

    @property
    def remaining(self) -> int:
        """Units the walk has not yet been through (what is left to do in this walk)."""
        return sum(1 for u in self.units if u.key not in self.done)

    @property
    def saved_now(self) -> int:
        """Distinct units answered in this walk."""
        return len(self.saved)

    @property
    def revised_now(self) -> int:
        """Of those, units that already had an answer before the walk (``--redo``/``--revise``)."""
        return len(self.saved & self.had)

    @property
    def unanswered(self) -> int:
        """Units with no answer at all, neither from before the walk nor from it."""
        return sum(1 for u in self.units if u.key not in self.had and u.key not in self.saved)

    def _record(self, unit: Unit) -> None:
        self.done.add(unit.key)
        self.saved.add(unit.key)
        self._advance()

    def _advance(self) -> None:
        """Move to the next unit that is not done, after the current one (skipped ones stay behind)."""
        pos = self.position + 1
        while pos < len(self.units) and self.units[pos].key in self.done:
            pos += 1
        self.position = pos

    def _start(self, is_done: Callable[[Unit], bool], had: Callable[[Unit], bool]) -> None:
        self.had = {u.key for u in self.units if had(u)}
        self.done = {u.key for u in self.units if is_done(u)}
        self.position = 0
        while self.position < len(self.units) and self.units[self.position].key in self.done:
            self.position += 1

    def _move(self, answer: Answer) -> bool:
        """Handle the answers common to both walks. True when handled."""
        if isinstance(answer, Quit):
            self.finished = True
            return True
        if isinstance(answer, Skip):
            if self.current is not None:
                self.skipped.add(self.current.key)
            self._advance()
            return True
        if isinstance(answer, Back):
            if self.position > 0:
                self.position -= 1
            return True
        return False


# ---------------------------------------------------------------------------- coding


@dataclass
class WorksheetRow:
    """What to write into the reviewer's worksheet for one unit."""

    theme: str
    source_a: str
    source_b: str
    judgements: dict[str, bool | None]
    category: str  # written out even when the rule gives it, so the worksheet reads on its own
    rationale: str


class CodingSession(_Walk):
    """One reviewer codes the units they have not coded yet, blind to other reviewers."""

    def __init__(self, units: list[Unit], reviewer: str, protocol: Protocol, redo: bool = False):
        super().__init__(list(units))
        self.reviewer = reviewer
        self.protocol = protocol
        coded: Callable[[Unit], bool] = lambda u: u.codes.get(reviewer) is not None  # noqa: E731
        self._start((lambda u: False) if redo else coded, coded)

    def rule_category(self, unit: Unit, judgements: dict[str, bool | None]) -> str | None:
        """The category the protocol's rule gives for these judgements (None until all are judged)."""
        if unit.one_source:
            return self.protocol.rules.one_source
        values = [judgements.get(d) for d in self.protocol.dimension_ids]
        if any(v is None for v in values):
            return None
        return self.protocol.category_from_judgements([bool(v) for v in values])

    def apply(self, answer: Answer) -> WorksheetRow | None:
        """Apply an answer; returns the worksheet row to persist (before the next prompt), if any."""
        if self._move(answer):
            return None
        unit = self.current
        if unit is None:
            raise SessionError("there is no unit left to code")
        if not isinstance(answer, Code):
            raise SessionError("a reviewer codes units; adjudication is 'triangulate review'")
        dims = self.protocol.dimension_ids
        judgements = {d: answer.judgements.get(d) for d in dims}
        unknown = set(answer.judgements) - set(dims)
        if unknown:
            raise SessionError(f"unknown dimension(s): {', '.join(sorted(unknown))}")
        category = answer.category or None
        if category is not None and category not in self.protocol.category_ids:
            raise SessionError(f"'{category}' is not a category of {self.protocol.id}")
        if unit.one_source:
            judgements = dict.fromkeys(dims)  # judgements do not apply to a one-source unit
            written = category or self.protocol.rules.one_source
        else:
            rule = self.rule_category(unit, judgements)
            judged = [v for v in judgements.values() if v is not None]
            if category is None and rule is None:
                raise SessionError("judge every dimension (yes/no) or choose a category")
            if category is not None and judged:
                if rule is not None and category != rule:
                    raise SessionError(
                        f"the judgements give {rule} by the protocol's rule, not {category}; "
                        "change a judgement or leave the category to the rule"
                    )
                if rule is None:
                    raise SessionError("judge every dimension, or none and choose a category")
            written = category or rule or ""
        problem = rationale_problem(answer.rationale, self.protocol, required=False)
        if problem:
            raise SessionError(problem)
        row = WorksheetRow(
            unit.theme.id,
            unit.source_a,
            unit.source_b,
            judgements,
            written,
            answer.rationale.strip(),
        )
        self._record(unit)
        return row


# ---------------------------------------------------------------------------- adjudication


def select_for_review(
    units: list[Unit],
    reviewers: list[str],
    *,
    all_units: bool = False,
    categories: list[str] | None = None,
    themes: list[str] | None = None,
) -> list[Unit]:
    """Which units a review walks: every disputed one (reviewers differ), plus, with options,
    units of the given categories (final, proposed or any reviewer's) or themes, or all units.

    A unit stays selected after it is decided, so that a restart can tell "decided" from "never
    in the walk" and resume at the first undecided one.
    """
    out = []
    for u in units:
        given = {cat for r in reviewers if (cat := u.category_of(r))}
        disputed = u.was_disputed(reviewers)
        chosen = all_units or disputed
        if categories and (
            u.final in categories or u.proposed in categories or given & set(categories)
        ):
            chosen = True
        if themes and u.theme.id in themes:
            chosen = True
        if chosen:
            out.append(u)
    return out


class ReviewSession(_Walk):
    """An adjudicator walks the selected units; each decision is a new line in decisions.jsonl."""

    def __init__(
        self,
        units: list[Unit],
        decided_by: str,
        protocol: Protocol,
        revise: bool = False,
        clock: Callable[[], datetime] | None = None,
    ):
        super().__init__(list(units))
        self.decided_by = decided_by
        self.protocol = protocol
        self.clock = clock or (lambda: datetime.now(timezone.utc))
        decided: Callable[[Unit], bool] = lambda u: u.decision is not None  # noqa: E731
        self._start((lambda u: False) if revise else decided, decided)

    def apply(self, answer: Answer) -> Decision | None:
        """Apply an answer; returns the decision line to append (before the next prompt), if any."""
        if self._move(answer):
            return None
        unit = self.current
        if unit is None:
            raise SessionError("there is no unit left to review")
        if not isinstance(answer, Decide):
            raise SessionError("an adjudication needs a final category")
        if answer.category not in self.protocol.category_ids:
            raise SessionError(f"'{answer.category}' is not a category of {self.protocol.id}")
        if not answer.rationale.strip():
            raise SessionError(
                "give a rationale: the report shows why each dispute was settled as it was"
            )
        problem = rationale_problem(answer.rationale, self.protocol, required=True)
        if problem:
            raise SessionError(problem)
        decision = Decision(
            unit.theme.id,
            unit.source_a,
            unit.source_b,
            answer.category,
            answer.rationale.strip(),
            self.decided_by,
            self.clock().isoformat(timespec="seconds"),
        )
        self._record(unit)
        return decision
