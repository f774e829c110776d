"""Where things live in a project folder: one place for every path the tool reads or writes.

Everything here is relative to the project folder (the folder that holds ``triangulate.yaml``).
"""

from __future__ import annotations

from pathlib import Path

PROJECT_FILENAMES = ("triangulate.yaml", "triangulate.yml")
REVIEWS_DIR = "reviews"
DECISIONS_FILE = "decisions.jsonl"
ADJUDICATION = "adjudication"  # reserved reviewer id (spec section 7)

SORTING_CSV = "sorting.csv"
MATRIX_CSV = "convergence_matrix.csv"
SUMMARY_JSON = "summary.json"
REPORT_MD = "report.md"
REPORT_HTML = "report.html"
MATRIX_XLSX = "convergence_matrix.xlsx"
FIGURE_SVG = "convergence.svg"
REPORT_DOCX = "report.docx"
MANIFEST_JSON = "manifest.json"
"""Written last by ``run``/``report``: every output's SHA-256; present only when the set is complete."""
ALL_OUTPUTS = (
    SORTING_CSV,
    MATRIX_CSV,
    SUMMARY_JSON,
    REPORT_MD,
    REPORT_HTML,
    MATRIX_XLSX,
    FIGURE_SVG,
    REPORT_DOCX,
    MANIFEST_JSON,
)
"""Every file ``run`` writes into the output folder, in the order it writes them (the manifest last)."""


def worksheet_shown(reviewer: str) -> str:
    """A worksheet's path as messages show it: ``reviews/<id>.csv``."""
    return f"{REVIEWS_DIR}/{reviewer}.csv"


def worksheet_file(root: Path, reviewer: str) -> Path:
    return root / REVIEWS_DIR / f"{reviewer}.csv"


def reviews_dir(root: Path) -> Path:
    return root / REVIEWS_DIR


def decisions_file(root: Path) -> Path:
    return root / DECISIONS_FILE
