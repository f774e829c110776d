"""report.html: the report model rendered as one self-contained HTML page."""

from __future__ import annotations

import html

from triangulate.outputs.model import Bullets, Heading, Para, Report, Table

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;max-width:72rem;margin:2rem auto;padding:0 1rem;color:#222;line-height:1.45}
h1{font-size:1.6rem}h2{margin-top:2.2rem;border-bottom:2px solid #ddd;padding-bottom:.2rem}h3{font-size:1.05rem;margin-top:1.4rem}
table{border-collapse:collapse;margin:.6rem 0 1rem;font-size:.9rem}
th,td{border:1px solid #ccc;padding:.25rem .5rem;text-align:left;vertical-align:top;max-width:30rem;overflow-wrap:break-word}
.scroll{overflow-x:auto}
th{background:#f2f2f2}td.num{text-align:right;font-variant-numeric:tabular-nums}
td.cat{font-weight:600;-webkit-print-color-adjust:exact;print-color-adjust:exact}
ul{margin:.3rem 0 1rem}li.sub{list-style:none;margin-left:1.2rem;color:#444}
.legend span{display:inline-block;padding:.1rem .5rem;margin:.1rem;border-radius:3px;-webkit-print-color-adjust:exact;print-color-adjust:exact}
@media print{body{margin:0;max-width:none}h2{page-break-after:avoid}table{page-break-inside:auto}tr{page-break-inside:avoid}}
"""


def _tint(hex_color: str) -> str:
    """A light version of a category colour, for cell backgrounds that stay readable in print."""
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))

    def mix(c: int) -> int:
        return int(c + (255 - c) * 0.65)

    return f"#{mix(r):02x}{mix(g):02x}{mix(b):02x}"


def render_html(rep: Report) -> str:
    e = html.escape
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(rep.title)}</title>",
        f"<style>{CSS.strip()}</style>",
        "</head><body>",
        f"<h1>{e(rep.title)}</h1>",
        '<p class="legend">'
        + "".join(
            f'<span style="background:{_tint(c)};border-left:4px solid {c}">{e(rep.labels.get(k, k))}</span>'
            for k, c in rep.colors.items()
        )
        + "</p>",
    ]
    for b in rep.blocks:
        if isinstance(b, Heading):
            anchor = f' id="{e(b.anchor)}"' if b.anchor else ""
            out.append(f"<h{b.level}{anchor}>{e(b.text)}</h{b.level}>")
        elif isinstance(b, Para):
            if b.text:
                out.append(f"<p>{e(b.text)}</p>")
        elif isinstance(b, Bullets):
            out.append("<ul>")
            for item in b.items:
                if item.startswith("    "):
                    out.append(f'<li class="sub">{e(item.strip())}</li>')
                else:
                    out.append(f"<li>{e(item)}</li>")
            out.append("</ul>")
        elif isinstance(b, Table):
            out.append(
                '<div class="scroll"><table><thead><tr>'
                + "".join(f"<th>{e(h)}</th>" for h in b.header)
                + "</tr></thead><tbody>"
            )
            for row in b.rows:
                cells = []
                for i, c in enumerate(row):
                    if i in b.category_cols and c in rep.colors:
                        cells.append(
                            f'<td class="cat" style="background:{_tint(rep.colors[c])}">{e(c)}</td>'
                        )
                    elif i in b.numeric_cols:
                        cells.append(f'<td class="num">{e(c)}</td>')
                    else:
                        cells.append(f"<td>{e(c)}</td>")
                out.append("<tr>" + "".join(cells) + "</tr>")
            out.append("</tbody></table></div>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"
