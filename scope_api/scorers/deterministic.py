"""The seven scorers that need no model: pure functions of (spec, output, expected).

The exact semantics are in the package docstring (``scope_api.scorers``).
"""

from __future__ import annotations

import re
import unicodedata
from decimal import MAX_EMAX, MIN_EMIN, Context, Decimal, InvalidOperation
from typing import assert_never

from rapidfuzz.distance import Levenshtein

from scope_api.scorers._json import parse_json
from scope_api.scorers._jsonschema import GaveUp, first_violation
from scope_api.scorers._patterns import MAX_SEARCH_CHARS, found
from scope_api.scorers.result import Score, not_applicable, passed
from scope_api.scorers.specs import (
    ContainsSpec,
    DeterministicSpec,
    ExactMatchSpec,
    JsonSchemaSpec,
    JsonValidSpec,
    NumericCloseSpec,
    RegexSpec,
    SimilaritySpec,
)

NO_EXPECTED = "the item has no expected value"

# ASCII digits only; optional sign, thousands grouped by commas (exactly 3 digits per
# group), decimals and exponent. "1,5" is refused: it reads as 15 or 1.5 depending on
# the writer's locale.
_NUMBER = re.compile(r"[+-]?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?"
                     r"|[+-]?\.[0-9]+(?:[eE][+-]?[0-9]+)?")
# Room for any exponent a number can be written with; no traps, so an absurd one gives
# Infinity (never close to anything) instead of an exception.
_ARITHMETIC = Context(prec=60, Emax=MAX_EMAX, Emin=MIN_EMIN, traps=[])


def _text(value: str, *, strip: bool = False, case_sensitive: bool = True) -> str:
    # NFC so that "é" typed as one code point or as "e" + a combining accent compare equal.
    value = unicodedata.normalize("NFC", value.strip() if strip else value)
    return value if case_sensitive else value.casefold()


def _preview(value: str, limit: int = 80) -> str:
    return repr(value if len(value) <= limit else value[: limit - 1] + "…")


def parse_number(text: str) -> Decimal | None:
    """The number ``text`` spells (surrounding whitespace allowed), else ``None``."""
    stripped = text.strip()
    if not _NUMBER.fullmatch(stripped):
        return None
    try:
        return Decimal(stripped.replace(",", ""))
    except InvalidOperation:  # an exponent beyond ±999,999,999,999,999,999
        return None


def _exact_match(spec: ExactMatchSpec, output: str, expected: str | None) -> Score:
    if expected is None:
        return not_applicable(NO_EXPECTED)
    options = {"strip": spec.strip, "case_sensitive": spec.case_sensitive}
    return passed(_text(output, **options) == _text(expected, **options))


def _contains(spec: ContainsSpec, output: str, expected: str | None) -> Score:
    needle = spec.value if spec.value is not None else expected
    if needle is None:
        return not_applicable(NO_EXPECTED)
    if needle == "":
        return not_applicable("nothing to look for: the expected value is empty")
    case = {"case_sensitive": spec.case_sensitive}
    return passed(_text(needle, **case) in _text(output, **case))


def _regex(spec: RegexSpec, output: str) -> Score:
    return passed(found(spec.pattern, output[:MAX_SEARCH_CHARS]))


def _json_valid(output: str) -> Score:
    try:
        parse_json(output)
    except ValueError as exc:
        return passed(False, f"not valid JSON: {exc}")
    return passed(True)


def _json_schema(spec: JsonSchemaSpec, output: str) -> Score:
    try:
        document = parse_json(output)
    except ValueError as exc:
        return passed(False, f"not valid JSON: {exc}")
    try:
        violation = first_violation(spec.json_schema, document)
    except GaveUp:
        return not_applicable("gave up: validating this output against the schema took "
                              "too long")
    except RecursionError:
        return not_applicable("gave up: the output is nested too deeply to validate")
    return passed(violation is None, violation)


def _numeric_close(spec: NumericCloseSpec, output: str, expected: str | None) -> Score:
    if expected is None:
        return not_applicable(NO_EXPECTED)
    want = parse_number(expected)
    if want is None:
        return passed(False, f"the expected value is not a number: {_preview(expected)}")
    got = parse_number(output)
    if got is None:
        return passed(False, f"the output is not a number: {_preview(output)}")
    # Decimal, not float: 1.0 and 1.1 are 0.1 apart, which floats make 0.10000000000000009.
    distance = _ARITHMETIC.abs(_ARITHMETIC.subtract(got, want))
    return passed(distance <= Decimal(repr(spec.tolerance)),
                  f"the numbers differ by {distance} (tolerance {spec.tolerance:g})")


def _similarity(spec: SimilaritySpec, output: str, expected: str | None) -> Score:
    if expected is None:
        return not_applicable(NO_EXPECTED)
    options = {"strip": spec.strip, "case_sensitive": spec.case_sensitive}
    # 1 - distance / max(len): rapidfuzz's normalisation, and 1.0 for two empty strings.
    value = Levenshtein.normalized_similarity(_text(output, **options),
                                              _text(expected, **options))
    return Score(min(1.0, max(0.0, value)))


def score(spec: DeterministicSpec, *, output: str, expected: str | None) -> Score:
    """Score ``output`` (and the item's ``expected``) with a scorer that needs no model."""
    match spec:
        case ExactMatchSpec():
            return _exact_match(spec, output, expected)
        case ContainsSpec():
            return _contains(spec, output, expected)
        case RegexSpec():
            return _regex(spec, output)
        case JsonValidSpec():
            return _json_valid(output)
        case JsonSchemaSpec():
            return _json_schema(spec, output)
        case NumericCloseSpec():
            return _numeric_close(spec, output, expected)
        case SimilaritySpec():
            return _similarity(spec, output, expected)
        case _:
            assert_never(spec)
