"""REFI-QDA projects (.qdpx) as an excerpts source (spec 4.4), one real-export deviation per test.

Every project here is built by tests/fixtures/qdpx/qdpx_builder.py, whose XML is checked against
the REFI-QDA Project.xsd with lxml (test_fixtures_validate_against_project_xsd). Positions in the
fixtures are computed by the builder, independently of the reader.
"""

from __future__ import annotations

import io
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from triangulate.findings import Finding
from triangulate.project.loading import load_project
from triangulate.project.models import SourceSpec
from triangulate.sources.load import load_source
from triangulate.sources.refi import qdpx
from triangulate.sources.rows import ExcerptRow

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "qdpx"))
from qdpx_builder import QdpxBuilder, to_units, xsd_errors

TEXT = "I call Maria every week.\nShe is our point person at the clinic.\nReferrals go straight to her.\n"


def load(path: Path, **options: Any) -> tuple[list[ExcerptRow], list[Finding]]:
    spec = SourceSpec(id="interviews", kind="excerpts", path=path.name, **options)
    data, findings = load_source(path.parent, spec, [])
    assert not any(f.is_error for f in findings), findings
    assert data is not None
    return data.excerpts, findings


def codes_of(findings: list[Finding]) -> list[str]:
    return [f.code for f in findings]


def texts(rows: list[ExcerptRow]) -> list[str]:
    return [r.text for r in rows]


def basic(b: QdpxBuilder | None = None) -> QdpxBuilder:
    b = b or QdpxBuilder()
    contact = b.code("point-person")
    direct = b.code("direct-contact")
    d1 = b.doc("Interview 01", TEXT)
    d2 = b.doc("Interview 02", "We never know whom to call.\n")
    b.select(d1, "I call Maria every week.", [direct])
    b.select(d1, "She is our point person at the clinic.", [contact, direct])
    b.select(d2, "We never know whom to call.", [direct])
    b.case("P01", sources=[d1])
    return b


# ---------------------------------------------------------------------------- scenarios

SCENARIOS: dict[str, Callable[[], QdpxBuilder]] = {}


def scenario(fn: Callable[[], QdpxBuilder]) -> Callable[[], QdpxBuilder]:
    SCENARIOS[fn.__name__] = fn
    return fn


@scenario
def plain() -> QdpxBuilder:
    return basic()


@scenario
def capital_sources_folder() -> QdpxBuilder:
    return basic(QdpxBuilder(folder="Sources"))


@scenario
def xml_named_after_project() -> QdpxBuilder:
    return basic(QdpxBuilder(name="Trial", xml_name="Trial.qde"))


@scenario
def bare_paths() -> QdpxBuilder:
    b = QdpxBuilder()
    c = b.code("point-person")
    d = b.doc(
        "Interview 01", TEXT, plain_path="Interview 01.txt", member="sources/Interview 01.txt"
    )
    b.select(d, "She is our point person at the clinic.", [c])
    d2 = b.doc(
        "Interview 02",
        "We call the front desk.\n",
        plain_path="sources\\second.txt",
        member="Sources/second.txt",
    )
    b.select(d2, "We call the front desk.", [c])
    return b


@scenario
def braced_upper_guids() -> QdpxBuilder:
    return basic(QdpxBuilder(braces=True, upper=True))


@scenario
def inline_text() -> QdpxBuilder:
    b = QdpxBuilder()
    c = b.code("point-person")
    d = b.doc("Interview 01", TEXT, inline=True)
    b.select(d, "She is our point person at the clinic.", [c])
    return b


@scenario
def uncoded_selections() -> QdpxBuilder:
    b = basic()
    b.select(b.docs[0], "Referrals go straight to her.", [])  # a MAXQDA memo-like selection
    return b


@scenario
def case_codings() -> QdpxBuilder:
    b = basic()
    case = b.cases[0][0]
    b.select(b.docs[0], "Referrals go straight to her.", [case])  # NVivo: a coding "at" a case
    return b


@scenario
def nested_codes() -> QdpxBuilder:
    b = QdpxBuilder()
    access = b.code("Access", codable=False, description="Getting to services")
    contact = b.code("point-person", parent=access)
    other_a = b.code("other", parent=access)
    care = b.code("Care")
    other_c = b.code("other", parent=care)
    d = b.doc("Interview 01", TEXT)
    b.select(d, "She is our point person at the clinic.", [contact])
    b.select(d, "I call Maria every week.", [other_a])
    b.select(d, "Referrals go straight to her.", [other_c, care])
    return b


EMOJI_TEXT = "Intro 😀 line.\r\nShe is our point person 👍 at the clinic.\r\nReferrals go straight to her.\r\n"


@scenario
def nvivo_utf16() -> QdpxBuilder:
    b = QdpxBuilder(braces=True, upper=True)
    c = b.code("point-person")
    d = b.doc(
        "Interview 01", EMOJI_TEXT, raw=b"\xef\xbb\xbf" + EMOJI_TEXT.encode("utf-8")
    )  # BOM, CRLF
    b.select(d, "She is our point person", [c], unit="utf16")
    b.select(d, "at the clinic.", [c], unit="utf16")
    b.select(d, "Referrals go straight to her.", [c], unit="utf16")
    return b


@scenario
def nvivo_inline_crlf_as_two() -> QdpxBuilder:
    # Inline text loses its CRs in XML line-end normalisation; positions still count CRLF as two.
    b = QdpxBuilder()
    c = b.code("point-person")
    text = "Intro line.\nShe is our point person.\nReferrals go straight to her.\nAnd more.\n"
    d = b.doc("Interview 01", text, inline=True)
    for target in ("She is our point person.", "Referrals go straight to her.", "And more."):
        b.select(d, target, [c], unit="lf2")
    return b


@scenario
def atlas_crlf_as_one() -> QdpxBuilder:
    b = QdpxBuilder(name="Trial", xml_name="Trial.qde")
    c = b.code("point-person")
    text = (
        "Intro line.\r\nShe is our point person.\r\nReferrals go straight to her.\r\nAnd more.\r\n"
    )
    d = b.doc("Interview 01", text)
    for target in ("She is our point person.", "Referrals go straight to her.", "And more."):
        b.select(d, target, [c], unit="crlf1", name=target[:12])
    return b


@scenario
def two_coders() -> QdpxBuilder:
    b = QdpxBuilder()
    alice, bob = b.user("Alice"), b.user("Bob")
    c = b.code("point-person")
    d = b.doc("Interview 01", TEXT)
    b.select(d, "I call Maria every week.", [c], user=alice)  # Alice, from the selection
    b.select(
        d, "She is our point person at the clinic.", [c], user=alice, coding_user=bob
    )  # the Coding says Bob
    b.select(
        d, "Referrals go straight to her.", [c], user=bob, coding_user=alice
    )  # the Coding says Alice
    return b


@scenario
def pdf_and_pictures() -> QdpxBuilder:
    b = QdpxBuilder()
    c = b.code("point-person")
    d = b.doc("Report.pdf", TEXT, kind="PDFSource")
    d.pdf_region_codes = [c]
    b.select(d, "She is our point person at the clinic.", [c])
    b.picture("Photo", [c])
    t = b.doc("Interview 01", TEXT)
    t.whole_codes = [c]
    b.select(t, "I call Maria every week.", [c])
    b.case("P07", sources=[d])
    return b


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_fixtures_validate_against_project_xsd(name: str) -> None:
    assert xsd_errors(SCENARIOS[name]().xml()) == []


# ---------------------------------------------------------------------------- the basic mapping


def test_each_coding_of_a_text_selection_is_one_row(tmp_path: Path) -> None:
    b = basic()
    rows, findings = load(b.write(tmp_path / "study.qdpx"))
    assert findings == []
    assert [(r.participant, r.code, r.text) for r in rows] == [
        ("P01", "direct-contact", "I call Maria every week."),
        ("P01", "point-person", "She is our point person at the clinic."),
        ("P01", "direct-contact", "She is our point person at the clinic."),
        (
            "Interview 02",
            "direct-contact",
            "We never know whom to call.",
        ),  # no case: the source's name
    ]
    sel = b.docs[0].selections[1]
    assert rows[1].excerpt_id == rows[2].excerpt_id == sel.guid  # one selection, two codings
    assert all(r.tags == {} for r in rows)
    assert [r.row for r in rows] == [1, 2, 3, 4]


def test_selection_case_wins_over_source_case(tmp_path: Path) -> None:
    b = QdpxBuilder()
    c = b.code("point-person")
    d = b.doc("Focus group", "Ann: we call Maria.\nBen: we call nobody.\n")
    s1 = b.select(d, "we call Maria.", [c])
    s2 = b.select(d, "we call nobody.", [c])
    b.case("Site A", sources=[d])
    b.case("Ben", selections=[s2])
    b.case("Ann", selections=[s1])
    rows, findings = load(b.write(tmp_path / "fg.qdpx"))
    assert [r.participant for r in rows] == ["Ann", "Ben"]
    assert findings == []


def test_source_in_several_cases_warns(tmp_path: Path) -> None:
    b = basic()
    b.case("Site A", sources=[b.docs[0]])
    rows, findings = load(b.write(tmp_path / "study.qdpx"))
    assert codes_of(findings) == ["qdpx.ambiguous-case"]
    assert rows[0].participant == "P01"


# ---------------------------------------------------------------------------- real-export deviations


def test_capitalised_sources_folder(tmp_path: Path) -> None:
    b = capital_sources_folder()
    with zipfile.ZipFile(io.BytesIO(b.zip_bytes())) as zf:
        assert all(n.startswith("Sources/") for n in zf.namelist() if n.endswith(".txt"))
    rows, findings = load(b.write(tmp_path / "study.qdpx"))
    assert findings == [] and len(rows) == 4


def test_project_xml_named_after_the_project(tmp_path: Path) -> None:
    b = xml_named_after_project()
    with zipfile.ZipFile(io.BytesIO(b.zip_bytes())) as zf:
        assert "Trial.qde" in zf.namelist() and "project.qde" not in zf.namelist()
    rows, findings = load(b.write(tmp_path / "Trial.qdpx"))
    assert findings == [] and texts(rows)[0] == "I call Maria every week."


def test_plain_text_paths_without_internal_prefix(tmp_path: Path) -> None:
    rows, findings = load(bare_paths().write(tmp_path / "study.qdpx"))
    assert findings == []
    assert texts(rows) == ["She is our point person at the clinic.", "We call the front desk."]


@pytest.mark.parametrize(("braces", "upper"), [(True, True), (True, False), (False, True)])
def test_braced_guids_in_either_case(tmp_path: Path, braces: bool, upper: bool) -> None:
    b = basic(QdpxBuilder(braces=braces, upper=upper))
    # Mix the forms: references written lower case without braces, definitions as the export writes them.
    xml = re.sub(
        r'targetGUID="\{?([0-9A-Fa-f-]+)\}?"',
        lambda m: f'targetGUID="{m.group(1).lower()}"',
        b.xml(),
    )
    assert xsd_errors(xml) == []
    rows, findings = load(b.write(tmp_path / "study.qdpx", xml))
    assert findings == []
    assert [(r.participant, r.code) for r in rows][:2] == [
        ("P01", "direct-contact"),
        ("P01", "point-person"),
    ]
    assert (
        rows[0].excerpt_id == b.docs[0].selections[0].guid.lower()
    )  # normalised: no braces, lower case


def test_inline_plain_text_content(tmp_path: Path) -> None:
    b = inline_text()
    assert "<PlainTextContent>" in b.xml()
    rows, findings = load(b.write(tmp_path / "study.qdpx"))
    assert findings == [] and texts(rows) == ["She is our point person at the clinic."]


def test_selections_without_coding_are_skipped(tmp_path: Path) -> None:
    rows, findings = load(uncoded_selections().write(tmp_path / "study.qdpx"))
    assert findings == []
    assert "Referrals go straight to her." not in texts(rows)
    assert len(rows) == 4


def test_codings_pointing_at_a_case_are_reported_and_skipped(tmp_path: Path) -> None:
    rows, findings = load(case_codings().write(tmp_path / "study.qdpx"))
    assert codes_of(findings) == ["qdpx.case-coding"]
    assert "case 'P01'" in findings[0].message
    assert len(rows) == 4 and "Referrals go straight to her." not in texts(rows)


def test_codings_pointing_at_nothing_are_reported(tmp_path: Path) -> None:
    b = basic()
    b.select(b.docs[0], "Referrals go straight to her.", ["00000000-0000-0000-0000-000000000000"])
    rows, findings = load(b.write(tmp_path / "study.qdpx"))
    assert codes_of(findings) == ["qdpx.unknown-code"] and len(rows) == 4


def test_non_text_codings_are_skipped_with_a_warning(tmp_path: Path) -> None:
    rows, findings = load(pdf_and_pictures().write(tmp_path / "study.qdpx"))
    assert codes_of(findings) == ["qdpx.skipped-selection"]
    assert (
        "1 of PDF regions" in findings[0].message
        and "1 of pictures" in findings[0].message
        and "1 of whole sources" in findings[0].message
    )
    # the PDF's plain-text representation has positions: its selection is read, with the PDF's case
    assert [(r.participant, r.text) for r in rows] == [
        ("P07", "She is our point person at the clinic."),
        ("Interview 01", "I call Maria every week."),
    ]


def test_missing_text_is_reported_and_its_codings_skipped(tmp_path: Path) -> None:
    b = basic()
    b.docs[1].member = "elsewhere/gone.txt"
    rows, findings = load(b.write(tmp_path / "study.qdpx"))
    assert codes_of(findings) == ["qdpx.missing-text"]
    assert "Interview 02" in findings[0].message and len(rows) == 3


@pytest.mark.parametrize(
    ("raw", "codes"),
    [
        ("She is our point person.".encode("utf-16"), []),  # the codec writes the BOM
        ("She is our point person, señor.".encode("cp1252"), ["data.cp1252-encoding"]),
    ],
    ids=["utf16-with-bom", "windows-1252"],
)
def test_text_encodings(tmp_path: Path, raw: bytes, codes: list[str]) -> None:
    b = QdpxBuilder()
    c = b.code("point-person")
    d = b.doc("Interview 01", "She is our point person.", raw=raw)
    b.select(d, "point person", [c])
    rows, findings = load(b.write(tmp_path / "study.qdpx"))
    assert codes_of(findings) == codes and texts(rows) == ["point person"]


def test_text_outside_the_archive_is_not_followed(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET", encoding="utf-8")
    b = basic()
    b.docs[0].plain_path = f"absolute://{secret}"
    b.docs[1].plain_path = "internal://../../secret.txt"
    rows, findings = load(b.write(tmp_path / "study.qdpx"))
    assert codes_of(findings) == ["qdpx.missing-text", "qdpx.missing-text", "qdpx.no-codings"]
    assert rows == []


# ---------------------------------------------------------------------------- nested codes


def test_nested_codes_are_named_by_their_own_name(tmp_path: Path) -> None:
    rows, _ = load(nested_codes().write(tmp_path / "study.qdpx"))
    assert [(r.code, r.code_path) for r in rows] == [
        ("point-person", "Access/point-person"),
        ("other", "Access/other"),
        ("other", "Care/other"),
        ("Care", "Care"),
    ]


def test_code_path_option_names_codes_by_full_path_only(tmp_path: Path) -> None:
    rows, _ = load(nested_codes().write(tmp_path / "study.qdpx"), code_path=True)
    assert [r.code for r in rows] == ["Access/point-person", "Access/other", "Care/other", "Care"]


def _project(tmp_path: Path, b: QdpxBuilder, themes: list[dict[str, Any]], **options: Any) -> Path:
    root = tmp_path / "study"
    b.write(root / "data" / "export.qdpx")
    (root / "data" / "survey.csv").write_text(
        "code,respondents,endorsed\npoint-person,10,4\n", encoding="utf-8"
    )
    source = {"id": "interviews", "kind": "excerpts", "path": "data/export.qdpx", **options}
    project = {
        "title": "T",
        "protocol": "blebu-2023",
        "sources": [source, {"id": "survey", "kind": "survey", "path": "data/survey.csv"}],
    }
    (root / "triangulate.yaml").write_text(
        yaml.safe_dump(project, sort_keys=False), encoding="utf-8"
    )
    (root / "codebook.yaml").write_text(
        yaml.safe_dump({"themes": themes}, sort_keys=False), encoding="utf-8"
    )
    return root


def test_codebook_may_name_a_nested_code_by_path_or_by_name(tmp_path: Path) -> None:
    themes = [
        {
            "id": "contact",
            "codes": {"interviews": ["point-person"], "survey": ["point-person"]},
        },  # by name
        {
            "id": "misc",
            "codes": {"interviews": ["Access/other"]},
        },  # by path: keeps Care/other apart
        {"id": "care", "codes": {"interviews": ["Care", "Care/other"]}},
    ]
    loaded = load_project(_project(tmp_path, nested_codes(), themes))
    assert loaded.project is not None, loaded.findings
    assert [f.code for f in loaded.findings] == []
    rows = loaded.project.sources["interviews"].excerpts
    assert [r.code for r in rows] == ["point-person", "Access/other", "Care/other", "Care"]


def test_one_name_for_two_codes_warns_when_the_codebook_merges_them(tmp_path: Path) -> None:
    themes = [
        {
            "id": "misc",
            "codes": {"interviews": ["other", "point-person", "Care"], "survey": ["point-person"]},
        }
    ]
    loaded = load_project(_project(tmp_path, nested_codes(), themes))
    assert [f.code for f in loaded.findings] == ["qdpx.duplicate-code-name"]
    assert "Access/other, Care/other" in loaded.findings[0].message


def test_code_path_true_does_not_accept_the_short_name(tmp_path: Path) -> None:
    themes = [
        {"id": "contact", "codes": {"interviews": ["point-person"], "survey": ["point-person"]}}
    ]
    from triangulate.pipeline import analyse_path

    result = analyse_path(_project(tmp_path, nested_codes(), themes, code_path=True))
    codes = [f.code for f in result.findings]
    assert "codebook.code-unused" in codes  # 'point-person' is not the path form
    assert codes.count("data.unsorted-code") == 4


# ---------------------------------------------------------------------------- positions


def test_utf16_positions_with_bom_and_crlf_are_detected(tmp_path: Path) -> None:
    rows, findings = load(nvivo_utf16().write(tmp_path / "nvivo.qdpx"))
    assert findings == []
    assert texts(rows) == [
        "She is our point person",
        "at the clinic.",
        "Referrals go straight to her.",
    ]


def test_inline_text_with_positions_counting_crlf_as_two(tmp_path: Path) -> None:
    rows, findings = load(nvivo_inline_crlf_as_two().write(tmp_path / "nvivo.qdpx"))
    assert findings == []
    assert texts(rows) == ["She is our point person.", "Referrals go straight to her.", "And more."]


def test_crlf_counted_as_one_is_detected(tmp_path: Path) -> None:
    rows, findings = load(atlas_crlf_as_one().write(tmp_path / "Trial.qdpx"))
    assert findings == []
    assert texts(rows) == ["She is our point person.", "Referrals go straight to her.", "And more."]


def test_positions_option_forces_the_unit(tmp_path: Path) -> None:
    path = nvivo_utf16().write(tmp_path / "nvivo.qdpx")
    rows, findings = load(path, positions="utf16")
    assert findings == [] and texts(rows)[0] == "She is our point person"
    rows, findings = load(path, positions="codepoints")
    assert texts(rows)[0] != "She is our point person"
    mismatch = [f for f in findings if f.code == "qdpx.position-mismatch"]
    assert len(mismatch) == 1 and set(codes_of(findings)) <= {
        "qdpx.position-mismatch",
        "qdpx.position-unit",
    }
    assert "code points" in mismatch[0].message and "positions:" in mismatch[0].message


def test_selection_outside_the_text_warns_and_keeps_the_coding(tmp_path: Path) -> None:
    b = QdpxBuilder()
    c = b.code("point-person")
    d = b.doc("Interview 01", "Short text.")
    b.select(d, "Short text.", [c])
    b.span(d, 6, 500, [c])
    rows, findings = load(b.write(tmp_path / "study.qdpx"))
    assert codes_of(findings) == ["qdpx.position-mismatch"]
    assert "outside the text" in findings[0].message
    assert texts(rows) == ["Short text.", "text."]


def test_selection_cutting_words_warns(tmp_path: Path) -> None:
    b = QdpxBuilder()
    c = b.code("point-person")
    d = b.doc("Interview 01", "She is our point person.")
    b.span(d, 2, 9, [c])
    rows, findings = load(b.write(tmp_path / "study.qdpx"))
    assert texts(rows) == ["e is ou"]
    assert codes_of(findings) == ["qdpx.position-mismatch"] and "cuts a word" in findings[0].message


def test_non_numeric_positions_warn(tmp_path: Path) -> None:
    b = QdpxBuilder()
    c = b.code("point-person")
    d = b.doc("Interview 01", "She is our point person.")
    b.span(d, "x", "9", [c])
    path = tmp_path / "study.qdpx"
    path.write_bytes(b.zip_bytes())
    rows, findings = load(path)
    assert codes_of(findings) == ["qdpx.position-mismatch"] and rows[0].text == ""


def test_equally_good_readings_warn(tmp_path: Path) -> None:
    b = QdpxBuilder()
    c = b.code("x")
    d = b.doc("Interview 01", "😀 x a,b,c")
    b.select(d, "a,b", [c], unit="utf16")  # read as code points: ",b," -- as plausible
    rows, findings = load(b.write(tmp_path / "study.qdpx"))
    assert codes_of(findings) == ["qdpx.position-unit"]
    assert texts(rows) == [",b,"]  # a tie goes to the specification's unit
    rows, findings = load(tmp_path / "study.qdpx", positions="utf16")
    assert findings == [] and texts(rows) == ["a,b"]


def test_shifted_readings_that_start_with_white_space_lose(tmp_path: Path) -> None:
    b = QdpxBuilder()
    c = b.code("x")
    d = b.doc("Interview 01", "😀 a b c d")
    b.select(d, "b c", [c], unit="utf16")  # read as code points: " c "
    rows, findings = load(b.write(tmp_path / "study.qdpx"))
    assert findings == [] and texts(rows) == ["b c"]


def test_selection_names_quoting_the_text_help_detection(tmp_path: Path) -> None:
    b = QdpxBuilder()
    c = b.code("x")
    d = b.doc("Interview 01", "😀 x a,b,c,d")
    b.select(d, "a,b,c", [c], unit="utf16", name="a,b,c")  # ATLAS.ti names a quotation by its start
    rows, findings = load(b.write(tmp_path / "study.qdpx"))
    assert findings == [] and texts(rows) == ["a,b,c"]


@pytest.mark.parametrize(
    "unit", ["codepoints", "utf16", "crlf1", "lf2", "utf16+crlf1", "utf16+lf2"]
)
def test_mapper_inverts_every_unit(unit: str) -> None:
    text = "a😀b\r\nc\nd👍👍\r\n\ne"
    reading = qdpx.Mapper(
        text,
        "utf16" if "utf16" in unit else "codepoints",
        next((n for n in ("crlf1", "lf2") if n in unit), "stored"),
    )
    for i in range(len(text) + 1):
        if "crlf1" in unit and 0 < i < len(text) and text[i - 1] == "\r" and text[i] == "\n":
            continue  # between CR and LF: no such place when CRLF counts as one
        if "lf2" in unit and text[i - 1 : i] == "\r":
            continue  # the builder's lf2 counts CRLF as two already; a lone CR is never written
        u = to_units(text, i, unit)
        assert reading.units(i) == u
        assert reading.to_index(u) == i


WORD = st.text(alphabet="abcxyz", min_size=1, max_size=6)
SEP = st.sampled_from([" ", "\r\n", " 😀 ", "\n", ", ", " 👍\r\n"])


@pytest.mark.fuzz
@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    words=st.lists(st.tuples(WORD, SEP), min_size=1, max_size=25),
    picks=st.lists(st.integers(min_value=0, max_value=24), min_size=1, max_size=6),
    unit=st.sampled_from(["codepoints", "utf16", "crlf1", "utf16+crlf1"]),
)
def test_property_word_selections_come_back_or_warn(
    tmp_path: Path, words: list[tuple[str, str]], picks: list[int], unit: str
) -> None:
    text = "".join(w + s for w, s in words)
    starts: list[tuple[int, str]] = []
    at = 0
    for w, s in words:
        starts.append((at, w))
        at += len(w) + len(s)
    b = QdpxBuilder()
    c = b.code("x")
    d = b.doc("Doc", text)
    wanted = []
    for p in picks:
        i, w = starts[p % len(starts)]
        b.span(d, to_units(text, i, unit), to_units(text, i + len(w), unit), [c])
        wanted.append(w)
    path = b.write(tmp_path / "p.qdpx")
    rows, findings = load(path)
    if texts(rows) != wanted:
        assert "qdpx.position-unit" in codes_of(findings)
    else:
        assert "qdpx.position-mismatch" not in codes_of(findings)


# ---------------------------------------------------------------------------- coder


def test_coder_keeps_one_users_codings_coding_user_first(tmp_path: Path) -> None:
    path = two_coders().write(tmp_path / "study.qdpx")
    rows, _ = load(path, coder="Alice")
    assert texts(rows) == ["I call Maria every week.", "Referrals go straight to her."]
    rows, _ = load(path, coder="bob")  # names match case-insensitively when no exact match
    assert texts(rows) == ["She is our point person at the clinic."]
    rows, _ = load(path)
    assert len(rows) == 3


def test_coder_by_guid_in_any_form(tmp_path: Path) -> None:
    b = two_coders()
    alice = b.users[0][0]
    rows, _ = load(b.write(tmp_path / "study.qdpx"), coder="{" + alice.upper() + "}")
    assert len(rows) == 2


def test_unknown_coder_is_an_error(tmp_path: Path) -> None:
    path = two_coders().write(tmp_path / "study.qdpx")
    spec = SourceSpec(id="interviews", kind="excerpts", path=path.name, coder="Carol")
    data, findings = load_source(tmp_path, spec, [])
    assert data is None
    assert codes_of(findings) == ["qdpx.unknown-coder"] and "'Alice', 'Bob'" in findings[0].message


def test_coder_with_no_codings_warns(tmp_path: Path) -> None:
    b = two_coders()
    b.user("Dora")
    rows, findings = load(b.write(tmp_path / "study.qdpx"), coder="Dora")
    assert rows == [] and codes_of(findings) == ["qdpx.no-codings"]


# ---------------------------------------------------------------------------- options and the project


def test_qdpx_options_only_on_qdpx_sources(tmp_path: Path) -> None:
    root = _project(tmp_path, basic(), [{"id": "t", "codes": {"survey": ["point-person"]}}])
    doc = yaml.safe_load((root / "triangulate.yaml").read_text(encoding="utf-8"))
    doc["sources"][1].update({"positions": "utf16", "coder": "Alice", "code_path": True})
    (root / "triangulate.yaml").write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    findings = load_project(root).findings
    opts = [f for f in findings if f.code == "project.source-option"]
    assert [f.location.field for f in opts] == [
        "sources[1].positions",
        "sources[1].coder",
        "sources[1].code_path",
    ]
    assert all(f.location.line for f in opts)


def test_bad_positions_value_is_a_yaml_error(tmp_path: Path) -> None:
    root = _project(tmp_path, basic(), [], positions="bytes")
    findings = load_project(root).findings
    assert [f.code for f in findings] == ["yaml.invalid-value"]


def test_run_end_to_end(tmp_path: Path, cli: Callable[..., Any]) -> None:
    themes = [
        {"id": "contact", "codes": {"interviews": ["point-person"], "survey": ["point-person"]}},
        {"id": "direct", "codes": {"interviews": ["direct-contact"]}},
    ]
    root = _project(tmp_path, basic(QdpxBuilder(folder="Sources", braces=True, upper=True)), themes)
    r = cli(["run", str(root)])
    assert r.exit_code == 0, r
    report = (root / "out" / "report.md").read_text(encoding="utf-8")
    assert "We never know whom to call." in report  # a silence's evidence, read from the .qdpx
    sorting = (root / "out" / "sorting.csv").read_text(encoding="utf-8")
    assert "contact,,interviews,yes,point-person,1,1," in sorting


# ---------------------------------------------------------------------------- hostile input


def _zip(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return buf.getvalue()


def _errors(path: Path) -> list[str]:
    spec = SourceSpec(id="interviews", kind="excerpts", path=path.name)
    data, findings = load_source(path.parent, spec, [])
    assert data is None
    return [f.code for f in findings if f.is_error]


XXE = b"""<?xml version="1.0"?>
<!DOCTYPE Project [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Project xmlns="urn:QDA-XML:project:1.0" name="&xxe;"/>"""
LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<Project xmlns="urn:QDA-XML:project:1.0" name="&lol3;"/>"""


@pytest.mark.parametrize("xml", [XXE, LAUGHS], ids=["external-entity", "billion-laughs"])
def test_entities_and_dtds_are_refused(tmp_path: Path, xml: bytes) -> None:
    path = tmp_path / "evil.qdpx"
    path.write_bytes(_zip({"project.qde": xml}))
    assert _errors(path) == ["refi.unsafe-xml"]


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"not a zip at all", "refi.malformed"),
        (b"", "refi.malformed"),
        (_zip({"sources/a.txt": b"x"}), "refi.malformed"),  # no project XML
        (_zip({"project.qde": b"<Project"}), "refi.malformed"),  # XML cut short
        (_zip({"project.qde": b"<CodeBook xmlns='urn:QDA-XML:codebook:1.0'/>"}), "refi.malformed"),
        (
            _zip({"project.qde": b"<?xml version='1.0' encoding='no-such-codec'?><Project/>"}),
            "refi.malformed",
        ),
    ],
    ids=["not-zip", "empty", "no-qde", "truncated-xml", "codebook-root", "bad-encoding"],
)
def test_broken_archives_give_findings(tmp_path: Path, content: bytes, code: str) -> None:
    path = tmp_path / "broken.qdpx"
    path.write_bytes(content)
    assert _errors(path) == [code]


def test_missing_file_is_could_not_run(tmp_path: Path) -> None:
    assert _errors(tmp_path / "nowhere.qdpx") == ["file.missing"]


def test_entry_count_is_capped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(qdpx, "MAX_ENTRIES", 5)
    path = tmp_path / "many.qdpx"
    path.write_bytes(_zip({f"sources/{i}.txt": b"x" for i in range(6)}))
    assert _errors(path) == ["refi.too-large"]


def test_xml_size_is_capped_without_trusting_the_header(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(qdpx, "MAX_XML_BYTES", 10_000)
    bomb = b"<Project name='x'>" + b" " * 5_000_000 + b"</Project>"  # compresses to a few kB
    path = tmp_path / "bomb.qdpx"
    path.write_bytes(_zip({"project.qde": bomb}))
    assert path.stat().st_size < 50_000
    assert _errors(path) == ["refi.too-large"]
    # The read itself is bounded too (a header that under-states the size cannot make it read more).
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("project.qde")
        info.file_size = 5_000  # zipfile then stops after 5,000 bytes and fails the CRC check
        with pytest.raises(zipfile.BadZipFile):
            qdpx._read_member(zf, info, 10_000, qdpx._Budget())


def test_text_size_is_capped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(qdpx, "MAX_TEXT_BYTES", 50)
    b = basic()
    spec = SourceSpec(id="interviews", kind="excerpts", path="study.qdpx")
    b.write(tmp_path / "study.qdpx")
    data, findings = load_source(tmp_path, spec, [])
    assert [f.code for f in findings] == [
        "refi.too-large"
    ]  # Interview 01 (82 bytes); Interview 02 fits
    assert data is not None and texts(data.excerpts) == ["We never know whom to call."]


def test_nothing_is_extracted_to_disk(tmp_path: Path) -> None:
    b = basic()
    b.extra_members = {"../../escaped.txt": b"x", "/abs.txt": b"y"}
    (tmp_path / "in").mkdir()
    path = b.write(tmp_path / "in" / "study.qdpx")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    rows, _ = load(path)
    assert len(rows) == 4
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_deep_code_nesting_is_bounded(tmp_path: Path) -> None:
    depth = 5_000
    codes = "".join(
        f'<Code guid="{i:08d}-0000-0000-0000-000000000000" name="c{i}" isCodable="true">'
        for i in range(depth)
    )
    xml = f'<Project xmlns="urn:QDA-XML:project:1.0" name="x"><CodeBook><Codes>{codes}{"</Code>" * depth}</Codes></CodeBook></Project>'
    path = tmp_path / "deep.qdpx"
    path.write_bytes(_zip({"project.qde": xml.encode()}))
    spec = SourceSpec(id="interviews", kind="excerpts", path=path.name)
    data, findings = load_source(tmp_path, spec, [])
    assert data is not None and codes_of(findings) == ["qdpx.no-codings"]


@pytest.mark.fuzz
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.binary(max_size=2_000))
def test_property_any_bytes_load_or_give_findings(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "any.qdpx"
    path.write_bytes(content)
    data, findings = load_source(tmp_path, SourceSpec(id="s", kind="excerpts", path="any.qdpx"), [])
    assert data is not None or any(f.is_error for f in findings)


XMLISH = st.one_of(
    st.binary(max_size=400),
    st.text(
        alphabet='<>/="{} \n\r&;!?abcdefPrjtTxSulnCoigRGUIDpsxPlainextSeco0123456789-', max_size=400
    ).map(str.encode),
)


@pytest.mark.fuzz
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(xml=XMLISH, text=st.binary(max_size=200), start=st.integers(-5, 50), end=st.integers(-5, 50))
def test_property_any_project_xml_loads_or_gives_findings(
    tmp_path: Path, xml: bytes, text: bytes, start: int, end: int
) -> None:
    g = "0123abcd-0000-0000-0000-00000000000"
    well_formed = (
        f'<Project xmlns="urn:QDA-XML:project:1.0" name="p"><CodeBook><Codes><Code guid="{g}1" name="c" isCodable="true"/></Codes></CodeBook>'
        f'<Sources><TextSource guid="{g}2" plainTextPath="internal://{g}2.txt"><PlainTextSelection guid="{g}3" startPosition="{start}" endPosition="{end}">'
        f'<Coding guid="{g}4"><CodeRef targetGUID="{g}1"/></Coding></PlainTextSelection></TextSource></Sources></Project>'
    ).encode()
    for doc in (xml, well_formed):
        path = tmp_path / "x.qdpx"
        path.write_bytes(_zip({"project.qde": doc, f"sources/{g}2.txt": text}))
        data, findings = load_source(
            tmp_path, SourceSpec(id="s", kind="excerpts", path="x.qdpx"), []
        )
        assert data is not None or any(f.is_error for f in findings)
        if data is not None:
            assert all(isinstance(r.text, str) for r in data.excerpts)


# ---------------------------------------------------------------------------- bounded memory, fast paths
# Issue 13 item 1 (a few KB of zip must not need gigabytes) and issue 14 (skip unit detection when
# every unit reads a text alike).

BOMB_SCRIPT = """
import re, sys
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from qdpx_builder import QdpxBuilder
from triangulate.project.models import SourceSpec
from triangulate.sources.load import load_source

kind, size, out = sys.argv[2], int(sys.argv[3]), Path(sys.argv[4])
b = QdpxBuilder()
c = b.code("x")
if kind == "spans":  # one text, 40 selections spanning nearly all of it
    text, inline = "word " * (size // 5), False
elif kind == "lines":  # a line break every two characters, inline: the CRLF-as-two mapper's worst case
    text, inline = "a\\n" * (size // 2), True
else:  # emoji and CRLFs: UTF-16 and CRLF breakpoints of both signs
    text, inline = "\\U0001F600\\r\\n" * (size // 6), False
d = b.doc("Big", text, inline=inline)
for k in range(40):
    b.span(d, k, len(text) - k, [c])
b.write(out)
del b, d, text
data, findings = load_source(out.parent, SourceSpec(id="i", kind="excerpts", path=out.name), [])
assert data is not None and len(data.excerpts) == 40, findings
assert "qdpx.long-excerpt" in [f.code for f in findings]
print(re.search(r"VmHWM:\\s+(\\d+) kB", open("/proc/self/status").read()).group(1))
"""


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads VmHWM from /proc")
@pytest.mark.parametrize("kind", ["spans", "lines", "emoji-crlf"])
def test_archive_bombs_need_bounded_memory(tmp_path: Path, kind: str) -> None:
    """16 MB texts that zip to a few KB: before, 'spans' peaked at 3.8 GB, 'lines' at 5.7 GB and
    'emoji-crlf' at 5.9 GB (validate; see /work/notes/interop.md). The peak of a fresh interpreter
    (VmHWM: this process image only) that builds the archive and reads it stays under 400 MB."""
    fixtures = str(Path(__file__).parent / "fixtures" / "qdpx")
    proc = subprocess.run(
        [
            sys.executable,
            "-c",
            BOMB_SCRIPT,
            fixtures,
            kind,
            str(16 * 2**20),
            str(tmp_path / "b.qdpx"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "b.qdpx").stat().st_size < 100_000  # a few KB of zip
    assert int(proc.stdout) < 400 * 1024, proc.stdout  # kB


def test_long_excerpts_are_shortened_and_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(qdpx, "MAX_EXCERPT_CHARS", 30)
    monkeypatch.setattr(qdpx, "MAX_EXCERPT_TOTAL", 100)
    monkeypatch.setattr(qdpx, "MAX_EXCERPT_CUT", 10)
    b = QdpxBuilder()
    c = b.code("x")
    text = "".join(f"Sentence number {k:02d} is here. " for k in range(20))
    d = b.doc("Long", text)
    b.span(d, 0, 29, [c, c])  # 29 characters: kept whole, once for both codings
    for _ in range(4):
        b.span(d, 0, len(text), [c])
    rows, findings = load(b.write(tmp_path / "p.qdpx"))
    assert len(rows) == 6
    assert rows[0].text == text[:29] and rows[0].text is rows[1].text
    # 30 characters (+ " …") while the total allows, then 10 once the 100 are used up
    assert [len(r.text) for r in rows[2:]] == [32, 32, 12, 12]
    assert all(r.text.endswith(" …") for r in rows[2:])
    hit = next(f for f in findings if f.code == "qdpx.long-excerpt")
    assert "4 excerpt(s)" in hit.message and f"{len(text):,} characters" in hit.message


def test_unit_detection_is_skipped_when_every_unit_reads_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    landed: list[tuple[str, str]] = []
    real = qdpx._land_all

    def spy(doc: qdpx.TextDoc, key: tuple[str, str]) -> list[qdpx.Landing]:
        landed.append(key)
        return real(doc, key)

    monkeypatch.setattr(qdpx, "_land_all", spy)
    # ASCII text with LF line ends, stored in a file: every reading gives the same positions
    rows, findings = load(basic().write(tmp_path / "plain.qdpx"))
    assert texts(rows)[0] == "I call Maria every week." and findings == []
    assert landed == []  # nothing scored: the selections landed as written, in one pass
    # CRLF: 'stored' and 'CRLF as one' differ, both are scored, and the winner is reused for rows
    landed.clear()
    b = QdpxBuilder()
    c = b.code("x")
    d = b.doc("Doc", TEXT.replace("\n", "\r\n"))
    b.select(d, "Referrals go straight to her.", [c], unit="crlf1")
    rows, _ = load(b.write(tmp_path / "crlf.qdpx"))
    assert texts(rows) == ["Referrals go straight to her."]
    assert landed == [("codepoints", "stored"), ("codepoints", "crlf1")]


def test_xml_that_could_hide_a_doctype_goes_through_defusedxml(tmp_path: Path) -> None:
    """The fast C parser reads only UTF-8/ASCII XML with no '<!DOCTYPE' bytes; a DTD in another
    encoding (here EBCDIC, where the bytes differ) is still refused."""
    decl = b'<?xml version="1.0" encoding="cp037"?>'
    body = (
        '<!DOCTYPE Project [<!ENTITY e "x">]><Project xmlns="urn:QDA-XML:project:1.0" name="&e;"/>'
    )
    assert qdpx._no_dtd_possible(decl + body.encode("cp037")) is False
    assert qdpx._no_dtd_possible(LAUGHS.decode().encode("utf-16")) is False
    assert qdpx._no_dtd_possible(b'<?xml version="1.0" encoding="UTF-8"?><Project/>') is True
    path = tmp_path / "ebcdic.qdpx"
    path.write_bytes(_zip({"project.qde": decl + body.encode("cp037")}))
    # refused either way: defusedxml sees the DTD, or expat does not know the code page
    assert _errors(path) in (["refi.unsafe-xml"], ["refi.malformed"])
    path.write_bytes(_zip({"project.qde": decl.replace(b"cp037", b"latin-1") + body.encode()}))
    assert _errors(path) == ["refi.unsafe-xml"]


# ---------------------------------------------------------------------------- locations and names (issue 13 item 19)


def test_qdpx_findings_point_at_the_code_not_at_row_1(
    tmp_path: Path, cli: Callable[..., Any]
) -> None:
    """An unsorted .qdpx code was reported at 'row 1' (a .qdpx has no rows): the finding now names
    the Code element (its path and GUID) and carries no row, so CI annotations do not land on line 1."""
    import json

    b = basic(QdpxBuilder(braces=True, upper=True))
    themes = [
        {"id": "contact", "codes": {"interviews": ["point-person"], "survey": ["point-person"]}}
    ]
    root = _project(tmp_path, b, themes)
    r = cli(["validate", str(root), "--format", "json"])
    doc = json.loads(r.stdout)
    hit = next(
        f
        for f in doc["findings"]
        if f["code"] == "data.unsorted-code" and "direct-contact" in f["message"]
    )
    direct = next(c for c in b.codes if c.name == "direct-contact")
    assert hit["location"]["row"] is None and hit["location"]["line"] is None
    assert hit["location"]["field"] == f"Code 'direct-contact' {b.g(direct.guid)}"
    text = cli(["validate", str(root)])
    line = next(x for x in text.stderr.splitlines() if "direct-contact" in x)
    assert "row" not in line.split(": warning")[0]
    gh = cli(["validate", str(root), "--format", "github"])
    ann = next(x for x in gh.stdout.splitlines() if "direct-contact" in x)
    assert "line=" not in ann.split("::")[1]


def test_unnamed_sources_are_named_by_their_text_file(tmp_path: Path) -> None:
    b = QdpxBuilder()
    c = b.code("x")
    named = b.doc(
        "",
        "A first text here.",
        plain_path="internal://Interview%2003.txt",
        member="sources/Interview 03.txt",
    )
    guid_only = b.doc("", "A second text here.")
    b.select(named, "A first text here.", [c])
    b.select(guid_only, "A second text here.", [c])
    xml = b.xml().replace(' name=""', "")  # no name attribute at all, as some exports write
    path = tmp_path / "p.qdpx"
    path.write_bytes(b.zip_bytes(xml))
    rows, _ = load(path)
    assert [r.participant for r in rows] == ["Interview 03", guid_only.guid]


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_streamed_selections_read_as_the_whole_tree_does(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """Large project XML streams (its selections converted and emptied as they come in: half the
    memory); every scenario reads the same either way, findings included."""
    path = SCENARIOS[name]().write(tmp_path / f"{name}.qdpx")
    spec = SourceSpec(id="interviews", kind="excerpts", path=path.name)
    whole, f1 = load_source(tmp_path, spec, [])
    monkeypatch.setattr(qdpx, "STREAM_XML_BYTES", 0)
    streamed, f2 = load_source(tmp_path, spec, [])
    assert [f.code for f in f1] == [f.code for f in f2]
    assert whole is not None and streamed is not None
    assert [
        vars(r) if hasattr(r, "__dict__") else (r.excerpt_id, r.participant, r.code, r.text)
        for r in whole.excerpts
    ] == [
        vars(r) if hasattr(r, "__dict__") else (r.excerpt_id, r.participant, r.code, r.text)
        for r in streamed.excerpts
    ]
