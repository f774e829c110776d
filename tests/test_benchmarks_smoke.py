"""The benchmark harness runs end to end at a tiny size (no timing is asserted: CI machines are noisy)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[1]
BENCH = REPO / "benchmarks"


def test_generator_and_harness_run_and_print_every_ratio(tmp_path: Path) -> None:
    out = subprocess.run(
        [
            sys.executable,
            str(BENCH / "harness.py"),
            "--codings",
            "2000",
            "--themes",
            "20",
            "--reps",
            "1",
            "--scale",
            "2",
            "--scale-reps",
            "1",
            "--startup-reps",
            "1",
            "--formats",
            "xlsx,jsonl,qdpx",
            "--large-themes",
            "30",
            "--yardstick-codings",
            "0",
            "--workdir",
            str(tmp_path),
            "--triangulate",
            f"{sys.executable} -m triangulate",
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
        check=False,
    )
    assert out.returncode == 0, out.stderr + out.stdout
    text = out.stdout
    for pattern in (
        r"run/floor time ratio: \d+\.\d\d",
        r"run/floor peak memory ratio: \d+\.\d\d",
        r"report\.html: \d+\.\d\d MB",
        r"linearity: 2x the codings takes \d+\.\d\dx the time",
        r"--help / import typer: \d+\.\d\d .*heavy imports: none",
        r"--version / import typer: \d+\.\d\d .*heavy imports: none",
        r"validate on the sample: \d+\.\d\d s",
        r"commands, 2 x 2000 codings.*20 themes",
        r"commands, 2 x 2000 codings.*30 themes",
        r"  sort +\d+\.\d\d +\d+\.\d\d +\d+\.\d\d .*/validate <= 1\.2",
        r"  run +\d+\.\d\d .*/floor <= 1\.2",
        r"formats: run on the same rows",
        r"  xlsx +\d+\.\d\d +\d+\.\d\d .*/csv <= 2\.0",
        r"  jsonl +\d+\.\d\d +\d+\.\d\d .*/csv <= 1\.5",
        r"  qdpx +\d+\.\d\d +\d+\.\d\d .*/csv <= 2\.0",
        r"== targets missed: ",
    ):
        assert re.search(pattern, text), f"no line matching {pattern!r} in:\n{text}"
    project = next(p for p in tmp_path.iterdir() if p.name.startswith("p2000x2s"))
    assert (project / "out" / "report.html").is_file()
    assert (project / "reviews" / "r1.csv").is_file()


def test_generator_is_seeded(tmp_path: Path) -> None:
    def make(name: str, seed: int) -> bytes:
        subprocess.run(
            [
                sys.executable,
                str(BENCH / "generate.py"),
                str(tmp_path / name),
                "--codings",
                "300",
                "--themes",
                "5",
                "--survey",
                "--seed",
                str(seed),
            ],
            check=True,
            timeout=60,
        )
        return b"".join(
            (tmp_path / name / "data" / f).read_bytes()
            for f in ("interviews_1.csv", "interviews_2.csv", "survey.csv")
        )

    assert make("a", 7) == make("b", 7) != make("c", 8)
