"""Docs that cannot drift: the finding-code page, the JSON Schemas, the CI and pre-commit snippets."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import REPO, SAMPLE
from test_hostile import invoke
from triangulate.docs import render_findings_md
from triangulate.findings import CODE_DOCS, CODES, COULD_NOT_RUN
from triangulate.project.schema import SCHEMA_FILES, render_schemas, stale_schemas

SRC = REPO / "src" / "triangulate"
DOCS = REPO / "docs"
SCHEMAS = REPO / "schemas"
# error("code", ...), warning("code", ...), Finding("code", ...), across line breaks
CODE_CALL = re.compile(r"""\b(?:error|warning|Finding)\(\s*["']([a-z0-9_-]+\.[a-z0-9_.-]+)["']""")


def codes_used_in_src() -> dict[str, list[str]]:
    used: dict[str, list[str]] = {}
    for path in sorted(SRC.rglob("*.py")):
        for code in CODE_CALL.findall(path.read_text(encoding="utf-8")):
            used.setdefault(code, []).append(str(path.relative_to(REPO)))
    return used


# ---------------------------------------------------------------------------- finding codes


def test_findings_page_is_up_to_date() -> None:
    page = (DOCS / "findings.md").read_text(encoding="utf-8")
    assert page == render_findings_md(), (
        "docs/findings.md is stale: run 'python -m triangulate.docs' from the repository root"
    )


def test_findings_page_says_how_to_regenerate_it() -> None:
    head = (DOCS / "findings.md").read_text(encoding="utf-8")[:800]
    assert "python -m triangulate.docs" in head and "GENERATED" in head


def test_every_code_used_in_src_is_registered_and_documented() -> None:
    used = codes_used_in_src()
    assert len(used) > 40, "the pattern finds the codes"
    unregistered = {c: where for c, where in used.items() if c not in CODES}
    assert not unregistered, (
        f"add these codes to CODES (and CODE_DOCS) in src/triangulate/findings.py: {unregistered}"
    )
    page = (DOCS / "findings.md").read_text(encoding="utf-8")
    undocumented = [c for c in used if f"### `{c}`" not in page]
    assert not undocumented, undocumented


def test_every_registered_code_has_an_example_and_a_fix() -> None:
    missing = sorted(set(CODES) - set(CODE_DOCS))
    assert not missing, (
        f"add an example and a fix to CODE_DOCS in src/triangulate/findings.py for: {missing}"
    )
    assert not set(CODE_DOCS) - set(CODES)
    for code, doc in CODE_DOCS.items():
        assert doc.example.endswith(f"[{code}]"), code
        assert re.search(r": (error|warning|info): ", doc.example), code
        assert doc.fix.strip() and doc.fix.strip()[-1] in ".)", code
    assert set(CODES) >= COULD_NOT_RUN


def test_codes_are_well_formed() -> None:
    for code in CODES:
        assert re.fullmatch(r"[a-z]+\.[a-z0-9]+(-[a-z0-9]+)*", code), code


def test_docs_generator_check_mode(tmp_path: Path) -> None:
    from triangulate.docs import main

    page = tmp_path / "findings.md"
    assert main([str(page), "--check"]) == 1
    assert main([str(page)]) == 0
    assert main([str(page), "--check"]) == 0
    page.write_text(page.read_text(encoding="utf-8") + "edited by hand\n", encoding="utf-8")
    assert main([str(page), "--check"]) == 1


# ---------------------------------------------------------------------------- JSON Schemas


def test_committed_schemas_are_up_to_date() -> None:
    assert stale_schemas(SCHEMAS) == [], (
        "schemas/ is stale: run 'triangulate schema' from the repository root"
    )
    assert {p.name for p in SCHEMAS.glob("*.json")} == {sf.name for sf in SCHEMA_FILES}


def test_schema_command_writes_and_checks(tmp_path: Path) -> None:
    out = tmp_path / "schemas"
    r = invoke(["schema", "--check", "--output", str(out)])
    assert r.exit_code == 1, str(r)
    r = invoke(["schema", "--output", str(out)])
    assert r.exit_code == 0, str(r)
    assert {p.name for p in out.iterdir()} == {
        "project.schema.json",
        "codebook.schema.json",
        "protocol.schema.json",
    }
    assert invoke(["schema", "--check", "--output", str(out)]).exit_code == 0
    (out / "codebook.schema.json").write_text("{}", encoding="utf-8")
    r = invoke(["schema", "--check", "--output", str(out)])
    assert r.exit_code == 1 and "codebook.schema.json" in r.stderr
    r = invoke(["schema"], cwd=tmp_path)  # default: schemas/ in the current directory
    assert r.exit_code == 0 and (tmp_path / "schemas" / "project.schema.json").is_file()
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    r = invoke(["schema", "--output", str(tmp_path / "afile")])
    assert r.exit_code == 2 and "Traceback" not in r.stderr


def test_sample_yaml_files_point_editors_at_the_schemas() -> None:
    for name, schema in (("triangulate.yaml", "project"), ("codebook.yaml", "codebook")):
        first = (SAMPLE / name).read_text(encoding="utf-8").splitlines()[0]
        assert first == f"# yaml-language-server: $schema=../../schemas/{schema}.schema.json"
        assert (SAMPLE / "../../schemas" / f"{schema}.schema.json").resolve().is_file()
    for protocol in (REPO / "protocols").glob("*.yaml"):
        first = protocol.read_text(encoding="utf-8").splitlines()[0]
        assert first == "# yaml-language-server: $schema=../schemas/protocol.schema.json"


def _validator(name: str) -> Any:
    jsonschema = pytest.importorskip("jsonschema")
    schema = json.loads(render_schemas()[name])
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_schemas_accept_the_shipped_files() -> None:
    cases = [
        ("project.schema.json", SAMPLE / "triangulate.yaml"),
        ("codebook.schema.json", SAMPLE / "codebook.yaml"),
    ]
    cases += [("protocol.schema.json", p) for p in sorted((REPO / "protocols").glob("*.yaml"))]
    for name, path in cases:
        errors = [
            e.message
            for e in _validator(name).iter_errors(yaml.safe_load(path.read_text(encoding="utf-8")))
        ]
        assert errors == [], (path, errors)


def test_schemas_accept_the_shorthands_the_models_accept() -> None:
    codebook = {"themes": [{"id": "t", "codes": {"a": "one-code", "b": [12, 1.5, "x"]}}]}
    assert list(_validator("codebook.schema.json").iter_errors(codebook)) == []
    from triangulate.project.models import Codebook

    Codebook.model_validate(codebook)


def test_schemas_reject_what_the_models_reject() -> None:
    v = _validator("project.schema.json")
    assert list(
        v.iter_errors(
            {
                "title": "x",
                "protocol": "p",
                "sources": [{"id": "a", "kind": "excerpts", "path": "a.csv"}],
                "reviewer": ["x"],
            }
        )
    )
    assert list(
        v.iter_errors(
            {
                "title": "x",
                "protocol": "p",
                "sources": [{"id": "Bad Id", "kind": "excerpts", "path": "a.csv"}],
            }
        )
    )
    assert list(
        v.iter_errors(
            {
                "title": "x",
                "protocol": "p",
                "sources": [{"id": "a", "kind": "interviews", "path": "a.csv"}],
            }
        )
    )


# ---------------------------------------------------------------------------- CI and pre-commit


def yaml_blocks(markdown: str) -> list[Any]:
    return [
        yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", markdown, flags=re.S)
    ]


def test_pre_commit_hook_definition() -> None:
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    (hook,) = [h for h in hooks if h["id"] == "triangulate-validate"]
    assert hook["entry"] == "triangulate validate" and hook["pass_filenames"] is False
    assert hook["language"] == "python"
    files = re.compile(hook["files"])
    for name in (
        "triangulate.yaml",
        "codebook.yml",
        "data/interviews.csv",
        "data/s.xlsx",
        "decisions.jsonl",
    ):
        assert files.search(name), name
    # what pre-commit runs: the entry, then the args, on the shipped sample
    entry = hook["entry"].split()
    assert entry[0] == "triangulate"
    r = invoke([*entry[1:], str(SAMPLE)])
    assert r.exit_code == 0, str(r)


def test_ci_page_workflow_and_snippets_are_valid() -> None:
    page = (DOCS / "ci.md").read_text(encoding="utf-8")
    blocks = yaml_blocks(page)
    workflow = next(b for b in blocks if isinstance(b, dict) and "jobs" in b)
    steps = workflow["jobs"]["triangulate"]["steps"]
    runs = [s["run"] for s in steps if "run" in s]
    assert any(r.startswith("triangulate validate ") for r in runs)
    assert any("--redact" in r for r in runs if r.startswith("triangulate run"))
    assert "pip install triangulate" not in page.replace('"pip install triangulate" from PyPI', "")
    hook_ids = {
        h["id"]
        for h in yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    }
    configs = [b for b in blocks if isinstance(b, dict) and "repos" in b]
    assert len(configs) == 2
    for config in configs:
        (repo,) = config["repos"]
        (hook,) = repo["hooks"]
        assert hook["id"] == "triangulate-validate"
        if repo["repo"] != "local":
            assert hook["id"] in hook_ids


def test_the_workflow_validate_step_works_under_actions(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")
    r = invoke(["validate", str(SAMPLE)])
    assert r.exit_code == 0, str(r)
    *lines, summary = r.stdout.splitlines()
    assert lines and all(
        line.startswith("::warning file=") and ",title=data.unsorted-code::" in line
        for line in lines
    )
    # more warnings than GitHub shows per step: the summary line says so
    assert summary.startswith(f"triangulate: 0 error(s), {len(lines)} warning(s); GitHub shows")


def test_fuzzing_page_documents_the_campaign_command() -> None:
    page = (DOCS / "fuzzing.md").read_text(encoding="utf-8")
    assert "HYPOTHESIS_PROFILE=long python -m pytest tests/test_fuzz.py" in page


def test_every_schema_property_is_described_and_every_schema_has_an_id() -> None:
    """Issue 13 item 19: editors show a property's description on hover."""
    from triangulate.project.schema import build_schema, undescribed

    for sf in SCHEMA_FILES:
        schema = build_schema(sf)
        assert schema["$id"] == f"urn:triangulate:schema:v2:{sf.name}"
        assert undescribed(schema) == [], sf.name


def test_ci_docs_use_action_majors_on_a_current_node_runtime() -> None:
    """Issue 13 item 19: checkout@v4, setup-python@v5 and upload-artifact@v4 run on the deprecated
    Node.js 20 runtime; the first majors on Node.js 24 are checkout v5, setup-python v6 and
    upload-artifact v6 (each action's release notes)."""
    import re

    text = (REPO / "docs" / "ci.md").read_text(encoding="utf-8")
    first_node24 = {"checkout": 5, "setup-python": 6, "upload-artifact": 6}
    used = re.findall(r"uses: actions/([a-z-]+)@v(\d+)", text)
    assert {name for name, _ in used} == set(first_node24)
    for name, major in used:
        assert int(major) >= first_node24[name], (name, major)
