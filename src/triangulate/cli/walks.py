"""The thin prompt loops over :mod:`triangulate.review.session`, and the side-by-side evidence view.

Each answer is persisted (worksheet row replaced atomically, or decision line appended and
fsynced) before the next prompt is shown, so quitting, Ctrl-C or a killed process loses nothing
that was confirmed.

One unit fits an 80x24 terminal: the screen is cleared for each unit, the theme and its
definition stay at the top, each source shows a few excerpts cut to a line or two with a count
of the rest, and ``a`` pages through the full excerpts a screenful at a time (the header stays).
``?`` shows the categories' definitions and the dimensions' descriptions at any prompt.
End of input (Ctrl-D) quits without saving the unit on screen.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from rich.console import Console, Group
from rich.rule import Rule
from rich.table import Table
from rich.text import Text

from triangulate.outputs.report import evidence_lines, prominence_text
from triangulate.protocol.analysis import Analysis, Decision, ThemeSource, Unit
from triangulate.review.decisions import append_decision, appendable_problem, decisions_path
from triangulate.review.locks import file_lock
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
    rationale_problem,
)
from triangulate.review.worksheets import save_worksheet_row, worksheet_path
from triangulate.text import visible

Ask = Callable[[str], str]


def _safe(ask: Ask) -> Ask:
    """Prompts name labels from the protocol: their control characters are shown visibly too."""
    return lambda prompt: ask(visible(prompt))


def _text(value: str, **kw: Any) -> Text:
    """Text from the data for the terminal: control characters shown visibly (spec section 11),
    never interpreted as markup."""
    return Text(visible(value), **kw)


EXCERPTS_COMPACT = 3
"""Excerpts shown per source on a unit's first screen (each cut to two lines, with a count)."""
PAGE_LINES = 12
"""Lines of full excerpts per source on one ``a`` page."""
KEYS_HELP = "? help  a more  s skip  b back  q quit"


def _blind(analysis: Analysis) -> bool:
    return bool(getattr(analysis.project.file, "blind", True))


def _cut(text: str, width: int, lines: int) -> str:
    """``text`` cut to ``lines`` lines of ``width`` columns, ending in '…' when cut."""
    room = max(width, 10) * lines
    if len(text) <= room:
        return text
    return text[: room - 1].rstrip() + "…"


def _lines_needed(text: str, width: int) -> int:
    width = max(width, 10)
    return max(1, -(-len(text) // width))


def _excerpts(ts: ThemeSource) -> list[str]:
    lines = evidence_lines(ts, redact=False, limit=10**9)
    return [line for line in lines if not line.startswith("... and")]


def evidence_pages(ts: ThemeSource, width: int) -> list[list[str]]:
    """The source's full evidence split into pages of about PAGE_LINES lines at ``width``."""
    pages: list[list[str]] = [[]]
    used = 0
    for line in _excerpts(ts):
        need = _lines_needed("• " + line, width)
        if pages[-1] and used + need > PAGE_LINES:
            pages.append([])
            used = 0
        pages[-1].append(line)
        used += need
    return pages


def _source_cell(
    analysis: Analysis, ts: ThemeSource, width: int, page: int | None, finding: str | None
) -> tuple[Group, int]:
    """One source's column. ``page`` None: the compact first screen. Returns (cell, page count)."""
    project = analysis.project
    parts: list[Text] = [
        _text(f"{project.source_label(ts.source)}", style="bold", overflow="fold"),
    ]
    pages = 1
    if not ts.present:
        if ts.survey_rows:
            parts.append(_text("measured at 0%: asked, nobody endorsed it", overflow="fold"))
        else:
            parts.append(_text("silent: no code of this theme", overflow="fold"))
    else:
        parts.append(_text(f"prominence {prominence_text(ts)}", overflow="fold"))
    if finding:
        parts.append(_text(f"finding: {_cut(finding, width, 3)}", style="italic", overflow="fold"))
    if not ts.present:
        return Group(*parts), pages
    lines = _excerpts(ts)
    if page is None:
        for line in lines[:EXCERPTS_COMPACT]:
            parts.append(_text("• " + _cut(line, width - 2, 2), overflow="fold"))
        rest = len(lines) - EXCERPTS_COMPACT
        if rest > 0:
            parts.append(_text(f"+{rest} more (a: all, page by page)", style="dim"))
        for d in project.protocol.dimension_ids:
            tags = ", ".join(sorted(ts.tags.get(d, ()))) or "none"
            # one line per dimension on the compact screen (all tags: `a`, or the report)
            parts.append(
                _text(_cut(f"{d} tags: {tags}", width - 4, 1), style="dim", overflow="fold")
            )
    else:
        all_pages = evidence_pages(ts, width - 2)
        pages = len(all_pages)
        for line in all_pages[page % pages]:
            parts.append(_text("• " + line, overflow="fold"))
    return Group(*parts), pages


def _finding(analysis: Analysis, theme: str, source: str) -> str | None:
    found = getattr(analysis, "source_findings", None)
    if not found:
        return None
    f = found.get((theme, source))
    text = getattr(f, "text", None) if f is not None else None
    return text or None


def unit_view(
    analysis: Analysis,
    unit: Unit,
    index: int,
    total: int,
    page: int | None = None,
    *,
    width: int = 80,
    show_proposal: bool | None = None,
) -> tuple[Group, int]:
    """The theme, both sources side by side and, unless blind, the rule's proposal.

    Never another reviewer's codes. Returns the view and how many ``a`` pages the evidence has.
    """
    if show_proposal is None:
        show_proposal = not _blind(analysis)
    col = max((width - 3) // 2, 20)
    head = _text(f"[{index}/{total}] {unit.theme.display} ({unit.theme.id})", style="bold")
    items: list[Any] = [Rule(head)]
    if unit.theme.definition:
        items.append(_text(f"Definition: {_cut(unit.theme.definition, width - 12, 2)}"))
    table = Table.grid(expand=True, padding=(0, 1))
    table.add_column(ratio=1)
    table.add_column(ratio=1)
    cell_a, pa = _source_cell(
        analysis, unit.a, col, page, _finding(analysis, unit.theme.id, unit.source_a)
    )
    cell_b, pb = _source_cell(
        analysis, unit.b, col, page, _finding(analysis, unit.theme.id, unit.source_b)
    )
    table.add_row(cell_a, cell_b)
    items.append(table)
    pages = max(pa, pb)
    if page is not None:
        items.append(_text(f"excerpts page {page % pages + 1}/{pages} (a: next page)", style="dim"))
    if show_proposal:
        items.append(_text(f"Proposal: {unit.proposed or 'none'} ({unit.reason})", overflow="fold"))
    if unit.note == "not_collected":
        items.append(_text("Note: the silent source's instrument could not capture this theme."))
    return Group(*items), pages


def help_view(analysis: Analysis) -> Group:
    """The categories' definitions and the dimensions' descriptions (the ``?`` key)."""
    protocol = analysis.project.protocol
    items: list[Text] = [_text("Categories", style="bold")]
    for i, c in enumerate(protocol.categories, start=1):
        items.append(_text(f" {i} {c.id} ({c.label}): {c.definition}", overflow="fold"))
    items.append(_text("Dimensions", style="bold"))
    for d in protocol.dimensions:
        desc = f": {d.description}" if d.description else ""
        items.append(_text(f" {d.id} ({d.label}){desc}", overflow="fold"))
    items.append(_text(f"Keys: y/n, 1-{len(protocol.categories)} category, {KEYS_HELP}"))
    return Group(*items)


def _category_menu(analysis: Analysis) -> str:
    return " ".join(
        f"{i}={c.id}" for i, c in enumerate(analysis.project.protocol.categories, start=1)
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
    """Show the unit again, with the next page of excerpts (``a``) or the help (``?``)."""

    def __init__(self, more: bool = False, help: bool = False):
        self.more = more
        self.help = help


def _controls(reply: str) -> None:
    r = reply.strip().casefold()
    if r in ("s", "skip"):
        raise _Control(Skip())
    if r in ("b", "back"):
        raise _Control(Back())
    if r in ("q", "quit"):
        raise _Control(Quit())
    if r in ("a", "all"):
        raise _Redraw(more=True)
    if r in ("?", "h", "help"):
        raise _Redraw(help=True)


@dataclass
class _Screen:
    console: Console
    analysis: Analysis
    clear: bool
    ask: Ask

    def show(self, renderable: Any, message: Text | None = None) -> None:
        if self.clear:
            self.console.clear()
        if message is not None:
            self.console.print(message)
        self.console.print(renderable)

    def help(self) -> None:
        """The definitions and descriptions on a screen of their own, until Enter."""
        self.show(help_view(self.analysis))
        self.ask("Enter: back to the unit ")


def _drive(
    session: CodingSession | ReviewSession,
    screen: _Screen,
    view: Callable[[Unit, int | None], Any],
    question: Callable[[Unit, Callable[[], None]], Answer],
    persist: Callable[[Any], Text],
) -> None:
    """The loop both walks share: show the unit, ask, apply, persist before the next question."""
    page: int | None = None
    message: Text | None = None
    last: Unit | None = None
    while (unit := session.current) is not None:
        if unit is not last:
            page = None
        last = unit

        def redisplay(shown: Unit = unit, shown_page: int | None = page) -> None:
            screen.help()
            screen.show(view(shown, shown_page))

        screen.show(view(unit, page), message)
        message = None
        try:
            try:
                answer = question(unit, redisplay)
            except EOFError:  # Ctrl-D: end of input cancels this unit, unsaved, and ends the walk
                screen.console.print(_text("\nEnd of input: this unit was not saved."))
                answer = Quit()
            result = session.apply(answer)
        except _Control as c:
            session.apply(c.answer)
            continue
        except _Redraw as r:
            if r.help:
                try:
                    screen.help()
                except EOFError:
                    session.apply(Quit())
            if r.more:
                page = 0 if page is None else page + 1
            continue
        except SessionError as exc:
            message = _text(f"Not saved: {exc}", style="red")
            continue
        if result is not None:
            message = persist(result)


def _ask_rationale(
    ask: Ask,
    console: Console,
    analysis: Analysis,
    prompt: str,
    redisplay: Callable[[], None],
    *,
    required: bool,
) -> str:
    """Ask for a rationale until it is acceptable. ``b``/``q``/``s``/``?`` still act as controls,
    and a category id typed here is never taken for a rationale."""
    protocol = analysis.project.protocol
    while True:
        reply = ask(prompt)
        r = reply.strip().casefold()
        if r in ("b", "back", "q", "quit", "s", "skip"):
            _controls(reply)
        if r in ("?", "h", "help"):
            redisplay()
            continue
        problem = rationale_problem(reply, protocol, required=required)
        if problem is None:
            return reply
        console.print(_text(f"Not saved: {problem}.", style="red"))


def code_loop(
    analysis: Analysis,
    reviewer: str,
    console: Console,
    ask: Ask,
    redo: bool = False,
    clear: bool = True,
) -> tuple[int, int]:
    """Walk the reviewer's uncoded units. Returns (coded now, still uncoded)."""
    ask = _safe(ask)
    project = analysis.project
    protocol = project.protocol
    session = CodingSession(analysis.units, reviewer, protocol, redo=redo)
    total = len(session.units)
    if session.current is None:
        console.print(
            f"{reviewer} has coded every unit ({total}). Use --redo to go through them again."
        )
        return 0, 0
    console.print(
        f"Coding as {reviewer}: {session.remaining} of {total} unit(s) to code"
        + (" (blind: the rule's proposal is not shown)" if _blind(analysis) else "")
        + f". Each answer is saved to reviews/{reviewer}.csv at once; q quits, and running this again resumes."
    )
    screen = _Screen(console, analysis, clear, ask)

    def view(unit: Unit, page: int | None) -> Any:
        group, _pages = unit_view(
            analysis, unit, session.position + 1, total, page, width=console.width
        )
        return group

    def pick_category() -> str:
        while True:
            reply = ask(f"Category? {_category_menu(analysis)}: ")
            _controls(reply)
            category = _pick_category(analysis, reply)
            if category is not None:
                return category
            console.print(_text(f"Not a category: {reply!r}"))

    def question(unit: Unit, redisplay: Callable[[], None]) -> Answer:
        judgements: dict[str, bool | None] = {}
        category: str | None = None
        if unit.one_source:
            while category is None:
                reply = ask(
                    f"Category? Enter={protocol.rules.one_source} (one source), "
                    f"{_category_menu(analysis)} ({KEYS_HELP}): "
                )
                _controls(reply)
                category = (
                    protocol.rules.one_source
                    if not reply.strip()
                    else _pick_category(analysis, reply)
                )
                if category is None:
                    console.print(_text(f"Not a category: {reply!r}"))
        else:
            for dim in protocol.dimensions:
                if dim.description:
                    console.print(_text(f"{dim.label}: {dim.description}", style="dim"))
                while True:
                    reply = ask(
                        f"{dim.id} ({dim.label}) converges? y/n (c category, {KEYS_HELP}): "
                    )
                    _controls(reply)
                    r = reply.strip().casefold()
                    if r in ("y", "yes", "n", "no", "c"):
                        break
                    console.print("Answer y or n (or c, a, s, b, q, ?).")
                if r == "c":
                    judgements, category = {}, pick_category()
                    break
                judgements[dim.id] = r.startswith("y")
            rule = session.rule_category(unit, judgements) if judgements else None
            if rule:
                console.print(_text(f"The rule gives: {rule}"))
        rationale = _ask_rationale(
            ask,
            console,
            analysis,
            "Rationale (why; Enter to leave empty; b back, q quit): ",
            redisplay,
            required=False,
        )
        return Code(judgements, category, rationale)

    def persist(row: WorksheetRow) -> Text:
        values = {"theme": row.theme, "source_a": row.source_a, "source_b": row.source_b}
        for d, v in row.judgements.items():
            values[d] = "" if v is None else ("yes" if v else "no")
        values["category"] = row.category
        values["rationale"] = row.rationale
        with file_lock(worksheet_path(project, reviewer)):
            path = save_worksheet_row(project, analysis.units, reviewer, values)
        return _text(
            f"Saved: {row.category or '(rule)'} for {row.theme} -> {path.relative_to(project.root)}",
            style="green",
        )

    _drive(session, screen, view, question, persist)
    left = session.unanswered
    redone = session.revised_now
    console.print(
        f"Coded {session.saved_now} unit(s) now"
        + (f" ({redone} of them recoded)" if redone else "")
        + f"; {left} still to code."
    )
    return session.saved_now, left


def reviewer_line(analysis: Analysis, unit: Unit, reviewer: str) -> str:
    """One reviewer's category, per-dimension yes/no and rationale, on one line."""
    c = unit.codes.get(reviewer)
    if c is None:
        return f"{reviewer}: not coded"
    how = "from the judgements" if c.derived else "written"
    dims = ", ".join(
        f"{d} {'yes' if v else 'no'}" for d, v in c.judgements.items() if v is not None
    )
    return (
        f"{reviewer}: {c.category} ({how}"
        + (f"; {dims}" if dims else "")
        + ")"
        + (f": {c.rationale}" if c.rationale else "")
    )


def review_loop(
    analysis: Analysis,
    units: list[Unit],
    decided_by: str,
    console: Console,
    ask: Ask,
    revise: bool = False,
    clear: bool = True,
) -> tuple[int, int]:
    """Walk the selected units and append one decision per answer. Returns (decided now, left)."""
    ask = _safe(ask)
    project = analysis.project
    session = ReviewSession(units, decided_by, project.protocol, revise=revise)
    total = len(units)
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
        f"Reviewing as {decided_by}: {session.unanswered} of {total} unit(s) undecided. Each decision is "
        "appended to decisions.jsonl and saved before the next question; q quits, and running this again resumes."
    )
    screen = _Screen(console, analysis, clear, ask)

    def view(unit: Unit, page: int | None) -> Any:
        group, _pages = unit_view(
            analysis,
            unit,
            session.position + 1,
            total,
            page,
            width=console.width,
            show_proposal=True,
        )
        lines: list[Any] = [group]
        for r in analysis.reviewers:
            lines.append(_text(reviewer_line(analysis, unit, r), overflow="fold"))
        if unit.decision is not None:
            d = unit.decision
            lines.append(
                _text(
                    f"Current decision: {d.category} by {d.decided_by} at {d.decided_at}: {d.rationale}",
                    overflow="fold",
                )
            )
        return Group(*lines)

    def question(unit: Unit, redisplay: Callable[[], None]) -> Answer:
        while True:
            reply = ask(f"Final category? {_category_menu(analysis)} ({KEYS_HELP}): ")
            _controls(reply)
            category = _pick_category(analysis, reply)
            if category:
                break
            console.print(_text(f"Not a category: {reply!r}"))
        rationale = _ask_rationale(
            ask,
            console,
            analysis,
            "Rationale (required, 3+ characters; b back, q quit): ",
            redisplay,
            required=True,
        )
        return Decide(category, rationale)

    def persist(decision: Decision) -> Text:
        with file_lock(path):
            append_decision(path, decision)
        return _text(
            f"Saved: {decision.category} for {decision.theme} ({decision.decided_at}) -> decisions.jsonl",
            style="green",
        )

    _drive(session, screen, view, question, persist)
    left = session.unanswered
    revised = session.revised_now
    console.print(
        f"Decided {session.saved_now} unit(s) now"
        + (f" ({revised} of them revised)" if revised else "")
        + f"; {left} still undecided. Run 'triangulate report' to update the report."
    )
    return session.saved_now, left


def decisions_appendable(analysis: Analysis) -> str | None:
    """Why decisions.jsonl cannot take a decision now (checked before the first question)."""
    return appendable_problem(decisions_path(analysis.project))
