"""Splitting a template into highlighted segments, with the first error located in it.

The editor's JavaScript only paints what this module computes, so highlighting is
tested without a browser. Segments come from the SDK's own lexer (the server's
tokenization), so ``}}`` inside a string literal or a tag spanning lines is
highlighted exactly as the server reads it; the error comes from
``compile_template``, so the editor reports what saving would refuse.

Segments partition the source: joined in order, their ``text`` is the source, and
``start``/``end`` are offsets in it (Python string indices).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple, TypedDict

from scope_lab._template import TemplateError, TemplateSyntaxError, compile_template
from scope_lab._template._lexer import Token, _Lexer, normalize_newlines

Kind = Literal["text", "variable", "tag", "error"]

_GROUP_KINDS: dict[str, Kind] = {"variable_begin": "variable", "block_begin": "tag",
                                 "comment_begin": "tag"}
_END_KINDS = ("variable_end", "block_end", "comment_end")
_END_DELIMITER = {"variable": re.compile(r"\}\}"), "tag": re.compile(r"[%#]\}")}
_QUOTED = re.compile(r"'([^']*)'")
_OPENED_ON = re.compile(r"the '(\w+)' opened on line (\d+)")
# Constructs whose message quotes nothing: what their text looks like in the source.
_NEEDLES = {"comment": "{#", "parentheses": "(", "tag 'raw'": "raw"}


class Segment(TypedDict):
    """A run of source text and how to paint it."""

    kind: Kind
    start: int
    end: int
    line: int  # 1-based line on which the segment starts
    text: str
    field: int  # which editor box: 0 for a text prompt, the message index for chat


class ErrorInfo(TypedDict):
    """A template error as the editor shows it, located in its box."""

    message: str
    line: int | None
    construct: str | None
    field: int
    start: int  # offsets of the offending segment in the box's source
    end: int


@dataclass(frozen=True, slots=True)
class Highlight:
    """One box's segments, its error (or None) and its input variables (None on error)."""

    segments: list[Segment]
    error: ErrorInfo | None
    variables: list[str] | None


class _Span(NamedTuple):
    kind: Kind
    start: int
    end: int
    line: int


def highlight(source: str, field: int = 0) -> Highlight:
    """Segments, first error and variables of one template source."""
    normalized = normalize_newlines(source)
    spans, lexical = _spans(normalized)
    try:
        variables: list[str] | None = compile_template(source).variables
        error: TemplateError | None = None
    except TemplateError as exc:
        variables, error = None, exc
    info: ErrorInfo | None = None
    if error is not None:
        spans, where = _mark(spans, normalized, error, lexical)
        info = _error_info(error, field, _origin(source, normalized), where)
    return Highlight(_segments(source, normalized, spans, field), info, variables)


def highlight_content(content: str | Sequence[Any]) -> list[Highlight]:
    """One :class:`Highlight` per box: a text prompt, or each chat message's content.

    A chat message's error message starts ``messages[i]:`` as the server words it.
    """
    if isinstance(content, str):
        return [highlight(content)]
    boxes: list[Highlight] = []
    for index, message in enumerate(content):
        text = message.get("content") if isinstance(message, dict) else None
        if not isinstance(text, str):
            error = ErrorInfo(message=f"messages[{index}]: content must be a string",
                              line=None, construct=None, field=index, start=0, end=0)
            boxes.append(Highlight([], error, None))
            continue
        box = highlight(text, index)
        if box.error is not None:
            box.error["message"] = f"messages[{index}]: {box.error['message']}"
        boxes.append(box)
    return boxes


def content_variables(boxes: Sequence[Highlight]) -> list[str] | None:
    """Input variables across boxes in order of first use, or None if any box has an error."""
    names: dict[str, None] = {}
    for box in boxes:
        if box.variables is None:
            return None
        names.update(dict.fromkeys(box.variables))
    return list(names)


def first_error(boxes: Sequence[Highlight]) -> ErrorInfo | None:
    """The error the server would report first (boxes are checked in order)."""
    return next((box.error for box in boxes if box.error is not None), None)


def _spans(source: str) -> tuple[list[_Span], _Span | None]:
    """Spans of the whole source, and the span of the first lexical error if any.

    After a lexical error, lexing resumes past the broken tag so that the rest of
    the template is still highlighted.
    """
    spans: list[_Span] = []
    lexical: _Span | None = None
    offset, line = 0, 1
    while True:
        lexer = _Lexer(source[offset:])
        lexer.line = line
        try:
            tokens = lexer.run()
        except TemplateSyntaxError:
            # The lexer object keeps the tokens read before the error: only it knows
            # where the broken tag starts.
            good, opener = _complete(lexer.tokens)
            spans += _group(good, offset, line)
            start = offset + sum(len(t.value) for t in good)
            kind = _GROUP_KINDS.get(opener.kind, "tag") if opener else "tag"
            end = _tag_end(source, offset + lexer.pos, kind)
            error = _Span("error", start, end, opener.line if opener else lexer.line)
            lexical = lexical or error
            spans.append(error)
            line = error.line + source.count("\n", start, end)
            offset = end
            continue
        spans += _group(tokens, offset, line)
        return _merge_text(spans), lexical


def _complete(tokens: list[Token]) -> tuple[list[Token], Token | None]:
    """The tokens before an unfinished tag, and the token that opened it (if any)."""
    for index in range(len(tokens) - 1, -1, -1):
        kind = tokens[index].kind
        if kind in _GROUP_KINDS:
            return tokens[:index], tokens[index]
        if kind in _END_KINDS or kind == "data" or kind.startswith("raw"):
            break
    return tokens, None


def _tag_end(source: str, pos: int, kind: str) -> int:
    """Where a broken tag ends: after its closing delimiter, or at the end of its line."""
    delimiter = _END_DELIMITER.get(kind, _END_DELIMITER["tag"]).search(source, pos)
    newline = source.find("\n", pos)
    line_end = len(source) if newline < 0 else newline
    if delimiter is not None and delimiter.start() <= line_end:
        return delimiter.end()
    return max(line_end, pos + 1) if pos < len(source) else len(source)


def _group(tokens: list[Token], offset: int, line: int) -> list[_Span]:
    """Tokens into spans: data is text; a tag from its opening to its closing delimiter."""
    spans: list[_Span] = []
    pos = offset
    open_kind: Kind | None = None
    open_start, open_line = 0, line
    for token in tokens:
        end = pos + len(token.value)
        if open_kind is None:
            if token.kind in _GROUP_KINDS:
                open_kind, open_start, open_line = _GROUP_KINDS[token.kind], pos, token.line
            else:  # data, and the raw_begin/raw_end markers, which stand alone
                kind: Kind = "tag" if token.kind.startswith("raw") else "text"
                spans.append(_Span(kind, pos, end, token.line))
        elif token.kind in _END_KINDS:
            spans.append(_Span(open_kind, open_start, end, open_line))
            open_kind = None
        pos = end
    if open_kind is not None:  # unterminated: the parser reports it; it runs to the end
        spans.append(_Span(open_kind, open_start, pos, open_line))
    return spans


def _merge_text(spans: list[_Span]) -> list[_Span]:
    merged: list[_Span] = []
    for span in spans:
        if merged and span.kind == "text" and merged[-1].kind == "text":
            merged[-1] = merged[-1]._replace(end=span.end)
        elif span.end > span.start or span.kind != "text":
            merged.append(span)
    return merged


def _mark(spans: list[_Span], source: str, error: TemplateError,
          lexical: _Span | None) -> tuple[list[_Span], tuple[int, int]]:
    """Turn the span the error is about into an ``error`` span; return spans and its place."""
    if lexical is not None:
        return spans, (lexical.start, lexical.end)
    line = error.line if isinstance(error, TemplateSyntaxError) else None
    if line is None:
        return spans, (0, 0)
    # The construct (or else the message) quotes what to look for: "filter 'upper'",
    # "unexpected 'endif'"; a few constructs are recognised by their look instead.
    construct = error.construct if isinstance(error, TemplateSyntaxError) else None
    quoted = _QUOTED.search(construct or error.message)
    needle = _NEEDLES.get(construct or "") or (quoted.group(1) if quoted else None)
    opened = _OPENED_ON.search(error.message)
    if opened is not None:  # an unclosed block: point at its opening tag
        needle, line = opened.group(1), int(opened.group(2))
    index = _find_tag(spans, source, line, needle)
    if index is not None:
        span = spans[index]
        spans = [*spans[:index], span._replace(kind="error"), *spans[index + 1 :]]
        return spans, (span.start, span.end)
    return _mark_line(spans, source, line)


def _find_tag(spans: list[_Span], source: str, line: int, needle: str | None) -> int | None:
    """The tag on ``line`` that contains ``needle`` (else the first tag on that line)."""
    first: int | None = None
    for index, span in enumerate(spans):
        if span.kind == "text":
            continue
        last_line = span.line + source.count("\n", span.start, span.end)
        if span.line <= line <= last_line:
            if needle is None or needle in source[span.start : span.end]:
                return index
            first = index if first is None else first
    return first


def _mark_line(spans: list[_Span], source: str,
               line: int) -> tuple[list[_Span], tuple[int, int]]:
    """Mark the text of ``line`` as the error (an empty line gives an empty error span)."""
    start = 0
    for _ in range(line - 1):
        newline = source.find("\n", start)
        if newline < 0:
            break
        start = newline + 1
    newline = source.find("\n", start)
    end = len(source) if newline < 0 else newline
    out: list[_Span] = []
    marked = False
    for span in spans:
        if marked or span.kind != "text" or not span.start <= start <= span.end:
            out.append(span)
            continue
        marked = True
        stop = min(end, span.end)
        if span.start < start:
            out.append(span._replace(end=start))
        out.append(_Span("error", start, stop, line))
        if stop < span.end:
            out.append(_Span("text", stop, span.end, line))
    if not marked:
        return spans, (len(source), len(source))
    return out, (start, end)


def _origin(source: str, normalized: str) -> list[int]:
    """For each offset in the normalized source, the offset in the source as given."""
    if source == normalized:
        return []
    origin: list[int] = []
    index = 0
    while index < len(source):
        origin.append(index)
        index += 2 if source.startswith("\r\n", index) else 1
    origin.append(len(source))
    return origin


def _at(origin: list[int], offset: int) -> int:
    return origin[offset] if origin else offset


def _segments(source: str, normalized: str, spans: list[_Span], field: int) -> list[Segment]:
    origin = _origin(source, normalized)
    segments: list[Segment] = []
    for span in spans:
        start, end = _at(origin, span.start), _at(origin, span.end)
        segments.append(Segment(kind=span.kind, start=start, end=end, line=span.line,
                                text=source[start:end], field=field))
    return segments


def _error_info(error: TemplateError, field: int, origin: list[int],
                where: tuple[int, int]) -> ErrorInfo:
    syntax = error if isinstance(error, TemplateSyntaxError) else None
    return ErrorInfo(message=error.message, line=syntax.line if syntax else None,
                     construct=syntax.construct if syntax else None, field=field,
                     start=_at(origin, where[0]), end=_at(origin, where[1]))
