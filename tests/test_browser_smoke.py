"""The browser fixture works: the sample's golden HTML report opens in headless Chromium."""

from __future__ import annotations

from typing import Any

import pytest

from conftest import REPO

pytestmark = pytest.mark.browser


def test_golden_report_opens_in_chromium(page: Any) -> None:
    report = REPO / "tests" / "golden" / "mamas_neighborhood" / "report.html"
    page.goto(report.as_uri())
    assert "MAMA" in page.title()
    assert page.locator("table").count() >= 2
