"""The reconciliation report's content: builds the document model (``model.py``) from an analysis.

Renderers live beside it: ``markdown.py`` (report.md) and ``html.py`` (report.html).
"""

from __future__ import annotations

from triangulate import __version__
from triangulate.outputs.display import (
    SILENCE_TEXT,
    anchor,
    category_cell,
    finding,
    joint_table,
    matrix_table,
    silence,
    status_text,
)
from triangulate.outputs.figure import render_svg
from triangulate.outputs.html import render_html
from triangulate.outputs.markdown import render_markdown
from triangulate.outputs.model import (
    Block,
    Bullets,
    Details,
    Figure,
    Heading,
    Notice,
    Para,
    Report,
    Table,
)
from triangulate.outputs.palette import category_styles
from triangulate.outputs.sections import (
    assessment_blocks,
    completeness_blocks,
    custom_steps,
    dispute_flag,
    draft_text,
    methods_paragraph,
    narrative_blocks,
    researcher_blocks,
)
from triangulate.outputs.tabular import (
    SORTING_COLUMNS,
    sorting_rows,
)
from triangulate.project.loading import sha256_file
from triangulate.protocol.analysis import Analysis, ThemeSource, Unit

MAX_EXCERPTS_SHOWN = 3

__all__ = [  # the model and renderers, re-exported for callers that import them from here
    "Block",
    "Bullets",
    "Heading",
    "Para",
    "Report",
    "Table",
    "build_report",
    "evidence_lines",
    "fmt_stat",
    "methods_paragraph",
    "pct",
    "prominence_text",
    "render_html",
    "render_markdown",
]


def pct(n: int, d: int) -> str:
    return f"{n}/{d} ({100 * n / d:.0f}%)" if d else f"{n}/0"


def fmt_stat(v: object) -> str:
    if v is None:
        return "n/a"
    if isinstance(v, float):
        return f"{v:.3f}"
    return str(v)


def prominence_text(ts: ThemeSource) -> str:
    if ts.kind == "excerpts":
        return (
            f"{ts.participants}/{ts.total_participants} participants ({100 * ts.prominence:.0f}%)"
        )
    if not ts.survey_rows:
        return "not coded"
    top = max(ts.survey_rows, key=lambda r: r.share)
    if top.endorsed is not None:
        return f"{top.endorsed}/{top.respondents} respondents ({100 * top.share:.0f}%)"
    return f"{top.percent:g}% of {top.respondents} respondents"


def evidence_lines(ts: ThemeSource, redact: bool, limit: int = MAX_EXCERPTS_SHOWN) -> list[str]:
    """A few excerpts (with participant ids) or the survey items with n/N and %."""
    if ts.kind == "excerpts":
        seen: set[str] = set()
        lines: list[str] = []
        distinct = ts.excerpts  # distinct excerpt ids in the rows: the rest need only be counted
        rows = ts.excerpt_rows
        quoted = getattr(rows, "quoted", None)  # column-wise rows: no tags built for a quotation
        it = (
            quoted()
            if quoted is not None
            else ((r.excerpt_id, r.participant, r.code, r.text) for r in rows)
        )
        for excerpt_id, participant, code, text in it:
            if distinct is not None and (redact or len(lines) > limit):
                break
            if excerpt_id in seen:
                continue
            seen.add(excerpt_id)
            if redact:
                continue
            lines.append(
                f"{participant}, {excerpt_id} [{code}]: \u201c{' '.join(text.split())}\u201d"
            )
        if distinct is None:
            distinct = len(seen)
        shown = lines[:limit]
        if redact:
            shown = [
                f"{distinct} excerpt(s) from {ts.participants} participant(s); text withheld (redacted report)"
            ]
        elif distinct > limit:
            shown.append(f"... and {distinct - limit} more excerpt(s)")
        return shown
    out = []
    for sr in ts.survey_rows:
        label = sr.item or sr.code
        if sr.endorsed is not None:
            out.append(
                f"{label} [{sr.code}]: {sr.endorsed}/{sr.respondents} ({100 * sr.share:.0f}%)"
            )
        else:
            out.append(f"{label} [{sr.code}]: {sr.percent:g}% of {sr.respondents}")
    return out


def build_report(analysis: Analysis, redact: bool = False) -> Report:
    project = analysis.project
    protocol = project.protocol
    rep = Report(
        title=f"Triangulation report: {project.file.title}",
        colors={c.id: c.color or "#dddddd" for c in protocol.categories},
        labels={c.id: c.label for c in protocol.categories},
        styles=category_styles(protocol),
    )
    units = analysis.units
    n = len(units)
    statuses = analysis.statuses()
    steps = {s.id: s.label for s in protocol.steps}

    def step(sid: str, default: str) -> str:
        return steps.get(sid, default)

    theme_names = {t.id: t.display for t in project.codebook.themes}
    group_names = {g.id: g.label or g.id for g in project.codebook.groups}

    # ---- overview
    draft = draft_text(analysis)
    if draft:
        rep.add(Notice(draft))
    rep.add(
        Para(
            f"{n} units (theme x source pair) over {len(project.codebook.themes)} themes and "
            f"{len(project.source_ids)} sources, coded with the {protocol.id} protocol."
            + (
                " Excerpt text and participant ids are withheld (redacted report)."
                if redact
                else ""
            )
        ),
        Heading(2, "Protocol", "protocol"),
        Para(f"{protocol.title}. {protocol.citation}"),
        Para(f"Rule: {protocol.rule_text()}."),
        Table(
            ["category", "definition"],
            [[c.id, c.definition] for c in protocol.categories],
            category_cols=(0,),
        ),
        Table(
            ["dimension", "description"],
            [[d.label, d.description or ""] for d in protocol.dimensions],
        ),
        Table(
            ["source", "kind", "file"],
            [[s.display, s.kind, s.path] for s in project.file.sources],
        ),
    )

    # ---- step 1
    rep.add(
        Heading(2, step("sorting", "Sorting"), "sorting"), *narrative_blocks(analysis, "sorting")
    )
    rep.add(
        Para(
            "Each source's codes are sorted into the codebook's themes. Prominence is the share of a "
            "source's participants with an excerpt in the theme, or for a survey the largest share "
            "endorsing one of the theme's items."
        ),
        Table(
            SORTING_COLUMNS,
            [
                [
                    theme_names.get(r[0], r[0]),
                    group_names.get(r[1], r[1]),
                    project.source_label(r[2]),
                ]
                + r[3:4]
                + [r[4].replace(";", "; ")]
                + r[5:]
                for r in sorting_rows(analysis)
            ],
            numeric_cols=(5, 6, 7),
        ),
    )

    # ---- step 2: Farmer's convergence coding matrix and the figure
    rep.add(
        Heading(2, step("convergence_coding", "Convergence coding"), "convergence-coding"),
        *narrative_blocks(analysis, "convergence_coding"),
    )
    rep.add(
        Para(
            "The convergence coding matrix compares what each source says about each theme. Each "
            "theme links to its evidence below; every column is also in convergence_matrix.csv, "
            "with the ids."
        ),
        matrix_table(analysis),
        Figure(
            render_svg(analysis),
            "Figure: the final category of each theme (rows) in each pair of sources (columns); "
            "colour and letter as in the legend (also convergence.svg).",
            "convergence.svg",
            "figure",
        ),
    )

    # ---- step 3
    rep.add(
        Heading(
            2, step("convergence_assessment", "Convergence assessment"), "convergence-assessment"
        )
    )
    rep.add(*narrative_blocks(analysis, "convergence_assessment"))
    rep.add(*assessment_blocks(analysis))
    rep.add(Table(["status", "units"], [[s, pct(k, n)] for s, k in statuses.items()]))

    # ---- joint display
    rep.add(Heading(3, "Joint display", "joint-display-section"), joint_table(analysis, redact))

    # ---- step 4
    rep.add(
        Heading(
            2, step("completeness_comparison", "Completeness comparison"), "completeness-comparison"
        )
    )
    rep.add(*narrative_blocks(analysis, "completeness_comparison"))
    rep.add(*completeness_blocks(analysis))

    # ---- step 5
    rep.add(
        Heading(2, step("researcher_comparison", "Researcher comparison"), "researcher-comparison")
    )
    rep.add(*narrative_blocks(analysis, "researcher_comparison"))
    _researcher_section(rep, analysis)
    custom_steps(rep, analysis)

    # ---- evidence, theme by theme (collapsed on screen, printed expanded)
    rep.add(Heading(2, "Evidence by theme", "evidence"))
    rep.add(
        Para(
            "Each theme's evidence in each pair of sources, with the reviewers' codes, decisions "
            "and rationales: every silence and disagreement included."
        )
    )
    _evidence_by_theme(rep, analysis, redact)

    # ---- methods paragraph
    rep.add(Heading(2, "Methods text", "methods"), Para(methods_paragraph(analysis)))

    # ---- provenance
    rep.add(Heading(2, "Provenance", "provenance"))
    prov = [["triangulate", __version__], ["protocol", f"{protocol.id}"]]
    for name, path in sorted(project.input_files.items()):
        prov.append([name, f"sha256:{sha256_file(path)}"])
    for rid in analysis.reviewers:
        p = project.root / "reviews" / f"{rid}.csv"
        if p.exists():
            prov.append([f"reviews/{rid}.csv", f"sha256:{sha256_file(p)}"])
    d = project.root / "decisions.jsonl"
    if d.exists():
        prov.append(["decisions.jsonl", f"sha256:{sha256_file(d)}"])
    rep.add(Table(["input", "version or SHA-256"], prov))
    return rep


def _evidence_by_theme(rep: Report, analysis: Analysis, redact: bool) -> None:
    """One collapsed section per theme: each source's evidence once, then each pair's coding."""
    project = analysis.project
    labels = {c.id: c.label for c in project.protocol.categories}
    units_of: dict[str, list[Unit]] = {}
    for u in analysis.units:
        units_of.setdefault(u.theme.id, []).append(u)
    for t in project.codebook.themes:
        units = units_of.get(t.id)
        if not units:
            continue
        finals = sorted({labels.get(c, c) for c in (category_cell(u) for u in units)})
        blocks: list[Block] = []
        if t.definition:
            blocks.append(Para(f"Definition: {t.definition}"))
        if analysis.narrative.themes.get(t.id):
            blocks += [
                Para(p.strip()) for p in analysis.narrative.themes[t.id].split("\n\n") if p.strip()
            ]
        items: list[str] = []
        for sid in project.source_ids:
            ts = analysis.sorting[(t.id, sid)]
            if not ts.present:
                continue
            text, _ = finding(analysis, t.id, sid)
            items.append(f"{project.source_label(sid)}: prominence {prominence_text(ts)}")
            if text:
                items.append(f"    finding: {text}")
            items += [f"    {line}" for line in evidence_lines(ts, redact)]
        blocks.append(Bullets(items))
        coding: list[str] = []
        for u in units:
            pair = f"{project.source_label(u.source_a)} / {project.source_label(u.source_b)}"
            final = labels.get(category_cell(u), category_cell(u))
            line = f"{pair}: {final} ({status_text(u)})"
            if u.one_source:
                silent = u.b if u.a.present else u.a
                why = silence(u) or "not_raised"
                line += f"; {project.source_label(silent.source)}: {SILENCE_TEXT.get(why, why)}"
            coding.append(line)
            for r in analysis.reviewers:
                c = u.codes.get(r)
                if c is not None and c.category:
                    coding.append(
                        f"    reviewer {r}: {labels.get(c.category, c.category)}"
                        + (f" - {c.rationale}" if c.rationale else "")
                    )
            d = u.decision
            if d is not None:
                coding.append(
                    f"    decided {labels.get(d.category, d.category)} by "
                    f"{d.decided_by or 'unknown'}: {d.rationale}"
                )
            elif u.rationale and not any(u.codes.get(r) for r in analysis.reviewers):
                coding.append(f"    rationale: {u.rationale}")
        blocks.append(Bullets(coding))
        rep.add(Details(f"{t.display}: {', '.join(finals)}", blocks, anchor(t.id)))


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def _researcher_section(rep: Report, analysis: Analysis) -> None:
    units = analysis.units
    rep.add(*researcher_blocks(analysis))
    if not analysis.reviewers or analysis.agreement is None:
        return
    cats = analysis.project.protocol.category_ids
    for ra, rb, table in analysis.confusion_tables():
        rep.add(
            Para(f"Confusion table: {ra} (rows) by {rb} (columns), units both coded:"),
            Table(
                [f"{ra} \\ {rb}", *cats],
                [[c, *[str(x) for x in row]] for c, row in zip(cats, table)],
                category_cols=(0,),
            ),
        )
    disputes = [u for u in units if u.was_disputed(analysis.reviewers)]
    if not disputes:
        rep.add(Para("The reviewers gave the same category on every unit they both coded."))
        return
    rep.add(
        Para(
            f"Disputes ({len(disputes)}): units where the reviewers' categories differed, and how each was settled."
        )
    )
    for u in disputes:
        items = [
            f"{r}: {c.category} ({'from judgements' if c.derived else 'written'}){' - ' + c.rationale if c.rationale else ''}"
            for r in analysis.reviewers
            if (c := u.codes.get(r)) is not None
        ]
        d = u.decision
        if d is not None:
            items.append(
                f"settled as {d.category} by {d.decided_by or 'unknown'} at {d.decided_at or 'unknown time'}: {d.rationale}"
                + dispute_flag(u, analysis.reviewers)
            )
        else:
            items.append("not yet settled (run 'triangulate review')")
        rep.add(Heading(3, f"{u.theme.display} ({u.source_a} / {u.source_b})"), Bullets(items))
