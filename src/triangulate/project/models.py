"""The YAML files a team writes, as pydantic models (unknown keys are rejected)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Id = Annotated[str, Field(pattern=r"^[a-z0-9_-]+$", min_length=1, max_length=100)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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


# ---------------------------------------------------------------------------- codebook


class Group(_Strict):
    id: Id
    label: str | None = None
    description: str | None = None


class Theme(_Strict):
    id: Id
    label: str | None = None
    group: str | None = None
    definition: str | None = None
    codes: dict[str, list[str]] = Field(default_factory=dict)
    not_collected: list[str] = Field(default_factory=list)

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


class Codebook(_Strict):
    groups: list[Group] = Field(default_factory=list)
    themes: list[Theme] = Field(default_factory=list)


# ---------------------------------------------------------------------------- protocol


class Step(_Strict):
    id: Id
    label: str


class Dimension(_Strict):
    id: Id
    label: str
    description: str | None = None


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


class Protocol(_Strict):
    id: Id
    title: str
    citation: str
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
        for name in ("one_source", "all", "some", "none"):
            if getattr(self.rules, name) not in ids:
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
        )
