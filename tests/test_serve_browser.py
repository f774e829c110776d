"""`triangulate serve` in headless Chromium: two reviewers coding at once, then adjudication.

The real server runs as a subprocess (as a user starts it); each person has their own browser
context (their own cookies). Everything is done with the keyboard shortcuts the pages show,
and the files are checked afterwards. Screenshots of the coding and adjudication pages go to
tests/artifacts/.
"""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import pytest

from browser import artifact
from conftest import ProjectBuilder, read_csv
from test_serve import PAYLOAD, make, start

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def open_as(chromium: Any, url: str) -> tuple[Any, Any, list[str]]:
    context = chromium.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(url)
    return context, page, dialogs


def blur(page: Any) -> None:
    """Leave the text field, so that the page's shortcuts apply again."""
    page.locator("h1").first.click()


def code_unit(page: Any, keys: list[str], rationale: str) -> None:
    for k in keys:
        page.keyboard.press(k)
    if rationale:
        page.fill("input[name=rationale]", rationale)
    blur(page)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def test_two_reviewers_code_at_once_then_adjudicate(chromium: Any, builder: ProjectBuilder) -> None:
    root = make(builder, worksheets={})
    proc, urls = start(root)
    contexts = []
    try:
        c1, p1, d1 = open_as(chromium, urls["r1"])
        c2, p2, d2 = open_as(chromium, urls["r2"])
        contexts += [c1, c2]
        for p in (p1, p2):
            assert "0 of 3 unit(s) coded" in p.content()
            with p.expect_navigation():
                p.click("#resume")
            assert "Alpha theme" in p.inner_text("h1")
        p1.screenshot(path=str(artifact("serve-coding.png")), full_page=True)

        # A shortcut never fires while typing: b, s, y, n and digits typed into the rationale
        p2.click("input[name=rationale]")
        p2.keyboard.type("bsyn12 stays text")
        assert p2.url.endswith("/r/r2/code?i=0")
        assert p2.locator("input[name=dim_substance][value=yes]").is_checked() is False
        assert p2.locator("input[name=category][value=full_agreement]").is_checked() is False
        p2.fill("input[name=rationale]", "")
        blur(p2)

        code_unit(p1, ["y", "y"], "Both dimensions meet.")
        code_unit(p2, ["y", "n"], "R2-ONLY mechanism differs.")
        assert "Beta" in p1.inner_text("h1") and "Beta" in p2.inner_text("h1")
        assert "R2-ONLY" not in p1.content()  # blind to the other reviewer
        assert "proposal" not in p1.inner_text("main").lower()

        # Skip and back leave the unit unsaved
        with p2.expect_navigation():
            p2.keyboard.press("s")
        assert "Gamma" in p2.inner_text("h1")
        with p2.expect_navigation():
            p2.keyboard.press("b")
        assert "Beta" in p2.inner_text("h1")

        code_unit(p1, ["2"], "Meaning meets, not mechanism.")
        code_unit(p2, ["3"], "Neither meets.")
        code_unit(p1, [], "")  # one source: Enter takes the rule's one-source category
        code_unit(p2, ["4"], "Only interviews.")
        for p in (p1, p2):
            assert "3 of 3 unit(s) coded" in p.content()
        assert d1 == [] and d2 == []

        sheet1 = {r["theme"]: r for r in read_csv(root / "reviews" / "r1.csv")}
        sheet2 = {r["theme"]: r for r in read_csv(root / "reviews" / "r2.csv")}
        assert [sheet1[t]["category"] for t in ("alpha", "beta", "gamma")] == [
            "full_agreement",
            "partial_agreement",
            "silence",
        ]
        assert (sheet1["alpha"]["substance"], sheet1["alpha"]["mechanism"]) == ("yes", "yes")
        assert [sheet2[t]["category"] for t in ("alpha", "beta", "gamma")] == [
            "partial_agreement",
            "disagreement",
            "silence",
        ]
        assert sheet2["alpha"]["rationale"] == "R2-ONLY mechanism differs."

        # Adjudication: both disputed units, confirming one reviewer's category each time
        c3, p3, d3 = open_as(chromium, urls["adjudication"])
        contexts.append(c3)
        assert "0 of 2 disputed unit(s) decided" in p3.content()
        with p3.expect_navigation():
            p3.click("#resume")
        assert "confirm r1" in p3.content() and "confirm r2" in p3.content()
        assert "R2-ONLY mechanism differs." in p3.content()
        p3.screenshot(path=str(artifact("serve-adjudication.png")), full_page=True)
        p3.keyboard.press("2")
        p3.fill("input[name=rationale]", "ok")  # too short: refused, nothing written
        p3.fill("input[name=decided_by]", "ada")
        blur(p3)
        with p3.expect_navigation():
            p3.keyboard.press("Enter")
        assert "at least 3 characters" in p3.content()
        assert not (root / "decisions.jsonl").exists()
        p3.fill("input[name=rationale]", "Mechanism differs between sources.")
        blur(p3)
        with p3.expect_navigation():
            p3.keyboard.press("Enter")
        assert "Saved the decision partial_agreement" in p3.content()
        p3.keyboard.press("3")
        p3.fill("input[name=rationale]", "Neither dimension meets.")
        blur(p3)
        with p3.expect_navigation():
            p3.keyboard.press("Enter")
        assert "2 of 2 disputed unit(s) decided" in p3.content()
        assert d3 == []
        lines = [json.loads(x) for x in (root / "decisions.jsonl").read_text().splitlines()]
        assert [(d["theme"], d["category"], d["decided_by"]) for d in lines] == [
            ("alpha", "partial_agreement", "ada"),
            ("beta", "disagreement", "ada"),
        ]
        # The report, regenerated on request, shows the adjudicated units
        with p3.expect_navigation():
            p3.click("text=Report")
        with p3.expect_navigation():
            p3.click("#regenerate")
        assert "regenerated" in p3.content()
        summary = json.loads((root / "out" / "summary.json").read_text())
        assert summary["statuses"]["adjudicated"] == 2 and summary["disputed"] == 0
    finally:
        for c in contexts:
            c.close()
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
    assert proc.returncode == 0


def test_hostile_text_from_the_data_stays_text(chromium: Any, builder: ProjectBuilder) -> None:
    root: Path = make(builder)
    proc, urls = start(root)
    contexts = []
    try:
        c1, p1, dialogs = open_as(chromium, urls["r1"])
        contexts.append(c1)
        p1.goto(urls["r1"].split("?")[0] + "code?i=1")
        assert PAYLOAD in p1.inner_text("main")  # shown as text
        assert p1.locator("main img").count() == 0
        c2, p2, dialogs2 = open_as(chromium, urls["adjudication"])
        contexts.append(c2)
        p2.goto(urls["adjudication"].split("?")[0] + "findings")
        assert f"Beta {PAYLOAD}" in p2.inner_text("main")
        p2.wait_for_timeout(300)
        assert dialogs == [] and dialogs2 == []
    finally:
        for c in contexts:
            c.close()
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=30)
