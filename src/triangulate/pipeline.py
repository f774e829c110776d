"""The whole run as one library call: load, sort, build units, read reviews and decisions, settle."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from triangulate.findings import Finding
from triangulate.project.loading import Project, load_project
from triangulate.project.narrative import Narrative, read_narrative
from triangulate.protocol.agreement import AgreementResult
from triangulate.protocol.analysis import (
    Analysis,
    Unit,
    build_units,
    category_ratings,
    settle,
    sorting_findings,
)
from triangulate.review.decisions import read_decisions
from triangulate.review.findings_table import read_source_findings
from triangulate.review.worksheets import read_worksheets

if TYPE_CHECKING:
    from triangulate.progress import Progress


@dataclass
class PipelineResult:
    analysis: Analysis | None
    findings: list[Finding]

    @property
    def has_errors(self) -> bool:
        return any(f.is_error for f in self.findings)


def analyse_path(
    path: Path, progress: Progress | None = None, allow_outside: bool = False
) -> PipelineResult:
    """Load and analyse a project. ``progress(task, done, total)``, when given, hears how far the
    slow steps (reading large sources) have got; the library itself never prints. Paths that leave
    the project folder are errors unless ``allow_outside`` (spec section 1)."""
    loaded = load_project(path, progress, allow_outside)
    if loaded.project is None:
        return PipelineResult(None, loaded.findings)
    return PipelineResult(*_analyse(loaded.project, loaded.findings))


def _analyse(project: Project, findings: list[Finding]) -> tuple[Analysis, list[Finding]]:
    units, sorting = build_units(project)
    findings = findings + sorting_findings(project)
    findings += read_worksheets(project, units)
    findings += read_decisions(project, units)
    source_findings, f = read_source_findings(project, sorting)
    findings += f
    narrative = Narrative()
    if project.file.narrative:
        narrative, f = read_narrative(
            project.root, project.file.narrative, project.protocol, project.codebook
        )
        findings += f
    reviewers = list(project.file.reviewers)
    for u in units:
        settle(u, reviewers)
    analysis = Analysis(project, sorting, units, reviewers, findings)
    analysis.source_findings = source_findings
    analysis.narrative = narrative
    if reviewers:
        analysis.agreement = agreement_block(project, units, two_source_only=True)
        analysis.agreement_all_units = agreement_block(project, units, two_source_only=False)
    return analysis, findings


def agreement_block(
    project: Project, units: list[Unit], two_source_only: bool = True
) -> AgreementResult:
    """Spec 10.1: researcher comparison over the reviewers' own categories (before adjudication).

    ``two_source_only``: the v2 scope, units whose theme is present in both sources (the
    one-source units coded by two or more reviewers are counted in ``excluded_one_source``);
    else the v1 computation over every unit (``agreement_all_units``).
    """
    from dataclasses import replace

    from triangulate.protocol.agreement import compute_agreement

    reviewers = list(project.file.reviewers)
    q = len(project.protocol.categories)
    two_source = [u for u in units if not u.one_source]
    scope = two_source if two_source_only else units
    ratings = category_ratings(scope, reviewers)
    result = compute_agreement(ratings, reviewers, [u.key for u in scope], q=q)
    by_dim: dict[str, AgreementResult] = {}
    for d in project.protocol.dimension_ids:
        dim_ratings: dict[str, dict[Any, str | None]] = {}
        for r in reviewers:
            dim_ratings[r] = {}
            for u in two_source:
                c = u.codes.get(r)
                v = c.judgements.get(d) if c else None
                dim_ratings[r][u.key] = None if v is None else ("yes" if v else "no")
        by_dim[d] = compute_agreement(dim_ratings, reviewers, [u.key for u in two_source], q=2)
    excluded = None
    if two_source_only:
        excluded = sum(
            1
            for u in units
            if u.one_source and sum(1 for r in reviewers if u.category_of(r) is not None) >= 2
        )
    return replace(
        result,
        by_dimension=by_dim,
        excluded_one_source=excluded,
        scope="two_source" if two_source_only else "all_units",
    )
