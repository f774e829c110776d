"""The HTML report printed by a real browser (headless Chromium): every matrix column on the page.

The sample's report and a wide three-source project's report (three dimensions, long labels and
findings, an interpretation column) are printed to PDF at A4 and Letter. Checked:

- every column header of the convergence coding matrix is in the text of the PDF page that
  holds the matrix, and that page is landscape;
- no table is wider than its printed page: with print media emulated and the viewport set to the
  page's printable width (portrait, or landscape for the wide tables), every table fits its box;
- the evidence, collapsed on screen, is printed expanded;
- on screen at 1280 px nothing scrolls sideways (screenshots are kept in tests/artifacts/).
"""

from __future__ import annotations

import io
import re
import shutil
import unicodedata
from pathlib import Path
from typing import Any

import pytest

from browser import artifact
from conftest import SAMPLE, run_cli

pytestmark = [pytest.mark.browser, pytest.mark.slow]

MM = 96 / 25.4  # CSS px per mm
PAPERS = {"A4": (210.0, 297.0), "Letter": (215.9, 279.4)}
# the report's @page margins (html.py): 12 mm left and right on portrait pages, 10 mm on wide ones
PORTRAIT_MARGIN, LANDSCAPE_MARGIN = 12.0, 10.0

WIDE: dict[str, str] = {
    "triangulate.yaml": """\
title: Clinic access study, three sources (wide print test)
protocol: squires-2015
codebook: codebook.yaml
findings: findings.csv
narrative: narrative.yaml
sources:
  - id: staff
    label: Staff semi-structured interviews (clinics A and B)
    kind: excerpts
    path: data/staff.csv
  - id: clients
    label: Client focus groups (community health centres)
    kind: excerpts
    path: data/clients.csv
  - id: poll
    label: Client satisfaction poll (2023 wave)
    kind: survey
    path: data/poll.csv
output: out
""",
    "codebook.yaml": """\
groups:
  - id: access
    label: Getting care when it is needed
themes:
  - id: waiting
    label: Waiting for an appointment and the burden of delay on families
    group: access
    codes: {staff: [wait], clients: [queue], poll: [q-wait]}
  - id: trust
    label: Trust in clinic staff
    codes: {staff: [trust], clients: [faith]}
  - id: cost
    label: Out-of-pocket cost
    group: access
    codes: {poll: [q-cost]}
    not_collected: [staff]
""",
    "data/staff.csv": """\
excerpt_id,participant,code,text,meaning,examples
S1,st1,wait,"Patients wait three weeks, sometimes more, and some of them give up on the clinic altogether because nobody calls them back about the appointment.",barrier;delay,booking line
S2,st2,wait,We lose people while they wait.,delay,no-shows
S3,st1,trust,They come back to the nurse they know.,facilitator;rapport,home visits
""",
    "data/clients.csv": """\
excerpt_id,participant,code,text,meaning,examples
C1,cl1,queue,I called for a month before I got an appointment.,delay,booking line
C2,cl2,faith,"She remembered my daughter's name.",rapport,home visits
C3,cl3,queue,Waiting made it easier to plan around work.,facilitator,booking line
""",
    "data/poll.csv": """\
code,item,respondents,endorsed,percent,meaning,examples
q-wait,Waited more than two weeks for a first appointment,40,18,,delay;burden,no-shows
q-cost,Paid out of pocket for a visit in the last year,40,,27.5,expense,fees
""",
    "findings.csv": """\
theme,source,finding,exemplar
waiting,staff,"Staff describe waits of three weeks or more that drive families away from the clinic, and name the booking line as the bottleneck.",S1
waiting,clients,"Clients describe a month of calling before an appointment; a few found the wait easy to plan around.",C1
waiting,poll,Nearly half of respondents waited more than two weeks.,q-wait
trust,staff,Staff see returning to a known nurse as the basis of trust.,S3
trust,clients,Clients value being remembered by name.,C2
cost,poll,About a quarter paid for a visit.,q-cost
""",
    "narrative.yaml": """\
themes:
  waiting: Delay is the shared concern across all three sources; its meaning differs between staff (a barrier) and some clients (manageable).
  trust: Trust rests on continuity with one nurse.
""",
}


def write_wide(root: Path) -> Path:
    for rel, text in WIDE.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("print")
    sample = base / "sample"
    shutil.copytree(SAMPLE, sample, ignore=shutil.ignore_patterns("out"))
    wide = write_wide(base / "wide")
    out = {}
    for name, root in (("sample", sample), ("wide", wide)):
        r = run_cli(["run", str(root), "-q"])
        assert r.exit_code == 0, str(r)
        out[name] = root / "out" / "report.html"
    return out


def _headers(page: Any) -> list[str]:
    got: list[str] = page.eval_on_selector_all(
        "#convergence-coding-matrix thead th", "els => els.map(e => e.textContent)"
    )
    return got


def _squash(text: str) -> str:
    """Text without whitespace, ligatures (the PDF's "ﬀ") undone."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


@pytest.mark.parametrize("paper", sorted(PAPERS))
@pytest.mark.parametrize("which", ["sample", "wide"])
def test_printed_matrix_shows_every_column_on_a_landscape_page(
    page: Any, reports: dict[str, Path], which: str, paper: str
) -> None:
    from pypdf import PdfReader

    page.goto(reports[which].as_uri())
    headers = _headers(page)
    assert headers[0] == "Theme" and headers[-1] == "Category" and len(headers) >= 6
    pdf = page.pdf(format=paper, print_background=True)
    artifact(f"report-{which}-{paper}.pdf").write_bytes(pdf)
    reader = PdfReader(io.BytesIO(pdf))
    pages = [(p, _squash(p.extract_text() or "")) for p in reader.pages]
    matrix_pages = [(p, t) for p, t in pages if "Convergencecodingmatrix" in t]
    assert matrix_pages, "the matrix caption is printed"
    first, text = matrix_pages[0]
    for h in headers:
        assert _squash(h) in text, (h, paper)
    box = first.mediabox
    assert float(box.width) > float(box.height), "the matrix is printed on a landscape page"
    # the evidence, collapsed on screen, is printed expanded
    assert "Evidencebytheme" in "".join(t for _, t in pages)
    evidence = "".join(t for _, t in pages).split("Evidencebytheme", 1)[1]
    assert "participants" in evidence and "prominence" in evidence


@pytest.mark.parametrize("paper", sorted(PAPERS))
@pytest.mark.parametrize("which", ["sample", "wide"])
def test_no_table_is_wider_than_its_printed_page(
    page: Any, reports: dict[str, Path], which: str, paper: str
) -> None:
    short, long = PAPERS[paper]
    widths = {
        "portrait": (short - 2 * PORTRAIT_MARGIN) * MM,
        "landscape": (long - 2 * LANDSCAPE_MARGIN) * MM,
    }
    page.emulate_media(media="print")
    for orientation, width in widths.items():
        page.set_viewport_size({"width": int(width), "height": 1000})
        page.goto(reports[which].as_uri())
        over = page.evaluate(
            """([landscape]) => {
                const out = [];
                const limit = document.documentElement.clientWidth + 1;
                for (const t of document.querySelectorAll('table')) {
                    const wide = t.closest('section.wide') !== null;
                    if (wide !== landscape) continue;
                    const r = t.getBoundingClientRect();
                    const wrap = t.parentElement;
                    if (r.right > limit || r.left < -1 || wrap.scrollWidth > wrap.clientWidth + 1)
                        out.push([t.id || t.querySelector('th')?.textContent, r.left, r.right, limit]);
                }
                return out;
            }""",
            [orientation == "landscape"],
        )
        assert over == [], (paper, orientation, over)


@pytest.mark.parametrize("which", ["sample", "wide"])
def test_nothing_scrolls_sideways_on_screen_at_1280px(
    page: Any, reports: dict[str, Path], which: str
) -> None:
    page.goto(reports[which].as_uri())
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 1280, width
    scrolled = page.evaluate(
        "[...document.querySelectorAll('.tablewrap')].filter(w => w.scrollWidth > w.clientWidth + 1).length"
    )
    assert scrolled == 0
    # the evidence is collapsed on screen, and the matrix links to it
    assert page.locator("details[open]").count() == 0
    href = page.eval_on_selector(
        "#convergence-coding-matrix tbody a", "a => a.getAttribute('href')"
    )
    assert href.startswith("#theme-") and page.locator(href).count() == 1
    page.screenshot(path=str(artifact(f"report-{which}-1280.png")), full_page=True)


def test_a_large_figure_is_an_image_that_opens_lazily_and_prints(page: Any, tmp_path: Path) -> None:
    """Past INLINE_FIGURE_BYTES the figure is the same SVG as an image in a data: URL (no DOM
    node per cell): it decodes to exactly the figure, is loaded lazily (so it does not hold up
    opening a long report), shows once scrolled to, and is printed."""
    from base64 import b64decode

    from triangulate.outputs import html as H
    from triangulate.outputs.model import Figure, Heading, Report

    cells = "".join(
        f'<g><title>Theme {i}</title><rect x="10" y="{20 + 14 * i}" width="40" height="12" '
        f'fill="#56B4E9"/><text x="30" y="{30 + 14 * i}">P</text></g>'
        for i in range(4000)
    )
    height = 40 + 14 * 4000
    svg = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="300" height="{height}" '
        f'viewBox="0 0 300 {height}"><rect x="0" y="0" width="300" height="{height}" fill="#FFFFFF"/>'
        f"{cells}</svg>"
    )
    assert len(svg) > H.INLINE_FIGURE_BYTES
    rep = Report(
        title="Large figure & <test>",
        blocks=[
            Heading(2, "Step 1", "one"),
            Figure(
                svg=svg,
                caption="Convergence by theme & pair",
                path="convergence.svg",
                anchor="figure",
            ),
            Heading(2, "Step 2", "two"),
        ],
    )
    text = H.render_html(rep)
    assert "<svg" not in text and text.count('<div class="part">') == 2
    url = re.search(r"<img class=\"figure\" loading=\"lazy\" src='([^']*)'", text)
    assert url is not None
    decoded = b64decode(url.group(1).removeprefix("data:image/svg+xml;base64,")).decode("utf-8")
    assert decoded == svg.split("?>", 1)[1].strip()  # the same figure, namespace kept
    path = tmp_path / "report.html"
    path.write_text(text, encoding="utf-8")
    page.set_viewport_size({"width": 1280, "height": 900})
    page.goto(path.as_uri(), wait_until="load")
    state = "(() => { const i = document.querySelector('img.figure'); return [i.complete && i.naturalHeight > 0, i.naturalWidth, i.naturalHeight, i.alt]; })()"
    page.eval_on_selector("img.figure", "i => i.scrollIntoView()")
    page.wait_for_function("document.querySelector('img.figure').naturalHeight > 0")
    loaded, width, h, alt = page.evaluate(state)
    assert loaded and (width, h) == (300, height) and alt == "Convergence by theme & pair"
    pdf = page.pdf(format="A4", print_background=True)
    assert len(pdf) > 10_000


def test_a_theme_link_in_a_large_report_lands_on_its_evidence(page: Any, tmp_path: Path) -> None:
    """In a report of hundreds of themes (parts laid out only when in view), following a theme's
    link from the matrix, on a freshly opened page, puts that theme's evidence at the top of the
    window. With every closed <details> sized by an estimate instead, the first jump landed 1,700
    pixels off (on theme 146 for theme 100)."""
    from triangulate.outputs import html as H
    from triangulate.outputs.model import Bullets, Details, Heading, Para, Report, Table

    n = 600
    anchors = [f"theme-t{i:04d}" for i in range(n)]
    matrix = Table(
        ["Theme", "Sources", "Category"],
        [[f"Theme {i}", "A / B", "note"] for i in range(n)],
        caption="Convergence coding matrix",
        anchor="convergence-coding-matrix",
        link_col=0,
        row_links=anchors,
        kind="matrix",
    )
    evidence = [
        Details(
            f"Theme {i}: evidence",
            [
                Para(f"Definition of theme {i}."),
                Bullets([f"excerpt {k} of theme {i}" for k in range(6)]),
            ],
            anchor=anchors[i],
        )
        for i in range(n)
    ]
    rep = Report(
        title="Large",
        blocks=[
            Heading(2, "Step 2", "convergence-coding"),
            matrix,
            Heading(2, "Evidence by theme", "evidence"),
            *evidence,
        ],
    )
    path = tmp_path / "report.html"
    path.write_text(H.render_html(rep), encoding="utf-8")
    for k in (10, 250, 450):  # (the last themes cannot scroll to the top of the window)
        page.set_viewport_size({"width": 1280, "height": 900})
        page.goto(path.as_uri(), wait_until="load")
        link = page.locator("#convergence-coding-matrix a").nth(k)
        link.scroll_into_view_if_needed()
        link.click()
        page.wait_for_timeout(300)
        top = page.evaluate(f"document.getElementById('{anchors[k]}').getBoundingClientRect().top")
        assert -5 <= top <= 60, (k, top)
