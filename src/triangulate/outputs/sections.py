"""Report sections whose content is the method's (spec 10.1-10.3): Step 3 roll-ups, Step 4 per
research question, narratives and custom steps, the researcher comparison and the methods
paragraph. ``report.py`` places them; rendering stays with the renderers.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from triangulate import __version__
from triangulate.outputs.model import Bullets, Heading, Para, Report, Table
from triangulate.protocol.agreement import AgreementResult, Statistic
from triangulate.protocol.analysis import Analysis, Unit

BUILTIN_STEPS = (
    "sorting",
    "convergence_coding",
    "convergence_assessment",
    "completeness_comparison",
    "researcher_comparison",
)
REVIEWED = ("adjudicated", "agreed", "single")

STAT_NAMES = {
    "percent": "percent agreement",
    "cohen_kappa": "Cohen's kappa",
    "fleiss_kappa": "Fleiss' kappa",
    "krippendorff_alpha": "Krippendorff's alpha",
    "gwet_ac1": "Gwet's AC1",
}


def join(items: Sequence[str]) -> str:
    items = list(items)
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


NUMBER_WORDS = ("no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten")


def number_word(n: int) -> str:
    """A small count as a word (a sentence never starts with a digit)."""
    return NUMBER_WORDS[n] if 0 <= n < len(NUMBER_WORDS) else str(n)


def plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


# ---------------------------------------------------------------------------- draft state


def open_counts(analysis: Analysis) -> tuple[int, int, int]:
    """(proposals, disputed, uncoded): units whose final category is not a reviewed one."""
    s = analysis.statuses()
    return s["proposed"], s["disputed"], s["uncoded"]


def draft_text(analysis: Analysis) -> str | None:
    """The draft notice (spec 10.3), or None when every unit has a reviewed category."""
    proposed, disputed, uncoded = open_counts(analysis)
    total = proposed + disputed + uncoded
    if not total:
        return None
    n = len(analysis.units)
    parts = []
    if proposed:
        parts.append(f"{proposed} the rule's proposal, not reviewed")
    if disputed:
        parts.append(f"{disputed} disputed")
    if uncoded:
        parts.append(f"{uncoded} uncoded")
    text = f"Draft: {total} of {n} units have no reviewed category yet ({'; '.join(parts)})."
    if not analysis.reviewers:
        text += (
            " No reviewers are configured: every category is the rule's proposal, not a finding."
        )
    return text


# ---------------------------------------------------------------------------- narratives


def narrative_blocks(analysis: Analysis, step_id: str) -> list[Para]:
    text = analysis.narrative.steps.get(step_id)
    if not text:
        return []
    return [Para(p.strip()) for p in re.split(r"\n\s*\n", text) if p.strip()]


def custom_steps(rep: Report, analysis: Analysis) -> None:
    """Spec 10.2: every step the tool has no section for, with its label and narrative."""
    for s in analysis.project.protocol.steps:
        if s.id in BUILTIN_STEPS:
            continue
        rep.add(Heading(2, s.label, f"step-{s.id}"))
        blocks = narrative_blocks(analysis, s.id)
        if blocks:
            rep.add(*blocks)
        else:
            rep.add(
                Para(
                    f"Nothing was recorded for this step (add the team's account under "
                    f"'{s.id}' in the project's narrative file)."
                )
            )


# ---------------------------------------------------------------------------- Step 3


def _count_cells(analysis: Analysis, units: list[Unit]) -> list[str]:
    d = len(units)
    cells = []
    for c in analysis.project.protocol.category_ids:
        k = sum(1 for u in units if u.final == c)
        cells.append(f"{k}/{d}")
    none = sum(1 for u in units if u.final is None)
    cells.append(f"{none}/{d}")
    return cells


def assessment_blocks(analysis: Analysis) -> list[Table | Para | Bullets]:
    """Counts by category with denominators, by group, by pair, and per theme across pairs."""
    project = analysis.project
    protocol = project.protocol
    units = analysis.units
    out: list[Table | Para | Bullets] = []
    head = [analysis.category_label(c) for c in protocol.category_ids] + ["no final category"]
    proposed = [u for u in units if u.status == "proposed"]
    if proposed:
        out.append(
            Para(
                f"{plural(len(proposed), 'unit')} of {len(units)} hold the rule's proposal, not a "
                "reviewed category: the counts below include them as proposals."
            )
        )
    out.append(Table(["units", *head], [[f"all {len(units)}", *_count_cells(analysis, units)]]))
    kinds = analysis.silences()
    one_source = protocol.rules.one_source
    sil = [u for u in units if u.silence is not None]
    if sil:
        kept = [u for u in sil if u.final == one_source]
        out.append(
            Para(
                f"Of the {plural(len(sil), 'unit')} present in one source only "
                f"({kinds['not_collected']} not collected: the instrument could not capture the "
                f"theme; {kinds['measured_zero']} measured at 0%: asked, and nobody endorsed it; "
                f"{kinds['not_raised']} not raised: the source could have spoken to it and did not), "
                f"{len(kept)} ended as {analysis.category_label(one_source)}."
            )
        )
    if project.codebook.groups:
        rows = []
        by_group: dict[str, list[Unit]] = {}
        for u in units:
            by_group.setdefault(u.group or "", []).append(u)
        for g in project.codebook.groups:
            gu = by_group.get(g.id, [])
            if gu:
                rows.append([g.label or g.id, *_count_cells(analysis, gu)])
        nogroup = [u for u in units if not u.group]
        if nogroup:
            rows.append(["(no group)", *_count_cells(analysis, nogroup)])
        out.append(Para("By overarching theme:"))
        out.append(Table(["group", *head], rows))
    pairs: list[tuple[str, str]] = []
    for u in units:
        if (u.source_a, u.source_b) not in pairs:
            pairs.append((u.source_a, u.source_b))
    out.append(Para("By pair of sources:"))
    out.append(
        Table(
            ["pair", *head],
            [
                [
                    f"{analysis.source_label(a)} / {analysis.source_label(b)}",
                    *_count_cells(
                        analysis, [u for u in units if (u.source_a, u.source_b) == (a, b)]
                    ),
                ]
                for a, b in pairs
            ],
        )
    )
    if len(project.source_ids) >= 3:
        lines = []
        by_theme: dict[str, list[Unit]] = {}
        for u in units:
            by_theme.setdefault(u.theme.id, []).append(u)
        for t in project.codebook.themes:
            tu = by_theme.get(t.id, [])
            if not tu:
                continue
            parts = []
            for c in protocol.category_ids:
                k = sum(1 for u in tu if u.final == c)
                if k:
                    parts.append(f"{analysis.category_label(c).lower()} in {k} of {len(tu)} pairs")
            none = sum(1 for u in tu if u.final is None)
            if none:
                parts.append(f"no final category in {none} of {len(tu)} pairs")
            lines.append(f"{t.display}: {join(parts)}")
        out.append(Para("Each theme across all its pairs of sources:"))
        out.append(Bullets(lines))
    return out


# ---------------------------------------------------------------------------- Step 4


def completeness_blocks(analysis: Analysis) -> list[Heading | Para | Bullets | Table]:
    """Per research question (or all themes): the themes, which sources cover each, each
    source's unique themes, and the shared ones."""
    project = analysis.project
    cb = project.codebook
    out: list[Heading | Para | Bullets | Table] = []
    groups: list[tuple[str, list[str]]] = []
    if cb.questions:
        for q in cb.questions:
            groups.append((q.text, [t.id for t in cb.themes if q.id in t.questions]))
        unanswered = [t.id for t in cb.themes if not t.questions]
        if unanswered:
            groups.append(("Themes that answer none of the research questions", unanswered))
    else:
        groups.append(
            ("All themes (the codebook lists no research questions)", [t.id for t in cb.themes])
        )
    sources = project.source_ids
    # the sources whose silence on a theme is "not collected" (one pass, not one per theme)
    not_collected: set[tuple[str, int]] = {
        (u.theme.id, id(u.silent_source))
        for u in analysis.units
        if u.silence == "not_collected" and u.silent_source is not None
    }
    for title, tids in groups:
        out.append(Heading(3, title))
        if not tids:
            out.append(Para("No theme of the codebook answers this question."))
            continue
        rows = []
        for tid in tids:
            present = [s for s in sources if analysis.sorting[(tid, s)].present]
            cover = []
            for s in sources:
                ts = analysis.sorting[(tid, s)]
                if ts.present:
                    cover.append("yes")
                elif ts.measured_zero:
                    cover.append("measured at 0%")
                elif (tid, id(ts)) in not_collected:
                    cover.append("not collected")
                else:
                    cover.append("no")
            rows.append([analysis.theme_label(tid), *cover, str(len(present))])
        out.append(Table(["theme", *(analysis.source_label(s) for s in sources), "sources"], rows))
        bullets = []
        for s in sources:
            only = [
                analysis.theme_label(tid)
                for tid in tids
                if analysis.sorting[(tid, s)].present
                and not any(analysis.sorting[(tid, o)].present for o in sources if o != s)
            ]
            bullets.append(
                f"Only {analysis.source_label(s)} contributes: {join(only) if only else 'nothing unique'}"
            )
        shared = [
            analysis.theme_label(tid)
            for tid in tids
            if all(analysis.sorting[(tid, s)].present for s in sources)
        ]
        bullets.append(f"Shared by every source: {join(shared) if shared else 'none'}")
        absent = [
            analysis.theme_label(tid)
            for tid in tids
            if not any(analysis.sorting[(tid, s)].present for s in sources)
        ]
        if absent:
            bullets.append(f"In no source: {join(absent)}")
        out.append(Bullets(bullets))
    return out


# ---------------------------------------------------------------------------- Step 5


def stat_text(st: Statistic, digits: int = 3) -> str:
    return "n/a" if st.value is None else f"{st.value:.{digits}f}"


def prevalence_paradox(ag: AgreementResult) -> bool:
    """Percent agreement >= 0.75 while kappa or alpha is below 0.4 (spec 10.1)."""
    p = ag.percent.value
    low = [s.value for s in (ag.cohen_kappa, ag.fleiss_kappa, ag.krippendorff_alpha)]
    return p is not None and p >= 0.75 and any(v is not None and v < 0.4 for v in low)


def scope_words(ag: AgreementResult) -> str:
    if ag.scope == "two_source":
        text = (
            f"the {plural(ag.units, 'unit')} whose theme is present in both sources of the pair "
            "(the units that needed a judgement) and that at least two reviewers coded"
        )
        if ag.excluded_one_source:
            text += (
                f"; {plural(ag.excluded_one_source, 'unit')} present in one source only "
                f"{'was' if ag.excluded_one_source == 1 else 'were'} left out, because "
                "their category follows from the data's structure"
            )
        return text
    return f"every unit that at least two reviewers coded ({ag.units}), one-source units included"


def _stat_rows(ag: AgreementResult) -> list[list[str]]:
    rows = []
    notes = ag.notes
    for key, st in ag.statistics():
        value = stat_text(st)
        if key == "krippendorff_alpha" and ag.krippendorff_alpha_ci95 is not None:
            lo, hi = ag.krippendorff_alpha_ci95
            value += f" (95% CI {lo:.3f} to {hi:.3f})"
        rows.append(
            [
                STAT_NAMES[key],
                value,
                str(st.n_units),
                notes.get(key, "") if st.value is None else "",
            ]
        )
    return rows


def decided_by_disputant(u: Unit, reviewers: list[str]) -> bool:
    """A decision made by some but not all of the reviewers who coded the unit (spec 10.3)."""
    d = u.decision
    if d is None:
        return False
    names = {x for x in re.split(r"[+,\s]+", d.decided_by or "") if x}
    coders = {r for r in reviewers if u.category_of(r) is not None}
    return bool(names & coders) and not coders <= names


def researcher_blocks(analysis: Analysis) -> list[Heading | Para | Table | Bullets]:
    out: list[Heading | Para | Table | Bullets] = []
    ag, al = analysis.agreement, analysis.agreement_all_units
    if not analysis.reviewers or ag is None:
        out.append(
            Para(
                "No reviewers are configured, so there is no researcher comparison: every category "
                "in this report is the rule's proposal, not a finding."
            )
        )
        return out
    blind = analysis.project.file.blind
    out.append(
        Para(
            f"Reviewers {join(analysis.reviewers)} coded "
            + ("blind to the rule's proposal" if blind else "with the rule's proposal in view")
            + f" (blind: {'true' if blind else 'false'}). Agreement is computed on their own "
            "categories, before any adjudication, over "
            + scope_words(ag)
            + ". Each statistic's n is the number of units it used."
        )
    )
    out.append(
        Table(
            ["statistic", "value", "n (units)", "why undefined"],
            _stat_rows(ag),
            numeric_cols=(1, 2),
        )
    )
    if prevalence_paradox(ag):
        out.append(
            Para(
                "Percent agreement is high while kappa or alpha is low: one category dominates the "
                "units (the prevalence paradox), so chance-corrected statistics collapse; Gwet's "
                "AC1 does not suffer from it."
            )
        )
    if al is not None:
        out.append(
            Para(
                "For comparison, over "
                + scope_words(al)
                + ": "
                + join(
                    [
                        f"{STAT_NAMES[k]} {stat_text(st)} (n={st.n_units})"
                        for k, st in al.statistics()
                        if st.value is not None
                    ]
                )
                + "."
            )
        )
    if ag.by_dimension:
        out.append(Para("By dimension (yes/no judgements on two-source units):"))
        out.append(
            Table(
                ["dimension", *(STAT_NAMES[k] for k, _ in ag.statistics())],
                [
                    [
                        analysis.dimension_label(d),
                        *(f"{stat_text(st)} (n={st.n_units})" for _, st in r.statistics()),
                    ]
                    for d, r in ag.by_dimension.items()
                ],
            )
        )
        undefined = [
            f"{analysis.dimension_label(d)}, {STAT_NAMES[k]}: {why}"
            for d, r in ag.by_dimension.items()
            for k, why in r.notes.items()
            if k in STAT_NAMES
        ]
        if undefined:
            out.append(Bullets(undefined))
    return out


def dispute_flag(u: Unit, reviewers: list[str]) -> str:
    if decided_by_disputant(u, reviewers):
        return " (flag: decided by one of the reviewers who disagreed on this unit, not by a third person)"
    return ""


# ---------------------------------------------------------------------------- methods paragraph


def _sources_text(analysis: Analysis) -> list[str]:
    out = []
    for spec in analysis.project.file.sources:
        data = analysis.project.sources[spec.id]
        if data.is_excerpts:
            out.append(
                f"{spec.display} ({data.participant_count()} participants, "
                f"{data.excerpt_count()} coded excerpts)"
            )
        else:
            out.append(f"{spec.display} ({plural(len(data.survey), 'survey item')})")
    return out


def _rule_words(analysis: Analysis) -> str:
    r = analysis.project.protocol.rules
    lab = analysis.category_label
    parts = [
        f"{lab(r.all)} when every dimension converged",
        f"{lab(r.some)} when some did",
        f"{lab(r.none)} when none did",
    ]
    if r.conflict:
        parts.append(f"{lab(r.conflict)} when the sources contradicted each other on a dimension")
    parts.append(f"{lab(r.one_source)} when the theme was present in one source only")
    return "; ".join(parts)


def _counts_words(analysis: Analysis, units: list[Unit]) -> str:
    parts = []
    for c in analysis.project.protocol.category_ids:
        k = sum(1 for u in units if u.final == c)
        parts.append(f"{k} {analysis.category_label(c).lower()}")
    return join(parts)


def _stats_words(ag: AgreementResult) -> str:
    parts = []
    for key, st in ag.statistics():
        if st.value is None:
            continue
        if key == "percent":
            parts.append(f"percent agreement {100 * st.value:.1f}% (n={st.n_units})")
        elif key == "krippendorff_alpha" and ag.krippendorff_alpha_ci95 is not None:
            lo, hi = ag.krippendorff_alpha_ci95
            parts.append(
                f"Krippendorff's alpha {st.value:.2f} (95% bootstrap CI {lo:.2f} to {hi:.2f}; n={st.n_units})"
            )
        else:
            parts.append(f"{STAT_NAMES[key]} {st.value:.2f} (n={st.n_units})")
    return join(parts)


def methods_paragraph(analysis: Analysis) -> str:
    """A paragraph a team can paste into a manuscript, true of this run (spec 10.3)."""
    project = analysis.project
    protocol = project.protocol
    units = analysis.units
    n = len(units)
    reviewers = analysis.reviewers
    srcs = _sources_text(analysis)
    cites = [protocol.citation, *protocol.based_on]
    text = (
        f"We triangulated {plural(len(srcs), 'data source')}, {join(srcs)}, following a "
        f"published triangulation protocol ({protocol.citation}"
        + (f"; adapted from {'; '.join(protocol.based_on)}" if protocol.based_on else "")
        + "). "
    )
    assert all(c in text for c in cites)
    themes = len(project.codebook.themes)
    groups = len(project.codebook.groups)
    text += (
        f"Codes from each source were sorted into {plural(themes, 'theme')}"
        + (f" within {plural(groups, 'overarching theme')}" if groups else "")
        + f". For each theme and pair of sources in which it appeared ({plural(n, 'unit')}) the "
        f"sources were compared on {join([d.label.lower() for d in protocol.dimensions])}; the "
        f"protocol's rule proposes {_rule_words(analysis)}. "
    )
    coders_of = {u.key: [r for r in reviewers if u.category_of(r) is not None] for u in units}
    coded_any = [u for u in units if coders_of[u.key]]
    coded_two = [u for u in units if len(coders_of[u.key]) >= 2]
    active = [r for r in reviewers if any(u.category_of(r) is not None for u in units)]
    blind = project.file.blind
    blind_words = "blind to the rule's proposal" if blind else "with the rule's proposal in view"
    if not reviewers:
        text += "No researcher reviewed the units: every category reported here is the rule's proposal, not a reviewed finding. "
    elif not coded_any:
        text += (
            f"{number_word(len(reviewers)).capitalize()} {'researcher was' if len(reviewers) == 1 else 'researchers were'} named as "
            f"{'reviewer' if len(reviewers) == 1 else 'reviewers'}, but none of the {n} units had been coded "
            "at the time of this report. "
        )
    elif len(active) == 1:
        text += (
            f"One researcher coded {len(coded_any)} of the {n} units ({blind_words}); no second "
            "researcher coded them, so no agreement between researchers can be reported. "
        )
    else:
        every = len(coded_two) == n and all(len(coders_of[u.key]) == len(reviewers) for u in units)
        all_k = sum(1 for u in units if len(coders_of[u.key]) == len(reviewers))
        text += (
            f"{number_word(len(active)).capitalize()} researchers coded units independently, {blind_words}: "
            + (
                (
                    "every unit was coded by both"
                    if len(reviewers) == 2
                    else f"every unit was coded by all {len(reviewers)}"
                )
                if every
                else (
                    f"every unit was coded by at least two of them, {all_k} by all {len(reviewers)}"
                    if len(coded_two) == n
                    else f"{len(coded_any)} of the {n} units were coded, {len(coded_two)} by at least two researchers"
                )
            )
            + ". "
        )
        ag = analysis.agreement
        if ag is not None and ag.units:
            words = _stats_words(ag)
            if words:
                text += (
                    "Before adjudication, over the "
                    + plural(ag.units, "unit")
                    + " present in both sources and coded by at least two researchers (the units that needed a judgement): "
                    + words
                    + "."
                )
                if prevalence_paradox(ag):
                    text += " Percent agreement is high while kappa or alpha is low because one category dominates (the prevalence paradox)."
                al = analysis.agreement_all_units
                if al is not None and ag.excluded_one_source:
                    aw = _stats_words(al)
                    if aw:
                        text += (
                            f" Over all {plural(al.units, 'unit')} coded by at least two, including the "
                            f"{ag.excluded_one_source} present in one source only: {aw}."
                        )
                text += " "
        elif ag is not None:
            text += "No unit present in both sources was coded by two researchers, so agreement is not reported. "
    disputed_units = [u for u in units if u.was_disputed(reviewers)]
    decided = [u for u in units if u.decision is not None]
    if decided:
        deciders = sorted(
            {u.decision.decided_by for u in decided if u.decision and u.decision.decided_by}
        )
        settled = [u for u in disputed_units if u.decision is not None]
        flagged = [u for u in decided if decided_by_disputant(u, reviewers)]
        text += (
            f"{number_word(len(decided)).capitalize()} {'unit was' if len(decided) == 1 else 'units were'} adjudicated"
            + (f" (by {join(deciders)})" if deciders else "")
            + (
                (
                    f", settling {'the' if len(settled) == 1 else 'all ' + str(len(settled))} disputed unit{'s' if len(settled) != 1 else ''}"
                    if len(settled) == len(disputed_units)
                    else f", settling {len(settled)} of the {plural(len(disputed_units), 'disputed unit')}"
                )
                if disputed_units
                else ""
            )
            + "."
        )
        if flagged and len(decided) == 1:
            text += (
                " That decision was made by one of the researchers who disagreed on the unit, "
                "not by a third person."
            )
        elif flagged:
            text += (
                f" In {len(flagged)} of them the decision was made by one of the researchers who "
                "disagreed on that unit, not by a third person."
            )
        text += " "
    reviewed = [u for u in units if u.status in REVIEWED]
    proposed, disputed, uncoded = open_counts(analysis)
    if reviewed:
        text += (
            f"Of the {plural(n, 'unit')}, "
            + (f"all {len(reviewed)}" if len(reviewed) == n else str(len(reviewed)))
            + f" {'has' if len(reviewed) == 1 else 'have'} a reviewed category: {_counts_words(analysis, reviewed)}."
        )
    if proposed:
        props = [u for u in units if u.status == "proposed"]
        text += (
            (" " if reviewed else "")
            + (
                f"Of the {plural(n, 'unit')}, {'all ' if proposed == n else ''}{proposed} "
                if not reviewed
                else f"{number_word(proposed).capitalize()} "
            )
            + (
                ("remains" if proposed == 1 else "remain")
                if not reviewed
                else ("unit remains" if proposed == 1 else "units remain")
            )
            + " the rule's proposal, unreviewed "
            + f"(proposed: {_counts_words(analysis, props)}); these are proposals, not findings."
        )
    if disputed:
        text += f" {number_word(disputed).capitalize()} {'unit remains' if disputed == 1 else 'units remain'} disputed."
    if uncoded:
        text += f" {number_word(uncoded).capitalize()} {'unit has' if uncoded == 1 else 'units have'} no category (uncoded)."
    text += f" The analysis was run with triangulate {__version__}."
    return re.sub(r"\s+", " ", text).strip()
