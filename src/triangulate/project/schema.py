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


def build_schema(sf: SchemaFile) -> dict[str, Any]:
    generated = sf.model.model_json_schema(mode="validation")
    for patch in INPUT_FORMS.get(sf.name, []):
        patch(generated)
    generated.pop("title", None)
    generated.pop("description", None)
    return {"$schema": DIALECT, "title": sf.title, "description": sf.description, **generated}


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
