"""The YAML files a team writes, as pydantic models (unknown keys are rejected)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Id = Annotated[str, Field(pattern=r"^[a-z0-9_-]+$", min_length=1, max_length=100)]


class _Strict(BaseModel):
    # defer_build: each model's validator is made when first used (the ones a command never
    # validates directly are built only inside their parent's): 30 ms less start-up, measured.
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


# ---------------------------------------------------------------------------- project file


class ResponseCode(_Strict):
    """How one survey code is read from a respondent-level column (kind: survey_responses)."""

    column: str = Field(min_length=1)
    endorse: list[str | int | float | bool] | None = None


class SourceSpec(_Strict):
    id: Id
    label: str | None = None
    kind: Literal["excerpts", "survey", "survey_responses"]
    path: str = Field(min_length=1)
    codes: dict[str, ResponseCode] | None = None
    # .qdpx excerpts sources only (checked in loading.check_project_file); see docs/interop.md
    positions: Literal["codepoints", "utf16", "auto"] | None = Field(
        default=None,
        description=".qdpx only: how selection positions count characters (default auto: detected).",
    )
    coder: str | None = Field(
        default=None,
        min_length=1,
        description=".qdpx only: keep one user's codings (a user name or GUID).",
    )
    code_path: bool | None = Field(
        default=None, description=".qdpx only: name codes by their full path ('Parent/child') only."
    )

    @property
    def display(self) -> str:
        return self.label or self.id


class ProjectFile(_Strict):
    title: str = Field(min_length=1)
    protocol: str = Field(min_length=1)
    codebook: str = Field(default="codebook.yaml", min_length=1)
    sources: list[SourceSpec] = Field(min_length=1)
    reviewers: list[Id] = Field(default_factory=list)
    output: str = Field(default="out", min_length=1)
    findings: str | None = Field(
        default=None,
        min_length=1,
        description="What each source says about each theme (findings.csv, spec section 6.1).",
    )
    narrative: str | None = Field(
        default=None,
        min_length=1,
        description="The researchers' own text for report steps and themes (narrative.yaml, spec section 10.2).",
    )
    blind: bool = Field(
        default=True,
        description="Coders do not see the rule's proposal or its reason while coding (spec section 7).",
    )


# ---------------------------------------------------------------------------- codebook


class Group(_Strict):
    id: Id
    label: str | None = None
    description: str | None = None
    guid: str | None = None  # the QDA folder or code set it came from (import-codebook)


class Theme(_Strict):
    id: Id
    label: str | None = None
    group: str | None = None
    definition: str | None = None
    codes: dict[str, list[str]] = Field(default_factory=dict)
    not_collected: list[str] = Field(default_factory=list)
    guid: str | None = None  # the QDA code or folder it came from (import-codebook)
    questions: list[str] = Field(
        default_factory=list, description="Ids of the research questions this theme answers."
    )

    @field_validator("codes", mode="before")
    @classmethod
    def _codes_as_strings(cls, value: Any) -> Any:
        # Codes like 12 or 1.5 are written unquoted in YAML; they are names, not numbers.
        if isinstance(value, dict):
            out: dict[Any, Any] = {}
            for key, codes in value.items():
                if isinstance(codes, list):
                    codes = [
                        str(c) if isinstance(c, (int, float)) and not isinstance(c, bool) else c
                        for c in codes
                    ]
                elif isinstance(codes, str):
                    codes = [codes]
                out[key] = codes
            return out
        return value

    @property
    def display(self) -> str:
        return self.label or self.id


class Question(_Strict):
    id: Id
    text: str = Field(min_length=1)


class Codebook(_Strict):
    groups: list[Group] = Field(default_factory=list)
    themes: list[Theme] = Field(default_factory=list)
    questions: list[Question] = Field(default_factory=list)
    guids: dict[str, dict[str, str]] = Field(default_factory=dict)  # source -> code -> QDA GUID

    def question(self, qid: str) -> Question | None:
        for q in self.questions:
            if q.id == qid:
                return q
        return None


# ---------------------------------------------------------------------------- protocol


class Step(_Strict):
    id: Id
    label: str


Cut = Annotated[Decimal, Field(allow_inf_nan=False)]


class Dimension(_Strict):
    id: Id
    label: str
    description: str | None = Field(default=None, description="Shown to coders.")
    compare: Literal["tags", "prominence"] = Field(
        default="tags",
        description="tags: the two sources' tag sets; prominence: the theme's prominence in each source.",
    )
    opposites: list[tuple[str, str]] = Field(
        default_factory=list, description="compare: tags only. Tag pairs that contradict."
    )
    prominence_bands: list[Cut] | None = Field(
        default=None,
        description="compare: tags only. Tags must meet and both prominences fall in one band.",
    )
    bands: list[Cut] | None = Field(
        default=None,
        description="compare: prominence only (required there). Cut points, strictly ascending, in (0, 1).",
    )
    band_labels: list[str] | None = Field(
        default=None, description="compare: prominence only. One label per band (cut points + 1)."
    )

    @property
    def cuts(self) -> list[Decimal]:
        """The cut points this dimension compares prominence on (empty: none)."""
        return list((self.bands if self.compare == "prominence" else self.prominence_bands) or [])

    def band_label(self, band: int) -> str:
        """The label of a band (bands count from 0, default labels from 1)."""
        n = len(self.cuts)
        if self.band_labels and len(self.band_labels) == n + 1 and 0 <= band <= n:
            return self.band_labels[band]
        if n == 2:
            return ("low", "medium", "high")[band]
        return f"band {band + 1}"


class Category(_Strict):
    id: Id
    label: str
    definition: str
    color: str | None = Field(default=None, pattern=r"^#[0-9a-fA-F]{6}$")


class Rules(_Strict):
    one_source: str
    all: str
    some: str
    none: str
    conflict: str | None = Field(
        default=None, description="The category when any dimension conflicts (spec section 5.1)."
    )


class Protocol(_Strict):
    id: Id
    title: str
    citation: str
    based_on: list[str] = Field(
        default_factory=list, description="Citations of the protocols this one adapts."
    )
    description: str | None = None
    steps: list[Step] = Field(min_length=1)
    dimensions: list[Dimension] = Field(min_length=1)
    categories: list[Category] = Field(min_length=2)
    rules: Rules

    @field_validator("steps", mode="before")
    @classmethod
    def _steps_from_names(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [
                {"id": v, "label": v.replace("_", " ").capitalize()} if isinstance(v, str) else v
                for v in value
            ]
        return value

    @model_validator(mode="after")
    def _rules_name_categories(self) -> Protocol:
        # Checked here so that a protocol object is always usable; the validator in
        # loading.py reports the same problem with a line number first.
        ids = {c.id for c in self.categories}
        for name in ("one_source", "all", "some", "none", "conflict"):
            if getattr(self.rules, name) is not None and getattr(self.rules, name) not in ids:
                raise ValueError(
                    f"rules.{name} names '{getattr(self.rules, name)}', which is not a category"
                )
        return self

    def category(self, cid: str) -> Category:
        for c in self.categories:
            if c.id == cid:
                return c
        raise KeyError(cid)

    @property
    def category_ids(self) -> list[str]:
        return [c.id for c in self.categories]

    @property
    def dimension_ids(self) -> list[str]:
        return [d.id for d in self.dimensions]

    def dimension(self, did: str) -> Dimension:
        for d in self.dimensions:
            if d.id == did:
                return d
        raise KeyError(did)

    @property
    def rule_categories(self) -> set[str]:
        """The categories the rule can produce; the others are judgement-only (section 5.1)."""
        r = self.rules
        return {c for c in (r.one_source, r.all, r.some, r.none, r.conflict) if c is not None}

    def category_label(self, cid: str) -> str:
        for c in self.categories:
            if c.id == cid:
                return c.label
        return cid

    def category_from_judgements(self, converges: list[bool]) -> str:
        """The rule's category for a unit present in both sources, from per-dimension yes/no."""
        if all(converges):
            return self.rules.all
        if any(converges):
            return self.rules.some
        return self.rules.none

    def rule_text(self) -> str:
        r = self.rules
        return (
            f"theme present in one source only: {r.one_source}; every dimension converges: {r.all}; "
            f"some but not all converge: {r.some}; no dimension converges: {r.none}"
            + (f"; some dimension conflicts: {r.conflict}" if r.conflict else "")
        )
