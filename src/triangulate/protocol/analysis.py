"""Steps 1 and 2 and the final status of each unit (spec sections 6 and 9).

``analyse(project, reviews, decisions)`` returns one :class:`Analysis`, from which every output
is rendered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from itertools import combinations
from typing import TYPE_CHECKING

from triangulate.findings import Finding, Location, warning
from triangulate.project.loading import Project
from triangulate.project.models import Theme
from triangulate.project.narrative import Narrative
from triangulate.protocol.agreement import AgreementResult
from triangulate.protocol.compare import exact_share, outcomes_of, proposal_from_outcomes
from triangulate.sources.data import SourceData
from triangulate.sources.rows import ExcerptRow, SurveyRow

if TYPE_CHECKING:
    from triangulate.sources.columns import Stats

STATUSES = ("adjudicated", "agreed", "single", "disputed", "proposed", "uncoded")
SILENCE_KINDS = ("not_collected", "measured_zero", "not_raised")


# ---------------------------------------------------------------------------- Step 1: sorting


@dataclass
class ThemeSource:
    """One theme in one source: the sorting table's row and the evidence behind it."""

    theme: str
    source: str
    kind: str
    present: bool
    codes: list[str]  # codebook codes for this source that occur in the data (codebook order)
    excerpts: int | None
    participants: int | None
    total_participants: int | None
    prominence: float
    tags: dict[str, frozenset[str]]
    excerpt_rows: list[ExcerptRow] = field(default_factory=list)
    survey_rows: list[SurveyRow] = field(default_factory=list)
    prominence_exact: Fraction = Fraction(0)  # the same share, exactly (spec 5.1 bands)

    @property
    def measured_zero(self) -> bool:
        """A survey source that asked about the theme and nobody endorsed it (share 0)."""
        return self.kind != "excerpts" and any(r.share == 0 for r in self.survey_rows)


def sort_source(
    theme: Theme,
    data: SourceData,
    dimensions: list[str],
    total_participants: int,
    stats: Stats | None = None,
) -> ThemeSource:
    """The theme in one source. ``stats``: the theme's rows and counts in an excerpts source, as
    :meth:`ExcerptColumns.group_stats` gives them for all themes at once (computed here if None)."""
    codes = theme.codes.get(data.spec.id, [])
    tags: dict[str, set[str]] = {d: set() for d in dimensions}
    if data.is_excerpts:
        from triangulate.sources.columns import ExcerptView

        cols = data.excerpt_columns()  # column-wise: no object per row
        if stats is None:
            stats = cols.group_stats([codes], dimensions)[0]
        idx, excerpts, participants, tags = stats  # the theme's rows in file order, counts, tags
        by_code = cols.by_code()
        present_codes = {c for c in codes if c in by_code}
        return ThemeSource(
            theme.id,
            data.spec.id,
            data.spec.kind,
            len(idx) > 0,
            [c for c in codes if c in present_codes],
            excerpts,
            participants,
            total_participants,
            participants / total_participants if total_participants else 0.0,
            {d: frozenset(v) for d, v in tags.items()},
            excerpt_rows=ExcerptView(cols, idx),  # type: ignore[arg-type]
            prominence_exact=Fraction(participants, total_participants)
            if total_participants
            else Fraction(0),
        )
    order = {c: i for i, c in enumerate(codes)}
    by_code = data.survey_rows_by_code()  # in codebook order, each code's rows in file order
    srows = [r for c in sorted(order, key=order.__getitem__) for r in by_code.get(c, ())]
    positive = [r for r in srows if r.share > 0]
    for r in positive:
        for d in dimensions:
            tags[d].update(r.tags.get(d, ()))
    return ThemeSource(
        theme.id,
        data.spec.id,
        data.spec.kind,
        bool(positive),
        [r.code for r in srows],
        None,
        None,
        None,
        max((r.share for r in srows), default=0.0),
        {d: frozenset(v) for d, v in tags.items()},
        survey_rows=srows,
        prominence_exact=max(
            (exact_share(r.endorsed, r.respondents, r.percent) for r in srows), default=Fraction(0)
        ),
    )


def sorting_findings(project: Project) -> list[Finding]:
    """Unsorted codes in the data and codebook codes never seen in the data (both warnings)."""
    findings: list[Finding] = []
    sorted_codes: dict[str, set[str]] = {sid: set() for sid in project.source_ids}
    for t in project.codebook.themes:
        for sid, codes in t.codes.items():
            if sid in sorted_codes:
                sorted_codes[sid].update(codes)
    for sid, data in project.sources.items():
        in_data = data.codes_in_data()
        first_row = data.first_rows()
        for code in sorted(in_data - sorted_codes[sid], key=lambda c: first_row[c]):
            findings.append(
                warning(
                    "data.unsorted-code",
                    f"code '{code}' of source '{sid}' is not sorted into any theme; add it to a theme's codes in the codebook",
                    data.code_location(code, first_row[code]),
                )
            )
        for t in project.codebook.themes:
            for code in t.codes.get(sid, []):
                if code not in in_data:
                    findings.append(
                        warning(
                            "codebook.code-unused",
                            f"theme '{t.id}' lists code '{code}' for source '{sid}', but no row of {data.file} uses it (a typo?)",
                            Location(project.file.codebook, field=f"themes.{t.id}.codes.{sid}"),
                        )
                    )
    return findings


@dataclass(frozen=True)
class SourceFinding:
    """Spec 6.1: what one source says about one theme (findings.csv), and its exemplar."""

    theme: str
    source: str
    text: str
    exemplar: str | None = None
    row: int | None = None


# ---------------------------------------------------------------------------- Step 2: units


@dataclass
class ReviewerCode:
    reviewer: str
    category: str | None  # as written, or derived by the rule from the judgements
    judgements: dict[str, bool | None]
    rationale: str
    derived: bool  # True when the category came from the rule, not the worksheet
    row: int


@dataclass
class Decision:
    theme: str
    source_a: str
    source_b: str
    category: str
    rationale: str
    decided_by: str
    decided_at: str
    line: int = 0  # the line of decisions.jsonl it was read from (0: not written yet)

    def as_json(self) -> dict[str, str]:
        """The decision as one line of decisions.jsonl holds it (spec section 8)."""
        return {
            "theme": self.theme,
            "source_a": self.source_a,
            "source_b": self.source_b,
            "category": self.category,
            "rationale": self.rationale,
            "decided_by": self.decided_by,
            "decided_at": self.decided_at,
        }


@dataclass
class Unit:
    theme: Theme
    group: str
    source_a: str
    source_b: str
    a: ThemeSource
    b: ThemeSource
    proposed: str | None  # the rule's proposal: never shown to a blind coder (spec 7)
    reason: str
    note: str  # the silence kind on a one-source unit (spec 6), else ""
    codes: dict[str, ReviewerCode | None] = field(default_factory=dict)
    decisions: list[Decision] = field(default_factory=list)  # every decision, oldest first
    final: str | None = None
    status: str = "uncoded"
    rationale: str = ""
    # per dimension id: "meets", "does_not_meet", "conflicts", or None (undetermined, one-source)
    outcomes: dict[str, str | None] = field(default_factory=dict)

    @property
    def silence(self) -> str | None:
        """Why the silent source is silent (spec 6): not_collected, measured_zero, not_raised."""
        return self.note or None if self.one_source else None

    @property
    def silent_source(self) -> ThemeSource | None:
        if not self.one_source:
            return None
        return self.b if self.a.present else self.a

    @property
    def present_source(self) -> ThemeSource | None:
        if not self.one_source:
            return None
        return self.a if self.a.present else self.b

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.theme.id, self.source_a, self.source_b)

    @property
    def one_source(self) -> bool:
        return self.a.present != self.b.present

    @property
    def decision(self) -> Decision | None:
        return self.decisions[-1] if self.decisions else None

    def category_of(self, reviewer: str) -> str | None:
        """The reviewer's category (written, or given by the rule), None when not coded."""
        c = self.codes.get(reviewer)
        return c.category if c is not None else None

    def was_disputed(self, reviewers: list[str]) -> bool:
        """True when the reviewers gave different categories (before any adjudication)."""
        return len({cat for r in reviewers if (cat := self.category_of(r))}) > 1


def propose(
    project: Project, a: ThemeSource, b: ThemeSource
) -> tuple[str | None, str, dict[str, str | None]]:
    """The protocol's proposed category for a unit, a one-line reason, and each dimension's outcome."""
    protocol = project.protocol
    if a.present != b.present:
        here, silent = (a, b) if a.present else (b, a)
        return (
            protocol.rules.one_source,
            f"only {here.source} has the theme; {silent.source} is silent",
            dict.fromkeys(protocol.dimension_ids),
        )
    outcomes = outcomes_of(protocol, a, b)
    proposed, reason = proposal_from_outcomes(protocol, outcomes)
    return proposed, reason, {d: o for d, (o, _) in outcomes.items()}


def silence_kind(theme: Theme, silent: ThemeSource) -> str:
    """Spec 6: the first kind that applies, in the order not_collected, measured_zero, not_raised."""
    if silent.source in theme.not_collected:
        return "not_collected"
    if silent.measured_zero:
        return "measured_zero"
    return "not_raised"


def build_units(project: Project) -> tuple[list[Unit], dict[tuple[str, str], ThemeSource]]:
    dims = project.protocol.dimension_ids
    totals = {
        sid: d.participant_count() if d.is_excerpts else 0 for sid, d in project.sources.items()
    }
    sorting: dict[tuple[str, str], ThemeSource] = {}
    units: list[Unit] = []
    order = project.source_ids
    themes = project.codebook.themes
    stats: dict[str, list[Stats]] = {
        sid: d.excerpt_columns().group_stats([t.codes.get(sid, []) for t in themes], dims)
        for sid, d in project.sources.items()
        if d.is_excerpts
    }
    for i, theme in enumerate(themes):
        for sid in order:
            pre = stats[sid][i] if sid in stats else None
            sorting[(theme.id, sid)] = sort_source(
                theme, project.sources[sid], dims, totals[sid], pre
            )
        for sa, sb in combinations(order, 2):
            a, b = sorting[(theme.id, sa)], sorting[(theme.id, sb)]
            if not a.present and not b.present:
                continue
            proposed, reason, outcomes = propose(project, a, b)
            note = silence_kind(theme, b if a.present else a) if a.present != b.present else ""
            unit = Unit(theme, theme.group or "", sa, sb, a, b, proposed, reason, note)
            unit.outcomes = outcomes
            units.append(unit)
    return units, sorting


# ---------------------------------------------------------------------------- final status


def settle(unit: Unit, reviewers: list[str]) -> None:
    """Spec section 9: the final category and status of a unit, in order of precedence."""
    coded = [(r, unit.codes.get(r)) for r in reviewers]
    given = [(r, c) for r, c in coded if c is not None and c.category is not None]
    if unit.decision is not None:
        d = unit.decision
        unit.final, unit.status, unit.rationale = d.category, "adjudicated", d.rationale
        return
    joined = " | ".join(f"{r}: {c.rationale}" for r, c in given if c.rationale.strip())
    unit.rationale = joined
    cats = {c.category for _, c in given}
    if len(given) >= 2 and len(cats) == 1:
        unit.final, unit.status = given[0][1].category, "agreed"
    elif len(given) == 1:
        unit.final, unit.status = given[0][1].category, "single"
    elif len(given) >= 2:
        unit.final, unit.status = None, "disputed"
    elif unit.proposed is not None:
        unit.final, unit.status = unit.proposed, "proposed"
    else:
        unit.final, unit.status = None, "uncoded"


@dataclass
class Analysis:
    project: Project
    sorting: dict[tuple[str, str], ThemeSource]
    units: list[Unit]
    reviewers: list[str]
    findings: list[Finding]
    agreement: AgreementResult | None = None  # spec 10.1: two-source units
    agreement_all_units: AgreementResult | None = None  # the v1 computation over every unit
    source_findings: dict[tuple[str, str], SourceFinding] = field(default_factory=dict)
    narrative: Narrative = field(default_factory=Narrative)

    # ------------------------------------------------------------------ labels, never ids in prose

    @cached_property
    def _theme_labels(self) -> dict[str, str]:
        # reversed: the first theme with an id wins (a codebook with a repeated id is an error anyway)
        return {t.id: t.display for t in reversed(self.project.codebook.themes)}

    def theme_label(self, tid: str) -> str:
        return self._theme_labels.get(tid, tid)

    def source_label(self, sid: str) -> str:
        return self.project.source_label(sid)

    def category_label(self, cid: str | None) -> str:
        if cid is None:
            return ""
        return self.project.protocol.category_label(cid)

    def dimension_label(self, did: str) -> str:
        try:
            return self.project.protocol.dimension(did).label
        except KeyError:
            return did

    def finding(self, theme: str, source: str) -> SourceFinding | None:
        return self.source_findings.get((theme, source))

    def silences(self) -> dict[str, int]:
        """One-source units by silence kind (spec 10: summary.json ``silences``)."""
        out = dict.fromkeys(SILENCE_KINDS, 0)
        for u in self.units:
            if u.silence is not None:
                out[u.silence] += 1
        return out

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(self.project.protocol.category_ids, 0)
        for u in self.units:
            if u.final is not None and u.final in out:
                out[u.final] += 1
        return out

    def statuses(self) -> dict[str, int]:
        out = dict.fromkeys(STATUSES, 0)
        for u in self.units:
            out[u.status] += 1
        return out

    def ratings(self) -> dict[str, dict[tuple[str, str, str], str | None]]:
        """Reviewer -> unit key -> category, the input of every agreement statistic."""
        return category_ratings(self.units, self.reviewers)

    def confusion_tables(self) -> list[tuple[str, str, list[list[int]]]]:
        """(reviewer a, reviewer b, table) for each pair of reviewers; rows are a's categories."""
        from triangulate.protocol.agreement import confusion_table

        ratings, keys = self.ratings(), [u.key for u in self.units]
        cats = self.project.protocol.category_ids
        return [
            (ra, rb, confusion_table(ratings, ra, rb, keys, cats))
            for i, ra in enumerate(self.reviewers)
            for rb in self.reviewers[i + 1 :]
        ]

    def unit(self, theme: str, source_a: str, source_b: str) -> Unit | None:
        for u in self.units:
            if u.key == (theme, source_a, source_b):
                return u
        return None


def category_ratings(
    units: list[Unit], reviewers: list[str]
) -> dict[str, dict[tuple[str, str, str], str | None]]:
    return {r: {u.key: u.category_of(r) for u in units} for r in reviewers}
