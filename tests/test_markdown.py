"""report.md is CommonMark that renders back to the very text it was given.

Each check writes a report holding the text, parses the Markdown with markdown-it-py (CommonMark,
plus the GFM table and strikethrough extensions the report relies on) and compares the text of
the parsed document with the input: no markup may appear, no backslash may be left visible.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from triangulate.outputs.markdown import render_markdown
from triangulate.outputs.model import Bullets, Heading, Para, Report, Table

MD = MarkdownIt("commonmark").enable(["table", "strikethrough"])
PLAIN = {"text", "softbreak", "hardbreak"}


def _flat(text: str) -> str:
    return " ".join(text.split())


def _blocks(md: str) -> list[tuple[str, str]]:
    """(block type, its text) for every inline run, failing on any inline markup."""
    out: list[tuple[str, str]] = []
    parent = ""
    for tok in MD.parse(md):
        if tok.type.endswith("_open"):
            parent = tok.type[: -len("_open")]
        if tok.type != "inline":
            continue
        parts = []
        for child in tok.children or []:
            assert child.type in PLAIN, (child.type, md)
            parts.append(" " if child.type != "text" else child.content)
        out.append((parent, "".join(parts)))
    return out


def _kinds(md: str) -> list[str]:
    return [t.type for t in MD.parse(md) if t.type.endswith("_open")]


NAMES = [
    "1. Conspiracist ideation",
    "2) Trust in science",
    "10. Cost of care",
    "# not a heading",
    "#hashtag",
    "- not a list",
    "+5 points",
    "-5 points",
    "---",
    "--",
    "- -",
    "-- -",
    "-",
    "> quoted",
    "* star",
    "_underscored_",
    "person_centered_care",
    "a *b* c",
    "`code`",
    "[x](javascript:alert(1))",
    "<script>alert(1)</script>",
    "AT&T &amp; &copy; &#35;",
    "back\\slash \\* \\1",
    "pipe | inside",
    "~~gone~~",
    "ends with #",
    "trailing backslash \\",
    "=== equals",
]


@pytest.mark.parametrize("name", NAMES)
def test_a_paragraph_renders_to_its_own_text(name: str) -> None:
    md = render_markdown(Report(title="T", blocks=[Para(name)]))
    assert _blocks(md) == [("heading", "T"), ("paragraph", _flat(name))]


@pytest.mark.parametrize("name", NAMES)
def test_a_heading_bullet_and_cell_render_to_their_own_text(name: str) -> None:
    rep = Report(
        title=name,
        blocks=[
            Heading(2, name),
            Bullets([name, "    " + name]),
            Table(["theme", "n"], [[name, "3"]]),
        ],
    )
    md = render_markdown(rep)
    texts = [t for _, t in _blocks(md)]
    assert texts == [_flat(name)] * 4 + ["theme", "n", _flat(name), "3"], md
    kinds = _kinds(md)
    assert kinds.count("table_open") == 1 and kinds.count("tr_open") == 2, md
    assert kinds.count("bullet_list_open") == 2 and "ordered_list_open" not in kinds, md


def test_a_numbered_name_gains_no_backslash_before_its_number() -> None:
    md = render_markdown(Report(title="T", blocks=[Para("1. Conspiracist ideation")]))
    assert "\\1" not in md
    assert "1\\. Conspiracist ideation" in md
    # in a table cell or a heading nothing needs escaping at all
    md = render_markdown(
        Report(title="1. Conspiracist ideation", blocks=[Table(["t"], [["1. Conspiracist"]])])
    )
    assert "# 1. Conspiracist ideation" in md and "| 1. Conspiracist |" in md


def test_a_word_joined_by_underscores_is_left_as_it_is() -> None:
    md = render_markdown(Report(title="T", blocks=[Table(["t"], [["person_centered_care"]])]))
    assert "| person_centered_care |" in md


_any = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\ufffd"),
    max_size=40,
)
# Names drawn from the characters that make CommonMark markup, so that short collisions such as
# "--" (as a list item, "- --" is a thematic break) come up often, not once in many runs.
_MARKUP = [*"-*_#+=> `[]!<&\\~|:a", "1.", "1)"]
_markup = st.lists(st.sampled_from(_MARKUP), max_size=5).map("".join)
_text = st.one_of(_any, _markup).filter(lambda s: _flat(s) != "")


@pytest.mark.fuzz
@settings(max_examples=300, deadline=None)
@given(name=_text)
def test_any_name_renders_to_its_own_text(name: str) -> None:
    rep = Report(
        title=name,
        blocks=[Para(name), Bullets([name]), Table(["theme", "x"], [[name, name]])],
    )
    md = render_markdown(rep)
    texts = [t for _, t in _blocks(md)]
    flat = _flat(name)
    assert texts == [flat, flat, flat, "theme", "x", flat, flat], md


_BLOCK = st.one_of(
    st.builds(Para, st.sampled_from(["", "text", "1. item", " ", "a\n\nb"])),
    st.builds(Heading, st.integers(min_value=2, max_value=3), st.sampled_from(["H", "ends #"])),
    st.builds(Bullets, st.lists(st.sampled_from(["x", "    sub", "- y"]), max_size=3)),
    st.builds(
        Table,
        st.just(["a", "b"]),
        st.lists(st.lists(st.sampled_from(["1", "", "x|y"]), min_size=2, max_size=2), max_size=2),
    ),
)


@settings(max_examples=200, deadline=None)
@given(blocks=st.lists(_BLOCK, max_size=8), title=st.sampled_from(["T", "Title #", "a_b"]))
def test_the_report_written_a_block_at_a_time_is_the_whole_document(
    blocks: list, title: str
) -> None:
    """report.md is written as it is made, a block at a time; the file is what joining every line
    at once gives (blank lines at the end dropped, one final newline), empty reports included."""
    from triangulate.outputs.markdown import _blocks as md_blocks
    from triangulate.outputs.markdown import _heading, render_markdown_chunks

    rep = Report(title=title, blocks=blocks)
    lines = [f"# {_heading(title)}", ""]
    md_blocks(rep, blocks, lines)
    whole = "\n".join(lines).rstrip("\n") + "\n"
    chunks = list(render_markdown_chunks(rep))
    assert "".join(chunks) == whole
    assert all(c.endswith("\n") for c in chunks)
