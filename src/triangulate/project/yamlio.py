"""Safe YAML loading that remembers where every key and value is.

Only plain YAML is accepted (``yaml.SafeLoader``: no tags that build objects or run code). Each
node's 1-based line and column is recorded under its key path so that pydantic errors and semantic
checks can point at the line that holds the fault. Documents that expand to very many nodes
(alias bombs) are refused before anything walks them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from triangulate.findings import Finding, Location, error
from triangulate.inputs import LIMITS, open_input

MAX_NODES = 200_000

KeyPath = tuple[str | int, ...]


@dataclass
class YamlDoc:
    file: str  # as shown to the user
    data: Any
    positions: dict[KeyPath, tuple[int, int]] = field(default_factory=dict)
    # Where each value starts (``positions`` points at the key that holds it).
    values: dict[KeyPath, tuple[int, int]] = field(default_factory=dict)
    # The text of every scalar YAML reads as a number, as written (exact decimals: spec 5.1).
    numbers: dict[KeyPath, str] = field(default_factory=dict)

    def where_value(self, path: KeyPath) -> Location:
        """The location of the value at ``path`` (falls back to its key, then to an ancestor)."""
        p = tuple(path)
        if p in self.values:
            line, col = self.values[p]
            return Location(self.file, line, col, field=_dotted(p) or None)
        return self.where(p)

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


class _BadScalar(yaml.constructor.ConstructorError):
    """A scalar that YAML reads as a number or date but that is not a valid one (e.g. 2023-02-30)."""


class _Loader(yaml.SafeLoader):
    """SafeLoader whose value errors (bad dates, huge integers) carry the node's position."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)
        except (ValueError, OverflowError, TypeError) as exc:
            raise _BadScalar(None, None, str(exc), node.start_mark) from None


_CSafeLoader: Any = getattr(yaml, "CSafeLoader", None)
if _CSafeLoader is not None:

    class _CLoader(_CSafeLoader):  # type: ignore[misc]
        """The same loader on libyaml's parser: ten to fifteen times faster on large codebooks."""

        def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
            try:
                return super().construct_object(node, deep)
            except (ValueError, OverflowError, TypeError) as exc:
                raise _BadScalar(None, None, str(exc), node.start_mark) from None

else:  # pragma: no cover - PyYAML built without libyaml
    _CLoader = None  # type: ignore[misc,assignment]

C_MIN_LENGTH = 4096  # smaller documents parse in a few milliseconds either way
C_MAX_DEPTH = 500  # libyaml's parser is iterative, but PyYAML composes its nodes recursively in C

# Where libyaml and PyYAML's Python parser are known to part ways (libyaml accepts, or places an
# empty value one column later): tabs, a BOM inside the text, '?' keys and empty values inside flow
# collections, a block scalar header running into a comment. Such documents use the Python parser.
_C_RISKY = re.compile(r"[|>][-+0-9]*#")
_C_RISKY_FLOW = re.compile(r"\?(?:\s|$|[,\]}])|[:,]\s*[,\]}]")
_NON_PRINTABLE = yaml.reader.Reader.NON_PRINTABLE


def _c_parser_ok(text: str, min_length: int = C_MIN_LENGTH) -> bool:
    """Whether to parse with libyaml first: a document large enough to gain, printable as the
    Python reader requires, none of the constructs above, and nested at most ``C_MAX_DEPTH`` deep.

    The depth is measured, not guessed: libyaml's event parser keeps its own stack (no recursion),
    so its events are counted before anything composes the nodes."""
    if _CLoader is None or len(text) < min_length:
        return False
    if "\t" in text or "\ufeff" in text[1:] or _C_RISKY.search(text):
        return False
    if ("[" in text or "{" in text) and _C_RISKY_FLOW.search(text):
        return False
    if _NON_PRINTABLE.search(text):
        return False  # the Python reader words the error
    opening = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
    closing = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
    depth = 0
    try:
        for event in yaml.parse(text, Loader=_CLoader):
            if isinstance(event, opening):
                depth += 1
                if depth > C_MAX_DEPTH:
                    return False
            elif isinstance(event, closing):
                depth -= 1
    except Exception:
        return False  # not valid for libyaml: the Python parser words the error
    return True


_NUMBER_TAGS = frozenset({"tag:yaml.org,2002:float", "tag:yaml.org,2002:int"})
SAFE_TAGS = frozenset(t for t in yaml.SafeLoader.yaml_constructors if t is not None)


def _mark(node: yaml.Node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def _walk_value(
    node: yaml.Node,
    path: KeyPath,
    positions: dict[KeyPath, tuple[int, int]],
    budget: list[int],
    values: dict[KeyPath, tuple[int, int]] | None = None,
    problems: list[tuple[str, str, yaml.Node]] | None = None,
    numbers: dict[KeyPath, str] | None = None,
) -> None:
    """Record the position of every key and list item under ``path`` (keys point at the key).

    Also records where each value starts (``values``) and collects ``problems``: tags that are not
    plain YAML and keys repeated in one mapping, as (code, message, node).
    """
    budget[0] -= 1
    if budget[0] < 0:
        raise _TooComplex
    if problems is not None and node.tag not in SAFE_TAGS:
        problems.append(
            (
                "yaml.unsafe-tag",
                f"the tag '{node.tag.replace('tag:yaml.org,2002:', '!!')}' is not allowed: only plain YAML is read "
                "(no tags that build objects or run code); remove it",
                node,
            )
        )
    if isinstance(node, yaml.MappingNode):
        seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.value)
            positions[path + (key,)] = _mark(key_node)
            if values is not None:
                values[path + (key,)] = _mark(value_node)
            if problems is not None:
                if isinstance(key_node, yaml.ScalarNode) and key != "<<":
                    ident = (key_node.tag, key)
                    if ident in seen:
                        problems.append(
                            (
                                "yaml.duplicate-key",
                                f"key '{key}' appears twice in this mapping (first on line {seen[ident]}); only one "
                                "would be kept: merge them or rename one",
                                key_node,
                            )
                        )
                    else:
                        seen[ident] = key_node.start_mark.line + 1
                _walk_value(key_node, path + (key,), {}, budget, None, problems)  # tags on keys
            _walk_value(value_node, path + (key,), positions, budget, values, problems, numbers)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            positions[path + (i,)] = _mark(item)
            if values is not None:
                values[path + (i,)] = _mark(item)
            _walk_value(item, path + (i,), positions, budget, values, problems, numbers)
    elif numbers is not None and node.tag in _NUMBER_TAGS and isinstance(node.value, str):
        numbers[path] = node.value


def parse_yaml(
    text: str, file: str, loader_class: Any = None
) -> tuple[YamlDoc | None, list[Finding]]:
    """Parse YAML text safely. Returns the document or findings explaining why not.

    Large documents are first parsed with libyaml (when PyYAML has it and :func:`_c_parser_ok`
    allows); anything that goes wrong there, or any finding at all, is parsed again with the Python
    parser, whose messages are the ones reported, so both give the same result (a property test
    compares them). On the 2,000-theme benchmark codebook the Python parser is the largest part of
    ``validate``; on the 200-theme one, 6% of ``run``.
    """
    if loader_class is None:
        if _c_parser_ok(text):
            try:
                doc, found = parse_yaml(text, file, _CLoader)
            except Exception:
                doc, found = None, []
            if doc is not None and not found:
                return doc, found
        loader_class = _Loader
    try:
        loader = loader_class(text)  # the Python reader checks every character first
    except yaml.reader.ReaderError as exc:
        before = text[: exc.position]
        line = before.count("\n") + 1
        column = len(before) - (before.rfind("\n") + 1) + 1
        return None, [
            error(
                "yaml.syntax",
                f"the file holds a control character (#x{exc.character:04x}) that YAML does not allow; remove it",
                Location(file, line, column),
            )
        ]
    problems: list[tuple[str, str, yaml.Node]] = []
    values: dict[KeyPath, tuple[int, int]] = {}
    numbers: dict[KeyPath, str] = {}
    try:
        node = loader.get_single_node()
        if node is None:
            return YamlDoc(file, None, {(): (1, 1)}), []
        positions: dict[KeyPath, tuple[int, int]] = {}
        try:
            positions[()] = (node.start_mark.line + 1, node.start_mark.column + 1)
            values[()] = positions[()]
            _walk_value(node, (), positions, [MAX_NODES], values, problems, numbers)
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
            return None, [
                error("yaml.too-complex", "the document is nested too deeply", Location(file, 1, 1))
            ]
        found = [error(code, msg, Location(file, *_mark(n))) for code, msg, n in problems]
        if any(f.code == "yaml.unsafe-tag" for f in found):
            return None, found  # never construct a document that asks for objects
        data = loader.construct_document(node)
    except _BadScalar as exc:
        mark = exc.problem_mark
        loc = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file)
        return None, [
            error(
                "yaml.invalid-value",
                f"this value looks like a number or a date but cannot be read ({exc.problem}); put it in quotes to make it text",
                loc,
            )
        ]
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        loc = Location(file, mark.line + 1, mark.column + 1) if mark else Location(file)
        problem = exc.problem or "invalid YAML"
        if (
            isinstance(exc, yaml.constructor.ConstructorError)
            and "constructor for the tag" in problem
        ):
            problem = f"{problem}; only plain YAML is allowed (no '!!python' or other tags that build objects)"
        return None, [error("yaml.syntax", f"{problem} (fix the YAML syntax here)", loc)]
    except yaml.YAMLError as exc:
        return None, [error("yaml.syntax", f"invalid YAML: {exc}", Location(file))]
    except RecursionError:
        return None, [
            error("yaml.too-complex", "the document is nested too deeply", Location(file, 1, 1))
        ]
    finally:
        loader.dispose()
    doc = YamlDoc(file, data, positions, values, numbers)
    return doc, found + unsafe_text_findings(doc)


MAX_TEXT_FINDINGS = 20  # per file and kind; the first ones locate the problem well enough


def _at(data: Any, path: KeyPath) -> str:
    """The string at ``path`` (the last part may be a mapping key that is itself the string)."""
    node = data
    for i, part in enumerate(path):
        if isinstance(node, dict) and part in node:
            if i == len(path) - 1 and isinstance(part, str) and not isinstance(node[part], str):
                return part
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            return part if isinstance(part, str) else ""
    return (
        node if isinstance(node, str) else (path[-1] if path and isinstance(path[-1], str) else "")
    )


def unsafe_text_findings(doc: YamlDoc) -> list[Finding]:
    """Warnings for text the tool will not take as it is: lone surrogates (replaced by U+FFFD in
    ``doc.data``, so the text can be written as UTF-8) and control characters (shown visibly
    wherever printed). Each is located at its value."""
    from triangulate.findings import warning
    from triangulate.text import find_unsafe, has_lone_surrogates, scrub

    surrogates, controls = find_unsafe(doc.data)
    lone = [p for p in surrogates if has_lone_surrogates(_at(doc.data, p))]
    found: list[Finding] = []
    for path in lone[:MAX_TEXT_FINDINGS]:
        where = doc.where_value(path)
        found.append(
            warning(
                "data.lone-surrogate",
                f"'{where.field or 'the value'}' holds half of a character (a lone surrogate escape such "
                "as \\ud83d); it is read as \ufffd",
                where,
            )
        )
    if surrogates:
        doc.data, _ = scrub(doc.data)
    for path in controls[:MAX_TEXT_FINDINGS]:
        where = doc.where_value(path)
        found.append(
            warning(
                "data.control-characters",
                f"'{where.field or 'the value'}' holds control characters (an escape sequence, a bell, "
                "a carriage return); they are shown visibly wherever the tool prints them, never raw",
                where,
            )
        )
    return found


def read_text_file(path: Path, shown: str) -> tuple[str | None, list[Finding]]:
    """Read a UTF-8 text file (BOM tolerated). Missing/unreadable/undecodable files give findings."""
    opened = open_input(path, shown, LIMITS["yaml"])
    if opened.data is None:
        return None, opened.findings
    raw = opened.data
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
        return None, [
            error(
                "data.malformed",
                "the file holds NUL bytes; is it a binary file?",
                Location(shown, line=line),
            )
        ]
    return text, []
