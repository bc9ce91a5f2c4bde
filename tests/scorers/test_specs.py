"""The scorers list of a run request: what is accepted, and what is refused with why."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from scope_api.scorers import (
    ContainsSpec,
    ExactMatchSpec,
    JsonSchemaSpec,
    LlmJudgeSpec,
    NumericCloseSpec,
    RegexSpec,
    SimilaritySpec,
    parse_scorers,
    scorer_name,
)

JUDGE = {"type": "llm_judge", "rubric": "Is it polite?", "provider": "sim", "model": "sim-gpt-mini"}


def refusal(scorers: list[Any]) -> str:
    """The validation messages (with their locations) for a refused list."""
    with pytest.raises(ValidationError) as caught:
        parse_scorers(scorers)
    return " | ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                      for e in caught.value.errors())


def test_every_type_parses_with_its_defaults() -> None:
    specs = parse_scorers([
        {"type": "exact_match"}, {"type": "contains"}, {"type": "regex", "pattern": r"\d+"},
        {"type": "json_valid"}, {"type": "json_schema", "schema": {"type": "object"}},
        {"type": "numeric_close"}, {"type": "similarity"}, JUDGE,
    ])
    assert [scorer_name(s) for s in specs] == [
        "exact_match", "contains", "regex", "json_valid", "json_schema", "numeric_close",
        "similarity", "llm_judge"]
    exact, contains, regex, _, schema, numeric, similarity, judge = specs
    assert exact == ExactMatchSpec(type="exact_match", case_sensitive=True, strip=True)
    assert contains == ContainsSpec(type="contains", value=None, case_sensitive=True)
    assert isinstance(regex, RegexSpec)
    assert regex.pattern == r"\d+"
    assert isinstance(schema, JsonSchemaSpec)
    assert schema.json_schema == {"type": "object"}
    assert numeric == NumericCloseSpec(type="numeric_close", tolerance=0)
    assert similarity == SimilaritySpec(type="similarity", case_sensitive=True, strip=True)
    assert isinstance(judge, LlmJudgeSpec)
    assert judge.pass_threshold is None


def test_a_name_replaces_the_type_as_the_key() -> None:
    specs = parse_scorers([{"type": "contains", "name": "mentions.paris", "value": "Paris"},
                           {"type": "contains", "name": "mentions-rome_2", "value": "Rome"}])
    assert [scorer_name(s) for s in specs] == ["mentions.paris", "mentions-rome_2"]


def test_a_stored_spec_parses_back_to_the_same_spec() -> None:
    # The run engine stores model_dump() and parses it again when it resumes a run.
    specs = parse_scorers([{"type": "json_schema", "schema": {"type": "array"}, "name": "s"},
                           {**JUDGE, "pass_threshold": 0.5}])
    dumped = [spec.model_dump(exclude_none=True) for spec in specs]
    assert dumped[0] == {"type": "json_schema", "schema": {"type": "array"}, "name": "s"}
    assert parse_scorers(dumped) == specs


def test_an_empty_list_is_a_run_without_scores() -> None:
    assert parse_scorers([]) == []


@pytest.mark.parametrize(("scorers", "message"), [
    ([{"type": "levenshtein"}], "does not match any of the expected tags"),
    ([{"name": "x"}], "Unable to extract tag using discriminator 'type'"),
    ([{"type": "exact_match", "ignore_case": True}], "ignore_case: Extra inputs are not permitted"),
    ([{"type": "json_valid", "schema": {}}], "schema: Extra inputs are not permitted"),
    ([{"type": "exact_match", "case_sensitive": "false"}], "Input should be a valid boolean"),
    ([{"type": "exact_match", "name": "has space"}], "String should match pattern"),
    ([{"type": "exact_match", "name": "x" * 65}], "String should match pattern"),
    ([{"type": "exact_match", "name": ""}], "String should match pattern"),
    ([{"type": "contains", "value": ""}], "at least 1 character"),
    ([{"type": "regex"}], "regex.pattern: Field required"),
    ([{"type": "regex", "pattern": "(unclosed"}], "invalid regular expression (RE2 syntax): "
                                                  "missing ): (unclosed"),
    ([{"type": "regex", "pattern": r"(\w+) \1"}], "invalid regular expression"),
    ([{"type": "regex", "pattern": "(?<=a)b"}], "invalid regular expression"),
    ([{"type": "regex", "pattern": "a" * 1001}], "at most 1000 characters"),
    ([{"type": "regex", "pattern": "x{1001}"}], "invalid repetition size"),
    ([{"type": "json_schema"}], "json_schema.schema: Field required"),
    ([{"type": "json_schema", "schema": "object"}], "schema"),
    ([{"type": "json_schema", "schema": {"type": "objekt"}}],
     "not a valid JSON Schema: 'objekt' is not valid under any of the given schemas (at /type)"),
    ([{"type": "json_schema", "schema": {"minLength": -1}}], "not a valid JSON Schema"),
    ([{"type": "json_schema", "schema": {"pattern": "(?=x)"}}], "invalid regular expression"),
    ([{"type": "json_schema", "schema": {"patternProperties": {"(": {}}}}],
     "invalid regular expression"),
    ([{"type": "numeric_close", "tolerance": -0.1}], "greater than or equal to 0"),
    ([{"type": "numeric_close", "tolerance": "0.1"}], "valid number"),
    ([{**JUDGE, "rubric": ""}], "at least 1 character"),
    ([{k: v for k, v in JUDGE.items() if k != "provider"}], "llm_judge.provider: Field required"),
    ([{k: v for k, v in JUDGE.items() if k != "model"}], "llm_judge.model: Field required"),
    ([{**JUDGE, "pass_threshold": 1.5}], "less than or equal to 1"),
    ([{"type": "exact_match"}, {"type": "exact_match"}],
     "scorer name 'exact_match' is used more than once"),
    ([{"type": "contains", "name": "same"}, {"type": "regex", "pattern": "a", "name": "same"}],
     "scorer name 'same' is used more than once"),
    ([{"type": "exact_match", "name": "contains"}, {"type": "contains"}],
     "scorer name 'contains' is used more than once"),
    ([{"type": "similarity", "name": f"s{i}"} for i in range(17)], "at most 16 items"),
])
def test_a_bad_list_is_refused_saying_why(scorers: list[Any], message: str) -> None:
    assert message in refusal(scorers)


def test_sixteen_scorers_are_allowed() -> None:
    assert len(parse_scorers([{"type": "similarity", "name": f"s{i}"} for i in range(16)])) == 16


@pytest.mark.parametrize("schema", [
    True,
    False,
    {"$schema": "https://json-schema.org/draft/2020-12/schema", "type": "string"},
    {"$defs": {"item": {"type": "integer"}}, "type": "array", "items": {"$ref": "#/$defs/item"}},
    {"type": "object", "properties": {"next": {"$ref": "#"}}},
    {"$id": "https://example.com/root", "$defs": {"a": {"$id": "a", "type": "string"}},
     "properties": {"x": {"$ref": "a"}}},
    {"$defs": {"n": {"$anchor": "num", "type": "number"}}, "items": {"$ref": "#num"}},
    {"type": "string", "pattern": r"^\p{Lu}"},
    {"type": "string", "format": "email"},
    # "$ref" inside data keywords is data, not a reference.
    {"const": {"$ref": "http://example.com/not-a-ref"}},
])
def test_these_schemas_are_accepted(schema: Any) -> None:
    spec, = parse_scorers([{"type": "json_schema", "schema": schema}])
    assert isinstance(spec, JsonSchemaSpec)
    assert spec.json_schema == schema


@pytest.mark.parametrize(("schema", "message"), [
    # The server never fetches a schema: that would let a caller make it call any URL.
    ({"$ref": "http://169.254.169.254/latest/meta-data"}, "does not resolve inside the schema"),
    ({"$ref": "https://json-schema.org/draft/2020-12/schema"}, "does not resolve"),
    ({"items": {"$ref": "#/$defs/missing"}}, "does not resolve"),
    ({"$dynamicRef": "other.json#node"}, "does not resolve"),
    ({"$schema": "http://json-schema.org/draft-07/schema#"}, "only JSON Schema Draft 2020-12"),
    ({"properties": {"a": {"$schema": "https://json-schema.org/draft/2020-12/schema"}}},
     "and only at the root"),
    ({"patternProperties": {"^x": {}}, "unevaluatedProperties": False},
     "may not use both patternProperties and unevaluatedProperties"),
    ({"description": "x" * 70_000}, "larger than 65536 characters"),
])
def test_these_schemas_are_refused(schema: dict[str, Any], message: str) -> None:
    assert message in refusal([{"type": "json_schema", "schema": schema}])


def test_a_deeply_nested_schema_is_refused_not_crashed_on() -> None:
    schema: dict[str, Any] = {"type": "array"}
    for _ in range(3000):
        schema = {"items": schema}
    assert "nested too deeply" in refusal([{"type": "json_schema", "schema": schema}])
