"""REFI-QDA codebooks: `import-codebook` (.qdc/.qdpx -> codebook.yaml) and `export-codebook` (-> .qdc).

Exports are validated against the REFI-QDA Codebook.xsd with lxml (a test-only dependency).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from triangulate.project.models import Codebook, Theme
from triangulate.sources.refi.qdc import (
    codebook_yaml,
    draft_codebook,
    export_qdc,
    read_code_tree,
    read_codebook,
    slug,
)

sys.path.insert(0, str(Path(__file__).parent / "fixtures" / "qdpx"))
from qdpx_builder import ANNEX_QDC, CODEBOOK_XSD, QdpxBuilder, xsd_errors

NESTED_QDC = """<?xml version="1.0" encoding="UTF-8"?>
<CodeBook xmlns="urn:QDA-XML:codebook:1.0" origin="tests">
  <Codes>
    <Code guid="{5215CC69-B628-4E02-AFB9-9BEEAEE55808}" name="Access to care" isCodable="false">
      <Description>How families reach services</Description>
      <Code guid="d7aa29da-519b-4946-9b90-253b6db8fd0a" name="point-person" isCodable="true"/>
      <Code guid="0dcef2f5-e55c-49da-8c33-9b0803c7aeb4" name="Barriers" isCodable="false">
        <Code guid="7c108712-b650-4892-ac0b-fc9a10190c3b" name="transport" isCodable="true"/>
        <Code guid="12365523-1035-4afa-9e7b-281fe0bc51c5" name="other" isCodable="true"/>
      </Code>
    </Code>
    <Code guid="9fa9bcb7-5b59-47a9-8c3e-f65cffdc7520" name="Trust" isCodable="true">
      <Code guid="9fa9bcb7-5b59-47a9-8c3e-f65cffdc7521" name="other" isCodable="true"/>
    </Code>
    <Code guid="9fa9bcb7-5b59-47a9-8c3e-f65cffdc7522" name="Empty folder" isCodable="false"/>
  </Codes>
  SETS
</CodeBook>
"""


def write(tmp_path: Path, name: str, text: str) -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def themes_of(draft: dict[str, Any], source: str = "interviews") -> dict[str, list[str]]:
    return {t["id"]: t["codes"][source] for t in draft["themes"]}


# ---------------------------------------------------------------------------- import


def test_annex_example_codebook(tmp_path: Path) -> None:
    """The REFI-QDA 1.5 Annex A example: flat, with folders that hold nothing."""
    assert xsd_errors(ANNEX_QDC.read_bytes(), CODEBOOK_XSD) == []
    roots, findings = read_code_tree(ANNEX_QDC, "annex.qdc")
    assert findings == [] and roots is not None
    draft = draft_codebook(roots, "interviews")
    assert themes_of(draft) == {
        "topics": [],
        "economy": ["Economy"],
        "health_care": ["Health care"],
        "values": [],
        "conservatives": ["Conservatives"],
        "liberals": ["Liberals"],
    }
    assert draft["themes"][1] == {
        "id": "economy",
        "label": "Economy",
        "definition": "Anything about jobs or taxes or business",
        "codes": {"interviews": ["Economy"]},
        "guid": "{d7aa29da-519b-4946-9b90-253b6db8fd0a}",
    }


def test_nested_codebook_folders_are_groups_of_themes(tmp_path: Path) -> None:
    text = NESTED_QDC.replace("SETS", "")
    assert xsd_errors(text, CODEBOOK_XSD) == []
    roots, _ = read_code_tree(write(tmp_path, "c.qdc", text), "c.qdc")
    assert roots is not None
    draft = draft_codebook(roots, "staff")
    assert draft["groups"] == [
        {
            "id": "access_to_care",
            "label": "Access to care",
            "description": "How families reach services",
            "guid": "{5215CC69-B628-4E02-AFB9-9BEEAEE55808}",
        }
    ]
    assert themes_of(draft, "staff") == {
        "point-person": ["point-person"],
        "barriers": ["transport", "Access to care/Barriers/other"],  # 'other' twice: by path
        "trust": ["Trust", "Trust/other"],  # a codable top-level code is its own theme's first code
        "empty_folder": [],
    }
    assert [t.get("group") for t in draft["themes"]] == [
        "access_to_care",
        "access_to_care",
        None,
        None,
    ]


def test_taguette_empty_sets_and_member_codes_are_tolerated(tmp_path: Path) -> None:
    empty_sets = NESTED_QDC.replace("SETS", "<Sets></Sets>")
    assert xsd_errors(empty_sets, CODEBOOK_XSD) != []  # invalid, but Taguette writes it
    sets = NESTED_QDC.replace(
        "SETS",
        '<Sets><Set guid="9fa9bcb7-5b59-47a9-8c3e-f65cffdc7529" name="S"><MemberCode guid="d7aa29da-519b-4946-9b90-253b6db8fd0a"/></Set></Sets>',
    )
    assert xsd_errors(sets, CODEBOOK_XSD) == []
    for text in (empty_sets, sets):
        roots, findings = read_code_tree(write(tmp_path, "t.qdc", text), "t.qdc")
        assert findings == [] and roots is not None and len(roots) == 3


def test_import_from_a_qdpx(tmp_path: Path) -> None:
    b = QdpxBuilder(folder="Sources", braces=True, upper=True)
    access = b.code("Access", codable=False)
    b.code("point-person", parent=access)
    b.code("Trust")
    path = b.write(tmp_path / "export.qdpx")
    roots, findings = read_code_tree(path, "export.qdpx")
    assert findings == [] and roots is not None
    draft = draft_codebook(roots, "interviews")
    assert themes_of(draft) == {"point-person": ["point-person"], "trust": ["Trust"]}
    assert [g["label"] for g in draft["groups"]] == ["Access"]


def test_theme_ids_are_slugs_and_unique() -> None:
    assert slug("Health care") == "health_care"
    assert slug("Santé / Accès!") == "sante_acces"
    assert slug("***") == "theme"
    b = QdpxBuilder()
    b.code("Health care")
    b.code("health-care?")
    b.code("Health  care")
    from triangulate.sources.refi.qdpx import child, parse_code_tree, parse_xml

    root, _ = parse_xml(b.xml().encode(), "x")
    assert root is not None
    roots, _ = parse_code_tree(child(child(root, "CodeBook"), "Codes"))  # type: ignore[arg-type]
    ids = [t["id"] for t in draft_codebook(roots, "s")["themes"]]
    assert ids == ["health_care", "health-care", "health_care_2"]


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"not xml", "refi.malformed"),
        (b"<Project xmlns='urn:QDA-XML:project:1.0' name='x'/>", "refi.malformed"),  # no codes
        (b"<Other/>", "refi.malformed"),
        (b"<!DOCTYPE x [<!ENTITY e 'e'>]><CodeBook>&e;</CodeBook>", "refi.unsafe-xml"),
    ],
)
def test_bad_codebooks_give_findings(tmp_path: Path, content: bytes, code: str) -> None:
    p = tmp_path / "bad.qdc"
    p.write_bytes(content)
    roots, findings = read_code_tree(p, "bad.qdc")
    assert roots is None and [f.code for f in findings] == [code]


@pytest.mark.fuzz
@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.binary(max_size=1_000)
    | st.text(alphabet="<>/=\"' CodeBkNamisCbltrugfG{}-0123456789", max_size=300).map(str.encode)
)
def test_property_any_bytes_as_qdc_give_codes_or_findings(tmp_path: Path, content: bytes) -> None:
    p = tmp_path / "any.qdc"
    p.write_bytes(content)
    roots, findings = read_code_tree(p, "any.qdc")
    assert (roots is not None and roots) or any(f.is_error for f in findings)
    if roots:
        Codebook.model_validate(draft_codebook(roots, "s"))


# ---------------------------------------------------------------------------- the command


def test_import_codebook_command_writes_a_loadable_codebook(
    tmp_path: Path, cli: Callable[..., Any]
) -> None:
    qdc = write(tmp_path, "c.qdc", NESTED_QDC.replace("SETS", ""))
    r = cli(
        ["import-codebook", str(qdc), "--source", "staff", "--output", "study/codebook.yaml"],
        cwd=tmp_path,
    )
    assert r.exit_code == 0, r
    assert "1 group(s), 4 theme(s), 5 code(s) of source 'staff'" in r.stdout
    text = (tmp_path / "study" / "codebook.yaml").read_text(encoding="utf-8")
    assert text.startswith(
        "# yaml-language-server: $schema=schemas/codebook.schema.json\n"
        "# Drafted by `triangulate import-codebook` from c.qdc"
    )
    cb = Codebook.model_validate(yaml.safe_load(text))
    assert [t.id for t in cb.themes] == ["point-person", "barriers", "trust", "empty_folder"]


def test_import_codebook_never_overwrites(tmp_path: Path, cli: Callable[..., Any]) -> None:
    out = write(tmp_path, "codebook.yaml", "themes: []  # mine\n")
    r = cli(["import-codebook", str(ANNEX_QDC)], cwd=tmp_path)
    assert r.exit_code == 2 and "already exists" in r.stderr and "never overwrites" in r.stderr
    assert out.read_text(encoding="utf-8") == "themes: []  # mine\n"


def test_import_codebook_errors(tmp_path: Path, cli: Callable[..., Any]) -> None:
    r = cli(["import-codebook", "missing.qdc"], cwd=tmp_path)
    assert r.exit_code == 2 and "file not found" in r.stderr
    write(tmp_path, "bad.qdc", "<CodeBook")
    r = cli(["import-codebook", "bad.qdc"], cwd=tmp_path)
    assert r.exit_code == 1 and "[refi.malformed]" in r.stderr and "Traceback" not in r.stderr
    assert not (tmp_path / "codebook.yaml").exists()
    r = cli(["import-codebook", str(ANNEX_QDC), "--source", "Bad Id"], cwd=tmp_path)
    assert r.exit_code == 2


# ---------------------------------------------------------------------------- export


@pytest.mark.slow
def test_export_codebook_validates_and_round_trips(
    tmp_path: Path, builder: Any, cli: Callable[..., Any]
) -> None:
    from conftest import excerpt, survey

    root = builder.write(
        sources=[
            {"id": "interviews", "kind": "excerpts", "path": "data/i.csv"},
            {"id": "survey", "kind": "survey", "path": "data/s.csv"},
        ],
        themes=[
            {
                "id": "point_of_contact",
                "label": "Point of contact",
                "definition": "A named person <&> to call.",
                "codes": {
                    "interviews": ["point-person", "direct-contact"],
                    "survey": ["point-person", "q7"],
                },
            },
            {"id": "trust", "codes": {"interviews": ["trust"]}},
        ],
        data={"interviews": [excerpt("e1", "p1", "point-person")], "survey": [survey("q7", 10, 3)]},
    )
    r = cli(["export-codebook", str(root), "--output", str(tmp_path / "themes.qdc")])
    assert r.exit_code == 0, r
    xml = (tmp_path / "themes.qdc").read_bytes()
    assert xsd_errors(xml, CODEBOOK_XSD) == []
    roots, findings = read_code_tree(tmp_path / "themes.qdc", "themes.qdc")
    assert roots is not None and findings == []
    assert [
        (n.name, n.codable, n.description, [(c.name, c.codable) for c in n.children]) for n in roots
    ] == [
        (
            "Point of contact",
            False,
            "A named person <&> to call.",
            [("point-person", True), ("direct-contact", True), ("q7", True)],
        ),
        ("trust", False, "", [("trust", True)]),
    ]
    # deterministic, and never silently overwritten
    r = cli(["export-codebook", str(root), "--output", str(tmp_path / "themes.qdc")])
    assert r.exit_code == 2 and "--force" in r.stderr
    r = cli(
        [
            "export-codebook",
            str(root),
            "--output",
            str(tmp_path / "themes.qdc"),
            "--force",
            "--source",
            "survey",
        ]
    )
    assert r.exit_code == 0
    assert b'name="direct-contact"' not in (tmp_path / "themes.qdc").read_bytes()
    r = cli(["export-codebook", str(root), "--output", str(tmp_path / "again.qdc")])
    assert (tmp_path / "again.qdc").read_bytes() == xml


def test_export_codebook_without_a_project(tmp_path: Path, cli: Callable[..., Any]) -> None:
    r = cli(["export-codebook", str(tmp_path / "nothing")])
    assert r.exit_code == 2 and "[project.not-found]" in r.stderr


NAME = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=20).filter(
    lambda s: s.strip()
)


@pytest.mark.fuzz
@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(NAME, st.lists(NAME, max_size=4, unique=True)),
        min_size=1,
        max_size=5,
        unique_by=lambda t: t[0],
    )
)
def test_property_export_validates_and_imports_back(themes: list[tuple[str, list[str]]]) -> None:
    cb = Codebook(
        themes=[
            Theme(id=f"t{i}", label=label, codes={"s": codes})
            for i, (label, codes) in enumerate(themes)
        ]
    )
    xml, findings = export_qdc(cb, ["s"])
    assert xml is not None and findings == []
    assert xsd_errors(xml, CODEBOOK_XSD) == []
    from triangulate.sources.refi.qdpx import child, parse_code_tree, parse_xml

    root, f = parse_xml(xml.encode("utf-8"), "x")
    assert root is not None, f
    roots, _ = parse_code_tree(child(root, "Codes"))
    draft = draft_codebook(roots, "s")
    Codebook.model_validate(draft)
    # each exported theme is a folder: with codes it comes back as a group of one theme per code
    kept = [list(dict.fromkeys(c for c in map(_xml_chars, cs) if c.strip())) for _, cs in themes]
    assert len(draft.get("groups", [])) == sum(1 for cs in kept if cs)
    assert len(draft["themes"]) == sum(len(cs) or 1 for cs in kept)
    for i, ((label, codes), node) in enumerate(zip(themes, roots)):
        assert node.codable is False
        assert node.name == (
            _xml_chars(label).strip() or f"t{i}"
        )  # a label XML cannot carry: the id
        cleaned = list(dict.fromkeys(_xml_chars(c) for c in codes))
        assert [c.name for c in node.children] == [c.strip() for c in cleaned if c.strip()]


def _xml_chars(text: str) -> str:
    """What XML 1.0 can carry: control characters other than tab, LF and CR are dropped."""
    return "".join(
        ch for ch in text if ch in "\t\n\r" or (ord(ch) >= 0x20 and ch not in "\ufffe\uffff")
    )


def test_codebook_yaml_header_is_a_comment_and_round_trips() -> None:
    draft = {"themes": [{"id": "a", "label": "A: yes", "codes": {"s": ["no", "12", "x: y"]}}]}
    text = codebook_yaml(draft, "evil\nname.qdc", "s")
    assert all(line.startswith("#") for line in text.splitlines()[:5])
    assert yaml.safe_load(text) == draft


# ---------------------------------------------------------------------------- issue 13 item 19


def test_nvivo_non_codable_folder_is_a_group_of_themes(tmp_path: Path) -> None:
    """NVivo exports every code under a non-codable folder: it was one theme of 86 codes."""
    b = QdpxBuilder()
    nodes = b.code("Nodes", codable=False)
    for k in range(86):
        b.code(f"code {k:02d}", parent=nodes)
    roots, sets, findings = read_codebook(b.write(tmp_path / "nvivo.qdpx"), "nvivo.qdpx")
    assert roots is not None and findings == [] and sets == []
    draft = draft_codebook(roots, "interviews", sets)
    assert [g["id"] for g in draft["groups"]] == ["nodes"]
    assert len(draft["themes"]) == 86
    assert draft["themes"][5] == {
        "id": "code_05",
        "label": "code 05",
        "group": "nodes",
        "codes": {"interviews": ["code 05"]},
        "guid": roots[0].children[5].raw_guid,
    }


ATLAS_SETS = """<?xml version="1.0" encoding="UTF-8"?>
<CodeBook xmlns="urn:QDA-XML:codebook:1.0" origin="ATLAS.ti">
  <Codes>
    <Code guid="11111111-0000-4000-8000-000000000001" name="point-person" isCodable="true"/>
    <Code guid="11111111-0000-4000-8000-000000000002" name="front desk" isCodable="true"/>
    <Code guid="11111111-0000-4000-8000-000000000003" name="trust" isCodable="true"/>
    <Code guid="11111111-0000-4000-8000-000000000004" name="loose" isCodable="true"/>
  </Codes>
  <Sets>
    <Set guid="22222222-0000-4000-8000-000000000001" name="Referral pathways">
      <Description>Who families are sent to</Description>
      <MemberCode guid="11111111-0000-4000-8000-000000000001"/>
      <MemberCode guid="11111111-0000-4000-8000-000000000002"/>
    </Set>
    <Set guid="22222222-0000-4000-8000-000000000002" name="Relationships">
      <MemberCode guid="11111111-0000-4000-8000-000000000003"/>
      <MemberCode guid="11111111-0000-4000-8000-000000000001"/>
    </Set>
    <Set guid="22222222-0000-4000-8000-000000000003" name="Unused"/>
  </Sets>
</CodeBook>
"""


def test_atlas_code_groups_become_groups(tmp_path: Path, cli: Callable[..., Any]) -> None:
    """ATLAS.ti's code groups (<Sets>) were ignored: each becomes a group of its codes' themes; a
    code in two groups joins the first; a group that holds no theme is counted in the header."""
    assert xsd_errors(ATLAS_SETS, CODEBOOK_XSD) == []
    path = write(tmp_path, "atlas.qdc", ATLAS_SETS)
    roots, sets, findings = read_codebook(path, "atlas.qdc")
    assert roots is not None and findings == [] and len(sets) == 3
    draft = draft_codebook(roots, "interviews", sets)
    assert draft["groups"] == [
        {
            "id": "referral_pathways",
            "label": "Referral pathways",
            "description": "Who families are sent to",
            "guid": "22222222-0000-4000-8000-000000000001",
        },
        {
            "id": "relationships",
            "label": "Relationships",
            "guid": "22222222-0000-4000-8000-000000000002",
        },
    ]
    assert {t["id"]: t.get("group") for t in draft["themes"]} == {
        "point-person": "referral_pathways",  # also in Relationships: the first set wins
        "front_desk": "referral_pathways",
        "trust": "relationships",
        "loose": None,
    }
    r = cli(["import-codebook", str(path), "--output", str(tmp_path / "cb.yaml")])
    assert r.exit_code == 0, r
    text = (tmp_path / "cb.yaml").read_text(encoding="utf-8")
    assert "# 1 code set(s) group no theme here and are left out." in text
    Codebook.model_validate(yaml.safe_load(text))


def test_export_keeps_the_qda_projects_guids(tmp_path: Path) -> None:
    """A round trip into the QDA program must not duplicate codes: the codebook keeps each code's,
    theme's and group's GUID (as the file wrote it) and export-codebook writes them back."""
    text = NESTED_QDC.replace("SETS", "")
    roots, sets, _ = read_codebook(write(tmp_path, "c.qdc", text), "c.qdc")
    assert roots is not None
    cb = Codebook.model_validate(
        yaml.safe_load(codebook_yaml(draft_codebook(roots, "staff", sets), "c.qdc", "staff", sets))
    )
    assert cb.guids["staff"]["point-person"] == "d7aa29da-519b-4946-9b90-253b6db8fd0a"
    xml, findings = export_qdc(cb, ["staff"])
    assert xml is not None and findings == [] and xsd_errors(xml, CODEBOOK_XSD) == []
    (tmp_path / "back.qdc").write_text(xml, encoding="utf-8")
    back, _, _ = read_codebook(tmp_path / "back.qdc", "back.qdc")
    assert back is not None

    def shape(nodes: list[Any]) -> list[Any]:
        return [(n.raw_guid.lower(), n.name, n.codable, shape(n.children)) for n in nodes]

    # the same codes under the same GUIDs; 'Empty folder' and 'Trust' (a codable code with a child)
    # come back as they were; only the folder 'Barriers' has its codes right beneath it as before
    assert shape(back) == [
        (
            "{5215cc69-b628-4e02-afb9-9beeaee55808}",
            "Access to care",
            False,
            [
                ("d7aa29da-519b-4946-9b90-253b6db8fd0a", "point-person", True, []),
                (
                    "0dcef2f5-e55c-49da-8c33-9b0803c7aeb4",
                    "Barriers",
                    False,
                    [
                        ("7c108712-b650-4892-ac0b-fc9a10190c3b", "transport", True, []),
                        (
                            "12365523-1035-4afa-9e7b-281fe0bc51c5",
                            "Access to care/Barriers/other",
                            True,
                            [],
                        ),
                    ],
                ),
            ],
        ),
        (
            "9fa9bcb7-5b59-47a9-8c3e-f65cffdc7520",
            "Trust",
            True,
            [("9fa9bcb7-5b59-47a9-8c3e-f65cffdc7521", "Trust/other", True, [])],
        ),
        ("9fa9bcb7-5b59-47a9-8c3e-f65cffdc7522", "Empty folder", False, []),
    ]
    # a GUID given twice (an edit) is used once; the second code gets a derived one
    cb.guids["staff"]["transport"] = cb.guids["staff"]["point-person"]
    xml2, _ = export_qdc(cb, ["staff"])
    assert xml2 is not None and xml2.count("d7aa29da-519b-4946-9b90-253b6db8fd0a") == 1
