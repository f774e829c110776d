"""Findings: every problem the tool reports about a project's inputs.

A finding has a stable ``code`` (never renamed), a ``severity`` and a location kept as data
(file, line and column for YAML and JSONL; file, row and column name for tables). Renderers
decide how to print it. The library never prints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Location:
    """Where a finding is. ``file`` is as the user would type it (relative to the project)."""

    file: str | None = None
    line: int | None = None  # 1-based
    column: int | None = None  # 1-based character column (YAML)
    row: int | None = None  # 1-based data row in a table (header excluded)
    field: str | None = None  # column name in a table, or a dotted key path in YAML

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "row": self.row,
            "field": self.field,
        }

    def describe(self) -> str:
        parts: list[str] = []
        if self.file:
            parts.append(self.file)
        if self.line is not None:
            parts.append(f"line {self.line}" + (f", column {self.column}" if self.column else ""))
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.field:
            parts.append(f"'{self.field}'")
        return ", ".join(parts)


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    message: str
    location: Location = field(default_factory=Location)

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "location": self.location.to_dict(),
        }

    def __str__(self) -> str:
        where = self.location.describe()
        return f"{where + ': ' if where else ''}{self.severity.value} [{self.code}] {self.message}"


# Finding codes whose errors mean "could not run" (exit 2) rather than "inputs have errors" (exit 1).
COULD_NOT_RUN = frozenset(
    {
        "project.not-found",
        "file.missing",
        "file.unreadable",
    }
)

# Every finding code the tool can emit, with a one-line description. Codes are never renamed.
CODES: dict[str, str] = {
    "project.not-found": "The project folder or its triangulate.yaml does not exist.",
    "file.missing": "A file named by the project (codebook, protocol, source) does not exist.",
    "file.unreadable": "A file exists but cannot be read (permissions, a folder, not a file).",
    "yaml.syntax": "A YAML file is not valid YAML.",
    "yaml.not-a-mapping": "A YAML file's top level is not a mapping of keys to values.",
    "yaml.too-complex": "A YAML file expands to too many nodes (for example an alias bomb).",
    "yaml.unknown-key": "A key that the format does not define (usually a typo).",
    "yaml.missing-key": "A required key is missing.",
    "yaml.invalid-value": "A value has the wrong type or form.",
    "project.duplicate-source": "Two sources share one id.",
    "project.duplicate-reviewer": "A reviewer id is listed twice.",
    "project.too-few-sources": "Triangulation needs at least two sources.",
    "project.source-option": "An option given for a source does not apply to its kind.",
    "protocol.not-found": "The protocol id is not built in and no such protocol file exists.",
    "protocol.duplicate-id": "Two dimensions or two categories of a protocol share one id.",
    "protocol.unknown-category": "A protocol rule names a category the protocol does not define.",
    "protocol.reserved-dimension": "A dimension id clashes with a column name the tool reserves.",
    "codebook.duplicate-theme": "Two themes share one id.",
    "codebook.duplicate-group": "Two groups share one id.",
    "codebook.unknown-group": "A theme names a group that is not defined.",
    "codebook.unknown-source": "A theme's codes or not_collected name a source id that is not in the project.",
    "codebook.code-sorted-twice": "A source code is sorted into more than one theme.",
    "codebook.code-unused": "A code in the codebook never appears in its source's data.",
    "data.unsorted-code": "A code appears in a source's data but is sorted into no theme.",
    "data.unsupported-format": "A source file has an extension the tool cannot read.",
    "data.empty": "A source file has no header or no rows.",
    "data.missing-column": "A required column is missing from a source table.",
    "data.duplicate-column": "A table has two columns with the same name.",
    "data.bad-encoding": "A file is not valid UTF-8.",
    "data.cp1252-encoding": "A file is not UTF-8 and was read as Windows-1252 (Excel's 'CSV' encoding).",
    "data.malformed": "A table cannot be parsed (bad quoting, NUL bytes, a bad workbook).",
    "data.ragged-row": "A row has more cells than the header.",
    "data.missing-value": "A required cell is empty.",
    "data.empty-text": "An excerpt has no text.",
    "data.not-a-number": "A numeric cell does not hold a number of the right kind.",
    "data.respondents-too-small": "A survey row has fewer than one respondent.",
    "data.endorsed-exceeds-respondents": "A survey row has more endorsements than respondents.",
    "data.negative-endorsed": "A survey row has a negative endorsement count.",
    "data.percent-out-of-range": "A survey percentage is below 0 or above 100.",
    "data.endorsed-and-percent": "A survey row gives both endorsed and percent, and they differ.",
    "data.no-share": "A survey row gives neither endorsed nor percent.",
    "data.duplicate-code": "A survey code appears on more than one row.",
    "data.bad-json": "A JSONL line is not a JSON object.",
    "review.missing-column": "A worksheet lacks a required column.",
    "review.unknown-theme": "A worksheet row names a theme that is not in the codebook.",
    "review.unknown-source": "A worksheet row names a source id that is not in the project.",
    "review.unknown-category": "A worksheet row names a category that is not in the protocol.",
    "review.bad-judgement": "A dimension cell holds something other than yes, no or empty.",
    "review.rule-conflict": "A worksheet row's category contradicts its dimension judgements.",
    "review.duplicate-unit": "A worksheet has two rows for one unit.",
    "review.not-a-unit": "A worksheet row names a theme and pair that is not a unit.",
    "review.judgement-ignored": "Dimension judgements on a one-source unit are ignored.",
    "review.incomplete": "A worksheet row judges some dimensions but not all and gives no category.",
    "review.unknown-reviewer": "A worksheet file is not named after a configured reviewer.",
    "decisions.bad-line": "A decisions line is not a valid JSON decision.",
    "decisions.truncated-line": "The last decisions line was cut short (a crash while writing); it is ignored.",
    "decisions.unknown-category": "A decision names a category that is not in the protocol.",
    "decisions.not-a-unit": "A decision is for a unit that no longer exists.",
}


def error(code: str, message: str, location: Location | None = None) -> Finding:
    assert code in CODES, code
    return Finding(code, Severity.ERROR, message, location or Location())


def warning(code: str, message: str, location: Location | None = None) -> Finding:
    assert code in CODES, code
    return Finding(code, Severity.WARNING, message, location or Location())


class TriangulateError(Exception):
    """A user-fixable problem: the inputs have errors (exit 1) or the tool could not run (exit 2)."""

    def __init__(self, message: str, findings: list[Finding] | None = None, exit_code: int = 1):
        super().__init__(message)
        self.message = message
        self.findings = list(findings or [])
        self.exit_code = exit_code


class UsageError(TriangulateError):
    """Bad usage or a missing/unreadable file: exit 2."""

    def __init__(self, message: str, findings: list[Finding] | None = None):
        super().__init__(message, findings, exit_code=2)


def exit_code_for(findings: list[Finding], strict: bool = False) -> int:
    """0 when clean, 2 when a file could not be read at all, 1 for any other error."""
    if any(f.is_error and f.code in COULD_NOT_RUN for f in findings):
        return 2
    if any(f.is_error for f in findings):
        return 1
    if strict and findings:
        return 1
    return 0
