"""One worksheet reader/writer (spec section 7): a saved row keeps the file's encoding, delimiter,
permissions and every other row, because the save reads through the analysis's table reader."""

from __future__ import annotations

import codecs
import csv
import io
import os
import stat
from pathlib import Path

import pytest

from conftest import ProjectBuilder, excerpt, survey
from triangulate.findings import TriangulateError
from triangulate.pipeline import analyse_path
from triangulate.protocol.analysis import Analysis
from triangulate.review.worksheets import save_worksheet_row

SOURCES = [
    {"id": "interviews", "kind": "excerpts", "path": "data/interviews.csv"},
    {"id": "survey", "kind": "survey", "path": "data/survey.csv"},
]
THEMES = [
    {"id": "alpha", "codes": {"interviews": ["a"], "survey": ["a-item"]}},
    {"id": "beta", "codes": {"interviews": ["b"], "survey": ["b-item"]}},
]
DATA = {
    "interviews": [excerpt("E1", "P1", "a", "x", "m"), excerpt("E2", "P2", "b", "y", "n")],
    "survey": [
        survey("a-item", 10, 5, substance="x", mechanism="m"),
        survey("b-item", 10, 2, substance="y", mechanism="q"),
    ],
}
HEADER = ["theme", "source_a", "source_b", "substance", "mechanism", "category", "rationale"]
ALPHA = {
    "theme": "alpha",
    "source_a": "interviews",
    "source_b": "survey",
    "substance": "yes",
    "mechanism": "no",
    "category": "partial_agreement",
    "rationale": "Déjà vu.",
}


def project_with_sheet(builder: ProjectBuilder, raw: bytes) -> Analysis:
    root = builder.write(sources=SOURCES, themes=THEMES, data=DATA, reviewers=["r1"])
    (root / "reviews").mkdir(exist_ok=True)
    (root / "reviews" / "r1.csv").write_bytes(raw)
    result = analyse_path(root)
    assert result.analysis is not None and not result.has_errors, result.findings
    return result.analysis


def sheet_text(delimiter: str, newline: str = "\n") -> str:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator=newline)
    w.writerow(HEADER)
    w.writerow(["alpha", "interviews", "survey", "", "", "", ""])
    # the other unit, coded with the sources the other way round, and a rationale in French
    w.writerow(["beta", "survey", "interviews", "", "", "disagreement", "Café fermé, naïve"])
    return buf.getvalue()


def rows(raw: bytes, encoding: str, delimiter: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(raw.decode(encoding), newline=""), delimiter=delimiter))


@pytest.mark.parametrize(
    ("encoding", "delimiter", "bom"),
    [
        ("utf-8", ",", b""),
        ("utf-8", ";", codecs.BOM_UTF8),
        ("cp1252", ";", b""),  # Excel's "CSV" in a European locale
        ("cp1252", ",", b""),
        ("utf-16-le", "\t", codecs.BOM_UTF16_LE),  # Excel's "Unicode Text"
    ],
)
def test_saved_row_keeps_encoding_delimiter_and_other_rows(
    builder: ProjectBuilder, encoding: str, delimiter: str, bom: bytes
) -> None:
    raw = bom + sheet_text(delimiter).encode(encoding)
    a = project_with_sheet(builder, raw)
    path = save_worksheet_row(a.project, a.units, "r1", ALPHA)
    saved = path.read_bytes()
    assert saved.startswith(bom)
    body = saved[len(bom) :]
    if encoding == "cp1252":
        with pytest.raises(UnicodeDecodeError):
            body.decode("utf-8")  # still Windows-1252, not silently converted
    got = rows(body, encoding, delimiter)
    assert got[0] == HEADER
    assert got[1] == [ALPHA[c] for c in HEADER]
    assert got[2] == ["beta", "survey", "interviews", "", "", "disagreement", "Café fermé, naïve"]
    # the analysis reads the saved file back: both rows coded, accents intact
    again = analyse_path(a.project.root).analysis
    assert again is not None
    codes = {u.theme.id: u.codes["r1"] for u in again.units}
    assert codes["alpha"] is not None and codes["alpha"].rationale == "Déjà vu."
    assert codes["beta"] is not None and codes["beta"].rationale == "Café fermé, naïve"


def test_saved_row_replaces_the_row_named_the_other_way_round(builder: ProjectBuilder) -> None:
    a = project_with_sheet(builder, sheet_text(",").encode("utf-8"))
    beta = {**ALPHA, "theme": "beta", "category": "", "rationale": "again"}
    path = save_worksheet_row(a.project, a.units, "r1", beta)
    got = rows(path.read_bytes(), "utf-8", ",")
    assert len(got) == 3 and got[2][0] == "beta" and got[2][-1] == "again"


def test_saved_row_keeps_the_file_permissions(builder: ProjectBuilder) -> None:
    a = project_with_sheet(builder, sheet_text(",").encode("utf-8"))
    path = a.project.root / "reviews" / "r1.csv"
    os.chmod(path, 0o640)
    save_worksheet_row(a.project, a.units, "r1", ALPHA)
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_cp1252_sheet_that_cannot_hold_the_new_text_becomes_utf8_with_bom(
    builder: ProjectBuilder,
) -> None:
    a = project_with_sheet(builder, sheet_text(";").encode("cp1252"))
    path = save_worksheet_row(a.project, a.units, "r1", {**ALPHA, "rationale": "Győr ✓"})
    saved = path.read_bytes()
    assert saved.startswith(codecs.BOM_UTF8)
    got = rows(saved[3:], "utf-8", ";")
    assert got[1][-1] == "Győr ✓" and got[2][-1] == "Café fermé, naïve"


def test_sheet_that_cannot_be_read_back_whole_is_not_rewritten(builder: ProjectBuilder) -> None:
    a = project_with_sheet(builder, sheet_text(",").encode("utf-8"))
    path = a.project.root / "reviews" / "r1.csv"
    spoiled = path.read_bytes() + b"beta,interviews,survey,,,,,stray,cells\n"  # a ragged row
    path.write_bytes(spoiled)
    with pytest.raises(TriangulateError) as err:
        save_worksheet_row(a.project, a.units, "r1", ALPHA)
    assert [f.code for f in err.value.findings] == ["data.ragged-row"]
    assert path.read_bytes() == spoiled  # nothing lost


def test_missing_sheet_is_created_blank_then_saved(builder: ProjectBuilder) -> None:
    root = builder.write(sources=SOURCES, themes=THEMES, data=DATA, reviewers=["r1"])
    a = analyse_path(root).analysis
    assert a is not None
    path = save_worksheet_row(a.project, a.units, "r1", ALPHA)
    got = rows(path.read_bytes(), "utf-8", ",")
    assert got[0] == HEADER and got[1][-1] == "Déjà vu." and got[2][0] == "beta"


def test_the_walk_saves_into_a_cp1252_sheet(builder: ProjectBuilder, tmp_path: Path) -> None:
    """The crash of issue 9, in process: code_loop driven by a scripted ``ask``."""
    from rich.console import Console

    from triangulate.cli.walks import code_loop

    a = project_with_sheet(builder, sheet_text(";").encode("cp1252"))
    answers = iter(["y", "n", "Déjà vu.", "q"])
    out = io.StringIO()
    coded, _left = code_loop(
        a, "r1", Console(file=out, width=120), lambda _prompt: next(answers), redo=True
    )
    assert coded == 1, out.getvalue()
    saved = (a.project.root / "reviews" / "r1.csv").read_bytes()
    got = rows(saved, "cp1252", ";")
    assert got[1][3:] == ["yes", "no", "partial_agreement", "Déjà vu."]
    assert got[2][-1] == "Café fermé, naïve"


@pytest.mark.pty
@pytest.mark.slow
def test_converge_redo_saves_into_an_excel_cp1252_sheet_in_a_terminal(
    builder: ProjectBuilder,
) -> None:
    """Issue 9: a worksheet saved by Excel as 'CSV' (Windows-1252, "café") made
    ``triangulate converge P --reviewer r1 --redo`` exit 3 on the first save."""
    pexpect = pytest.importorskip("pexpect")
    import sys

    a = project_with_sheet(builder, sheet_text(";", newline="\r\n").encode("cp1252"))
    root = a.project.root
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "160", "LINES": "50"}
    child = pexpect.spawn(
        sys.executable,
        ["-m", "triangulate", "converge", ".", "--reviewer", "r1", "--redo", "-q"],
        cwd=str(root),
        env=env,
        encoding="utf-8",
        timeout=30,
        dimensions=(50, 160),
    )
    child.expect(r"\[1/2\] alpha")
    child.expect("substance .* converges")
    child.sendline("y")
    child.expect("mechanism .* converges")
    child.sendline("n")
    child.expect("Rationale")
    child.sendline("Déjà vu.")
    child.expect("Saved: partial_agreement")
    child.expect(r"\[2/2\] beta")
    child.expect("converges")
    child.sendline("q")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0, child.before
    saved = (root / "reviews" / "r1.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        saved.decode("utf-8")
    got = rows(saved, "cp1252", ";")
    assert got[1] == [ALPHA[c] for c in HEADER]
    assert got[2] == ["beta", "survey", "interviews", "", "", "disagreement", "Café fermé, naïve"]
