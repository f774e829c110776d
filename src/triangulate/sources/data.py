"""One source's data once read: its rows, held as rows or column by column."""

from __future__ import annotations

from dataclasses import dataclass, field

from triangulate.findings import Location
from triangulate.project.models import SourceSpec
from triangulate.sources.columns import ExcerptColumns, ExcerptView
from triangulate.sources.rows import ExcerptRow, SurveyRow


@dataclass
class SourceData:
    spec: SourceSpec
    file: str  # path as written in the project file
    excerpts: list[ExcerptRow] = field(default_factory=list)
    survey: list[SurveyRow] = field(default_factory=list)
    # .qdpx: code (name or path) -> where the export defines it; its rows have no row numbers
    code_places: dict[str, str] | None = None

    def code_location(self, code: str, row: int) -> Location:
        """Where a finding about ``code`` points: its first row, or for a .qdpx its Code element."""
        file = self.file.partition("#")[0]
        if self.code_places is not None:
            return Location(file, field=self.code_places.get(code, f"code '{code}'"))
        return Location(file, row=row, field="code")

    @property
    def is_excerpts(self) -> bool:
        return self.spec.kind == "excerpts"

    _columns: ExcerptColumns | None = None
    _survey_by_code: tuple[int, dict[str, list[SurveyRow]]] | None = None

    def survey_rows_by_code(self) -> dict[str, list[SurveyRow]]:
        """Survey rows grouped by code, in file order (computed once, again if rows were added)."""
        cache = self._survey_by_code
        if cache is None or cache[0] != len(self.survey):
            groups: dict[str, list[SurveyRow]] = {}
            for r in self.survey:
                groups.setdefault(r.code, []).append(r)
            cache = self._survey_by_code = (len(self.survey), groups)
        return cache[1]

    def excerpt_columns(self) -> ExcerptColumns:
        """The excerpts column by column (built once from ``excerpts`` unless read that way)."""
        cols = self._columns
        if cols is None or (cols.originals is not None and len(cols) != len(self.excerpts)):
            cols = self._columns = ExcerptColumns.from_rows(self.excerpts)
        return cols

    def attach_columns(self, cols: ExcerptColumns) -> None:
        """Use columns read by the fast reader; ``excerpts`` becomes a view over them."""
        self._columns = cols
        self.excerpts = ExcerptView(cols)  # type: ignore[assignment]

    def participant_count(self) -> int:
        return self.excerpt_columns().participant_count() if self.is_excerpts else 0

    def excerpt_count(self) -> int:
        return self.excerpt_columns().excerpt_count() if self.is_excerpts else 0

    def first_rows(self) -> dict[str, int]:
        """The row where each code of the data first appears."""
        if self.is_excerpts:
            return self.excerpt_columns().first_rows()
        first: dict[str, int] = {}
        for r in self.survey:
            first.setdefault(r.code, r.row)
        return first

    def codes_in_data(self) -> set[str]:
        if self.is_excerpts:
            return set(self.excerpt_columns().by_code())
        return {r.code for r in self.survey}
