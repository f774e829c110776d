"""The adjudication log `decisions.jsonl` (spec section 8): append-only, read back with findings."""

from __future__ import annotations

import json
import os
from pathlib import Path

from triangulate.files import encode_text
from triangulate.findings import Finding, Location, error, warning
from triangulate.inputs import LIMITS, open_input, scrub_json_line
from triangulate.project import paths
from triangulate.project.loading import Project
from triangulate.protocol.analysis import Decision, Unit

DECISION_KEYS = (
    "theme",
    "source_a",
    "source_b",
    "category",
    "rationale",
    "decided_by",
    "decided_at",
)


def decisions_path(project: Project) -> Path:
    return paths.decisions_file(project.root)


def read_decisions(project: Project, units: list[Unit]) -> list[Finding]:
    """Read decisions.jsonl into ``unit.decisions`` (file order; the last one wins)."""
    path = decisions_path(project)
    shown = paths.DECISIONS_FILE
    for u in units:
        u.decisions = []
    opened = open_input(path, shown, LIMITS["decisions"], optional=True)
    if opened.data is None:
        return opened.findings
    raw = opened.data
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return [
            error(
                "data.bad-encoding",
                "decisions.jsonl is not UTF-8 text",
                Location(shown, line=raw[: exc.start].count(b"\n") + 1),
            )
        ]
    findings: list[Finding] = []
    by_key = {u.key: u for u in units}
    lines = text.split("\n")
    ends_clean = text.endswith("\n") or text == ""
    last_index = len(lines) - 1 if not ends_clean else len(lines) - 2
    for idx, line in enumerate(lines):
        lineno = idx + 1
        if not line.strip():
            continue
        loc = Location(shown, line=lineno)
        try:
            obj = json.loads(line)
        except (ValueError, RecursionError):  # JSONDecodeError, or an integer too long to convert
            stripped = line.strip()
            cut_short = stripped.startswith("{") and not stripped.endswith("}")
            if (idx == last_index and not ends_clean) or cut_short:
                findings.append(
                    warning(
                        "decisions.truncated-line",
                        "this line was cut short (the program stopped while writing it) and is ignored; every other decision is kept",
                        loc,
                    )
                )
            else:
                findings.append(
                    error(
                        "decisions.bad-line",
                        "this line is not valid JSON; fix or remove it (the file is append-only: do not reorder lines)",
                        loc,
                    )
                )
            continue
        obj, scrubbed = scrub_json_line(obj, line, loc)
        findings += scrubbed
        if not isinstance(obj, dict):
            findings.append(
                error(
                    "decisions.bad-line",
                    "this line is not a JSON object ({...}); fix or remove it",
                    loc,
                )
            )
            continue
        missing = [
            k
            for k in ("theme", "source_a", "source_b", "category")
            if not isinstance(obj.get(k), str) or not obj.get(k)
        ]
        if missing:
            findings.append(
                error(
                    "decisions.bad-line",
                    f"this decision lacks {', '.join(repr(k) for k in missing)}",
                    loc,
                )
            )
            continue
        wrong = [
            k
            for k in ("rationale", "decided_by", "decided_at")
            if k in obj and not isinstance(obj[k], str) and obj[k] is not None
        ]
        if wrong:
            findings.append(
                error(
                    "decisions.bad-line", f"{', '.join(repr(k) for k in wrong)} must be text", loc
                )
            )
            continue
        theme, sa, sb, category = obj["theme"], obj["source_a"], obj["source_b"], obj["category"]
        if category not in project.protocol.category_ids:
            findings.append(
                error(
                    "decisions.unknown-category",
                    f"category '{category}' is not in protocol {project.protocol.id} (categories: {', '.join(project.protocol.category_ids)}); add a corrected decision below it",
                    loc,
                )
            )
            continue
        theme, sa, sb = project.unit_key(theme, sa, sb)
        unit = by_key.get((theme, sa, sb))
        if unit is None:
            findings.append(
                warning(
                    "decisions.not-a-unit",
                    f"decision for ({theme}, {sa}, {sb}) is ignored: that unit no longer exists",
                    loc,
                )
            )
            continue
        unit.decisions.append(
            Decision(
                theme,
                sa,
                sb,
                category,
                obj.get("rationale") or "",
                obj.get("decided_by") or "",
                obj.get("decided_at") or "",
                lineno,
            )
        )
    return findings


def appendable_problem(path: Path) -> str | None:
    """Why a decision could not be appended to ``path`` now, or None when it could.

    Checked before a walk asks for a decision (spec section 8, v2), so that nobody types a
    decision that is then lost. Opening for append writes nothing and leaves the file as it is.
    """
    shown = path.name
    if path.exists() or path.is_symlink():
        if not path.is_file():
            return f"{shown} is not a regular file"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_APPEND)
        except OSError as exc:
            return f"{shown} cannot be appended to: {exc.strerror or exc}"
        os.close(fd)
        return None
    folder = path.parent
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"{shown} cannot be created: the folder {folder} is not writable"
    return None


def append_decision(path: Path, decision: Decision | dict[str, str]) -> None:
    """Append one decision line and make sure it is on disk before returning."""
    values = decision.as_json() if isinstance(decision, Decision) else decision
    line = json.dumps({k: values.get(k, "") for k in DECISION_KEYS}, ensure_ascii=False) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)  # the umask applies
    try:
        # A previous crash may have left a cut-short last line: start on a fresh line.
        if os.fstat(fd).st_size > 0:
            with path.open("rb") as fh:
                fh.seek(-1, os.SEEK_END)
                if fh.read(1) != b"\n":
                    line = "\n" + line
        os.write(fd, encode_text(line))  # a lone surrogate becomes U+FFFD, never a lost decision
        os.fsync(fd)
    finally:
        os.close(fd)
