"""What the simulated model answers, and how many tokens that costs.

Every wire format parses its request into one :class:`Prompt`; :func:`answer`
turns a prompt into an :class:`Answer`. Nothing here knows about HTTP.

Determinism
    The answer is a pure function of ``(seed, model, system, turns, non-text
    parts, temperature, top_p, json_mode)`` and the judge option: the same request
    always gives the same text and token counts. ``max_tokens`` and stop sequences are *not*
    part of that fingerprint, so they cut the very same answer: a truncated or
    stopped answer is always a prefix of the unconstrained one.

The answer
    ``Simulated answer to: <the first 8 words of the last user message>`` (``…``
    if there are more, ``your message.`` if there is none), then 8 to 32 filler words
    chosen from a fixed vocabulary by a SHA-256 stream of the fingerprint, in
    sentences of 4 to 9 words. In JSON mode the answer is the JSON object
    ``{"answer": <that text>, "confidence": <0.00..1.00>}``.

Judge answers (``x-simulator-answer: judge``, see ``faults``)
    In any mode the answer is ``{"reasoning": <that text>, "score": <0.00..1.00>}``,
    the verdict an ``llm_judge`` scorer parses, so a run can be judged by the
    simulator end to end. The score is drawn like ``confidence``.

Token counting (a plausible stand-in for a BPE tokenizer)
    The text is split into pieces: runs of word characters (``\\w+``) and single
    other non-space characters; whitespace is free. A word costs one token per
    started 6 ASCII characters plus one per non-ASCII character (so CJK text
    costs about a token per character); any other character costs 1.
    Input tokens = 3 (priming the reply) + for every message, each system
    instruction counting as one: 4 + tokens(text); every non-text part
    (image, audio, file, tool block) costs a flat 85.
    Output tokens = tokens(returned text). ``max_tokens`` truncates at the last
    whole piece that fits, so output tokens never exceed it.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

MESSAGE_OVERHEAD = 4
REPLY_PRIMING = 3
NON_TEXT_PART_TOKENS = 85
ECHO_WORDS = 8

_PIECE = re.compile(r"\s*(?:(\w+)|([^\w\s]))")
_VOCABULARY = (
    "the", "model", "considers", "your", "question", "carefully", "and", "returns",
    "a", "short", "plain", "answer", "with", "some", "context", "about", "prompt",
    "tokens", "latency", "cost", "quality", "each", "version", "registry", "label",
    "production", "draft", "variable", "template", "output", "input", "request",
    "response", "simulated", "provider", "deterministic", "example", "result", "value",
    "useful", "clear", "simple", "every", "time", "same", "words", "in", "order",
    "this", "is", "not", "real", "but", "looks", "plausible", "enough", "for",
    "tests", "benchmarks", "demos", "so", "it", "stays", "stable",
)

Finish = Literal["end", "stop", "length"]


@dataclass(frozen=True)
class Prompt:
    """One request, provider-neutral: what the simulated model reads."""

    model: str
    system: tuple[str, ...] = ()
    #: (role, text) with role "user" or "assistant"; tool results count as "user".
    turns: tuple[tuple[str, str], ...] = ()
    non_text_parts: int = 0
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: tuple[str, ...] = ()
    json_mode: bool = False


@dataclass(frozen=True)
class Answer:
    text: str
    #: "end": the answer is complete; "stop": cut at ``stop_sequence``;
    #: "length": cut by ``max_tokens``.
    finish: Finish
    stop_sequence: str | None
    input_tokens: int
    output_tokens: int


def _piece_tokens(word: str | None) -> int:
    if word is None:
        return 1
    if word.isascii():  # the common case, without a pass over the characters
        return max(1, -(-len(word) // 6))
    ascii_chars = sum(1 for char in word if char.isascii())
    return max(1, -(-ascii_chars // 6) + (len(word) - ascii_chars))


def count_tokens(text: str) -> int:
    """Tokens of ``text`` by the rule in the module docstring."""
    return sum(_piece_tokens(m.group(1)) for m in _PIECE.finditer(text))


def input_tokens(prompt: Prompt) -> int:
    """Tokens the prompt costs, per-message overhead included."""
    messages = [*prompt.system, *(text for _, text in prompt.turns)]
    return (REPLY_PRIMING + sum(MESSAGE_OVERHEAD + count_tokens(text) for text in messages)
            + NON_TEXT_PART_TOKENS * prompt.non_text_parts)


def fingerprint(prompt: Prompt, seed: int) -> bytes:
    """The digest the answer derives from (limits and stop sequences excluded)."""
    canonical = json.dumps(
        [seed, prompt.model, list(prompt.system), [list(turn) for turn in prompt.turns],
         prompt.temperature, prompt.top_p, prompt.json_mode, prompt.non_text_parts],
        ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).digest()


def _byte_stream(digest: bytes) -> Iterator[int]:
    counter = 0
    while True:
        yield from hashlib.sha256(digest + counter.to_bytes(8, "big")).digest()
        counter += 1


def _echo(prompt: Prompt) -> str:
    last_user = next((text for role, text in reversed(prompt.turns) if role == "user"), "")
    words = last_user.split()
    if not words:
        return "your message."
    echo = " ".join(words[:ECHO_WORDS])
    if len(words) > ECHO_WORDS:
        return echo + "…"
    return echo if echo[-1] in ".!?…" else echo + "."


def full_text(prompt: Prompt, seed: int, *, judge: bool = False) -> str:
    """The whole answer before ``max_tokens`` and stop sequences are applied."""
    stream = _byte_stream(fingerprint(prompt, seed))
    filler_words = 8 + next(stream) % 25
    sentences: list[str] = []
    remaining = filler_words
    while remaining > 0:
        length = min(remaining, 4 + next(stream) % 6)
        words = [_VOCABULARY[next(stream) % len(_VOCABULARY)] for _ in range(length)]
        sentences.append(" ".join(words).capitalize() + ".")
        remaining -= length
    text = f"Simulated answer to: {_echo(prompt)} {' '.join(sentences)}"
    if judge:
        score = round(next(stream) / 255, 2)
        return json.dumps({"reasoning": text, "score": score}, ensure_ascii=False)
    if prompt.json_mode:
        confidence = round(next(stream) / 255, 2)
        return json.dumps({"answer": text, "confidence": confidence}, ensure_ascii=False)
    return text


def _truncate(text: str, limit: int) -> tuple[str, bool]:
    used = 0
    for match in _PIECE.finditer(text):
        cost = _piece_tokens(match.group(1))
        if used + cost > limit:
            return text[:match.start()], True
        used += cost
    return text, False


def answer(prompt: Prompt, *, seed: int = 0, empty: bool = False,
           judge: bool = False) -> Answer:
    """The deterministic answer to ``prompt`` (``empty``: the model says nothing;
    ``judge``: it answers as an LLM judge)."""
    prompt_tokens = input_tokens(prompt)
    if empty:
        return Answer("", "end", None, prompt_tokens, 0)
    text = full_text(prompt, seed, judge=judge)
    finish: Finish = "end"
    stop_sequence: str | None = None
    hits = [(text.find(stop), stop) for stop in prompt.stop if stop and stop in text]
    if hits:
        index, stop_sequence = min(hits)
        text, finish = text[:index], "stop"
    if prompt.max_tokens is not None:
        text, truncated = _truncate(text, prompt.max_tokens)
        if truncated:
            finish, stop_sequence = "length", None
    return Answer(text, finish, stop_sequence, prompt_tokens, count_tokens(text))
