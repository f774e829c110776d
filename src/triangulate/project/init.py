"""``triangulate init``: scaffold a project folder from flags (and answers, at a terminal).

Writes ``triangulate.yaml`` and a draft ``codebook.yaml`` that lists every code found in the sources
under a ``# to sort`` comment (no themes yet). Never overwrites: an existing project file stops it,
and an existing ``codebook.yaml`` is kept as it is (so ``triangulate import-codebook`` may run
first). Sources are not copied: the project file points at them by a path relative to the project
folder. Nothing here prints; the caller passes ``ask`` to prompt for missing values.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from triangulate.findings import Finding, UsageError

KINDS = ("excerpts", "survey", "survey_responses")
DEFAULT_PROTOCOL = "farmer-2006"
_ID = re.compile(r"^[a-z0-9_-]+$")

Ask = Callable[[str, "str | None"], str]


@dataclass
class SourceArg:
    id: str
    path: str  # as typed
    kind: str | None


@dataclass
class InitResult:
    root: Path
    written: list[Path]
    kept_codebook: bool
    codes: dict[str, list[str]]  # source id -> codes to sort
    kinds: dict[str, str]  # source id -> kind (given or inferred)
    inferred: list[str]  # source ids whose kind was inferred
    findings: list[Finding] = field(default_factory=list)
    next_steps: list[str] = field(default_factory=list)
    # Source files outside the project folder, copied into it: (given path, copy in the project).
    copied: list[tuple[Path, Path]] = field(default_factory=list)


def parse_source_arg(value: str) -> SourceArg:
    """``ID=PATH[:kind]``; the ``:kind`` suffix is read only when it names a kind."""
    sid, sep, rest = value.partition("=")
    sid = sid.strip()
    if not sep or not rest.strip():
        raise UsageError(
            f"--source '{value}': write it as ID=PATH or ID=PATH:KIND, e.g. interviews=data/interviews.csv"
        )
    if not _ID.match(sid):
        raise UsageError(
            f"--source '{value}': the id '{sid}' may only hold lowercase letters, digits, '_' and '-'"
        )
    kind: str | None = None
    head, colon, tail = rest.rpartition(":")
    if colon and tail.strip() in KINDS:
        rest, kind = head, tail.strip()
    return SourceArg(sid, rest.strip(), kind)


def parse_reviewers(values: list[str]) -> list[str]:
    """Reviewer ids from ``--reviewer`` values or an answer: ``bb, pl`` or ``bb pl``, each once."""
    out: list[str] = []
    for value in values:
        for rid in re.split(r"[,\s]+", value.strip()):
            if not rid:
                continue
            if not _ID.match(rid):
                raise UsageError(
                    f"reviewer id '{rid}' may only hold lowercase letters, digits, '_' and '-' "
                    "(it names the worksheet reviews/<id>.csv)"
                )
            if rid not in out:
                out.append(rid)
    return out


SCHEMA_DIR = "schemas"  # where init puts the JSON Schemas in a project, for editors


def modeline(kind: str) -> str:
    """The first line of a YAML file init writes: editors with the YAML language server (VS Code,
    JetBrains, Neovim) then complete and check it against the schema init put beside it."""
    return f"# yaml-language-server: $schema={SCHEMA_DIR}/{kind}.schema.json\n"


def write_project_schemas(root: Path) -> list[Path]:
    """The project and codebook schemas in ``root/schemas/`` (created only when missing)."""
    from triangulate.files import write_new_file as write_new
    from triangulate.project.schema import render_schemas

    written = []
    for name, text in render_schemas().items():
        if name in ("project.schema.json", "codebook.schema.json"):
            path = root / SCHEMA_DIR / name
            if write_new(path, text):
                written.append(path)
    return written


def next_step_after_run(
    project_arg: str, reviewers: list[str], statuses: dict[str, int], coded_by: list[str]
) -> str | None:
    """The one line ``run`` ends with: what the team does next, or None when nothing is left."""
    arg = f" {project_arg}" if project_arg not in ("", ".") else ""
    open_units = statuses.get("uncoded", 0) + statuses.get("proposed", 0)
    if open_units:
        if not reviewers:
            return (
                f"next: {open_units} unit(s) await reviewers: add them to triangulate.yaml "
                f"(reviewers: [ab, cd]), then each runs `triangulate converge{arg} --reviewer ID`"
            )
        todo = [r for r in reviewers if r not in coded_by] or reviewers
        return (
            f"next: {open_units} unit(s) await reviewers: `triangulate converge{arg} --reviewer {todo[0]}`"
            + (f" (also: {', '.join(todo[1:])})" if len(todo) > 1 else "")
        )
    if statuses.get("disputed", 0):
        return f"next: settle the {statuses['disputed']} disputed unit(s) with `triangulate review{arg}`"
    return None


def infer_kind(path: Path) -> str:
    """.qdpx: excerpts; .sav/.dta: survey_responses; tables by their header."""
    suffix = path.suffix.lower()
    if suffix == ".qdpx":
        return "excerpts"
    if suffix in (".sav", ".zsav", ".por", ".dta"):
        return "survey_responses"
    from triangulate.sources.rows import EXCERPT_COLUMNS
    from triangulate.sources.tables import read_table

    table, _ = read_table(path, path.name)
    if table is None:
        return "excerpts"
    cols = set(table.columns)
    if all(c in cols for c in EXCERPT_COLUMNS):
        return "excerpts"
    if "code" in cols and "respondents" in cols:
        return "survey"
    return "survey_responses"


def _inside(root: Path, path: Path) -> bool:
    real_root = os.path.realpath(root)
    try:
        return os.path.commonpath([real_root, os.path.realpath(path)]) == real_root
    except ValueError:
        return False


def _copy_in(full: Path, root: Path) -> Path:
    """Where a source outside the project is copied to: ``data/<name>``, or ``data/<stem>-2<ext>``
    when a different file already has that name (an identical one is reused)."""
    data = root / "data"
    candidate = data / full.name
    n = 1
    while candidate.exists():
        try:
            if candidate.read_bytes() == full.read_bytes():
                return candidate
        except OSError:
            pass
        n += 1
        candidate = data / f"{full.stem}-{n}{full.suffix}"
    return candidate


def _relpath(target: Path, root: Path) -> str:
    try:
        return Path(os.path.relpath(target, root)).as_posix()
    except ValueError:  # another drive (Windows)
        return target.as_posix()


def _yaml_scalar(text: str) -> str:
    import yaml

    if (
        re.fullmatch(r"[A-Za-z][A-Za-z0-9 _./()-]*", text)
        and not text.endswith(" ")
        and yaml.safe_load(text) == text
    ):
        return text
    return (
        yaml.safe_dump(text, allow_unicode=True, default_style='"', width=10**6)
        .strip()
        .removesuffix("...")
        .strip()
    )


def codebook_draft(codes: dict[str, list[str]]) -> str:
    lines = [
        "# Drafted by `triangulate init` from the codes found in the sources (spec section 3).",
        "# Sort each code into a theme: move it from the '# to sort' list below into a theme's codes, e.g.",
        "#",
        "# themes:",
        "#   - id: point_of_contact",
        "#     label: Designated point of contact for referrals",
        "#     codes:",
        "#       interviews: [point-person, direct-contact]",
        "#       network_survey: [point-person]",
        "#",
        "# A code may belong to one theme only; 'triangulate validate' lists the codes still unsorted.",
        "themes: []",
        "",
        "# to sort:",
    ]
    for sid, cs in codes.items():
        lines.append(f"#   {sid}:{'' if cs else ' []  (no codes found)'}")
        lines += [
            f"#     - {_yaml_scalar(c)}" for c in cs
        ]  # one line each: quoted and escaped when needed
    return "\n".join(lines) + "\n"


def _codes_in(spec: Any, path: Path) -> tuple[list[str], list[Finding]]:
    from triangulate.sources.load import load_source

    data, findings = load_source(Path("/"), spec.model_copy(update={"path": str(path)}), [])
    if data is None:
        return [], findings
    if data.is_excerpts:
        names: dict[str, list[str]] = {}
        for r in data.excerpts:
            paths = names.setdefault(r.code, [])
            if r.code_path is not None and r.code_path not in paths:
                paths.append(r.code_path)
        out: list[str] = []
        for name, paths in names.items():
            out += (
                paths if len(paths) > 1 else [name]
            )  # one name, several .qdpx codes: list by path
        return out, findings
    return [r.code for r in data.survey], findings


def _response_codes(path: Path) -> dict[str, dict[str, str]]:
    from triangulate.sources.responses import read_responses

    table, _ = read_responses(path, path.name)
    if table is None:
        return {}
    return {
        name: {"column": name}
        for name, col in table.columns.items()
        if any(v is not None for v in col.values)
    }


def init_project(
    directory: Path,
    *,
    title: str | None = None,
    protocol: str | None = None,
    sources: list[SourceArg] | None = None,
    ask: Ask | None = None,
    cwd: Path | None = None,
    reviewers: list[str] | None = None,
) -> InitResult:
    """Scaffold a project in ``directory``. Raises UsageError (exit 2) when it cannot."""
    from triangulate.files import write_new_file as write_new
    from triangulate.findings import exit_code_for
    from triangulate.project.loading import builtin_protocol_ids, resolve_protocol
    from triangulate.project.models import SourceSpec
    from triangulate.project.paths import PROJECT_FILENAMES

    cwd = cwd or Path.cwd()
    root = directory if directory.is_absolute() else cwd / directory
    root = Path(os.path.normpath(root))
    for name in PROJECT_FILENAMES:
        if (root / name).exists():
            raise UsageError(
                f"{root / name} already exists; 'init' never overwrites a project (edit it, or choose another folder)"
            )
    if root.exists() and not root.is_dir():
        raise UsageError(f"{root} exists and is not a folder")

    if title is None or not title.strip():
        default = root.name or "My study"
        title = ask("Project title", default) if ask else default
    title = " ".join(title.split()) or root.name or "My study"

    builtins = builtin_protocol_ids()
    if protocol is None:
        protocol = (
            ask(
                f"Protocol (built-in: {', '.join(builtins)}; or a path to a protocol .yaml)",
                DEFAULT_PROTOCOL,
            )
            if ask
            else DEFAULT_PROTOCOL
        )
    protocol = protocol.strip()
    resolved = resolve_protocol(protocol, root)
    if resolved is None or not resolved[0].is_file():
        raise UsageError(
            f"protocol '{protocol}' is neither a built-in ({', '.join(builtins)}) nor an existing protocol file"
        )

    args = list(sources or [])
    if not args and ask:
        while True:
            answer = ask("Data source as ID=PATH[:kind] (empty to finish)", "").strip()
            if not answer:
                if args:
                    break
                continue
            try:
                args.append(parse_source_arg(answer))
            except UsageError as exc:
                ask(f"{exc.message}. Press Enter to try again", "")
    if not args:
        raise UsageError(
            "give the data sources: --source ID=PATH[:kind] (repeatable), e.g. --source interviews=data/export.qdpx"
        )

    if reviewers is None and ask:
        while True:
            answer = ask(
                "Reviewer ids, separated by commas (who codes convergence, e.g. bb, pl; empty: none yet)",
                "",
            )
            try:
                reviewers = parse_reviewers([answer])
                break
            except UsageError as exc:
                ask(f"{exc.message}. Press Enter to try again", "")
    reviewers = parse_reviewers(reviewers or [])

    seen: set[str] = set()
    copies: list[tuple[Path, Path]] = []
    entries: list[dict[str, Any]] = []
    codes: dict[str, list[str]] = {}
    kinds: dict[str, str] = {}
    inferred: list[str] = []
    findings: list[Finding] = []
    for a in args:
        if a.id in seen:
            raise UsageError(f"source id '{a.id}' is given twice")
        seen.add(a.id)
        p = Path(a.path).expanduser()
        full = p if p.is_absolute() else cwd / p
        if not full.exists() and not p.is_absolute() and (root / p).exists():
            full = root / p
        if not full.is_file():
            raise UsageError(f"source '{a.id}': file not found: {a.path}")
        kind = a.kind
        if kind is None:
            kind = infer_kind(full)
            inferred.append(a.id)
        kinds[a.id] = kind
        stored = full
        if not _inside(root, full):  # spec section 1: a project keeps its data inside its folder
            stored = _copy_in(full, root)
            copies.append((full, stored))
        entry: dict[str, Any] = {"id": a.id, "kind": kind, "path": _relpath(stored, root)}
        if kind == "survey_responses":
            entry["codes"] = _response_codes(full)
            if not entry["codes"]:
                raise UsageError(f"source '{a.id}': no answered columns found in {a.path}")
        spec = SourceSpec.model_validate(entry)
        found, f = _codes_in(spec, full)
        findings += f
        codes[a.id] = found
        entries.append(entry)
    if exit_code_for(findings):
        err = UsageError(
            "the sources have errors; nothing was written. Fix them (or give the right :kind) and run init again",
            findings,
        )
        err.exit_code = exit_code_for(findings)
        raise err

    import yaml

    project = {
        "title": title,
        "protocol": protocol,
        "codebook": "codebook.yaml",
        "sources": entries,
        **({"reviewers": reviewers} if reviewers else {}),
        "output": "out",
    }
    text = (
        modeline("project")
        + "# Written by `triangulate init`. Paths are relative to this folder and stay inside it. Check it with\n# `triangulate validate`; `triangulate explain CODE` explains any finding it reports.\n"
        + yaml.safe_dump(
            project, sort_keys=False, allow_unicode=True, default_flow_style=False, width=100
        )
    )
    root.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    if (root / "triangulate.yaml").exists():
        raise UsageError(
            f"{root / 'triangulate.yaml'} already exists; 'init' never overwrites a project"
        )
    for src, dest in copies:
        if not dest.exists():
            import shutil

            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, dest)
    if not write_new(root / "triangulate.yaml", text):
        raise UsageError(
            f"{root / 'triangulate.yaml'} already exists; 'init' never overwrites a project"
        )
    written.append(root / "triangulate.yaml")
    kept = not write_new(root / "codebook.yaml", modeline("codebook") + codebook_draft(codes))
    if not kept:
        written.append(root / "codebook.yaml")
    written += write_project_schemas(root)

    shown = _relpath(root, cwd) if not directory.is_absolute() else str(root)
    shown_arg = "" if shown == "." else f" {shown}"
    steps = []
    if kept:
        steps.append(
            f"Check {Path(shown) / 'codebook.yaml'} (kept as it was) against the codes found"
        )
    else:
        steps.append(f"Sort the codes listed in {Path(shown) / 'codebook.yaml'} into themes")
        for a in args:
            if kinds[a.id] == "excerpts" and a.path.lower().endswith(".qdpx"):
                steps.append(
                    f"  or start from the QDA code tree instead: delete the draft, then "
                    f"triangulate import-codebook {a.path} --source {a.id} --output {Path(shown) / 'codebook.yaml'}"
                )
                break
    steps += [f"triangulate validate{shown_arg}", f"triangulate run{shown_arg}"]
    if reviewers:
        steps.append(
            f"Each reviewer codes the units: triangulate converge{shown_arg} --reviewer ID "
            f"(ID: {', '.join(reviewers)})"
        )
    else:
        steps.append(
            "Add reviewers to triangulate.yaml (reviewers: [ab, cd]); each then codes the units "
            f"with triangulate converge{shown_arg} --reviewer ID"
        )
    if len(args) < 2:
        steps.insert(
            0, "Add a second source to triangulate.yaml: triangulation compares at least two"
        )
    return InitResult(root, written, kept, codes, kinds, inferred, findings, steps, copies)
