"""User-supplied regular expressions, matched in time linear in the text.

Threat model: a scorer's ``pattern`` (and a JSON Schema's ``pattern`` and
``patternProperties``) comes from any caller allowed to start a run, and is run
against model output on the server. A backtracking engine (Python's ``re``) can
take exponential time on patterns such as ``(a+)+$``, and no cap on the length of
pattern or text prevents that: forty characters are enough to stall a worker for
hours. So patterns are compiled and run by RE2 (``google-re2``), which never
backtracks: matching is linear in the text, and compiling is bounded by RE2's
memory budget (``max_mem``, 8 MiB by default) and its cap of 1,000 on a counted
repetition. The price is RE2's syntax: no backreferences or look-around, and
``\\w``, ``\\d``, ``\\s`` and ``\\b`` are ASCII-only (``\\p{L}``, ``\\p{N}`` match
any letter or digit).
"""

from __future__ import annotations

import functools

import re2

#: A longer pattern is refused when the scorer is declared.
MAX_PATTERN_CHARS = 1_000
#: The regex scorer searches only this many leading characters of an output.
MAX_SEARCH_CHARS = 100_000

_CACHED_PATTERNS = 256


def _options() -> re2.Options:
    options = re2.Options()
    # A refused pattern is reported to the caller; RE2 would also print it to stderr.
    options.log_errors = False
    return options


@functools.lru_cache(maxsize=_CACHED_PATTERNS)
def compile_pattern(pattern: str) -> re2._Regexp[str]:
    """``pattern`` compiled by RE2; ``ValueError`` says why it is refused."""
    if len(pattern) > MAX_PATTERN_CHARS:
        raise ValueError(f"the pattern has {len(pattern)} characters; at most "
                         f"{MAX_PATTERN_CHARS} are allowed")
    try:
        return re2.compile(pattern, _options())
    except re2.error as exc:
        reason = exc.args[0] if exc.args else "unknown error"
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise ValueError(f"invalid regular expression (RE2 syntax): {reason}") from None


def found(pattern: str, text: str) -> bool:
    """Whether ``pattern`` matches anywhere in ``text`` (``re.search`` semantics)."""
    return compile_pattern(pattern).search(text) is not None
