"""Headless Chromium for the browser tests: Debian's `chromium`, driven by Playwright.

No browser is downloaded: Playwright launches the system's Chromium (``/usr/bin/chromium``, or
``$TRIANGULATE_CHROMIUM``). The flags keep it off the network (this machine has none), as the
browser is only ever pointed at local files and a server on 127.0.0.1.

Tests that need it take the ``chromium`` fixture (session-wide browser) or ``page`` (a fresh
context and page per test) from ``tests/conftest.py`` and carry the ``browser`` marker.
Artefacts a person should look at (screenshots, printed PDFs) go to ``tests/artifacts/``
(ignored by git), so that a CI run keeps them.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
]


def chromium_path() -> str | None:
    """The system Chromium, or None when it is not installed."""
    explicit = os.environ.get("TRIANGULATE_CHROMIUM")
    if explicit:
        return explicit
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def artifact(name: str) -> Path:
    """A path under tests/artifacts/ for a screenshot or PDF a person may want to look at."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS / name
