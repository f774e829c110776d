"""The publication tables (spec 10.2 display parts): Farmer's convergence coding matrix, the joint
display and the per-theme evidence, as report-model tables that every renderer (Markdown, HTML,
Word, XLSX) shows the same way.

Labels, never ids: themes, sources, dimensions and categories are shown by their labels; the ids
stay in the CSV files. Category cells hold category ids (``Table.category_cols``), which each
renderer shows as the category's label, colour and one-letter mark (``palette.py``).

The Method v2 data (dimension outcomes, silence kinds, findings, narrative) is read through the
small accessors below, which fall back to the v1 analysis when a field is absent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from triangulate.outputs.model import Table

if TYPE_CHECKING:
    from collections.abc import Iterable

    from triangulate.protocol.analysis import Analysis, ThemeSource, Unit
    from triangulate.sources.rows import ExcerptRow, SurveyRow

QUOTE_LIMIT = 300
OUTCOME_TEXT = {
    "meets": "meets",
    "does_not_meet": "does not meet",
    "conflicts": "conflicts",
}
SILENCE_TEXT = {
    "not_collected": "not collected (the instrument could not capture it)",
    "measured_zero": "measured at 0%",
    "not_raised": "not raised",
}
PROMINENCE_NOTE = (
    "Prominence: for interviews and other excerpt sources, the participants with at least one "
    "excerpt in the theme out of all the source's participants (n/N); for a survey, the largest "
    "share of respondents endorsing one of the theme's items (endorsed/respondents, or the percent "
    "as given)."
)


# ---------------------------------------------------------------------------- accessors


def outcomes(analysis: Analysis, u: Unit) -> dict[str, str | None]:
    """Each dimension's outcome on a unit: meets, does_not_meet, conflicts, or None."""
    got = getattr(u, "outcomes", None)
    dims = analysis.project.protocol.dimension_ids
    if isinstance(got, dict):
        return {d: got.get(d) for d in dims}
    if u.one_source:
        return dict.fromkeys(dims)
    out: dict[str, str | None] = {}
    for d in dims:
        a, b = u.a.tags.get(d, frozenset()), u.b.tags.get(d, frozenset())
        out[d] = None if not a or not b else ("meets" if a & b else "does_not_meet")
    return out


def silence(u: Unit) -> str | None:
    """Why the silent source of a one-source unit is silent (None on a two-source unit)."""
    got = getattr(u, "silence", None)
    if isinstance(got, str) and got:
        return got
    if not u.one_source:
        return None
    return "not_collected" if u.note == "not_collected" else "not_raised"


def finding(analysis: Analysis, theme: str, source: str) -> tuple[str, str | None]:
    """(finding text, exemplar) kept for a theme and source; ("", None) when none."""
    table = getattr(analysis, "source_findings", None) or {}
    sf = table.get((theme, source)) if isinstance(table, dict) else None
    if sf is None:
        return "", None
    return str(getattr(sf, "text", "") or ""), getattr(sf, "exemplar", None) or None


def theme_narrative(analysis: Analysis, theme: str) -> str:
    narrative = getattr(analysis, "narrative", None)
    themes = getattr(narrative, "themes", None) or {}
    return str(themes.get(theme, "")) if isinstance(themes, dict) else ""


def _opposites(analysis: Analysis, dim: str) -> list[tuple[str, str]]:
    for d in analysis.project.protocol.dimensions:
        if d.id == dim:
            pairs: Any = getattr(d, "opposites", None) or []
            return [(str(x).strip().lower(), str(y).strip().lower()) for x, y in pairs]
    return []


def theme_label(analysis: Analysis, tid: str) -> str:
    for t in analysis.project.codebook.themes:
        if t.id == tid:
            return t.display
    return tid


def source_label(analysis: Analysis, sid: str) -> str:
    return analysis.project.source_label(sid)


def dimension_label(analysis: Analysis, did: str) -> str:
    for d in analysis.project.protocol.dimensions:
        if d.id == did:
            return d.label or d.id
    return did


def anchor(tid: str) -> str:
    return f"theme-{tid}"


# ---------------------------------------------------------------------------- cell texts


def share_text(n: int, d: int) -> str:
    return f"{n}/{d} ({100 * n / d:.0f}%)" if d else f"{n}/0"


def _top_item(ts: ThemeSource, exemplar: str | None) -> SurveyRow | None:
    rows = list(ts.survey_rows)
    if exemplar:
        for r in rows:
            if r.code == exemplar:
                return r
    positive = [r for r in rows if r.share > 0] or rows
    return max(positive, key=lambda r: r.share) if positive else None


def statistic(ts: ThemeSource, exemplar: str | None = None, name_item: bool = True) -> str:
    """A source's prominence as n/N and %, naming the survey item it comes from."""
    if ts.kind == "excerpts":
        return f"{share_text(ts.participants or 0, ts.total_participants or 0)} participants"
    top = _top_item(ts, exemplar)
    if top is None:
        return "not asked"
    item = f"{top.item or top.code}: " if name_item else ""
    if top.endorsed is not None:
        return f"{item}{share_text(top.endorsed, top.respondents)} respondents"
    return f"{item}{top.percent:g}% of {top.respondents} respondents"


def shorten(text: str, limit: int = QUOTE_LIMIT) -> str:
    """One line of at most about ``limit`` characters, cut at a word with an ellipsis."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit].rsplit(" ", 1)[0] if " " in flat[:limit] else flat[:limit]
    return cut.rstrip(",;:.") + "\u2026"


def quote_text(r: ExcerptRow, limit: int = QUOTE_LIMIT) -> str:
    return f"\u201c{shorten(r.text, limit)}\u201d ({r.participant})"


def _rows_with(rows: Iterable[ExcerptRow], dim: str, tags: set[str]) -> ExcerptRow | None:
    for r in rows:
        if any(t.strip().lower() in tags for t in r.tags.get(dim, ())):
            return r
    return None


def deciding_tags(analysis: Analysis, u: Unit, ts: ThemeSource) -> list[tuple[str, set[str]]]:
    """(dimension, tags of ``ts``) that decided the unit's outcome, most telling first.

    A conflict is shown by a pole of an opposite pair; agreement by a tag both sources share; a
    dimension that does not meet by what this source says instead.
    """
    if u.one_source:
        return []
    outs = outcomes(analysis, u)
    other = u.b if ts is u.a else u.a

    def low(s: frozenset[str]) -> set[str]:
        return {t.strip().lower() for t in s}

    found: list[tuple[str, set[str]]] = []
    for d, o in outs.items():
        if o == "conflicts":
            poles = {p for pair in _opposites(analysis, d) for p in pair}
            found.append((d, low(ts.tags.get(d, frozenset())) & poles))
    for d, o in outs.items():
        if o == "meets":
            found.append(
                (d, low(ts.tags.get(d, frozenset())) & low(other.tags.get(d, frozenset())))
            )
    for d, o in outs.items():
        if o == "does_not_meet":
            found.append((d, low(ts.tags.get(d, frozenset()))))
    return [(d, t) for d, t in found if t]


def quotation(analysis: Analysis, tid: str, sid: str, units: list[Unit]) -> str:
    """The joint display's quotation for a theme from an excerpts source.

    The finding's exemplar when chosen; else the first excerpt (file order) carrying a tag that
    decided one of the theme's units; else the theme's first excerpt. Cut at about 300 characters.
    """
    ts = analysis.sorting[(tid, sid)]
    if ts.kind != "excerpts" or not ts.present:
        return ""
    _, exemplar = finding(analysis, tid, sid)
    rows = ts.excerpt_rows
    if exemplar:
        for row in rows:
            if row.excerpt_id == exemplar:
                return quote_text(row)
    for u in units:
        if sid not in (u.source_a, u.source_b):
            continue
        for d, tags in deciding_tags(analysis, u, u.a if u.source_a == sid else u.b):
            r = _rows_with(rows, d, tags)
            if r is not None:
                return quote_text(r)
    return quote_text(rows[0]) if len(rows) else ""


def category_cell(u: Unit) -> str:
    """The final category id, or the words for a unit without one."""
    if u.final:
        return u.final
    return "disputed" if u.status == "disputed" else "uncoded"


def status_text(u: Unit) -> str:
    return {
        "adjudicated": "adjudicated",
        "agreed": "reviewers agreed",
        "single": "one reviewer",
        "disputed": "reviewers disagree",
        "proposed": "rule's proposal, not reviewed",
        "uncoded": "not coded",
    }.get(u.status, u.status)


# ---------------------------------------------------------------------------- tables


@dataclass
class Pairs:
    """The source pairs that have units, in project order, and their labels."""

    pairs: list[tuple[str, str]]
    labels: dict[tuple[str, str], str]


def pairs_of(analysis: Analysis) -> Pairs:
    seen: dict[tuple[str, str], None] = {}
    for u in analysis.units:
        seen.setdefault((u.source_a, u.source_b), None)
    pairs = list(seen)
    return Pairs(
        pairs,
        {p: f"{source_label(analysis, p[0])} / {source_label(analysis, p[1])}" for p in pairs},
    )


def _source_cell(analysis: Analysis, u: Unit, ts: ThemeSource) -> str:
    if not ts.present:
        kind = silence(u) or "not_raised"
        one = analysis.project.protocol.rules.one_source
        measured = ts.kind != "excerpts" and bool(ts.survey_rows)
        if kind == "measured_zero" or (measured and u.final and u.final != one):
            return "measured at 0%"  # never "silent" once a reviewer read it otherwise
        return SILENCE_TEXT[kind]
    text, exemplar = finding(analysis, ts.theme, ts.source)
    stat = statistic(ts, exemplar, name_item=False)
    return f"{text}\n{stat}" if text else stat


def matrix_table(analysis: Analysis) -> Table:
    """Farmer's convergence coding matrix: one row per unit, labels not ids."""
    protocol = analysis.project.protocol
    pairs = pairs_of(analysis)
    one_pair = len(pairs.pairs) == 1
    if one_pair:
        sa, sb = pairs.pairs[0]
        src_cols = [source_label(analysis, sa), source_label(analysis, sb)]
    else:
        src_cols = ["Source A", "Source B"]
    header = [
        "Theme",
        *([] if one_pair else ["Sources"]),
        *src_cols,
        *[dimension_label(analysis, d) for d in protocol.dimension_ids],
        "Category",
    ]
    rows: list[list[str]] = []
    links: list[str] = []
    for u in analysis.units:
        outs = outcomes(analysis, u)
        cells = [u.theme.display]
        if not one_pair:
            cells.append(pairs.labels[(u.source_a, u.source_b)])
        for ts in (u.a, u.b):
            cell = _source_cell(analysis, u, ts)
            if not one_pair:
                cell = f"{source_label(analysis, ts.source)}: {cell}"
            cells.append(cell)
        for d in protocol.dimension_ids:
            o = outs.get(d)
            cells.append(
                OUTCOME_TEXT.get(o, o) if o else ("\u2014" if u.one_source else "undetermined")
            )
        cells.append(f"{category_cell(u)}\n{status_text(u)}")
        rows.append(cells)
        links.append(anchor(u.theme.id))
    return Table(
        header,
        rows,
        category_cols=(len(header) - 1,),
        caption="Convergence coding matrix",
        note=(
            "One row per theme and pair of sources. Each source's cell gives its finding (when "
            "the team kept one) and the theme's prominence in it. "
            + PROMINENCE_NOTE
            + " Dimension cells give each dimension's outcome; \u2014 where only one source has "
            "the theme. The category is the final one, with how it was reached."
        ),
        anchor="convergence-coding-matrix",
        link_col=0,
        row_links=links,
        kind="matrix",
    )


def joint_table(analysis: Analysis, redact: bool = False) -> Table:
    """The joint display: each theme's statistics (item named), a quotation, categories."""
    project = analysis.project
    sids = project.source_ids
    excerpt_sids = [s for s in sids if project.sources[s].is_excerpts]
    pairs = pairs_of(analysis)
    units_of: dict[str, list[Unit]] = {}
    for u in analysis.units:
        units_of.setdefault(u.theme.id, []).append(u)
    interpret = any(theme_narrative(analysis, t.id) for t in project.codebook.themes)
    header = ["Theme", *[source_label(analysis, s) for s in sids]]
    header += (
        ["Quotation"]
        if len(excerpt_sids) == 1
        else [f"Quotation: {source_label(analysis, s)}" for s in excerpt_sids]
    )
    header.append("Category")
    if interpret:
        header.append("Interpretation")
    rows: list[list[str]] = []
    links: list[str] = []
    for t in project.codebook.themes:
        units = units_of.get(t.id, [])
        if not units:
            continue
        cells = [t.display]
        for s in sids:
            ts = analysis.sorting[(t.id, s)]
            _, exemplar = finding(analysis, t.id, s)
            cells.append(statistic(ts, exemplar) if ts.present else "absent")
        for s in excerpt_sids:
            cells.append("(withheld)" if redact else quotation(analysis, t.id, s, units))
        if len(pairs.pairs) == 1:
            cells.append(category_cell(units[0]))
        else:
            cells.append(
                "\n".join(
                    f"{pairs.labels[(u.source_a, u.source_b)]}: {category_cell(u)}" for u in units
                )
            )
        if interpret:
            cells.append(" ".join(theme_narrative(analysis, t.id).split()))
        rows.append(cells)
        links.append(anchor(t.id))
    qual = ", ".join(source_label(analysis, s) for s in excerpt_sids) or "no excerpt source"
    return Table(
        header,
        rows,
        category_cols=(len(header) - (2 if interpret else 1),),
        caption="Joint display: each theme's statistics, a quotation and the convergence category",
        note=(
            PROMINENCE_NOTE
            + f" Quotations ({qual}): the excerpt the team chose for the finding; else the first "
            "excerpt, in file order, carrying a tag that decided the outcome (a shared tag for "
            "agreement, a pole of an opposite pair for a conflict); else the theme's first "
            f"excerpt; cut at about {QUOTE_LIMIT} characters (full text in the evidence by theme)."
        ),
        anchor="joint-display",
        link_col=0,
        row_links=links,
        kind="joint",
    )
