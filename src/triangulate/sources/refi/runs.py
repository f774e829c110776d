"""Runs of plain text selections in a project XML, read by pattern instead of as elements.

Most of a large project XML is its text selections: a ``PlainTextSelection`` holding ``Coding``
elements, each holding one ``CodeRef``. Made into elements by the XML parser, they cost most of a
large ``.qdpx``'s reading time (an Element and an attribute dictionary for each of hundreds of
thousands), only to be read once and dropped. So a stretch of them written in a plain form (a
*run*) is read with one regular pattern instead, and the rest of the XML (code book, users, cases,
the sources' own elements, and any selection written in another form) is parsed as before, with a
placeholder element ``<_r>k</_r>`` where the k-th run stood (its number as text: no attribute
dictionary for each).

A selection is in a run only when a pattern reads it exactly as an XML parser would:

- its tags are the REFI-QDA names with no namespace prefix (they are in the project's default
  namespace, the only one :func:`cut_runs` accepts), white space only between them;
- each element carries only attributes the REFI-QDA schema defines for it, in the schema's order,
  each at most once (so none is repeated and none declares a namespace), in double quotes;
- no value holds ``<``, ``&`` (so no entity or character reference), a tab, a line break or another
  control character (a parser would turn white space in a value into spaces);
- a ``Coding`` holds exactly one empty ``CodeRef`` and nothing else; a selection holds only codings.

Anything else stays in the XML for the parser: a selection with a ``Description`` or a ``NoteRef``,
attributes in another order or in single quotes, a value with an entity, a comment, a CDATA section.
The placeholders prove that every run stood where elements may: a run inside a comment, a CDATA
section, a processing instruction or an attribute value would leave its placeholder as text (not an
element) or make the XML fail to parse, and then the whole XML is parsed as before (see
:func:`triangulate.sources.refi.qdpx.parse_with_runs`). A run's bytes must be UTF-8 and hold no
character XML forbids; the XML with its runs replaced is well-formed exactly when the XML as written
is, so a malformed file is still reported, at its line and column as written.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

PLACEHOLDER = "_r"  # the element that stands for a run in the XML parsed
_MARK = b"<" + PLACEHOLDER.encode()

# A selection as a run gives it: (guid, startPosition, endPosition, name, creatingUser, the
# targetGUID of each coding's CodeRef, the creatingUser of each coding when asked for); attributes
# as written, "" when absent (every reader treats a missing attribute and an empty one alike).
RunSelection = tuple[str, str, str, str, str, list[str], list[str]]

_SELECTION_ATTRIBUTES = (
    "guid",
    "name",
    "startPosition",
    "endPosition",
    "creatingUser",
    "creationDateTime",
    "modifyingUser",
    "modifiedDateTime",
)
_CODING_ATTRIBUTES = ("guid", "creatingUser", "creationDateTime")
_KEPT_SELECTION = ("guid", "name", "startPosition", "endPosition", "creatingUser")
_KEPT_CODING = ("creatingUser",)

_WS = r"[ \t\r\n]"
# a value: no quote, '<' or '&', and no control character (tab, line feed and carriage return
# included); anything else, bytes of UTF-8 included (each run is decoded strictly)
_VALUE = r'"[^"<&\x00-\x1f]*+"'


def _attributes(names: tuple[str, ...], kept: tuple[str, ...] = ()) -> str:
    """Each attribute optional, in this order, at most once; the ``kept`` ones captured."""
    out = []
    for name in names:
        value = _VALUE if name not in kept else '"([^"]*)"'
        out.append(rf"(?:{_WS}++{name}{_WS}*+={_WS}*+{value})?+")
    return "".join(out)


def _coding(kept: tuple[str, ...] = (), target: bool = False) -> str:
    ref = '"([^"]*)"' if target else _VALUE
    return (
        rf"<Coding{_attributes(_CODING_ATTRIBUTES, kept)}{_WS}*+>{_WS}*+"
        rf"<CodeRef{_WS}++targetGUID{_WS}*+={_WS}*+{ref}{_WS}*+/>{_WS}*+</Coding{_WS}*+>"
    )


_SELECTION_START = rf"<PlainTextSelection{_attributes(_SELECTION_ATTRIBUTES)}{_WS}*+>"
_BLOCK = rf"{_SELECTION_START}(?:{_WS}*+{_coding()})*+{_WS}*+</PlainTextSelection{_WS}*+>"
# whole runs, checked on the bytes as written
_RUN = re.compile(rf"{_BLOCK}(?:{_WS}*+{_BLOCK})*+".encode())
# inside a run (already checked): each selection's kept attributes; each CodeRef's target (one a
# coding); each coding's creatingUser. A value cannot hold '<', so these tags are the only places
# where their names follow one.
_SELECTIONS = re.compile(
    rf"<PlainTextSelection{_attributes(_SELECTION_ATTRIBUTES, _KEPT_SELECTION)}"
)
_TARGETS = re.compile(rf'<CodeRef{_WS}++targetGUID{_WS}*+={_WS}*+"([^"]*)"')
_CODING_USERS = re.compile(rf"<Coding{_attributes(_CODING_ATTRIBUTES, _KEPT_CODING)}")


@dataclass(slots=True)
class Runs:
    """Every run of an XML, one list each for all of them (a hostile XML of many tiny runs costs
    two numbers a run, not a list of its own)."""

    selections: list[tuple[str, str, str, str, str]]  # (guid, name, start, end, creatingUser)
    counts: list[int]  # the codings of each selection
    targets: list[str]  # each coding's CodeRef targetGUID, in document order
    users: list[str] | None  # each coding's creatingUser (None: not asked for)
    # where each run starts in selections and in targets, and where the last one ends
    first_selection: list[int]
    first_coding: list[int]

    def __len__(self) -> int:
        return len(self.first_selection) - 1

    @staticmethod
    def number(placeholder: Any) -> int:
        """The run a placeholder element stands for (its text, as :func:`cut_runs` wrote it)."""
        return int(placeholder.text or "")

    def codings(self, i: int) -> int:
        """The codings of run ``i``."""
        return self.first_coding[i + 1] - self.first_coding[i]

    def each(self, i: int) -> Iterator[RunSelection]:
        """The selections of run ``i``, each with its codings' targets (and users, or none)."""
        a, b = self.first_selection[i], self.first_selection[i + 1]
        targets, users, k = self.targets, self.users, self.first_coding[i]
        for (guid, name, start, end, user), n in zip(self.selections[a:b], self.counts[a:b]):
            yield (
                guid,
                start,
                end,
                name,
                user,
                targets[k : k + n],
                users[k : k + n] if users else [],
            )
            k += n


def cut_runs(
    raw: bytes, namespace: tuple[int, int] | None, users: bool = False
) -> tuple[bytes, Runs] | None:
    """``raw`` with each run replaced by ``<_r>k</_r>`` (k from 0, in document order), and the
    runs (with each coding's creatingUser when ``users``); the namespace declaration at
    ``namespace`` (the span of the root's lone default one) is left out too. None when this
    reading does not apply: the XML names another namespace, already holds a ``<_r`` tag, or a run
    is not valid UTF-8 or holds a character XML forbids. Whether the placeholders stand where
    elements may is for the caller to see, once the rest is parsed."""
    if namespace is None and b"xmlns" in raw:
        return None
    if _MARK in raw:
        return None
    pieces: list[bytes | memoryview] = []
    view = memoryview(raw)
    at = 0
    if namespace is not None:
        pieces.append(view[: namespace[0]])
        at = namespace[1]
    runs = Runs([], [], [], [] if users else None, [0], [0])
    for m in _RUN.finditer(raw, at):
        a, b = m.span()
        try:
            text = raw[a:b].decode("utf-8")
        except UnicodeDecodeError:
            return None
        if "\ufffe" in text or "\uffff" in text:
            return None
        runs.selections += _SELECTIONS.findall(text)
        runs.counts += [part.count("<CodeRef") for part in text.split("<PlainTextSelection")[1:]]
        runs.targets += _TARGETS.findall(text)
        if runs.users is not None:
            runs.users += _CODING_USERS.findall(text)
        pieces.append(view[at:a])
        pieces.append(b"<%s>%d</%s>" % (PLACEHOLDER.encode(), len(runs), PLACEHOLDER.encode()))
        runs.first_selection.append(len(runs.selections))
        runs.first_coding.append(len(runs.targets))
        at = b
    if not len(runs):
        return None
    pieces.append(view[at:])
    return b"".join(pieces), runs
