"""REFI-QDA project exchange (``.qdpx``) read as a ``kind: excerpts`` source (spec section 4.4).

A ``.qdpx`` is a zip holding one project XML (``project.qde``, or named after the project) and a
folder of sources (``sources/`` or ``Sources/``). Each coding of a plain-text selection becomes one
:class:`~triangulate.sources.ExcerptRow`:

- ``excerpt_id``: the selection's GUID (lower case, without braces);
- ``participant``: the case that holds the selection (``SelectionRef``) or its source
  (``SourceRef``), else the source's name;
- ``code``: the code's own name (or its full path ``Parent/child`` with ``code_path: true``);
  :func:`resolve_code_forms` later renames it to the full path when the codebook lists it that way;
- ``text``: the selected characters of the source's plain text.

Positions: REFI-QDA counts Unicode code points from 0, end exclusive. Real exports also count
UTF-16 code units (NVivo for Windows), a Windows line ending as one (ATLAS.ti, whose stored text
keeps CRLF) or as two where the text has a bare LF (inline text after XML line-end normalisation).
Every reading allowed by the source's ``positions`` option is scored on how well the selections land
on the text (inside it, not splitting a character, a line break or a word; matching the selection's
name when it quotes the text) and the best one is used, code points first on a tie. A text on which
every reading gives the same positions (no character outside the BMP, no CRLF, not inline text with
line breaks) is not scored at all; counting a line ending as two applies to inline text only (the
XML parser turned its CRLFs into LFs; a stored text is read as the exporter wrote it).

Memory stays bounded by the archive's limits, never by what a few KB of zip can ask for: the
position mapper keeps only the indices where units differ, in 4-byte arrays; selections are landed
as indices and sliced once, shared by every coding; excerpt text kept is capped per excerpt
(``MAX_EXCERPT_CHARS``) and per archive (``MAX_EXCERPT_TOTAL``, then ``MAX_EXCERPT_CUT`` each).

Untrusted input: no DTD and no entity is ever processed (XML without a ``<!DOCTYPE`` in an
ASCII-compatible encoding is read by expat's C parser, which then cannot meet a declaration;
anything else goes through defusedxml, which refuses them), the zip's entry count and the bytes
read from it are capped, and nothing is ever extracted to disk. Nothing here prints.

Speed (issue 14): when a source is read for its rows, stretches of text selections written in the
plain form every exporter uses are read by pattern (:mod:`triangulate.sources.refi.runs`), and the
parser builds elements only for the rest; the result is the same as the parser's, which tests
check against it (tests/test_qdpx_runs.py).
"""

from __future__ import annotations

import gc
import heapq
import re
import unicodedata
import zipfile
from array import array
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from itertools import repeat, zip_longest
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from triangulate.findings import Finding, Location, error, warning
from triangulate.inputs import LIMITS, open_input
from triangulate.sources.columns import Coded, ExcerptColumns
from triangulate.sources.refi.runs import PLACEHOLDER, Runs, RunSelection, cut_runs
from triangulate.text import has_controls

if TYPE_CHECKING:
    from xml.etree.ElementTree import Element

    from triangulate.project.models import Codebook, SourceSpec
    from triangulate.sources.data import SourceData
    from triangulate.sources.rows import ExcerptRow

# Limits for untrusted archives (module constants so that tests can lower them).
MAX_ENTRIES = 50_000  # members of the zip
MAX_XML_BYTES = 256 * 1024 * 1024  # the project XML (or a .qdc), uncompressed
STREAM_XML_BYTES = 48 * 1024 * 1024  # project XML from this size on streams (half the memory)
MAX_TEXT_BYTES = 64 * 1024 * 1024  # one source's plain text, uncompressed
MAX_TOTAL_BYTES = 1024 * 1024 * 1024  # everything read from one archive
MAX_CODE_DEPTH = 1_000  # nesting of Code elements
MAX_EXCERPT_CHARS = 200_000  # characters of one excerpt kept as evidence (a long interview)
MAX_EXCERPT_TOTAL = 64 * 1024 * 1024  # characters of excerpt text kept from one archive
MAX_EXCERPT_CUT = 2_000  # characters kept of each excerpt once that total is reached
READ_RUNS = True  # plain selections read by pattern (runs.py) where they can be; tests compare

UNITS = ("codepoints", "utf16")
NEWLINES = ("stored", "crlf1", "lf2")
_UNIT_TEXT = {"codepoints": "Unicode code points", "utf16": "UTF-16 code units"}
_NEWLINE_TEXT = {
    "stored": "",
    "crlf1": ", a Windows line ending (CRLF) counted as one",
    "lf2": ", each line ending counted as two (CRLF)",
}


# ---------------------------------------------------------------------------- XML helpers


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Python's cycle collector paused while a project is read: it would walk the whole element
    tree (hundreds of thousands of objects, none in a cycle) again and again as the tree and the
    selections are made, a quarter of the reading time. Restored as it was, whatever happens."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def local(tag: Any) -> str:
    """``{urn:QDA-XML:project:1.0}Code`` -> ``Code`` (namespaces vary between tools and versions)."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def norm_guid(value: str | None) -> str:
    """GUIDs compare without braces, case-insensitively: ``{ABC-..}`` == ``abc-..``."""
    if not value:
        return ""
    return value.strip().strip("{}").strip().lower()


def children(el: Element, name: str) -> list[Element]:
    """The child elements named ``name`` (tags are local names once :func:`parse_xml` returns)."""
    return [c for c in el if c.tag == name]


def child(el: Element, name: str) -> Element | None:
    for c in el:
        if c.tag == name:
            return c
    return None


_DECLARED_ENCODING = re.compile(rb"\s*<\?xml[^>]*?encoding\s*=\s*[\"']([A-Za-z0-9._-]*)")


def _no_dtd_possible(raw: bytes) -> bool:
    """Whether ``raw`` certainly holds no document type declaration, so that no entity can be
    declared (XML allows entity declarations only inside one) and expat's C parser may read it
    as it is: an ASCII-compatible encoding (UTF-8, or one declared as UTF-8 or ASCII) and no
    ``<!DOCTYPE`` anywhere. Anything else goes through defusedxml, which refuses DTDs itself."""
    if b"\x00" in raw[:64] or raw.startswith((b"\xfe\xff", b"\xff\xfe")):
        return False  # UTF-16 or UTF-32: the byte scan below would not see a declaration
    m = _DECLARED_ENCODING.match(raw[:512])
    if m and m.group(1).lower() not in (b"utf-8", b"utf8", b"us-ascii", b"ascii"):
        return False  # e.g. an EBCDIC code page, where '<!DOCTYPE' has other bytes
    return b"<!DOCTYPE" not in raw


_ROOT_START = re.compile(rb"\s*(?:<\?xml[^>]*\?>)?\s*<[A-Za-z_][^>]*>")
_TAG_NAME = re.compile(rb"[^\s/>=]+")
_ATTRIBUTE = re.compile(rb"""\s+([^\s=/>]+)\s*=\s*(?:"[^"]*"|'[^']*')""")
_TAG_CLOSE = re.compile(rb"\s*/?>")


def _default_namespace_span(raw: bytes) -> tuple[int, int] | None:
    """Where the XML's one namespace declaration is, when that is all the namespaces it has: a
    default namespace declared on the root element (``<Project xmlns="urn:QDA-XML:project:1.0"
    ...>``, as REFI-QDA exports write it) and no prefix declared anywhere. Its
    elements, read without it, parse with their local names, which :func:`_local_tags` would
    otherwise cut from every one of hundreds of thousands (40 ms a 31 MB project). The parser is
    given the bytes around it (a memoryview: the XML is not copied). None otherwise."""
    if raw.count(b"xmlns=") != 1 or b"xmlns:" in raw:
        return None
    m = _ROOT_START.match(raw, 0, 4096)
    if m is None:
        return None
    # the root's start tag read attribute by attribute, so that the declaration taken out is an
    # attribute and not text inside another's value (a '>' in a value ends the match early and
    # leaves a quote open: not read)
    end = m.end()
    name = _TAG_NAME.match(raw, raw.rindex(b"<", m.start(), end) + 1, end)  # no "<" in values
    if name is None:
        return None
    pos, found = name.end(), None
    while (a := _ATTRIBUTE.match(raw, pos, end)) is not None:
        if a.group(1) == b"xmlns":
            found = a
        pos = a.end()
    if found is None or _TAG_CLOSE.fullmatch(raw, pos, end) is None:
        return None
    return found.start(), found.end()


def _local_tags(root: Element) -> None:
    """Drop namespaces from every tag, once (REFI-QDA namespaces vary between tools/versions);
    each distinct tag is cut once (a project has a few dozen, on hundreds of thousands of elements)."""
    names: dict[Any, str] = {}
    known = names.get
    for el in root.iter():
        tag = el.tag
        new = known(tag)
        if new is None:
            if not isinstance(tag, str):
                new = ""
            elif "}" in tag:
                new = tag.rsplit("}", 1)[-1]
            else:
                new = tag
            names[tag] = new
        if new is not tag:
            el.tag = new


def parse_xml(raw: bytes, shown: str) -> tuple[Element | None, list[Finding]]:
    """Parse untrusted XML: no DTD, no entity declarations, no external references."""
    from xml.etree.ElementTree import ParseError

    from defusedxml import DefusedXmlException

    try:
        if _no_dtd_possible(raw):
            from xml.etree.ElementTree import XMLParser

            span = _default_namespace_span(raw)
            root = None
            if span is not None:
                try:  # the bytes around the declaration, not copied
                    parser = XMLParser()  # expat through the C accelerator: several times faster
                    parser.feed(raw[: span[0]])
                    parser.feed(memoryview(raw)[span[1] :])
                    root = parser.close()
                except ParseError:
                    root = None  # reported below as the XML as written gives it (line, column)
            if root is None:
                parser = XMLParser()
                parser.feed(raw)
                root = parser.close()
                _local_tags(root)
        else:
            import defusedxml.ElementTree as DET

            root = DET.fromstring(raw, forbid_dtd=True, forbid_entities=True, forbid_external=True)
            _local_tags(root)
        return root, []
    except DefusedXmlException:
        return None, [
            error(
                "refi.unsafe-xml",
                "the XML declares a DTD or entities, which REFI-QDA files never need; it is not read "
                "(export it again from your QDA software)",
                Location(shown),
            )
        ]
    except ParseError as exc:
        line, col = getattr(exc, "position", (None, None))
        return None, [
            error(
                "refi.malformed",
                f"the XML does not parse ({_short(str(exc))}); export it again",
                Location(shown, line=line, column=(col or 0) + 1 if line else None),
            )
        ]
    except Exception as exc:
        return None, [
            error(
                "refi.malformed",
                f"the XML cannot be read ({type(exc).__name__}); export it again",
                Location(shown),
            )
        ]


_SEL = "PlainTextSelection"


def parse_project_xml(raw: bytes, shown: str) -> tuple[Element | None, Converted, list[Finding]]:
    """A project XML. From STREAM_XML_BYTES on, its text selections are converted as they stream
    in (and their elements emptied), so that the tree never holds a project's codings: a large
    export then costs its selections' compact objects, not an Element and an attribute dict per
    Coding and CodeRef (about half the peak memory, for about 1.3x the parse time; below that size
    the whole tree is faster and small). XML that might hold a DTD goes through :func:`parse_xml`
    (whole tree, defusedxml)."""
    converted: Converted = {}
    if len(raw) < STREAM_XML_BYTES or not _no_dtd_possible(raw):
        root, findings = parse_xml(raw, shown)
        return root, converted, findings
    from xml.etree.ElementTree import ParseError, XMLPullParser

    parser: Any = XMLPullParser(events=("end",))
    last: Any = None
    known = _Guids()

    def drain() -> None:
        nonlocal last
        for _, el in parser.read_events():
            last = el
            tag = el.tag
            if isinstance(tag, str) and tag.endswith(_SEL) and tag[-19:-18] in ("}", ""):
                converted[el] = _one_selection(el, tag[:-18], known)
                el.clear()

    try:
        step = 1 << 20
        for at in range(0, len(raw), step):
            parser.feed(raw[at : at + step])
            drain()
        parser.close()
        drain()
    except ParseError as exc:
        line, col = getattr(exc, "position", (None, None))
        return (
            None,
            converted,
            [
                error(
                    "refi.malformed",
                    f"the XML does not parse ({_short(str(exc))}); export it again",
                    Location(shown, line=line, column=(col or 0) + 1 if line else None),
                )
            ],
        )
    except Exception as exc:
        return (
            None,
            converted,
            [
                error(
                    "refi.malformed",
                    f"the XML cannot be read ({type(exc).__name__}); export it again",
                    Location(shown),
                )
            ],
        )
    top: Element | None = last
    if top is None:
        return (
            None,
            converted,
            [error("refi.malformed", "the XML holds no element", Location(shown))],
        )
    _local_tags(top)
    return top, converted, []


def parse_with_runs(raw: bytes, users: bool = False) -> tuple[Element, Runs] | None:
    """The project XML with its runs of plain selections read by pattern (see
    :mod:`triangulate.sources.refi.runs`): the tree of the rest, where each run is a placeholder
    element, and the runs (with their codings' users when ``users``). None when that reading does
    not apply or the rest does not parse (the caller then parses the XML as written, which also
    finds any error at its place)."""
    from xml.etree.ElementTree import XMLParser

    if not _no_dtd_possible(raw):
        return None
    m = _DECLARED_ENCODING.match(raw[:512])
    if m and m.group(1).lower() not in (b"utf-8", b"utf8"):
        return None  # ASCII declared: a byte over 127 is an error the runs would not see
    cut = cut_runs(raw, _default_namespace_span(raw), users)
    if cut is None:
        return None
    rest, runs = cut
    try:
        parser = XMLParser()
        parser.feed(rest)
        root = parser.close()
    except Exception:
        return None
    if root.tag == PLACEHOLDER:
        return None
    # every run must be one element of the tree, in order: one inside a comment, a CDATA section
    # or a processing instruction left its placeholder as text
    marks = list(root.iter(PLACEHOLDER))
    if len(marks) != len(runs) or any(
        len(el) or el.attrib or el.text != str(k) for k, el in enumerate(marks)
    ):
        return None
    return root, runs


def _short(text: str, n: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[: n - 1] + "…"


# ---------------------------------------------------------------------------- the code tree


@dataclass
class CodeNode:
    guid: str  # normalised
    name: str
    codable: bool
    path: str  # names from the top-level code down, joined by '/'
    description: str = ""
    children: list[CodeNode] = field(default_factory=list)
    raw_guid: str = ""  # the GUID as the file writes it (braces and case kept), for exports


@dataclass
class CodeSet:
    """A ``Sets/Set`` of codes (ATLAS.ti code groups, NVivo sets): member code GUIDs, normalised."""

    guid: str  # as written
    name: str
    description: str
    members: list[str]


_GUID_FORM = re.compile(
    r"\{?[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}\}?"
)


def is_guid(value: str) -> bool:
    """Whether ``value`` is a GUID as REFI-QDA writes one (braces optional, both or neither)."""
    return bool(_GUID_FORM.fullmatch(value)) and value.startswith("{") == value.endswith("}")


def parse_sets(parent: Element | None) -> list[CodeSet]:
    """The ``Set`` elements under ``parent``'s ``Sets`` (a .qdc's CodeBook, or a project).
    Member codes use ``guid=`` in a .qdc and ``targetGUID=`` in a project: both are read."""
    sets_el = child(parent, "Sets") if parent is not None else None
    out: list[CodeSet] = []
    for st in children(sets_el, "Set") if sets_el is not None else []:
        desc_el = child(st, "Description")
        members = [
            norm_guid(m.get("targetGUID") or m.get("guid")) for m in children(st, "MemberCode")
        ]
        out.append(
            CodeSet(
                (st.get("guid") or "").strip(),
                (st.get("name") or "").strip() or "set",
                " ".join((desc_el.text or "").split()) if desc_el is not None else "",
                [m for m in members if m],
            )
        )
    return out


def _bool_attr(value: str | None, default: bool) -> bool:
    if value is None:
        return default
    v = value.strip().lower()
    if v in ("true", "1"):
        return True
    if v in ("false", "0"):
        return False
    return default


def parse_code_tree(codes_el: Element | None) -> tuple[list[CodeNode], dict[str, CodeNode]]:
    """The ``Code`` elements under ``Codes`` as a tree (roots) and an index by GUID."""
    roots: list[CodeNode] = []
    index: dict[str, CodeNode] = {}
    if codes_el is None:
        return roots, index
    stack: list[tuple[Element, CodeNode | None, int]] = [
        (c, None, 0) for c in reversed(children(codes_el, "Code"))
    ]
    n = 0
    while stack:
        el, parent, depth = stack.pop()
        n += 1
        guid = norm_guid(el.get("guid")) or f"code-{n}"
        name = (el.get("name") or "").strip() or guid
        desc_el = child(el, "Description")
        node = CodeNode(
            guid,
            name,
            _bool_attr(el.get("isCodable"), True),
            f"{parent.path}/{name}" if parent else name,
            " ".join((desc_el.text or "").split()) if desc_el is not None else "",
            raw_guid=(el.get("guid") or "").strip(),
        )
        (parent.children if parent else roots).append(node)
        index.setdefault(guid, node)
        if depth < MAX_CODE_DEPTH:
            stack.extend((c, node, depth + 1) for c in reversed(children(el, "Code")))
    return roots, index


def walk(roots: list[CodeNode]) -> list[CodeNode]:
    """Every code of the tree, depth first, in document order."""
    out: list[CodeNode] = []
    stack = list(reversed(roots))
    while stack:
        node = stack.pop()
        out.append(node)
        stack.extend(reversed(node.children))
    return out


# ---------------------------------------------------------------------------- the project


@dataclass(slots=True)
class Coding:
    code_ref: str  # normalised GUID, "" when the Coding has no CodeRef
    user: str  # normalised GUID of creatingUser, "" when absent


@dataclass(slots=True)
class Selection:
    guid: str
    start: str  # as written; parsed when positions are resolved
    end: str
    name: str
    user: str
    codings: list[Coding]


@dataclass
class TextDoc:
    guid: str
    guids: tuple[str, ...]  # every GUID a case may use for it (a PDF and its text representation)
    name: str
    plain_path: str | None
    inline: str | None
    selections: list[Selection]
    text: str | None = None
    problem: str | None = None  # why the text is missing
    text_is_inline: bool = False  # the text came from PlainTextContent (XML line ends normalised)
    # read lazily (load_qdpx_source): the source's element, its selections not yet converted,
    # and (kind of skipped coding, codings under the source element) until _settle counts them
    element: Any = None
    pending: tuple[str, int] | None = None
    # the runs of plain selections read by pattern (parse_with_runs), which the element's
    # placeholders stand for; None when the XML was parsed whole
    runs: Runs | None = None

    def coded(self) -> bool:
        """Whether some selection of this text has a coding."""
        if self.element is None:
            return any(s.codings for s in self.selections)
        return any(c.tag == "Coding" for s in self.element if s.tag == _SEL for c in s) or any(
            self._in_runs()
        )

    def coding_count(self) -> int:
        """The codings of this text's selections."""
        if self.element is None:
            return sum(len(s.codings) for s in self.selections)
        return sum(1 for s in self.element if s.tag == _SEL for c in s if c.tag == "Coding") + sum(
            self._in_runs()
        )

    def _in_runs(self) -> Iterator[int]:
        """The codings of each run the element holds a placeholder for."""
        runs = self.runs
        if runs is not None:
            for s in self.element:
                if s.tag == PLACEHOLDER:
                    yield runs.codings(runs.number(s))


@dataclass
class QdaProject:
    name: str
    codes: list[CodeNode]
    code_index: dict[str, CodeNode]
    users: dict[str, str]  # guid -> name
    case_names: dict[str, str]  # guid -> name
    source_cases: dict[str, list[str]]  # source guid -> case names, in document order
    selection_case: dict[str, str]  # selection guid -> case name
    docs: list[TextDoc]
    skipped: Counter[str]  # kind of selection -> codings skipped
    sets: list[CodeSet] = field(default_factory=list)


class _Guids(dict[Any, str]):
    """:func:`norm_guid`, remembered: the same code and user GUIDs come back on every coding."""

    def __missing__(self, key: Any) -> str:
        value = self[key] = norm_guid(key)
        return value


def _one_selection(s: Element, ns: str = "", guids: _Guids | None = None) -> Selection:
    """A ``PlainTextSelection`` as a Selection (``ns``: its tags' namespace prefix, ``{uri}``, when
    they still have one); its GUID is "" when it has none."""
    if guids is None:
        guids = _Guids()
    get = s.get
    coding_tag, ref_tag = ns + "Coding", ns + "CodeRef"
    targets: list[Any] = []
    users: list[Any] = []
    for c in s:
        if c.tag != coding_tag:
            continue
        ref = None
        for r in c:
            if r.tag == ref_tag:
                ref = r
                break
        targets.append(ref.get("targetGUID") if ref is not None else None)
        users.append(c.get("creatingUser"))
    return _selection_of(
        (
            get("guid") or "",
            get("startPosition") or "",
            get("endPosition") or "",
            get("name") or "",
            get("creatingUser") or "",
            targets,
            users,
        ),
        guids,
    )


# Selections converted while the XML streamed in (their elements emptied): element -> Selection.
Converted = dict[Any, Selection]


def _selections(
    doc_el: Element,
    converted: Converted | None = None,
    guids: _Guids | None = None,
    runs: Runs | None = None,
) -> list[Selection]:
    out: list[Selection] = []
    doc_guid = norm_guid(doc_el.get("guid"))
    if guids is None:
        guids = _Guids()
    one = _one_selection
    for s in doc_el:
        if s.tag != "PlainTextSelection":
            if s.tag == PLACEHOLDER and runs is not None:
                for one_of_run in map(_selection_of, runs.each(runs.number(s)), repeat(guids)):
                    if not one_of_run.guid:
                        one_of_run.guid = f"{doc_guid}:{one_of_run.start}-{one_of_run.end}"
                    out.append(one_of_run)
            continue
        sel = converted.get(s) if converted is not None else None
        if sel is None:
            sel = one(s, "", guids)
        if not sel.guid:
            sel.guid = f"{doc_guid}:{sel.start}-{sel.end}"
        out.append(sel)
    return out


def _selection_of(r: RunSelection, guids: _Guids) -> Selection:
    """A selection as a Selection, whether a run gave it or its element (:func:`_one_selection`);
    a target or user None (no CodeRef, no attribute) reads as ""."""
    guid, start, end, name, user, targets, users = r
    return Selection(
        guid.strip().strip("{}").strip().lower() if guid else "",  # norm_guid, inline
        start,
        end,
        name.strip() if name else "",
        guids[user],
        [Coding(guids[t], guids[u]) for t, u in zip_longest(targets, users)],
    )


def _count_codings(el: Element, runs: Runs | None = None) -> int:
    n = sum(1 for _ in el.iter("Coding"))
    if runs is not None:
        n += sum(runs.codings(runs.number(r)) for r in el.iter(PLACEHOLDER))
    return n


def _text_doc(
    el: Element,
    name: str,
    guids: tuple[str, ...],
    converted: Converted | None = None,
    known: _Guids | None = None,
    lazy: bool = False,
    runs: Runs | None = None,
) -> TextDoc:
    inline_el = child(el, "PlainTextContent")
    inline = inline_el.text or "" if inline_el is not None else None
    path = el.get("plainTextPath")
    return TextDoc(
        guids[0],
        guids,
        name,
        path.strip() if path and path.strip() else None,
        inline,
        [] if lazy else _selections(el, converted, known, runs),
        element=el if lazy else None,
        runs=runs if lazy else None,
    )


def _name_from_path(source: Element) -> str:
    """A name for a source the export leaves unnamed: the file its text (or PDF) is kept in,
    without folders and a document extension (``internal://Interview 03.txt`` -> ``Interview 03``);
    "" when that is only a GUID (``internal://<guid>.txt``)."""
    rep = child(source, "Representation")
    for el in (source, rep):
        if el is None:
            continue
        for attr in ("plainTextPath", "path"):
            value = (el.get(attr) or "").strip()
            if not value:
                continue
            base = unquote(value.replace("\\", "/").rsplit("/", 1)[-1]).strip()
            stem, dot, ext = base.rpartition(".")
            if dot and ext.lower() in ("txt", "pdf", "docx", "doc", "rtf", "odt"):
                base = stem.strip()
            if base and not is_guid(base) and not is_guid("{" + base.strip("{}") + "}"):
                return base
    return ""


def build_project(
    root: Element,
    converted: Converted | None = None,
    lazy: bool = False,
    runs: Runs | None = None,
) -> QdaProject:
    """The parts of a parsed project XML that a triangulation needs. With ``converted`` (from
    :func:`parse_project_xml`), selections were read while the XML streamed in and their elements
    emptied: their codings are no longer in the tree. With ``lazy`` (and nothing converted), text
    sources keep their element and no selection is converted yet (see :func:`_convert`). With
    ``runs`` (from :func:`parse_with_runs`), the tree's placeholders stand for them."""
    lazy = lazy and converted is None
    cb = child(root, "CodeBook")
    roots, index = parse_code_tree(child(cb, "Codes") if cb is not None else None)
    users: dict[str, str] = {}
    users_el = child(root, "Users")
    for u in children(users_el, "User") if users_el is not None else []:
        g = norm_guid(u.get("guid"))
        if g:
            users[g] = (u.get("name") or u.get("id") or g).strip()
    case_names: dict[str, str] = {}
    source_cases: dict[str, list[str]] = {}
    selection_case: dict[str, str] = {}
    cases_el = child(root, "Cases")
    for c in children(cases_el, "Case") if cases_el is not None else []:
        g = norm_guid(c.get("guid"))
        cname = (c.get("name") or "").strip() or g
        if g:
            case_names[g] = cname
        for ref in children(c, "SourceRef"):
            lst = source_cases.setdefault(norm_guid(ref.get("targetGUID")), [])
            if cname not in lst:
                lst.append(cname)
        for ref in children(c, "SelectionRef"):
            selection_case.setdefault(norm_guid(ref.get("targetGUID")), cname)
    docs: list[TextDoc] = []
    skipped: Counter[str] = Counter()
    known = _Guids()
    sources_el = child(root, "Sources")
    for s in list(sources_el) if sources_el is not None else []:
        kind = local(s.tag)
        sguid = norm_guid(s.get("guid"))
        sname = (s.get("name") or "").strip() or _name_from_path(s) or sguid
        if kind == "TextSource":
            doc = _text_doc(s, sname, (sguid,), converted, known, lazy, runs)
            docs.append(doc)
            if lazy:
                doc.pending = ("whole sources", _count_codings(s, runs))
            else:
                in_sel = 0 if converted is not None else doc.coding_count()
                extra = _count_codings(s, runs) - in_sel
                if extra:
                    skipped["whole sources"] += extra
        elif kind == "PDFSource":
            rep = child(s, "Representation")
            used = 0
            if rep is not None:
                doc = _text_doc(
                    rep, sname, (sguid, norm_guid(rep.get("guid"))), converted, known, lazy, runs
                )
                docs.append(doc)
                if lazy:
                    doc.pending = ("PDF regions", _count_codings(s, runs))
                    continue
                if converted is None:
                    used = doc.coding_count()
            if _count_codings(s, runs) - used:
                skipped["PDF regions"] += _count_codings(s, runs) - used
        elif kind in ("PictureSource", "AudioSource", "VideoSource"):
            n = _count_codings(s, runs)
            if n:
                skipped[
                    {"PictureSource": "pictures", "AudioSource": "audio", "VideoSource": "video"}[
                        kind
                    ]
                ] += n
    name = (root.get("name") or "").strip()
    return QdaProject(
        name,
        roots,
        index,
        users,
        case_names,
        source_cases,
        selection_case,
        docs,
        skipped,
        sets=parse_sets(root),
    )


# ---------------------------------------------------------------------------- the archive


class _Budget:
    def __init__(self) -> None:
        self.left = MAX_TOTAL_BYTES


def _read_member(
    zf: zipfile.ZipFile, info: zipfile.ZipInfo, limit: int, budget: _Budget
) -> bytes | None:
    """The member's bytes, or None when it is (or expands to) more than ``limit`` bytes."""
    cap = min(limit, budget.left)
    if info.file_size > cap:
        return None
    with zf.open(info) as fh:
        data = fh.read(cap + 1)
    if len(data) > cap:
        return None
    budget.left -= len(data)
    return data


class _MemberIndex:
    """The zip's file names, looked up as written, ignoring case, or by base name under sources/."""

    def __init__(self, members: dict[str, zipfile.ZipInfo]) -> None:
        self.exact = members
        self.lower: dict[str, list[zipfile.ZipInfo]] = {}
        self.base: dict[str, list[zipfile.ZipInfo]] = {}
        for name, info in members.items():
            self.lower.setdefault(name.lower(), []).append(info)
            if name.lower().startswith("sources/"):
                self.base.setdefault(name.rsplit("/", 1)[-1].lower(), []).append(info)

    def find(self, path: str) -> zipfile.ZipInfo | None:
        """A plainTextPath as found in the zip: ``internal://x.txt``, ``x.txt``, ``sources/x.txt``, ...
        Only names in the archive are looked up: nothing outside it is ever opened."""
        p = path.strip()
        for prefix in ("internal://", "relative://"):
            if p.lower().startswith(prefix):
                p = p[len(prefix) :]
        p = p.replace("\\", "/")
        while p.startswith(("/", "./")):
            p = p[1:] if p.startswith("/") else p[2:]
        cands: list[str] = []
        for q in (p, unquote(p)):
            for c in (q, f"sources/{q}", f"Sources/{q}"):
                if c and c not in cands:
                    cands.append(c)
        for c in cands:
            if c in self.exact:
                return self.exact[c]
        for c in cands:
            hit = self.lower.get(c.lower())
            if hit and len(hit) == 1:
                return hit[0]
        hits = self.base.get(p.rsplit("/", 1)[-1].lower(), [])
        return hits[0] if len(hits) == 1 else None


def _decode_text(raw: bytes) -> tuple[str, bool]:
    """(text, exact): UTF-8 (BOM removed), UTF-16 with a BOM, else Windows-1252 (exact=False)."""
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return raw.decode("utf-16"), True
        except UnicodeDecodeError:
            pass
    try:
        return raw.decode("utf-8-sig"), True
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace"), False


def _pick_project_xml(members: dict[str, zipfile.ZipInfo]) -> zipfile.ZipInfo | None:
    qde = [
        i
        for n, i in members.items()
        if n.lower().endswith(".qde") and not n.startswith("__MACOSX/")
    ]
    if not qde:
        return None
    qde.sort(
        key=lambda i: (
            i.filename.count("/"),
            i.filename.rsplit("/", 1)[-1].lower() != "project.qde",
            i.filename,
        )
    )
    return qde[0]


def read_qdpx(
    path: Path, shown: str, texts: bool = True
) -> tuple[QdaProject | None, list[Finding]]:
    """Open a .qdpx and parse its project (and, with ``texts``, every text source's plain text)."""
    with _gc_paused():
        return _read_qdpx(path, shown, texts)


def _read_qdpx(
    path: Path, shown: str, texts: bool, lazy: bool = False, users: bool = True
) -> tuple[QdaProject | None, list[Finding]]:
    findings: list[Finding] = []
    loc = Location(shown)
    checked = open_input(path, shown, LIMITS["qdpx"], read=False)
    if checked.findings:
        return None, checked.findings
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, EOFError, ValueError):
        return None, [
            error(
                "refi.malformed",
                "not a .qdpx: the file is not a zip archive; export the project again as REFI-QDA (.qdpx)",
                loc,
            )
        ]
    except OSError as exc:
        return None, [error("file.unreadable", f"cannot read {shown}: {exc.strerror or exc}", loc)]
    except Exception as exc:
        return None, [
            error("refi.malformed", f"not a readable zip archive ({type(exc).__name__})", loc)
        ]
    with zf:
        try:
            infos = zf.infolist()
            if len(infos) > MAX_ENTRIES:
                return None, [
                    error(
                        "refi.too-large",
                        f"the archive has {len(infos):,} entries, more than the {MAX_ENTRIES:,} allowed; it is not read",
                        loc,
                    )
                ]
            members = {i.filename: i for i in infos if not i.is_dir()}
            info = _pick_project_xml(members)
            if info is None:
                hint = (
                    " (it looks like a .qdc codebook)"
                    if any(n.lower().endswith(".qdc") for n in members)
                    else ""
                )
                return None, [
                    error(
                        "refi.malformed",
                        f"the archive holds no project XML (.qde){hint}; export the project again as REFI-QDA (.qdpx)",
                        loc,
                    )
                ]
            budget = _Budget()
            raw = _read_member(zf, info, MAX_XML_BYTES, budget)
            if raw is None:
                return None, [
                    error(
                        "refi.too-large",
                        f"the project XML {info.filename} expands to more than {MAX_XML_BYTES // 2**20} MB; it is not read",
                        loc,
                    )
                ]
        except Exception as exc:
            return None, [
                error(
                    "refi.malformed",
                    f"the archive cannot be read ({_short(str(exc)) or type(exc).__name__})",
                    loc,
                )
            ]
        xml_loc = f"{shown}!{info.filename}"
        runs: Runs | None = None
        root: Element | None
        converted: Converted = {}
        f: list[Finding] = []
        read = parse_with_runs(raw, users) if lazy and READ_RUNS else None
        if read is not None:
            root, runs = read
        else:
            root, converted, f = parse_project_xml(raw, xml_loc)
        del raw
        findings += f
        if root is None:
            return None, findings
        if local(root.tag) != "Project":
            return None, findings + [
                error(
                    "refi.malformed",
                    f"the XML's root element is '{local(root.tag)}', not a REFI-QDA 'Project'",
                    Location(xml_loc),
                )
            ]
        try:
            project = build_project(root, converted or None, lazy, runs)
        except RecursionError:
            return None, findings + [
                error("refi.malformed", "the project XML is nested too deeply", Location(xml_loc))
            ]
        if texts:
            findings += _load_texts(zf, members, project, shown, budget)
    return project, findings


def _load_texts(
    zf: zipfile.ZipFile,
    members: dict[str, zipfile.ZipInfo],
    project: QdaProject,
    shown: str,
    budget: _Budget,
) -> list[Finding]:
    findings: list[Finding] = []
    index = _MemberIndex(members)
    for doc in project.docs:
        if not doc.coded():
            continue  # nothing to read it for
        if doc.inline is not None and doc.plain_path is None:
            doc.text, doc.text_is_inline = doc.inline, True
            continue
        if doc.plain_path is None:
            doc.problem = "has neither plainTextPath nor PlainTextContent"
        elif doc.plain_path.lower().startswith(("absolute://", "file:", "http:", "https:")):
            doc.problem = f"keeps its text outside the archive ({_short(doc.plain_path, 80)})"
        else:
            info = index.find(doc.plain_path)
            if info is None:
                doc.problem = f"names {_short(doc.plain_path, 80)}, which is not in the archive"
            else:
                try:
                    raw = _read_member(zf, info, MAX_TEXT_BYTES, budget)
                except Exception as exc:
                    raw = None
                    doc.problem = f"text {info.filename} cannot be read ({_short(str(exc)) or type(exc).__name__})"
                if raw is None and doc.problem is None:
                    findings.append(
                        error(
                            "refi.too-large",
                            f"source '{doc.name}': its text {info.filename} is larger than {MAX_TEXT_BYTES // 2**20} MB (or the archive's read limit is reached); its codings are skipped",
                            Location(shown, field=doc.name),
                        )
                    )
                    doc.problem = "text too large"
                    continue
                if raw is not None:
                    doc.text, exact = _decode_text(raw)
                    if not exact:
                        findings.append(
                            warning(
                                "data.cp1252-encoding",
                                f"source '{doc.name}': its text {info.filename} is not UTF-8; it was read as Windows-1252",
                                Location(shown, field=doc.name),
                            )
                        )
        if doc.text is None and doc.inline is not None:
            doc.text = doc.inline  # both given (the schema says one): the inline text is there
            doc.text_is_inline, doc.problem = True, None
        if doc.text is None:
            n = doc.coding_count()
            findings.append(
                warning(
                    "qdpx.missing-text",
                    f"source '{doc.name}' {doc.problem}; its {n} coding(s) are skipped",
                    Location(shown, field=doc.name),
                )
            )
    return findings


# ---------------------------------------------------------------------------- positions

_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_BARE_LF = re.compile("(?<!\r)\n")


class Mapper:
    """Maps a position counted in some unit to a code-point index of ``text`` (None: no such place).

    Only a few characters make the units differ: a character outside the Basic Multilingual Plane
    (two UTF-16 units), a CRLF counted as one, a bare LF counted as two. Their code-point indices
    are kept in one compact array (4 bytes each), with the running difference kept only when
    differences of both signs mix; every lookup is a binary search. Memory is O(breakpoints), at
    most 4-8 bytes per character of the text, never a Python object per line.
    """

    __slots__ = ("cum", "n", "positions", "sign")

    def __init__(self, text: str, unit: str, newline: str) -> None:
        self.n = len(text)
        plus: array[int] = array("I")
        minus: array[int] = array("I")
        if unit == "utf16" and not text.isascii():
            plus = array("I", (m.start() for m in _ASTRAL.finditer(text)))
        if newline == "crlf1" and "\r\n" in text:
            minus = array("I", (m.start() for m in re.finditer("\r\n", text)))
        elif newline == "lf2" and "\n" in text:
            lf = array("I", (m.start() for m in _BARE_LF.finditer(text)))
            plus = _merge(plus, lf) if plus else lf
        self.cum: array[int] | None = None  # running sum of the differences, when signs mix
        if plus and minus:
            self.positions = array("I")
            self.cum = array("i", [0])
            total = 0
            for p, d in heapq.merge(((p, 1) for p in plus), ((p, -1) for p in minus)):
                self.positions.append(p)
                total += d
                self.cum.append(total)
            self.sign = 0
        else:
            self.positions = plus or minus
            self.sign = 1 if plus else -1

    @property
    def identity(self) -> bool:
        return not self.positions

    def _cum(self, k: int) -> int:
        """The difference between units and code points after the first ``k`` breakpoints."""
        return self.cum[k] if self.cum is not None else self.sign * k

    def units(self, i: int) -> int:
        """The position of code-point index ``i`` in this unit."""
        return i + self._cum(bisect_left(self.positions, i))

    def to_index(self, u: int) -> int | None:
        if not self.positions:
            return u if 0 <= u <= self.n else None
        pos, cum = self.positions, self._cum
        k = bisect_left(range(len(pos)), u, key=lambda j: pos[j] + cum(j))
        i = u - cum(k)
        if not 0 <= i <= self.n or self.units(i) != u:
            return None
        return i


def _merge(a: array[int], b: array[int]) -> array[int]:
    """Two sorted arrays as one sorted array, without a Python object per element kept."""
    return array("I", heapq.merge(a, b))


def _is_word(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _cut_bad(text: str, i: int) -> str | None:
    """Why a selection boundary at code-point index ``i`` is not a sensible place, or None."""
    if 0 < i < len(text):
        a, b = text[i - 1], text[i]
        if b < "\x80":  # ASCII (most boundaries): only a line break or a word can be cut
            if a == "\r" and b == "\n":
                return "splits a line break"
            if (b.isalnum() or b == "_") and (a.isalnum() or a == "_"):
                return "cuts a word"
            return None
        if unicodedata.combining(b) or b in "\u200d\ufe0f" or 0xDC00 <= ord(b) <= 0xDFFF:
            return "splits a character"
        if _is_word(a) and _is_word(b):
            return "cuts a word"
    return None


def _norm_ws(s: str) -> str:
    return " ".join(s.split()).casefold()


def _starts_with_name(text: str, s: int, e: int, name: str) -> bool:
    """Whether text[s:e], white space collapsed and case folded, starts with ``name`` (normalised);
    reads only as much of the text as it needs."""
    k = len(name) + 32
    while True:
        head = _norm_ws(text[s : min(e, s + k)])
        if len(head) > len(name) or s + k >= e:
            return head.startswith(name)
        k *= 4


@dataclass(slots=True)
class Landing:
    start: int | None
    end: int | None
    problem: str | None  # None when the selection lands on sensible text
    score: int


def land(text: str, mapper: Mapper, sel: Selection) -> Landing:
    """Where a selection lands under one reading of its positions, and how plausible that is.
    Nothing of the text is copied but a few characters around each end."""
    try:
        su, eu = int(sel.start.strip()), int(sel.end.strip())
    except ValueError:
        return Landing(
            None,
            None,
            f"has positions that are not whole numbers ({_short(sel.start, 20)!r}, {_short(sel.end, 20)!r})",
            0,
        )
    s, e = mapper.to_index(su), mapper.to_index(eu)
    if s is None or e is None or s > e:
        length = mapper.units(len(text))
        if su < 0 or eu > length or su > eu:
            why = (
                f"runs outside the text ({su}-{eu}; the text is {length} long)"
                if su <= eu
                else f"ends before it starts ({su}-{eu})"
            )
        else:
            why = "splits a character (a position inside an emoji or a line break)"
        return Landing(None, None, why, 0)
    # Score: 4 for a selection whose both ends sit at word edges with no white space just inside;
    # 2 off for each end that cuts a word, a character or a line break; 1 off for each end with
    # white space just inside; 1 for an empty or blank one; 4 more when its name quotes its start.
    problem = None
    if s == e:
        problem, score = "is empty", 1
    elif text[s].isspace() and (e - s == 1 or _blank(text, s, e)):
        problem, score = "holds only white space", 1
    else:
        cut_s, cut_e = _cut_bad(text, s), _cut_bad(text, e)
        problem = cut_s or cut_e
        score = (
            4
            - 2 * (cut_s is not None)
            - 2 * (cut_e is not None)
            - text[s].isspace()
            - text[e - 1].isspace()
        )
    if sel.name:
        name = _norm_ws(sel.name.rstrip(".…"))
        if len(name) >= 4 and _starts_with_name(text, s, e, name):
            score += 4
    return Landing(s, e, problem, max(score, 1))


def _blank(text: str, s: int, e: int) -> bool:
    """Whether text[s:e] is all white space, read in bounded chunks."""
    step = 1 << 16
    return all(text[a : min(e, a + step)].isspace() for a in range(s, e, step))


def _same_text(
    text: str, a: tuple[int | None, int | None], b: tuple[int | None, int | None]
) -> bool:
    """Whether two landings select the same characters, compared in bounded chunks."""
    if a == b:
        return True
    if a[0] is None or b[0] is None or a[1] is None or b[1] is None:
        return False
    n = a[1] - a[0]
    if n != b[1] - b[0]:
        return False
    step = 1 << 16
    return all(
        text[a[0] + k : a[0] + min(n, k + step)] == text[b[0] + k : b[0] + min(n, k + step)]
        for k in range(0, n, step)
    )


@dataclass
class Reading:
    unit: str
    newline: str

    def describe(self) -> str:
        return _UNIT_TEXT[self.unit] + _NEWLINE_TEXT[self.newline]


def _effective(doc: TextDoc, text: str, reading: Reading) -> tuple[str, str]:
    """The reading that gives the same positions as ``reading`` on this text: UTF-16 units are
    code points where no character lies outside the BMP; CRLF counted as one is as stored where the
    text has no CRLF; a line ending counted as two applies only to inline text (the XML parser
    turned its CRLFs into LFs), and there only when it has a bare LF."""
    unit = reading.unit
    if unit == "utf16" and (text.isascii() or _ASTRAL.search(text) is None):
        unit = "codepoints"
    nl = reading.newline
    if (nl == "crlf1" and "\r\n" not in text) or (
        nl == "lf2" and (not doc.text_is_inline or "\n" not in text)
    ):
        nl = "stored"
    return unit, nl


@dataclass
class _DocLandings:
    """One text's selections landed under each distinct reading (indices only, no text)."""

    keys: dict[tuple[str, str], list[Landing]] = field(default_factory=dict)


def _land_all(doc: TextDoc, key: tuple[str, str]) -> list[Landing]:
    assert doc.text is not None
    mapper = Mapper(doc.text, *key)
    if mapper.identity:
        return _land_as_written(doc.text, mapper, doc.selections)
    return [land(doc.text, mapper, sel) for sel in doc.selections]


def _land_as_written(text: str, mapper: Mapper, selections: list[Selection]) -> list[Landing]:
    """:func:`land` for every selection when positions are code-point indices as written (the
    mapper is the identity): the plain case by :func:`_land_plain`, anything else through
    :func:`land` itself."""
    n = len(text)
    out: list[Landing] = []
    for sel in selections:
        landing = _land_plain(text, n, sel.start, sel.end, sel.name)
        out.append(landing if landing is not None else land(text, mapper, sel))
    return out


def choose_reading(
    docs: list[TextDoc], positions: str, cache: dict[int, _DocLandings] | None = None
) -> tuple[Reading, Reading | None]:
    """The best reading of the positions over the whole project, and a different reading that
    fits exactly as well (ambiguous), if any. Ties go to code points as stored (the spec).

    A text on which every reading gives the same positions (no character outside the BMP, no
    CRLF, no inline text with line breaks: most plain-text exports) is not scored at all. The
    landings computed are left in ``cache`` (by ``id(doc)``) for :func:`excerpt_rows` to reuse."""
    units = UNITS if positions == "auto" else (positions,)
    readings = [Reading(u, n) for u in units for n in NEWLINES]
    scores: list[int] = [0] * len(readings)
    # per reading, per scored text: which group of readings gives it the same selected texts
    groups: list[list[int]] = [[] for _ in readings]
    for doc in docs:
        if doc.text is None or not doc.selections:
            continue
        keys = [_effective(doc, doc.text, r) for r in readings]
        distinct = list(dict.fromkeys(keys))
        if len(distinct) == 1:
            continue  # every reading reads this text alike
        found = _DocLandings()
        for key in distinct:
            found.keys[key] = _land_all(doc, key)
        if cache is not None:
            cache[id(doc)] = found
        totals = {key: sum(x.score for x in lst) for key, lst in found.keys.items()}
        # readings whose landings select the same characters form one group
        group_of: dict[tuple[str, str], int] = {}
        reps: list[tuple[str, str]] = []
        for key in distinct:
            for g, rep in enumerate(reps):
                if all(
                    _same_text(doc.text, (a.start, a.end), (b.start, b.end))
                    for a, b in zip(found.keys[key], found.keys[rep], strict=True)
                ):
                    group_of[key] = g
                    break
            else:
                group_of[key] = len(reps)
                reps.append(key)
        for k, key in enumerate(keys):
            scores[k] += totals[key]
            groups[k].append(group_of[key])
    best = max(range(len(readings)), key=lambda k: (scores[k], -k))
    rival = next(
        (
            k
            for k in range(len(readings))
            if k != best and scores[k] == scores[best] and groups[k] != groups[best]
        ),
        None,
    )
    return readings[best], (readings[rival] if rival is not None else None)


# ---------------------------------------------------------------------------- rows


def _excerpt_text(
    doc: TextDoc,
    sel: Selection,
    landing: Landing,
    budget: list[int],
    cut: list[tuple[TextDoc, Selection, int]],
) -> str:
    """The selected characters, at most MAX_EXCERPT_CHARS of them, and fewer once the archive's
    excerpts have used up MAX_EXCERPT_TOTAL characters (then MAX_EXCERPT_CUT): a few KB of zip can
    select a 64 MB text thousands of times. A selection that does not land (outside the text)
    keeps the part of the text it covers, as before."""
    text = doc.text or ""
    s, e = landing.start, landing.end
    if s is None or e is None:
        try:
            su, eu = int(sel.start.strip()), int(sel.end.strip())
        except ValueError:
            return ""
        s = min(max(su, 0), len(text))
        e = min(max(eu, s), len(text))
    n = e - s
    want = min(n, MAX_EXCERPT_CHARS)
    keep = want if budget[0] >= want else min(want, MAX_EXCERPT_CUT)
    budget[0] = max(0, budget[0] - keep)
    if keep < n:
        cut.append((doc, sel, n))
        return text[s : s + keep].rstrip() + " …"
    return text[s:e]


def resolve_coder(project: QdaProject, coder: str) -> set[str] | None:
    """The user GUIDs that ``coder`` names (a GUID, a user name, or a user name in any case)."""
    g = norm_guid(coder)
    if g in project.users:
        return {g}
    exact = {k for k, v in project.users.items() if v == coder.strip()}
    if exact:
        return exact
    folded = {k for k, v in project.users.items() if v.casefold() == coder.strip().casefold()}
    if folded:
        return folded
    if not project.users and re.fullmatch(
        r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", g
    ):
        return {g}
    return None


@dataclass
class _Codings:
    """The codings a .qdpx gives, one entry per coding in each list (the rows to be, in order)."""

    excerpt_id: list[str] = field(default_factory=list)
    participant: list[str] = field(default_factory=list)
    node: list[CodeNode] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    # False when some excerpt text might end with a carriage return (the text it was cut from
    # has one) or hold a control character: then a row-by-row check must look at the cells
    plain_text: bool = True


def excerpt_rows(
    project: QdaProject,
    shown: str,
    positions: str = "auto",
    coder: str | None = None,
    code_path: bool = False,
) -> tuple[list[ExcerptRow] | None, list[Finding]]:
    """One ExcerptRow per coding of a text selection (row numbers from 1, in document order)."""
    from triangulate.sources.rows import ExcerptRow

    got, findings = _codings(project, shown, positions, coder)
    if got is None:
        return None, findings
    rows = [
        ExcerptRow(eid, who, node.path if code_path else node.name, text, {}, i, node.path)
        for i, (eid, who, node, text) in enumerate(
            zip(got.excerpt_id, got.participant, got.node, got.text), start=1
        )
    ]
    return rows, findings


def _codings(
    project: QdaProject, shown: str, positions: str = "auto", coder: str | None = None
) -> tuple[_Codings | None, list[Finding]]:
    """The codings of text selections and the findings about them: see :func:`excerpt_rows`."""
    findings: list[Finding] = []
    loc = Location(shown)
    users: set[str] | None = None
    if coder is not None:
        users = resolve_coder(project, coder)
        if users is None:
            known = (
                ", ".join(sorted(f"'{n}'" for n in project.users.values()))
                or "none: the export lists no Users"
            )
            return None, [
                error(
                    "qdpx.unknown-coder",
                    f"coder '{coder}' is not a user of this project (users: {known}); give a user's name or GUID",
                    loc,
                )
            ]
    docs = [d for d in project.docs if d.text is not None]
    cache: dict[int, _DocLandings] = {}
    reading, rival = choose_reading(docs, positions, cache)
    if rival is not None:
        findings.append(
            warning(
                "qdpx.position-unit",
                f"the selections fit equally well read as {reading.describe()} and as {rival.describe()}; "
                f"they were read as {reading.describe()}. Check a few excerpts, and "
                + (
                    "set 'positions: codepoints' or 'positions: utf16' for this source to say which"
                    if rival.unit != reading.unit
                    else "if they are shifted, try the other 'positions:' unit or export the project again"
                ),
                loc,
            )
        )
    got = _Codings()
    add_id, add_who = got.excerpt_id.append, got.participant.append
    add_node, add_text = got.node.append, got.text.append
    code_index, selection_case = project.code_index, project.selection_case
    case_codings: list[str] = []
    unknown: list[str] = []
    filtered = 0
    budget = [MAX_EXCERPT_TOTAL]  # characters of excerpt text kept, over the whole archive
    cut: list[tuple[TextDoc, Selection, int]] = []  # excerpts shortened, with their full length
    most = MAX_EXCERPT_CHARS
    for doc in docs:
        assert doc.text is not None
        doc_text = doc.text
        if got.plain_text and ("\r" in doc_text or has_controls(doc_text)):
            got.plain_text = False
        key = _effective(doc, doc_text, reading)
        landed = cache.pop(id(doc), None)
        landings = landed.keys[key] if landed is not None else _land_all(doc, key)
        bad: list[tuple[Selection, Landing]] = []
        doc_cases = next(
            (project.source_cases[g] for g in doc.guids if project.source_cases.get(g)), []
        )
        ambiguous = 0
        for sel, landing in zip(doc.selections, landings, strict=True):
            if not sel.codings:
                continue  # a memo-like annotation (MAXQDA): not a coding
            who = selection_case.get(sel.guid)
            if who is None:
                who = doc_cases[0] if doc_cases else doc.name
                ambiguous += int(len(doc_cases) > 1)
            text: str | None = None  # sliced once, shared by every coding of the selection
            for c in sel.codings:
                node = code_index.get(c.code_ref) if c.code_ref else None
                if node is None:
                    if c.code_ref in project.case_names:
                        case_codings.append(project.case_names[c.code_ref])
                    else:
                        unknown.append(c.code_ref or "(no CodeRef)")
                    continue
                if users is not None and (c.user or sel.user) not in users:
                    filtered += 1
                    continue
                if text is None:
                    s, e = landing.start, landing.end
                    if s is not None and e is not None and e - s <= most and budget[0] >= e - s:
                        text = doc_text[s:e]  # what _excerpt_text gives, inline
                        budget[0] -= e - s
                    else:
                        text = _excerpt_text(doc, sel, landing, budget, cut)
                add_id(sel.guid)
                add_who(who)
                add_node(node)
                add_text(text)
            if text is not None and landing.problem:
                bad.append((sel, landing))
        findings += _doc_findings(
            shown, doc, reading, len(bad), bad[0] if bad else None, ambiguous, doc_cases
        )
    findings += _closing_findings(project, shown, got, cut, case_codings, unknown, coder, filtered)
    return got, findings


def _alike(project: QdaProject, positions: str) -> bool:
    """Whether every text reads as code points as stored under every reading of the positions
    (see _effective), so that selections land as written whatever :func:`choose_reading` would
    choose (it scores no text then)."""
    units = UNITS if positions == "auto" else (positions,)
    readings = [Reading(u, n) for u in units for n in NEWLINES]
    as_written = {("codepoints", "stored")}
    for doc in project.docs:
        if doc.text is not None and {_effective(doc, doc.text, r) for r in readings} != as_written:
            return False
    return True


def _convert(project: QdaProject) -> None:
    """Convert the selections of texts read lazily (build_project(lazy=True)), as build_project
    converts them otherwise."""
    known = _Guids()
    for doc in project.docs:
        if doc.element is not None:
            doc.selections = _selections(doc.element, None, known, doc.runs)
            doc.element = doc.runs = None
    _settle(project, {})


def _settle(project: QdaProject, counted: dict[int, int]) -> None:
    """Codings outside text selections counted as skipped, for texts read lazily: build_project
    noted how many codings each source holds; those not in its text's selections (``counted`` by
    id of the text, else counted now) are whole-source codings or PDF regions."""
    for doc in project.docs:
        if doc.pending is not None:
            kind, total = doc.pending
            in_sel = counted[id(doc)] if id(doc) in counted else doc.coding_count()
            if total - in_sel:
                project.skipped[kind] += total - in_sel
            doc.pending = None


def _codings_as_written(
    project: QdaProject, shown: str, positions: str
) -> tuple[_Codings, list[Finding]]:
    """:func:`_codings` for a project read lazily in which every text reads alike under every
    reading (:func:`_alike`) and no coder is chosen: one pass over each text's selections (its
    elements, and the runs read by pattern that its placeholders stand for), landing them as written (:func:`_land_as_written`'s tests inline) and taking their
    codings, without a Selection, Coding or Landing object per selection. Anything unusual about
    a selection (a position that is not a whole number or is outside the text, an empty or named
    selection, one starting on white space) goes through :func:`land` with a Selection made for
    it; so does a text shortened by the limits (:func:`_excerpt_text`)."""
    findings: list[Finding] = []
    units = UNITS if positions == "auto" else (positions,)
    reading = Reading(units[0], "stored")  # what choose_reading returns when nothing is scored
    got = _Codings()
    add_id, add_who = got.excerpt_id.append, got.participant.append
    add_node, add_text = got.node.append, got.text.append
    code_index, selection_case = project.code_index, project.selection_case
    case_names = project.case_names
    guids = _Guids()
    node_of: dict[Any, CodeNode | None] = {}  # a CodeRef's targetGUID as written -> its code
    case_codings: list[str] = []
    unknown: list[str] = []
    budget = [MAX_EXCERPT_TOTAL]
    cut: list[tuple[TextDoc, Selection, int]] = []
    most = MAX_EXCERPT_CHARS
    counted: dict[int, int] = {}  # id(doc) -> codings of its selections
    for doc in project.docs:
        if doc.text is None:
            continue
        text = doc.text
        n = len(text)
        if got.plain_text and ("\r" in text or has_controls(text)):
            got.plain_text = False
        mapper = Mapper(text, "codepoints", "stored")  # the identity: every reading reads alike
        el = doc.element
        if el is None:  # not read lazily after all
            raise AssertionError("_codings_as_written needs a project read lazily")
        doc_guid = norm_guid(el.get("guid"))
        doc_cases = next(
            (project.source_cases[g] for g in doc.guids if project.source_cases.get(g)), []
        )
        bad = 0
        first_bad: tuple[Selection, Landing] | None = None
        ambiguous = 0
        in_selections = 0
        for g, start, end, name, _, targets, _ in _plain_selections(el, doc.runs):
            if not targets:
                continue  # a memo-like annotation (MAXQDA): not a coding
            in_selections += len(targets)
            guid = g.strip().strip("{}").strip().lower() if g else ""
            if not guid:
                guid = f"{doc_guid}:{start}-{end}"
            who = selection_case.get(guid)
            if who is None:
                who = doc_cases[0] if doc_cases else doc.name
                ambiguous += int(len(doc_cases) > 1)
            excerpt: str | None = None
            landing: Landing | None = None
            sel: Selection | None = None
            for raw in targets:
                try:
                    node = node_of[raw]
                except KeyError:
                    code_ref = guids[raw]
                    node = node_of[raw] = code_index.get(code_ref) if code_ref else None
                if node is None:
                    code_ref = guids[raw]
                    if code_ref in case_names:
                        case_codings.append(case_names[code_ref])
                    else:
                        unknown.append(code_ref or "(no CodeRef)")
                    continue
                if excerpt is None:
                    if landing is None:
                        name = name.strip() if name else ""
                        landing = _land_plain(text, n, start, end, name)
                        if landing is None:
                            sel = Selection(guid, start, end, name, "", [])
                            landing = land(text, mapper, sel)
                    a, b = landing.start, landing.end
                    if a is not None and b is not None and b - a <= most and budget[0] >= b - a:
                        excerpt = text[a:b]
                        budget[0] -= b - a
                    else:
                        if sel is None:
                            sel = Selection(guid, start, end, name.strip() if name else "", "", [])
                        excerpt = _excerpt_text(doc, sel, landing, budget, cut)
                add_id(guid)
                add_who(who)
                add_node(node)
                add_text(excerpt)
            if excerpt is not None and landing is not None and landing.problem:
                bad += 1
                if first_bad is None:
                    if sel is None:
                        sel = Selection(guid, start, end, name.strip() if name else "", "", [])
                    first_bad = (sel, landing)
        counted[id(doc)] = in_selections
        findings += _doc_findings(shown, doc, reading, bad, first_bad, ambiguous, doc_cases)
    _settle(project, counted)
    findings += _closing_findings(project, shown, got, cut, case_codings, unknown, None, 0)
    return got, findings


def _plain_selections(el: Element, runs: Runs | None) -> Iterator[RunSelection]:
    """The selections of a text's element in document order, as a run gives them (see
    :data:`~triangulate.sources.refi.runs.RunSelection`), whether read by pattern (a placeholder)
    or as elements; a coding with no CodeRef (or none with a targetGUID) has the target None. Only
    what :func:`_codings_as_written` reads is filled in for an element (no users)."""
    for s_el in el:
        tag = s_el.tag
        if tag == PLACEHOLDER and runs is not None:
            yield from runs.each(runs.number(s_el))
        elif tag == "PlainTextSelection":
            targets: list[Any] = []
            for c in s_el.findall("Coding"):  # direct children (C speed for a plain tag)
                ref = c.find("CodeRef")  # the first such child, as _one_selection takes it
                targets.append(ref.get("targetGUID") if ref is not None else None)
            get = s_el.get
            yield (
                get("guid") or "",
                get("startPosition") or "",
                get("endPosition") or "",
                get("name") or "",
                "",
                targets,
                [],
            )


def _land_plain(text: str, n: int, start: str, end: str, name: str) -> Landing | None:
    """:func:`land` of a selection positioned as written, when it is the plain case (whole
    numbers inside the text, not empty, no name, not starting on white space); None otherwise."""
    if name:
        return None
    try:
        s, e = int(start), int(end)  # int() ignores surrounding white space, as strip() would
    except ValueError:
        return None
    if not 0 <= s < e <= n:
        return None
    first = text[s]
    if first.isspace():
        return None
    # _cut_bad at each end, its ASCII case inline: a call per end cost 0.09 s CPU a 150,000-coding
    # file (measured), this being the one loop every coding of a large .qdpx goes through
    cut_s = cut_e = None
    if s:
        a = text[s - 1]
        if first >= "\x80":
            cut_s = _cut_bad(text, s)
        elif a == "\r" and first == "\n":
            cut_s = "splits a line break"
        elif (first.isalnum() or first == "_") and (a.isalnum() or a == "_"):
            cut_s = "cuts a word"
    last = text[e - 1]
    if e < n:
        b = text[e]
        if b >= "\x80":
            cut_e = _cut_bad(text, e)
        elif last == "\r" and b == "\n":
            cut_e = "splits a line break"
        elif (b.isalnum() or b == "_") and (last.isalnum() or last == "_"):
            cut_e = "cuts a word"
    score = 4 - 2 * (cut_s is not None) - 2 * (cut_e is not None) - last.isspace()
    return Landing(s, e, cut_s or cut_e, score if score > 1 else 1)


def _doc_findings(
    shown: str,
    doc: TextDoc,
    reading: Reading,
    bad: int,
    first_bad: tuple[Selection, Landing] | None,
    ambiguous: int,
    doc_cases: list[str],
) -> list[Finding]:
    """What one text's codings call for: selections that do not land well, selections counted
    for the first of several cases."""
    findings: list[Finding] = []
    if first_bad is not None:
        sel, landing = first_bad
        snippet = _short(_excerpt_text(doc, sel, landing, [200], []), 60)
        findings.append(
            warning(
                "qdpx.position-mismatch",
                f"source '{doc.name}': {bad} coded selection(s) do not land on sensible text when read as "
                f"{reading.describe()}; the first ({sel.guid}, {sel.start}-{sel.end}) {landing.problem}"
                + (f": {snippet!r}" if snippet else "")
                + ". Check the excerpts; if they are shifted, set 'positions:' for this source",
                Location(shown, field=doc.name),
            )
        )
    if ambiguous:
        findings.append(
            warning(
                "qdpx.ambiguous-case",
                f"source '{doc.name}' belongs to {len(doc_cases)} cases ({', '.join(doc_cases[:5])}); "
                f"{ambiguous} selection(s) not assigned to a case are counted as participant '{doc_cases[0]}'",
                Location(shown, field=doc.name),
            )
        )
    return findings


def _closing_findings(
    project: QdaProject,
    shown: str,
    got: _Codings,
    cut: list[tuple[TextDoc, Selection, int]],
    case_codings: list[str],
    unknown: list[str],
    coder: str | None,
    filtered: int,
) -> list[Finding]:
    """What the project's codings call for as a whole."""
    findings: list[Finding] = []
    loc = Location(shown)
    if cut:
        doc, sel, n = cut[0]
        findings.append(
            warning(
                "qdpx.long-excerpt",
                f"{len(cut)} excerpt(s) are longer than the tool keeps "
                f"({MAX_EXCERPT_CHARS:,} characters each, {MAX_EXCERPT_TOTAL:,} in all) and were "
                f"shortened (first: selection {sel.guid} of source '{doc.name}', {n:,} characters). "
                "Counts are unaffected; only the evidence text shown in the report is cut",
                Location(shown, field=doc.name),
            )
        )
    if case_codings:
        findings.append(
            warning(
                "qdpx.case-coding",
                f"{len(case_codings)} coding(s) point at a case rather than a code (first: case '{case_codings[0]}'); they are skipped",
                loc,
            )
        )
    if unknown:
        findings.append(
            warning(
                "qdpx.unknown-code",
                f"{len(unknown)} coding(s) point at a code the project does not define (first: {unknown[0]}); they are skipped",
                loc,
            )
        )
    if project.skipped:
        parts = ", ".join(f"{n} of {k}" for k, n in sorted(project.skipped.items()))
        findings.append(
            warning(
                "qdpx.skipped-selection",
                f"codings without character positions are skipped ({parts}); only plain-text selections become excerpts",
                loc,
            )
        )
    if not got.node:
        why = (
            f" by coder '{coder}' ({filtered} coding(s) by others were left out)"
            if coder is not None
            else ""
        )
        findings.append(
            warning("qdpx.no-codings", f"the project holds no codings of text selections{why}", loc)
        )
    return findings


# From this many codings on, a .qdpx is held column by column (numpy ids, as the CSV fast reader
# gives them); fewer stay ExcerptRow objects, without importing numpy.
COLUMNS_MIN_CODINGS = 5_000


def load_qdpx_source(root: Path, spec: SourceSpec) -> tuple[SourceData | None, list[Finding]]:
    """``kind: excerpts`` from a .qdpx: rows as the CSV reader gives them, with no dimension tags."""
    with _gc_paused():
        return _load_qdpx_source(root, spec)


def _load_qdpx_source(root: Path, spec: SourceSpec) -> tuple[SourceData | None, list[Finding]]:
    from triangulate.sources.data import SourceData
    from triangulate.sources.rows import ExcerptRow

    shown = spec.path
    path = root / shown
    project, findings = _read_qdpx(path, shown, True, lazy=True, users=spec.coder is not None)
    if project is None:
        return None, findings
    code_path = bool(spec.code_path)
    positions = spec.positions or "auto"
    got: _Codings | None
    lazy = all(d.element is not None for d in project.docs)  # not when the XML streamed in
    if lazy and spec.coder is None and _alike(project, positions):
        got, f = _codings_as_written(project, shown, positions)
    else:
        _convert(project)
        got, f = _codings(project, shown, positions, spec.coder)
    findings += f
    if got is None:
        return None, findings
    data = SourceData(spec, spec.path)
    data.code_places = code_places(project)
    if len(got.node) >= COLUMNS_MIN_CODINGS and _columns_read_alike(got, code_path):
        data.attach_columns(QdpxColumns.build(got, code_path))
        return data, findings
    data.excerpts = [
        ExcerptRow(eid, who, node.path if code_path else node.name, text, {}, i, node.path)
        for i, (eid, who, node, text) in enumerate(
            zip(got.excerpt_id, got.participant, got.node, got.text), start=1
        )
    ]
    return data, findings


def _columns_read_alike(got: _Codings, code_path: bool) -> bool:
    """Whether the rows, held as columns, give the findings they give as ExcerptRow objects: the
    control-character check looks at each distinct id, participant and code once as columns and
    at every cell as rows, so no such value may hold one (nor may the texts, see _Codings)."""
    if not got.plain_text:
        return False
    codes = {id(n): n.path if code_path else n.name for n in got.node}
    return not any(
        has_controls(" ".join(dict.fromkeys(values)))
        for values in (got.excerpt_id, got.participant, codes.values())
    )


class QdpxColumns(ExcerptColumns):
    """A .qdpx's codings column by column: the columns of :class:`ExcerptColumns` (rows numbered
    from 1, no tags) and each row's code as a node of the code tree, so that a row keeps its code's
    full path (``ExcerptRow.code_path``) and :func:`resolve_code_forms` can rename codes."""

    def __init__(
        self,
        excerpt_id: Coded,
        participant: Coded,
        text: list[str],
        node_ids: Any,
        names: list[str],
        paths: list[str],
    ) -> None:
        self.node_ids = node_ids  # numpy array: row -> index into names/paths
        self.names = (
            names  # each node's code as the rows give it (name, path, or path once renamed)
        )
        self.paths = paths
        super().__init__(
            excerpt_id, participant, self._code_column(), text, {}, range(1, len(text) + 1)
        )
        self.no_controls = True  # _columns_read_alike: no cell holds a control character

    @classmethod
    def build(cls, got: _Codings, code_path: bool) -> QdpxColumns:
        import numpy as np

        def coded(values: list[str]) -> Coded:
            c = Coded.of(values)
            return Coded(np.asarray(c.ids, dtype=np.intp), c.values)

        # the code nodes (by identity), each once in order of first appearance, and each row's:
        # one sort of the rows' object ids (a dict lookup a row took three times as long)
        keys = np.fromiter(map(id, got.node), dtype=np.int64, count=len(got.node))
        _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        order = np.argsort(first, kind="stable")
        rank = np.empty(len(order), dtype=np.intp)
        rank[order] = np.arange(len(order), dtype=np.intp)
        nodes: list[CodeNode] = [got.node[i] for i in first[order].tolist()]
        return cls(
            coded(got.excerpt_id),
            coded(got.participant),
            got.text,
            rank[inverse.reshape(-1)],
            [n.path if code_path else n.name for n in nodes],
            [n.path for n in nodes],
        )

    def _code_column(self) -> Coded:
        import numpy as np

        first: dict[str, int] = {}
        of_node = [first.setdefault(name, len(first)) for name in self.names]
        return Coded(np.asarray(of_node, dtype=np.intp)[self.node_ids], list(first))

    def row(self, i: int) -> ExcerptRow:
        r = super().row(i)
        r.code_path = self.paths[self.node_ids[i]]
        return r

    def rename(self, listed: set[str]) -> None:
        """A code becomes its full path where the codebook lists the path (see resolve_code_forms)."""
        names = [p if n != p and p in listed else n for n, p in zip(self.names, self.paths)]
        if names != self.names:
            self.names = names
            self.code = self._code_column()
            self._by_code = None

    def code_paths(self) -> dict[str, list[str]]:
        """Each code -> the full paths of the codes it stands for, in order of first use."""
        out: dict[str, list[str]] = {}
        for name, path in zip(self.names, self.paths):
            lst = out.setdefault(name, [])
            if path not in lst:
                lst.append(path)
        return out


def code_places(project: QdaProject) -> dict[str, str]:
    """Each code's name and path -> where a finding about it points inside the export: the Code
    element and its GUID (a .qdpx has no rows to number; its codings are not in the user's view)."""
    out: dict[str, str] = {}
    for node in walk(project.codes):
        place = f"Code '{node.path}' {node.raw_guid or node.guid}"
        out.setdefault(node.path, place)
        out.setdefault(node.name, place)
    return out


def resolve_code_forms(data: SourceData, codebook: Codebook) -> list[Finding]:
    """Nested .qdpx codes are matched by their own name, or by their full path when the codebook
    lists the path for this source (the path then wins). Warns when one name still stands for
    codes in different places of the tree."""
    if not data.is_excerpts:
        return []
    cols = None if isinstance(data.excerpts, list) else data.excerpt_columns()
    sid = data.spec.id
    listed = {c for t in codebook.themes for c in t.codes.get(sid, [])}
    paths: dict[str, list[str]] = {}
    if isinstance(cols, QdpxColumns):
        cols.rename(listed)
        paths = cols.code_paths()
    elif cols is not None:
        return []  # columns of a table: no row has a code path
    else:
        if not any(r.code_path is not None for r in data.excerpts):
            return []
        for r in data.excerpts:
            if r.code_path is not None and r.code != r.code_path and r.code_path in listed:
                r.code = r.code_path
        for r in data.excerpts:
            if r.code_path is not None:
                lst = paths.setdefault(r.code, [])
                if r.code_path not in lst:
                    lst.append(r.code_path)
    findings = []
    for name, ps in paths.items():
        if len(ps) > 1:
            findings.append(
                warning(
                    "qdpx.duplicate-code-name",
                    f"code '{name}' of source '{sid}' is the name of {len(ps)} codes in the .qdpx ({', '.join(ps[:5])}); "
                    "their codings count as one code. To keep them apart, list them in the codebook by path",
                    Location(data.file, field="code"),
                )
            )
    return findings
