"""report.md: the report model rendered as CommonMark."""

from __future__ import annotations

import re
from collections.abc import Iterator

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

_UNDERSCORE = re.compile(r"(?<![^\W_])_|_(?![^\W_])")  # not between two letters or digits
_LIST_NUMBER = re.compile(r"^(\d{1,9})([.)])(?=\s|$)")
_LEADING = re.compile(r"^(?:#{1,6}|[-+])(?=\s|$)")
# Hyphens (and spaces) alone that make a thematic break: three of them on a line of their own, two
# after a list item's own "- " ("--" as an item is written "- --", a rule rather than a list).
_BREAK = re.compile(r"^(?:-\s*){3,}$")
_ITEM_BREAK = re.compile(r"^(?:-\s*){2,}$")


_ESCAPES = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    "\\": "\\\\",
    "`": "\\`",
    "*": "\\*",
    "[": "\\[",
    "]": "\\]",
    "~": "\\~",
}
# Applied in this order, each one ``str.replace`` (C speed): ``&`` before the escapes that write an
# ``&``, the backslash before those that write a backslash, so that nothing is escaped twice. ``str.translate`` with a dict looks every character up in Python:
# 30 ms of a 2 x 150,000-row run's Markdown report went there.
_INLINE = list(_ESCAPES.items())
_CELL = [*_INLINE, ("|", "\\|")]
# Most texts hold nothing to escape, which one regular-expression search tells.
_NEEDS_INLINE = re.compile(r"[&<>\\`*\[\]~]")
_NEEDS_CELL = re.compile(r"[&<>\\`*\[\]~|]")


def _escape(text: str, table: list[tuple[str, str]]) -> str:
    for ch, escaped in table:
        if ch in text:
            text = text.replace(ch, escaped)
    return text


def _inline(text: str, cell: bool = False) -> str:
    """Plain text made inert as CommonMark inline content (a heading, or a table cell).

    Escapes only what could start markup: HTML and entities (as character references), backslash
    escapes, code spans, emphasis (an underscore inside a word, as in ``person_centred_care``,
    cannot start emphasis and stays as it is), links, strikethrough, and a ``|`` inside a table
    cell. Whitespace runs become one space (a report cell is one line).
    """
    t = " ".join(text.split())
    if (_NEEDS_CELL if cell else _NEEDS_INLINE).search(t):
        t = _escape(t, _CELL if cell else _INLINE)
    if "_" in t:
        t = _UNDERSCORE.sub(r"\\_", t)
    return t


def _block(text: str, item: bool = False) -> str:
    """Plain text made inert as a paragraph or (``item``) a list item's text.

    Besides what ``_inline`` escapes, the line must not start a heading, list or thematic break:
    "1. Conspiracist ideation" is written ``1\\. Conspiracist ideation`` (the backslash goes before
    the dot, where CommonMark reads it as an escape, never before the digit).
    """
    t = _inline(text)
    first = t[:1]
    if first in ("#", "+", "-") and (
        _LEADING.match(t) or (_ITEM_BREAK if item else _BREAK).match(t)
    ):
        return "\\" + t
    if first.isdigit():
        return _LIST_NUMBER.sub(r"\1\\\2", t, count=1)
    return t


def _heading(text: str) -> str:
    """Inline text for an ATX heading: a trailing ``#`` would be read as its closing sequence."""
    t = _inline(text)
    return t[:-1] + "\\#" if t.endswith("#") else t


def category_text(cell: str, labels: dict[str, str]) -> list[str]:
    """A category cell's lines with each category id replaced by its label."""
    out = []
    for line in cell.split("\n"):
        head, sep, tail = line.rpartition(": ")
        if sep and tail in labels:
            out.append(f"{head}: {labels[tail]}")
        else:
            out.append(labels.get(line, line))
    return out


def _cell(text: str) -> str:
    return " \u00b7 ".join(_inline(part, cell=True) for part in text.split("\n") if part.strip())


def _blocks(rep: Report, blocks: list[Block], out: list[str]) -> None:
    labels = {k: s.label for k, s in rep.styles.items()} or rep.labels
    for b in blocks:
        if isinstance(b, Heading):
            out += ["#" * b.level + " " + _heading(b.text), ""]
        elif isinstance(b, Para):
            if b.text:
                out += [_block(b.text), ""]
        elif isinstance(b, Notice):
            out += ["> **" + _inline(b.text) + "**", ""]
        elif isinstance(b, Figure):
            out += [f"![{_inline(b.caption)}]({b.path})", ""]
        elif isinstance(b, Details):
            out += ["### " + _heading(b.summary), ""]
            _blocks(rep, b.blocks, out)
        elif isinstance(b, Bullets):
            for item in b.items:
                indent = "  " if item.startswith("    ") else ""
                out.append(f"{indent}- {_block(item.strip(), item=True)}")
            out.append("")
        elif isinstance(b, Table):
            if b.caption:
                out += ["**" + _inline(b.caption) + "**", ""]
            out.append("| " + " | ".join(_inline(h, cell=True) for h in b.header) + " |")
            out.append(
                "|"
                + "|".join("---:" if i in b.numeric_cols else "---" for i in range(len(b.header)))
                + "|"
            )
            for row in b.rows:
                cells = [
                    _cell("\n".join(category_text(c, labels)) if i in b.category_cols else c)
                    for i, c in enumerate(row)
                ]
                out.append("| " + " | ".join(cells) + " |")
            out.append("")
            if b.note:
                out += [_block(b.note), ""]


def render_markdown(rep: Report) -> str:
    return "".join(render_markdown_chunks(rep))


def render_markdown_chunks(rep: Report) -> Iterator[str]:
    """The document a block at a time, as it is made (a large report never exists whole): each
    chunk ends in a newline; blank lines at the very end are dropped, leaving the one newline."""
    if not rep.blocks:
        yield f"# {_heading(rep.title)}\n"
        return
    out = [f"# {_heading(rep.title)}", ""]
    held = 0  # blank lines not written yet: only what follows them says whether they are the end
    for b in rep.blocks:
        _blocks(rep, [b], out)
        trailing = len(out)
        while trailing and not out[trailing - 1]:
            trailing -= 1
        if trailing:
            yield "\n" * held + "\n".join(out[:trailing]) + "\n"
            held = len(out) - trailing
        else:
            held += len(out)
        out = []
