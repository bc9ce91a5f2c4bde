"""The ``scorers`` of a run request: one model per type, checked before any work starts.

Every problem is a ``ValueError`` inside pydantic validation, so a request body
holding these models answers ``422`` naming the field (an unknown ``type``, an
unknown option, a bad regex or JSON Schema, a duplicate name).
"""

from __future__ import annotations

from collections import Counter
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    field_validator,
)

from scope_api.schemas.common import storable
from scope_api.scorers._jsonschema import check_schema
from scope_api.scorers._patterns import MAX_PATTERN_CHARS, compile_pattern

MAX_SCORERS = 16
MAX_RUBRIC_CHARS = 20_000

ScorerName = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]


class _Spec(BaseModel):
    # strict: "true" is not a boolean and "0.5" is not a number.
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    name: ScorerName | None = Field(
        default=None, description="The key of this score in a result's scores (default: "
                                  "the type).")


class ExactMatchSpec(_Spec):
    """1 when the output equals the item's ``expected``."""

    type: Literal["exact_match"]
    case_sensitive: bool = True
    strip: bool = Field(default=True, description="Ignore leading and trailing whitespace.")


class ContainsSpec(_Spec):
    """1 when the output contains ``value`` (default: the item's ``expected``)."""

    type: Literal["contains"]
    value: str | None = Field(default=None, min_length=1)
    case_sensitive: bool = True


class RegexSpec(_Spec):
    """1 when ``pattern`` (RE2 syntax) matches somewhere in the output."""

    type: Literal["regex"]
    pattern: str = Field(max_length=MAX_PATTERN_CHARS)

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, pattern: str) -> str:
        compile_pattern(pattern)
        return pattern


class JsonValidSpec(_Spec):
    """1 when the whole output is one JSON value."""

    type: Literal["json_valid"]


class JsonSchemaSpec(_Spec):
    """1 when the output is JSON that validates against ``schema`` (Draft 2020-12)."""

    # A field named "schema" would shadow BaseModel.schema(); the alias keeps the wire
    # name in and (serialize_by_alias) out, so a stored spec parses again.
    model_config = ConfigDict(serialize_by_alias=True)

    type: Literal["json_schema"]
    json_schema: dict[str, Any] | bool = Field(alias="schema")

    @field_validator("json_schema")
    @classmethod
    def _is_a_schema(cls, schema: dict[str, Any] | bool) -> dict[str, Any] | bool:
        storable(schema)  # stored with the run, and read back by every cell and GET /runs
        check_schema(schema)
        return schema


class NumericCloseSpec(_Spec):
    """1 when the output and ``expected`` are numbers at most ``tolerance`` apart."""

    type: Literal["numeric_close"]
    tolerance: float = Field(default=0, ge=0, allow_inf_nan=False)


class SimilaritySpec(_Spec):
    """Normalised edit similarity between the output and ``expected``."""

    type: Literal["similarity"]
    case_sensitive: bool = True
    strip: bool = True


class LlmJudgeSpec(_Spec):
    """A model grades the output against ``rubric`` (run by the run engine)."""

    type: Literal["llm_judge"]
    rubric: str = Field(min_length=1, max_length=MAX_RUBRIC_CHARS)
    provider: str = Field(min_length=1, max_length=128,
                          description="A configured provider's name.")
    model: str = Field(min_length=1, max_length=256)
    pass_threshold: float | None = Field(
        default=None, ge=0, le=1, allow_inf_nan=False,
        description="If set, the score is 1 when the judge's score reaches it, else 0.")


DeterministicSpec = (ExactMatchSpec | ContainsSpec | RegexSpec | JsonValidSpec
                     | JsonSchemaSpec | NumericCloseSpec | SimilaritySpec)

ScorerSpec = Annotated[DeterministicSpec | LlmJudgeSpec, Field(discriminator="type")]


def scorer_name(spec: DeterministicSpec | LlmJudgeSpec) -> str:
    """The key of ``spec``'s score in a result's ``scores``: its name, else its type."""
    return spec.name or spec.type


def _unique_names(specs: list[DeterministicSpec | LlmJudgeSpec]
                  ) -> list[DeterministicSpec | LlmJudgeSpec]:
    counts = Counter(scorer_name(spec) for spec in specs)
    twice = [name for name, count in counts.items() if count > 1]
    if twice:
        raise ValueError(f"scorer name {twice[0]!r} is used more than once; give each "
                         'scorer a distinct "name"')
    return specs


ScorerList = Annotated[list[ScorerSpec], Field(max_length=MAX_SCORERS),
                       AfterValidator(_unique_names)]
"""The ``scorers`` field of a run request: at most 16, names unique (may be empty)."""

_scorer_list: TypeAdapter[list[DeterministicSpec | LlmJudgeSpec]] = TypeAdapter(ScorerList)


def parse_scorers(data: Any) -> list[DeterministicSpec | LlmJudgeSpec]:
    """Validate a JSON ``scorers`` list (raises ``pydantic.ValidationError``)."""
    return _scorer_list.validate_python(data)
