"""The .jsonl reader (blocks of lines, msgspec where it gives what json gives) reads exactly what the
line-by-line reader it replaced read: the same columns, cells, row (line) numbers and findings, on
any bytes (issue 14). That reader is kept here, unchanged, as the oracle."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from triangulate.findings import Finding, Location, error
from triangulate.inputs import scrub_json_line
from triangulate.sources import tables
from triangulate.sources.tables import (
    _STR,
    Table,
    _cell_text,
    decode_text,
    ensure_rows,
    read_table,
)

# ----------------------------------------------------------------------------- the oracle

_JSON_SPACE = " \t\r\n"


def _json_scanner() -> Any:
    from json import scanner

    return scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]


def oracle_read_jsonl(
    raw: bytes, shown: str, rows: bool = True
) -> tuple[Table | None, list[Finding]]:
    """The reader as it was before the block reader (commit a363a00), verbatim."""
    text, encoding, findings = decode_text(raw, shown)
    if text is None:
        return None, findings
    scan = _json_scanner()
    linenos: list[int] = []
    objs: list[dict[str, Any]] = []
    lines = text.splitlines()
    for lineno, line in enumerate(lines, start=1):
        s = line.strip(_JSON_SPACE)
        if not s or not s.strip():  # a blank line (any white space), skipped
            continue
        try:
            obj, end = scan(s, 0)
            ok = end == len(s)
        except (StopIteration, ValueError, RecursionError):
            ok = False
        if not ok:
            try:
                obj = json.loads(line)  # for its message (or it is valid after all)
            except (
                ValueError,
                RecursionError,
            ) as exc:  # JSONDecodeError, or an integer too long to convert
                msg = getattr(
                    exc,
                    "msg",
                    "too deeply nested"
                    if isinstance(exc, RecursionError)
                    else "a number is too long",
                )
                findings.append(
                    error(
                        "data.bad-json",
                        f"line is not valid JSON ({msg}); make it one JSON object or remove it",
                        Location(shown, line=lineno),
                    )
                )
                continue
        if "\\u" in line:  # only an escape can give half a character (checked per line: cheap)
            obj, scrubbed = scrub_json_line(obj, line, Location(shown, line=lineno))
            findings += scrubbed
        if obj.__class__ is not dict and not isinstance(obj, dict):
            findings.append(
                error(
                    "data.bad-json",
                    "line is not a JSON object ({...}); each line must be one record",
                    Location(shown, line=lineno),
                )
            )
            continue
        objs.append(obj)
        linenos.append(lineno)
    del lines, text
    if not objs:
        if not findings:
            findings.append(error("data.empty", "the file has no JSON objects", Location(shown)))
        return None, findings
    first = objs[0].keys()
    uniform = len(first) > 1 and all(obj.keys() == first for obj in objs)
    if uniform:  # every record has the same keys (the usual export): one C-level pass
        from operator import itemgetter

        columns = list(first)
        raw_cols: list[Any] = list(zip(*map(itemgetter(*columns), objs)))
    else:
        columns = list(dict.fromkeys(k for obj in objs for k in obj))
        raw_cols = [[obj.get(c) for obj in objs] for c in columns]
    del objs
    cells: list[Any] = []
    for col in raw_cols:
        if not set(map(type, col)) <= _STR:
            col = [
                v
                if isinstance(v, str)
                else json.dumps(v)
                if isinstance(v, (dict, list))
                else _cell_text(v)
                for v in col
            ]
        cells.append(col)
    del raw_cols
    table = Table(shown, columns, line_based=True, encoding=encoding)
    table.by_column = cells
    table.row_numbers = linenos
    if rows:
        ensure_rows(table)
    return table, findings


# ----------------------------------------------------------------------------- comparing


def summary(result: tuple[Table | None, list[Finding]]) -> Any:
    table, findings = result
    found = [(f.code, f.severity, f.location, f.message) for f in findings]
    if table is None:
        return None, found
    return (
        table.file,
        table.columns,
        [list(c) for c in table.by_column or []],
        table.rows,
        table.row_numbers,
        table.line_based,
        table.lines,
        table.encoding,
        table.delimiter,
    ), found


def read_new(
    path: Path, monkeypatch: pytest.MonkeyPatch, block: int, rows: bool, careful: bool = False
) -> tuple[Table | None, list[Finding]]:
    monkeypatch.setattr(tables, "JSONL_BLOCK", block)
    if careful:
        monkeypatch.setenv("TRIANGULATE_JSONL_READER", "json")
    else:
        monkeypatch.delenv("TRIANGULATE_JSONL_READER", raising=False)
    return read_table(path, "d/x.jsonl", rows=rows)


# ----------------------------------------------------------------------------- random JSONL

KEYS = ["excerpt_id", "participant", "code", "text", "substance"]
# pieces of a JSON string literal's body: plain characters and escapes, some of them invalid
STRING_PIECES = st.sampled_from(
    [
        "a",
        "P1",
        " ",
        ";",
        "x;Y",
        "é",
        "😀",
        "\u2028",  # a line break to str.splitlines, plain text to JSON
        "\x85",
        "\x7f",
        "\x1c",  # a line break to splitlines, invalid raw in a JSON string
        "\t",  # invalid raw in a JSON string
        '\\"',
        "\\\\",
        "\\/",
        "\\n",
        "\\t",
        "\\u00e9",
        "\\u00E9",
        "\\ud83d\\ude00",  # a surrogate pair: one emoji
        "\\ud800",  # lone surrogates: read as U+FFFD with a warning
        "\\udc00",
        "\\ude00\\ud83d",
        "\\x",  # invalid escape
        "\\u12",  # truncated escape
    ]
)
STRING = st.lists(STRING_PIECES, max_size=4).map(lambda parts: '"' + "".join(parts) + '"')
PLAIN_STRING = st.lists(st.sampled_from(["a", "P1", " ", "x;Y", "é", "\\u00e9"]), max_size=3).map(
    lambda parts: '"' + "".join(parts) + '"'
)
OTHER_VALUE = st.sampled_from(
    [
        "null",
        "true",
        "false",
        "0",
        "-2.5",
        "1e400",
        "1E2",
        "12345678901234567890",
        "NaN",
        "-Infinity",
        '[1, "x", {"n": null}]',
        '{"n": [1.0, "\\ud800"]}',
        "{}",
        "[]",
    ]
)
KEY = st.sampled_from([*KEYS, "a b", "", "k\\u0065y", "\\ud800"])


@st.composite
def record(draw: st.DrawFn, keys: list[str]) -> str:
    """One object line: mostly the file's usual keys with string values, sometimes not."""
    pairs = [
        (k, draw(st.one_of(PLAIN_STRING, PLAIN_STRING, PLAIN_STRING, STRING, OTHER_VALUE)))
        for k in keys
    ]
    change = draw(st.integers(0, 9))
    if change == 0 and pairs:  # a key left out
        del pairs[draw(st.integers(0, len(pairs) - 1))]
    elif change == 1:  # a key more (or one twice)
        pairs.insert(draw(st.integers(0, len(pairs))), (draw(KEY), draw(STRING)))
    elif change == 2:  # the same keys in another order
        random.Random(draw(st.integers(0, 99))).shuffle(pairs)
    space = draw(st.sampled_from(["", "", " ", "\t", "\r"]))
    sep = draw(st.sampled_from([", ", ",", " , "]))
    body = sep.join(f'"{k}": {v}' for k, v in pairs)
    return space + "{" + body + "}" + draw(st.sampled_from(["", "", " ", "\r"]))


@st.composite
def jsonl_line(draw: st.DrawFn, keys: list[str]) -> str:
    kind = draw(st.integers(0, 19))
    if kind <= 13:
        return draw(record(keys))
    return draw(
        st.sampled_from(
            [
                "",
                "  ",
                "\t",
                "\u3000",  # white space to str.strip, not to JSON
                '{"code": ',
                "[1, 2]",
                '"just text"',
                "3",
                "{} {}",
                "{}",
                "{" * 3000 + "}" * 3000,  # deeper than json's recursion limit
                '{"code": 1' + "0" * 5000 + "}",  # an integer too long to convert
            ]
        )
    )


@st.composite
def jsonl_bytes(draw: st.DrawFn) -> bytes:
    keys = draw(st.lists(st.sampled_from(KEYS), min_size=1, max_size=5, unique=True))
    lines = draw(st.lists(jsonl_line(keys), max_size=25))
    if draw(st.booleans()):  # ASCII only (as json.dumps writes), which is split as bytes
        lines = [line.encode("ascii", "ignore").decode("ascii") for line in lines]
    newline = draw(st.sampled_from(["\n", "\n", "\r\n", "\r"]))
    text = newline.join(lines) + draw(st.sampled_from(["", newline, newline * 2]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8", "utf-8-sig", "utf-16"]))
    try:
        raw = text.encode(encoding)
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "surrogatepass")
    spice = draw(st.sampled_from([b"", b"", b"", b"\xe9", b"\x81", b"\x00"]))
    if spice and lines:  # a byte that is not UTF-8 (Windows-1252, or neither), or a NUL
        at = draw(st.integers(0, len(raw)))
        raw = raw[:at] + spice + raw[at:]
    return raw


@settings(
    max_examples=400,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    raw=jsonl_bytes(),
    block=st.sampled_from([1, 16, 64, 300, 1 << 18]),
    rows=st.booleans(),
    trial=st.sampled_from([1, 3, 5000]),  # cells read before a column stops sharing repeated values
)
def test_block_reader_reads_what_the_line_reader_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, raw: bytes, block: int, rows: bool, trial: int
) -> None:
    monkeypatch.setattr(tables, "_MEMO_TRIAL", trial)
    path = tmp_path / "x.jsonl"
    path.write_bytes(raw)
    want = summary(oracle_read_jsonl(raw, "d/x.jsonl", rows))
    assert summary(read_new(path, monkeypatch, block, rows)) == want
    assert summary(read_new(path, monkeypatch, block, rows, careful=True)) == want


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(raw=jsonl_bytes(), keep=st.lists(st.sampled_from([*KEYS, "a b", "zz"]), max_size=3))
def test_columns_not_kept_are_left_empty(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, raw: bytes, keep: list[str]
) -> None:
    path = tmp_path / "x.jsonl"
    path.write_bytes(raw)
    monkeypatch.setattr(tables, "JSONL_BLOCK", 64)
    whole, whole_findings = read_table(path, "x.jsonl", rows=False)
    part, part_findings = read_table(path, "x.jsonl", rows=False, keep=keep)
    assert part_findings == whole_findings
    if whole is None:
        assert part is None
        return
    assert part is not None
    assert (part.columns, part.row_numbers) == (whole.columns, whole.row_numbers)
    assert whole.by_column is not None and part.by_column is not None
    for name, cells, all_cells in zip(whole.columns, part.by_column, whole.by_column):
        assert list(cells) == (list(all_cells) if name in keep else [""] * len(all_cells))


def test_a_large_uniform_file_is_read_in_blocks_by_msgspec(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The usual export: every block but the first is decoded by msgspec (a block that fell back
    to json would still read the same; this checks that the fast path is taken)."""
    lines = [
        json.dumps({"excerpt_id": f"E{i}", "participant": f"P{i % 7}", "code": "c", "text": "é"})
        for i in range(3000)
    ]
    lines[1500] = ""  # an empty line: skipped, the others of its block still decoded together
    path = tmp_path / "x.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setattr(tables, "JSONL_BLOCK", 4096)
    decoded: list[int] = []
    real = tables._FastRecords.records

    def counting(self: Any, block: list[str]) -> Any:
        recs = real(self, block)
        decoded.append(-1 if recs is None else len(recs))
        return recs

    monkeypatch.setattr(tables._FastRecords, "records", counting)
    table, findings = read_table(path, "x.jsonl")
    assert table is not None and findings == []
    assert len(decoded) > 10 and -1 not in decoded
    assert sum(decoded) >= len(table.row_numbers) - 2  # the first piece (64 bytes) by json
    assert table.row_numbers == [n for n in range(1, 3001) if n != 1501]
    assert summary((table, findings)) == summary(
        oracle_read_jsonl(path.read_bytes(), "x.jsonl", True)
    )


def test_consecutive_row_numbers_are_held_as_a_range() -> None:
    assert tables.consecutive([2, 3, 4]) == range(2, 5)
    assert isinstance(tables.consecutive([2, 3, 4]), range)
    assert tables.consecutive([2, 4, 5]) == [2, 4, 5]  # a blank or bad line between
    assert tables.consecutive([]) == []


@pytest.mark.parametrize(
    "raw",
    [
        b'{"a": "x"}\n{"a": "y"}\n',
        b'\xef\xbb\xbf{"a": "x"}\r\n{"a": "\xc3\xa9"}',  # UTF-8 with a BOM, read piece by piece
        b'{"a": "\xe9"}\n',  # Windows-1252: read whole
        '{"a": "x"}\n'.encode("utf-16"),
    ],
)
def test_the_digest_remembered_is_that_of_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, raw: bytes
) -> None:
    import hashlib

    from triangulate import digests

    monkeypatch.setattr(tables, "JSONL_BLOCK", 8)
    path = tmp_path / "x.jsonl"
    path.write_bytes(raw)
    table, _ = read_table(path, "x.jsonl")
    assert table is not None
    key = digests._key(path)
    assert key is not None
    assert digests._known[key] == hashlib.sha256(raw).hexdigest()


@pytest.mark.parametrize("brk", ["\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\r", "\x85", "\u2028"])
@pytest.mark.parametrize("block", [1, 16, 1 << 18])
def test_a_line_break_inside_a_value_counts_as_json_counted_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, brk: str, block: int
) -> None:
    """str.splitlines breaks lines at these too: the records after such a line keep the line
    numbers the line reader gave them (the fast paths split at line feeds only)."""
    text = '{"a": "x"}\n{"a": "y"}\n{"a": "p' + brk + 'q"}\n{"a": "z"}\r\n{"a": "w"}\n'
    raw = text.encode("utf-8")
    path = tmp_path / "x.jsonl"
    path.write_bytes(raw)
    want = summary(oracle_read_jsonl(raw, "d/x.jsonl", True))
    assert summary(read_new(path, monkeypatch, block, True)) == want
