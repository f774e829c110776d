"""report.html: the report model rendered as one self-contained HTML page.

Made to be printed as well as read: on screen, long text wraps and nothing scrolls sideways at
1280 px; the evidence by theme is collapsed (``<details>``) and linked from the matrix. In print
(A4 or Letter), the wide publication tables go on landscape pages (a named ``@page``), header rows
repeat on every page, a row shorter than a page is never split, the evidence prints expanded, and
a table with more columns than a page can hold prints as stacked cells (each row a block of
"column: value" lines) instead of running off the page. Every piece of text is escaped; the only
markup is the tool's own (and the SVG figure, which ``figure.py`` escapes).

Large reports stay quick to open (2,000 themes x 6 pairs: about 1.3 s to the load event in
Chromium, ``benchmarks/report_open.py``): each part (a level-2 heading and what follows) is laid
out only when scrolled to (``content-visibility``), category badges take their colours from
per-category classes, and a figure over ``INLINE_FIGURE_BYTES`` is the same SVG as a lazily
loaded image in a ``data:`` URL. No script is needed for any of it.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from functools import lru_cache

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
from triangulate.outputs.palette import CategoryStyle

STACK_PRINT_COLUMNS = 10  # a table with more columns prints as stacked cells
WIDE_COLUMNS = 6  # a table with more columns (or a publication table) prints landscape

CSS = """
*,*::before,*::after{box-sizing:border-box}
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;max-width:78rem;margin:1.5rem auto;padding:0 1rem;color:#222;line-height:1.45}
h1{font-size:1.6rem}h2{margin-top:2.2rem;border-bottom:2px solid #ddd;padding-bottom:.2rem}h3{font-size:1.05rem;margin-top:1.4rem}
table{border-collapse:collapse;margin:.6rem 0 .4rem;font-size:.88rem;width:100%}
caption{caption-side:top;text-align:left;font-weight:600;padding:.2rem 0}
th,td{border:1px solid #bbb;padding:.25rem .45rem;text-align:left;vertical-align:top;overflow-wrap:break-word}
th{background:#f0f0f0}td.num{text-align:right;font-variant-numeric:tabular-nums}
td a{color:inherit}
.tablewrap{max-width:100%;overflow-x:auto}
p.note{font-size:.82rem;color:#444;margin:.2rem 0 1.2rem}
.cat{white-space:nowrap}
.cat{display:inline-block;padding:.05rem .35rem;border-radius:3px;font-weight:600;border:1px solid #555;-webkit-print-color-adjust:exact;print-color-adjust:exact}
.cat b{display:inline-block;min-width:1em;text-align:center;margin-right:.25rem}
.sub{display:block;font-size:.9em;color:#444;font-weight:normal}
ul{margin:.3rem 0 1rem}li.sub{list-style:none;margin-left:1.2rem;color:#444;display:list-item;font-size:inherit}
.legend .cat{margin:.1rem .2rem}
.notice{border:2px solid #D55E00;background:#fff4ec;padding:.5rem .8rem;margin:1rem 0;font-weight:600}
details{border:1px solid #ddd;border-radius:4px;padding:.2rem .6rem;margin:.4rem 0}
details>summary{cursor:pointer;font-weight:600}
details[open]>summary{margin-bottom:.4rem}
figure{margin:1rem 0}figure svg,figure img.figure{max-width:100%;height:auto}figcaption{font-size:.85rem;color:#333}
@media screen{.part,.tablewrap{content-visibility:auto;contain-intrinsic-size:auto 600px}.part{contain-intrinsic-size:auto 1500px}}
@page{margin:14mm 12mm}
@page wide{size:landscape;margin:12mm 10mm}
@media print{
body{margin:0;max-width:none;padding:0;font-size:10pt}
p.note{font-size:8pt}
h2{break-after:avoid}h3{break-after:avoid}caption{break-after:avoid}
.tablewrap{overflow:visible}
section.wide{page:wide}
table{font-size:8pt;width:100%;page-break-inside:auto}
thead{display:table-header-group}
tr,td,th{break-inside:avoid;page-break-inside:avoid}
details{border:none;padding:0}
details>summary{list-style:none;font-size:1.05rem}
details>summary::-webkit-details-marker{display:none}
details::details-content{content-visibility:visible;display:contents}
a{color:inherit;text-decoration:none}
table.stack,table.stack thead,table.stack tbody,table.stack tr,table.stack th,table.stack td{display:block;width:auto}
table.stack thead{display:none}
table.stack tr{border:1px solid #999;margin:0 0 2mm;break-inside:avoid}
table.stack td{border:none;border-top:1px solid #ddd;padding:.5mm 1.5mm}
table.stack td::before{content:attr(data-h) ": ";font-weight:600}
}
"""


def _tint(hex_color: str) -> str:
    """A light version of a colour (kept for callers that shade a background)."""
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))

    def mix(c: int) -> int:
        return int(c + (255 - c) * 0.65)

    return f"#{mix(r):02x}{mix(g):02x}{mix(b):02x}"


e = html.escape


def badge(style: CategoryStyle, klass: str | None = None) -> str:
    """A category as a badge: its mark and label on its colour. With ``klass`` (see
    :func:`_category_css`) the colours come from the page's style sheet instead of each badge,
    40 bytes less a badge (a large report has one per unit and theme)."""
    if klass is not None:
        return f'<span class="cat {klass}"><b>{e(style.mark)}</b>{e(style.label)}</span>'
    return (
        f'<span class="cat" style="background:{style.colour};color:{style.text}">'
        f"<b>{e(style.mark)}</b>{e(style.label)}</span>"
    )


def _category_classes(rep: Report) -> dict[str, str]:
    """One class name per category, by its place in the protocol (ids may hold any character)."""
    return _classes_of(tuple(rep.styles))


@lru_cache(maxsize=16)
def _classes_of(ids: tuple[str, ...]) -> dict[str, str]:
    # built once per protocol, not once per badge (a large report has one per unit and theme)
    return {cid: f"k{i}" for i, cid in enumerate(ids)}


def _category_css(rep: Report) -> str:
    classes = _category_classes(rep)
    return "".join(
        f".{classes[cid]}{{background:{s.colour};color:{s.text}}}" for cid, s in rep.styles.items()
    )


def _category_html(cell: str, rep: Report) -> str:
    """Category ids as badges (label, colour, mark); other lines as text, later ones smaller."""
    out = []
    for i, line in enumerate(cell.split("\n")):
        head, sep, tail = line.rpartition(": ")
        key, prefix = (tail, f"{e(head)}: ") if sep and tail in rep.styles else (line, "")
        style = rep.styles.get(key)
        if style is not None:
            out.append(("<br>" if i else "") + prefix + badge(style, _category_classes(rep)[key]))
        elif i:
            out.append(f'<span class="sub">{e(line)}</span>')
        else:
            out.append(e(rep.labels.get(key, key)))
    return "".join(out)


def _text_html(cell: str) -> str:
    return "<br>".join(e(part) for part in cell.split("\n"))


def _table(b: Table, rep: Report) -> str:
    wide = _is_wide(b)
    stack = len(b.header) > STACK_PRINT_COLUMNS
    classes = [c for c, on in (("wide", wide), ("stack", stack)) if on]
    cls = f' class="{" ".join(classes)}"' if classes else ""
    ident = f' id="{e(b.anchor)}"' if b.anchor else ""
    out = [f"<table{cls}{ident}>"]
    if b.caption:
        out.append(f"<caption>{e(b.caption)}</caption>")
    out.append(
        "<thead><tr>"
        + "".join(f'<th scope="col">{e(h)}</th>' for h in b.header)
        + "</tr></thead><tbody>"
    )
    heads = [e(h, quote=True) for h in b.header]
    for r_i, row in enumerate(b.rows):
        cells = []
        for i, c in enumerate(row):
            h = heads[i] if i < len(heads) else ""
            if i in b.category_cols:
                inner = _category_html(c, rep)
            else:
                inner = _text_html(c)
            if i == b.link_col and r_i < len(b.row_links) and b.row_links[r_i]:
                inner = f'<a href="#{e(b.row_links[r_i], quote=True)}">{inner}</a>'
            klass = ' class="num"' if i in b.numeric_cols else ""
            label = f' data-h="{h}"' if stack else ""  # the stacked cell's column name in print
            cells.append(f"<td{klass}{label}>{inner}</td>")
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    body = '<div class="tablewrap">' + "".join(out) + "</div>"
    if b.note:
        body += f'<p class="note">{e(b.note)}</p>'
    return f'<section class="wide">{body}</section>' if wide else body


def _is_wide(b: Block) -> bool:
    return isinstance(b, Table) and (b.kind in ("matrix", "joint") or len(b.header) > WIDE_COLUMNS)


INLINE_FIGURE_BYTES = 400_000  # a larger figure is an image: no DOM nodes for its cells
_SVG_SIZE = re.compile(r'<svg\b[^>]*?\swidth="([0-9.]+)"[^>]*?\sheight="([0-9.]+)"')


def _figure_image(svg: str, caption: str) -> str:
    """A large figure (hundreds of themes: tens of thousands of shapes) as an image of the same
    SVG, in a ``data:`` URL so that the report stays one file. Inline, each shape is a node the
    browser builds and styles while the page opens (0.6 s of 2.5 at 2,000 themes x 6 pairs); as
    an image it is drawn only when scrolled to. The cells' tooltips are lost; the evidence below
    and convergence.svg hold the same."""
    import base64

    size = _SVG_SIZE.search(svg)
    dims = f' width="{size.group(1)}" height="{size.group(2)}"' if size else ""
    xml = svg.replace("<svg", '<svg xmlns="http://www.w3.org/2000/svg"', 1)
    # base64 (C speed) rather than percent-encoding, which urllib does a character at a time in
    # Python (0.1 s at 2,000 themes); about the same size, as the markup is mostly escaped anyway.
    url = "data:image/svg+xml;base64," + base64.b64encode(xml.encode("utf-8")).decode("ascii")
    return f'<img class="figure" loading="lazy" src=\'{url}\'{dims} alt="{e(caption, quote=True)}">'


def _blocks(rep: Report, blocks: list[Block], out: list[str]) -> None:
    i = 0
    while i < len(blocks):
        # headings and paragraphs that lead into a wide table go onto its landscape page
        j = i
        while j < len(blocks) and isinstance(blocks[j], (Heading, Para)):
            j += 1
        if j > i and j < len(blocks) and _is_wide(blocks[j]):
            lead: list[str] = []
            _block(rep, blocks[i:j], lead)
            table = _table(blocks[j], rep)  # type: ignore[arg-type]
            out.append(
                table.replace('<section class="wide">', '<section class="wide">' + "".join(lead), 1)
            )
            i = j + 1
            continue
        _block(rep, [blocks[i]], out)
        i += 1


def _block(rep: Report, blocks: list[Block], out: list[str]) -> None:
    for b in blocks:
        if isinstance(b, Heading):
            anchor = f' id="{e(b.anchor)}"' if b.anchor else ""
            out.append(f"<h{b.level}{anchor}>{e(b.text)}</h{b.level}>")
        elif isinstance(b, Para):
            if b.text:
                out.append(f"<p>{e(b.text)}</p>")
        elif isinstance(b, Notice):
            out.append(f'<div class="notice" role="note">{e(b.text)}</div>')
        elif isinstance(b, Figure):
            anchor = f' id="{e(b.anchor)}"' if b.anchor else ""
            # inline SVG needs neither an XML declaration nor the namespace inside HTML
            svg = (
                b.svg.split("?>", 1)[-1]
                .strip()
                .replace(' xmlns="http://www.w3.org/2000/svg"', "", 1)
            )
            if len(svg) > INLINE_FIGURE_BYTES:
                svg = _figure_image(svg, b.caption)
            out.append(f"<figure{anchor}>{svg}<figcaption>{e(b.caption)}</figcaption></figure>")
        elif isinstance(b, Details):
            anchor = f' id="{e(b.anchor)}"' if b.anchor else ""
            out.append(f"<details{anchor}><summary>{e(b.summary)}</summary>")
            _blocks(rep, b.blocks, out)
            out.append("</details>")
        elif isinstance(b, Bullets):
            out.append("<ul>")
            for item in b.items:
                if item.startswith("    "):
                    out.append(f'<li class="sub">{e(item.strip())}</li>')
                else:
                    out.append(f"<li>{e(item)}</li>")
            out.append("</ul>")
        elif isinstance(b, Table):
            out.append(_table(b, rep))


def render_html(rep: Report) -> str:
    return "".join("\n".join(lines) + "\n" for lines in _html_parts(rep))


def render_html_bytes(rep: Report) -> bytes:
    """The page as UTF-8."""
    return b"".join(render_html_chunks(rep))


def render_html_chunks(rep: Report) -> Iterator[bytes]:
    """The page as UTF-8, a part at a time (each ending in a newline), as it is made: a large
    report's text never exists whole, neither as a string nor as bytes (see files.atomic_write_chunks)."""
    from triangulate.files import encode_text

    for lines in _html_parts(rep):
        yield encode_text("\n".join(lines) + "\n")


def _html_parts(rep: Report) -> Iterator[list[str]]:
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(rep.title)}</title>",
        f"<style>{CSS.strip()}\n{_category_css(rep)}</style>",
        "</head><body>",
        f"<h1>{e(rep.title)}</h1>",
    ]
    classes = _category_classes(rep)
    if rep.styles:
        out.append(
            '<p class="legend">'
            + "".join(badge(s, classes[cid]) for cid, s in rep.styles.items())
            + "</p>"
        )
    # Each part (a level-2 heading and what follows it) is its own block: on screen the browser
    # lays out only the parts in view (content-visibility), which is what lets a report of
    # 2,000 themes x 6 pairs open in about a second and a half instead of five.
    start = 0
    for k in range(1, len(rep.blocks) + 1):
        if k == len(rep.blocks) or (
            isinstance(rep.blocks[k], Heading) and rep.blocks[k].level == 2  # type: ignore[union-attr]
        ):
            part = rep.blocks[start:k]
            if part:
                out.append('<div class="part">')
                _blocks(rep, part, out)
                out.append("</div>")
                yield out
                out = []
            start = k
    out.append("</body></html>")
    yield out
