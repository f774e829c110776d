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
        for r in ts.excerpt_rows:
            if distinct is not None and (redact or len(lines) > limit):
                break
            if r.excerpt_id in seen:
                continue
            seen.add(r.excerpt_id)
            if redact:
                continue
            lines.append(
                f"{r.participant}, {r.excerpt_id} [{r.code}]: \u201c{' '.join(r.text.split())}\u201d"
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
    counts = analysis.counts()
    statuses = analysis.statuses()
    steps = {s.id: s.label for s in protocol.steps}

    def step(sid: str, default: str) -> str:
        return steps.get(sid, default)

    theme_names = {t.id: t.display for t in project.codebook.themes}
    group_names = {g.id: g.label or g.id for g in project.codebook.groups}

    # ---- overview
    open_units = (
        statuses.get("proposed", 0) + statuses.get("disputed", 0) + statuses.get("uncoded", 0)
    )
    if open_units:
        rep.add(
            Notice(
                f"Draft: {open_units} of {n} units have no reviewed category yet "
                f"({statuses.get('proposed', 0)} the rule's proposal, not reviewed; "
                f"{statuses.get('disputed', 0)} disputed; {statuses.get('uncoded', 0)} uncoded)."
            )
        )
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
    rep.add(Heading(2, step("sorting", "Sorting"), "sorting"))
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
    rep.add(Heading(2, step("convergence_coding", "Convergence coding"), "convergence-coding"))
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
    # Only units that ended in the one_source category: a reviewer or a decision may override one.
    not_collected = sum(
        1 for u in units if u.note == "not_collected" and u.final == protocol.rules.one_source
    )
    rows = []
    for c in protocol.categories:
        rows.append([c.id, c.label, pct(counts[c.id], n)])
    rows.append(
        [
            "(none)",
            "no final category yet (disputed or uncoded)",
            pct(statuses["disputed"] + statuses["uncoded"], n),
        ]
    )
    rep.add(
        Para(f"Final categories over all {n} units:"),
        Table(["category", "label", "units"], rows, category_cols=(0,)),
    )
    silences = counts.get(protocol.rules.one_source, 0)
    if silences:
        rep.add(
            Para(
                f"Of the {silences} {protocol.rules.one_source} unit(s), {not_collected} concern a source whose "
                f"instrument could not capture the theme (not collected) and {silences - not_collected} a source "
                "that could have spoken to it and did not."
            )
        )
    rep.add(Table(["status", "units"], [[s, pct(k, n)] for s, k in statuses.items()]))
    groups = [(g.id, g.label or g.id) for g in project.codebook.groups]
    if any(u.group == "" for u in units):
        groups.append(("", "(no group)"))
    if project.codebook.groups:
        grows = []
        for gid, glabel in groups:
            gu = [u for u in units if u.group == gid]
            if not gu:
                continue
            grows.append(
                [glabel]
                + [pct(sum(1 for u in gu if u.final == c), len(gu)) for c in protocol.category_ids]
            )
        rep.add(Para("By overarching theme:"), Table(["group", *protocol.category_ids], grows))
    pairs: list[tuple[str, str]] = []
    for u in units:
        if (u.source_a, u.source_b) not in pairs:
            pairs.append((u.source_a, u.source_b))
    prow = []
    for sa, sb in pairs:
        pu = [u for u in units if (u.source_a, u.source_b) == (sa, sb)]
        prow.append(
            [f"{sa} / {sb}"]
            + [pct(sum(1 for u in pu if u.final == c), len(pu)) for c in protocol.category_ids]
        )
    rep.add(Para("By source pair:"), Table(["pair", *protocol.category_ids], prow))

    # ---- joint display
    rep.add(Heading(3, "Joint display", "joint-display-section"), joint_table(analysis, redact))

    # ---- step 4
    rep.add(
        Heading(
            2, step("completeness_comparison", "Completeness comparison"), "completeness-comparison"
        )
    )
    bullets = []
    for sid in project.source_ids:
        only = [
            t.id
            for t in project.codebook.themes
            if analysis.sorting[(t.id, sid)].present
            and not any(analysis.sorting[(t.id, o)].present for o in project.source_ids if o != sid)
        ]
        bullets.append(
            f"Only {sid} ({project.source_label(sid)}): {', '.join(only) if only else 'nothing'}"
        )
    shared = [
        t.id
        for t in project.codebook.themes
        if all(analysis.sorting[(t.id, s)].present for s in project.source_ids)
    ]
    absent = [
        t.id
        for t in project.codebook.themes
        if not any(analysis.sorting[(t.id, s)].present for s in project.source_ids)
    ]
    bullets.append(f"In every source: {', '.join(shared) if shared else 'none'}")
    if absent:
        bullets.append(f"In no source (no unit): {', '.join(absent)}")
    rep.add(Bullets(bullets))
    silent_units = [u for u in units if u.one_source]
    if silent_units:
        rep.add(
            Table(
                ["theme", "present in", "silent", "why silent"],
                [
                    [
                        u.theme.id,
                        u.source_a if u.a.present else u.source_b,
                        u.source_b if u.a.present else u.source_a,
                        "not collected (the instrument could not capture it)"
                        if u.note == "not_collected"
                        else "measured, not said",
                    ]
                    for u in silent_units
                ],
            )
        )

    # ---- step 5
    rep.add(
        Heading(2, step("researcher_comparison", "Researcher comparison"), "researcher-comparison")
    )
    _researcher_section(rep, analysis)

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
    protocol = analysis.project.protocol
    labels = {c.id: c.label for c in protocol.categories}
    units_of: dict[str, list[Unit]] = {}
    for u in analysis.units:
        units_of.setdefault(u.theme.id, []).append(u)
    for t in analysis.project.codebook.themes:
        units = units_of.get(t.id)
        if not units:
            continue
        finals = sorted({labels.get(c, c) for c in (category_cell(u) for u in units)})
        blocks: list[Block] = []
        if t.definition:
            blocks.append(Para(f"Definition: {t.definition}"))
        for u in units:
            pair = f"{analysis.project.source_label(u.source_a)} / {analysis.project.source_label(u.source_b)}"
            final = labels.get(category_cell(u), category_cell(u))
            items = [f"{pair}: {final} ({status_text(u)})"]
            for ts in (u.a, u.b):
                text, _ = finding(analysis, t.id, ts.source)
                label = analysis.project.source_label(ts.source)
                if ts.present:
                    items.append(f"    {label}: present, prominence {prominence_text(ts)}")
                    if text:
                        items.append(f"    finding: {text}")
                    items += [f"    {line}" for line in evidence_lines(ts, redact)]
                else:
                    why = silence(u) or "not_raised"
                    items.append(f"    {label}: {SILENCE_TEXT.get(why, why)}")
            for r in analysis.reviewers:
                c = u.codes.get(r)
                if c is not None and c.category:
                    items.append(
                        f"    reviewer {r}: {labels.get(c.category, c.category)}"
                        + (f" - {c.rationale}" if c.rationale else "")
                    )
            d = u.decision
            if d is not None:
                items.append(
                    f"    decided {labels.get(d.category, d.category)} by {d.decided_by or 'unknown'}: {d.rationale}"
                )
            elif u.rationale:
                items.append(f"    rationale: {u.rationale}")
            blocks.append(Bullets(items))
        rep.add(Details(f"{t.display}: {', '.join(finals)}", blocks, anchor(t.id)))


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + " and " + items[-1]


def methods_paragraph(analysis: Analysis) -> str:
    """A paragraph a team can paste into a paper, with the run's own numbers."""
    project = analysis.project
    protocol = project.protocol
    n = len(analysis.units)
    srcs = []
    for spec in project.file.sources:
        data = project.sources[spec.id]
        if data.is_excerpts:
            people = data.participant_count()
            srcs.append(
                f"{spec.display} ({people} participants, {data.excerpt_count()} coded excerpts)"
            )
        else:
            srcs.append(f"{spec.display} ({len(data.survey)} survey items)")
    themes = len(project.codebook.themes)
    groups = len(project.codebook.groups)
    dims = _join([d.label.lower() for d in protocol.dimensions])
    counts = analysis.counts()
    labels = {c.id: c.label.lower() for c in protocol.categories}
    result = _join([f"{k} {labels[c]}" for c, k in counts.items()])
    text = (
        f"We triangulated {len(srcs)} data sources, {_join(srcs)}, following a triangulation protocol "
        f"({protocol.citation}). Codes from each source were sorted into {themes} themes"
        + (f" within {groups} overarching themes" if groups else "")
        + f". For each theme and pair of sources ({n} units) we assessed convergence on {dims}: "
        f"{protocol.rule_text()}. "
    )
    ag = analysis.agreement
    if ag and analysis.reviewers:
        stats = []
        if ag.percent.value is not None:
            stats.append(f"{100 * ag.percent.value:.1f}% agreement")
        if ag.cohen_kappa.value is not None:
            stats.append(f"Cohen's kappa {ag.cohen_kappa.value:.2f}")
        if ag.fleiss_kappa.value is not None:
            stats.append(f"Fleiss' kappa {ag.fleiss_kappa.value:.2f}")
        if ag.krippendorff_alpha.value is not None:
            stats.append(f"Krippendorff's alpha {ag.krippendorff_alpha.value:.2f}")
        # Say "every unit" only when it is true: worksheets are often partly filled in.
        coded = sum(
            1 for u in analysis.units if any(u.codes.get(r) is not None for r in analysis.reviewers)
        )
        every = all(u.codes.get(r) is not None for u in analysis.units for r in analysis.reviewers)
        text += (
            f"{len(analysis.reviewers)} researchers coded "
            + ("every unit" if every else f"{coded} of the {n} units")
            + " independently"
            + (
                f" ({_join(stats)} over {ag.get('units')} units before adjudication)"
                if stats
                else ""
            )
            + ". "
        )
        disputed = sum(1 for u in analysis.units if u.was_disputed(analysis.reviewers))
        settled = sum(
            1
            for u in analysis.units
            if u.was_disputed(analysis.reviewers) and u.decision is not None
        )
        if disputed:
            text += f"Disagreements ({disputed} unit{'s' if disputed != 1 else ''}) were discussed and {settled} settled by adjudication. "
    text += f"Of the {n} units, {result}."
    left = analysis.statuses()["disputed"] + analysis.statuses()["uncoded"]
    if left:
        text += f" {left} unit(s) had no final category at the time of this report."
    text += f" The analysis was run with triangulate {__version__}."
    return text


def _researcher_section(rep: Report, analysis: Analysis) -> None:
    units = analysis.units
    ag = analysis.agreement
    if not analysis.reviewers:
        rep.add(
            Para(
                "No reviewers are configured, so there is no researcher comparison; categories are the tool's proposals."
            )
        )
        return
    assert ag is not None
    rows = [
        ["percent agreement", fmt_stat(ag.get("percent"))],
        ["Cohen's kappa", fmt_stat(ag.get("cohen_kappa"))],
        ["Fleiss' kappa", fmt_stat(ag.get("fleiss_kappa"))],
        ["Krippendorff's alpha (nominal)", fmt_stat(ag.get("krippendorff_alpha"))],
    ]
    rep.add(
        Para(
            f"Reviewers {', '.join(analysis.reviewers)} coded independently; {ag.get('units', 0)} unit(s) were coded by at least two of them."
        ),
        Table(["statistic", "value"], rows, numeric_cols=(1,)),
    )
    notes = ag.get("notes") or {}
    if isinstance(notes, dict) and notes:
        rep.add(Bullets([f"{k}: {v}" for k, v in notes.items()]))
    by_dim = ag.get("by_dimension") or {}
    if isinstance(by_dim, dict) and by_dim:
        rep.add(
            Para("By dimension (yes/no judgements):"),
            Table(
                [
                    "dimension",
                    "units",
                    "percent",
                    "Cohen's kappa",
                    "Fleiss' kappa",
                    "Krippendorff's alpha",
                ],
                [
                    [
                        d,
                        str(v.get("units", 0)),
                        fmt_stat(v.get("percent")),
                        fmt_stat(v.get("cohen_kappa")),
                        fmt_stat(v.get("fleiss_kappa")),
                        fmt_stat(v.get("krippendorff_alpha")),
                    ]
                    for d, v in by_dim.items()
                ],
            ),
        )
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
            )
        else:
            items.append("not yet settled (run 'triangulate review')")
        rep.add(Heading(3, f"{u.theme.display} ({u.source_a} / {u.source_b})"), Bullets(items))
