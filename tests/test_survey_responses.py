"""Respondent-level surveys, `kind: survey_responses` (spec 4.3), from CSV, XLSX, SPSS and Stata."""

from __future__ import annotations

import builtins
import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from conftest import excerpt, write_csv
from triangulate.findings import exit_code_for
from triangulate.project.models import SourceSpec
from triangulate.sources.load import load_source
from triangulate.sources.rows import SurveyRow


def load(root: Path, path: str, codes: dict[str, Any]) -> tuple[list[SurveyRow], list[str]]:
    spec = SourceSpec.model_validate(
        {"id": "partners", "kind": "survey_responses", "path": path, "codes": codes}
    )
    data, findings = load_source(root, spec, [])
    assert data is not None, findings
    assert not any(f.is_error for f in findings), findings
    return data.survey, [f.code for f in findings]


def counts(rows: list[SurveyRow]) -> dict[str, tuple[int, int]]:
    return {r.code: (r.endorsed or 0, r.respondents) for r in rows}


RESPONSES = [
    {
        "id": 1,
        "Q1": "1",
        "Q2": "Yes",
        "Q3": "checked",
        "Q4": "more staff",
        "Q5": "5",
        "Q6": "Agree",
    },
    {"id": 2, "Q1": "0", "Q2": "no", "Q3": "", "Q4": "", "Q5": "4", "Q6": "Strongly agree"},
    {
        "id": 3,
        "Q1": "1.0",
        "Q2": "YES",
        "Q3": "unchecked",
        "Q4": "nothing",
        "Q5": "2",
        "Q6": "disagree",
    },
    {"id": 4, "Q1": "", "Q2": "", "Q3": "checked", "Q4": "", "Q5": "", "Q6": ""},
]


def test_csv_default_rule_and_missing_answers(tmp_path: Path) -> None:
    write_csv(tmp_path / "r.csv", RESPONSES)
    rows, codes = load(
        tmp_path,
        "r.csv",
        {
            "a": {"column": "Q1"},
            "b": {"column": "Q2"},
            "c": {"column": "Q3"},
            "open": {"column": "Q4"},
        },
    )
    assert counts(rows) == {
        "a": (2, 3),
        "b": (2, 3),
        "c": (2, 3),
        "open": (2, 2),
    }  # open question: any answer counts
    assert codes == []
    assert [r.item for r in rows] == ["Q1", "Q2", "Q3", "Q4"]
    assert all(r.percent is None for r in rows)


def test_endorse_numbers_and_labels(tmp_path: Path) -> None:
    write_csv(tmp_path / "r.csv", RESPONSES)
    rows, codes = load(
        tmp_path,
        "r.csv",
        {
            "likert": {"column": "Q5", "endorse": [4, 5.0]},
            "words": {"column": "Q6", "endorse": ["agree", "STRONGLY AGREE "]},
        },
    )
    assert counts(rows) == {"likert": (2, 3), "words": (2, 3)}
    assert [r.item for r in rows] == ["Q5 (4, 5.0)", "Q6 (agree, STRONGLY AGREE )"]
    assert codes == []


def test_endorse_value_matching_nothing_warns(tmp_path: Path) -> None:
    write_csv(tmp_path / "r.csv", RESPONSES)
    rows, codes = load(tmp_path, "r.csv", {"words": {"column": "Q6", "endorse": ["Agre", "agree"]}})
    assert codes == ["data.endorse-unmatched"]
    assert counts(rows) == {"words": (1, 3)}


def test_many_valued_column_without_endorse_warns(tmp_path: Path) -> None:
    write_csv(tmp_path / "r.csv", RESPONSES)
    rows, codes = load(tmp_path, "r.csv", {"likert": {"column": "Q5"}})
    assert codes == ["data.endorse-default"] and counts(rows) == {"likert": (0, 3)}


def test_missing_column_and_empty_column(tmp_path: Path) -> None:
    write_csv(tmp_path / "r.csv", [{"Q1": "1", "Q9": ""}, {"Q1": "0", "Q9": ""}])
    spec = SourceSpec.model_validate(
        {
            "id": "p",
            "kind": "survey_responses",
            "path": "r.csv",
            "codes": {"x": {"column": "Qx"}, "e": {"column": "Q9"}, "q": {"column": "q1"}},
        }
    )
    data, findings = load_source(tmp_path, spec, [])
    assert [f.code for f in findings] == ["data.missing-column", "data.missing-value"]
    assert "it has: Q1, Q9" in findings[0].message
    assert data is not None and counts(data.survey) == {
        "q": (1, 2)
    }  # column names match case-insensitively


def test_codes_mapping_is_required(tmp_path: Path) -> None:
    write_csv(tmp_path / "r.csv", RESPONSES)
    _, findings = load_source(
        tmp_path, SourceSpec(id="p", kind="survey_responses", path="r.csv"), []
    )
    assert [f.code for f in findings] == ["project.source-option"]


def test_xlsx(tmp_path: Path) -> None:
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["id", "Q1", "Q5"])
    for i, (a, b) in enumerate([(1, 5), (0, 4), (1, 1), (None, None)]):
        ws.append([i, a, b])
    wb.save(tmp_path / "r.xlsx")
    rows, codes = load(
        tmp_path, "r.xlsx", {"a": {"column": "Q1"}, "b": {"column": "Q5", "endorse": [4, 5]}}
    )
    assert counts(rows) == {"a": (2, 3), "b": (2, 3)} and codes == []


# ---------------------------------------------------------------------------- SPSS and Stata

AGREE = {
    1.0: "Strongly disagree",
    2.0: "Disagree",
    3.0: "Neutral",
    4.0: "Agree",
    5.0: "Strongly agree",
    99.0: "Refused",
}


def write_sav(path: Path) -> Path:
    pyreadstat = pytest.importorskip("pyreadstat")
    import pandas as pd

    df = pd.DataFrame(
        {
            "Q7_1": [1.0, 0.0, 1.0, 1.0, None, 0.0],
            "Q7_3": [5.0, 4.0, 2.0, 99.0, 3.0, None],
            "Q8": ["more time", "", "", "a named contact", "", ""],
            "Q9": [2.0, 1.0, 1.0, 2.0, 2.0, None],
        }
    )
    pyreadstat.write_sav(
        df,
        str(path),
        column_labels=[
            "Has a point person",
            "Follow-up works",
            "What would help?",
            "Knows whom to call",
        ],
        variable_value_labels={
            "Q7_1": {0.0: "No", 1.0: "Yes"},
            "Q7_3": AGREE,
            "Q9": {1.0: "No", 2.0: "Yes"},
        },
        missing_ranges={"Q7_3": [99.0]},
    )
    return path


def test_sav_round_trip_with_value_labels(tmp_path: Path) -> None:
    write_sav(tmp_path / "partners.sav")
    rows, codes = load(
        tmp_path,
        "partners.sav",
        {
            "point-person": {"column": "Q7_1"},
            "follow-up": {"column": "Q7_3", "endorse": [4, 5]},
            "follow-up-labels": {"column": "Q7_3", "endorse": ["Agree", "strongly agree"]},
            "help": {"column": "Q8"},
            "knows": {"column": "Q9"},  # 1=No, 2=Yes: the labels decide, not the value 1
        },
    )
    assert codes == []
    assert counts(rows) == {
        "point-person": (3, 5),
        "follow-up": (2, 4),  # 99 is user-missing (Refused): not a respondent
        "follow-up-labels": (2, 4),
        "help": (2, 2),
        "knows": (3, 5),
    }
    items = {r.code: r.item for r in rows}
    assert items["follow-up"] == "Q7_3: Follow-up works (Agree, Strongly agree)"
    assert items["follow-up-labels"] == "Q7_3: Follow-up works (Agree, strongly agree)"
    assert items["point-person"] == "Q7_1: Has a point person"


@pytest.mark.slow
def test_sav_labels_appear_in_the_report(builder: Any, cli: Callable[..., Any]) -> None:
    root = builder.write(
        sources=[
            {"id": "interviews", "kind": "excerpts", "path": "data/i.csv"},
            {
                "id": "partners",
                "kind": "survey_responses",
                "path": "data/partners.sav",
                "codes": {"follow-up": {"column": "Q7_3", "endorse": [4, 5]}},
            },
        ],
        themes=[
            {"id": "follow_up", "codes": {"partners": ["follow-up"]}},
            {"id": "other", "codes": {"interviews": ["x"]}},
        ],
        data={"interviews": [excerpt("e1", "p1", "x")]},
    )
    write_sav(root / "data" / "partners.sav")
    r = cli(["run", str(root)])
    assert r.exit_code == 0, r
    report = (root / "out" / "report.md").read_text(encoding="utf-8")
    assert "Q7_3: Follow-up works (Agree, Strongly agree) \\[follow-up\\]: 2/4 (50%)" in report


def test_dta_round_trip(tmp_path: Path) -> None:
    pyreadstat = pytest.importorskip("pyreadstat")
    import pandas as pd

    df = pd.DataFrame({"q1": [1, 0, 1, 1], "q2": [3, 4, 5, 1]})
    pyreadstat.write_dta(
        df,
        str(tmp_path / "s.dta"),
        column_labels=["Point person", "Follow-up"],
        variable_value_labels={"q2": {4: "Agree", 5: "Strongly agree"}},
    )
    rows, codes = load(
        tmp_path,
        "s.dta",
        {"a": {"column": "q1"}, "b": {"column": "q2", "endorse": ["Agree", "Strongly agree"]}},
    )
    assert counts(rows) == {"a": (3, 4), "b": (2, 4)} and codes == []
    assert rows[1].item == "q2: Follow-up (Agree, Strongly agree)"


def test_damaged_sav_is_a_finding(tmp_path: Path) -> None:
    pytest.importorskip("pyreadstat")
    (tmp_path / "bad.sav").write_bytes(b"$FL2 this is not really SPSS")
    spec = SourceSpec.model_validate(
        {"id": "p", "kind": "survey_responses", "path": "bad.sav", "codes": {"a": {"column": "Q1"}}}
    )
    data, findings = load_source(tmp_path, spec, [])
    assert data is None and [f.code for f in findings] == ["data.malformed"]


def test_missing_pyreadstat_is_a_clear_finding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "s.sav").write_bytes(b"whatever")
    real_import = builtins.__import__

    def no_pyreadstat(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "pyreadstat":
            raise ImportError("No module named 'pyreadstat'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyreadstat)
    spec = SourceSpec.model_validate(
        {"id": "p", "kind": "survey_responses", "path": "s.sav", "codes": {"a": {"column": "Q1"}}}
    )
    data, findings = load_source(tmp_path, spec, [])
    assert data is None and [f.code for f in findings] == ["data.needs-extra"]
    # issue 13 item 17: 'triangulate[spss]' from PyPI installs an unrelated project of that name
    assert "`pip install pyreadstat`" in findings[0].message
    assert "triangulate[spss]" not in findings[0].message
    assert exit_code_for(findings) == 2


def test_missing_sav_file(tmp_path: Path) -> None:
    spec = SourceSpec.model_validate(
        {
            "id": "p",
            "kind": "survey_responses",
            "path": "none.sav",
            "codes": {"a": {"column": "Q1"}},
        }
    )
    data, findings = load_source(tmp_path, spec, [])
    assert data is None and [f.code for f in findings] == ["file.missing"]


ANSWER = st.one_of(
    st.sampled_from(["", "1", "0", "yes", "no", "4", "5", "checked", "Agree", " "]),
    st.text(max_size=5),
)


@pytest.mark.fuzz
@settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    answers=st.lists(ANSWER, min_size=1, max_size=30),
    endorse=st.one_of(
        st.none(),
        st.lists(st.one_of(st.integers(0, 5), st.sampled_from(["yes", "Agree", "x"])), max_size=3),
    ),
)
def test_property_endorsed_never_exceeds_respondents(
    tmp_path: Path, answers: list[str], endorse: list[Any] | None
) -> None:
    try:
        write_csv(tmp_path / "r.csv", [{"Q": a} for a in answers])
    except csv.Error:  # Python 3.10's csv writer cannot write a NUL without an escapechar
        reject()
    rc: dict[str, Any] = {"column": "Q"}
    if endorse is not None:
        rc["endorse"] = endorse
    spec = SourceSpec.model_validate(
        {"id": "p", "kind": "survey_responses", "path": "r.csv", "codes": {"c": rc}}
    )
    data, findings = load_source(tmp_path, spec, [])
    if data is None:
        assert any(f.is_error for f in findings)  # e.g. an answer that makes the CSV unreadable
        return
    for r in data.survey:
        assert r.endorsed is not None and 0 <= r.endorsed <= r.respondents


def test_no_text_recommends_installing_triangulate_from_pypi() -> None:
    """Issue 13 item 17: `pip install 'triangulate[spss]'` installs an unrelated PyPI project; the
    docs and messages give the install that works (pyreadstat, or '.[spss]' from a checkout)."""
    from triangulate.findings import CATALOGUE

    repo = Path(__file__).resolve().parents[1]
    texts = {
        p: p.read_text(encoding="utf-8")
        for p in [repo / "README.md", *(repo / "docs").glob("*.md")]
    }
    texts[repo / "findings CATALOGUE"] = repr(CATALOGUE)
    for p, text in texts.items():
        for bad in (
            "pip install 'triangulate[",
            'pip install "triangulate[',
            "pip install triangulate[",
        ):
            assert bad not in text, p
    assert "pip install pyreadstat" in texts[repo / "docs" / "interop.md"]
