"""Text from the data, made safe to show: control characters made visible, lone surrogates replaced.

Excerpts, code names, titles and rationales come from files the user may not trust. Printed raw, an
escape sequence could repaint a reviewer's terminal, set its title or write its clipboard (OSC 52),
and a newline could start a forged ``::error ...::`` line in a CI log. :func:`visible` shows every
such character as a visible mark instead; :func:`scrub` replaces lone surrogates (half an emoji,
from a ``\\ud83d`` escape in JSON or YAML) so the text can be written as UTF-8.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

# C0 controls except tab and newline, DEL, C1 controls; bidirectional overrides and isolates (they
# reorder what a reader sees); the Unicode line and paragraph separators (some terminals break there).
_CONTROLS = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]"
)
_CONTROLS_OR_NEWLINE = re.compile(
    "[\x00-\x08\x0a-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]"
)
_SURROGATE = re.compile("[\ud800-\udfff]")

NEWLINE_MARK = "\u2424"  # ␤


def _mark(ch: str) -> str:
    o = ord(ch)
    if ch == "\n" or ch in "\u2028\u2029":
        return NEWLINE_MARK
    if o < 0x20:
        return chr(0x2400 + o)  # ␀ .. ␟ (ESC is ␛)
    if o == 0x7F:
        return "\u2421"  # ␡
    return f"<U+{o:04X}>"


def visible(text: str, one_line: bool = True) -> str:
    """``text`` with every control character shown visibly: ESC as ``␛``, other C0 as ``␀``..``␟``,
    DEL as ``␡``, C1 and bidirectional controls as ``<U+009B>``; a newline as ``␤`` when
    ``one_line`` (the value is printed on one line), else kept. Tabs are kept. Lone surrogates
    become U+FFFD."""
    pattern = _CONTROLS_OR_NEWLINE if one_line else _CONTROLS
    if "\r\n" in text:  # a Windows line break is one line break
        text = text.replace("\r\n", "\n")
    if pattern.search(text):
        text = pattern.sub(lambda m: _mark(m.group()), text)
    return scrub_text(text)


# The C0 controls :func:`has_controls` objects to, and DEL, as bytes; a carriage return is allowed
# only before a newline (a Windows line break) and is counted apart.
C0_BYTES = bytes([*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0x7F])


def has_controls(text: str) -> bool:
    """Whether ``text`` holds a character :func:`visible` would change (newlines, Windows line
    breaks and tabs allowed).

    Large texts (a source's excerpts, joined) are checked on their UTF-8 bytes first: deleting the
    C0 controls with ``bytes.translate`` and counting carriage returns runs at memory speed, where
    the regular expression costs about 7 ns a character. The expression is only run on text that
    holds the UTF-8 lead bytes of the C1 controls (C2) or of the bidirectional and separator marks
    (E2 80, E2 81)."""
    raw = text.encode("utf-8", "surrogatepass")
    if len(raw.translate(None, C0_BYTES)) != len(raw):
        return True
    returns = raw.count(b"\r")
    if returns and returns != raw.count(b"\r\n"):
        return True
    if text.isascii() or (b"\xc2" not in raw and b"\xe2\x80" not in raw and b"\xe2\x81" not in raw):
        return False
    m = _CONTROLS.search(text)
    if m is None:
        return False
    if "\r\n" in text:
        return _CONTROLS.search(text.replace("\r\n", "\n")) is not None
    return True


def has_surrogates(text: str) -> bool:
    return _SURROGATE.search(text) is not None


def has_lone_surrogates(text: str) -> bool:
    """Whether ``text`` holds a surrogate that is not half of a proper pair (YAML keeps a
    ``\\ud83d\\ude00`` escape as two surrogates: a pair, joined by :func:`scrub_text`)."""
    if not _SURROGATE.search(text):
        return False
    try:
        text.encode("utf-16", "surrogatepass").decode("utf-16")
    except UnicodeDecodeError:
        return True
    return False


def scrub_text(text: str) -> str:
    """Join surrogate pairs into the character they encode; replace lone surrogates with U+FFFD."""
    if not _SURROGATE.search(text):
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def json_has_surrogate_escape(line: str) -> bool:
    """Whether a JSON text may decode to a surrogate (only a ``\\udXXX`` escape can give one);
    a cheap test so that :func:`scrub` runs only on the rare line that needs it."""
    return "\\u" in line and _SURROGATE_ESCAPE.search(line) is not None


def scrub(value: Any) -> tuple[Any, list[tuple[Any, ...]]]:
    """:func:`scrub_text` over every string (keys too) of a JSON/YAML value.

    Returns the cleaned value and the key path of every string that held a surrogate.
    """
    paths: list[tuple[Any, ...]] = []
    return _scrub(value, (), paths), paths


def _scrub(value: Any, path: tuple[Any, ...], paths: list[tuple[Any, ...]]) -> Any:
    if isinstance(value, str):
        if _SURROGATE.search(value):
            paths.append(path)
            return scrub_text(value)
        return value
    if isinstance(value, dict):
        out: dict[Any, Any] = {}
        for k, v in value.items():
            if isinstance(k, str) and _SURROGATE.search(k):
                paths.append((*path, k))
                k = scrub_text(k)
            out[k] = _scrub(v, (*path, k), paths)
        return out
    if isinstance(value, list):
        return [_scrub(v, (*path, i), paths) for i, v in enumerate(value)]
    return value


def strings_with_controls(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """The key path of every string (keys too) in a JSON/YAML value that holds control characters."""
    if isinstance(value, str):
        if has_controls(value):
            yield path
    elif isinstance(value, dict):
        for k, v in value.items():
            if isinstance(k, str) and has_controls(k):
                yield (*path, k)
            yield from strings_with_controls(v, (*path, k))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from strings_with_controls(v, (*path, i))


_JSON_UNSAFE = re.compile("[\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def json_safe(document: str) -> str:
    """A JSON document (from ``json.dumps(..., ensure_ascii=False)``) with DEL, C1 and
    bidirectional controls written as ``\\uXXXX`` escapes (the same value, never raw in a terminal)
    and lone surrogates replaced by U+FFFD (so it can be written as UTF-8)."""
    document = scrub_text(document)
    if _JSON_UNSAFE.search(document):
        document = _JSON_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", document)
    return document


def find_unsafe(value: Any) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The key paths of the strings (keys too) in a JSON/YAML value that hold lone surrogates,
    and of those that hold control characters. Walks without copying."""
    surrogates: list[tuple[Any, ...]] = []
    controls: list[tuple[Any, ...]] = []
    stack: list[tuple[Any, tuple[Any, ...]]] = [(value, ())]
    while stack:
        v, path = stack.pop()
        if isinstance(v, str):
            if _SURROGATE.search(v):
                surrogates.append(path)
            if has_controls(v):
                controls.append(path)
        elif isinstance(v, dict):
            for k, item in v.items():
                if isinstance(k, str):
                    if _SURROGATE.search(k):
                        surrogates.append((*path, k))
                    if has_controls(k):
                        controls.append((*path, k))
                stack.append((item, (*path, k)))
        elif isinstance(v, list):
            stack.extend((item, (*path, i)) for i, item in enumerate(v))
    surrogates.reverse()
    controls.reverse()
    return surrogates, controls
