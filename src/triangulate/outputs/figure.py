"""convergence.svg: themes (rows, by label, grouped) x source pairs (columns), one cell per unit.

Each cell is the final category's colour (``palette.py``) with its one-letter mark, so the figure
reads in colour, in greyscale and for colour-blind readers. A unit whose category is still the
rule's unreviewed proposal is drawn outlined with a lower-case mark; a disputed unit is ``?``, an
uncoded one ``-``; a theme absent from both sources of a pair has no cell. A legend says all this.
No script, no external reference, no font file: plain SVG 1.1 text and rectangles, deterministic.
"""

from __future__ import annotations

from html import escape
from typing import TYPE_CHECKING

from triangulate.outputs.display import pairs_of, source_label
from triangulate.outputs.palette import NO_CATEGORY, CategoryStyle, category_styles

if TYPE_CHECKING:
    from triangulate.protocol.analysis import Analysis, Unit

CELL_W = 96
CELL_H = 20
LABEL_MAX = 96  # characters of a theme label before it is shortened (the full label is its title)
FONT = "Arial, Helvetica, sans-serif"
TIP_UNITS = 1000  # cells carry a tooltip (<title>) up to this many units


def _a(text: str) -> str:
    return escape(text, quote=True)


def _short(text: str, n: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= n else flat[: n - 1].rstrip() + "\u2026"


def _wrap(text: str, width: int) -> list[str]:
    words, lines, cur = text.split(), [], ""
    for w in words:
        if cur and len(cur) + 1 + len(w) > width:
            lines.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}" if cur else w
    if cur:
        lines.append(cur)
    return lines[:3] if len(lines) <= 3 else [*lines[:2], _short(" ".join(lines[2:]), width)]


def render_svg(analysis: Analysis) -> str:
    project = analysis.project
    protocol = project.protocol
    styles = category_styles(protocol)
    pairs = pairs_of(analysis)
    cell: dict[tuple[str, str, str], Unit] = {
        (u.theme.id, u.source_a, u.source_b): u for u in analysis.units
    }
    # rows: themes by group (codebook group order, then ungrouped), each group's label a row
    group_label = {g.id: g.label or g.id for g in project.codebook.groups}
    order = [g.id for g in project.codebook.groups]
    rows: list[tuple[str, str, str]] = []  # (kind, id, text): kind "group" or "theme"
    themes = [t for t in project.codebook.themes if any((t.id, *p) in cell for p in pairs.pairs)]
    for gid in [*order, ""]:
        members = [t for t in themes if (t.group or "") == gid]
        if not members:
            continue
        if project.codebook.groups:
            rows.append(("group", gid, group_label.get(gid, "(no group)") if gid else "(no group)"))
        rows.extend(("theme", t.id, t.display) for t in members)
    label_w = 12 + 6.2 * max([len(_short(r[2], LABEL_MAX)) for r in rows] + [12])
    head_lines = [
        [
            *_wrap(source_label(analysis, a), 17),
            "\u00d7",
            *_wrap(source_label(analysis, b), 17),
        ]
        for a, b in pairs.pairs
    ]
    head_h = 14 * max([len(h) for h in head_lines] + [1]) + 10
    top = 34 + head_h
    grid_w = CELL_W * max(len(pairs.pairs), 1)
    title = f"Convergence by theme and source pair: {project.file.title}"
    sources_note = (
        "No cell: the theme is in neither source of the pair. Sources: "
        + "; ".join(source_label(analysis, s) for s in project.source_ids)
        + "."
    )
    width = int(max(label_w + grid_w + 16, 8 + 5.6 * len(sources_note), 8 + 7.2 * len(title), 340))
    legend_items = [(s.colour, s.text, s.mark, s.label, False) for s in styles.values()]
    legend_items += [
        (
            NO_CATEGORY,
            "#000000",
            "a",
            "lower case, outlined: the rule's proposal, not reviewed",
            True,
        ),
        (NO_CATEGORY, "#000000", "?", "disputed: reviewers disagree", False),
        (NO_CATEGORY, "#000000", "-", "not coded", False),
    ]
    legend_top = top + CELL_H * len(rows) + 18
    height = int(legend_top + 18 * len(legend_items) + 26)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-labelledby="fig-title" '
        f'font-family="{FONT}" font-size="11">',
        f'<title id="fig-title">{_a(title)}</title>',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#FFFFFF"/>',
        f'<text x="8" y="20" font-size="13" font-weight="bold">{_a(title)}</text>',
    ]
    for i, lines in enumerate(head_lines):
        x = label_w + CELL_W * i + CELL_W / 2
        for j, line in enumerate(lines):
            out.append(
                f'<text x="{x:.1f}" y="{34 + 14 * (j + 1)}" text-anchor="middle" '
                f'font-weight="bold">{_a(line)}</text>'
            )
    for r_i, (kind, rid, text) in enumerate(rows):
        y = top + CELL_H * r_i
        if kind == "group":
            out.append(
                f'<text x="8" y="{y + 14}" font-weight="bold" font-style="italic">'
                f"{_a(_short(text, LABEL_MAX + 4))}</text>"
            )
            continue
        out.append(
            f'<text x="16" y="{y + 14}"><title>{_a(text)}</title>{_a(_short(text, LABEL_MAX))}</text>'
        )
        for c_i, (sa, sb) in enumerate(pairs.pairs):
            u = cell.get((rid, sa, sb))
            if u is None:
                continue
            x = label_w + CELL_W * c_i
            # a tooltip per cell, unless the figure is large (the file stays small)
            tip = f"{text}: {pairs.labels[(sa, sb)]}" if len(analysis.units) <= TIP_UNITS else ""
            out.append(_cell(u, x, y, styles, title=tip))
    # legend
    out.append(f'<text x="8" y="{legend_top}" font-weight="bold">Category (final)</text>')
    for i, (fill, ink, mark, label, dashed) in enumerate(legend_items):
        y = legend_top + 8 + 18 * i
        stroke = ' stroke-dasharray="3 2"' if dashed else ""
        out.append(
            f'<rect x="8" y="{y}" width="22" height="14" fill="{fill}" stroke="#333333"{stroke}/>'
            f'<text x="19" y="{y + 11}" text-anchor="middle" font-weight="bold" fill="{ink}">'
            f"{_a(mark)}</text>"
            f'<text x="38" y="{y + 11}">{_a(label)}</text>'
        )
    note_y = legend_top + 8 + 18 * len(legend_items) + 12
    out.append(f'<text x="8" y="{note_y}" font-size="10" fill="#333333">{_a(sources_note)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _cell(u: Unit, x: float, y: float, styles: dict[str, CategoryStyle], title: str) -> str:
    dashed = ""
    if u.final and u.status == "proposed":
        st = styles[u.final]
        fill, ink, mark, stroke = NO_CATEGORY, "#000000", st.mark.lower(), st.colour
        dashed = ' stroke-dasharray="3 2" stroke-width="2"'
        what = f"{st.label} (rule's proposal, not reviewed)"
    elif u.final:
        st = styles[u.final]
        fill, ink, mark, stroke, what = st.colour, st.text, st.mark, "#555555", st.label
    elif u.status == "disputed":
        fill, ink, mark, stroke, what = NO_CATEGORY, "#000000", "?", "#333333", "disputed"
    else:
        fill, ink, mark, stroke, what = NO_CATEGORY, "#000000", "-", "#333333", "not coded"
    tip = f"<title>{_a(title)}: {_a(what)}</title>" if title else ""
    return (
        f"<g>{tip}"
        f'<rect x="{x + 1:.1f}" y="{y + 1}" width="{CELL_W - 2}" height="{CELL_H - 2}" '
        f'fill="{fill}" stroke="{stroke}"{dashed}/>'
        f'<text x="{x + CELL_W / 2:.1f}" y="{y + 14}" text-anchor="middle" font-weight="bold" '
        f'fill="{ink}">{_a(mark)}</text></g>'
    )
