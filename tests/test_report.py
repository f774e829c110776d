"""The reconciliation report: sections per protocol step, the dispute and its settlement, redaction."""

from __future__ import annotations

import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from conftest import SAMPLE, read_csv, run_cli


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sample") / "mamas"
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns("out"))
    out = run_cli(["run", str(root), "-q"])
    assert out.exit_code == 0, out
    return root


def test_report_has_one_section_per_protocol_step_named_as_the_protocol_names_them(
    sample_run: Path,
) -> None:
    md = (sample_run / "out" / "report.md").read_text()
    headings = re.findall(r"^## (.+)$", md, flags=re.M)
    steps = [
        "Step 1: Sorting",
        "Step 2: Convergence coding",
        "Step 3: Convergence assessment",
        "Step 4: Completeness comparison",
        "Step 5: Researcher comparison",
    ]
    assert [h for h in headings if h.startswith("Step")] == steps


def test_report_shows_the_dispute_each_view_and_its_settlement(sample_run: Path) -> None:
    md = (sample_run / "out" / "report.md").read_text()
    section = md.split("## Step 5: Researcher comparison", 1)[1].split("\n## ", 1)[0]
    assert "Disputes (1)" in section
    assert "bb: partial\\_agreement" in section or "bb: partial_agreement" in section
    assert "pl: full_agreement (written)" in section
    assert "settled as partial_agreement by bb at 2023-02-14T10:30:00+00:00" in section
    # v2: the decision was made by bb, one of the two reviewers who disagreed: flagged
    assert "decided by one of the reviewers who disagreed on this unit" in section
    # v2: the statistics lead with the five two-source units (the README works them by hand),
    # each with its n; the v1 figures over all 7 units follow for comparison.
    assert "| percent agreement | 0.800 | 5 |" in section
    assert "| Cohen's kappa | 0.000 | 5 |" in section
    assert "| Gwet's AC1 | 0.787 | 5 |" in section
    assert "prevalence paradox" in section
    assert "Cohen's kappa 0.720 (n=7)" in section and "Krippendorff's alpha 0.735 (n=7)" in section
    # Confusion table: bb (rows) by pl (columns); the one disagreement sits at partial x full.
    assert "| Partial agreement | 1 | 0 | 0 | 0 |" in section  # category cells show labels


def test_counts_with_denominators_per_group_and_pair(sample_run: Path) -> None:
    md = (sample_run / "out" / "report.md").read_text()
    header = "| units | Full agreement | Partial agreement | Disagreement | Silence | no final category |"
    assert header in md  # labels, not ids
    assert "| all 7 | 4/7 | 1/7 | 0/7 | 2/7 | 0/7 |" in md
    # Three overarching themes: 2, 3 and 2 factors.
    assert "| Relationship-centered perinatal care | 1/2 | 1/2 | 0/2 | 0/2 | 0/2 |" in md
    assert (
        "| Staff in-depth interviews / Partner network survey (PARTNER CPRM) | 4/7 | 1/7 | 0/7 | 2/7 | 0/7 |"
        in md
    )
    # Silences told apart by kind.
    assert "Of the 2 units present in one source only (1 not collected" in md
    assert "1 not raised" in md


def test_methods_paragraph_carries_the_real_numbers_and_citation(sample_run: Path) -> None:
    md = (sample_run / "out" / "report.md").read_text()
    para = md.split("## Methods text", 1)[1].split("\n## ", 1)[0]
    assert "18 participants" in para and "7 themes within 3 overarching themes" in para
    assert "percent agreement 80.0% (n=5)" in para and "Cohen's kappa 0.00 (n=5)" in para
    assert "percent agreement 85.7% (n=7)" in para and "Cohen's kappa 0.72 (n=7)" in para
    assert (
        "Of the 7 units, all 7 have a reviewed category: 4 full agreement, 1 partial agreement, "
        "0 disagreement and 2 silence."
    ) in para
    assert "Qual Health Res. 2006;16(3):377-394" in para  # based_on: Farmer
    assert "Front Public Health. 2023;11:1106740" in para


def test_joint_display_row(sample_run: Path) -> None:
    md = (sample_run / "out" / "report.md").read_text()
    joint = md.split("**Joint display", 1)[1]
    row = next(
        line
        for line in joint.splitlines()
        if line.startswith("| Facilitator: designated point of contact")
    )
    cells = [c.strip() for c in row.strip("|").split("|")]
    # 8 of the 18 staff participants; 65% of the 17 partners who answered that panel of Table 1.
    assert cells[1] == "8/18 (44%) participants"
    assert cells[2].endswith(": 65% of 17 respondents")  # the survey item is named
    assert len(cells[2]) > len(": 65% of 17 respondents")
    assert cells[3].startswith("\u201c") and cells[4] == "Full agreement"


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        for name, value in attrs:
            assert not (value or "").startswith(("http:", "https:", "//")), (tag, name, value)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def test_html_is_self_contained_and_printable(sample_run: Path) -> None:
    html = (sample_run / "out" / "report.html").read_text()
    p = _Collect()
    p.feed(html)
    assert "script" not in p.tags and "link" not in p.tags and "img" not in p.tags
    assert "style" in p.tags and "@media print" in html
    assert "Step 5: Researcher comparison" in "".join(p.text)
    # A colour per category, from the colour-blind-safe palette (palette.py), and its figure.
    for color in ("#004D80", "#56B4E9", "#D55E00", "#EEEEEE"):
        assert color in html
    assert "<svg" in html and "<figure" in html


def test_redacted_report_has_no_excerpt_text_or_participant_ids(
    sample_run: Path, tmp_path: Path
) -> None:
    root = tmp_path / "mamas"
    shutil.copytree(sample_run, root)
    out = run_cli(["report", str(root), "--redact", "-q"])
    assert out.exit_code == 0, out
    rows = read_csv(root / "data" / "interviews.csv")
    for name in ("report.md", "report.html"):
        text = (root / "out" / name).read_text()
        for r in rows:
            snippet = " ".join(r["text"].split())[:40]
            assert snippet not in text, (name, snippet)
        found = set(re.findall(r"\bS\d\d\b", text))
        assert not found, (name, found)
        assert "redacted" in text
    # The unredacted report does contain them (so the test above can fail).
    full = (sample_run / "out" / "report.md").read_text()
    assert re.search(r"\bS01\b", full) and " ".join(rows[0]["text"].split())[:40] in full
