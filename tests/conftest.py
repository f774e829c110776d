"""Shared fixtures: small projects written on the fly, and running the CLI as a user would."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "sample_data" / "mamas_neighborhood"


def write_csv(path: Path, rows: list[dict[str, Any]], columns: list[str] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    cols = columns or list(dict.fromkeys(k for r in rows for k in r))
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=cols, lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    for r in rows:
        w.writerow({k: "" if r.get(k) is None else r.get(k) for k in cols})
    path.write_text(buf.getvalue(), encoding="utf-8")
    return path


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@dataclass
class ProjectBuilder:
    """Builds a project folder from Python data; every part can be replaced by a test."""

    root: Path

    def write(
        self,
        *,
        sources: list[dict[str, Any]],
        themes: list[dict[str, Any]],
        groups: list[dict[str, Any]] | None = None,
        reviewers: list[str] | None = None,
        protocol: str = "blebu-2023",
        data: dict[str, list[dict[str, Any]]] | None = None,
        worksheets: dict[str, list[dict[str, Any]]] | None = None,
        decisions: list[dict[str, Any]] | None = None,
        extra_project: dict[str, Any] | None = None,
    ) -> Path:
        self.root.mkdir(parents=True, exist_ok=True)
        project: dict[str, Any] = {
            "title": "Test project",
            "protocol": protocol,
            "codebook": "codebook.yaml",
            "sources": sources,
        }
        if reviewers is not None:
            project["reviewers"] = reviewers
        project.update(extra_project or {})
        (self.root / "triangulate.yaml").write_text(
            yaml.safe_dump(project, sort_keys=False), encoding="utf-8"
        )
        codebook: dict[str, Any] = {"themes": themes}
        if groups is not None:
            codebook = {"groups": groups, "themes": themes}
        (self.root / "codebook.yaml").write_text(
            yaml.safe_dump(codebook, sort_keys=False), encoding="utf-8"
        )
        for sid, rows in (data or {}).items():
            spec = next(s for s in sources if s["id"] == sid)
            write_csv(self.root / spec["path"], rows)
        for rid, rows in (worksheets or {}).items():
            write_csv(
                self.root / "reviews" / f"{rid}.csv",
                rows,
                [
                    "theme",
                    "source_a",
                    "source_b",
                    "substance",
                    "mechanism",
                    "category",
                    "rationale",
                ],
            )
        if decisions is not None:
            (self.root / "decisions.jsonl").write_text(
                "".join(json.dumps(d) + "\n" for d in decisions), encoding="utf-8"
            )
        return self.root


def excerpt(
    eid: str,
    who: str,
    code: str,
    substance: str = "",
    mechanism: str = "",
    text: str = "Some words.",
) -> dict[str, str]:
    return {
        "excerpt_id": eid,
        "participant": who,
        "code": code,
        "text": text,
        "substance": substance,
        "mechanism": mechanism,
    }


def survey(
    code: str,
    respondents: int,
    endorsed: int | None = None,
    percent: float | None = None,
    substance: str = "",
    mechanism: str = "",
    item: str = "",
) -> dict[str, Any]:
    return {
        "code": code,
        "item": item or code,
        "respondents": respondents,
        "endorsed": endorsed,
        "percent": percent,
        "substance": substance,
        "mechanism": mechanism,
    }


@pytest.fixture
def builder(tmp_path: Path) -> ProjectBuilder:
    return ProjectBuilder(tmp_path / "study")


@dataclass
class Result:
    exit_code: int
    stdout: str
    stderr: str

    def __str__(self) -> str:  # shown when an assertion about a run fails
        return f"exit {self.exit_code}\n--- stdout\n{self.stdout}\n--- stderr\n{self.stderr}"


def run_cli(
    args: list[str],
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    input: str | None = None,
) -> Result:
    """Run ``triangulate ARGS`` in a subprocess, exactly as a user would."""
    full_env = {**os.environ, "NO_COLOR": "1", "COLUMNS": "200", **(env or {})}
    full_env.pop("GITHUB_ACTIONS", None) if not env or "GITHUB_ACTIONS" not in env else None
    proc = subprocess.run(
        [sys.executable, "-m", "triangulate", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        input=input,
        timeout=120,
    )
    return Result(proc.returncode, proc.stdout, proc.stderr)


@pytest.fixture
def cli() -> Callable[..., Result]:
    return run_cli


def pytest_addoption(parser: pytest.Parser) -> None:
    """``--update-golden`` rewrites tests/golden/ from the current outputs; never done silently."""
    parser.addoption(
        "--update-golden",
        action="store_true",
        default=False,
        help="Rewrite the golden files under tests/golden/ from the current outputs (review the diff before committing).",
    )


# --- headless Chromium (tests/browser.py) -------------------------------------------------------


@pytest.fixture(scope="session")
def chromium() -> Any:
    """The system's headless Chromium, launched once per session through Playwright.

    A missing browser fails the test (it does not skip): CI installs Debian's ``chromium``, and a
    browser test that silently skipped would prove nothing. Set ``TRIANGULATE_SKIP_BROWSER=1`` to
    skip them on a machine without one.
    """
    from browser import CHROMIUM_ARGS, chromium_path

    if os.environ.get("TRIANGULATE_SKIP_BROWSER") == "1":
        pytest.skip("TRIANGULATE_SKIP_BROWSER=1")
    exe = chromium_path()
    if exe is None:
        pytest.fail("no Chromium found: install Debian's 'chromium' package (.ci/run does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium: Any) -> Any:
    """A fresh browser context (no shared cookies) and page for one test."""
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    pg = context.new_page()
    try:
        yield pg
    finally:
        context.close()


def ctrl_c_as_in_a_terminal() -> None:
    """``preexec_fn`` for a child the test will send Ctrl-C to: Ctrl-C back to its default, as in
    a terminal. A test run started in the background (``pytest &``, nohup, some CI runners) has
    SIGINT ignored, and a child would inherit that and rightly keep ignoring it."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_DFL)
