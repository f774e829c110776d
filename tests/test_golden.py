"""Golden files: every text output of two small projects, compared byte for byte.

The inputs are fixed bytes (written here, or the shipped sample copied to a temporary folder), so
the SHA-256 hashes in the report's provenance are stable; the tool version is replaced by a
placeholder before comparing. The XLSX is compared by its cell values
(convergence_matrix.xlsx.txt: one JSON array per row).

Refresh the golden files only on purpose, and review the diff:

    python -m pytest tests/test_golden.py --update-golden
"""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from conftest import SAMPLE, Result
from triangulate import __version__

GOLDEN = Path(__file__).parent / "golden"
TEXT_OUTPUTS = ("sorting.csv", "convergence_matrix.csv", "summary.json", "report.md", "report.html")
VERSION_PLACEHOLDER = "{{TRIANGULATE_VERSION}}"

# ---------------------------------------------------------------------------- case 1: farmer-2006, three sources
#
# Units (11): waiting x 3 pairs; trust x 3 (poll silent); cost x 2 (poll only; staff not collected);
# language x 3 (clients lack 'examples' tags -> no proposal with staff; poll silent).
# Reviewers ana and ben; statuses: adjudicated (trust staff/clients, the later of two decisions),
# agreed, single, disputed, proposed and uncoded all occur.

FARMER3: dict[str, str] = {
    "triangulate.yaml": """\
title: Clinic access study (golden)
protocol: farmer-2006
codebook: codebook.yaml
sources:
  - id: staff
    label: Staff interviews
    kind: excerpts
    path: data/staff.csv
  - id: clients
    label: Client focus groups
    kind: excerpts
    path: data/clients.csv
  - id: poll
    label: Client poll
    kind: survey
    path: data/poll.csv
reviewers: [ana, ben]
output: out
""",
    "codebook.yaml": """\
groups:
  - id: access
    label: Getting care
themes:
  - id: waiting
    label: Waiting for an appointment
    group: access
    definition: How long people wait and what it costs them.
    codes:
      staff: [wait]
      clients: [queue]
      poll: [q-wait]
  - id: trust
    label: Trust in clinic staff
    definition: Whether clients feel they can rely on staff.
    codes:
      staff: [trust]
      clients: [faith]
  - id: cost
    label: Out-of-pocket cost
    group: access
    codes:
      poll: [q-cost, q-free]
    not_collected: [staff]
  - id: language
    label: Language barriers
    codes:
      staff: [lang]
      clients: [lang2]
""",
    "data/staff.csv": """\
excerpt_id,participant,code,text,meaning,examples
S1,st1,wait,"Patients wait three weeks, sometimes more.",delay;burden,booking line
S2,st2,wait,We lose people while they wait.,Delay,no-shows
S3,st1,trust,They come back to the nurse they know.,rapport,home visits
S4,st3,lang,"Interpreters are booked for <b>Tuesday</b> only & never on weekends.",barrier,interpreters
S5,st3,misc,Nothing to do with any theme.,,
""",
    "data/clients.csv": """\
excerpt_id,participant,code,text,meaning,examples
C1,cl1,queue,I called for a month before I got an appointment.,delay,booking line
C2,cl2,faith,"She remembered my daughter's name, c'est gentil.",rapport,Home visits
C2,cl2,queue,And the wait was long.,delay,
C3,cl3,lang2,The forms were only in English.,barrier,
""",
    "data/poll.csv": """\
code,item,respondents,endorsed,percent,meaning,examples
q-wait,Waited more than two weeks,40,18,,burden,no-shows;cost
q-cost,Paid for a visit,40,,27.5,expense,fees
q-free,Got a free visit,40,0,,,
""",
    "reviews/ana.csv": """\
theme,source_a,source_b,meaning,examples,category,rationale
waiting,staff,clients,yes,no,,Same delay; different examples.
waiting,staff,poll,,,agreement,Both stress the burden.
waiting,clients,poll,,,dissonance,Clients speak of delay; the poll of burden.
trust,staff,clients,yes,yes,,Rapport and home visits on both sides.
cost,staff,poll,,,silence,"=not asked of staff"
cost,clients,poll,,,,
""",
    "reviews/ben.csv": """\
theme,source_a,source_b,meaning,examples,category,rationale
waiting,staff,clients,,,partial_agreement,Delay matches; examples do not.
waiting,staff,poll,no,no,,Nothing lines up.
trust,staff,clients,,,agreement,
cost,staff,poll,,,silence,Staff were not asked.
""",
    "decisions.jsonl": (
        '{"theme": "trust", "source_a": "staff", "source_b": "clients", "category": "agreement", '
        '"rationale": "First look.", "decided_by": "ana", "decided_at": "2024-03-01T09:00:00+00:00"}\n'
        '{"theme": "trust", "source_a": "staff", "source_b": "clients", "category": "partial_agreement", '
        '"rationale": "- Home visits are the staff\'s example only.", "decided_by": "ben", "decided_at": "2024-03-02T09:00:00+00:00"}\n'
    ),
}


def write_farmer3(root: Path) -> Path:
    for rel, text in FARMER3.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(text.encode("utf-8"))  # fixed bytes: '\n' line ends on every platform
    return root


def copy_sample(root: Path) -> Path:
    shutil.copytree(SAMPLE, root, ignore=shutil.ignore_patterns("out"))
    return root


CASES: dict[str, Callable[[Path], Path]] = {
    "farmer3": write_farmer3,
    "mamas_neighborhood": copy_sample,
}


# ---------------------------------------------------------------------------- comparison


def normalise(text: str) -> str:
    """The tool version (not a number that merely contains it) becomes a placeholder."""
    return re.sub(rf"(?<![\w.]){re.escape(__version__)}(?![\w.]*\d)", VERSION_PLACEHOLDER, text)


def xlsx_cells(path: Path) -> str:
    """The workbook's cell values as text: a '# Sheet' line, then one JSON array per row."""
    from openpyxl import load_workbook

    wb = load_workbook(path)
    lines: list[str] = []
    try:
        for ws in wb.worksheets:
            lines.append(f"# {ws.title}")
            lines += [
                json.dumps(list(r), ensure_ascii=False, default=str)
                for r in ws.iter_rows(values_only=True)
            ]
    finally:
        wb.close()
    return "\n".join(lines) + "\n"


def outputs(out: Path) -> dict[str, str]:
    got = {name: normalise((out / name).read_bytes().decode("utf-8")) for name in TEXT_OUTPUTS}
    got["convergence_matrix.xlsx.txt"] = normalise(xlsx_cells(out / "convergence_matrix.xlsx"))
    return got


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], tuple[Path, Result]]:
    """``runs(case)``: the case's project, run once per test module with ``triangulate run``."""
    from conftest import run_cli

    done: dict[str, tuple[Path, Result]] = {}

    def get(name: str) -> tuple[Path, Result]:
        if name not in done:
            root = CASES[name](tmp_path_factory.mktemp(name) / name)
            done[name] = (root, run_cli(["run", str(root)]))
        return done[name]

    return get


@pytest.mark.parametrize("name", sorted(CASES))
def test_run_succeeds(runs: Callable[[str], tuple[Path, Result]], name: str) -> None:
    _, result = runs(name)
    assert result.exit_code == 0, str(result)
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("output", [*TEXT_OUTPUTS, "convergence_matrix.xlsx.txt"])
@pytest.mark.parametrize("name", sorted(CASES))
def test_output_matches_golden(
    runs: Callable[[str], tuple[Path, Result]],
    name: str,
    output: str,
    request: pytest.FixtureRequest,
) -> None:
    root, result = runs(name)
    assert result.exit_code == 0, str(result)
    got = outputs(root / "out")[output]
    golden = GOLDEN / name / output
    if request.config.getoption("--update-golden"):
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_bytes(got.encode("utf-8"))
        return
    assert golden.exists(), (
        f"{golden} is missing: create it with 'pytest tests/test_golden.py --update-golden'"
    )
    expected = golden.read_bytes().decode("utf-8")
    assert got == expected, (
        f"{name}/{output} differs from its golden file (refresh on purpose with --update-golden)"
    )


@pytest.mark.slow
def test_outputs_do_not_depend_on_the_folder(tmp_path: Path) -> None:
    """The same inputs in two folders give the same files: no absolute path leaks into outputs."""
    from conftest import run_cli

    a = write_farmer3(tmp_path / "one" / "study")
    b = write_farmer3(tmp_path / "elsewhere" / "deeper" / "study")
    ra, rb = run_cli(["run", str(a)]), run_cli(["run", str(b)])
    assert ra.exit_code == rb.exit_code == 0, (str(ra), str(rb))
    assert outputs(a / "out") == outputs(b / "out")


# ---------------------------------------------------------------------------- facts the golden files must show
# (hand-checked, so a wrong golden file cannot be blessed by --update-golden unnoticed)


def test_farmer3_matrix_by_hand(runs: Callable[[str], tuple[Path, Result]]) -> None:
    root, _ = runs("farmer3")
    from conftest import read_csv

    rows = {
        (r["theme"], r["source_a"], r["source_b"]): r
        for r in read_csv(root / "out" / "convergence_matrix.csv")
    }
    got = {
        k: (r["proposed"], r["ana"], r["ben"], r["final"], r["status"], r["note"])
        for k, r in rows.items()
    }
    expected: dict[tuple[str, str, str], tuple[str, ...]] = {
        # staff meaning {delay, burden} & clients {delay} meet; examples {booking line, no-shows} & {booking line}
        # meet -> agreement. ana yes/no -> partial; ben partial -> agreed partial.
        ("waiting", "staff", "clients"): (
            "agreement",
            "partial_agreement",
            "partial_agreement",
            "partial_agreement",
            "agreed",
            "",
        ),
        # meaning tags {delay, burden} & {burden} meet, but prominence does not (v2: farmer-2006's
        # meaning has prominence_bands [0.2, 0.5]; staff 2/3 is high, the poll's 45% medium);
        # examples {booking line, no-shows} & {no-shows, cost} meet -> partial agreement.
        # ana agreement, ben no/no -> dissonance: disputed.
        ("waiting", "staff", "poll"): (
            "partial_agreement",
            "agreement",
            "dissonance",
            "",
            "disputed",
            "",
        ),
        # clients meaning {delay} vs {burden} no; examples {booking line} vs {no-shows, cost} no -> dissonance
        ("waiting", "clients", "poll"): (
            "dissonance",
            "dissonance",
            "",
            "dissonance",
            "single",
            "",
        ),
        # rapport/Rapport, home visits/Home visits -> agreement; both reviewers agreement, but the later
        # decision says partial -> adjudicated
        ("trust", "staff", "clients"): (
            "agreement",
            "agreement",
            "agreement",
            "partial_agreement",
            "adjudicated",
            "",
        ),
        # v2 silence kinds: the poll has no trust item at all, so it did not raise it
        ("trust", "staff", "poll"): ("silence", "", "", "silence", "proposed", "not_raised"),
        ("trust", "clients", "poll"): ("silence", "", "", "silence", "proposed", "not_raised"),
        # cost: poll only (q-cost 27.5% > 0); staff listed as not collected, clients not
        ("cost", "staff", "poll"): (
            "silence",
            "silence",
            "silence",
            "silence",
            "agreed",
            "not_collected",
        ),
        ("cost", "clients", "poll"): ("silence", "", "", "silence", "proposed", "not_raised"),
        # clients have no 'examples' tags for language -> no proposal, and nobody coded it -> uncoded
        ("language", "staff", "clients"): ("", "", "", "", "uncoded", ""),
        ("language", "staff", "poll"): ("silence", "", "", "silence", "proposed", "not_raised"),
        ("language", "clients", "poll"): ("silence", "", "", "silence", "proposed", "not_raised"),
    }
    assert got == expected
    assert list(rows) == list(expected)  # codebook theme order, then pair order
    # a cell that starts with '-' (or '=', '+', '@') is neutralised in the CSV; one inside a cell is not
    assert (
        rows[("trust", "staff", "clients")]["rationale"]
        == "'- Home visits are the staff's example only."
    )
    assert (
        rows[("cost", "staff", "poll")]["rationale"]
        == "ana: =not asked of staff | ben: Staff were not asked."
    )


def test_farmer3_sorting_and_summary_by_hand(runs: Callable[[str], tuple[Path, Result]]) -> None:
    root, _ = runs("farmer3")
    from conftest import read_csv

    srows = {(r["theme"], r["source"]): r for r in read_csv(root / "out" / "sorting.csv")}
    # staff: participants st1, st2, st3 = 3; waiting has S1 (st1), S2 (st2) -> 2 excerpts, 2/3 = 0.6667
    assert (
        srows[("waiting", "staff")]["excerpts"],
        srows[("waiting", "staff")]["participants"],
        srows[("waiting", "staff")]["prominence"],
    ) == ("2", "2", "0.6667")
    # clients: cl1, cl2, cl3 = 3; waiting has C1 (cl1) and C2 (cl2, second code) -> 2 excerpts, 2/3
    assert (
        srows[("waiting", "clients")]["excerpts"],
        srows[("waiting", "clients")]["prominence"],
    ) == ("2", "0.6667")
    assert srows[("waiting", "poll")]["prominence"] == "0.45"  # 18/40
    assert srows[("cost", "poll")]["prominence"] == "0.275"  # max(27.5/100, 0/40)
    doc = json.loads((root / "out" / "summary.json").read_text(encoding="utf-8"))
    # finals: agreement none (0); partial = waiting s/c, trust s/c (2); dissonance = waiting c/p (1);
    # silence = trust x2, cost x2, language x2 (6); waiting s/p (disputed) and language s/c (uncoded) none
    assert doc["counts"] == {"agreement": 0, "partial_agreement": 2, "dissonance": 1, "silence": 6}
    assert doc["statuses"] == {
        "adjudicated": 1,
        "agreed": 2,
        "single": 1,
        "disputed": 1,
        "proposed": 5,
        "uncoded": 1,
    }
    assert doc["units"] == 11
    # the report escapes source text in HTML
    html = (root / "out" / "report.html").read_text(encoding="utf-8")
    assert "<b>Tuesday</b>" not in html
    # the methods text does not claim more than was done: units coded by anyone are waiting x 3,
    # trust staff/clients and cost staff/poll = 5 of 11
    md = (root / "out" / "report.md").read_text(encoding="utf-8")
    assert (
        "Two researchers coded units independently, blind to the rule's proposal: 5 of the 11 units were coded, 4 by at least two researchers."
        in md
    )
    # the not-collected count: cost staff/poll only (1 of the 6 silences)
    assert (
        "Of the 6 units present in one source only (1 not collected: the instrument could not "
        "capture the theme; 0 measured at 0%: asked, and nobody endorsed it; 5 not raised"
    ) in md
    assert "6 ended as Silence" in md


def test_sample_methods_text_says_every_unit(runs: Callable[[str], tuple[Path, Result]]) -> None:
    root, _ = runs("mamas_neighborhood")
    md = (root / "out" / "report.md").read_text(encoding="utf-8")
    # bb and pl both coded all 7 units
    assert (
        "Two researchers coded units independently, blind to the rule's proposal: every unit was coded by both."
        in md
    )


def test_golden_files_show_the_version_placeholder() -> None:
    for name in CASES:
        md = GOLDEN / name / "report.md"
        if md.exists():
            text = md.read_text(encoding="utf-8")
            assert VERSION_PLACEHOLDER in text
            assert "sha256:" in text
