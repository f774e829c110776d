"""REFI-QDA codebooks: seed a ``codebook.yaml`` from a ``.qdc``/``.qdpx``, and export themes as a ``.qdc``.

Import rule (``triangulate import-codebook``), in the file's order:

- a top-level folder (``isCodable="false"``) that holds codes becomes a **group** (an overarching
  theme), and each code or folder directly inside it a **theme** of that group (NVivo exports put
  every code under such folders; before, one folder became one theme of 86 codes);
- any other top-level code or folder becomes a theme without a group;
- a theme's codes, for the one excerpts source named by ``--source``, are the codable codes of its
  subtree, depth first (the theme's own code first when it is codable), each by its own name;
  where two codable codes of the tree share a name, both are listed by their full path
  (``Parent/child``), which the .qdpx reader also accepts. Folders are never listed as codes; a
  folder with nothing codable beneath it gives a theme with an empty list;
- code sets (``Sets/Set``: ATLAS.ti's code groups, NVivo's sets) become groups too: a theme that no
  folder groups joins the first set holding its code (or one of its codes). A code in several
  sets joins the first; sets no theme joins are left out (the header comment counts them).

Ids are slugs of the names (unique), labels the names, definitions and descriptions the files'
descriptions. The GUIDs of the file are kept in the codebook's optional keys: ``guid`` on each
group and theme, and ``guids`` (source id -> code -> GUID) for the codes, so that an export gives
the QDA program its own codes back instead of duplicates.

Export rule (``triangulate export-codebook``): each group becomes a folder, each theme a folder
inside its group's (or at the top) named by its label (or id) and described by its definition, and
its codes (every source's, or one source's, in project order, each name once) codable children.
GUIDs come from the codebook's ``guid``/``guids`` keys where they are given (a theme that came from
a codable code is exported as that code again, its other codes beneath it); the rest are derived
from the ids and code names, so the same codebook always gives the same file. Nothing here prints.
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
    CodeSet,
    child,
    is_guid,
    local,
    norm_guid,
    parse_code_tree,
    parse_sets,
    parse_xml,
    read_qdpx,
    walk,
)

if TYPE_CHECKING:
    from triangulate.project.models import Codebook, Theme

QDC_NAMESPACE = "urn:QDA-XML:codebook:1.0"
_GUID_NAMESPACE = uuid.UUID(
    "6f1c1d0e-5b0e-4f7e-9c52-7d1f0b9a3c11"
)  # fixed: stable GUIDs in exports
_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


# ---------------------------------------------------------------------------- import


def read_code_tree(path: Path, shown: str) -> tuple[list[CodeNode] | None, list[Finding]]:
    """The code tree of a .qdc codebook, a .qdpx project, or a bare project XML (.qde)."""
    roots, _, findings = read_codebook(path, shown)
    return roots, findings


def read_codebook(
    path: Path, shown: str
) -> tuple[list[CodeNode] | None, list[CodeSet], list[Finding]]:
    """The code tree and the code sets of a .qdc codebook, a .qdpx project, or a .qde."""
    loc = Location(shown)
    sets: list[CodeSet] = []
    if path.suffix.lower() == ".qdpx":
        project, findings = read_qdpx(path, shown, texts=False)
        if project is None:
            return None, sets, findings
        roots = project.codes
        sets = project.sets
    else:
        opened = open_input(path, shown, MAX_XML_BYTES)
        if opened.data is None:
            return None, sets, opened.findings
        raw = opened.data
        root, findings = parse_xml(raw, shown)
        if root is None:
            return None, sets, findings
        kind = local(root.tag)
        if kind == "CodeBook":
            codes_el = child(root, "Codes")
            sets = parse_sets(root)
        elif kind == "Project":
            cb = child(root, "CodeBook")
            codes_el = child(cb, "Codes") if cb is not None else None
            sets = parse_sets(root)
        else:
            return (
                None,
                sets,
                [
                    error(
                        "refi.malformed",
                        f"the XML's root element is '{kind}', not a REFI-QDA 'CodeBook' (.qdc) or 'Project'",
                        loc,
                    )
                ],
            )
        try:
            roots, _ = parse_code_tree(codes_el)
        except RecursionError:
            return None, sets, [error("refi.malformed", "the code tree is nested too deeply", loc)]
    if not roots:
        return None, sets, findings + [error("refi.malformed", f"{shown} defines no codes", loc)]
    return roots, sets, findings


def slug(name: str) -> str:
    """A theme id from a code name: ``Health care`` -> ``health_care``."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode("ascii")
    s = re.sub(r"[^a-z0-9_-]+", "_", ascii_name.casefold()).strip("_-")
    s = re.sub(r"_+", "_", s)
    return s[:80].strip("_-") or "theme"


def _unique(name: str, used: set[str]) -> str:
    tid = base = slug(name)
    k = 2
    while tid in used:
        tid = f"{base}_{k}"
        k += 1
    used.add(tid)
    return tid


def draft_codebook(
    roots: list[CodeNode], source_id: str, sets: list[CodeSet] | None = None
) -> dict[str, Any]:
    """The codebook.yaml content for a code tree (the import rule in this module's docstring)."""
    codable = [n for n in walk(roots) if n.codable]
    names: dict[str, int] = {}
    for n in codable:
        names[n.name] = names.get(n.name, 0) + 1

    def form(n: CodeNode) -> str:
        return n.name if names[n.name] == 1 else n.path

    # (theme node, group key) in order; a group key is ("folder", node guid) or ("set", index)
    units: list[tuple[CodeNode, tuple[str, str] | None]] = []
    folder_groups: dict[str, CodeNode] = {}
    for top in roots:
        if not top.codable and top.children:
            folder_groups[top.guid] = top
            units += [(c, ("folder", top.guid)) for c in top.children]
        else:
            units.append((top, None))
    set_of: dict[str, int] = {}  # code GUID -> the first set holding it
    for k, st in enumerate(sets or []):
        for g in st.members:
            set_of.setdefault(g, k)
    themes: list[dict[str, Any]] = []
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    used_groups: set[str] = set()
    used: set[str] = set()
    guids: dict[str, str] = {}
    for node, key in units:
        subtree = [n for n in walk([node]) if n.codable]
        if key is None:
            first = next((set_of[n.guid] for n in [node, *subtree] if n.guid in set_of), None)
            key = ("set", str(first)) if first is not None else None
        if key is not None and key not in groups:
            if key[0] == "folder":
                src = folder_groups[key[1]]
                name, desc, raw = src.name, src.description, src.raw_guid
            else:
                st = (sets or [])[int(key[1])]
                name, desc, raw = st.name, st.description, st.guid
            group: dict[str, Any] = {"id": _unique(name, used_groups), "label": name}
            if desc:
                group["description"] = desc
            if raw and is_guid(raw):
                group["guid"] = raw
            groups[key] = group
        codes: list[str] = []
        for n in subtree:
            f = form(n)
            if f not in codes:
                codes.append(f)
                if n.raw_guid and is_guid(n.raw_guid):
                    guids.setdefault(f, n.raw_guid)
        theme: dict[str, Any] = {"id": _unique(node.name, used), "label": node.name}
        if key is not None:
            theme["group"] = groups[key]["id"]
        if node.description:
            theme["definition"] = node.description
        theme["codes"] = {source_id: codes}
        if node.raw_guid and is_guid(node.raw_guid):
            theme["guid"] = node.raw_guid
        themes.append(theme)
    out: dict[str, Any] = {}
    if groups:
        out["groups"] = list(groups.values())
    out["themes"] = themes
    if guids:
        out["guids"] = {source_id: guids}
    return out


def _unused_sets(draft: dict[str, Any], sets: list[CodeSet]) -> int:
    labels = {g["label"] for g in draft.get("groups", [])}
    return sum(1 for s in sets if s.name not in labels)


def codebook_yaml(
    draft: dict[str, Any], origin: str, source_id: str, sets: list[CodeSet] | None = None
) -> str:
    import yaml

    from triangulate.project.init import modeline

    n_codes = sum(len(c) for t in draft["themes"] for c in t["codes"].values())
    origin = " ".join(origin.split())
    n_groups = len(draft.get("groups", []))
    unused = _unused_sets(draft, sets or [])
    header = (
        modeline("codebook")
        + f"# Drafted by `triangulate import-codebook` from {origin}: {n_groups} group(s), {len(draft['themes'])} theme(s), {n_codes} code(s).\n"
        "# Rule: a top-level folder holding codes is a group, each code or folder in it a theme; other\n"
        "# top-level codes are themes; code sets group the themes no folder groups. A theme's codes for\n"
        f"# source '{source_id}' are the codable codes beneath it (by name, or by full path 'Parent/child'\n"
        "# where two codes share a name).\n"
        + (f"# {unused} code set(s) group no theme here and are left out.\n" if unused else "")
        + "# 'guid'/'guids' keep the QDA program's GUIDs, so export-codebook gives its codes back.\n"
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
    """A .qdc (Codebook.xsd): groups and themes as folders, their codes as codable children; the
    GUIDs the codebook keeps (``guid``, ``guids``) are used, each at most once."""
    if not codebook.themes:
        return None, [error("refi.malformed", "the codebook has no themes to export", Location())]
    order = list(source_ids) + sorted(
        {s for t in codebook.themes for s in t.codes} - set(source_ids)
    )
    sids = [sid for sid in order if only is None or sid == only]
    taken: set[str] = set()

    def pick(kept: str | None, *derived: str) -> str:
        """The kept GUID when it is one and not used yet, else a derived one."""
        if kept and is_guid(kept.strip()) and norm_guid(kept) not in taken:
            taken.add(norm_guid(kept))
            return kept.strip()
        g = _guid(*derived)
        taken.add(g)
        return g

    def kept_code_guid(code: str) -> str | None:
        return next(
            (codebook.guids[sid][code] for sid in sids if code in codebook.guids.get(sid, {})),
            None,
        )

    def theme_lines(t: Theme, indent: str) -> list[str]:
        codes: list[str] = []
        for sid in sids:
            for code in t.codes.get(sid, []):
                name = _clean(code)
                if name.strip() and name not in codes:
                    codes.append(name)
        # a theme that came from a codable code (its GUID is one of its codes'): that code again
        own = next(
            (
                c
                for c in codes
                if t.guid
                and kept_code_guid(c)
                and norm_guid(kept_code_guid(c)) == norm_guid(t.guid)
            ),
            None,
        )
        if own is not None:
            head = (
                f'<Code guid="{pick(t.guid, "theme", t.id)}" name={quoteattr(own)} isCodable="true"'
            )
            codes.remove(own)
        else:
            name = _clean(t.label or t.id).strip() or t.id
            head = f'<Code guid="{pick(t.guid, "theme", t.id)}" name={quoteattr(name)} isCodable="false"'
        inner = []
        if t.definition and _clean(t.definition).strip():
            inner.append(f"{indent}  <Description>{escape(_clean(t.definition))}</Description>")
        inner += [
            f'{indent}  <Code guid="{pick(kept_code_guid(c), "code", t.id, c)}" name={quoteattr(c)} isCodable="true"/>'
            for c in codes
        ]
        if not inner:
            return [f"{indent}{head}/>"]
        return [f"{indent}{head}>", *inner, f"{indent}</Code>"]

    lines = [
        '<?xml version="1.0" encoding="UTF-8"?>',
        f"<CodeBook xmlns={quoteattr(QDC_NAMESPACE)} origin={quoteattr(_clean(origin))}>",
        "  <Codes>",
    ]
    groups = {g.id: g for g in codebook.groups}
    done: set[str] = set()
    for t in codebook.themes:
        if t.id in done:
            continue
        g = groups.get(t.group or "")
        if g is None:
            lines += theme_lines(t, "    ")
            done.add(t.id)
            continue
        name = _clean(g.label or g.id).strip() or g.id
        lines.append(
            f'    <Code guid="{pick(g.guid, "group", g.id)}" name={quoteattr(name)} isCodable="false">'
        )
        if g.description and _clean(g.description).strip():
            lines.append(f"      <Description>{escape(_clean(g.description))}</Description>")
        for member in codebook.themes:
            if member.group == g.id:
                lines += theme_lines(member, "      ")
                done.add(member.id)
        lines.append("    </Code>")
    lines += ["  </Codes>", "</CodeBook>", ""]
    return "\n".join(lines), []
