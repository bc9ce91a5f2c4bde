"""Highlighting a template as the editor paints it: segments, variables, located errors."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from scope_lab._template import TemplateError, TemplateSyntaxError, compile_template
from scope_lab.widgets._highlight import (
    content_variables,
    first_error,
    highlight,
    highlight_content,
)

VECTORS = json.loads((Path(__file__).resolve().parents[2] / "vectors" / "templates.json")
                     .read_text("utf-8"))
TEMPLATES = sorted({c["template"] for c in VECTORS["cases"] + VECTORS["variables_cases"]
                    if isinstance(c["template"], str)})


def kinds(source: str) -> list[tuple[str, str]]:
    return [(s["kind"], s["text"]) for s in highlight(source).segments]


def marked(source: str) -> str:
    error = highlight(source).error
    assert error is not None
    return source[error["start"]:error["end"]]


def test_text_variables_and_tags_become_segments() -> None:
    source = "Hi {{ name }}!\n{% for t in topics %}- {{ t }}\n{% endfor %}"
    assert kinds(source) == [
        ("text", "Hi "), ("variable", "{{ name }}"), ("text", "!\n"),
        ("tag", "{% for t in topics %}"), ("text", "- "), ("variable", "{{ t }}"),
        ("text", "\n"), ("tag", "{% endfor %}"),
    ]
    box = highlight(source)
    assert box.error is None
    assert box.variables == ["name", "topics"]  # the loop variable t is not an input
    assert [(s["start"], s["end"], s["line"]) for s in box.segments[:4]] == [
        (0, 3, 1), (3, 13, 1), (13, 15, 1), (15, 36, 2)]


def test_a_closing_brace_inside_a_string_does_not_end_the_tag() -> None:
    assert kinds('{{ x | default("}}") }} ok') == [
        ("variable", '{{ x | default("}}") }}'), ("text", " ok")]


def test_plain_text_and_empty_source() -> None:
    assert kinds("no variables here") == [("text", "no variables here")]
    assert highlight("").segments == []
    assert highlight("").variables == []


def test_a_refused_construct_is_marked_where_it_is_with_line_and_construct() -> None:
    source = "Dear {{ name }},\n{{ topic | upper }} and {{ more }}"
    box = highlight(source)
    assert box.variables is None
    assert box.error == {
        "message": "unsupported construct: filter 'upper' (line 2)", "line": 2,
        "construct": "filter 'upper'", "field": 0, "start": 17, "end": 36}
    assert marked(source) == "{{ topic | upper }}"
    # The rest is still highlighted around the error.
    assert [k for k, _ in kinds(source)] == ["text", "variable", "text", "error", "text",
                                             "variable"]


def test_the_tag_named_by_the_error_is_marked_not_the_first_on_its_line() -> None:
    assert marked("{{ a }} {{ b.c }}") == "{{ b.c }}"
    assert marked("{% if a %}{% for x in y %}{% endif %}") == "{% endif %}"


def test_an_unclosed_block_marks_the_tag_that_opened_it() -> None:
    box = highlight("{% if vip %}\nDear {{ name }}\n")
    assert box.error is not None
    assert box.error["line"] == 3  # where the server says the template ended
    assert "expected 'endif'" in box.error["message"]
    assert marked("{% if vip %}\nDear {{ name }}\n") == "{% if vip %}"


def test_an_unterminated_tag_runs_to_the_end_and_is_the_error() -> None:
    assert kinds("Hi {{ name") == [("text", "Hi "), ("error", "{{ name")]


def test_a_lexical_error_marks_its_tag_and_the_rest_is_still_highlighted() -> None:
    source = "a\n{{ x ! }} b {{ y }}\n{% if z %}{% endif %}"
    box = highlight(source)
    assert box.error is not None
    assert box.error["line"] == 2
    assert "unexpected char '!'" in box.error["message"]
    assert kinds(source) == [
        ("text", "a\n"), ("error", "{{ x ! }}"), ("text", " b "), ("variable", "{{ y }}"),
        ("text", "\n"), ("tag", "{% if z %}"), ("tag", "{% endif %}")]
    assert [s["line"] for s in box.segments] == [1, 2, 2, 2, 2, 3, 3]


def test_windows_line_endings_keep_offsets_in_the_source_as_given() -> None:
    source = "a\r\nb {{ c }}\r\n{{ d | upper }}"
    box = highlight(source)
    assert "".join(s["text"] for s in box.segments) == source
    assert all(source[s["start"]:s["end"]] == s["text"] for s in box.segments)
    assert box.error is not None
    assert (box.error["line"], marked(source)) == (3, "{{ d | upper }}")


def test_offsets_count_characters_beyond_the_basic_plane() -> None:
    source = "héllo 😀 {{ x }}"
    [text, variable] = highlight(source).segments
    assert (text["end"], variable["text"]) == (8, "{{ x }}")


@pytest.mark.parametrize("source", TEMPLATES)
def test_every_shared_vector_is_partitioned_and_reports_the_compilers_error(
        source: str) -> None:
    box = highlight(source)
    assert "".join(s["text"] for s in box.segments) == source
    assert all(source[s["start"]:s["end"]] == s["text"] for s in box.segments)
    try:
        expected: TemplateError | None = None
        variables: list[str] | None = compile_template(source).variables
    except TemplateError as exc:
        expected, variables = exc, None
    assert box.variables == variables
    if expected is None:
        assert box.error is None
        assert "error" not in {s["kind"] for s in box.segments}
        return
    assert box.error is not None
    assert box.error["message"] == expected.message
    if isinstance(expected, TemplateSyntaxError) and expected.line is not None:
        [error_segment] = [s for s in box.segments if s["kind"] == "error"]
        assert (error_segment["start"], error_segment["end"]) == (box.error["start"],
                                                                  box.error["end"])
        assert error_segment["text"].strip()


def test_chat_messages_are_one_box_each_and_errors_name_their_message() -> None:
    content: list[dict[str, Any]] = [
        {"role": "system", "content": "Be {{ tone }}."},
        {"role": "user", "content": "Hi {{ name }}\n{{ name | title }}"},
    ]
    boxes = highlight_content(content)
    assert [{s["field"] for s in box.segments} for box in boxes] == [{0}, {1}]
    error = first_error(boxes)
    assert error is not None
    assert error["message"] == "messages[1]: unsupported construct: filter 'title' (line 2)"
    assert (error["field"], error["line"]) == (1, 2)
    assert content_variables(boxes) is None

    content[1]["content"] = "Hi {{ name }}, {{ tone }}"
    boxes = highlight_content(content)
    assert first_error(boxes) is None
    assert content_variables(boxes) == ["tone", "name"]


def test_a_chat_message_without_text_content_is_an_error() -> None:
    boxes = highlight_content([{"role": "user", "content": 3}])
    error = first_error(boxes)
    assert error is not None
    assert error["message"] == "messages[0]: content must be a string"
