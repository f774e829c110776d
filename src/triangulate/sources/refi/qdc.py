"""REFI-QDA codebooks: seed a ``codebook.yaml`` from a ``.qdc``/``.qdpx``, and export themes as a ``.qdc``.

Import rule (``triangulate import-codebook``): one theme per top-level code or folder of the code
tree, in the file's order. The theme's label is the code's name, its id a slug of the name (unique),
its definition the code's description. Its codes, for the one excerpts source named by ``--source``,
are the codable codes beneath it, depth first (and the top-level code itself first when it is
codable), each by its own name; where two codable codes of the tree share a name, both are listed by
their full path (``Parent/child``), which the .qdpx reader also accepts. Folders (``isCodable=false``)
are never listed as codes. A top-level folder with nothing codable beneath it gives a theme with an
empty list.

Export rule (``triangulate export-codebook``): each theme becomes a top-level ``Code`` with
``isCodable="false"`` named by its label (or id) and described by its definition; its codes (every
source's, or one source's, in project order, each name once) become codable children. GUIDs are
derived from the theme ids and code names, so the same codebook always gives the same file.
Nothing here prints.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape, quoteattr

from triangulate.findings import Finding, Location, error
from triangulate.inputs import open_input
from triangulate.sources.refi.qdpx import (
    MAX_XML_BYTES,
    CodeNode,
    child,
    local,
    parse_code_tree,
    parse_xml,
    read_qdpx,
    walk,
)

if TYPE_CHECKING:
    from triangulate.project.models import Codebook

QDC_NAMESPACE = "urn:QDA-XML:codebook:1.0"
_GUID_NAMESPACE = uuid.UUID(
    "6f1c1d0e-5b0e-4f7e-9c52-7d1f0b9a3c11"
)  # fixed: stable GUIDs in exports
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


# ---------------------------------------------------------------------------- import


def read_code_tree(path: Path, shown: str) -> tuple[list[CodeNode] | None, list[Finding]]:
    """The code tree of a .qdc codebook, a .qdpx project, or a bare project XML (.qde)."""
    loc = Location(shown)
    if path.suffix.lower() == ".qdpx":
        project, findings = read_qdpx(path, shown, texts=False)
        if project is None:
            return None, findings
        roots = project.codes
    else:
        opened = open_input(path, shown, MAX_XML_BYTES)
        if opened.data is None:
            return None, opened.findings
        raw = opened.data
        root, findings = parse_xml(raw, shown)
        if root is None:
            return None, findings
        kind = local(root.tag)
        if kind == "CodeBook":
            codes_el = child(root, "Codes")
        elif kind == "Project":
            cb = child(root, "CodeBook")
            codes_el = child(cb, "Codes") if cb is not None else None
        else:
            return None, [
                error(
                    "refi.malformed",
                    f"the XML's root element is '{kind}', not a REFI-QDA 'CodeBook' (.qdc) or 'Project'",
                    loc,
                )
            ]
        try:
            roots, _ = parse_code_tree(codes_el)
        except RecursionError:
            return None, [error("refi.malformed", "the code tree is nested too deeply", loc)]
    if not roots:
        return None, findings + [error("refi.malformed", f"{shown} defines no codes", loc)]
    return roots, findings


def slug(name: str) -> str:
    """A theme id from a code name: ``Health care`` -> ``health_care``."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    s = re.sub(r"[^a-z0-9_-]+", "_", ascii_name.casefold()).strip("_-")
    s = re.sub(r"_+", "_", s)
    return s[:80].strip("_-") or "theme"


def draft_codebook(roots: list[CodeNode], source_id: str) -> dict[str, Any]:
    """The codebook.yaml content for a code tree (the import rule in this module's docstring)."""
    codable = [n for n in walk(roots) if n.codable]
    names: dict[str, int] = {}
    for n in codable:
        names[n.name] = names.get(n.name, 0) + 1
    themes: list[dict[str, Any]] = []
    used: set[str] = set()
    for top in roots:
        tid = base = slug(top.name)
        k = 2
        while tid in used:
            tid = f"{base}_{k}"
            k += 1
        used.add(tid)
        codes: list[str] = []
        for n in walk([top]):
            if n.codable:
                form = n.name if names[n.name] == 1 else n.path
                if form not in codes:
                    codes.append(form)
        theme: dict[str, Any] = {"id": tid, "label": top.name}
        if top.description:
            theme["definition"] = top.description
        theme["codes"] = {source_id: codes}
        themes.append(theme)
    return {"themes": themes}


def codebook_yaml(draft: dict[str, Any], origin: str, source_id: str) -> str:
    import yaml

    n_codes = sum(len(c) for t in draft["themes"] for c in t["codes"].values())
    origin = " ".join(origin.split())
    header = (
        f"# Drafted by `triangulate import-codebook` from {origin}: {len(draft['themes'])} theme(s), {n_codes} code(s).\n"
        "# Rule: one theme per top-level code or folder; the codable codes beneath it are its codes for\n"
        f"# source '{source_id}' (by name, or by full path 'Parent/child' where two codes share a name).\n"
        "# Edit freely: merge, split and rename themes, add definitions and other sources' codes\n"
        "# (each source code may be sorted into one theme only).\n"
    )
    body = yaml.safe_dump(
        draft, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100
    )
    return header + body


# ---------------------------------------------------------------------------- export


def _clean(text: str) -> str:
    return _XML_BAD.sub("", text)


def _guid(*parts: str) -> str:
    return str(uuid.uuid5(_GUID_NAMESPACE, "\x1f".join(parts)))


def export_qdc(
    codebook: Codebook, source_ids: list[str], only: str | None = None, origin: str = "triangulate"
) -> tuple[str | None, list[Finding]]:
    """A .qdc (Codebook.xsd) of the themes as folders and their codes as codable children."""
    if not codebook.themes:
        return None, [error("refi.malformed", "the codebook has no themes to export", Location())]
    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f"<CodeBook xmlns={quoteattr(QDC_NAMESPACE)} origin={quoteattr(_clean(origin))}>",
        "  <Codes>",
    ]
    order = list(source_ids) + sorted(
        {s for t in codebook.themes for s in t.codes} - set(source_ids)
    )
    for t in codebook.themes:
        name = _clean(t.label or t.id).strip() or t.id
        lines.append(
            f'    <Code guid="{_guid("theme", t.id)}" name={quoteattr(name)} isCodable="false">'
        )
        if t.definition and _clean(t.definition).strip():
            lines.append(f"      <Description>{escape(_clean(t.definition))}</Description>")
        seen: set[str] = set()
        for sid in order:
            if only is not None and sid != only:
                continue
            for code in t.codes.get(sid, []):
                code_name = _clean(code)
                if code_name in seen or not code_name.strip():
                    continue
                seen.add(code_name)
                lines.append(
                    f'      <Code guid="{_guid("code", t.id, code_name)}" name={quoteattr(code_name)} isCodable="true"/>'
                )
        lines.append("    </Code>")
    lines += ["  </Codes>", "</CodeBook>", ""]
    return "\n".join(lines), []
