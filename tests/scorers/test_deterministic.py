"""The seven scorers that need no model, against hand-computed expectations."""

from __future__ import annotations

import time
from typing import Any

import pytest

from scope_api.scorers import DeterministicSpec, LlmJudgeSpec, Score, parse_scorers, score

PERSON = {
    "type": "object",
    "required": ["name", "age"],
    "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
    "additionalProperties": False,
}


def spec_of(**options: Any) -> DeterministicSpec:
    spec, = parse_scorers([options])
    assert not isinstance(spec, LlmJudgeSpec)
    return spec


def value(output: str, expected: str | None = None, **options: Any) -> float | None:
    return score(spec_of(**options), output=output, expected=expected).value


def elapsed_s(function: Any) -> tuple[Any, float]:
    started = time.perf_counter()
    result = function()
    return result, time.perf_counter() - started


# --- exact_match ------------------------------------------------------------------------

@pytest.mark.parametrize(("output", "expected", "options", "result"), [
    ("Paris", "Paris", {}, 1.0),
    ("  Paris\n", "Paris", {}, 1.0),
    ("  Paris\n", "Paris", {"strip": False}, 0.0),
    ("Pa ris", "Paris", {}, 0.0),  # only the ends are stripped
    ("paris", "Paris", {}, 0.0),
    ("paris", "PARIS", {"case_sensitive": False}, 1.0),
    ("Straße", "STRASSE", {"case_sensitive": False}, 1.0),  # Unicode case folding
    ("caf\u00e9", "cafe\u0301", {}, 1.0),  # one code point vs e + combining accent
    ("", "", {}, 1.0),
    (" ", "", {}, 1.0),
    (" ", "", {"strip": False}, 0.0),
    ("Paris.", "Paris", {}, 0.0),
])
def test_exact_match(output: str, expected: str, options: dict[str, Any], result: float) -> None:
    assert value(output, expected, type="exact_match", **options) == result


@pytest.mark.parametrize("kind", ["exact_match", "contains", "numeric_close", "similarity"])
def test_a_null_expected_is_not_applicable(kind: str) -> None:
    assert score(spec_of(type=kind), output="anything", expected=None) == Score(
        None, "the item has no expected value")


# --- contains ---------------------------------------------------------------------------

@pytest.mark.parametrize(("output", "expected", "options", "result"), [
    ("The capital of France is Paris.", "Paris", {}, 1.0),
    ("The capital of France is Paris.", "paris", {}, 0.0),
    ("The capital of France is PARIS.", "paris", {"case_sensitive": False}, 1.0),
    ("The capital of France is Paris.", " Paris ", {}, 0.0),  # nothing is stripped
    ("The capital of France is Paris.", "Paris", {"value": "Rome"}, 0.0),
    ("The capital of Italy is Rome.", None, {"value": "Rome"}, 1.0),
    ("東京は日本の首都です", "日本", {}, 1.0),
    ("café", "cafe\u0301", {}, 1.0),
    ("", "Paris", {}, 0.0),
])
def test_contains(output: str, expected: str | None, options: dict[str, Any],
                  result: float) -> None:
    assert value(output, expected, type="contains", **options) == result


def test_contains_with_nothing_to_look_for_is_not_applicable() -> None:
    assert score(spec_of(type="contains"), output="x", expected="") == Score(
        None, "nothing to look for: the expected value is empty")


# --- regex ------------------------------------------------------------------------------

@pytest.mark.parametrize(("output", "pattern", "result"), [
    ("555-1234", r"^\d{3}-\d{4}$", 1.0),
    ("call 555-1234", r"^\d{3}-\d{4}$", 0.0),
    ("call 555-1234 now", r"\d{3}-\d{4}", 1.0),  # search, not match
    ("line one\nline two", r"^line two$", 0.0),
    ("line one\nline two", r"(?m)^line two$", 1.0),
    ("YES", r"\byes\b", 0.0),
    ("YES", r"(?i)\byes\b", 1.0),
    ("日本語", r"^\p{Han}+$", 1.0),
    ("café", r"^\w+$", 0.0),  # RE2's \w is ASCII
    ("café", r"^\p{L}+$", 1.0),
    ("", r"^$", 1.0),
    ("anything", "", 1.0),
])
def test_regex(output: str, pattern: str, result: float) -> None:
    assert value(output, None, type="regex", pattern=pattern) == result


def test_regex_ignores_expected() -> None:
    assert value("abc", "zzz", type="regex", pattern="b") == 1.0


def test_regex_searches_only_the_first_100000_characters() -> None:
    assert value("a" * 99_999 + "b", type="regex", pattern="b") == 1.0
    assert value("a" * 100_000 + "b", type="regex", pattern="b") == 0.0


def test_a_pattern_that_backtracks_exponentially_in_python_re_is_fast() -> None:
    # Python's re would take far longer than the age of the universe on this.
    result, seconds = elapsed_s(lambda: value("a" * 50_000 + "!", type="regex",
                                              pattern="(a+)+$"))
    assert result == 0.0
    assert seconds < 1


# --- json_valid -------------------------------------------------------------------------

@pytest.mark.parametrize(("output", "result"), [
    ('{"a": 1}', 1.0),
    ('  [1, 2]\n', 1.0),
    ('"text"', 1.0),
    ("42", 1.0),
    ("null", 1.0),
    ('{"ключ": "值"}', 1.0),
    ("", 0.0),
    ('{"a": 1,}', 0.0),
    ("{'a': 1}", 0.0),
    ("NaN", 0.0),
    ('{"a": Infinity}', 0.0),
    ('```json\n{"a": 1}\n```', 0.0),
    ('{"a": 1} and more', 0.0),
    ('{"a": 1}{"b": 2}', 0.0),
])
def test_json_valid(output: str, result: float) -> None:
    assert value(output, type="json_valid") == result


def test_invalid_json_says_where() -> None:
    assert score(spec_of(type="json_valid"), output='{"a": 1,}', expected=None).detail == (
        "not valid JSON: Expecting property name enclosed in double quotes: "
        "line 1 column 9 (char 8)")


def test_json_too_deep_to_read_is_invalid_not_a_crash() -> None:
    assert score(spec_of(type="json_valid"), output="[" * 100_000 + "]" * 100_000,
                 expected=None) == Score(0.0, "not valid JSON: nested too deeply to read")


# --- json_schema ------------------------------------------------------------------------

@pytest.mark.parametrize(("output", "result", "detail"), [
    ('{"name": "Ada", "age": 36}', 1.0, None),
    (' {"age": 0, "name": ""} ', 1.0, None),
    ('{"name": "Ada"}', 0.0, "'age' is a required property (at $)"),
    ('{"name": "Ada", "age": -1}', 0.0, "-1 is less than the minimum of 0 (at $.age)"),
    ('{"name": "Ada", "age": 36.5}', 0.0, "36.5 is not of type 'integer' (at $.age)"),
    ('{"name": "Ada", "age": 36, "x": 1}', 0.0,
     "additional properties are not allowed ('x' unexpected) (at $)"),
    ('["Ada", 36]', 0.0, "['Ada', 36] is not of type 'object' (at $)"),
    ("Ada is 36", 0.0, "not valid JSON: Expecting value: line 1 column 1 (char 0)"),
])
def test_json_schema(output: str, result: float, detail: str | None) -> None:
    spec = spec_of(type="json_schema", schema=PERSON)
    assert score(spec, output=output, expected=None) == Score(result, detail)


@pytest.mark.parametrize(("schema", "output", "result"), [
    ({"patternProperties": {"^x-": {"type": "integer"}}, "additionalProperties": False},
     '{"x-a": 1}', 1.0),
    ({"patternProperties": {"^x-": {"type": "integer"}}, "additionalProperties": False},
     '{"x-a": "1"}', 0.0),
    ({"patternProperties": {"^x-": {"type": "integer"}}, "additionalProperties": False},
     '{"y": 1}', 0.0),
    ({"properties": {"a": {}}, "additionalProperties": {"type": "string"}},
     '{"a": 1, "b": "s"}', 1.0),
    ({"properties": {"a": {}}, "additionalProperties": {"type": "string"}}, '{"b": 2}', 0.0),
    ({"type": "string", "pattern": r"^\p{Lu}\p{Ll}+$"}, '"Élodie"', 1.0),
    ({"type": "string", "pattern": r"^\p{Lu}\p{Ll}+$"}, '"élodie"', 0.0),
    ({"type": "string", "format": "email"}, '"not an email"', 1.0),  # format: annotation only
    ({"items": {"$ref": "#"}, "maxItems": 1}, "[[[]]]", 1.0),
    ({"items": {"$ref": "#"}, "maxItems": 1}, "[[[], []]]", 0.0),
    ({"$schema": "https://json-schema.org/draft/2020-12/schema",
      "properties": {"a": {"$ref": "#"}}, "required": ["b"]}, '{"b": 1, "a": {}}', 0.0),
    ({"unevaluatedProperties": False, "properties": {"a": {}}}, '{"a": 1, "b": 2}', 0.0),
    (True, "[1]", 1.0),
    (False, "[1]", 0.0),
])
def test_json_schema_keywords(schema: Any, output: str, result: float) -> None:
    assert value(output, type="json_schema", schema=schema) == result


def test_a_schema_pattern_runs_in_linear_time() -> None:
    result, seconds = elapsed_s(lambda: value(
        '"' + "a" * 50_000 + '!"', type="json_schema",
        schema={"type": "string", "pattern": "(a+)+$"}))
    assert result == 0.0
    assert seconds < 1


def test_a_pattern_property_runs_in_linear_time_even_under_additional_properties() -> None:
    schema = {"patternProperties": {"(a+)+$": {}}, "additionalProperties": False}
    result, seconds = elapsed_s(lambda: value(
        '{"' + "a" * 50_000 + '!": 1}', type="json_schema", schema=schema))
    assert result == 0.0
    assert seconds < 1


def test_a_schema_that_explodes_gives_up_after_its_budget() -> None:
    # Each level tries both branches in full before failing: 2^depth work.
    branch = {"type": "array", "items": {"$ref": "#/$defs/n"}}
    schema = {"$defs": {"n": {"anyOf": [{**branch, "contains": {"const": "x"}},
                                        {**branch, "contains": {"const": "y"}}]}},
              "$ref": "#/$defs/n"}
    spec = spec_of(type="json_schema", schema=schema)
    assert score(spec, output="[[]]", expected=None).value == 0.0  # small: a real answer
    result, seconds = elapsed_s(lambda: score(spec, output="[" * 40 + "]" * 40,
                                              expected=None))
    assert result == Score(None, "gave up: validating this output against the schema took "
                                 "too long")
    assert seconds < 3


def test_an_output_too_deep_to_validate_is_not_applicable() -> None:
    spec = spec_of(type="json_schema", schema={"items": {"$ref": "#"}})
    assert score(spec, output="[" * 100 + "]" * 100, expected=None).value == 1.0
    assert score(spec, output="[" * 900 + "]" * 900, expected=None) == Score(
        None, "gave up: the output is nested too deeply to validate")


# --- numeric_close ----------------------------------------------------------------------

@pytest.mark.parametrize(("output", "expected", "tolerance", "result"), [
    ("42", "42", 0, 1.0),
    ("  42 \n", "42", 0, 1.0),
    ("1e3", "1000", 0, 1.0),
    ("1E+3", "1000.000", 0, 1.0),
    ("-0.5", "-.5", 0, 1.0),
    ("+7", "7", 0, 1.0),
    ("42.", "42", 0, 1.0),
    ("-0", "0", 0, 1.0),
    ("1,234.5", "1234.5", 0, 1.0),
    ("1,234,567", "1234567", 0, 1.0),
    ("1.0", "1.1", 0.1, 1.0),  # exactly 0.1 apart: floats would say 0.10000000000000009
    ("1.0", "1.1", 0.09, 0.0),
    ("10", "15", 5, 1.0),  # the bound is inclusive
    ("9.99", "15", 5, 0.0),
    ("0.30000000000000004", "0.3", 0, 0.0),
    ("0.30000000000000004", "0.3", 1e-15, 1.0),
])
def test_numeric_close(output: str, expected: str, tolerance: float, result: float) -> None:
    assert value(output, expected, type="numeric_close", tolerance=tolerance) == result


@pytest.mark.parametrize(("output", "expected", "detail"), [
    ("The answer is 42", "42", "the output is not a number: 'The answer is 42'"),
    ("42 apples", "42", "the output is not a number: '42 apples'"),
    ("1,5", "1.5", "the output is not a number: '1,5'"),
    ("1,23", "123", "the output is not a number: '1,23'"),
    ("nan", "1", "the output is not a number: 'nan'"),
    ("inf", "1", "the output is not a number: 'inf'"),
    ("1_000", "1000", "the output is not a number: '1_000'"),
    ("٤٢", "42", "the output is not a number: '٤٢'"),
    ("", "0", "the output is not a number: ''"),
    ("1e999999999999999999999", "1", "the output is not a number: '1e999999999999999999999'"),
    ("42", "forty-two", "the expected value is not a number: 'forty-two'"),
    ("42", "", "the expected value is not a number: ''"),
])
def test_numeric_close_needs_two_numbers(output: str, expected: str, detail: str) -> None:
    assert score(spec_of(type="numeric_close", tolerance=1), output=output,
                 expected=expected) == Score(0.0, detail)


def test_numeric_close_says_how_far_apart() -> None:
    assert score(spec_of(type="numeric_close", tolerance=0.5), output="2.75",
                 expected="2") == Score(0.0, "the numbers differ by 0.75 (tolerance 0.5)")


def test_numbers_too_far_apart_to_subtract_are_simply_not_close() -> None:
    assert value("9e999999999999999999", "-9e999999999999999999", type="numeric_close",
                 tolerance=1e300) == 0.0


# --- similarity -------------------------------------------------------------------------

@pytest.mark.parametrize(("output", "expected", "options", "result"), [
    ("kitten", "sitting", {}, 1 - 3 / 7),
    ("Paris", "Paris", {}, 1.0),
    ("Paris", "paris", {}, 1 - 1 / 5),
    ("Paris", "paris", {"case_sensitive": False}, 1.0),
    ("  abc ", "abc", {}, 1.0),
    ("  abc ", "abc", {"strip": False}, 1 - 3 / 6),
    ("café", "cafe", {}, 1 - 1 / 4),
    ("cafe\u0301", "caf\u00e9", {}, 1.0),
    ("日本語", "日本", {}, 1 - 1 / 3),
    ("", "", {}, 1.0),
    ("abc", "", {}, 0.0),
    ("", "abc", {}, 0.0),
    ("abc", "xyz", {}, 0.0),
])
def test_similarity(output: str, expected: str, options: dict[str, Any], result: float) -> None:
    assert value(output, expected, type="similarity", **options) == pytest.approx(result)


def test_similarity_of_long_texts_is_fast() -> None:
    long_a, long_b = "abcdefghij" * 2_000, "abcdefghiX" * 2_000
    result, seconds = elapsed_s(lambda: value(long_a, long_b, type="similarity"))
    assert result == pytest.approx(0.9)
    assert seconds < 1
