"""The interactive commands in a real pseudo-terminal: answers, quitting, Ctrl-C, kill -9, resume."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path

import pytest

from conftest import ProjectBuilder, ctrl_c_as_in_a_terminal, excerpt, read_csv, run_cli, survey

pexpect = pytest.importorskip("pexpect")

pytestmark = [pytest.mark.pty, pytest.mark.slow]

SOURCES = [
    {"id": "interviews", "kind": "excerpts", "path": "data/interviews.csv"},
    {"id": "survey", "kind": "survey", "path": "data/survey.csv"},
]
THEMES = [
    {
        "id": "alpha",
        "label": "Alpha theme",
        "definition": "The first theme.",
        "codes": {"interviews": ["a"], "survey": ["a-item"]},
    },
    {"id": "beta", "label": "Beta theme", "codes": {"interviews": ["b"], "survey": ["b-item"]}},
    {"id": "gamma", "label": "Gamma theme", "codes": {"interviews": ["g"]}},
]
DATA = {
    "interviews": [
        excerpt("E1", "P1", "a", "x", "m", text="Alpha words from P1."),
        excerpt("E2", "P2", "b", "y", "n", text="Beta words from P2."),
        excerpt("E3", "P1", "g", "z", "o", text="Gamma words."),
        *[
            excerpt(f"E{i}", f"P{i}", "a", "x", "m", text=f"More alpha number {i}.")
            for i in range(4, 9)
        ],
    ],
    "survey": [
        survey("a-item", 10, 5, substance="x", mechanism="m", item="Alpha item"),
        survey("b-item", 10, 2, substance="y", mechanism="q"),
    ],
}


def row(theme: str, category: str = "", why: str = "") -> dict[str, str]:
    return {
        "theme": theme,
        "source_a": "interviews",
        "source_b": "survey",
        "category": category,
        "rationale": why,
    }


DISPUTED = {
    "r1": [
        row("alpha", "full_agreement", "r1 says full"),
        row("beta", "partial_agreement", "r1 says partial"),
        row("gamma", "silence"),
    ],
    "r2": [
        row("alpha", "partial_agreement", "r2 says partial"),
        row("beta", "disagreement", "r2 says none"),
        row("gamma", "silence"),
    ],
}


def spawn(args: list[str], cwd: Path) -> pexpect.spawn:
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "160", "LINES": "50"}
    return pexpect.spawn(
        sys.executable,
        ["-m", "triangulate", *args],
        cwd=str(cwd),
        env=env,
        encoding="utf-8",
        timeout=30,
        dimensions=(50, 160),
        preexec_fn=ctrl_c_as_in_a_terminal,
    )


def decisions(root: Path) -> list[dict[str, str]]:
    p = root / "decisions.jsonl"
    return [json.loads(line) for line in p.read_text().splitlines()] if p.exists() else []


def test_review_decides_kill9_and_resume(builder: ProjectBuilder) -> None:
    root = builder.write(
        sources=SOURCES, themes=THEMES, data=DATA, reviewers=["r1", "r2"], worksheets=DISPUTED
    )
    child = spawn(["review", ".", "--as", "ada", "-q"], root)
    child.expect(r"\[1/2\] Alpha theme")
    child.expect("r1: full_agreement")
    child.expect("r2: partial_agreement")
    child.expect("Final category")
    child.sendline("7")  # not a category: asked again
    child.expect("Not a category")
    child.expect("Final category")
    child.sendline("2")
    child.expect("Rationale")
    child.sendline("")  # empty rationale refused
    child.expect("rationale needs at least 3 characters")
    child.sendline("Mechanism differs.")
    child.expect("Saved: partial_agreement")
    child.expect(r"\[2/2\] Beta theme")
    child.expect("Final category")
    # The first decision is on disk before the second question is shown.
    assert [d["category"] for d in decisions(root)] == ["partial_agreement"]
    child.kill(signal.SIGKILL)
    child.close()
    assert child.signalstatus == signal.SIGKILL
    saved = decisions(root)
    assert len(saved) == 1 and saved[0]["theme"] == "alpha" and saved[0]["decided_by"] == "ada"

    # Restart: resumes at the first undecided unit (beta), the walk still counts alpha.
    child = spawn(["review", ".", "--as", "ada", "-q"], root)
    child.expect(r"1 of 2 unit\(s\) undecided")
    child.expect(r"\[2/2\] Beta theme")
    child.expect("Final category")
    child.sendline("disagreement")
    child.expect("Rationale")
    child.sendline("Neither dimension meets.")
    child.expect("0 still undecided")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert [(d["theme"], d["category"]) for d in decisions(root)] == [
        ("alpha", "partial_agreement"),
        ("beta", "disagreement"),
    ]
    out = run_cli(["run", str(root), "-q"])
    assert out.exit_code == 0, out
    summary = json.loads((root / "out" / "summary.json").read_text())
    assert summary["statuses"]["adjudicated"] == 2 and summary["disputed"] == 0


def test_review_ctrl_c_exits_130_and_keeps_decisions(builder: ProjectBuilder) -> None:
    root = builder.write(
        sources=SOURCES, themes=THEMES, data=DATA, reviewers=["r1", "r2"], worksheets=DISPUTED
    )
    child = spawn(["review", ".", "--as", "ada", "-q"], root)
    child.expect("Final category")
    child.sendline("1")
    child.expect("Rationale")
    child.sendline("Both dimensions meet.")
    child.expect(r"\[2/2\]")
    child.expect("Final category")
    child.sendintr()
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 130
    assert "Traceback" not in (child.before or "")
    assert [d["category"] for d in decisions(root)] == ["full_agreement"]


def test_review_revision_appends_a_superseding_line(builder: ProjectBuilder) -> None:
    first = {
        "theme": "alpha",
        "source_a": "interviews",
        "source_b": "survey",
        "category": "full_agreement",
        "rationale": "first",
        "decided_by": "ada",
        "decided_at": "2026-01-01T00:00:00+00:00",
    }
    root = builder.write(
        sources=SOURCES,
        themes=THEMES,
        data=DATA,
        reviewers=["r1", "r2"],
        worksheets=DISPUTED,
        decisions=[first],
    )
    before = (root / "decisions.jsonl").read_bytes()
    child = spawn(["review", ".", "--as", "bo", "--revise", "--theme", "alpha", "-q"], root)
    child.expect("Current decision: full_agreement by ada")
    child.expect("Final category")
    child.sendline("2")
    child.expect("Rationale")
    child.sendline("On reflection, partial.")
    child.expect("Saved")
    child.expect(r"\[2/2\]")
    child.sendline("q")
    child.expect(pexpect.EOF)
    child.close()
    data = (root / "decisions.jsonl").read_bytes()
    assert data.startswith(before)  # never rewritten in place, only appended to
    lines = decisions(root)
    assert [d["category"] for d in lines] == ["full_agreement", "partial_agreement"]
    run_cli(["run", str(root), "-q"])
    matrix = read_csv(root / "out" / "convergence_matrix.csv")
    alpha = next(r for r in matrix if r["theme"] == "alpha")
    assert (alpha["final"], alpha["status"], alpha["rationale"]) == (
        "partial_agreement",
        "adjudicated",
        "On reflection, partial.",
    )


def test_converge_reviewer_codes_quits_and_resumes_blind(builder: ProjectBuilder) -> None:
    sheets = {"r2": [row("alpha", "disagreement", "SECRET-R2-RATIONALE")]}
    root = builder.write(
        sources=SOURCES, themes=THEMES, data=DATA, reviewers=["r1", "r2"], worksheets=sheets
    )
    child = spawn(["converge", ".", "--reviewer", "r1", "-q"], root)
    child.expect(r"3 of 3 unit\(s\) to code")
    child.expect(r"\[1/3\] Alpha theme")
    child.expect("Definition: The first theme.")
    child.expect("substance .* converges")
    assert "Proposal" not in (child.before or "")  # blind by default (spec section 7)
    child.sendline("a")  # show every excerpt
    child.expect("More alpha number 8")
    child.expect("substance .* converges")
    child.sendline("y")
    child.expect("mechanism .* converges")
    child.sendline("n")
    child.expect("The rule gives: partial_agreement")
    child.expect("Rationale")
    child.sendline("Mechanism differs.")
    child.expect("Saved: partial_agreement")
    child.expect(r"\[2/3\] Beta theme")
    child.expect("converges")
    child.sendline("q")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    transcript = child.before or ""
    sheet = read_csv(root / "reviews" / "r1.csv")
    alpha = next(r for r in sheet if r["theme"] == "alpha")
    assert (alpha["substance"], alpha["mechanism"], alpha["category"], alpha["rationale"]) == (
        "yes",
        "no",
        "partial_agreement",
        "Mechanism differs.",
    )
    assert len(sheet) == 3  # the blank worksheet lists every unit

    child = spawn(["converge", ".", "--reviewer", "r1", "-q"], root)
    log: list[str] = []
    child.expect(r"2 of 3 unit\(s\) to code")
    child.expect(r"\[2/3\] Beta theme")
    log.append(child.before)
    child.expect("converges")
    child.sendline("c")
    child.expect("Category")
    child.sendline("3")
    child.expect("Rationale")
    child.sendline("")
    child.expect(r"\[3/3\] Gamma theme")
    child.expect("Category")
    child.sendline("")  # Enter: the one-source category
    child.expect("Rationale")
    child.sendline("Only interviews.")
    child.expect("0 still to code")
    child.expect(pexpect.EOF)
    log.append(child.before)
    child.close()
    sheet = {r["theme"]: r for r in read_csv(root / "reviews" / "r1.csv")}
    assert sheet["beta"]["category"] == "disagreement" and sheet["gamma"]["category"] == "silence"
    # Blind: r2's codes and rationale never appear on r1's screen.
    assert "SECRET-R2-RATIONALE" not in transcript + "".join(log)
    assert "r2:" not in transcript + "".join(log)


def test_interactive_commands_need_a_terminal(builder: ProjectBuilder) -> None:
    root = builder.write(
        sources=SOURCES, themes=THEMES, data=DATA, reviewers=["r1", "r2"], worksheets=DISPUTED
    )
    for args in (["review", str(root), "--as", "ada"], ["converge", str(root), "--reviewer", "r1"]):
        out = run_cli(args, input="")
        assert out.exit_code == 2, out
        assert "terminal" in out.stderr and "Traceback" not in out.stderr
    assert not (root / "decisions.jsonl").exists()
    # The terminal is checked first, before the analysis (which can take seconds).
    out = run_cli(["converge", str(root), "--reviewer", "nobody"], input="")
    assert out.exit_code == 2 and "terminal" in out.stderr, out
    child = spawn(["converge", ".", "--reviewer", "nobody", "-q"], root)
    child.expect("not a reviewer")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 2


# --- issue 12: the walks at 80x24 -------------------------------------------------------------

ANSI = __import__("re").compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")
LONG_WORD = "Supercalifragilistic" * 8 + "END"


def spawn_small(args: list[str], cwd: Path) -> pexpect.spawn:
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("COLUMNS", None)
    env.pop("LINES", None)
    return pexpect.spawn(
        sys.executable,
        ["-m", "triangulate", *args],
        cwd=str(cwd),
        env=env,
        encoding="utf-8",
        timeout=30,
        dimensions=(24, 80),
        preexec_fn=ctrl_c_as_in_a_terminal,
    )


def screen_before_prompt(child: pexpect.spawn, prompt: str) -> list[str]:
    """The lines printed since the last screen clear, up to ``prompt`` (ANSI removed)."""
    child.expect(prompt)
    text = child.before or ""
    text = text[text.rfind("\x1b[2J") :] if "\x1b[2J" in text else text
    text = ANSI.sub("", text)
    return text.replace("\r\n", "\n").split("\n")


def big_project(builder: ProjectBuilder) -> Path:
    long_definition = " ".join(["A long definition of the first theme that goes on."] * 8)
    themes = [dict(THEMES[0], definition=long_definition), *THEMES[1:]]
    data = {
        "interviews": [
            excerpt("E1", "P1", "a", "x", "m", text=f"Starts with {LONG_WORD} and more."),
            *[
                excerpt(f"E{i}", f"P{i}", "a", "x", "m", text=" ".join([f"Alpha {i}."] * 30))
                for i in range(2, 40)
            ],
            excerpt("E90", "P2", "b", "y", "n", text="Beta words."),
            excerpt("E91", "P1", "g", "z", "o", text="Gamma words."),
        ],
        "survey": DATA["survey"],
    }
    return builder.write(
        sources=SOURCES, themes=themes, data=data, reviewers=["r1", "r2"], worksheets=DISPUTED
    )


@pytest.mark.pty
def test_one_unit_fits_80x24_and_controls_at_the_rationale_prompt(builder: ProjectBuilder) -> None:
    root = big_project(builder)
    (root / "reviews" / "r1.csv").unlink()
    child = spawn_small(["converge", ".", "--reviewer", "r1", "-q"], root)
    lines = screen_before_prompt(child, r"substance \(Substantive description\) converges\?")
    assert len(lines) <= 23, "\n".join(lines)  # with the prompt: one 24-line screen
    shown = "\n".join(lines)
    assert "[1/3] Alpha theme" in shown and "Definition: A long definition" in shown
    assert "…" in shown  # cut visibly, never silently
    assert "+36 more (a: all" in shown
    child.sendline("a")  # the first page of full excerpts, header still on screen
    lines = screen_before_prompt(child, r"substance \(Substantive description\) converges\?")
    shown = "\n".join(lines)
    assert "[1/3] Alpha theme" in shown and "excerpts page 1/" in shown
    assert "END" in shown  # the long word is wrapped (folded), not cut
    assert LONG_WORD[:60] in "".join(line.strip() for line in lines)
    child.sendline("?")
    child.expect("Categories")
    child.expect("Both sources describe the factor")  # a category's definition
    child.expect("What the factor is")  # a dimension's description
    child.sendline("")
    child.expect("substance .* converges")
    child.sendline("y")
    child.expect("mechanism .* converges")
    child.sendline("y")
    child.expect("Rationale")
    child.sendline("full_agreement")  # a category id is not a rationale
    child.expect("is a category id")
    child.expect("Rationale")
    child.sendline("b")  # back: a control, never saved as the rationale
    child.expect(r"\[1/3\] Alpha theme")
    child.expect("substance .* converges")
    assert not (root / "reviews" / "r1.csv").exists()
    child.sendline("c")
    child.expect("Category")
    child.sendline("2")
    child.expect("Rationale")
    child.sendeof()  # Ctrl-D at the rationale prompt: the unit is cancelled, nothing saved
    child.expect("not saved")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert not (root / "reviews" / "r1.csv").exists()


@pytest.mark.pty
def test_review_shows_each_reviewers_judgements_and_ctrl_d_saves_nothing(
    builder: ProjectBuilder,
) -> None:
    sheets = {
        "r1": [dict(row("alpha", "", "x"), substance="yes", mechanism="yes")],
        "r2": [dict(row("alpha", "", "x"), substance="yes", mechanism="no")],
    }
    root = builder.write(
        sources=SOURCES, themes=THEMES, data=DATA, reviewers=["r1", "r2"], worksheets=sheets
    )
    child = spawn_small(["review", ".", "--as", "ada", "-q"], root)
    child.expect("r1: full_agreement \\(from the judgements; substance yes, mechanism yes\\)")
    child.expect("r2: partial_agreement \\(from the judgements; substance yes, mechanism no\\)")
    child.expect("Final category")
    child.sendline("2")
    child.expect("Rationale")
    child.sendline("q")  # quits, never saved as "q"
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert decisions(root) == []
    child = spawn_small(["review", ".", "--as", "ada", "-q"], root)
    child.expect("Final category")
    child.sendline("2")
    child.expect("Rationale")
    child.sendeof()
    child.expect(pexpect.EOF)
    child.close()
    assert decisions(root) == []


@pytest.mark.pty
def test_review_refuses_before_asking_when_decisions_cannot_be_appended(
    builder: ProjectBuilder,
) -> None:
    """Issue 13 item 8: an immutable decisions.jsonl (chattr +i; root ignores permissions)."""
    import shutil
    import subprocess

    root = builder.write(
        sources=SOURCES, themes=THEMES, data=DATA, reviewers=["r1", "r2"], worksheets=DISPUTED
    )
    path = root / "decisions.jsonl"
    path.write_text("")
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", str(path)]).returncode != 0:
        pytest.skip("chattr +i is not available here")
    try:
        child = spawn_small(["review", ".", "--as", "ada", "-q"], root)
        child.expect("cannot be appended")
        child.expect(pexpect.EOF)
        out = child.before or ""
        child.close()
    finally:
        subprocess.run([chattr, "-i", str(path)])
    assert child.exitstatus == 2 and "Final category" not in out
