"""Selecting findings and rendering them as text, JSON or GitHub Actions annotations."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence

from triangulate.findings import Finding, Severity


def _matches(code: str, patterns: Sequence[str]) -> bool:
    for p in patterns:
        p = p.strip()
        if not p:
            continue
        if code == p or code.startswith(p.rstrip(".") + "."):
            return True
    return False


def select_findings(
    findings: list[Finding], select: Sequence[str], ignore: Sequence[str]
) -> list[Finding]:
    """Keep findings whose code matches ``select`` (all when empty) and not ``ignore``.

    A pattern is a full code (``data.missing-column``) or a prefix (``data`` or ``data.``).
    """
    out = [
        f
        for f in findings
        if (not select or _matches(f.code, select)) and not _matches(f.code, ignore)
    ]
    return out


def format_finding(f: Finding) -> str:
    """One line: ``file:line:col: severity: message [code]`` (or ``file: row N, column 'x'``)."""
    loc = f.location
    where = loc.file or ""
    if loc.row is not None:
        # a table row; ``line`` is set only when its record starts on another physical line
        where += f": row {loc.row}" + (f" (line {loc.line})" if loc.line is not None else "")
    elif loc.line is not None:
        where += f":{loc.line}" + (f":{loc.column}" if loc.column else "")
    if loc.field and loc.row is not None:
        where += f", column '{loc.field}'"
    return f"{where + ': ' if where else ''}{f.severity.value}: {f.message} [{f.code}]"


def render_text(findings: list[Finding]) -> str:
    return "\n".join(format_finding(f) for f in findings)


def render_json(findings: list[Finding]) -> str:
    errors = sum(1 for f in findings if f.is_error)
    notes = sum(1 for f in findings if f.severity is Severity.INFO)
    doc = {
        "valid": errors == 0,
        "errors": errors,
        "warnings": len(findings) - errors - notes,
        "notes": notes,
        "findings": [f.to_dict() for f in findings],
    }
    return json.dumps(doc, indent=2, ensure_ascii=False)


def escape_data(value: str) -> str:
    """GitHub Actions escaping for a message (as @actions/core's escapeData)."""
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(value: str) -> str:
    """GitHub Actions escaping for a property value (as @actions/core's escapeProperty)."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


def render_github(findings: list[Finding]) -> str:
    lines = []
    for f in findings:
        level = "error" if f.is_error else "notice" if f.severity is Severity.INFO else "warning"
        props: list[str] = []
        loc = f.location
        if loc.file:
            props.append(f"file={escape_property(loc.file)}")
        line = loc.line if loc.line is not None else loc.row
        if line is not None:
            props.append(f"line={line}")
        if loc.column is not None:
            props.append(f"col={loc.column}")
        props.append(f"title={escape_property(f.code)}")
        message = f.message
        if loc.field and loc.row is not None:
            message = f"column '{loc.field}': {message}"
        lines.append(f"::{level} {','.join(props)}::{escape_data(message)}")
    return "\n".join(lines)


RENDERERS: dict[str, Callable[[list[Finding]], str]] = {
    "text": render_text,
    "json": render_json,
    "github": render_github,
}


def render(findings: list[Finding], fmt: str) -> str:
    return RENDERERS[fmt](findings)


def unknown_patterns(patterns: Sequence[str]) -> list[str]:
    """The ``--select``/``--ignore`` patterns that match no finding code (usually typos)."""
    from triangulate.findings import CATALOGUE

    return [p for p in patterns if p.strip() and not any(_matches(code, [p]) for code in CATALOGUE)]
