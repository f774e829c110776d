"""report.md: the report model rendered as CommonMark."""

from __future__ import annotations

import html

from triangulate.outputs.model import Bullets, Heading, Para, Report, Table


def _md(text: str) -> str:
    """Plain text made inert in Markdown: no HTML, links, code, emphasis or table breaks."""
    t = html.escape(" ".join(text.split()), quote=False)
    for ch in "\\`*[]|":
        t = t.replace(ch, "\\" + ch)
    if t.startswith(("#", "-", "+", ">", "=")) or (t[:1].isdigit() and ". " in t[:6]):
        t = "\\" + t
    return t


def render_markdown(rep: Report) -> str:
    out = [f"# {_md(rep.title)}", ""]
    for b in rep.blocks:
        if isinstance(b, Heading):
            out += ["#" * b.level + " " + _md(b.text), ""]
        elif isinstance(b, Para):
            if b.text:
                out += [_md(b.text), ""]
        elif isinstance(b, Bullets):
            for item in b.items:
                indent = "  " if item.startswith("    ") else ""
                out.append(f"{indent}- {_md(item)}")
            out.append("")
        elif isinstance(b, Table):
            out.append("| " + " | ".join(_md(h) for h in b.header) + " |")
            out.append(
                "|"
                + "|".join("---:" if i in b.numeric_cols else "---" for i in range(len(b.header)))
                + "|"
            )
            for row in b.rows:
                out.append("| " + " | ".join(_md(c) for c in row) + " |")
            out.append("")
    return "\n".join(out).rstrip("\n") + "\n"
