"""The source distribution carries what its own tests need, and they pass there (issue 9: three
failed because benchmarks/ was not in it)."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from conftest import REPO

# Tests that read files from the checkout: the benchmark harness, docs, schemas, protocols, the
# sample and the golden outputs. Run inside the unpacked sdist against its own src/.
SMOKE = [
    "tests/test_benchmarks_smoke.py",
    "tests/test_docs.py",
    "tests/test_golden.py",
    "tests/test_startup.py",
    "tests/test_palette.py",
]


@pytest.mark.slow
def test_sdist_holds_what_its_tests_need_and_they_pass(tmp_path: Path) -> None:
    pytest.importorskip("hatchling")
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "sdist", "-d", str(dist)],
        cwd=REPO,
        check=True,
        capture_output=True,
        timeout=300,
    )
    (archive,) = dist.glob("*.tar.gz")
    with tarfile.open(archive) as tf:
        names = tf.getnames()
        assert all(not n.startswith("/") and ".." not in n.split("/") for n in names)
        tf.extractall(tmp_path / "unpacked")
    (root,) = (tmp_path / "unpacked").iterdir()
    for needed in (
        "benchmarks/harness.py",
        "benchmarks/generate.py",
        "tests/conftest.py",
        "tests/golden",
        "sample_data/mamas_neighborhood/triangulate.yaml",
        "protocols/farmer-2006.yaml",
        "schemas",
        "docs/findings.md",
        ".pre-commit-hooks.yaml",
        "src/triangulate/inputs.py",
    ):
        assert (root / needed).exists(), needed
    env = {**os.environ, "PYTHONPATH": str(root / "src")}
    env.pop("GITHUB_ACTIONS", None)
    where = subprocess.run(
        [sys.executable, "-c", "import triangulate; print(triangulate.__file__)"],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    assert where.stdout.strip().startswith(str(root / "src")), where.stdout  # the sdist's code
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *SMOKE],
        cwd=root,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
