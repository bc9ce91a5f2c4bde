"""Scorers: how a golden-set run grades each output, as a number in [0, 1].

A run request's ``scorers`` is a list of objects ``{"type": …, "name"?: …, …options}``
(:func:`parse_scorers`; at most 16; ``name`` matches ``^[A-Za-z0-9_.-]{1,64}$``
and defaults to the type; names must be unique). A result's ``scores`` maps each
scorer's name (:func:`scorer_name`) to its :class:`Score`'s value. ``expected``
below is the golden-set item's ``expected``.

Not applicable
    A score whose ``value`` is ``None`` is *not applicable*: its ``detail`` says
    why, and it is left out of the result's ``scores`` map and out of every mean
    (it is neither a 0 nor a 1). That happens when a scorer that compares with
    ``expected`` meets an item whose ``expected`` is null, and in the cases named
    below.

Text comparison
    Texts are compared after Unicode NFC normalisation (a precomposed "é" equals
    "e" + a combining accent). ``case_sensitive: false`` compares Unicode
    case-folded text ("Straße" equals "STRASSE"). ``strip`` removes leading and
    trailing whitespace (Unicode whitespace, as ``str.strip``).

The catalogue (deterministic ones: :func:`score`; ``llm_judge``: :func:`judge`)

``exact_match`` (``case_sensitive`` = true, ``strip`` = true)
    1 if output equals ``expected``, else 0.
``contains`` (``value``?, ``case_sensitive`` = true)
    1 if ``value`` (or, without one, ``expected``) occurs in the output, else 0.
    Nothing is stripped. An empty ``expected`` is not applicable (an empty
    ``value`` is refused).
``regex`` (``pattern``, at most 1,000 characters)
    1 if the pattern matches anywhere in the output (``re.search`` semantics:
    unanchored unless the pattern says ``^``/``$``), else 0. Only the first
    100,000 characters of the output are searched. Patterns use RE2 syntax,
    matched in linear time (see ``_patterns`` for why): no backreferences or
    look-around; ``\\w \\d \\s \\b`` are ASCII (``\\p{L}``, ``\\p{N}`` for any
    letter or digit); flags inline, e.g. ``(?i)``, ``(?s)``, ``(?m)``. A pattern
    RE2 refuses is a ``422`` when the run is created.
``json_valid``
    1 if the whole output (whitespace around it allowed) is one JSON value per
    RFC 8259, else 0. ``NaN``, ``Infinity``, code fences and trailing text are
    not JSON.
``json_schema`` (``schema``)
    1 if the output is JSON (as ``json_valid``) that validates against
    ``schema``, JSON Schema Draft 2020-12, else 0 with the first violation in
    ``detail``. ``format`` is not checked (an annotation, as 2020-12 says);
    ``$ref`` must resolve inside the schema (nothing is fetched); patterns are
    RE2; a validation that takes over 1 s is not applicable (see
    ``_jsonschema``). An invalid schema is a ``422``.
``numeric_close`` (``tolerance`` ≥ 0, default 0)
    1 if ``|output - expected| ≤ tolerance``, computed in decimal (so ``1.0`` and
    ``1.1`` are exactly 0.1 apart), else 0. Output and ``expected`` must each,
    stripped, be exactly one number: ASCII digits, optional sign, decimals and
    exponent (``"  42 "``, ``"-0.5"``, ``"1e3"``, ``".5"``, ``"42."``), commas
    only as thousands separators in groups of three (``"1,234.5"``; ``"1,5"`` is
    not a number). No number is taken out of prose: ``"The answer is 42"`` scores
    0 (detail: the output is not a number), as does an ``expected`` that is not a
    number; ``nan`` and ``inf`` are not numbers.
``similarity`` (``case_sensitive`` = true, ``strip`` = true)
    Normalised Levenshtein similarity ``1 - distance / max(len(output),
    len(expected))`` over code points (two empty texts: 1).
``llm_judge`` (``rubric``, ``provider``, ``model``, ``pass_threshold``?)
    A judge model reads the rubric and a JSON object ``{"input", "output",
    "expected"}`` and answers ``{"reasoning": "...", "score": <0..1>}``
    (:func:`build_judge_messages`). Its answer is parsed from the whole text, a
    fenced code block, or the first ``{…}`` that holds a ``score``
    (:func:`parse_judgement`): a score in [0, 1] is taken as is, one in (1, 10]
    is divided by 10, anything else (or no such object) is not applicable with
    ``detail`` "could not parse judge answer: …". The reasoning is the
    ``detail``. With ``pass_threshold`` the score becomes 1 if the judged score
    reaches it, else 0, and ``detail`` keeps the judged score.
"""

from scope_api.scorers.deterministic import score
from scope_api.scorers.judge import (
    Complete,
    JudgeMessage,
    build_judge_messages,
    judge,
    parse_judgement,
)
from scope_api.scorers.result import Score
from scope_api.scorers.specs import (
    MAX_SCORERS,
    ContainsSpec,
    DeterministicSpec,
    ExactMatchSpec,
    JsonSchemaSpec,
    JsonValidSpec,
    LlmJudgeSpec,
    NumericCloseSpec,
    RegexSpec,
    ScorerList,
    ScorerSpec,
    SimilaritySpec,
    parse_scorers,
    scorer_name,
)

__all__ = [
    "MAX_SCORERS",
    "Complete",
    "ContainsSpec",
    "DeterministicSpec",
    "ExactMatchSpec",
    "JsonSchemaSpec",
    "JsonValidSpec",
    "JudgeMessage",
    "LlmJudgeSpec",
    "NumericCloseSpec",
    "RegexSpec",
    "Score",
    "ScorerList",
    "ScorerSpec",
    "SimilaritySpec",
    "build_judge_messages",
    "judge",
    "parse_judgement",
    "parse_scorers",
    "score",
    "scorer_name",
]
