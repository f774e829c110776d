"""Safe YAML loading that remembers where every key and value is.

Only plain YAML is accepted (``yaml.SafeLoader``: no tags that build objects or run code). Each
node's 1-based line and column is recorded under its key path so that pydantic errors and semantic
checks can point at the line that holds the fault. Documents that expand to very many nodes
(alias bombs) are refused before anything walks them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from triangulate.findings import Finding, Location, error

MAX_NODES = 200_000

KeyPath = tuple[str | int, ...]


@dataclass
class YamlDoc:
    file: str  # as shown to the user
    data: Any
    positions: dict[KeyPath, tuple[int, int]] = field(default_factory=dict)

    def where(self, path: KeyPath) -> Location:
        """The location of ``path``, or of its nearest ancestor that has one."""
        p = tuple(path)
        while p:
            if p in self.positions:
                line, col = self.positions[p]
                return Location(self.file, line, col, field=_dotted(path))
            p = p[:-1]
        pos = self.positions.get((), (1, 1))
        return Location(self.file, pos[0], pos[1], field=_dotted(path) or None)


def _dotted(path: KeyPath) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


class _TooComplex(Exception):
    pass


def _walk_value(node: yaml.Node, path: KeyPath, positions: dict[KeyPath, tuple[int, int]], budget: list[int]) -> None:
    """Record the position of every key and list item under ``path`` (keys point at the key)."""
    budget[0] -= 1
    if budget[0] < 0:
        raise _TooComplex
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            positions[path + (key,)] = (key_node.start_mark.line + 1, key_node.start_mark.column + 1)
            _walk_value(value_node, path + (key,), positions, budget)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            positions[path + (i,)] = (item.start_mark.line + 1, item.start_mark.column + 1)
            _walk_value(item, path + (i,), positions, budget)


def parse_yaml(text: str, file: str) -> tuple[YamlDoc | None, list[Finding]]:
    """Parse YAML text safely. Returns the document or findings explaining why not."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return YamlDoc(file, None, {(): (1, 1)}), []
        positions: dict[KeyPath, tuple[int, int]] = {}
        try:
            positions[()] = (node.start_mark.line + 1, node.start_mark.column + 1)
            _walk_value(node, (), positions, [MAX_NODES])
        except _TooComplex:
            return None, [
                error(
                    "yaml.too-complex",
                    f"the document expands to more than {MAX_NODES:,} nodes (anchors and aliases "
                    "repeated too often); write the values out plainly",
                    Location(file, 1, 1),
                )
            ]
        except RecursionError:
            return None, [error("yaml.too-complex", "the document is nested too deeply", Location(file, 1, 1))]
        data = loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file)
        problem = exc.problem or "invalid YAML"
        if isinstance(exc, yaml.constructor.ConstructorError):
            problem = (
                f"{problem}; only plain YAML is allowed (no '!!python' or other tags that build objects)"
            )
        return None, [error("yaml.syntax", f"{problem} (fix the YAML syntax here)", loc)]
    except yaml.YAMLError as exc:
        return None, [error("yaml.syntax", f"invalid YAML: {exc}", Location(file))]
    except RecursionError:
        return None, [error("yaml.too-complex", "the document is nested too deeply", Location(file, 1, 1))]
    finally:
        loader.dispose()
    return YamlDoc(file, data, positions), []


def read_text_file(path: Path, shown: str) -> tuple[str | None, list[Finding]]:
    """Read a UTF-8 text file (BOM tolerated). Missing/unreadable/undecodable files give findings."""
    if not path.exists():
        return None, [error("file.missing", f"file not found: {shown}", Location(shown))]
    if not path.is_file():
        return None, [error("file.unreadable", f"not a file: {shown}", Location(shown))]
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, [error("file.unreadable", f"cannot read {shown}: {exc.strerror}", Location(shown))]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return None, [
            error(
                "data.bad-encoding",
                "the file is not UTF-8 text; save it as UTF-8",
                Location(shown, line=line),
            )
        ]
    if "\x00" in text:
        line = text[: text.index("\x00")].count("\n") + 1
        return None, [error("data.malformed", "the file holds NUL bytes; is it a binary file?", Location(shown, line=line))]
    return text, []
