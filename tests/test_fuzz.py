"""Fuzzing every loader and the whole pipeline with Hypothesis.

The property is the same everywhere: whatever the input, a loader either loads it or returns
findings (or raises the tool's own TriangulateError); nothing else escapes, and every finding has
a registered code and a sane location.

Profiles (see docs/fuzzing.md):

- ``quick`` (the default, part of the normal test suite): derandomized, a few dozen examples per
  property, well under 30 seconds in all;
- ``long``: random, many examples per property, for a campaign:
  ``HYPOTHESIS_PROFILE=long python -m pytest tests/test_fuzz.py``
  (``HYPOTHESIS_EXAMPLES=N`` sets the examples per property of that profile).

Profiles are applied per test here (never loaded globally), so other test modules keep their own
Hypothesis settings.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from triangulate.findings import CODES, Finding, Severity, TriangulateError
from triangulate.pipeline import analyse_path
from triangulate.project.loading import load_project, validate_model
from triangulate.project.models import Codebook, ProjectFile, Protocol, SourceSpec
from triangulate.project.yamlio import YamlDoc, parse_yaml
from triangulate.review.decisions import read_decisions
from triangulate.review.worksheets import read_worksheets
from triangulate.sources.load import load_source
from triangulate.sources.tables import read_table

pytestmark = [pytest.mark.fuzz, pytest.mark.slow]

settings.register_profile(
    "quick",
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)
settings.register_profile(
    "long",
    max_examples=int(os.environ.get("HYPOTHESIS_EXAMPLES", "20000")),
    deadline=None,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.filter_too_much,
    ],
)
PROFILE_NAME = os.environ.get("HYPOTHESIS_PROFILE", "quick")
if PROFILE_NAME not in ("quick", "long"):
    PROFILE_NAME = "quick"
PROFILE = settings.get_profile(PROFILE_NAME)


def fuzz(quick_examples: int) -> settings:
    """The profile's settings; the quick profile runs ``quick_examples`` examples of this property."""
    if PROFILE_NAME == "quick":
        return settings(PROFILE, max_examples=quick_examples)
    return PROFILE


def check_findings(findings: list[Finding]) -> None:
    assert isinstance(findings, list)
    for f in findings:
        assert isinstance(f, Finding)
        assert f.code in CODES, f.code
        assert isinstance(f.severity, Severity)
        assert isinstance(f.message, str) and f.message
        loc = f.location
        assert loc.file is None or isinstance(loc.file, str)
        for n in (loc.line, loc.column, loc.row):
            assert n is None or (isinstance(n, int) and n >= 1), loc
        json.dumps(f.to_dict())  # every finding can be printed as JSON


@contextmanager
def scratch() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="triangulate-fuzz-") as d:
        yield Path(d)


# ---------------------------------------------------------------------------- strategies

# Text that is likely to break parsers: delimiters, quotes, YAML indicators, control characters,
# BOMs, formula starts, very long numbers.
NASTY = [
    "",
    " ",
    ",",
    ";",
    "\t",
    "\r",
    "\n",
    "\r\n",
    '"',
    "'",
    '""',
    "\\",
    "\x00",
    "\x0b",
    "\ufeff",
    "\u2028",
    "=",
    "+",
    "-",
    "@",
    "|",
    ":",
    "- ",
    "? ",
    "&a",
    "*a",
    "!!python/object/apply:os.system",
    "!tag",
    "%YAML 1.1",
    "---",
    "...",
    "{",
    "}",
    "[",
    "]",
    "#",
    "<<",
    "~",
    "null",
    "yes",
    "no",
    "NaN",
    "inf",
    "-0",
    "1e309",
    "9" * 5000,
    "0x" + "f" * 300,
    "2023-02-30",
    "12:30:00",
    "50%",
    "caf\u00e9",
    "\U0001f600",
    # terminal and CI injections (issue 13): clear screen, window title, clipboard write, CSI,
    # bidirectional override, a forged workflow command on a line of its own
    "\x1b[2J",
    "\x1b]0;title\x07",
    "\x1b]52;c;ZXZpbA==\x07",
    "\x9b31m",
    "\x7f",
    "\u202e",
    "x\n::error file=codebook.yaml,line=1::FORGED",
]
nasty_text = st.one_of(
    st.sampled_from(NASTY),
    st.text(max_size=30),
    st.lists(st.sampled_from(NASTY), max_size=8).map("".join),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    nasty_text,
    st.dates(),
    st.datetimes(),
)
values = st.recursive(
    scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.one_of(nasty_text, st.integers(-5, 5)), children, max_size=4),
    ),
    max_leaves=20,
)

YAML_FRAGMENTS = [
    "title: x\n",
    "protocol: blebu-2023\n",
    "sources:\n",
    "  - id: a\n",
    "    kind: excerpts\n",
    "    path: a.csv\n",
    "themes:\n",
    "  - id: t\n",
    "    codes: {a: [x, y]}\n",
    "groups: []\n",
    "rules: {one_source: s}\n",
    "&a [1, 2]",
    "*a",
    "<<: *a\n",
    "!!python/object/apply:os.system ['true']",
    "!!binary aGVsbG8=",
    "!!set {a, b}",
    "!!omap [a: 1]",
    "? [1, 2]\n: 3\n",
    "key: value\nkey: other\n",
    "\t",
    "  ",
    "- ",
    "[",
    "]",
    "{",
    "}",
    "'",
    '"',
    "\n",
    "#c\n",
    "---\n",
    "...\n",
    "%YAML 1.1\n",
    "2001-13-45",
    "0b" + "1" * 100,
    "1" * 5000,
    ": ",
    "|\n  text\n",
]
yamlish = st.lists(st.sampled_from(YAML_FRAGMENTS) | st.text(max_size=10), max_size=25).map("".join)


# ---------------------------------------------------------------------------- YAML


def check_doc(doc: YamlDoc | None, findings: list[Finding]) -> None:
    check_findings(findings)
    if doc is None:
        assert any(f.is_error for f in findings)
        return
    for path in list(doc.positions)[:50]:
        doc.where(path)
        doc.where_value(path)


@fuzz(300)
@given(st.one_of(st.text(), yamlish))
def test_parse_yaml_never_crashes(text: str) -> None:
    check_doc(*parse_yaml(text, "x.yaml"))


# Documents YAML writers produce, in block and flow style, with non-ASCII text before keys.
dumped_yaml = st.builds(
    lambda value, flow, width: yaml.safe_dump(
        value, allow_unicode=True, default_flow_style=flow, width=width
    ),
    st.recursive(
        st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text()),
        lambda inner: (
            st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4)
        ),
        max_leaves=20,
    ),
    st.sampled_from([None, False, True]),
    st.sampled_from([20, 80]),
)


@fuzz(300)
@given(st.one_of(yamlish, dumped_yaml))
def test_libyaml_and_the_python_parser_give_the_same_document(text: str) -> None:
    """Where libyaml is allowed to parse (any size here) and finds nothing wrong, its document is
    the Python parser's: the same data, key and value positions and number texts."""
    from triangulate.project.yamlio import _c_parser_ok, _CLoader, _Loader

    if _CLoader is None or not _c_parser_ok(text, min_length=0):
        return
    try:
        c_doc, c_found = parse_yaml(text, "x.yaml", _CLoader)
    except Exception:
        return  # parse_yaml falls back to the Python parser
    if c_doc is None or c_found:
        return
    py_doc, py_found = parse_yaml(text, "x.yaml", _Loader)
    assert py_doc is not None and not py_found, (text, py_found)
    assert c_doc.data == py_doc.data or repr(c_doc.data) == repr(py_doc.data)
    assert c_doc.positions == py_doc.positions
    assert c_doc.values == py_doc.values
    assert c_doc.numbers == py_doc.numbers


@pytest.mark.parametrize(
    "text",
    [
        "a:\tb\n" * 2000,  # tabs
        "[" * 5000 + "]" * 5000,  # deep nesting: PyYAML would compose it recursively in C
        "- " * 5000 + "x\n",
        "k: [a, ? b]\n" * 1000,
        "k: {a: , b: c}\n" * 1000,
        "k: |#\n  x\n" * 1000,
        "k: v\ufeff\n" * 2000,
        "k: \x85v\x07\n" * 2000,  # not printable for the Python reader
    ],
)
def test_risky_yaml_uses_the_python_parser(text: str) -> None:
    from triangulate.project.yamlio import _c_parser_ok

    assert not _c_parser_ok(text)


def test_a_large_flow_style_codebook_is_parsed_by_libyaml() -> None:
    """The README's own style (``interviews: [a, b]``) at 2,000 themes is not mistaken for deep
    nesting: libyaml parses it, and its document is the Python parser's."""
    from triangulate.project.yamlio import _c_parser_ok, _CLoader, _Loader

    if _CLoader is None:
        pytest.skip("PyYAML without libyaml")
    text = "themes:\n" + "".join(
        f"  - id: t{i}\n    label: Théme {i}\n    codes:\n      interviews: [a{i}, b{i}]\n"
        f"      survey: {{items: [q{i}], weight: {i}.50}}\n"
        for i in range(2000)
    )
    assert _c_parser_ok(text)
    c_doc, c_found = parse_yaml(text, "codebook.yaml", _CLoader)
    py_doc, py_found = parse_yaml(text, "codebook.yaml", _Loader)
    assert c_doc is not None and py_doc is not None and not c_found and not py_found
    assert (c_doc.data, c_doc.positions, c_doc.values, c_doc.numbers) == (
        py_doc.data,
        py_doc.positions,
        py_doc.values,
        py_doc.numbers,
    )
    assert c_doc.numbers[("themes", 1999, "codes", "survey", "weight")] == "1999.50"


MODELS = [ProjectFile, Codebook, Protocol, SourceSpec]


def _safe_dump(value: Any) -> str | None:
    try:
        return yaml.safe_dump(value, allow_unicode=True)
    except (yaml.YAMLError, ValueError):
        return None


@fuzz(200)
@given(st.sampled_from(MODELS), values)
def test_validate_model_never_crashes_on_any_value(model: type, value: Any) -> None:
    obj, findings = validate_model(YamlDoc("x.yaml", value), model, "the file")
    check_findings(findings)
    assert (obj is None) == bool(findings)
    text = _safe_dump(value)
    if text is not None:  # the same value through YAML text, with positions
        doc, f1 = parse_yaml(text, "x.yaml")
        check_doc(doc, f1)
        if doc is not None:
            obj, f2 = validate_model(doc, model, "the file")
            check_findings(f2)


def _shaped(model_fields: dict[str, st.SearchStrategy[Any]]) -> st.SearchStrategy[dict[str, Any]]:
    """Dicts that mostly follow a model's shape, with any value possibly replaced."""
    return st.fixed_dictionaries(
        {}, optional={k: st.one_of(v, values) for k, v in model_fields.items()}
    ).flatmap(
        lambda d: st.one_of(
            st.just(d),
            st.dictionaries(nasty_text, values, max_size=2).map(lambda extra: {**d, **extra}),
        )
    )


ids = st.one_of(
    st.sampled_from(["a", "b", "c", "t1", "t2", "silence", "agree", "x_y-z"]), nasty_text
)
source_spec = _shaped(
    {
        "id": ids,
        "kind": st.sampled_from(["excerpts", "survey", "survey_responses", "other"]),
        "path": st.sampled_from(["a.csv", "b.xlsx#S", "c.jsonl", ""]),
        "label": nasty_text,
        "codes": st.dictionaries(
            nasty_text,
            _shaped({"column": nasty_text, "endorse": st.lists(scalars, max_size=3)}),
            max_size=3,
        ),
    }
)
shaped = {
    ProjectFile: _shaped(
        {
            "title": nasty_text,
            "protocol": st.sampled_from(["blebu-2023", "x.yaml", "../p.yml", ""]),
            "codebook": nasty_text,
            "sources": st.lists(source_spec, max_size=4),
            "reviewers": st.lists(ids, max_size=3),
            "output": nasty_text,
        }
    ),
    Codebook: _shaped(
        {
            "groups": st.lists(_shaped({"id": ids, "label": nasty_text}), max_size=3),
            "themes": st.lists(
                _shaped(
                    {
                        "id": ids,
                        "group": ids,
                        "label": nasty_text,
                        "codes": st.dictionaries(
                            ids, st.one_of(st.lists(scalars, max_size=4), scalars), max_size=3
                        ),
                        "not_collected": st.lists(ids, max_size=2),
                    }
                ),
                max_size=4,
            ),
        }
    ),
    Protocol: _shaped(
        {
            "id": ids,
            "title": nasty_text,
            "citation": nasty_text,
            "steps": st.lists(
                st.one_of(ids, _shaped({"id": ids, "label": nasty_text})), max_size=3
            ),
            "dimensions": st.lists(_shaped({"id": ids, "label": nasty_text}), max_size=3),
            "categories": st.lists(
                _shaped(
                    {
                        "id": ids,
                        "label": nasty_text,
                        "definition": nasty_text,
                        "color": st.sampled_from(["#aabbcc", "red"]),
                    }
                ),
                max_size=4,
            ),
            "rules": _shaped(dict.fromkeys(("one_source", "all", "some", "none"), ids)),
        }
    ),
    SourceSpec: source_spec,
}


@fuzz(200)
@given(
    st.sampled_from([ProjectFile, Codebook, Protocol, SourceSpec]).flatmap(
        lambda m: st.tuples(st.just(m), shaped[m])
    )
)
def test_validate_model_on_nearly_valid_documents(case: tuple[type, dict[str, Any]]) -> None:
    model, value = case
    text = _safe_dump(value)
    if text is None:
        return
    doc, findings = parse_yaml(text, "x.yaml")
    check_doc(doc, findings)
    if doc is not None:
        obj, more = validate_model(doc, model, "the file")
        check_findings(more)
        assert (obj is None) == bool(more)


# ---------------------------------------------------------------------------- tables

cells = st.one_of(nasty_text, st.integers().map(str), st.floats().map(repr))
COLUMNS = [
    "excerpt_id",
    "participant",
    "code",
    "text",
    "respondents",
    "endorsed",
    "percent",
    "item",
    "substance",
    "mechanism",
    "theme",
    "source_a",
    "source_b",
    "category",
    "rationale",
]
header = st.lists(st.one_of(st.sampled_from(COLUMNS), nasty_text), min_size=0, max_size=7)


def csv_bytes(
    rows: list[list[str]], delimiter: str, encoding: str, newline: str, bom: bool
) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator=newline)
    for r in rows:
        w.writerow(r)
    data = buf.getvalue().encode(encoding, errors="replace")
    return (b"\xef\xbb\xbf" if bom and encoding == "utf-8" else b"") + data


table_rows = st.tuples(header, st.lists(st.lists(cells, max_size=8), max_size=8)).map(
    lambda hr: [hr[0], *hr[1]]
)


@st.composite
def table_file(draw: st.DrawFn) -> tuple[str, bytes]:
    suffix = draw(st.sampled_from([".csv", ".tsv", ".jsonl", ".txt", ".ndjson"]))
    how = draw(st.sampled_from(["structured", "bytes", "mutated"]))
    if how == "bytes":
        return suffix, draw(st.binary(max_size=400))
    rows = draw(table_rows)
    if suffix in (".jsonl", ".ndjson"):
        lines = []
        for r in rows[1:]:
            line = json.dumps(dict(zip(rows[0], r)))
            kind = draw(st.sampled_from(["json", "json", "junk", "cut"]))
            if kind == "junk":
                line = draw(nasty_text).replace("\n", " ")
            elif kind == "cut":
                line = line[: draw(st.integers(0, len(line)))]
            lines.append(line)
        text = "\n".join(lines)
        if draw(st.booleans()):
            text += "\n" + draw(
                st.sampled_from(
                    ['{"a": ', "[1]", "null", '"x"', "{" * 3000, '{"n": ' + "1" * 5000 + "}"]
                )
            )
        data = text.encode("utf-8")
    else:
        data = csv_bytes(
            rows,
            "\t" if suffix == ".tsv" else ",",
            draw(st.sampled_from(["utf-8", "cp1252", "utf-16"])),
            draw(st.sampled_from(["\n", "\r\n", "\r"])),
            draw(st.booleans()),
        )
    if how == "mutated" and data:
        pos = draw(st.integers(0, len(data) - 1))
        data = data[:pos] + draw(st.binary(max_size=4)) + data[pos + 1 :]
    return suffix, data


def check_table(table: Any, findings: list[Finding]) -> None:
    check_findings(findings)
    if table is None:
        assert any(f.is_error for f in findings)
        return
    assert all(isinstance(c, str) for c in table.columns)
    assert len(table.rows) == len(table.row_numbers)
    for row in table.rows:
        assert len(row) == len(table.columns)
        assert all(isinstance(c, str) for c in row)
    assert table.row_numbers == sorted(table.row_numbers)


@fuzz(200)
@given(table_file())
def test_read_table_never_crashes(case: tuple[str, bytes]) -> None:
    suffix, data = case
    with scratch() as d:
        path = d / f"t{suffix}"
        path.write_bytes(data)
        check_table(*read_table(path, f"t{suffix}"))


xlsx_values = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**15), 10**15),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20).map(lambda s: "".join(ch for ch in s if ch >= " " or ch in "\t\n\r")),
    st.dates(min_value=date(1901, 1, 1)),
    st.datetimes(min_value=datetime(1901, 1, 1)),
    st.sampled_from(["=1+1", "=A1", '=HYPERLINK("x")', "'=quoted"]),
)


@st.composite
def xlsx_file(draw: st.DrawFn) -> bytes:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    for _ in range(draw(st.integers(0, 6))):
        ws.append(draw(st.lists(xlsx_values, max_size=6)))
    if draw(st.booleans()):
        ws.cell(
            row=draw(st.integers(1, 300)), column=draw(st.integers(1, 300)), value=draw(xlsx_values)
        )
    buf = io.BytesIO()
    wb.save(buf)
    data = buf.getvalue()
    how = draw(st.sampled_from(["as-is", "as-is", "truncated", "mutated", "bytes"]))
    # Positions are drawn independently of the length: a saved workbook holds timestamps, so its
    # size can differ by a byte between runs, and Hypothesis needs the same draws each time.
    if how == "truncated":
        data = data[: draw(st.integers(0, 10**6)) % (len(data) + 1)]
    elif how == "mutated":
        for _ in range(draw(st.integers(1, 8))):
            pos = draw(st.integers(0, 10**6)) % len(data)
            data = data[:pos] + bytes([draw(st.integers(0, 255))]) + data[pos + 1 :]
    elif how == "bytes":
        data = b"PK\x03\x04" + draw(st.binary(max_size=300))
    return data


@fuzz(60)
@given(xlsx_file(), st.sampled_from([None, "Sheet", "Nope"]))
def test_read_xlsx_never_crashes(data: bytes, sheet: str | None) -> None:
    with scratch() as d:
        path = d / "t.xlsx"
        path.write_bytes(data)
        table, findings = read_table(path, "t.xlsx", sheet)
        check_table(table, findings)
        if table is not None:
            assert not [
                c for r in table.rows for c in r if c.startswith("=")
            ]  # values, never formulas


# ---------------------------------------------------------------------------- sources


@st.composite
def source_case(draw: st.DrawFn) -> tuple[SourceSpec, list[list[str]]]:
    kind = draw(st.sampled_from(["excerpts", "survey", "survey_responses"]))
    if kind == "excerpts":
        cols = ["excerpt_id", "participant", "code", "text", "substance", "mechanism"]
    elif kind == "survey":
        cols = ["code", "respondents", "endorsed", "percent", "item", "substance"]
    else:
        cols = ["Q1", "Q2", "Q3"]
    cols = draw(
        st.lists(st.sampled_from(cols), min_size=1, max_size=len(cols), unique=True)
    ) + draw(st.lists(nasty_text, max_size=1))
    numeric = st.one_of(
        st.integers(-3, 300).map(str),
        st.sampled_from(["", "1.0", "2.5", "1e3", "NaN", "inf", "-0", "50%", "x", "1" * 400]),
    )
    row = st.lists(
        st.one_of(numeric, nasty_text, st.sampled_from(["a", "b", "P1", "yes", "1", "0", "true"])),
        min_size=len(cols),
        max_size=len(cols),
    )
    rows = [cols, *draw(st.lists(row, max_size=8))]
    codes = None
    if kind == "survey_responses":
        codes = draw(
            st.dictionaries(
                st.sampled_from(["a", "b", "c"]),
                st.fixed_dictionaries(
                    {"column": st.sampled_from(["Q1", "Q2", "Q3", "Q9"])},
                    optional={
                        "endorse": st.lists(
                            scalars.filter(lambda v: isinstance(v, (str, int, float, bool))),
                            max_size=3,
                        )
                    },
                ),
                max_size=3,
            )
        )
    spec = SourceSpec.model_validate(
        {
            "id": "s",
            "kind": kind,
            "path": "data/s.csv",
            **({"codes": codes} if codes is not None else {}),
        }
    )
    return spec, rows


@fuzz(150)
@given(source_case())
def test_load_source_never_crashes(case: tuple[SourceSpec, list[list[str]]]) -> None:
    spec, rows = case
    with scratch() as d:
        (d / "data").mkdir()
        (d / "data/s.csv").write_bytes(csv_bytes(rows, ",", "utf-8", "\n", False))
        data, findings = load_source(d, spec, ["substance", "mechanism"])
        check_findings(findings)
        if data is None:
            return
        for r in data.survey:
            assert r.respondents >= 1
            assert r.endorsed is None or 0 <= r.endorsed <= r.respondents
            assert r.percent is None or 0 <= r.percent <= 100
            assert 0 <= r.share <= 1
        for e in data.excerpts:
            assert e.excerpt_id and e.participant and e.code


# ---------------------------------------------------------------------------- worksheets and decisions

BASE_PROJECT = {
    "triangulate.yaml": (
        "title: Fuzz\nprotocol: blebu-2023\nsources:\n"
        "  - {id: a, kind: excerpts, path: a.csv}\n  - {id: b, kind: survey, path: b.csv}\n"
        "reviewers: [r1, r2]\n"
    ),
    "codebook.yaml": "themes:\n  - {id: t1, codes: {a: [x], b: [y]}}\n  - {id: t2, codes: {a: [z]}}\n  - {id: t3, codes: {b: [w]}}\n",
    "a.csv": "excerpt_id,participant,code,text,substance,mechanism\nE1,P1,x,hi,s1,m1\nE2,P2,z,ho,s2,m2\n",
    "b.csv": "code,respondents,endorsed,substance,mechanism\ny,10,3,s1,m9\nw,5,0,,\n",
}


def write_project(root: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        p = root / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)


ws_cell = {
    "theme": st.sampled_from(["t1", "t2", "t3", "t9", "", " t1 "]),
    "source_a": st.sampled_from(["a", "b", "c", ""]),
    "source_b": st.sampled_from(["a", "b", "c", ""]),
    "substance": st.sampled_from(["yes", "no", "", "YES", " no ", "maybe"]),
    "mechanism": st.sampled_from(["yes", "no", "", "y"]),
    "category": st.sampled_from(
        ["full_agreement", "partial_agreement", "disagreement", "silence", "", "agree"]
    ),
    "rationale": nasty_text,
}
ws_row = st.fixed_dictionaries(dict(ws_cell.items()))


@st.composite
def worksheet_bytes(draw: st.DrawFn) -> bytes:
    if draw(st.integers(0, 9)) == 0:
        return draw(st.binary(max_size=200))
    cols = draw(st.lists(st.sampled_from(list(ws_cell)), min_size=0, max_size=7, unique=True))
    if draw(st.booleans()):
        cols = list(ws_cell)
    rows = draw(st.lists(ws_row, max_size=6))
    return csv_bytes(
        [cols, *[[r[c] for c in cols] for r in rows]], ",", "utf-8", "\n", draw(st.booleans())
    )


decision_obj = st.fixed_dictionaries(
    {},
    optional={
        "theme": st.one_of(st.sampled_from(["t1", "t2", "t3", "t9"]), scalars),
        "source_a": st.one_of(st.sampled_from(["a", "b", "c"]), scalars),
        "source_b": st.one_of(st.sampled_from(["a", "b", "c"]), scalars),
        "category": st.one_of(st.sampled_from(["full_agreement", "silence", "agree"]), scalars),
        "rationale": st.one_of(nasty_text, scalars),
        "decided_by": scalars,
        "decided_at": scalars,
    },
)


@st.composite
def decisions_bytes(draw: st.DrawFn) -> bytes:
    lines = []
    for _ in range(draw(st.integers(0, 6))):
        kind = draw(st.sampled_from(["obj", "obj", "junk", "list"]))
        if kind == "obj":
            lines.append(json.dumps(draw(decision_obj), default=str))
        elif kind == "junk":
            lines.append(draw(nasty_text).replace("\n", " "))
        else:
            lines.append("[1, 2]")
    text = "\n".join(lines)
    if lines and draw(st.booleans()):
        text = text[: draw(st.integers(0, len(text)))]  # cut short by a crash
    elif lines:
        text += "\n"
    data = text.encode("utf-8")
    if draw(st.integers(0, 9)) == 0:
        data += draw(st.binary(max_size=20))
    return data


@fuzz(100)
@given(worksheet_bytes(), worksheet_bytes(), decisions_bytes())
def test_read_worksheets_and_decisions_never_crash(ws1: bytes, ws2: bytes, dec: bytes) -> None:
    from triangulate.protocol.analysis import build_units, settle

    with scratch() as d:
        write_project(
            d,
            {
                **BASE_PROJECT,
                "reviews/r1.csv": ws1,
                "reviews/r2.csv": ws2,
                "reviews/stranger.csv": ws2,
                "decisions.jsonl": dec,
            },
        )
        loaded = load_project(d)
        assert loaded.project is not None, loaded.findings
        units, _ = build_units(loaded.project)
        findings = read_worksheets(loaded.project, units) + read_decisions(loaded.project, units)
        check_findings(findings)
        cats = set(loaded.project.protocol.category_ids)
        for u in units:
            for code in u.codes.values():
                assert code is None or code.category in cats
            assert all(dd.category in cats for dd in u.decisions)
            settle(u, ["r1", "r2"])
            assert u.final is None or u.final in cats


# ---------------------------------------------------------------------------- whole projects


@st.composite
def project_files(draw: st.DrawFn) -> dict[str, str | bytes]:
    """A small project, valid or nearly so, and sometimes one file replaced by junk."""
    n_sources = draw(st.integers(1, 3))
    kinds = [draw(st.sampled_from(["excerpts", "survey"])) for _ in range(n_sources)]
    exts = [draw(st.sampled_from([".csv", ".csv", ".tsv", ".jsonl"])) for _ in range(n_sources)]
    sids = [f"s{i}" for i in range(n_sources)]
    codes = ["c1", "c2", "c3", "c4"]
    files: dict[str, str | bytes] = {}
    spec = [
        {"id": sid, "kind": k, "path": f"data/{sid}{ext}"} for sid, k, ext in zip(sids, kinds, exts)
    ]
    reviewers = draw(st.sampled_from([[], ["r1"], ["r1", "r2"]]))
    files["triangulate.yaml"] = yaml.safe_dump(
        {
            "title": "F",
            "protocol": draw(st.sampled_from(["blebu-2023", "farmer-2006"])),
            "sources": spec,
            "reviewers": reviewers,
        }
    )
    dims = (
        ["substance", "mechanism"]
        if "blebu" in str(files["triangulate.yaml"])
        else ["meaning", "examples"]
    )
    themes = []
    for t in range(draw(st.integers(0, 3))):
        themes.append(
            {
                "id": f"t{t}",
                "codes": {
                    sid: draw(st.lists(st.sampled_from(codes), max_size=2, unique=True))
                    for sid in sids
                    if draw(st.booleans())
                },
                **({"not_collected": [draw(st.sampled_from(sids))]} if draw(st.booleans()) else {}),
            }
        )
    files["codebook.yaml"] = yaml.safe_dump({"themes": themes})
    tags = st.sampled_from(["", "a", "b", "a;b", " A ; c;", ";"])
    for sid, kind, ext in zip(sids, kinds, exts):
        if kind == "excerpts":
            cols = ["excerpt_id", "participant", "code", "text", *dims]
            rows = [
                [
                    draw(st.sampled_from(["E1", "E2", "E3", ""])),
                    draw(st.sampled_from(["P1", "P2", ""])),
                    draw(st.sampled_from([*codes, "zz", ""])),
                    draw(nasty_text),
                    draw(tags),
                    draw(tags),
                ]
                for _ in range(draw(st.integers(0, 5)))
            ]
        else:
            cols = ["code", "respondents", "endorsed", "percent", "item", *dims]
            rows = [
                [
                    draw(st.sampled_from([*codes, ""])),
                    draw(st.sampled_from(["10", "0", "x", "", "5"])),
                    draw(st.sampled_from(["3", "", "11", "-1", "0"])),
                    draw(st.sampled_from(["", "30", "101", "30%"])),
                    draw(nasty_text),
                    draw(tags),
                    draw(tags),
                ]
                for _ in range(draw(st.integers(0, 5)))
            ]
        if ext == ".jsonl":
            files[f"data/{sid}{ext}"] = "".join(json.dumps(dict(zip(cols, r))) + "\n" for r in rows)
        else:
            files[f"data/{sid}{ext}"] = csv_bytes(
                [cols, *rows], "\t" if ext == ".tsv" else ",", "utf-8", "\n", False
            )
    for r in reviewers:
        if draw(st.booleans()):
            files[f"reviews/{r}.csv"] = draw(worksheet_bytes())
    if draw(st.booleans()):
        files["decisions.jsonl"] = draw(decisions_bytes())
    if draw(st.integers(0, 4)) == 0:  # spoil one file
        victim = draw(st.sampled_from(sorted(files)))
        files[victim] = draw(
            st.one_of(st.binary(max_size=200), yamlish.map(str.encode), st.just(b""))
        )
    return files


@fuzz(150)
@given(project_files())
def test_analyse_path_never_crashes(files: dict[str, str | bytes]) -> None:
    with scratch() as d:
        write_project(d, files)
        try:
            result = analyse_path(d)
        except TriangulateError:
            return
        check_findings(result.findings)
        a = result.analysis
        if a is None:
            assert any(f.is_error for f in result.findings)
            return
        assert sum(a.statuses().values()) == len(a.units)
        assert sum(a.counts().values()) <= len(a.units)
        if not result.has_errors:
            from triangulate.outputs.report import build_report, render_html, render_markdown
            from triangulate.outputs.tabular import (
                matrix_columns,
                matrix_rows,
                sorting_rows,
                summary_json,
                to_csv,
            )

            to_csv(matrix_columns(a), matrix_rows(a))
            sorting_rows(a)
            json.loads(summary_json(a))
            rep = build_report(a)
            assert "<script" not in render_html(rep).lower()  # all source text is escaped
            render_markdown(rep)


@pytest.mark.skipif(
    PROFILE_NAME != "quick", reason="the long profile fuzzes; this only checks the profiles"
)
def test_profiles_are_registered() -> None:
    assert settings.get_profile("quick").max_examples > 0
    assert settings.get_profile("long").max_examples >= settings.get_profile("quick").max_examples


# ---------------------------------------------------------------------------- hostile projects, CLI

RAW_CONTROLS = ("\x1b", "\x07", "\x9b", "\x7f", "\u202e")
HALF_EMOJI = "\ud83d"  # a lone surrogate: json.dumps and yaml.safe_dump write it as an escape
hostile_text = st.one_of(
    nasty_text,
    st.sampled_from([f"half {HALF_EMOJI} emoji", HALF_EMOJI, f"{HALF_EMOJI}\x1b[2J"]),
    st.text(alphabet=st.characters(categories=["Cc", "Cs", "Zl", "Zp", "L"]), max_size=12),
)


@st.composite
def hostile_project(draw: st.DrawFn) -> tuple[dict[str, str | bytes], dict[str, str]]:
    """A project whose texts carry control characters and lone surrogates (through JSON and YAML
    escapes), and whose paths may try to leave the folder: ``..``, absolute, or through symlinks.
    Returns the files and the symlinks to make (name -> target, ``@OUT@`` is the outside folder)."""
    code = draw(st.sampled_from(["c1", "c\x1b[2J", f"c{HALF_EMOJI}", "c;=cmd|' /C calc'!A0"]))
    links: dict[str, str] = {}
    output = draw(st.sampled_from(["out", "out", "../escape-out", "@OUT@/abs-out", "link-out"]))
    if output == "link-out":
        links["link-out"] = "@OUT@"
    codebook = draw(
        st.sampled_from(
            ["codebook.yaml", "codebook.yaml", "../outside-codebook.yaml", "link-cb.yaml"]
        )
    )
    if codebook == "link-cb.yaml":
        links["link-cb.yaml"] = "@OUT@/codebook.yaml"
    survey_path = draw(st.sampled_from(["data/s.jsonl", "data/s.jsonl", "link-data/s.jsonl"]))
    if survey_path.startswith("link-data"):
        links["link-data"] = "@OUT@"
    project = {
        "title": draw(hostile_text),
        "protocol": "blebu-2023",
        "codebook": codebook,
        "sources": [
            {"id": "interviews", "kind": "excerpts", "path": "data/i.jsonl"},
            {"id": "survey", "kind": "survey", "path": survey_path},
        ],
        "reviewers": ["r1"],
        "output": output,
    }
    files: dict[str, str | bytes] = {}
    # yaml.safe_dump escapes control characters and surrogates ("\ud83d"), as a hostile author would
    files["triangulate.yaml"] = yaml.safe_dump(project, allow_unicode=False)
    themes = [
        {
            "id": "t1",
            "label": draw(hostile_text),
            "codes": {"interviews": [code], "survey": ["s1"]},
        },
        {"id": "t2", "definition": draw(hostile_text), "codes": {"interviews": ["c2"]}},
    ]
    files["codebook.yaml"] = yaml.safe_dump({"themes": themes}, allow_unicode=False)
    rows = [
        {
            "excerpt_id": f"E{i}",
            "participant": draw(st.sampled_from(["P1", "P\x1b]0;x\x07", f"P{HALF_EMOJI}"])),
            "code": draw(st.sampled_from([code, "c2", "unsorted\x1b[2J"])),
            "text": draw(hostile_text),
            "substance": draw(st.sampled_from(["a", "", "a;=1+1"])),
            "mechanism": "b",
        }
        for i in range(draw(st.integers(1, 4)))
    ]
    files["data/i.jsonl"] = "".join(json.dumps(r) + "\n" for r in rows)  # ASCII, with \u escapes
    files["data/s.jsonl"] = (
        json.dumps(
            {
                "code": "s1",
                "respondents": 10,
                "endorsed": 4,
                "item": draw(hostile_text),
                "substance": "a",
                "mechanism": "b",
            }
        )
        + "\n"
    )
    if draw(st.booleans()):
        files["decisions.jsonl"] = (
            json.dumps(
                {
                    "theme": "t1",
                    "source_a": "interviews",
                    "source_b": "survey",
                    "category": "full_agreement",
                    "rationale": draw(hostile_text),
                    "decided_by": draw(hostile_text),
                }
            )
            + "\n"
        )
    return files, links


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in folder.rglob("*")
        if p.is_file()
    }


@fuzz(25)
@given(
    hostile_project(),
    st.sampled_from(
        [
            ["run"],
            ["run", "--redact"],
            ["validate", "--format", "github"],
            ["validate", "--format", "json"],
            ["sort"],
        ]
    ),
)
def test_cli_on_hostile_projects_stays_inside_and_never_prints_raw_controls(
    case: tuple[dict[str, str | bytes], dict[str, str]], args: list[str]
) -> None:
    """The issue 13 campaign property: whatever the project holds, a command run on it exits 0, 1
    or 2 (never 3), writes nothing outside the project folder, prints no raw control character,
    and, when ``run`` succeeds, leaves a complete output set (its manifest checks)."""
    import contextlib as _contextlib

    from triangulate.cli import main
    from triangulate.outputs.manifest import check_manifest

    files, links = case
    with scratch() as d:
        root, outside = d / "p", d / "outside"
        outside.mkdir()
        (outside / "codebook.yaml").write_text("themes: [] # SECRET FIRST LINE\n", encoding="utf-8")
        (outside / "s.jsonl").write_text('{"code": "s1", "respondents": 10}\n', encoding="utf-8")
        (d / "outside-codebook.yaml").write_text("SECRET: [\n", encoding="utf-8")
        write_project(
            root,
            {
                k: v.replace("@OUT@", str(outside)) if isinstance(v, str) else v
                for k, v in files.items()
            },
        )
        for name, target in links.items():
            (root / name).symlink_to(target.replace("@OUT@", str(outside)))
        before = _snapshot(d)
        out, err = io.StringIO(), io.StringIO()
        code: Any = 0
        old = os.getcwd()
        try:
            os.chdir(root)
            with _contextlib.redirect_stdout(out), _contextlib.redirect_stderr(err):
                try:
                    main([*args, "."])
                except SystemExit as exc:
                    code = exc.code
        finally:
            os.chdir(old)
        printed = out.getvalue() + err.getvalue()
        assert code in (0, 1, 2, None), printed
        assert "Traceback" not in printed, printed
        for raw in RAW_CONTROLS:
            assert raw not in printed, (repr(raw), printed)
        assert "SECRET" not in printed
        for line in printed.splitlines():
            assert not line.startswith("::error file=codebook.yaml,line=1::FORGED"), line
        after = _snapshot(d)
        changed = {k for k in after if not k.startswith("p/") and before.get(k) != after[k]}
        assert not changed, f"written outside the project: {changed}"
        assert not (d / "escape-out").exists()
        if args[0] == "run" and code in (0, None):
            out_dir = Path(
                os.path.realpath(root / yaml.safe_load(files["triangulate.yaml"])["output"])
            )
            assert check_manifest(out_dir) == [], printed


# Text that mixes the characters the control check treats specially (C0, CR before and without a
# newline, DEL, C1, bidirectional and separator marks, surrogates) with plain and non-ASCII text.
_SPECIAL = "\x00\x07\t\n\r\x0b\x1b\x7f\x80\x9b\x9f\xa0\u200d\u200e\u200f\u202a\u202e\u2028\u2029\u2066\u2069\ud83d"
control_text = st.lists(
    st.one_of(
        st.sampled_from(list(_SPECIAL) + ["\r\n", "\r\r\n"]),
        st.text(max_size=8),
        st.text(alphabet="abc é€😀", max_size=8),
    ),
    max_size=12,
).map("".join)


@fuzz(500)
@given(control_text)
def test_has_controls_agrees_with_its_definition(text: str) -> None:
    """The byte-level fast path of ``has_controls`` answers exactly what its definition says: the
    text, with Windows line breaks taken as newlines, holds a character of the control class
    (C0 but tab and newline, DEL, C1, bidirectional marks, line/paragraph separators)."""
    import re

    from triangulate.text import has_controls

    definition = re.compile(
        "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]"
    )
    assert has_controls(text) == (definition.search(text.replace("\r\n", "\n")) is not None)
