"""Selecting findings and rendering them as text, JSON or GitHub Actions annotations."""

from __future__ import annotations

import json
from collections.abc import Sequence

from triangulate.findings import Finding, Severity, redacted
from triangulate.text import json_safe, visible

__all__ = ["visible"]  # the one function that makes data safe to print (also used by the walks)


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


def _where(f: Finding) -> str:
    loc = f.location
    where = loc.file or ""
    if loc.row is not None:
        # a table row; ``line`` is set only when its record starts on another physical line
        where += f": row {loc.row}" + (f" (line {loc.line})" if loc.line is not None else "")
    elif loc.line is not None:
        where += f":{loc.line}" + (f":{loc.column}" if loc.column else "")
    if loc.field and loc.row is not None:
        where += f", column '{loc.field}'"
    return where


def format_finding(f: Finding, redact: bool = False) -> str:
    """One line: ``file:line:col: severity: message [code]`` (or ``file: row N, column 'x'``).

    Control characters and newlines from the data are shown visibly (:func:`visible`), so a
    finding is always exactly one line and never acts on the terminal.
    """
    if redact:
        f = redacted(f)
    where = _where(f)
    line = f"{where + ': ' if where else ''}{f.severity.value}: {f.message} [{f.code}]"
    return visible(line)


def render_text(findings: list[Finding], redact: bool = False) -> str:
    return "\n".join(format_finding(f, redact) for f in findings)


def render_json(findings: list[Finding], redact: bool = False) -> str:
    errors = sum(1 for f in findings if f.is_error)
    notes = sum(1 for f in findings if f.severity is Severity.INFO)
    items = [(redacted(f) if redact else f).to_dict() for f in findings]
    doc = {
        "valid": errors == 0,
        "errors": errors,
        "warnings": len(findings) - errors - notes,
        "notes": notes,
        "findings": items,
    }
    # ensure_ascii=False keeps accents readable; C0 controls are escaped by JSON itself, and DEL,
    # C1 and bidirectional controls are escaped here, so the document is exact and never raw.
    return json_safe(json.dumps(doc, indent=2, ensure_ascii=False))


def escape_data(value: str) -> str:
    """GitHub Actions escaping for a message (as @actions/core's escapeData), then every other
    control character shown visibly: a value can never end the annotation or start a line."""
    return visible(value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def escape_property(value: str) -> str:
    """GitHub Actions escaping for a property value (as @actions/core's escapeProperty)."""
    return escape_data(value).replace(":", "%3A").replace(",", "%2C")


GITHUB_ANNOTATION_LIMIT = 10
"""GitHub shows at most this many annotations of each kind (error, warning) per step."""


def render_github(findings: list[Finding], redact: bool = True) -> str:
    """One ``::error``/``::warning`` line per finding, then a summary line.

    CI logs are shared widely, so messages leave out data they would quote (excerpts, participant,
    case and source names) unless ``redact`` is False.
    """
    lines = []
    for f in findings:
        if redact:
            f = redacted(f)
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
    lines.append(github_summary_line(findings))
    return "\n".join(lines)


def github_summary_line(findings: list[Finding]) -> str:
    errors = sum(1 for f in findings if f.is_error)
    notes = sum(1 for f in findings if f.severity is Severity.INFO)
    warnings = len(findings) - errors - notes
    text = f"triangulate: {errors} error(s), {warnings} warning(s)"
    if notes:
        text += f", {notes} note(s)"
    if max(errors, warnings, notes) > GITHUB_ANNOTATION_LIMIT:
        text += (
            f"; GitHub shows only the first {GITHUB_ANNOTATION_LIMIT} of each kind as annotations: "
            "every finding is listed above and in the step summary"
        )
    return text


def _md_cell(value: str) -> str:
    return visible(value).replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def github_step_summary(findings: list[Finding], redact: bool = True) -> str:
    """The findings as a Markdown table for ``$GITHUB_STEP_SUMMARY`` (shown on the run's page)."""
    errors = sum(1 for f in findings if f.is_error)
    out = [
        "### triangulate validate",
        "",
        f"{errors} error(s), {len(findings) - errors} warning(s).",
        "",
    ]
    if findings:
        out += ["| severity | where | code | message |", "|---|---|---|---|"]
        for f in findings:
            if redact:
                f = redacted(f)
            out.append(
                f"| {f.severity.value} | {_md_cell(_where(f))} | `{_md_cell(f.code)}` "
                f"| {_md_cell(f.message)} |"
            )
        out += ["", "Run `triangulate explain CODE` for what a code means and how to fix it."]
    return "\n".join(out) + "\n"


def render(findings: list[Finding], fmt: str, redact: bool = False) -> str:
    if fmt == "json":
        return render_json(findings, redact)
    if fmt == "github":
        return render_github(findings, redact=True)
    return render_text(findings, redact)


def unknown_patterns(patterns: Sequence[str]) -> list[str]:
    """The ``--select``/``--ignore`` patterns that match no finding code (usually typos)."""
    from triangulate.findings import CATALOGUE

    return [p for p in patterns if p.strip() and not any(_matches(code, [p]) for code in CATALOGUE)]
