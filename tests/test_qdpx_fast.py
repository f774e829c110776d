"""The .qdpx reader gives what it gave before it was made fast (issue 14): a differential test
against a frozen copy of the previous reader (tests/fixtures/qdpx/oracle_qdpx.py).

Random projects (several text sources, stored or inline; selections at random places counted in
any unit, inside and outside the text, splitting emoji and CRLFs; nested and duplicate code names;
cases by source and by selection; codings of unknown codes and of cases; users and a coder filter)
are read by both, as rows and as columns, and must give the same rows (ids, participants, codes,
texts, row numbers, code paths), the same findings, the same code renaming by the codebook and the
same control-character warnings.
"""

from __future__ import annotations

import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from triangulate.project.models import SourceSpec
from triangulate.sources.refi import qdpx
from triangulate.sources.unsafe import control_character_findings

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "qdpx"))
import oracle_qdpx  # the reader before issue 14, frozen
from qdpx_builder import QdpxBuilder, to_units

# characters that make units differ (emoji outside the BMP, CRLF, a bare LF), split characters
# (a combining accent, a zero-width joiner), cut words, and a control character (stored text only)
PIECES = [
    "a",
    "b",
    "Maria",
    " ",
    "  ",
    "\n",
    "\r\n",
    "\r",
    "😀",
    "é",
    "e\u0301",
    "\u200d",
    "_",
    ".",
]
CONTROL = ["\x07", "\x1b[0m"]
UNITS = ["codepoints", "utf16", "crlf1", "utf16+crlf1", "lf2"]


def _fields(r: Any) -> tuple[Any, ...]:
    return (r.excerpt_id, r.participant, r.code, r.text, r.tags, r.row, r.code_path)


def _finding(f: Any) -> tuple[Any, ...]:
    return (f.code, f.severity, f.message, f.location)


@st.composite
def projects(draw: st.DrawFn) -> tuple[QdpxBuilder, dict[str, Any], list[str]]:
    b = QdpxBuilder(braces=draw(st.booleans()), upper=draw(st.booleans()))
    users = [b.user(n) for n in draw(st.lists(st.sampled_from(["ana", "Ben", "ben"]), max_size=3))]
    codes: list[str] = []
    names: dict[str, str] = {}
    for k in range(draw(st.integers(1, 5))):
        parent = draw(st.sampled_from([None, *codes])) if codes else None
        name = draw(st.sampled_from(["x", "y", "child", f"code-{k}"]))
        g = b.code(name, parent=parent, codable=draw(st.booleans()) or True)
        codes.append(g)
        names[g] = name
    docs = []
    # half the projects read alike under every unit (no emoji, no CR, no line break inline): the
    # reader then takes them in one pass, as written
    plain = draw(st.booleans())
    for k in range(draw(st.integers(1, 4))):
        inline = draw(st.booleans())
        parts = draw(st.lists(st.sampled_from(PIECES + ([] if inline else CONTROL)), max_size=40))
        text = "".join(parts)
        if inline:
            text = text.replace("\r", "")  # the builder writes CR as &#13;; keep inline text simple
        if plain:
            text = text.replace("\r", "").replace("😀", "o")
            text = text.replace("\n", " ") if inline else text
        docs.append(b.doc(draw(st.sampled_from(["P1", "P2", f"Doc {k}", ""])), text, inline=inline))
    targets = [*codes, "00000000-0000-0000-0000-00000000dead"]  # and an unknown code
    sels = []
    for d in docs:
        for _ in range(draw(st.integers(0, 8))):
            n = len(d.text)
            i = draw(st.integers(-2, n + 2))
            j = draw(st.integers(-2, n + 2))
            if draw(st.integers(0, 4)):
                i, j = min(i, j), max(i, j)  # mostly in order
            unit = draw(st.sampled_from(UNITS))
            start: int | str = to_units(d.text, max(0, min(i, n)), unit) + (i - max(0, min(i, n)))
            end: int | str = to_units(d.text, max(0, min(j, n)), unit) + (j - max(0, min(j, n)))
            if draw(st.integers(0, 20)) == 0:
                start = draw(st.sampled_from(["", "abc", " 3 ", "1.5"]))
            name = draw(st.sampled_from([None, None, "", d.text[max(0, i) : max(0, i) + 6]]))
            picked = draw(st.lists(st.sampled_from(targets), max_size=3))
            sels.append(
                b.span(
                    d,
                    start,
                    end,
                    picked,
                    name=name,
                    user=draw(st.sampled_from([None, *users])),
                    coding_user=draw(st.sampled_from([None, *users])),
                )
            )
    for k in range(draw(st.integers(0, 3))):
        case = b.case(
            draw(st.sampled_from(["case A", "case B", f"case {k}"])),
            sources=draw(st.lists(st.sampled_from(docs), max_size=2, unique_by=id)),
            selections=draw(st.lists(st.sampled_from(sels), max_size=3, unique_by=id))
            if sels
            else [],
        )
        if sels and draw(st.booleans()):  # NVivo: a coding that points at a case
            draw(st.sampled_from(sels)).codes.append(case)
    options: dict[str, Any] = {
        "positions": draw(st.sampled_from([None, "auto", "codepoints", "utf16"])),
        "code_path": draw(st.sampled_from([None, True, False])),
    }
    if users and draw(st.booleans()):
        options["coder"] = draw(st.sampled_from(["ana", "BEN", "nobody"]))
    # what the codebook lists for this source: some names, some full paths
    listed = draw(st.lists(st.sampled_from(sorted(set(names.values())) + ["x/child", "y/child"])))
    return b, options, listed


def _read(module: Any, folder: Path, options: dict[str, Any], listed: list[str]) -> Any:
    spec = SourceSpec(id="interviews", kind="excerpts", path="p.qdpx", **options)
    data, findings = module.load_qdpx_source(folder, spec)
    if data is None:
        return None, [_finding(f) for f in findings]
    controls = [_finding(f) for f in control_character_findings(data)]
    before = [_fields(r) for r in data.excerpts]
    codebook = SimpleNamespace(themes=[SimpleNamespace(codes={"interviews": listed})])
    renamed = [_finding(f) for f in module.resolve_code_forms(data, codebook)]
    after = [_fields(r) for r in data.excerpts]
    by_code = {c: [int(i) for i in ix] for c, ix in data.excerpt_columns().by_code().items()}
    cols = data.excerpt_columns()
    counts = (cols.participant_count(), cols.excerpt_count(), cols.first_rows())
    return (
        before,
        after,
        by_code,
        counts,
        data.code_places,
        [_finding(f) for f in findings],
        controls,
        renamed,
    )


@pytest.mark.fuzz
@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    project=projects(),
    as_columns=st.booleans(),
    limits=st.sampled_from([None, None, (3, 10, 1), (5, 30, 2), (10, 60, 3), (40, 100, 5)]),
)
def test_the_fast_reader_reads_as_the_previous_one(
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
    project: tuple[QdpxBuilder, dict[str, Any], list[str]],
    as_columns: bool,
    limits: tuple[int, int, int] | None,
) -> None:
    b, options, listed = project
    folder = tmp_path_factory.mktemp("q")
    b.write(folder / "p.qdpx")
    with monkeypatch.context() as m:
        if limits is not None:  # excerpts shortened: each one, then all once the total is used
            for module in (oracle_qdpx, qdpx):
                m.setattr(module, "MAX_EXCERPT_CHARS", limits[0])
                m.setattr(module, "MAX_EXCERPT_TOTAL", limits[1])
                m.setattr(module, "MAX_EXCERPT_CUT", limits[2])
        expected = _read(oracle_qdpx, folder, options, listed)
        m.setattr(qdpx, "COLUMNS_MIN_CODINGS", 0 if as_columns else 10**9)
        got = _read(qdpx, folder, options, listed)
    assert got == expected


def test_a_large_project_is_held_as_columns_and_reads_as_before(tmp_path: Path) -> None:
    """Over COLUMNS_MIN_CODINGS codings the rows are columns (numpy ids); same rows and findings."""
    b = QdpxBuilder()
    parent = b.code("theme")
    codes = [b.code(f"c{k}", parent=parent if k % 2 else None) for k in range(7)]
    text = "".join(f"Sentence {k} about 😀 things.\n" for k in range(400))
    docs = [b.doc(f"P{k}", text) for k in range(8)]
    for d in docs:
        for k in range(0, 390):
            at = d.text.index(f"Sentence {k} ")
            b.span(
                d,
                to_units(d.text, at, "utf16"),
                to_units(d.text, at + 10, "utf16"),
                codes[k % 3 : k % 3 + 2],
            )
    b.write(tmp_path / "p.qdpx")
    got = _read(qdpx, tmp_path, {"code_path": None}, ["theme/c1"])
    assert got == _read(oracle_qdpx, tmp_path, {"code_path": None}, ["theme/c1"])
    spec = SourceSpec(id="interviews", kind="excerpts", path="p.qdpx")
    data, _ = qdpx.load_qdpx_source(tmp_path, spec)
    assert data is not None and isinstance(data.excerpt_columns(), qdpx.QdpxColumns)
    assert len(data.excerpts) == 8 * 390 * 2 >= qdpx.COLUMNS_MIN_CODINGS


@st.composite
def landings(draw: st.DrawFn) -> tuple[str, list[qdpx.Selection]]:
    pieces = PIECES + CONTROL + ["word", "Wörd", "\t", "x y", "\ud800", "\udc00", "\x1c", "ǅ"]
    text = "".join(draw(st.lists(st.sampled_from(pieces), max_size=30)))
    n = len(text)
    sels = []
    for k in range(draw(st.integers(0, 12))):
        s, e = draw(st.integers(-1, n + 1)), draw(st.integers(-1, n + 1))
        if draw(st.integers(0, 4)):
            s, e = min(s, e), max(s, e)  # mostly in order
        form = draw(st.sampled_from(["{}", "{}", "{}", "{}", " {} ", "{}x", "+{}"]))
        name = draw(
            st.sampled_from(["", "", "", "", "word", "  Maria ", "x", text[max(s, 0) :][:5]])
        )
        sels.append(qdpx.Selection(f"s{k}", form.format(s), form.format(e), name, "", []))
    return text, sels


@pytest.mark.fuzz
@settings(max_examples=400, deadline=None)
@given(case=landings())
def test_selections_land_as_before(case: tuple[str, list[qdpx.Selection]]) -> None:
    """Landing every selection of a text at once (positions as written) gives, selection by
    selection, the Landing the previous reader's land() gives: place, problem and score."""
    text, sels = case
    old = [
        oracle_qdpx.land(text, oracle_qdpx.Mapper(text, "codepoints", "stored"), sel)
        for sel in sels
    ]
    want = [(x.start, x.end, x.problem, x.score) for x in old]
    new = qdpx._land_as_written(text, qdpx.Mapper(text, "codepoints", "stored"), sels)
    assert [(x.start, x.end, x.problem, x.score) for x in new] == want
    for sel, w in zip(sels, want, strict=True):  # the one-pass reader's plain case
        plain = qdpx._land_plain(text, len(text), sel.start, sel.end, sel.name)
        assert plain is None or (plain.start, plain.end, plain.problem, plain.score) == w


@pytest.mark.parametrize(
    "raw",
    [
        b"<Project name='a xmlns=\"urn:x\"'><X/></Project>",  # inside a value: not a declaration
        b'<Project name="a>b" xmlns="urn:x"><X/></Project>',  # a ">" in a value: not read
        b'<Project xmlns="urn:x" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>',
        b'<!-- first --><Project xmlns="urn:x"><X/></Project>',
        b'<Project><X xmlns="urn:x"/></Project>',  # declared below the root
        b'<Project xmlns="urn:x"><X xmlns="urn:y"/></Project>',
        b"<Project/>",
    ],
)
def test_only_a_lone_default_namespace_on_the_root_is_left_out(raw: bytes) -> None:
    from triangulate.sources.refi.qdpx import _default_namespace_span

    assert _default_namespace_span(raw) is None


@pytest.mark.parametrize("quote", ['"', "'"])
def test_the_xml_parses_to_the_same_tree_without_its_lone_namespace(quote: str) -> None:
    """The usual export declares one default namespace on the root: parsed without it, the
    elements have their local names, the tree _local_tags makes of the XML as written."""
    import xml.etree.ElementTree as ET

    from triangulate.sources.refi.qdpx import _default_namespace_span, _local_tags, parse_xml

    raw = (
        '<?xml version="1.0" encoding="utf-8"?>\n<Project  name="Study &amp; co" '
        f"xmlns={quote}urn:QDA-XML:project:1.0{quote}\n origin='x'>"
        '<CodeBook><Codes><Code guid="g1" name="a&lt;b" isCodable="true"/></Codes></CodeBook>'
        "<Sources><TextSource guid='s1'><PlainTextSelection startPosition='0' endPosition='3'>"
        "<Coding guid='c1'><CodeRef targetGUID='g1'/></Coding></PlainTextSelection></TextSource>"
        "</Sources></Project>"
    ).encode()
    span = _default_namespace_span(raw)
    assert span is not None and raw[span[0] : span[1]].strip().startswith(b"xmlns=")
    root, findings = parse_xml(raw, "project.qde")
    assert root is not None and not findings
    expected = ET.fromstring(raw)
    _local_tags(expected)
    assert ET.tostring(root) == ET.tostring(expected)
    assert root.tag == "Project" and root.get("name") == "Study & co" and root.get("origin") == "x"


def test_malformed_xml_is_reported_where_it_is_as_written() -> None:
    """Read without its namespace declaration, a broken root line would shift the column of the
    error: the XML as written is read again for the message."""
    import xml.etree.ElementTree as ET

    from triangulate.sources.refi.qdpx import _default_namespace_span, parse_xml

    raw = b'<Project xmlns="urn:QDA-XML:project:1.0" name="x"><A></B></Project>'
    assert _default_namespace_span(raw) is not None
    root, findings = parse_xml(raw, "project.qde")
    assert root is None and [f.code for f in findings] == ["refi.malformed"]
    with pytest.raises(ET.ParseError) as as_written:
        ET.fromstring(raw)
    line, column = as_written.value.position
    assert (findings[0].location.line, findings[0].location.column) == (line, column + 1)
