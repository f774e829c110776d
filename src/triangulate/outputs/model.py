"""The reconciliation report as a small document model: headings, paragraphs, bullets, tables.

Every piece of text in the model is plain text; each renderer (``markdown.py``, ``html.py``, ...)
escapes it its own way, so no source text can inject markup into any format.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from triangulate.outputs.palette import CategoryStyle


@dataclass
class Heading:
    level: int
    text: str
    anchor: str = ""


@dataclass
class Para:
    text: str


@dataclass
class Bullets:
    items: list[str]


@dataclass
class Table:
    """A table of plain-text cells; a ``\n`` in a cell is a line break.

    A cell of a ``category_cols`` column holds a category id, or lines ``"<prefix>: <id>"``; the
    renderers show each id as the category's label with its colour and mark. ``row_links`` (one
    anchor per row) make the ``link_col`` cell a link to that anchor.
    """

    header: list[str]
    rows: list[list[str]]
    category_cols: tuple[int, ...] = ()
    numeric_cols: tuple[int, ...] = ()
    caption: str = ""
    note: str = ""
    anchor: str = ""
    link_col: int = -1
    row_links: list[str] = field(default_factory=list)
    kind: str = ""  # "matrix", "joint": the publication tables (Word, print layout)


@dataclass
class Notice:
    """A visible notice at the top of a report (the draft notice of spec 10.3)."""

    text: str


@dataclass
class Figure:
    """An SVG figure, embedded in HTML; Markdown links the file ``path`` beside the report."""

    svg: str
    caption: str
    path: str
    anchor: str = ""


@dataclass
class Details:
    """A section that is collapsed on screen and printed expanded (evidence by theme)."""

    summary: str
    blocks: list[Block]
    anchor: str = ""


Block = Heading | Para | Bullets | Table | Notice | Figure | Details


@dataclass
class Report:
    title: str
    blocks: list[Block] = field(default_factory=list)
    colors: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    styles: dict[str, CategoryStyle] = field(default_factory=dict)

    def add(self, *blocks: Block) -> None:
        self.blocks.extend(blocks)
