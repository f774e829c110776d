"""JSON Schemas of the YAML files a team writes, generated from the pydantic models.

Editors that speak the YAML language server (VS Code, JetBrains, Neovim) complete and check a file
that starts with ``# yaml-language-server: $schema=<path>/project.schema.json``. The committed
copies live in ``schemas/`` at the top of the repository; ``triangulate schema`` writes them and
``triangulate schema --check`` (and a test) fails when they differ from the models.

The models accept a few shorthand input forms through ``mode="before"`` validators (a protocol's
``steps`` as plain names, a theme's codes as numbers or a single name). pydantic cannot see those,
so :data:`INPUT_FORMS` widens the generated schema to match, keeping every valid file valid in
the editor.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from triangulate.project.models import Codebook, ProjectFile, Protocol

DIALECT = "https://json-schema.org/draft/2020-12/schema"
ID_PREFIX = "urn:triangulate:schema:v2:"  # + the file name: a stable, network-free $id

# What each property means, shown by editors on hover. Keyed by the model (class) name and the
# property; a model's own ``Field(description=...)`` wins. tests/test_docs.py checks that every
# property of every schema has one, so a new field needs a line here (or a description in models).
DESCRIPTIONS: dict[str, dict[str, str]] = {
    "ProjectFile": {
        "title": "The study's title, shown at the top of every report.",
        "protocol": "A built-in protocol id (farmer-2006, blebu-2023) or the relative path of a protocol YAML.",
        "codebook": "The codebook YAML (themes and the sorting of codes), relative to this file.",
        "sources": "The data sources, in order: the order fixes source_a/source_b in every pair.",
        "reviewers": "Reviewer ids ([a-z0-9_-]+); each codes convergence in reviews/<id>.csv.",
        "output": "The folder the tool writes its outputs into (default out).",
    },
    "SourceSpec": {
        "id": "The source's id ([a-z0-9_-]+, unique); the codebook's codes are keyed by it.",
        "label": "The source's name in reports (default: its id).",
        "kind": "excerpts (coded qualitative excerpts, or a .qdpx), survey (survey-derived codes) or survey_responses (one row per respondent).",
        "path": "The data file, relative to this file: .csv, .tsv, .xlsx[#Sheet], .jsonl; .qdpx for excerpts; .sav/.dta for survey_responses.",
        "codes": "survey_responses only: code name -> the column (and endorsing answers) that gives it.",
    },
    "ResponseCode": {
        "column": "The column holding the answers to this code's question.",
        "endorse": "The answers (values or value labels) that count as endorsing; default: yes/1/true for a yes/no column, any answer otherwise.",
    },
    "Codebook": {
        "groups": "Optional overarching themes; a theme names one with 'group'.",
        "themes": "The units of triangulation, each with the codes of each source sorted into it.",
        "questions": "Optional research questions, for the completeness step.",
        "guids": "Optional, written by import-codebook: source id -> code -> the code's GUID in the QDA project, so that export-codebook gives the same codes back (no duplicates when imported again).",
    },
    "Group": {
        "id": "The group's id ([a-z0-9_-]+, unique).",
        "label": "The group's name in reports.",
        "description": "What the overarching theme covers.",
        "guid": "Optional, written by import-codebook: the GUID of the QDA folder or code set this group came from.",
    },
    "Theme": {
        "id": "The theme's id ([a-z0-9_-]+, unique).",
        "label": "The theme's name in reports (default: its id).",
        "group": "The id of the group (overarching theme) this theme belongs to.",
        "definition": "What the theme covers; shown to reviewers.",
        "codes": "Source id -> the codes of that source sorted into this theme (each code into one theme only).",
        "not_collected": "Sources whose instrument could not have captured this theme (silence is then not absence).",
        "guid": "Optional, written by import-codebook: the GUID of the QDA code or folder this theme came from.",
    },
    "Question": {
        "id": "The question's id ([a-z0-9_-]+, unique); themes name it in 'questions'.",
        "text": "The research question.",
    },
    "Protocol": {
        "id": "The protocol's id ([a-z0-9_-]+).",
        "title": "The protocol's name.",
        "citation": "The publication the protocol follows.",
        "description": "What the protocol is for.",
        "steps": "The protocol's steps, in order (sorting, convergence coding, ...).",
        "dimensions": "What a unit is compared on (e.g. meaning, prominence); each judged per pair of sources.",
        "categories": "The convergence categories a unit can end in (at least two).",
        "rules": "Which category the dimension judgements give.",
    },
    "Step": {
        "id": "The step's id ([a-z0-9_-]+).",
        "label": "The step's name in reports.",
    },
    "Dimension": {
        "id": "The dimension's id ([a-z0-9_-]+); excerpt tag columns are named by it.",
        "label": "The dimension's name, shown to coders.",
    },
    "Category": {
        "id": "The category's id ([a-z0-9_-]+).",
        "label": "The category's name in reports.",
        "definition": "What the category means; shown to coders.",
        "color": "The category's colour in reports, as #rrggbb.",
    },
    "Rules": {
        "one_source": "The category of a unit only one source speaks to (silence).",
        "all": "The category when every dimension meets.",
        "some": "The category when some dimensions meet and others do not.",
        "none": "The category when no dimension meets.",
    },
}


@dataclass(frozen=True)
class SchemaFile:
    name: str  # file name in schemas/
    model: type[BaseModel]
    title: str
    description: str


SCHEMA_FILES = (
    SchemaFile(
        "project.schema.json",
        ProjectFile,
        "triangulate project file (triangulate.yaml)",
        "The project file of a triangulate project: title, protocol, codebook, data sources in order, reviewers.",
    ),
    SchemaFile(
        "codebook.schema.json",
        Codebook,
        "triangulate codebook (codebook.yaml)",
        "Themes, optional groups, and the sorting of each source's codes into the themes.",
    ),
    SchemaFile(
        "protocol.schema.json",
        Protocol,
        "triangulate protocol",
        "A triangulation protocol: steps, comparison dimensions, convergence categories and the rule from "
        "dimension judgements to a category.",
    ),
)


def _steps_input(schema: dict[str, Any]) -> None:
    """Protocol.steps also accepts plain step ids: ``steps: [sorting, convergence_coding]``."""
    steps = schema["properties"]["steps"]
    item = steps["items"]
    steps["items"] = {"anyOf": [schema["$defs"]["Step"]["properties"]["id"], item]}


def _theme_codes_input(schema: dict[str, Any]) -> None:
    """Theme.codes values may be one name, and names in a list may be written as unquoted numbers."""
    codes = schema["$defs"]["Theme"]["properties"]["codes"]
    name = {"type": ["string", "number"]}
    codes["additionalProperties"] = {
        "anyOf": [{"type": "array", "items": name}, {"type": "string"}]
    }


INPUT_FORMS: dict[str, list[Callable[[dict[str, Any]], None]]] = {
    "protocol.schema.json": [_steps_input],
    "codebook.schema.json": [_theme_codes_input],
}


def _describe(schema: dict[str, Any], model: str) -> None:
    """Fill in each property's description from DESCRIPTIONS (a model's own description wins), and
    drop pydantic's generated per-property titles (they only repeat the key)."""
    for key, prop in schema.get("properties", {}).items():
        prop.pop("title", None)
        if "description" not in prop and key in DESCRIPTIONS.get(model, {}):
            prop["description"] = DESCRIPTIONS[model][key]


def build_schema(sf: SchemaFile) -> dict[str, Any]:
    generated = sf.model.model_json_schema(mode="validation")
    for patch in INPUT_FORMS.get(sf.name, []):
        patch(generated)
    generated.pop("title", None)
    generated.pop("description", None)
    _describe(generated, sf.model.__name__)
    for name, sub in generated.get("$defs", {}).items():
        _describe(sub, name)
    return {
        "$schema": DIALECT,
        "$id": ID_PREFIX + sf.name,
        "title": sf.title,
        "description": sf.description,
        **generated,
    }


def undescribed(schema: dict[str, Any]) -> list[str]:
    """``Model.property`` for every property that has no description (for the docs test)."""
    out = [f"<root>.{k}" for k, v in schema.get("properties", {}).items() if "description" not in v]
    for name, sub in schema.get("$defs", {}).items():
        out += [
            f"{name}.{k}" for k, v in sub.get("properties", {}).items() if "description" not in v
        ]
    return out


def render_schemas() -> dict[str, str]:
    """File name -> the text of each schema file (stable: same models, same bytes)."""
    return {
        sf.name: json.dumps(build_schema(sf), indent=2, ensure_ascii=False) + "\n"
        for sf in SCHEMA_FILES
    }


def write_schemas(out: Path) -> list[Path]:
    """Write every schema into ``out`` (atomically); returns the paths written."""
    from triangulate.files import atomic_write_text

    paths = []
    for name, text in render_schemas().items():
        path = out / name
        atomic_write_text(path, text)
        paths.append(path)
    return paths


def stale_schemas(out: Path) -> list[str]:
    """Names of the schema files in ``out`` that are missing or differ from the models."""
    stale = []
    for name, text in render_schemas().items():
        path = out / name
        try:
            current = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            current = None
        if current != text:
            stale.append(name)
    return stale
