"""Loading a project folder: the project file, its protocol, its codebook and its sources.

Everything is checked in one pass; problems come back as findings with locations, never as
exceptions (except for a bug). Nothing here prints.
"""

from __future__ import annotations

import os
import types
import typing
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from triangulate.findings import Finding, Location, error, warning
from triangulate.project.models import Codebook, Dimension, ProjectFile, Protocol
from triangulate.project.paths import ALL_OUTPUTS, PROJECT_FILENAMES
from triangulate.project.yamlio import YamlDoc, parse_yaml, read_text_file
from triangulate.sources.data import SourceData
from triangulate.sources.load import load_source
from triangulate.sources.tables import split_sheet
from triangulate.sources.unsafe import control_character_findings

if TYPE_CHECKING:
    from triangulate.progress import Progress

RESERVED_COLUMNS = {
    "theme",
    "source_a",
    "source_b",
    "category",
    "rationale",
    "excerpt_id",
    "participant",
    "code",
    "text",
    "respondents",
    "endorsed",
    "percent",
    "item",
}

M = TypeVar("M", bound=BaseModel)


@dataclass
class Project:
    root: Path
    file: ProjectFile
    protocol: Protocol
    protocol_file: Path
    codebook: Codebook
    sources: dict[str, SourceData]
    input_files: dict[str, Path] = field(
        default_factory=dict
    )  # shown path -> real path, for provenance

    @property
    def source_ids(self) -> list[str]:
        return [s.id for s in self.file.sources]

    @property
    def output_dir(self) -> Path:
        return self.root / self.file.output

    def unit_key(self, theme: str, source_a: str, source_b: str) -> tuple[str, str, str]:
        """A unit's key as the analysis builds it: the two sources in the project's order (a
        worksheet row or a decision may name them either way round; unknown ids stay as given)."""
        order = {sid: i for i, sid in enumerate(self.source_ids)}
        if source_a in order and source_b in order and order[source_a] > order[source_b]:
            source_a, source_b = source_b, source_a
        return (theme, source_a, source_b)

    def source_label(self, sid: str) -> str:
        for s in self.file.sources:
            if s.id == sid:
                return s.display
        return sid


def find_project_file(path: Path) -> Path | None:
    if path.is_dir():
        for name in PROJECT_FILENAMES:
            if (path / name).is_file():
                return path / name
        return None
    if path.is_file():
        return path
    return None


def builtin_protocols_dir() -> Path | None:
    """The shipped protocols: inside the installed package, or the checkout's top-level folder."""
    try:
        packaged = Path(str(resources.files("triangulate") / "protocols"))
        if packaged.is_dir():
            return packaged
    except (ModuleNotFoundError, TypeError):
        pass
    checkout = Path(__file__).resolve().parents[3] / "protocols"
    return checkout if checkout.is_dir() else None


def builtin_protocol_ids() -> list[str]:
    d = builtin_protocols_dir()
    return sorted(p.stem for p in d.glob("*.yaml")) if d else []


def resolve_protocol(value: str, root: Path) -> tuple[Path, str] | None:
    """A path when it ends in .yaml/.yml or contains '/', else a built-in id. Returns (path, shown)."""
    if value.endswith((".yaml", ".yml")) or "/" in value or "\\" in value:
        return root / value, value
    d = builtin_protocols_dir()
    if d is None:
        return None
    p = d / f"{value}.yaml"
    return (p, f"{value} (built-in)") if p.is_file() else None


def _model_for(model: type[BaseModel], loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The pydantic model that owns the key at ``loc`` (for listing allowed keys)."""
    cls: type[BaseModel] | None = model
    skip_next = False
    for part in loc:
        if isinstance(part, int) or cls is None:
            continue
        if skip_next:
            skip_next = False
            continue
        f = cls.model_fields.get(part)
        if f is None:
            return cls
        cls, is_dict = _inner_model(f.annotation)
        skip_next = is_dict
    return cls


def _inner_model(ann: Any) -> tuple[type[BaseModel] | None, bool]:
    origin = typing.get_origin(ann)
    if isinstance(ann, type) and issubclass(ann, BaseModel):
        return ann, False
    if origin in (list, tuple):
        for a in typing.get_args(ann):
            m, d = _inner_model(a)
            if m:
                return m, d
    if origin is dict:
        m, _ = _inner_model(typing.get_args(ann)[1])
        return m, True
    if origin in (typing.Union, types.UnionType):
        for a in typing.get_args(ann):
            m, d = _inner_model(a)
            if m:
                return m, d
    return None, False


def validate_model(doc: YamlDoc, model: type[M], what: str) -> tuple[M | None, list[Finding]]:
    if not isinstance(doc.data, dict):
        return None, [
            error(
                "yaml.not-a-mapping",
                f"{what} must be a mapping of keys to values (it is {type(doc.data).__name__ if doc.data is not None else 'empty'})",
                Location(doc.file, 1, 1),
            )
        ]
    try:
        return model.model_validate(doc.data), []
    except ValidationError as exc:
        return None, translate_errors(exc, doc, model)


def translate_errors(exc: ValidationError, doc: YamlDoc, model: type[BaseModel]) -> list[Finding]:
    findings: list[Finding] = []
    for err in exc.errors(include_url=False):
        loc = tuple(p for p in err["loc"])
        kind = err["type"]
        where = doc.where(loc)
        key = loc[-1] if loc else ""
        if kind == "extra_forbidden":
            owner = _model_for(model, loc[:-1])
            allowed = ", ".join(owner.model_fields) if owner else ""
            findings.append(
                error(
                    "yaml.unknown-key",
                    f"unknown key '{key}'"
                    + (f"; allowed here: {allowed}" if allowed else "")
                    + " (check the spelling)",
                    where,
                )
            )
        elif kind == "missing":
            findings.append(
                error("yaml.missing-key", f"required key '{key}' is missing; add it", where)
            )
        elif (
            kind == "value_error"
            and not loc
            and model is Protocol
            and (rule_findings := _rule_findings(doc))
        ):
            findings += rule_findings
        else:
            where = doc.where_value(loc)  # the value holds the fault: point at it, not at its key
            msg = err["msg"]
            if kind == "string_pattern_mismatch":
                msg = "ids may only hold lowercase letters, digits, '_' and '-'"
            elif msg.startswith("Value error, "):
                msg = msg[len("Value error, ") :]
            value = err.get("input")
            shown = ""
            if isinstance(value, (str, int, float, bool)) and not (
                isinstance(value, int) and abs(value) > 10**60
            ):
                shown = f" (got {value!r})" if len(repr(value)) < 80 else ""
            findings.append(
                error("yaml.invalid-value", f"'{where.field or key}': {msg}{shown}", where)
            )
    return findings


def _rule_findings(doc: YamlDoc) -> list[Finding]:
    """Protocol rules naming a category the protocol does not define, each at its own line."""
    data = doc.data if isinstance(doc.data, dict) else {}
    cats = data.get("categories")
    rules = data.get("rules")
    if not isinstance(cats, list) or not isinstance(rules, dict):
        return []
    ids = [c["id"] for c in cats if isinstance(c, dict) and isinstance(c.get("id"), str)]
    out: list[Finding] = []
    for name, value in rules.items():
        if isinstance(value, str) and value not in ids:
            out.append(
                error(
                    "protocol.unknown-category",
                    f"rules.{name} names '{value}', which is not a category of this protocol "
                    f"(categories: {', '.join(ids) or 'none'}); name one of them",
                    doc.where_value(("rules", name)),
                )
            )
    return out


def load_yaml_model(
    path: Path, shown: str, model: type[M], what: str
) -> tuple[M | None, YamlDoc | None, list[Finding]]:
    text, findings = read_text_file(path, shown)
    if text is None:
        return None, None, findings
    doc, findings = parse_yaml(text, shown)
    if doc is None:
        return None, None, findings
    if model is Protocol:
        _exact_cut_points(doc)
    obj, more = validate_model(doc, model, what)
    return obj, doc, findings + more


def _exact_cut_points(doc: YamlDoc) -> None:
    """Give prominence cut points to the model as the decimal text written in the YAML.

    YAML reads ``0.2`` as a binary float (0.2000000000000000111...); spec 5.1 compares bands
    against the decimal as written, so ``2/10`` against ``0.2`` is equal (band 1).
    """
    data = doc.data
    if not isinstance(data, dict) or not isinstance(data.get("dimensions"), list):
        return
    dims = []
    for i, dim in enumerate(data["dimensions"]):
        if isinstance(dim, dict):
            dim = dict(dim)
            for key in ("bands", "prominence_bands"):
                cuts = dim.get(key)
                if isinstance(cuts, list):
                    dim[key] = [
                        doc.numbers.get(("dimensions", i, key, j), c)
                        if isinstance(c, (int, float)) and not isinstance(c, bool)
                        else c
                        for j, c in enumerate(cuts)
                    ]
        dims.append(dim)
    doc.data = {**data, "dimensions": dims}


def check_protocol(protocol: Protocol, doc: YamlDoc | None, shown: str) -> list[Finding]:
    findings: list[Finding] = []

    def where(path: tuple[Any, ...]) -> Location:
        return doc.where(path) if doc else Location(shown)

    for listname in ("dimensions", "categories", "steps"):
        seen: set[str] = set()
        for i, item in enumerate(getattr(protocol, listname)):
            if item.id in seen:
                findings.append(
                    error(
                        "protocol.duplicate-id",
                        f"{listname[:-1]} id '{item.id}' is used twice",
                        where((listname, i, "id")),
                    )
                )
            seen.add(item.id)
    for i, d in enumerate(protocol.dimensions):
        if d.id in RESERVED_COLUMNS:
            findings.append(
                error(
                    "protocol.reserved-dimension",
                    f"dimension id '{d.id}' is also a column the tool reads; rename the dimension",
                    where(("dimensions", i, "id")),
                )
            )
        findings += _check_dimension(d, i, doc, shown)
    return findings


def _check_dimension(d: Dimension, i: int, doc: YamlDoc | None, shown: str) -> list[Finding]:
    """Spec 5.1: how a dimension is compared, each fault at the line that says it."""
    out: list[Finding] = []

    def at(*path: str | int) -> Location:
        return doc.where(("dimensions", i, *path)) if doc else Location(shown)

    def at_value(*path: str | int) -> Location:
        return doc.where_value(("dimensions", i, *path)) if doc else Location(shown)

    wrong = (
        ("bands", "band_labels")
        if d.compare == "tags"
        else (
            "opposites",
            "prominence_bands",
        )
    )
    for key in wrong:
        if key in d.model_fields_set:
            out.append(
                error(
                    "protocol.compare-key",
                    f"dimension '{d.id}' compares {d.compare}, so '{key}' does not apply "
                    + (
                        "('bands' and 'band_labels' are for 'compare: prominence'; tags use 'prominence_bands')"
                        if d.compare == "tags"
                        else "(a prominence dimension has no tags: use 'bands')"
                    ),
                    at(key),
                )
            )
    if d.compare == "prominence" and d.bands is None:
        out.append(
            error(
                "protocol.compare-key",
                f"dimension '{d.id}' compares prominence and needs 'bands': cut points such as [0.2, 0.5]",
                at("compare"),
            )
        )
    for key in ("bands", "prominence_bands"):
        cuts = getattr(d, key)
        if cuts is None or key not in d.model_fields_set:
            continue
        if not cuts:
            out.append(
                error(
                    "protocol.bad-bands",
                    f"'{key}' of dimension '{d.id}' is empty; give at least one cut point, e.g. [0.2, 0.5]",
                    at(key),
                )
            )
        for j, c in enumerate(cuts):
            if not 0 < c < 1:
                out.append(
                    error(
                        "protocol.bad-bands",
                        f"cut point {c} of '{key}' (dimension '{d.id}') must lie strictly between 0 and 1",
                        at_value(key, j),
                    )
                )
            elif j and c <= cuts[j - 1]:
                out.append(
                    error(
                        "protocol.bad-bands",
                        f"'{key}' of dimension '{d.id}' must be strictly ascending: {c} follows {cuts[j - 1]}",
                        at_value(key, j),
                    )
                )
    if (
        d.band_labels is not None
        and d.compare == "prominence"
        and d.bands is not None
        and len(d.band_labels) != len(d.bands) + 1
    ):
        out.append(
            error(
                "protocol.bad-band-labels",
                f"dimension '{d.id}' has {len(d.bands)} cut points, so 'band_labels' needs "
                f"{len(d.bands) + 1} labels (it has {len(d.band_labels)})",
                at("band_labels"),
            )
        )
    for j, (x, y) in enumerate(d.opposites):
        a, b = x.strip().casefold(), y.strip().casefold()
        if not a or not b or a == b:
            out.append(
                error(
                    "protocol.bad-opposites",
                    f"opposite pair {j + 1} of dimension '{d.id}' must be two different tags (got '{x}', '{y}')",
                    at_value("opposites", j),
                )
            )
    return out


def check_codebook(
    codebook: Codebook, doc: YamlDoc | None, project: ProjectFile, shown: str
) -> list[Finding]:
    findings: list[Finding] = []
    source_ids = [s.id for s in project.sources]

    def where(path: tuple[Any, ...]) -> Location:
        return doc.where(path) if doc else Location(shown)

    groups: set[str] = set()
    for i, g in enumerate(codebook.groups):
        if g.id in groups:
            findings.append(
                error(
                    "codebook.duplicate-group",
                    f"group id '{g.id}' is used twice",
                    where(("groups", i, "id")),
                )
            )
        groups.add(g.id)
    themes: dict[str, int] = {}
    sorted_into: dict[tuple[str, str], str] = {}
    for i, t in enumerate(codebook.themes):
        if t.id in themes:
            findings.append(
                error(
                    "codebook.duplicate-theme",
                    f"theme id '{t.id}' is already used by theme #{themes[t.id] + 1}; give each theme its own id",
                    where(("themes", i, "id")),
                )
            )
        else:
            themes[t.id] = i
        if t.group is not None and t.group not in groups:
            hint = (
                f"define it under 'groups' (defined: {', '.join(sorted(groups))})"
                if groups
                else "add a 'groups' list that defines it"
            )
            findings.append(
                error(
                    "codebook.unknown-group",
                    f"theme '{t.id}' names group '{t.group}', which is not defined; {hint}",
                    where(("themes", i, "group")),
                )
            )
        for sid, codes in t.codes.items():
            if sid not in source_ids:
                findings.append(
                    error(
                        "codebook.unknown-source",
                        f"theme '{t.id}' sorts codes of source '{sid}', which is not in the project (sources: {', '.join(source_ids)})",
                        where(("themes", i, "codes", sid)),
                    )
                )
                continue
            for j, code in enumerate(codes):
                key = (sid, code)
                if key in sorted_into:
                    other = sorted_into[key]
                    msg = (
                        f"code '{code}' of source '{sid}' is listed twice in theme '{t.id}'"
                        if other == t.id
                        else f"code '{code}' of source '{sid}' is sorted into both '{other}' and '{t.id}'; a code may belong to one theme only"
                    )
                    findings.append(
                        error(
                            "codebook.code-sorted-twice", msg, where(("themes", i, "codes", sid, j))
                        )
                    )
                else:
                    sorted_into[key] = t.id
        for j, sid in enumerate(t.not_collected):
            if sid not in source_ids:
                findings.append(
                    error(
                        "codebook.unknown-source",
                        f"theme '{t.id}' lists '{sid}' under not_collected, but there is no such source",
                        where(("themes", i, "not_collected", j)),
                    )
                )
    findings += _check_questions(codebook, where)
    return findings


def _check_questions(codebook: Codebook, where: Any) -> list[Finding]:
    """Spec 3 (v2): research questions and the themes that answer them."""
    findings: list[Finding] = []
    qids: set[str] = set()
    for i, q in enumerate(codebook.questions):
        if q.id in qids:
            findings.append(
                error(
                    "codebook.duplicate-question",
                    f"research question id '{q.id}' is used twice; give each question its own id",
                    where(("questions", i, "id")),
                )
            )
        qids.add(q.id)
    for i, t in enumerate(codebook.themes):
        for j, qid in enumerate(t.questions):
            if qid not in qids:
                hint = (
                    f"questions: {', '.join(q.id for q in codebook.questions)}"
                    if codebook.questions
                    else "the codebook has no 'questions' list"
                )
                findings.append(
                    error(
                        "codebook.unknown-question",
                        f"theme '{t.id}' answers question '{qid}', which is not defined ({hint}); define it under 'questions'",
                        where(("themes", i, "questions", j)),
                    )
                )
        if codebook.questions and not t.questions:
            findings.append(
                warning(
                    "codebook.theme-without-question",
                    f"theme '{t.id}' answers none of the research questions; list the ones it answers under its 'questions'",
                    where(("themes", i, "id")),
                )
            )
    return findings


def check_project_file(pf: ProjectFile, doc: YamlDoc | None) -> list[Finding]:
    findings: list[Finding] = []
    seen: set[str] = set()
    for i, s in enumerate(pf.sources):
        if s.id in seen:
            findings.append(
                error(
                    "project.duplicate-source",
                    f"source id '{s.id}' is used twice",
                    doc.where(("sources", i, "id")) if doc else Location(),
                )
            )
        seen.add(s.id)
        if s.codes is not None and s.kind != "survey_responses":
            findings.append(
                error(
                    "project.source-option",
                    f"'codes' applies to kind 'survey_responses' only (source '{s.id}' is '{s.kind}')",
                    doc.where(("sources", i, "codes")) if doc else Location(),
                )
            )
        is_qdpx = s.kind == "excerpts" and split_sheet(s.path)[0].lower().endswith(".qdpx")
        for opt in (
            "positions",
            "coder",
            "code_path",
        ):  # the .qdpx reader's options (docs/interop.md)
            if getattr(s, opt) is not None and not is_qdpx:
                findings.append(
                    error(
                        "project.source-option",
                        f"'{opt}' applies to kind 'excerpts' sources read from a .qdpx only (source '{s.id}' is '{s.kind}' from {s.path})",
                        doc.where(("sources", i, opt)) if doc else Location(),
                    )
                )
    if len(pf.sources) < 2:
        findings.append(
            error(
                "project.too-few-sources",
                "triangulation compares sources: list at least two under 'sources'",
                doc.where(("sources",)) if doc else Location(),
            )
        )
    rseen: set[str] = set()
    for i, r in enumerate(pf.reviewers):
        if r in rseen:
            findings.append(
                error(
                    "project.duplicate-reviewer",
                    f"reviewer '{r}' is listed twice",
                    doc.where(("reviewers", i)) if doc else Location(),
                )
            )
        rseen.add(r)
    return findings


def is_inside(root: Path, path: Path) -> bool:
    """Whether ``path``, once every symlink is resolved, is ``root`` or lies beneath it."""
    real_root = os.path.realpath(root)
    real = os.path.realpath(path)
    try:
        return os.path.commonpath([real_root, real]) == real_root
    except ValueError:  # different drives (Windows)
        return False


def project_paths(pf: ProjectFile, root: Path) -> list[tuple[str, str, Path]]:
    """Every path the project names, as (key in the project file, value as written, path)."""
    named: list[tuple[str, str, Path]] = [("codebook", pf.codebook, root / pf.codebook)]
    if pf.protocol.endswith((".yaml", ".yml")) or "/" in pf.protocol or "\\" in pf.protocol:
        named.append(("protocol", pf.protocol, root / pf.protocol))
    for i, s in enumerate(pf.sources):
        base = split_sheet(s.path)[0]
        named.append((f"sources[{i}].path", s.path, root / base))
    for key in ("findings", "narrative"):
        value = getattr(pf, key, None)
        if isinstance(value, str) and value:
            named.append((key, value, root / value))
    named.append(("output", pf.output, root / pf.output))
    return named


def check_paths_inside(
    pf: ProjectFile, doc: YamlDoc | None, root: Path, pfile: Path
) -> tuple[list[Finding], set[str]]:
    """Spec section 1: every path the project names stays inside the project folder (symlinks
    resolved). Returns the findings and the keys (``codebook``, ``sources[0].path``, ...) whose
    paths leave it: the caller reads none of those files, so no message can quote them.

    The fixed paths (``reviews/``, ``decisions.jsonl``) are checked too: a symlink there would make
    the tool read or append to a file elsewhere.
    """
    findings: list[Finding] = []
    outside: set[str] = set()
    for key, value, path in project_paths(pf, root):
        if is_inside(root, path):
            continue
        if key == "output" or _regular_or_missing(path):
            outside.add(key)  # else (a device, a FIFO): the reader refuses it unread, and says why
        loc = _key_location(doc, key, pfile.name)
        findings.append(
            error(
                "project.path-outside",
                f"'{key}' is {value}, which is outside the project folder"
                + (
                    ""
                    if os.path.isabs(value) or ".." in Path(value).parts
                    else " (through a symlink)"
                )
                + "; keep every path inside the project, or give --allow-outside if you trust it",
                loc,
            )
        )
    for name in ("reviews", "decisions.jsonl"):
        if os.path.lexists(root / name) and not is_inside(root, root / name):
            if _regular_or_missing(root / name) or name == "reviews":
                outside.add(name)
            findings.append(
                error(
                    "project.path-outside",
                    f"{name} is a symlink that leads outside the project folder; "
                    "replace it with the real folder or file, or give --allow-outside if you trust it",
                    Location(name),
                )
            )
    return findings, outside


def _regular_or_missing(path: Path) -> bool:
    import stat

    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return True


def _key_location(doc: YamlDoc | None, key: str, shown: str) -> Location:
    if doc is None:
        return Location(shown)
    path: list[str | int] = []
    for part in key.replace("]", "").split("."):
        name, _, index = part.partition("[")
        path.append(name)
        if index:
            path.append(int(index))
    return doc.where_value(tuple(path))


def check_output(
    pf: ProjectFile, doc: YamlDoc | None, root: Path, pfile: Path, protocol_file: Path | None
) -> list[Finding]:
    """No output file may land on an input: a source, the codebook, a worksheet, the decisions.

    Paths are compared once every symlink is resolved: an output folder that is a symlink to the
    data folder collides as surely as ``output: data``.
    """

    def key(p: Path) -> str:
        return os.path.normcase(os.path.realpath(p))

    inputs = {
        key(pfile): pfile.name,
        key(root / pf.codebook): pf.codebook,
        key(root / "decisions.jsonl"): "decisions.jsonl",
    }
    if protocol_file is not None:
        inputs[key(protocol_file)] = str(protocol_file)
    for s in pf.sources:
        base = split_sheet(s.path)[0]
        inputs[key(root / base)] = base
    for r in pf.reviewers:
        inputs[key(root / "reviews" / f"{r}.csv")] = f"reviews/{r}.csv"
    out = root / pf.output
    findings = []
    for name in ALL_OUTPUTS:
        hit = inputs.get(key(out / name))
        if hit is not None:
            findings.append(
                error(
                    "project.output-collision",
                    f"the output folder '{pf.output}' would overwrite the input {hit} (with {name}); choose another 'output' folder",
                    doc.where_value(("output",)) if doc else Location(pfile.name),
                )
            )
    return findings


@dataclass
class LoadResult:
    project: Project | None
    findings: list[Finding]


def load_project(
    path: Path, progress: Progress | None = None, allow_outside: bool = False
) -> LoadResult:
    """Load and check everything a project names. ``project`` is None when it cannot be used.

    A path that leaves the project folder is an error (``project.path-outside``) and its file is not
    read, unless ``allow_outside``.
    """
    pfile = find_project_file(path)
    if pfile is None:
        where = path if not path.is_dir() else path / PROJECT_FILENAMES[0]
        return LoadResult(
            None,
            [
                error(
                    "project.not-found",
                    f"no project here: {where} does not exist (create one with 'triangulate init')",
                    Location(str(where)),
                )
            ],
        )
    root = pfile.parent
    shown_pfile = pfile.name
    findings: list[Finding] = []
    pf, pdoc, f = load_yaml_model(pfile, shown_pfile, ProjectFile, "the project file")
    findings += f
    if pf is None:
        return LoadResult(None, findings)
    findings += check_project_file(pf, pdoc)
    inputs: dict[str, Path] = {shown_pfile: pfile}
    outside: set[str] = set()
    if not allow_outside:
        f, outside = check_paths_inside(pf, pdoc, root, pfile)
        findings += f

    # protocol
    protocol: Protocol | None = None
    resolved = resolve_protocol(pf.protocol, root)
    protocol_file = Path()
    if "protocol" in outside:
        resolved = None
    elif resolved is None:
        known = ", ".join(builtin_protocol_ids()) or "none found"
        findings.append(
            error(
                "protocol.not-found",
                f"no built-in protocol '{pf.protocol}' (built-in: {known}); or give a path ending in .yaml",
                pdoc.where(("protocol",)) if pdoc else Location(shown_pfile),
            )
        )
    else:
        protocol_file, shown = resolved
        protocol, rdoc, f = load_yaml_model(protocol_file, shown, Protocol, "a protocol file")
        findings += f
        if protocol is not None:
            findings += check_protocol(protocol, rdoc, shown)
            inputs[f"protocol:{protocol.id}"] = protocol_file

    # codebook
    codebook: Codebook | None = None
    cdoc: YamlDoc | None = None
    if "codebook" not in outside:
        codebook, cdoc, f = load_yaml_model(
            root / pf.codebook, pf.codebook, Codebook, "the codebook"
        )
        findings += f
    if codebook is not None:
        findings += check_codebook(codebook, cdoc, pf, pf.codebook)
        inputs[pf.codebook] = root / pf.codebook

    # sources
    sources: dict[str, SourceData] = {}
    dims = protocol.dimension_ids if protocol else []
    for i, spec in enumerate(pf.sources):
        if f"sources[{i}].path" in outside:
            continue
        data, f = load_source(root, spec, dims, progress)
        findings += f
        if data is not None:
            findings += control_character_findings(data)
            sources[spec.id] = data
            inputs[split_sheet(spec.path)[0]] = root / split_sheet(spec.path)[0]
    if codebook is not None and any(
        d.spec.path.lower().endswith(".qdpx") for d in sources.values()
    ):
        from triangulate.sources.refi.qdpx import (
            resolve_code_forms,  # nested .qdpx codes: own name or full path
        )

        for data in sources.values():
            findings += resolve_code_forms(data, codebook)

    findings += check_output(pf, pdoc, root, pfile, protocol_file if protocol is not None else None)

    if protocol is None or codebook is None or len(sources) != len(pf.sources) or outside:
        return LoadResult(None, findings)
    project = Project(root, pf, protocol, protocol_file, codebook, sources, inputs)
    return LoadResult(project, findings)


def sha256_file(path: Path) -> str:
    """The file's SHA-256, from the bytes a reader already read when it is unchanged since."""
    from triangulate.digests import sha256_file as digest

    return digest(path)
