"""The web workspace's model: the analysis kept in memory, access tokens, and every save.

No web framework here: :mod:`triangulate.serve.app` turns requests into calls on a
:class:`Workspace` and its answers into pages.

- The analysis is loaded once and kept. Each request checks the size and modification time of
  the project's files (a few ``stat`` calls): when a source, the codebook, the protocol or the
  project file changed, everything is reloaded; when only worksheets, ``decisions.jsonl`` or
  ``findings.csv`` changed (a save, a spreadsheet, a ``git pull``), only those are read again.
- Saves go through the terminal walks' state machines and writers (the same worksheet rows,
  the same decision lines, fsynced before the page confirms), under a per-file lock held across
  the read-check-write. A row whose content on disk differs from the one the page showed
  (compared by a hash sent with the form) is never overwritten: the save is refused.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import secrets
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from triangulate.files import neutralise
from triangulate.findings import Finding, TriangulateError
from triangulate.project import paths
from triangulate.project.loading import Project, find_project_file
from triangulate.protocol.analysis import Analysis, Decision, ReviewerCode, Unit, settle
from triangulate.review.decisions import (
    append_decision,
    appendable_problem,
    decisions_path,
    read_decisions,
)
from triangulate.review.findings_table import (
    FindingRowChanged,
    findings_path,
    read_source_findings,
    save_finding_row,
)
from triangulate.review.locks import file_lock
from triangulate.review.session import (
    Code,
    CodingSession,
    Decide,
    ReviewSession,
    SessionError,
    select_for_review,
)
from triangulate.review.worksheets import read_worksheets, save_worksheet_row, worksheet_path
from triangulate.sources.tables import read_table

ADJUDICATION = paths.ADJUDICATION

Stamp = tuple[int, int, int] | None  # (mtime_ns, size, inode), None when missing


def _stamp(path: Path) -> Stamp:
    try:
        st = path.stat()
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


def _digest(value: object) -> str:
    raw = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:32]


class ProjectErrors(Exception):
    """The project (as it is on disk now) has errors: pages show them instead."""

    def __init__(self, findings: list[Finding]):
        super().__init__("the project has errors")
        self.findings = findings


class Conflict(Exception):
    """The row changed on disk since the page was loaded: nothing was saved."""


class Refused(Exception):
    """The answer cannot be saved (the message says why); nothing was saved."""


# ---------------------------------------------------------------------------- access


@dataclass(frozen=True)
class Principal:
    """Who a token belongs to: one reviewer, or the adjudication role."""

    role: str  # "reviewer" | "adjudication"
    reviewer: str | None = None

    @property
    def name(self) -> str:
        return self.reviewer if self.reviewer is not None else ADJUDICATION


@dataclass
class Tokens:
    """One random secret per reviewer and one for adjudication (>= 128 bits each), per server run."""

    reviewers: list[str]
    by_reviewer: dict[str, str] = field(default_factory=dict)
    adjudication: str = ""
    key: bytes = b""

    def __post_init__(self) -> None:
        self.by_reviewer = {r: secrets.token_urlsafe(32) for r in self.reviewers}
        self.adjudication = secrets.token_urlsafe(32)
        self.key = secrets.token_bytes(32)

    def check(self, principal: Principal, token: str | None) -> bool:
        if not token:
            return False
        want = (
            self.adjudication
            if principal.role == "adjudication"
            else self.by_reviewer.get(principal.reviewer or "")
        )
        return want is not None and hmac.compare_digest(want.encode(), token.encode())

    def token_for(self, principal: Principal) -> str:
        if principal.role == "adjudication":
            return self.adjudication
        return self.by_reviewer[principal.reviewer or ""]

    def csrf(self, principal: Principal) -> str:
        """The anti-forgery value every form of this principal carries (derived, not stored)."""
        msg = f"csrf:{principal.role}:{principal.name}:{self.token_for(principal)}".encode()
        return hmac.new(self.key, msg, hashlib.sha256).hexdigest()

    def check_csrf(self, principal: Principal, value: str | None) -> bool:
        return bool(value) and hmac.compare_digest(self.csrf(principal), value or "")


# ---------------------------------------------------------------------------- the workspace


@dataclass
class Saved:
    """What a save did, for the page that confirms it."""

    message: str
    next_index: int | None


class Workspace:
    """One project's analysis in memory, refreshed from disk when its files change."""

    def __init__(self, path: Path, allow_outside: bool = False):
        pfile = find_project_file(path)
        self.path = path
        self.allow_outside = allow_outside  # spec section 1: paths stay inside unless told
        self.root = pfile.parent if pfile is not None else path
        self.lock = threading.RLock()
        self.analysis: Analysis | None = None
        self.errors: list[Finding] = []
        self.load_findings: list[Finding] = []
        self._input_stamps: dict[Path, Stamp] = {}
        self._review_stamps: dict[Path, Stamp] = {}
        self.raw_rows: dict[str, dict[tuple[str, str, str], dict[str, str]]] = {}
        self.loads = 0  # full loads, for tests and the benchmark
        self.review_loads = 0
        self.generation = 0  # changes whenever what the pages show may have changed
        self._selected: tuple[int, list[Unit]] | None = None
        self._exemplars: dict[tuple[str, str], list[str]] = {}

    # ---- loading

    @property
    def project(self) -> Project:
        assert self.analysis is not None
        return self.analysis.project

    def _review_files(self, project: Project) -> list[Path]:
        files = [worksheet_path(project, r) for r in project.file.reviewers]
        files.append(decisions_path(project))
        fpath = findings_path(project)
        if fpath is not None:
            files.append(fpath)
        return files

    def _full_load(self) -> None:
        from triangulate.pipeline import analyse_path

        self.loads += 1
        self.generation += 1
        self._exemplars = {}
        result = analyse_path(self.path, allow_outside=self.allow_outside)
        self.analysis = None
        if result.analysis is None or result.has_errors:
            self.errors = [f for f in result.findings if f.is_error] or result.findings
            pfile = find_project_file(self.path)
            # Watch the files that exist, so that fixing them is noticed on the next page.
            watched = [pfile] if pfile is not None else []
            for p in self.root.rglob("*"):
                if p.is_file() and p.suffix in (".yaml", ".yml", ".csv", ".jsonl", ".xlsx"):
                    watched.append(p)
            self._input_stamps = {p: _stamp(p) for p in watched}
            self._review_stamps = {}
            return
        self.errors = []
        self.analysis = result.analysis
        project = result.analysis.project
        self.load_findings = result.findings
        self._input_stamps = {p: _stamp(p) for p in project.input_files.values()}
        self._read_review_files(project, reread=False)

    def _read_review_files(self, project: Project, reread: bool = True) -> None:
        """Read worksheets, decisions and findings again, and settle every unit."""
        assert self.analysis is not None
        a = self.analysis
        files = self._review_files(project)
        stamps = {p: _stamp(p) for p in files}
        self.generation += 1
        if reread:
            self.review_loads += 1
            found = read_worksheets(project, a.units)
            found += read_decisions(project, a.units)
            for u in a.units:
                settle(u, a.reviewers)
            errors = [f for f in found if f.is_error]
        else:
            errors = []
        source_findings, ffound = read_source_findings(project, a.sorting)
        errors += [f for f in ffound if f.is_error]
        a.source_findings = source_findings
        self.raw_rows = {r: self._raw_worksheet(project, r) for r in a.reviewers}
        self.errors = errors
        self._review_stamps = stamps

    def _raw_worksheet(
        self, project: Project, reviewer: str
    ) -> dict[tuple[str, str, str], dict[str, str]]:
        """Each worksheet row as written, keyed by unit: what a save compares against."""
        path = worksheet_path(project, reviewer)
        if not path.exists():
            return {}
        table, _ = read_table(path, paths.worksheet_shown(reviewer))
        if table is None:
            return {}
        order = {sid: i for i, sid in enumerate(project.source_ids)}
        ti, ai, bi = table.index("theme"), table.index("source_a"), table.index("source_b")
        if ti is None or ai is None or bi is None:
            return {}
        out: dict[tuple[str, str, str], dict[str, str]] = {}
        for cells in table.rows:
            t, a, b = cells[ti].strip(), cells[ai].strip(), cells[bi].strip()
            if a in order and b in order and order[a] > order[b]:
                a, b = b, a
            out.setdefault((t, a, b), dict(zip(table.columns, cells)))
        return out

    def fresh(self) -> Analysis:
        """The analysis as the files on disk are now (call with ``self.lock`` held)."""
        if (self.analysis is None and not self._input_stamps) or any(
            _stamp(p) != s for p, s in self._input_stamps.items()
        ):
            self._full_load()
        elif self.analysis is not None and any(
            _stamp(p) != s for p, s in self._review_stamps.items()
        ):
            self._read_review_files(self.analysis.project)
        if self.analysis is None or self.errors:
            raise ProjectErrors(self.errors)
        return self.analysis

    # ---- what pages show

    def row_hash(self, reviewer: str, key: tuple[str, str, str]) -> str:
        """A digest of the unit's worksheet row as on disk; a blank row is the same as none."""
        row = self.raw_rows.get(reviewer, {}).get(key)
        if row is not None and not any(
            v.strip() for k, v in row.items() if k not in ("theme", "source_a", "source_b")
        ):
            row = None
        return _digest(row)

    @staticmethod
    def decision_hash(unit: Unit) -> str:
        d = unit.decision
        return _digest(None if d is None else [d.line, d.as_json()])

    def finding_hash(self, theme: str, source: str) -> str:
        assert self.analysis is not None
        f = self.analysis.source_findings.get((theme, source))
        return _digest(None if f is None else [f.text, f.exemplar])

    def exemplars(self, theme: str, source: str) -> list[str]:
        """The possible exemplars of a finding, kept until the sources change."""
        key = (theme, source)
        if key not in self._exemplars:
            self._exemplars[key] = exemplar_choices(self.fresh(), theme, source)
        return self._exemplars[key]

    def adjudication_units(self) -> list[Unit]:
        a = self.fresh()
        if self._selected is None or self._selected[0] != self.generation:
            self._selected = (self.generation, select_for_review(a.units, a.reviewers))
        return self._selected[1]

    # ---- our own writes, applied in memory (no re-read of every review file after a save)

    def _seen(self, path: Path) -> None:
        """We wrote ``path`` (holding its lock, after reading what was on disk): its new state
        is known, so the next request need not read the review files again."""
        if path in self._review_stamps:
            self._review_stamps[path] = _stamp(path)
        self.generation += 1

    def _own_worksheet_row(
        self, reviewer: str, unit: Unit, values: dict[str, str], judgements: dict[str, bool | None]
    ) -> None:
        assert self.analysis is not None
        rows = self.raw_rows.setdefault(reviewer, {})
        old = rows.get(unit.key)
        if old is None:
            columns = next(iter(rows.values()), None) or {}
            old = dict.fromkeys(columns, "")
        new = dict(old)
        for col, value in values.items():
            new[col] = neutralise(value)
        rows[unit.key] = new
        previous = unit.codes.get(reviewer)
        unit.codes[reviewer] = ReviewerCode(
            reviewer,
            values["category"] or None,
            judgements,
            values["rationale"],
            False,
            previous.row if previous is not None else 0,
        )
        settle(unit, self.analysis.reviewers)

    def unit_index(self, units: list[Unit], key: tuple[str, str, str]) -> int | None:
        for i, u in enumerate(units):
            if u.key == key:
                return i
        return None

    @staticmethod
    def next_open(units: list[Unit], after: int, is_done: Iterable[bool]) -> int | None:
        """The next unit not done after ``after``, else the first not done, else None."""
        done = list(is_done)
        for i in range(after + 1, len(units)):
            if not done[i]:
                return i
        for i in range(0, min(after + 1, len(units))):
            if not done[i]:
                return i
        return None

    # ---- saves

    def save_coding(
        self,
        reviewer: str,
        key: tuple[str, str, str],
        expected: str,
        judgements: dict[str, bool | None],
        category: str | None,
        rationale: str,
    ) -> Saved:
        with self.lock:
            a = self.fresh()
            project = a.project
            path = worksheet_path(project, reviewer)
            with file_lock(path):
                # Anything written since the last check (another process) is read first.
                a = self.fresh()
                index = self.unit_index(a.units, key)
                if index is None:
                    raise Conflict("this unit no longer exists (the data or codebook changed)")
                if self.row_hash(reviewer, key) != expected:
                    raise Conflict(
                        f"the row for this unit in {paths.worksheet_shown(reviewer)} was changed "
                        "on disk since the page was loaded"
                    )
                unit = a.units[index]
                session = CodingSession([unit], reviewer, project.protocol, redo=True)
                try:
                    row = session.apply(Code(judgements, category, rationale))
                except SessionError as exc:
                    raise Refused(str(exc)) from exc
                assert row is not None
                values = {"theme": row.theme, "source_a": row.source_a, "source_b": row.source_b}
                for d, v in row.judgements.items():
                    values[d] = "" if v is None else ("yes" if v else "no")
                values["category"] = row.category
                values["rationale"] = row.rationale
                existed = path.exists()
                try:
                    save_worksheet_row(project, a.units, reviewer, values)
                except TriangulateError as exc:  # a sheet it cannot read back whole: untouched
                    raise Refused(exc.message) from exc
                if existed:
                    self._own_worksheet_row(reviewer, unit, values, row.judgements)
                    self._seen(path)
                a = self.fresh()  # a new worksheet (every unit's row) is simply read
            done = [u.codes.get(reviewer) is not None for u in a.units]
            return Saved(
                f"Saved {row.category} for {unit.theme.display} ({unit.source_a} / {unit.source_b}) "
                f"in {paths.worksheet_shown(reviewer)}.",
                self.next_open(a.units, index, done),
            )

    def save_decision(
        self,
        key: tuple[str, str, str],
        expected: str,
        category: str,
        rationale: str,
        decided_by: str,
        clock: datetime | None = None,
    ) -> Saved:
        with self.lock:
            a = self.fresh()
            path = decisions_path(a.project)
            with file_lock(path):
                a = self.fresh()
                units = select_for_review(a.units, a.reviewers)
                index = self.unit_index(units, key)
                if index is None:
                    raise Conflict("this unit is no longer open for adjudication")
                unit = units[index]
                if self.decision_hash(unit) != expected:
                    raise Conflict(
                        "a decision for this unit was added to decisions.jsonl since the page "
                        "was loaded"
                    )
                if not decided_by.strip():
                    raise Refused("say who decides (your name or initials)")
                problem = appendable_problem(path)
                if problem:
                    raise Refused(problem)
                session = ReviewSession(
                    [unit],
                    decided_by.strip(),
                    a.project.protocol,
                    revise=True,
                    clock=(lambda: clock) if clock else None,
                )
                try:
                    decision = session.apply(Decide(category, rationale))
                except SessionError as exc:
                    raise Refused(str(exc)) from exc
                assert isinstance(decision, Decision)
                append_decision(path, decision)  # flushed and fsynced before we answer
                try:
                    line = path.read_bytes().count(b"\n")
                except OSError:
                    line = 0
                unit.decisions.append(dataclasses.replace(decision, line=line))
                settle(unit, a.reviewers)
                self._seen(path)
                units = self.adjudication_units()
            done = [u.decision is not None for u in units]
            return Saved(
                f"Saved the decision {category} for {unit.theme.display} "
                f"({unit.source_a} / {unit.source_b}) in decisions.jsonl.",
                self.next_open(units, index, done),
            )

    def save_finding(
        self, theme: str, source: str, expected: str, text: str, exemplar: str
    ) -> Saved:
        with self.lock:
            a = self.fresh()
            path = findings_path(a.project)
            if path is None:
                raise Refused(
                    "the project file names no findings file: add 'findings: findings.csv' to "
                    "triangulate.yaml"
                )
            ts = a.sorting.get((theme, source))
            if ts is None or not ts.present:
                raise Conflict("this theme is not (or no longer) present in this source")
            if exemplar and exemplar not in self.exemplars(theme, source):
                raise Refused(
                    f"'{exemplar}' is not an excerpt or item of this source in this theme"
                )
            with file_lock(path):
                a = self.fresh()
                if self.finding_hash(theme, source) != expected:
                    raise Conflict(
                        f"the row for this theme and source in {path.name} was changed on disk "
                        "since the page was loaded"
                    )
                seen = a.source_findings.get((theme, source))
                try:
                    save_finding_row(
                        a.project,
                        {
                            "theme": theme,
                            "source": source,
                            "finding": " ".join(text.split()),
                            "exemplar": exemplar,
                        },
                        expected={
                            "finding": seen.text if seen else "",
                            "exemplar": (seen.exemplar or "") if seen else "",
                        },
                    )
                except FindingRowChanged as exc:
                    raise Conflict(
                        f"the row for this theme and source in {path.name} was changed on disk "
                        "since the page was loaded"
                    ) from exc
                self.fresh()
            return Saved(f"Saved the finding for {theme} in {source} ({path.name}).", None)

    def regenerate_report(self) -> Path:
        """Write every output as ``triangulate report`` does; returns report.html's path."""
        from triangulate.outputs.write import write_all
        from triangulate.pipeline import analyse_path

        with self.lock:
            result = analyse_path(self.path, allow_outside=self.allow_outside)
            if result.analysis is None or result.has_errors:
                raise ProjectErrors([f for f in result.findings if f.is_error])
            a = result.analysis
            write_all(a, a.project.output_dir)
            return a.project.output_dir / paths.REPORT_HTML


def exemplar_choices(analysis: Analysis, theme: str, source: str) -> list[str]:
    """What may be a finding's exemplar: the source's excerpt ids (or survey codes) in the theme."""
    ts = analysis.sorting.get((theme, source))
    if ts is None:
        return []
    if ts.kind == "excerpts":
        rows = ts.excerpt_rows
        cols = getattr(rows, "_cols", None)  # the columnar view: no row object per excerpt
        if cols is not None:
            idx = getattr(rows, "_idx", None)
            ids = cols.excerpt_id
            return list(dict.fromkeys(ids[i] for i in (range(len(cols)) if idx is None else idx)))
        return list(dict.fromkeys(r.excerpt_id for r in rows))
    return [r.code for r in ts.survey_rows]


def now() -> datetime:
    return datetime.now(timezone.utc)
