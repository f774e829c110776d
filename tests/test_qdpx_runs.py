"""Runs of plain selections read by pattern (src/triangulate/sources/refi/runs.py, issue 14) give
what the XML parser gives: the same rows, findings and errors, whatever the XML around them.

A differential test: each project is read with runs (``qdpx.READ_RUNS``) and without, and must
read the same. The projects are the random ones of test_qdpx_fast.py, and the same projects with
their selection markup rewritten in the ways an exporter or an attacker might write it: attributes
in another order or quoted otherwise, values with entities, tabs or bytes that are not UTF-8,
selections in comments, CDATA sections, processing instructions and attribute values, repeated
attributes, extra children, namespace declarations, a forged placeholder, broken tags.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from triangulate.sources.refi import qdpx
from triangulate.sources.refi.runs import cut_runs

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "qdpx"))
from qdpx_builder import QdpxBuilder

from test_qdpx_fast import _read, projects

_SEL_START = re.compile(r"<PlainTextSelection\b[^>]*?(/?)>")
_BLOCK = re.compile(r"<PlainTextSelection\b[^>]*[^/]>.*?</PlainTextSelection>", re.S)


def _swap_attributes(m: re.Match[str]) -> str:
    tag = m.group(0)
    attrs = re.findall(r'\s+[A-Za-z]+="[^"]*"', tag)
    if len(attrs) < 2:
        return tag
    end = "/>" if tag.endswith("/>") else ">"
    return "<PlainTextSelection" + "".join([attrs[-1], *attrs[:-1]]) + end


# Each rewrites the XML as text at one place (the n-th match, taken modulo the matches); those
# that break the XML must break it for both readers alike (same finding, same line and column).
def _nth(pattern: re.Pattern[str], xml: str, n: int, new: Any) -> str:
    found = list(pattern.finditer(xml))
    if not found:
        return xml
    m = found[n % len(found)]
    return xml[: m.start()] + (new(m) if callable(new) else new) + xml[m.end() :]


def _at(pattern: str | re.Pattern[str], new: Any) -> Callable[[str, int], str]:
    """A rewriting of the n-th match of ``pattern`` (a string or a function of the match)."""
    found = re.compile(pattern) if isinstance(pattern, str) else pattern
    return lambda x, n: _nth(found, x, n, new)


_END = r'endPosition="'
MUTATIONS: dict[str, Callable[[str, int], str]] = {
    "attribute order": _at(_SEL_START, _swap_attributes),
    "single quotes": _at(r'startPosition="([^"]*)"', lambda m: f"startPosition='{m.group(1)}'"),
    "entity in a GUID": _at(
        r'(<PlainTextSelection guid=")([^"]{4})',
        lambda m: m.group(1) + "".join(f"&#{ord(c)};" for c in m.group(2)),
    ),
    "tab in a position": _at(_END, 'endPosition="\t'),
    "line break in a name": _at(
        r"<PlainTextSelection guid", '<PlainTextSelection name="a\nb" guid'
    ),
    "spaces around =": _at(r'startPosition="', 'startPosition \r\n= "'),
    "space before >": _at(r"</Coding>", "</Coding\n >"),
    "in a comment": _at(_BLOCK, lambda m: f"<!-- {m.group(0)} -->"),
    "in CDATA": _at(_BLOCK, lambda m: f"<![CDATA[{m.group(0)}]]>"),
    "in CDATA in an inline text": _at(
        r"<PlainTextContent>",
        "<PlainTextContent><![CDATA["
        '<PlainTextSelection guid="a" startPosition="0" endPosition="1"></PlainTextSelection>]]>',
    ),
    "in a processing instruction": _at(_BLOCK, lambda m: f"<?note {m.group(0)}?>"),
    "in an attribute value": _at(
        r"(<TextSource )",
        lambda m: (
            m.group(1)
            + 'note=\'<PlainTextSelection guid="a" startPosition="0" endPosition="1">'
            + "</PlainTextSelection>' "
        ),
    ),
    "repeated attribute": _at(r"<Coding guid=", '<Coding creatingUser="" guid='),
    "repeated attribute in a selection": _at(
        r"<PlainTextSelection guid=", '<PlainTextSelection endPosition="1" guid='
    ),
    "a NoteRef": _at(
        r"</Coding>", '<NoteRef targetGUID="00000000-0000-0000-0000-000000000001"/></Coding>'
    ),
    "a Description": _at(
        r"(<PlainTextSelection\b[^>]*[^/]>)",
        lambda m: m.group(1) + "<Description>said &amp; done</Description>",
    ),
    "CodeRef closed apart": _at(
        r'(<CodeRef targetGUID="[^"]*")/>', lambda m: m.group(1) + "></CodeRef>"
    ),
    "a second CodeRef": _at(r'(<CodeRef targetGUID="[^"]*"/>)', lambda m: m.group(1) * 2),
    "a Coding without CodeRef": _at(r'<CodeRef targetGUID="[^"]*"/>', ""),
    "a namespace on a selection": _at(
        r"<PlainTextSelection guid", '<PlainTextSelection xmlns:x="urn:x" guid'
    ),
    "another default namespace": _at(
        r"<PlainTextSelection guid", '<PlainTextSelection xmlns="urn:other" guid'
    ),
    "no namespace": lambda x, n: re.sub(r' xmlns="[^"]*"', "", x, count=1),
    "a forged placeholder": _at(r"</TextSource>", "<_r>0</_r></TextSource>"),
    "a broken end tag": _at(r"</PlainTextSelection>", "</PlainTextSelectio>"),
    "an unknown attribute": _at(r"<Coding guid=", '<Coding colour="red" guid='),
    "a stray character": _at(r"</Coding>", "</Coding>x"),
    "a stray ampersand": _at(r"</Coding>", "</Coding>&"),
    "a less-than in a value": _at(_END, 'endPosition="<'),
    "a control character": _at(_END, 'endPosition="\x01'),
    "a non-character": _at(_END, 'endPosition="\ufffe'),
    "a selection as the root": lambda x, n: m.group(0) if (m := _BLOCK.search(x)) else x,
    "cut short": lambda x, n: x[: max(0, len(x) - 1 - n % 200)],
}
_BAD_BYTES = {
    "bytes not UTF-8": (b'endPosition="', b'endPosition="\xff'),
    "a surrogate in UTF-8": (b'endPosition="', b'endPosition="\xed\xa0\x80'),
}


def _both(folder: Path, options: dict[str, Any], listed: list[str], monkeypatch: Any) -> None:
    with monkeypatch.context() as m:
        m.setattr(qdpx, "COLUMNS_MIN_CODINGS", 0)
        got = _read(qdpx, folder, options, listed)
        m.setattr(qdpx, "READ_RUNS", False)
        expected = _read(qdpx, folder, options, listed)
    assert got == expected


@pytest.mark.fuzz
@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    project=projects(),
    mutation=st.sampled_from([None, *MUTATIONS, *_BAD_BYTES]),
    n=st.integers(0, 1000),
)
def test_runs_read_as_the_parser_reads(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    project: tuple[QdpxBuilder, dict[str, Any], list[str]],
    mutation: str | None,
    n: int,
) -> None:
    b, options, listed = project
    xml = b.xml()
    if mutation in MUTATIONS:
        xml = MUTATIONS[mutation](xml, n)
    raw = xml.encode("utf-8")
    if mutation in _BAD_BYTES:
        old, new = _BAD_BYTES[mutation]
        raw = raw.replace(old, new, 1)
    folder = tmp_path_factory.mktemp("r")
    b.write(folder / "p.qdpx", raw)
    _both(folder, options, listed, monkeypatch)


@pytest.mark.parametrize("mutation", [*MUTATIONS, *_BAD_BYTES])
def test_each_rewriting_reads_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, mutation: str
) -> None:
    """Every rewriting above, once, on a fixed project with cases, users and an unknown code."""
    b = QdpxBuilder()
    ana = b.user("ana")
    codes = [b.code(f"c{k}") for k in range(3)]
    text = "One sentence here. Another one there. A third, with more words in it.\n" * 3
    docs = [b.doc(f"P{k}", text, inline=k == 2) for k in range(3)]
    sels = [
        b.span(d, i * 20, i * 20 + 15, [codes[i % 3], codes[(i + 1) % 3]], user=ana)
        for d in docs
        for i in range(4)
    ]
    b.span(docs[0], 5, 9, ["00000000-0000-0000-0000-00000000dead"])
    b.case("case A", sources=[docs[1]], selections=sels[:2])
    for k, coder in enumerate([None, "ana"]):
        xml = b.xml()
        raw = (MUTATIONS[mutation](xml, k) if mutation in MUTATIONS else xml).encode()
        if mutation in _BAD_BYTES:
            raw = raw.replace(*_BAD_BYTES[mutation], 1)
        folder = tmp_path / str(k)
        b.write(folder / "p.qdpx", raw)
        _both(folder, {"coder": coder} if coder else {}, ["c0", "c1"], monkeypatch)


def test_a_plain_export_is_read_in_runs() -> None:
    """The runs are taken where they apply (else this reading would only ever be skipped): one run
    per text source, every selection and coding in one, and the rest parses with a placeholder for
    each."""
    b = QdpxBuilder()
    codes = [b.code(f"c{k}") for k in range(2)]
    docs = [b.doc(f"P{k}", "abc def ghi jkl " * 5) for k in range(3)]
    for d in docs:
        for i in range(4):
            b.span(d, i * 4, i * 4 + 3, codes)
    raw = b.xml().encode()
    read = qdpx.parse_with_runs(raw, users=True)
    assert read is not None
    root, runs = read
    assert len(runs) == 3
    assert [len(list(runs.each(i))) for i in range(3)] == [4, 4, 4]
    assert [runs.codings(i) for i in range(3)] == [8, 8, 8]
    assert runs.counts == [2] * 12 and runs.first_selection == [0, 4, 8, 12]
    assert len(list(root.iter("_r"))) == 3
    assert not list(root.iter("PlainTextSelection")) and not list(root.iter("Coding"))


@pytest.mark.parametrize(
    ("raw", "why"),
    [
        (
            b'<Project xmlns:q="urn:q"><TextSource><PlainTextSelection guid="a" startPosition="0" '
            b'endPosition="1"></PlainTextSelection></TextSource></Project>',
            "a prefixed namespace",
        ),
        (
            b'<Project><_r>0</_r><TextSource><PlainTextSelection guid="a" startPosition="0" '
            b'endPosition="1"></PlainTextSelection></TextSource></Project>',
            "a placeholder already there",
        ),
        (b"<Project><TextSource/></Project>", "no run"),
    ],
)
def test_runs_are_not_cut_where_they_do_not_apply(raw: bytes, why: str) -> None:
    assert cut_runs(raw, None) is None, why
    assert cut_runs(
        raw.replace(b"_r", b"_s").replace(b' xmlns:q="urn:q"', b""), None
    ) is not None or (why == "no run")


def test_a_run_in_a_comment_is_left_to_the_parser() -> None:
    """A run inside a comment is cut from it, but its placeholder is no element then: the XML is
    parsed whole, and the commented selection is no selection."""
    block = b'<PlainTextSelection guid="a" startPosition="0" endPosition="1"></PlainTextSelection>'
    raw = (
        b'<Project><Sources><TextSource guid="t"><!-- '
        + block
        + b" --></TextSource></Sources></Project>"
    )
    assert cut_runs(raw, None) is not None
    assert qdpx.parse_with_runs(raw) is None
