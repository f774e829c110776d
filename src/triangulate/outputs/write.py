"""Write every output of a run into the project's output folder (each file atomically)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from triangulate.files import (
    STALE_TEMP_SECONDS,
    atomic_write_bytes,
    atomic_write_chunks,
    atomic_write_text,
    encode_text,
    folder_lock,
    remove_stale_temps,
)
from triangulate.outputs.figure import render_svg
from triangulate.outputs.html import render_html_chunks
from triangulate.outputs.manifest import remove_manifest, write_manifest
from triangulate.outputs.markdown import render_markdown_chunks
from triangulate.outputs.report import build_report
from triangulate.outputs.tabular import (
    SORTING_COLUMNS,
    matrix_columns,
    matrix_rows,
    sorting_rows,
    summary_json,
    to_csv,
)
from triangulate.project.paths import ALL_OUTPUTS, FIGURE_SVG, REPORT_DOCX
from triangulate.protocol.analysis import Analysis

if TYPE_CHECKING:
    from triangulate.progress import Progress


def write_sorting(analysis: Analysis, out: Path) -> list[Path]:
    remove_manifest(out)  # the set is no longer one run's
    path = out / "sorting.csv"
    atomic_write_text(path, to_csv(SORTING_COLUMNS, sorting_rows(analysis)))
    return [path]


def write_matrix(analysis: Analysis, out: Path) -> list[Path]:
    remove_manifest(out)  # the set is no longer one run's
    path = out / "convergence_matrix.csv"
    atomic_write_text(path, to_csv(matrix_columns(analysis), matrix_rows(analysis)))
    return [path]


def write_all(
    analysis: Analysis, out: Path, redact: bool = False, progress: Progress | None = None
) -> list[Path]:
    """Write every output, then ``manifest.json`` last (see :mod:`triangulate.outputs.manifest`).

    ``progress(task, done, total)``, when given, hears each file as it is written. Temporary files
    left in ``out`` by a killed run are removed first.
    """
    out.mkdir(parents=True, exist_ok=True)
    with folder_lock(out) as locked:
        remove_stale_temps(out, 0.0 if locked else STALE_TEMP_SECONDS)
        remove_manifest(out)
        written = _write_all(analysis, out, redact, progress)
        written.append(write_manifest(out, written))
    return written


def _write_all(
    analysis: Analysis, out: Path, redact: bool, progress: Progress | None
) -> list[Path]:
    from triangulate.outputs.word import render_docx
    from triangulate.outputs.xlsx import render_xlsx

    def step(done: int) -> None:
        if progress is not None:
            progress("writing outputs", done, len(ALL_OUTPUTS))

    step(0)
    written = write_sorting(analysis, out) + write_matrix(analysis, out)
    atomic_write_text(out / "summary.json", summary_json(analysis))
    step(3)
    rep = build_report(analysis, redact=redact)
    atomic_write_chunks(out / "report.md", map(encode_text, render_markdown_chunks(rep)))
    step(4)
    atomic_write_chunks(out / "report.html", render_html_chunks(rep))
    step(5)
    atomic_write_bytes(out / "convergence_matrix.xlsx", render_xlsx(analysis, redact))
    step(6)
    atomic_write_text(out / FIGURE_SVG, render_svg(analysis))
    step(7)
    atomic_write_bytes(out / REPORT_DOCX, render_docx(rep))
    step(len(ALL_OUTPUTS))
    written += [
        out / n
        for n in (
            "summary.json",
            "report.md",
            "report.html",
            "convergence_matrix.xlsx",
            FIGURE_SVG,
            REPORT_DOCX,
        )
    ]
    return written
