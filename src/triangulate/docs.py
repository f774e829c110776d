"""Generate docs/findings.md from the finding-code catalogue (``CATALOGUE`` in :mod:`triangulate.findings`).

Run from the repository root::

    python -m triangulate.docs            # rewrite docs/findings.md
    python -m triangulate.docs --check    # exit 1 when docs/findings.md is stale

``tests/test_docs.py`` fails when the committed page differs from what this module generates.
"""

from __future__ import annotations

import sys
from pathlib import Path

from triangulate.findings import CATALOGUE, COULD_NOT_RUN

DEFAULT_PATH = Path("docs") / "findings.md"

HEADER = """\
# Finding codes

<!-- GENERATED FILE: do not edit. It is generated from CATALOGUE in
     src/triangulate/findings.py. Regenerate it from the repository root with
         python -m triangulate.docs
     (`python -m triangulate.docs --check` exits 1 when it is stale; tests/test_docs.py fails then). -->

Every problem that `triangulate validate` (and every other command) reports is a *finding* with a
stable code, a severity (error or warning) and a location: the file, plus the line and column for
YAML and JSONL, or the row and column name for tables. Codes are never renamed.

- Errors stop `sort`, `converge`, `report` and `run` and make `validate` exit 1. Errors marked
  *exit 2* below mean a file could not be read at all: the command could not run.
- Warnings are reported and the command goes on (exit 0), unless `--strict` is given (exit 1).
- `triangulate validate --select CODE --ignore CODE` keeps or drops findings by code or by prefix
  (`--ignore data.unsorted-code`, `--select codebook`); `--format json` and `--format github` give
  the same findings for programs and for GitHub Actions (see [ci.md](ci.md)).

The example under each code is a line as `triangulate validate` prints it
(`file:line:column:` or `file: row N, column 'name':`, then the severity, message and code).
"""


def _severity(code: str) -> str:
    doc = CATALOGUE.get(code)
    example = doc.example if doc else ""
    if doc and doc.severity:
        return doc.severity + (" (exit 2)" if code in COULD_NOT_RUN else "")
    kinds = []
    if ": error:" in example:
        kinds.append("error")
    if ": warning:" in example:
        kinds.append("warning")
    label = " or ".join(kinds) or "error"
    if code in COULD_NOT_RUN:
        label += " (exit 2)"
    return label


def _anchor(code: str) -> str:
    return code.replace(".", "")


def render_findings_md() -> str:
    out = [HEADER, "## All codes", "", "| code | severity | meaning |", "|---|---|---|"]
    for code, entry in CATALOGUE.items():
        meaning = entry.meaning
        out.append(f"| [`{code}`](#{_anchor(code)}) | {_severity(code)} | {meaning} |")
    prefix = None
    for code, entry in CATALOGUE.items():
        meaning = entry.meaning
        group = code.split(".", 1)[0]
        if group != prefix:
            out += ["", f"## `{group}.*`"]
            prefix = group
        doc = CATALOGUE.get(code)
        out += ["", f"### `{code}`", "", f"{meaning} Severity: {_severity(code)}.", ""]
        if doc is None:
            out += ["*No example or fix yet: add one to CATALOGUE in src/triangulate/findings.py.*"]
            continue
        out += ["```", doc.example, "```", "", f"**Fix:** {doc.fix}"]
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    check = "--check" in args
    rest = [a for a in args if a != "--check"]
    path = Path(rest[0]) if rest else DEFAULT_PATH
    text = render_findings_md()
    if check:
        try:
            current = path.read_text(encoding="utf-8")
        except OSError:
            current = None
        if current != text:
            sys.stderr.write(
                f"{path} is stale; run 'python -m triangulate.docs' from the repository root\n"
            )
            return 1
        return 0
    from triangulate.files import atomic_write_text

    atomic_write_text(path, text)
    print(f"Wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
