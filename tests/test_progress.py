"""Progress reporting: the library calls back and never prints; the CLI draws a bar only on a terminal."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from triangulate.cli import commands as cli
from triangulate.outputs.write import write_all
from triangulate.pipeline import analyse_path
from triangulate.project.paths import ALL_OUTPUTS

REPO = Path(__file__).resolve().parents[1]


def _project(tmp_path: Path) -> Path:
    out = tmp_path / "p"
    subprocess.run(
        [
            sys.executable,
            str(REPO / "benchmarks" / "generate.py"),
            str(out),
            "--codings",
            "400",
            "--themes",
            "6",
            "--survey",
            "--seed",
            "2",
        ],
        check=True,
        timeout=60,
    )
    return out


def test_the_library_reports_reading_and_writing_through_the_callback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(
        "TRIANGULATE_FAST_READ_MIN_BYTES", "0"
    )  # small files take the fast reader too
    project = _project(tmp_path)
    calls: list[tuple[str, int, int]] = []
    result = analyse_path(
        project, progress=lambda task, done, total: calls.append((task, done, total))
    )
    assert result.analysis is not None
    reading = [c for c in calls if c[0] == "reading data/interviews_1.csv"]
    assert reading[0][1] == 0 and reading[-1][1] == reading[-1][2] > 0
    calls.clear()
    write_all(
        result.analysis,
        project / "out",
        progress=lambda task, done, total: calls.append((task, done, total)),
    )
    assert calls[0] == ("writing outputs", 0, len(ALL_OUTPUTS)) and calls[-1] == (
        "writing outputs",
        len(ALL_OUTPUTS),
        len(ALL_OUTPUTS),
    )
    assert capsys.readouterr() == ("", "")


def test_the_bar_stays_hidden_off_a_terminal_and_for_quick_steps(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
    bar = cli._ProgressBar()
    bar("reading x", 1, 10)
    assert bar._progress is None
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    monkeypatch.setenv("TERM", "xterm")
    bar = cli._ProgressBar()
    bar("reading x", 1, 10)  # under a second: nothing drawn yet
    assert bar._progress is None
    bar._start -= 5  # the step has now run for a while
    bar("reading x", 5, 10)
    assert bar._progress is not None
    bar("writing outputs", 6, 6)
    bar.close()
    assert bar._progress is None
