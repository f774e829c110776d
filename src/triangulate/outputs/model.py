"""The reconciliation report as a small document model: headings, paragraphs, bullets, tables.

Every piece of text in the model is plain text; each renderer (``markdown.py``, ``html.py``, ...)
escapes it its own way, so no source text can inject markup into any format.
"""

from __future__ import annotations

from dataclasses import dataclass, field


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
    header: list[str]
    rows: list[list[str]]
    category_cols: tuple[int, ...] = ()  # columns whose cells are category ids (coloured in HTML)
    numeric_cols: tuple[int, ...] = ()


Block = Heading | Para | Bullets | Table


@dataclass
class Report:
    title: str
    blocks: list[Block] = field(default_factory=list)
    colors: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)

    def add(self, *blocks: Block) -> None:
        self.blocks.extend(blocks)
