"""The thin prompt loops over :mod:`triangulate.review.session`, and the side-by-side evidence view.

Each answer is persisted (worksheet row replaced atomically, or decision line appended and
fsynced) before the next prompt is shown, so quitting, Ctrl-C or a killed process loses nothing
that was confirmed.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.console import Console, Group
from rich.panel import Panel
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from triangulate.outputs.report import evidence_lines, prominence_text
from triangulate.protocol.analysis import Analysis, ThemeSource, Unit
from triangulate.review.decisions import append_decision, decisions_path
from triangulate.review.session import (
    Answer,
    Back,
    Code,
    CodingSession,
    Decide,
    Quit,
    ReviewSession,
    SessionError,
    Skip,
    WorksheetRow,
)
from triangulate.review.worksheets import save_worksheet_row

Ask = Callable[[str], str]


def _source_cell(ts: ThemeSource, label: str, show_all: bool, dims: list[str]) -> Group:
    parts: list[Text] = [Text(f"{ts.source}: {label}", style="bold")]
    if not ts.present:
        parts.append(
            Text(
                "silent: no code of this theme"
                + (" (codes listed, none endorsed)" if ts.survey_rows else "")
            )
        )
        return Group(*parts)
    parts.append(Text(f"prominence {prominence_text(ts)}"))
    parts.append(Text(f"codes: {', '.join(ts.codes)}"))
    limit = 10_000 if show_all else 3
    lines = evidence_lines(ts, redact=False, limit=limit)
    for line in lines:
        parts.append(Text(f"• {line}"))
    if not show_all and ts.kind == "excerpts" and any(line.startswith("... and") for line in lines):
        parts.append(Text("  (press 'a' to see all excerpts)", style="dim"))
    for d in dims:
        tags = ", ".join(sorted(ts.tags.get(d, ()))) or "none"
        parts.append(Text(f"{d} tags: {tags}", style="dim"))
    return Group(*parts)


def unit_view(
    analysis: Analysis, unit: Unit, index: int, total: int, show_all: bool = False
) -> Group:
    """The theme, both sources side by side, and the rule's proposal. Never another reviewer's codes."""
    project = analysis.project
    dims = project.protocol.dimension_ids
    head = Text(f"[{index}/{total}] {unit.theme.display} ({unit.theme.id})", style="bold")
    items: list[Rule | Text | Table | Panel] = [Rule(head)]
    if unit.theme.definition:
        items.append(Text(f"Definition: {unit.theme.definition}"))
    table = Table(show_header=False, expand=True, show_lines=False)
    table.add_column(ratio=1)
    table.add_column(ratio=1)
    table.add_row(
        _source_cell(unit.a, project.source_label(unit.source_a), show_all, dims),
        _source_cell(unit.b, project.source_label(unit.source_b), show_all, dims),
    )
    items.append(table)
    items.append(Text(f"Proposal: {unit.proposed or 'none'} ({unit.reason})"))
    if unit.note == "not_collected":
        items.append(
            Text(
                "Note: the silent source's instrument could not capture this theme (not_collected)."
            )
        )
    return Group(*items)


def _category_menu(analysis: Analysis) -> str:
    return "  ".join(
        f"[{i}] {c.id}" for i, c in enumerate(analysis.project.protocol.categories, start=1)
    )


def _pick_category(analysis: Analysis, answer: str) -> str | None:
    cats = analysis.project.protocol.category_ids
    a = answer.strip()
    if a.isdigit() and 1 <= int(a) <= len(cats):
        return cats[int(a) - 1]
    if a in cats:
        return a
    return None


class _Control(Exception):
    def __init__(self, answer: Skip | Back | Quit):
        self.answer = answer


class _Redraw(Exception):
    """Show the unit again (for example with every excerpt)."""


def _controls(reply: str) -> None:
    r = reply.strip().casefold()
    if r in ("s", "skip"):
        raise _Control(Skip())
    if r in ("b", "back"):
        raise _Control(Back())
    if r in ("q", "quit"):
        raise _Control(Quit())
    if r in ("a", "all"):
        raise _Redraw()


def _drive(
    session: CodingSession | ReviewSession,
    console: Console,
    show: Callable[[Unit, bool], None],
    question: Callable[[Unit], Answer],
    persist: Callable[[Any], None],
) -> None:
    """The loop both walks share: show the unit, ask, apply, persist before the next question."""
    show_all = False
    while (unit := session.current) is not None:
        show(unit, show_all)
        show_all = False
        try:
            result = session.apply(question(unit))
        except _Control as c:
            session.apply(c.answer)
            continue
        except _Redraw:
            show_all = True
            continue
        except SessionError as exc:
            console.print(Text(f"Not saved: {exc}", style="red"))
            continue
        if result is not None:
            persist(result)


def code_loop(
    analysis: Analysis, reviewer: str, console: Console, ask: Ask, redo: bool = False
) -> tuple[int, int]:
    """Walk the reviewer's uncoded units. Returns (coded now, still uncoded)."""
    project = analysis.project
    protocol = project.protocol
    session = CodingSession(analysis.units, reviewer, protocol, redo=redo)
    total = len(session.units)
    coded = 0
    if session.current is None:
        console.print(
            f"{reviewer} has coded every unit ({total}). Use --redo to go through them again."
        )
        return 0, 0
    console.print(
        f"Coding as {reviewer}: {session.remaining} of {total} unit(s) to code. Each answer is saved to "
        f"reviews/{reviewer}.csv at once; q quits, and running this again resumes."
    )

    def show(unit: Unit, show_all: bool) -> None:
        console.print(unit_view(analysis, unit, session.position + 1, total, show_all))

    def pick_category() -> str:
        while True:
            reply = ask(f"Category? {_category_menu(analysis)}: ")
            _controls(reply)
            category = _pick_category(analysis, reply)
            if category is not None:
                return category
            console.print(f"Not a category: {reply!r}")

    def question(unit: Unit) -> Answer:
        judgements: dict[str, bool | None] = {}
        category: str | None = None
        if unit.one_source:
            while category is None:
                reply = ask(
                    f"Category? Enter = {protocol.rules.one_source} (one source only), or {_category_menu(analysis)}; "
                    "a = all excerpts, s = skip, b = back, q = quit: "
                )
                _controls(reply)
                category = (
                    protocol.rules.one_source
                    if not reply.strip()
                    else _pick_category(analysis, reply)
                )
                if category is None:
                    console.print(f"Not a category: {reply!r}")
        else:
            for dim in protocol.dimensions:
                while True:
                    reply = ask(
                        f"{dim.id} ({dim.label}) converges? y/n; c = choose a category instead; "
                        "a = all excerpts, s = skip, b = back, q = quit: "
                    )
                    _controls(reply)
                    r = reply.strip().casefold()
                    if r in ("y", "yes", "n", "no", "c"):
                        break
                    console.print("Answer y or n (or c, a, s, b, q).")
                if r == "c":
                    judgements, category = {}, pick_category()
                    break
                judgements[dim.id] = r.startswith("y")
            rule = session.rule_category(unit, judgements) if judgements else None
            if rule:
                console.print(Text(f"The rule gives: {rule}"))
        rationale = ask("Rationale (one line; Enter to leave empty): ")
        return Code(judgements, category, rationale)

    def persist(row: WorksheetRow) -> None:
        nonlocal coded
        values = {"theme": row.theme, "source_a": row.source_a, "source_b": row.source_b}
        for d, v in row.judgements.items():
            values[d] = "" if v is None else ("yes" if v else "no")
        values["category"] = row.category
        values["rationale"] = row.rationale
        path = save_worksheet_row(project, analysis.units, reviewer, values)
        coded += 1
        console.print(
            Text(
                f"Saved: {row.category or '(rule)'} -> {path.relative_to(project.root)}",
                style="green",
            )
        )

    _drive(session, console, show, question, persist)
    left = session.remaining
    console.print(f"Coded {coded} unit(s) now; {left} still to code.")
    return coded, left


def review_loop(
    analysis: Analysis,
    units: list[Unit],
    decided_by: str,
    console: Console,
    ask: Ask,
    revise: bool = False,
) -> tuple[int, int]:
    """Walk the selected units and append one decision per answer. Returns (decided now, left)."""
    project = analysis.project
    session = ReviewSession(units, decided_by, project.protocol, revise=revise)
    total = len(units)
    decided = 0
    path = decisions_path(project)
    if not units:
        console.print(
            "Nothing to review: no unit matches (by default, the review walks disputed units)."
        )
        return 0, 0
    if session.current is None:
        console.print(
            f"Every selected unit ({total}) has a decision. Use --revise to go through them again."
        )
        return 0, 0
    console.print(
        f"Reviewing as {decided_by}: {session.remaining} of {total} unit(s) undecided. Each decision is "
        "appended to decisions.jsonl and saved before the next question; q quits, and running this again resumes."
    )

    def show(unit: Unit, show_all: bool) -> None:
        console.print(unit_view(analysis, unit, session.position + 1, total, show_all))
        for r in analysis.reviewers:
            c = unit.codes.get(r)
            if c is None:
                console.print(Text(f"{r}: not coded"))
            else:
                how = "from the judgements" if c.derived else "written"
                console.print(
                    Text(f"{r}: {c.category} ({how})" + (f": {c.rationale}" if c.rationale else ""))
                )
        if unit.decision is not None:
            d = unit.decision
            console.print(
                Text(
                    f"Current decision: {d.category} by {d.decided_by} at {d.decided_at}: {d.rationale}"
                )
            )

    def question(unit: Unit) -> Answer:
        while True:
            reply = ask(
                f"Final category? {_category_menu(analysis)}; a = all excerpts, s = skip, b = back, q = quit: "
            )
            _controls(reply)
            category = _pick_category(analysis, reply)
            if category:
                break
            console.print(f"Not a category: {reply!r}")
        while True:
            rationale = ask("Rationale (required): ")
            if rationale.strip().casefold() in ("q", "quit"):
                raise _Control(Quit())
            if rationale.strip():
                return Decide(category, rationale)
            console.print(
                "A rationale is required: the report shows why each unit was settled as it was."
            )

    def persist(decision: dict[str, str]) -> None:
        nonlocal decided
        append_decision(path, decision)
        decided += 1
        console.print(
            Text(
                f"Saved: {decision['category']} ({decision['decided_at']}) -> decisions.jsonl",
                style="green",
            )
        )

    _drive(session, console, show, question, persist)
    left = session.remaining
    console.print(
        f"Decided {decided} unit(s) now; {left} still undecided. Run 'triangulate report' to update the report."
    )
    return decided, left
