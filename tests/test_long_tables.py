"""sort and converge print long tables cut short, with a summary; --all prints every row (issue 14).
The files written always hold every row."""

from __future__ import annotations

import csv
from pathlib import Path

from conftest import ProjectBuilder, excerpt, survey
from test_dialects import INTERVIEWS, SURVEY, invoke


def many_themes(builder: ProjectBuilder, n: int) -> Path:
    themes = [
        {"id": f"t{i:03d}", "codes": {"interviews": [f"c{i}"], "survey": [f"s{i}"]}}
        for i in range(n)
    ]
    return builder.write(
        sources=[INTERVIEWS, SURVEY],
        themes=themes,
        data={
            "interviews": [excerpt(f"E{i}", "P1", f"c{i}", "a", "b") for i in range(n)],
            "survey": [survey(f"s{i}", 10, endorsed=i % 10, substance="a") for i in range(n)],
        },
    )


def test_sort_cuts_a_long_table_and_says_where_the_rest_is(builder: ProjectBuilder) -> None:
    root = many_themes(builder, 30)  # 60 sorting rows
    r = invoke(["sort", root])
    assert r.exit_code == 0, str(r)
    assert (
        "t009" in r.stdout and "t010 " not in r.stdout
    )  # the first 20 rows (a pipe: not a terminal)
    assert (
        "... 40 more row(s) not shown: out/sorting.csv has all 60 ('--all' prints every row here)"
        in r.stdout
    )
    assert "present: yes 57, no 3" in r.stdout  # three survey items nobody endorsed
    with (root / "out" / "sorting.csv").open(encoding="utf-8") as fh:
        assert len(list(csv.DictReader(fh))) == 60  # the file holds everything
    r = invoke(["sort", root, "--all"])
    assert "t029" in r.stdout and "not shown" not in r.stdout


def test_converge_cuts_a_long_table_and_counts_proposals(builder: ProjectBuilder) -> None:
    root = many_themes(builder, 25)  # 25 units
    r = invoke(["converge", root])
    assert r.exit_code == 0, str(r)
    assert "... 5 more row(s) not shown: out/convergence_matrix.csv has all 25" in r.stdout
    assert "proposed: " in r.stdout and "status: " in r.stdout
    r = invoke(["converge", root, "--all"])
    assert "t024" in r.stdout and "not shown" not in r.stdout


def test_a_short_table_is_printed_whole(builder: ProjectBuilder) -> None:
    root = many_themes(builder, 5)
    r = invoke(["sort", root])
    assert "t004" in r.stdout and "not shown" not in r.stdout
