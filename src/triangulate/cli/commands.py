"""The command line: parses arguments, calls the library, renders results, picks an exit code.

Heavy modules are imported inside commands so that ``triangulate --help`` and ``--version`` start
fast (and never import pandas).
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from typer.core import TyperGroup

from triangulate import __version__

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

    from triangulate.findings import Finding, TriangulateError
    from triangulate.pipeline import PipelineResult

# The order a team meets the commands in: set up, check, the protocol's steps, then utilities.
COMMAND_ORDER = [
    "init",
    "import-codebook",
    "validate",
    "sort",
    "converge",
    "agreement",
    "review",
    "serve",
    "report",
    "run",
    "export-codebook",
    "schema",
    "explain",
]


class _OrderedGroup(TyperGroup):
    def invoke(self, ctx: Any) -> Any:
        # A reader that closed the pipe early (``triangulate sort | head -1``) ends the command
        # quietly with exit 0; click's own handler would exit 1, failing 'set -o pipefail' scripts.
        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            _quiet_broken_pipe()
            raise typer.Exit(0) from None

    def list_commands(self, ctx: Any) -> list[str]:
        names = super().list_commands(ctx)
        return sorted(
            names,
            key=lambda n: COMMAND_ORDER.index(n) if n in COMMAND_ORDER else len(COMMAND_ORDER),
        )


app = typer.Typer(
    cls=_OrderedGroup,
    name="triangulate",
    help=(
        "Triangulate mixed-methods data sources theme by theme (Farmer et al. 2006 protocol).\n\n"
        "A project is a folder with triangulate.yaml, codebook.yaml and one file per data source. "
        "Start with 'triangulate run PROJECT' to sort, propose convergence categories and write the "
        "reports into the project's output folder."
    ),
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

ProjectArg = Annotated[
    Path,
    typer.Argument(
        help="The project folder, or the path of its triangulate.yaml.",
        show_default="current directory",
    ),
]
StrictOpt = Annotated[bool, typer.Option("--strict", help="Treat warnings as errors (exit 1).")]
QuietOpt = Annotated[
    bool,
    typer.Option(
        "--quiet", "-q", help="Print only errors and the final summary (no progress bars)."
    ),
]
AllowOutsideOpt = Annotated[
    bool,
    typer.Option(
        "--allow-outside",
        help="Let the project's paths (sources, codebook, protocol, output, ...) leave the project folder. Only for projects you trust.",
    ),
]
RedactOpt = Annotated[
    bool,
    typer.Option(
        "--redact",
        help="Leave all excerpt text and participant ids out of the report and the messages, for sharing.",
    ),
]


class Format(str, Enum):
    text = "text"
    json = "json"
    github = "github"


def _version(value: bool) -> None:
    if value:
        typer.echo(f"triangulate {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool | None,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = None,
) -> None:
    pass


# ---------------------------------------------------------------------------- rendering helpers


def _stderr(text: str) -> None:
    """One message on stderr; control characters from the data are shown visibly, never raw."""
    from triangulate.text import visible

    sys.stderr.write(visible(text, one_line=False) + "\n")
    sys.stderr.flush()


def _echo(text: str) -> None:
    """One line on stdout, with control characters and newlines from the data shown visibly."""
    from triangulate.text import visible

    typer.echo(visible(text))


def _format_finding(f: Finding, redact: bool = False) -> str:
    from triangulate.cli.render import format_finding

    return format_finding(f, redact)


def _print_findings(
    findings: list[Finding], quiet: bool = False, per_code: int = 3, redact: bool = False
) -> None:
    """Every error, and up to ``per_code`` warnings of each code (the rest counted).

    With ``redact``, messages leave out the data they would quote (excerpts, participant names).
    """
    shown: dict[str, int] = {}
    hidden: dict[str, int] = {}
    for f in findings:
        if f.is_error:
            _stderr(_format_finding(f, redact))
            continue
        if quiet:
            continue
        if shown.get(f.code, 0) < per_code:
            shown[f.code] = shown.get(f.code, 0) + 1
            _stderr(_format_finding(f, redact))
        else:
            hidden[f.code] = hidden.get(f.code, 0) + 1
    for code, n in hidden.items():
        _stderr(f"... and {n} more '{code}' warning(s); 'triangulate validate' lists them all")


def _finish(findings: list[Finding], strict: bool) -> int:
    from triangulate.findings import exit_code_for

    code = exit_code_for(findings, strict)
    errors = sum(1 for f in findings if f.is_error)
    warnings = len(findings) - errors
    if code:
        if strict and not errors:
            _stderr(f"{warnings} warning(s), which --strict treats as errors.")
        else:
            _stderr(
                f"Stopped: {errors} error(s) in the inputs; nothing was written. Fix them and run again "
                "('triangulate explain CODE' says what a code means and how to fix it)."
            )
    return code


class _ProgressBar:
    """A progress bar on stderr for the slow steps (reading large sources, writing the outputs).

    The library reports through this callback (``bar(task, done, total)``) and never prints. The
    bar is drawn only when stderr is a terminal, and only once the step has taken more than
    ``DELAY`` seconds, so quick commands (and pipes, CI logs, the interactive prompts) never show it.
    """

    DELAY = 1.0

    def __init__(self, quiet: bool = False) -> None:
        import time

        self._clock = time.monotonic
        self._start = self._clock()
        self._enabled = not quiet and sys.stderr.isatty() and os.environ.get("TERM") != "dumb"
        self._progress: Progress | None = None
        self._tasks: dict[str, TaskID] = {}
        self._latest: dict[str, tuple[int, int]] = {}

    def __call__(self, task: str, done: int, total: int) -> None:
        if not self._enabled:
            return
        self._latest[task] = (done, total)
        if self._progress is None:
            if self._clock() - self._start < self.DELAY or done >= total:
                return
            from rich.progress import (
                BarColumn,
                Progress,
                TaskProgressColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            self._progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                TaskProgressColumn(),
                TimeElapsedColumn(),
                console=_console(stderr=True),
                transient=True,
            )
            self._progress.start()
        bar = self._progress
        for name, (d, t) in list(self._latest.items()):
            if name not in self._tasks:
                self._tasks[name] = bar.add_task(name, total=t)
            bar.update(self._tasks[name], completed=d, total=t)
        self._latest.clear()

    def close(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None


def _analyse(project: Path, quiet: bool = False, allow_outside: bool = False) -> PipelineResult:
    """Run the pipeline; finding paths are made relative to the current directory for display."""
    import dataclasses

    from triangulate.pipeline import analyse_path
    from triangulate.project.loading import find_project_file

    bar = _ProgressBar(quiet)
    try:
        result = analyse_path(project, progress=bar, allow_outside=allow_outside)
    finally:
        bar.close()
    pfile = find_project_file(project)
    if pfile is not None:
        root = pfile.parent
        fixed = []
        for f in result.findings:
            file = f.location.file
            if file and not file.endswith("(built-in)") and not Path(file).is_absolute():
                f = dataclasses.replace(
                    f, location=dataclasses.replace(f.location, file=_rel(root / file))
                )
            fixed.append(f)
        result.findings = fixed
    return result


def _analyse_checked(
    project: Path, strict: bool, quiet: bool, allow_outside: bool = False, redact: bool = False
) -> tuple[PipelineResult, int]:
    """Analyse, print the findings, and decide whether the command may go on.

    Returns the result with ``analysis`` set to None when it may not, and the exit code to use.
    """
    result = _analyse(project, quiet, allow_outside)
    _print_findings(result.findings, quiet, redact=redact)
    code = _finish(result.findings, strict)
    if code or result.analysis is None:
        result.analysis = None
        return result, code or 1
    return result, 0


def _rel(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


# ---------------------------------------------------------------------------- commands


@app.command()
def validate(
    project: ProjectArg = Path("."),
    format: Annotated[
        Format | None,
        typer.Option(
            "--format",
            "-f",
            help="text (default), json (one document on stdout) or github (Actions annotations; default when GITHUB_ACTIONS=true).",
        ),
    ] = None,
    strict: StrictOpt = False,
    select: Annotated[
        list[str] | None,
        typer.Option(
            "--select",
            help="Only report these finding codes or prefixes (repeatable), e.g. codebook.",
        ),
    ] = None,
    ignore: Annotated[
        list[str] | None,
        typer.Option(
            "--ignore",
            help="Do not report these finding codes or prefixes (repeatable), e.g. data.unsorted-code.",
        ),
    ] = None,
    redact: Annotated[
        bool,
        typer.Option(
            "--redact",
            help="Leave excerpt text and participant, case and source names out of the messages (always so with --format github).",
        ),
    ] = False,
    allow_outside: AllowOutsideOpt = False,
) -> int:
    """Check a project: project file, protocol, codebook, every source, worksheets and decisions.

    Reports every finding in one pass. Exit 0 when clean (warnings allowed unless --strict),
    1 when the inputs have errors, 2 when a file could not be read.

    Example: triangulate validate my-study --format json
    """
    from triangulate.cli.render import render, select_findings, unknown_patterns
    from triangulate.findings import UsageError

    for option, patterns in (("--select", select or []), ("--ignore", ignore or [])):
        if bad := unknown_patterns(patterns):
            raise UsageError(
                f"{option} {', '.join(repr(p) for p in bad)}: no finding code is or starts with that "
                "(run 'triangulate explain' to list them)"
            )
    result = _analyse(project, allow_outside=allow_outside)
    findings = select_findings(result.findings, select or [], ignore or [])
    fmt = format or (Format.github if os.environ.get("GITHUB_ACTIONS") == "true" else Format.text)
    text = render(findings, fmt.value, redact)
    if fmt is Format.text:
        if text:
            _stderr(text)
            _stderr("('triangulate explain CODE' says what a code means and how to fix it)")
        errors = sum(1 for f in findings if f.is_error)
        typer.echo(f"{errors} error(s), {len(findings) - errors} warning(s)")
    elif text:
        typer.echo(text)
    if fmt is Format.github:
        _github_step_summary(findings)
    from triangulate.findings import exit_code_for

    return exit_code_for(findings, strict)


def _github_step_summary(findings: list[Finding]) -> None:
    """Append the findings to $GITHUB_STEP_SUMMARY when GitHub Actions sets it (all of them: the
    annotations show only the first ten of each kind)."""
    target = os.environ.get("GITHUB_STEP_SUMMARY")
    if not target:
        return
    from triangulate.cli.render import github_step_summary

    try:
        with open(target, "a", encoding="utf-8") as fh:
            fh.write(github_step_summary(findings))
    except OSError as exc:
        _stderr(f"warning: could not write the step summary {target}: {exc.strerror or exc}")


@app.command()
def schema(
    output: Annotated[
        Path,
        typer.Option(
            "--output",
            "-o",
            help="Folder to write the schema files into; - prints them as one JSON object keyed by file name.",
        ),
    ] = Path("schemas"),
    check: Annotated[
        bool,
        typer.Option(
            "--check", help="Write nothing; exit 1 when a file in the folder is missing or differs."
        ),
    ] = False,
) -> int:
    """Write JSON Schemas for triangulate.yaml, codebook.yaml and protocol files.

    Writes project.schema.json, codebook.schema.json and protocol.schema.json, generated from the
    models the tool validates with. Start a YAML file with
    '# yaml-language-server: $schema=schemas/project.schema.json' for completion and checks in
    editors.

    Example: triangulate schema --output schemas --check
    """
    from triangulate.project.schema import stale_schemas, write_schemas

    if check:
        stale = stale_schemas(output)
        for name in stale:
            _stderr(
                f"{_rel(output / name)} is missing or out of date; run 'triangulate schema --output {output}'"
            )
        if not stale:
            typer.echo(f"Schemas in {_rel(output)} are up to date.")
        return 1 if stale else 0
    if _is_stdout(output) and not check:
        import json

        from triangulate.project.schema import render_schemas

        docs = {name: json.loads(text) for name, text in render_schemas().items()}
        typer.echo(json.dumps(docs, indent=2, ensure_ascii=False))
        return 0
    if output.exists() and not output.is_dir():
        from triangulate.findings import UsageError

        raise UsageError(f"--output {output} is a file, not a folder")
    paths = write_schemas(output)
    typer.echo(f"Wrote {', '.join(_rel(p) for p in paths)}")
    return 0


AllOpt = Annotated[
    bool,
    typer.Option(
        "--all",
        help="Print every row of the table. By default a long table shows its first 50 rows on a "
        "terminal (20 in a pipe, a file or a CI log), then a summary; the files written always "
        "hold every row.",
    ),
]


@app.command("sort")
def sort_cmd(
    project: ProjectArg = Path("."),
    strict: StrictOpt = False,
    quiet: QuietOpt = False,
    allow_outside: AllowOutsideOpt = False,
    show_all: AllOpt = False,
) -> int:
    """Step 1, sorting: which themes each source speaks to, and how prominently.

    Writes sorting.csv to the output folder and prints the table (a long one cut short, with a
    summary; --all prints every row).

    Examples: triangulate sort sample_data/mamas_neighborhood; triangulate sort my-study --all
    """
    result, code = _analyse_checked(project, strict, quiet, allow_outside)
    if result.analysis is None:
        return code
    from triangulate.outputs.tabular import sorting_rows
    from triangulate.outputs.write import write_sorting

    a = result.analysis
    paths = write_sorting(a, a.project.output_dir)
    _long_table(
        ["theme", "source", "present", "codes", "excerpts", "participants", "prominence"],
        [[r[0], r[2], r[3], r[4], r[5], r[6], r[7]] for r in sorting_rows(a)],
        show_all,
        where=_rel(paths[0]) if paths else "sorting.csv",
        count=("present",),
    )
    _echo(f"Wrote {', '.join(_rel(p) for p in paths)}")
    return 0


@app.command()
def converge(
    project: ProjectArg = Path("."),
    reviewer: Annotated[
        str | None,
        typer.Option(
            "--reviewer",
            "-r",
            help="Code your units interactively as this reviewer (blind to the others; resumable).",
        ),
    ] = None,
    redo: Annotated[
        bool, typer.Option("--redo", help="With --reviewer: go through units already coded too.")
    ] = False,
    strict: StrictOpt = False,
    quiet: QuietOpt = False,
    allow_outside: AllowOutsideOpt = False,
    show_all: AllOpt = False,
) -> int:
    """Step 2, convergence coding: one unit per theme and pair of sources, with the rule's proposal.

    Writes convergence_matrix.csv, and a blank worksheet reviews/<id>.csv for every configured
    reviewer who has none (an existing worksheet is never overwritten); when the project names a
    findings file that does not exist yet, a blank one (one row per theme present in a source).

    With --reviewer ID, walks that reviewer's uncoded units in the terminal: both sources' evidence
    side by side, a yes/no per dimension (or a category) and a rationale; each answer is saved to
    reviews/ID.csv at once. Quit any time; running it again resumes.

    Examples: triangulate converge my-study; triangulate converge my-study --reviewer bb
    """
    if reviewer is not None:
        _need_terminal("triangulate converge --reviewer")  # before the (long) analysis
    result, code = _analyse_checked(project, strict, quiet, allow_outside)
    if result.analysis is None:
        return code
    if reviewer is not None:
        return _interactive_code(result, reviewer, redo)
    from triangulate.outputs.write import write_matrix
    from triangulate.review.worksheets import write_blank_worksheets

    a = result.analysis
    _long_table(
        ["theme", "pair", "proposed", "why", "final", "status"],
        [
            [
                u.theme.id,
                f"{u.source_a} / {u.source_b}",
                u.proposed or "",
                u.reason,
                u.final or "",
                u.status,
            ]
            for u in a.units
        ],
        show_all,
        where=_rel(a.project.output_dir / "convergence_matrix.csv"),
        count=("proposed", "status"),
    )
    from triangulate.review.findings_table import write_blank_findings

    written = write_blank_worksheets(a.project, a.units)
    blank_findings = write_blank_findings(a.project, a.sorting)
    paths = write_matrix(a, a.project.output_dir)
    for p in written:
        _echo(f"Wrote blank worksheet {_rel(p)} ({len(a.units)} units to code)")
    if blank_findings is not None:
        _echo(
            f"Wrote blank findings table {_rel(blank_findings)}: summarise what each source says about each theme"
        )
    _echo(f"Wrote {', '.join(_rel(p) for p in paths)}")
    return 0


@app.command()
def report(
    project: ProjectArg = Path("."),
    strict: StrictOpt = False,
    quiet: QuietOpt = False,
    redact: RedactOpt = False,
    allow_outside: AllowOutsideOpt = False,
) -> int:
    """Write every output: sorting.csv, convergence_matrix.csv/.xlsx, summary.json, report.md/.html.

    Uses the reviewers' worksheets and decisions.jsonl as they are now; writes no worksheet.

    Example: triangulate report my-study --redact
    """
    return _run(project, strict, quiet, redact, allow_outside)


@app.command()
def run(
    project: ProjectArg = Path("."),
    strict: StrictOpt = False,
    quiet: QuietOpt = False,
    redact: RedactOpt = False,
    allow_outside: AllowOutsideOpt = False,
) -> int:
    """Validate, sort, converge (proposals only) and report, without any prompt.

    Example: triangulate run sample_data/mamas_neighborhood
    """
    return _run(project, strict, quiet, redact, allow_outside)


def _run(project: Path, strict: bool, quiet: bool, redact: bool, allow_outside: bool) -> int:
    result, code = _analyse_checked(project, strict, quiet, allow_outside, redact)
    if result.analysis is None:
        return code
    from triangulate.outputs.write import write_all

    a = result.analysis
    out = a.project.output_dir
    bar = _ProgressBar(quiet)
    try:
        paths = write_all(a, out, redact=redact, progress=bar)
    finally:
        bar.close()
    statuses = a.statuses()
    n = len(a.units)
    _echo(f"{a.project.file.title}: {n} units, protocol {a.project.protocol.id}")
    from triangulate.outputs.sections import draft_text

    reviewed = {"adjudicated", "agreed", "single"}
    has_proposals = statuses["proposed"] > 0
    head = ["category", "reviewed"] + (
        ["the rule's proposal (unreviewed)"] if has_proposals else []
    )
    rows = []
    for c in a.project.protocol.category_ids:
        row = [
            a.category_label(c),
            f"{sum(1 for u in a.units if u.final == c and u.status in reviewed)}/{n}",
        ]
        if has_proposals:
            row.append(f"{sum(1 for u in a.units if u.final == c and u.status == 'proposed')}/{n}")
        rows.append(row)
    _table(head, rows)
    typer.echo(
        "statuses: "
        + ", ".join(f"{s} {k}" for s, k in statuses.items() if k)
        + f" (disputed {statuses['disputed']}, uncoded {statuses['uncoded']})"
    )
    draft = draft_text(a)
    if draft:
        typer.echo(draft)
    if a.agreement is not None:
        ag = a.agreement
        typer.echo(
            f"reviewer agreement over the {ag.units} two-source unit(s) coded by two or more: "
            f"percent {_stat_text(ag.percent.value, ag.percent.n_units)}, "
            f"Cohen's kappa {_stat_text(ag.cohen_kappa.value, ag.cohen_kappa.n_units)}, "
            f"Krippendorff's alpha {_stat_text(ag.krippendorff_alpha.value, ag.krippendorff_alpha.n_units)}, "
            f"Gwet's AC1 {_stat_text(ag.gwet_ac1.value, ag.gwet_ac1.n_units)}"
        )
        from triangulate.outputs.sections import prevalence_paradox

        if prevalence_paradox(ag):
            typer.echo(
                "  percent agreement is high while kappa or alpha is low: one category dominates "
                "(the prevalence paradox; see the report's researcher comparison)"
            )
    _echo(f"Wrote {len(paths)} files to {_rel(out)}/: {', '.join(p.name for p in paths)}")
    from triangulate.project.init import next_step_after_run

    step = next_step_after_run(
        str(project), list(a.project.file.reviewers), statuses, list(a.reviewers)
    )
    if step:
        _echo(step)
    return 0


def _need_terminal(command: str) -> None:
    from triangulate.findings import UsageError

    if not sys.stdin.isatty():
        raise UsageError(
            f"'{command}' is interactive and needs a terminal on standard input. Run it in a terminal "
            "(not in a pipe or a CI job); to record decisions without prompts, append lines to "
            "decisions.jsonl as described in the README."
        )


def _interactive_code(result: PipelineResult, reviewer: str, redo: bool) -> int:
    from triangulate.cli.walks import code_loop
    from triangulate.findings import UsageError

    a = result.analysis
    assert a is not None
    if reviewer not in a.reviewers:
        raise UsageError(
            f"'{reviewer}' is not a reviewer of this project (reviewers: {', '.join(a.reviewers) or 'none'}); "
            "add it under 'reviewers' in triangulate.yaml"
        )
    console = _console()
    code_loop(a, reviewer, console, _ask(), redo=redo)
    return 0


def _ask() -> Callable[[str], str]:
    """Read one answer; end of input (Ctrl-D) raises EOFError, which the walks take as
    "cancel this unit without saving, and stop"."""

    def ask(prompt: str) -> str:
        return input(prompt)

    return ask


@app.command()
def review(
    project: ProjectArg = Path("."),
    as_: Annotated[
        str, typer.Option("--as", help="Your name or initials, recorded with each decision.")
    ] = "",
    all_units: Annotated[
        bool, typer.Option("--all", help="Walk every unit, not only the disputed ones.")
    ] = False,
    category: Annotated[
        list[str] | None,
        typer.Option(
            "--category",
            help="Also walk units with this category (final, proposed or a reviewer's); repeatable.",
        ),
    ] = None,
    theme: Annotated[
        list[str] | None, typer.Option("--theme", help="Also walk this theme's units; repeatable.")
    ] = None,
    revise: Annotated[
        bool,
        typer.Option(
            "--revise",
            help="Include units already decided (a new decision supersedes the old one).",
        ),
    ] = False,
    strict: StrictOpt = False,
    quiet: QuietOpt = False,
    allow_outside: AllowOutsideOpt = False,
) -> int:
    """Steps 3-5: adjudicate disputed units in the terminal, into decisions.jsonl (append-only).

    Shows the evidence, every reviewer's category and rationale, and asks for the final category
    and a rationale. Each decision is on disk before the next question: quit, Ctrl-C or a crash
    loses nothing decided, and running it again resumes at the first undecided unit.

    Example: triangulate review my-study --as bb
    """
    from triangulate.findings import UsageError

    as_ = _clean_arg(as_)
    if not as_.strip():
        raise UsageError("say who is deciding: triangulate review PROJECT --as NAME")
    _need_terminal("triangulate review")  # before the (long) analysis
    result, code = _analyse_checked(project, strict, quiet, allow_outside)
    if result.analysis is None:
        return code
    from triangulate.cli.walks import decisions_appendable, review_loop
    from triangulate.review.session import select_for_review

    a = result.analysis
    bad = [c for c in (category or []) if c not in a.project.protocol.category_ids]
    if bad:
        raise UsageError(
            f"unknown category {bad[0]!r} (categories: {', '.join(a.project.protocol.category_ids)})"
        )
    themes = {t.id for t in a.project.codebook.themes}
    badt = [t for t in (theme or []) if t not in themes]
    if badt:
        raise UsageError(f"unknown theme {badt[0]!r}")
    units = select_for_review(
        a.units, a.reviewers, all_units=all_units, categories=category, themes=theme
    )
    problem = decisions_appendable(a)
    if problem:
        raise UsageError(
            f"{problem}; no decision could be saved, so none is asked for. Fix the file's "
            "permissions (or attributes) and run this again."
        )
    console = _console()
    review_loop(a, units, as_.strip(), console, _ask(), revise=revise)
    return 0


@app.command()
def serve(
    project: ProjectArg = Path("."),
    host: Annotated[
        str,
        typer.Option(
            "--host",
            help="Address to listen on. The default is this machine only; any other address prints a warning.",
        ),
    ] = "127.0.0.1",
    port: Annotated[
        int, typer.Option("--port", help="Port to listen on; 0 picks a free one.", min=0, max=65535)
    ] = 0,
    allow_outside: AllowOutsideOpt = False,
) -> int:
    """Code, summarise and adjudicate in a web browser: a local web workspace over the project files.

    Prints one URL per reviewer and one for adjudication, each with its own secret token: a
    reviewer's URL opens only their progress, coding (blind) and findings pages; the adjudication
    URL opens adjudication, findings and the report. Pages write the same worksheets,
    findings.csv and decisions.jsonl as the terminal walks, and pick up edits made to those files
    meanwhile. Ctrl-C or SIGTERM stops it; nothing a page confirmed is lost.

    Example: triangulate serve my-study   (then open the printed URL in a browser)
    """
    from triangulate.serve.runner import serve as run_server
    from triangulate.serve.workspace import ProjectErrors, Workspace

    workspace = Workspace(project, allow_outside)
    with workspace.lock:
        try:
            workspace.fresh()
        except ProjectErrors:
            findings = workspace.errors
            _print_findings(findings)
            return _finish(findings, False) or 1
    _print_findings(workspace.load_findings, quiet=True)

    def echo(line: str) -> None:
        print(line, flush=True)

    try:
        return run_server(workspace, host, port, echo, _stderr)
    except OSError as exc:
        from triangulate.findings import UsageError

        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from exc


@app.command()
def agreement(
    project: ProjectArg = Path("."),
    format: Annotated[
        Format,
        typer.Option(
            "--format", "-f", help="text or json (json: the summary.json 'agreement' block)."
        ),
    ] = Format.text,
    strict: StrictOpt = False,
    quiet: QuietOpt = False,
    allow_outside: AllowOutsideOpt = False,
) -> int:
    """Step 5, researcher comparison: how far the reviewers agree, before adjudication.

    Percent agreement, Cohen's kappa (two reviewers), Fleiss' kappa (three or more) and
    Krippendorff's alpha (nominal, missing codes allowed), overall and per dimension, and the
    reviewer-by-reviewer confusion table.

    Example: triangulate agreement my-study --format json
    """
    import json

    result, code = _analyse_checked(project, strict, quiet, allow_outside)
    if result.analysis is None:
        return code
    a = result.analysis
    if a.agreement is None:
        typer.echo("No reviewers are configured (add 'reviewers' to triangulate.yaml).", err=True)
        if format is Format.json:
            typer.echo("null")
        return 0
    if format is Format.json:
        typer.echo(json.dumps(a.agreement.to_dict(), indent=2, ensure_ascii=False))
        return 0
    from triangulate.protocol.agreement import AgreementResult

    def stat_row(over: str, r: AgreementResult) -> list[str]:
        return [
            over,
            str(r.units),
            *(_stat_text(st.value, st.n_units) for _, st in r.statistics()),
            _ci_text(r.krippendorff_alpha_ci95),
        ]

    head = [
        "over",
        "units",
        "percent",
        "Cohen's kappa",
        "Fleiss' kappa",
        "Krippendorff's alpha",
        "Gwet's AC1",
        "alpha 95% CI",
    ]
    ag = a.agreement
    typer.echo(
        f"Reviewers: {', '.join(a.reviewers)}. Units whose theme is in both sources of the pair "
        f"(the ones that needed a judgement), coded by at least two reviewers: {ag.units}"
        + (
            f"; {ag.excluded_one_source} one-source unit(s) left out"
            if ag.excluded_one_source
            else ""
        )
        + ". Each statistic shows the number of units it used (n)."
    )
    rows = [stat_row("categories", ag)]
    for d, v in ag.by_dimension.items():
        rows.append(stat_row(f"dimension {d}", v))
    _table(head, rows)
    for k, why in ag.notes.items():
        typer.echo(f"{k}: n/a, {why}")
    if _prevalence_paradox(ag):
        typer.echo(
            "Percent agreement is high while kappa or alpha is low: one category dominates "
            "(the prevalence paradox); Gwet's AC1 is robust to it."
        )
    al = a.agreement_all_units
    if al is not None:
        typer.echo("\nFor comparison, over every unit (one-source units included, as in v1):")
        _table(head, [stat_row("categories", al)])
    cats = a.project.protocol.category_ids
    for ra, rb, table in a.confusion_tables():
        typer.echo(f"\nConfusion table: {ra} (rows) x {rb} (columns)")
        _table(
            [f"{ra} \\ {rb}", *cats], [[c, *[str(x) for x in row]] for c, row in zip(cats, table)]
        )
    return 0


def _console(**kwargs: Any) -> Console:
    """A rich console that lets a closed pipe end the command quietly (exit 0), not exit 1, and
    shows control characters from the data visibly (the walks print through it too)."""
    from rich.console import Console as RichConsole
    from rich.segment import Segment

    from triangulate.text import visible

    class _PipeConsole(RichConsole):
        def on_broken_pipe(self) -> None:
            self.quiet = True
            raise BrokenPipeError

        def _render_buffer(self, buffer: Any) -> str:
            # Text from the data never acts on the terminal: every text segment (not rich's own
            # cursor and style codes) is shown with its control characters visible (spec 11).
            clean = [
                seg if seg.control else Segment(visible(seg.text, one_line=False), seg.style)
                for seg in buffer
            ]
            return str(super()._render_buffer(clean))

    kwargs.setdefault("highlight", False)
    return _PipeConsole(**kwargs)


def _clean_arg(value: str) -> str:
    """A command-line value that was not valid UTF-8 (``--as $'Jos\\xe9'`` in a Latin-1 shell):
    decoded as Windows-1252 when that works, so the name is kept, never a crash when saved."""
    from triangulate.text import has_surrogates, scrub_text

    if not has_surrogates(value):
        return value
    try:
        raw = value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return scrub_text(value)
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        return raw.decode("utf-8", "replace")


def _stat_text(value: float | None, n: int) -> str:
    return "n/a" if value is None else f"{value:.3f} (n={n})"


def _ci_text(ci: tuple[float, float] | None) -> str:
    return "n/a" if ci is None else f"[{ci[0]:.3f}, {ci[1]:.3f}]"


def _prevalence_paradox(ag: Any) -> bool:
    """Percent agreement >= 0.75 while kappa or alpha < 0.4 (spec 10.1)."""
    p = ag.percent.value
    low = [
        s.value
        for s in (ag.cohen_kappa, ag.fleiss_kappa, ag.krippendorff_alpha)
        if s.value is not None
    ]
    return p is not None and p >= 0.75 and any(v < 0.4 for v in low)


TABLE_ROWS_TERMINAL = 50  # the most rows a table shows on a terminal without --all
TABLE_ROWS_PIPE = 20  # ... and in a pipe, a file or a CI log


def _long_table(
    header: list[str],
    rows: list[list[str]],
    show_all: bool,
    where: str,
    count: tuple[str, ...] = (),
) -> None:
    """A table that may run to thousands of rows (issue 14): on a terminal its first
    ``TABLE_ROWS_TERMINAL`` rows, elsewhere its first ``TABLE_ROWS_PIPE``, then how many were left
    out, where they all are, and the count of each value of the ``count`` columns."""
    cap = TABLE_ROWS_TERMINAL if sys.stdout.isatty() else TABLE_ROWS_PIPE
    if show_all or len(rows) <= cap:
        _table(header, rows)
        return
    _table(header, rows[:cap])
    _echo(
        f"... {len(rows) - cap:,} more row(s) not shown: {where} has all {len(rows):,} "
        "('--all' prints every row here)"
    )
    for name in count:
        i = header.index(name)
        tally: dict[str, int] = {}
        for r in rows:
            tally[r[i] or "-"] = tally.get(r[i] or "-", 0) + 1
        _echo(f"{name}: " + ", ".join(f"{v} {k:,}" for v, k in tally.items()))


def _table(header: list[str], rows: list[list[str]]) -> None:
    from rich import box
    from rich.table import Table
    from rich.text import Text

    from triangulate.text import visible

    console = _console(soft_wrap=False, width=None if sys.stdout.isatty() else 200)
    t = Table(box=box.SIMPLE_HEAD, show_edge=False)
    for h in header:
        t.add_column(visible(h), overflow="fold", min_width=min(len(h), 20))
    for r in rows:
        # Text: user content is never read as markup; visible: nor does it act on the terminal
        t.add_row(*(Text(visible(c)) for c in r))
    console.print(t)


def _is_stdout(path: Path) -> bool:
    """``--output -`` means standard output, as in most command-line tools (not a file named -)."""
    return str(path) == "-"


def _check_source_id(value: str, option: str) -> None:
    import re

    from triangulate.findings import UsageError

    if not re.fullmatch(r"[a-z0-9_-]+", value):
        raise UsageError(
            f"{option} '{value}': source ids may only hold lowercase letters, digits, '_' and '-'"
        )


@app.command()
def init(
    directory: Annotated[
        Path,
        typer.Argument(
            help="The folder to create the project in (created when missing).",
            show_default="current directory",
        ),
    ] = Path("."),
    title: Annotated[
        str | None,
        typer.Option("--title", help="The project's title (default: the folder's name)."),
    ] = None,
    protocol: Annotated[
        str | None,
        typer.Option(
            "--protocol",
            help="A built-in protocol id (farmer-2006, blebu-2023) or the path of a protocol .yaml (default: farmer-2006).",
        ),
    ] = None,
    source: Annotated[
        list[str] | None,
        typer.Option(
            "--source",
            "-s",
            metavar="ID=PATH[:KIND]",
            help="A data source (repeatable, in order); KIND is excerpts, survey or survey_responses, guessed from the file when left out.",
        ),
    ] = None,
    reviewer: Annotated[
        list[str] | None,
        typer.Option(
            "--reviewer",
            "-r",
            metavar="ID",
            help="A reviewer id (repeatable, or comma-separated): who codes convergence; written as 'reviewers:'. Asked for at a terminal when left out.",
        ),
    ] = None,
) -> int:
    """Create a project: triangulate.yaml, and a draft codebook.yaml listing every code found.

    Asks for missing values only when standard input is a terminal. Never overwrites: an existing
    project stops it, and an existing codebook.yaml is kept (run import-codebook first to seed it).

    Example: triangulate init my-study --protocol farmer-2006 --source interviews=export.qdpx --source survey=data/survey.sav --reviewer bb --reviewer pl
    """
    from triangulate.project.init import init_project, parse_reviewers, parse_source_arg

    args = [parse_source_arg(s) for s in source or []]
    result = init_project(
        directory,
        title=title,
        protocol=protocol,
        sources=args,
        ask=_init_ask() if sys.stdin.isatty() else None,
        reviewers=parse_reviewers(reviewer) if reviewer is not None else None,
    )
    _print_findings(result.findings)
    for sid in result.inferred:
        typer.echo(
            f"Source '{sid}': read as kind '{result.kinds[sid]}' (add :KIND to --source to choose)"
        )
    for src, dest in result.copied:
        _echo(
            f"Copied {_rel(src)} to {_rel(dest)}: a project keeps its data inside its folder "
            "(copy the file again when the original changes)"
        )
    for p in result.written:
        _echo(f"Wrote {_rel(p)}")
    if result.kept_codebook:
        typer.echo(f"Kept the existing {_rel(result.root / 'codebook.yaml')}")
    n = sum(len(c) for c in result.codes.values())
    typer.echo(
        f"Found {n} code(s) in {len(result.codes)} source(s): "
        + ", ".join(f"{sid} {len(c)}" for sid, c in result.codes.items())
    )
    typer.echo("Next:")
    i = 0
    for step in result.next_steps:
        if step.startswith("  "):  # a continuation of the step above
            typer.echo(f"     {step.strip()}")
        else:
            i += 1
            typer.echo(f"  {i}. {step}")
    return 0


def _init_ask() -> Callable[[str, str | None], str]:
    def ask(question: str, default: str | None) -> str:
        value = typer.prompt(question, default=default or "", show_default=bool(default))
        return str(value)

    return ask


@app.command("import-codebook")
def import_codebook(
    file: Annotated[Path, typer.Argument(help="A REFI-QDA codebook (.qdc) or project (.qdpx).")],
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", help="The codebook YAML to write (never overwritten); - for stdout."
        ),
    ] = Path("codebook.yaml"),
    source: Annotated[
        str, typer.Option("--source", help="The id of the excerpts source whose codes these are.")
    ] = "interviews",
) -> int:
    """Seed a codebook.yaml from a .qdc or .qdpx code tree.

    A top-level folder holding codes becomes a group (overarching theme) and each code or folder
    in it a theme; other top-level codes become themes; code sets (ATLAS.ti code groups) group the
    themes no folder groups. A theme's codes, for the source given by --source, are the codable
    codes beneath it (by name, or by full path 'Parent/child' where two codes share a name). The
    file's GUIDs are kept (guid/guids keys) so that export-codebook gives the same codes back.
    The output file is never overwritten.

    Example: triangulate import-codebook export.qdpx --source interviews --output my-study/codebook.yaml
    """
    from triangulate.files import write_new_file
    from triangulate.findings import UsageError, exit_code_for
    from triangulate.sources.refi.qdc import codebook_yaml, draft_codebook, read_codebook

    _check_source_id(source, "--source")
    exists = f"{output} already exists; import-codebook never overwrites it (choose another --output, or move the file away)"
    if not _is_stdout(output) and output.exists():
        raise UsageError(exists)
    roots, sets, findings = read_codebook(file, str(file))
    _print_findings(findings)
    if roots is None:
        return exit_code_for(findings) or 1
    draft = draft_codebook(roots, source, sets)
    if _is_stdout(output):
        text = codebook_yaml(draft, file.name, source, sets)
        typer.echo(text, nl=not text.endswith("\n"))
        return 0
    if not write_new_file(output, codebook_yaml(draft, file.name, source, sets)):
        raise UsageError(exists)
    n = sum(len(c) for t in draft["themes"] for c in t["codes"].values())
    groups = len(draft.get("groups", []))
    typer.echo(
        f"Wrote {_rel(output)}: {groups} group(s), {len(draft['themes'])} theme(s), {n} code(s) of source '{source}'."
    )
    typer.echo(
        "Next: edit the themes (merge, rename, add definitions and the other sources' codes), then 'triangulate validate'."
    )
    return 0


@app.command()
def explain(
    code: Annotated[
        str | None,
        typer.Argument(
            help="A finding code as messages print it in [brackets], e.g. data.unsorted-code; a group prefix (data) lists its codes.",
            show_default="list every code",
        ),
    ] = None,
) -> int:
    """Say what a finding code means, show an example and how to fix it.

    Reads the catalogue of the installed package, so it always matches the messages this version
    prints. Without a code, lists every code with its meaning.

    Examples: triangulate explain data.unsorted-code; triangulate explain project
    """
    import difflib
    import textwrap

    from triangulate.docs import _severity
    from triangulate.findings import CATALOGUE, UsageError

    if code is None or code.rstrip(".") in {c.split(".")[0] for c in CATALOGUE}:
        prefix = "" if code is None else code.rstrip(".") + "."
        for listed, meaning in ((n, e.meaning) for n, e in CATALOGUE.items()):
            if listed.startswith(prefix):
                typer.echo(f"{listed:34} {meaning}")
        return 0
    entry = CATALOGUE.get(code.strip().strip("[]"))
    if entry is None:
        close = difflib.get_close_matches(code, list(CATALOGUE), n=5, cutoff=0.5)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise UsageError(f"no finding code {code!r}{hint} ('triangulate explain' lists every code)")
    name = code.strip().strip("[]")
    wrap = textwrap.TextWrapper(width=96, subsequent_indent="  ")
    typer.echo(f"{name} ({_severity(name)})")
    typer.echo("")
    typer.echo(wrap.fill(entry.meaning))
    typer.echo("")
    typer.echo("Example:")
    typer.echo(f"  {entry.example}")
    typer.echo("")
    typer.echo("Fix:")
    typer.echo("  " + wrap.fill(entry.fix))
    return 0


@app.command("export-codebook")
def export_codebook(
    project: ProjectArg = Path("."),
    output: Annotated[
        Path, typer.Option("--output", "-o", help="The .qdc file to write; - for stdout.")
    ] = Path("codebook.qdc"),
    source: Annotated[
        str | None,
        typer.Option("--source", help="Export only this source's codes (default: every source's)."),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Overwrite the output file if it exists.")
    ] = False,
    allow_outside: AllowOutsideOpt = False,
) -> int:
    """Write the codebook's themes as a REFI-QDA codebook (.qdc) for ATLAS.ti, NVivo, MAXQDA, ...

    Each theme becomes a folder (a code with isCodable=false) and its codes codable codes beneath it.

    Example: triangulate export-codebook my-study --output themes.qdc
    """
    from triangulate.files import write_new_file
    from triangulate.findings import Location, UsageError, error, exit_code_for
    from triangulate.project.loading import (
        check_codebook,
        check_paths_inside,
        find_project_file,
        load_yaml_model,
    )
    from triangulate.project.models import Codebook, ProjectFile
    from triangulate.sources.refi.qdc import export_qdc

    pfile = find_project_file(project)
    if pfile is None:
        where = project / "triangulate.yaml" if project.is_dir() else project
        _print_findings(
            [
                error(
                    "project.not-found",
                    f"no project here: {where} does not exist (create one with 'triangulate init')",
                    Location(str(where)),
                )
            ]
        )
        return 2
    pf, pdoc, findings = load_yaml_model(pfile, _rel(pfile), ProjectFile, "the project file")
    if pf is None:
        _print_findings(findings)
        return exit_code_for(findings) or 1
    if not allow_outside:
        inside, outside = check_paths_inside(pf, pdoc, pfile.parent, pfile)
        if "codebook" in outside:  # never read a file outside the project (spec section 1)
            _print_findings([f for f in inside if "'codebook'" in f.message])
            return 1
    cb, cdoc, more = load_yaml_model(
        pfile.parent / pf.codebook, _rel(pfile.parent / pf.codebook), Codebook, "the codebook"
    )
    findings += more
    if cb is not None:
        findings += check_codebook(cb, cdoc, pf, pf.codebook)
    _print_findings(findings)
    if cb is None or exit_code_for(findings):
        return exit_code_for(findings) or 1
    ids = [s.id for s in pf.sources]
    if source is not None and source not in ids:
        raise UsageError(
            f"--source '{source}' is not a source of this project (sources: {', '.join(ids)})"
        )
    text, more = export_qdc(cb, ids, source, origin=f"triangulate {__version__}")
    if text is None:
        _print_findings(more)
        return 1
    if _is_stdout(output):
        typer.echo(text, nl=not text.endswith("\n"))
        return 0
    if force:
        from triangulate.files import atomic_write_text

        atomic_write_text(output, text)
    elif not write_new_file(output, text):
        raise UsageError(
            f"{output} already exists; give --force to overwrite it, or choose another --output"
        )
    typer.echo(
        f"Wrote {_rel(output)}: {len(cb.themes)} theme(s) as folders with their codes (REFI-QDA codebook)"
    )
    return 0


# ---------------------------------------------------------------------------- entry point


def _triangulate_error() -> type[TriangulateError]:
    from triangulate.findings import TriangulateError

    return TriangulateError


ROOT_ONLY_ARGS: tuple[list[str], ...] = (["--help"], ["-h"], ["--version"], [])


@contextlib.contextmanager
def _lean_build(args: list[str]) -> Iterator[None]:
    """Start-up: for the root's own options (--help, --version, no arguments) no subcommand's
    parameters are ever shown, so typer is spared building them, most of the time those take; a
    command line naming a command (``triangulate run ...``) builds that command's alone (16 ms
    against 2 ms of CPU time, measured). The output is the same; any other command line builds
    everything as usual.

    Measured (CPU time of the process, median of 21): ``--help`` 141 ms without, 125 ms with
    (``import typer`` alone: 108 ms), i.e. 11% of the command and the difference between meeting
    and missing the start-up target of benchmarks/harness.py. Shell completion runs the program
    with no arguments and ``_TRIANGULATE_COMPLETE`` set: it needs every parameter, so it is built
    in full then.
    """
    import typer.main as typer_main

    build = getattr(typer_main, "get_params_from_function", None)
    completing = any(k.endswith("_COMPLETE") and k.startswith("_") for k in os.environ)
    by_name = {
        c.name or (c.callback.__name__.lower().replace("_", "-") if c.callback else ""): c.callback
        for c in app.registered_commands
    }
    invoked = by_name.get(args[0]) if args else None  # `triangulate run ...`: only run's are used
    if (list(args) not in ROOT_ONLY_ARGS and invoked is None) or build is None or completing:
        yield
        return

    commands = {c.callback for c in app.registered_commands} - {invoked}

    def lean(func: Callable[..., object]) -> object:
        return {} if func in commands else build(func)

    setattr(typer_main, "get_params_from_function", lean)  # noqa: B010 (not a typed export of typer)
    try:
        yield
    finally:
        setattr(typer_main, "get_params_from_function", build)  # noqa: B010


def _tolerant_stdio() -> None:
    """A terminal or pipe that cannot encode a character (PYTHONIOENCODING=cp1252, a Windows
    console) gets a replacement character, never a crash."""
    for stream in (sys.stdout, sys.stderr, sys.stdin):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(Exception):
                reconfigure(errors="replace")


def _quiet_broken_pipe() -> None:
    """The reader closed the pipe (``triangulate sort | head -1``): stop quietly. Point stdout at
    /dev/null so that flushing it at exit cannot fail again."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _fewer_collections() -> None:
    """Python's cycle collector, at its default thresholds, walks every live object again each
    time 700 more have been made: a run builds hundreds of thousands that live to the end and form
    almost no cycles, so that walking is wasted. 0.76 s of a 6.4 s run at 2,000 themes x 2 x
    150,000 codings (measured with gc.callbacks), 0.08 s of 1.8 at 200 themes. The thresholds
    mypy's command line uses instead; cycles are still collected, less often."""
    import gc

    gc.set_threshold(200_000, 30, 30)


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; the one place that turns outcomes into exit codes."""
    import signal

    with contextlib.suppress(ValueError):  # Ctrl-C from here on: KeyboardInterrupt, exit 130
        if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
            signal.signal(signal.SIGINT, signal.default_int_handler)
    _tolerant_stdio()
    if argv is None:  # the command itself, not a caller running main() in its own process
        _fewer_collections()
    # typer vendors click in recent releases; find its exception base without importing click.
    click_exception: type[Exception] = next(
        c for c in typer.BadParameter.__mro__ if c.__name__ == "ClickException"
    )
    try:
        with _lean_build(sys.argv[1:] if argv is None else argv):
            rv = app(args=argv, standalone_mode=False, prog_name="triangulate")
        code = rv if isinstance(rv, int) else 0
    except typer.Exit as exc:
        code = exc.exit_code
    except click_exception as exc:
        exc.show()  # type: ignore[attr-defined]
        code = 2
    except (typer.Abort, KeyboardInterrupt):
        _stderr("Interrupted; everything already decided is saved.")
        code = 130
    except (
        _triangulate_error()
    ) as exc:  # evaluated (and findings imported) only when an exception gets here
        _stderr(f"error: {exc.message}")
        _print_findings(exc.findings)
        code = exc.exit_code
    except BrokenPipeError:
        _quiet_broken_pipe()
        code = 0
    except (
        OSError
    ) as exc:  # the file system refused (permissions, a full disk, a file where a folder must be)
        where = f": {_rel(Path(exc.filename))}" if isinstance(exc.filename, str) else ""
        _stderr(f"error: could not read or write a file{where}: {exc.strerror or exc}")
        code = 2
    except Exception:
        import traceback

        traceback.print_exc()
        _stderr(
            f"\ntriangulate {__version__} hit an internal error (a bug, not a problem with your files). "
            "Please report it with the traceback above."
        )
        code = 3
    # The outcome is decided and everything is written: a Ctrl-C now, while the interpreter shuts
    # down (joining a reader's worker threads at exit), must not turn it into a death by signal.
    # Only for the command itself (argv None): a caller running main() in its own process keeps its
    # handler, and the processes it starts do not inherit an ignored Ctrl-C.
    for _ in range(2 if argv is None else 0):  # a pending Ctrl-C is raised by signal.signal: again
        try:
            with contextlib.suppress(ValueError):
                signal.signal(signal.SIGINT, signal.SIG_IGN)
            break
        except KeyboardInterrupt:
            code = code or 130
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_broken_pipe()
    except (OSError, ValueError):
        pass
    sys.exit(code)
