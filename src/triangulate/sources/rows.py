"""The row model every source reader produces: coded excerpts and survey-derived codes."""

from __future__ import annotations

from dataclasses import dataclass

EXCERPT_COLUMNS = ("excerpt_id", "participant", "code", "text")
SURVEY_COLUMNS = ("code", "respondents")
DEFAULT_ENDORSE = frozenset({"1", "true", "yes", "y", "checked", "selected"})
NOT_ENDORSED = frozenset({"0", "false", "no", "n", "unchecked", "not selected"})


def split_tags(cell: str) -> tuple[str, ...]:
    """``"Barrier; caseload;;"`` -> ``("barrier", "caseload")``: split on ';', trimmed, case-folded."""
    if not cell:
        return ()
    out: list[str] = []
    for part in cell.split(";"):
        t = part.strip().casefold()
        if t and t not in out:
            out.append(t)
    return tuple(out)


@dataclass(slots=True)
class ExcerptRow:
    excerpt_id: str
    participant: str
    code: str
    text: str
    tags: dict[str, tuple[str, ...]]
    row: int
    code_path: str | None = None  # .qdpx only: the code's full path ("Parent/child"), also accepted


@dataclass(slots=True)
class SurveyRow:
    code: str
    item: str
    respondents: int
    endorsed: int | None
    percent: float | None
    tags: dict[str, tuple[str, ...]]
    row: int

    @property
    def share(self) -> float:
        if self.endorsed is not None:
            return self.endorsed / self.respondents
        assert self.percent is not None
        return self.percent / 100.0
