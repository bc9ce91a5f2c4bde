"""Tests for scope_api.templating against the shared vectors in tests/vectors/templates.json."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import hypothesis
import pytest
from hypothesis import strategies as st

from scope_api import templating
from scope_api.templating import (
    MissingVariablesError,
    TemplateError,
    TemplateSyntaxError,
    TemplateValueError,
    _rendered_by_jinja,
    content_variables,
    render,
    render_content,
    validate,
)
from scope_api.templating.validation import _compile

VECTORS_PATH = Path(__file__).resolve().parents[1] / "vectors" / "templates.json"
VECTORS: dict[str, Any] = json.loads(VECTORS_PATH.read_text(encoding="utf-8"))
CASES: list[dict[str, Any]] = VECTORS["cases"]
VARIABLES_CASES: list[dict[str, Any]] = VECTORS["variables_cases"]

ERROR_TYPES = {
    "missing_variables": MissingVariablesError,
    "value": TemplateValueError,
    "syntax": TemplateSyntaxError,
}


def _ids(cases: list[dict[str, Any]]) -> list[str]:
    return [case["name"] for case in cases]


# --------------------------------------------------------------------------- vectors file


def test_vectors_file_is_well_formed() -> None:
    assert VECTORS["version"] == 1
    assert VECTORS["description"]
    for group in (CASES, VARIABLES_CASES):
        names = _ids(group)
        assert len(names) == len(set(names)), "case names must be unique"
    for case in CASES:
        assert isinstance(case["template"], str)
        assert isinstance(case["variables"], dict)
        assert ("expected" in case) != ("error" in case), case["name"]
        if "error" in case:
            assert case["error"]["type"] in ERROR_TYPES, case["name"]
    for case in VARIABLES_CASES:
        assert isinstance(case["template"], str)
        assert isinstance(case["variables"], list)


def test_vectors_cover_every_error_type() -> None:
    types = {case["error"]["type"] for case in CASES if "error" in case}
    assert types == set(ERROR_TYPES)


# --------------------------------------------------------------------------- render vectors


@pytest.mark.parametrize("case", CASES, ids=_ids(CASES))
def test_render_vector(case: dict[str, Any]) -> None:
    template: str = case["template"]
    variables: dict[str, Any] = case["variables"]
    if "expected" in case:
        assert render(template, variables) == case["expected"]
        return

    error = case["error"]
    with pytest.raises(ERROR_TYPES[error["type"]]) as info:
        render(template, variables)
    exc = info.value
    if isinstance(exc, MissingVariablesError):
        assert exc.names == error["names"]
    elif isinstance(exc, TemplateValueError):
        assert exc.name == error["name"]
    elif isinstance(exc, TemplateSyntaxError):
        assert exc.construct == error["construct"]
        if "line" in error:
            assert exc.line == error["line"]
        # Syntax errors are validation errors: validate() refuses the same way.
        with pytest.raises(TemplateSyntaxError) as again:
            validate(template)
        assert again.value.construct == exc.construct
        assert again.value.message == exc.message


@pytest.mark.parametrize(
    "case",
    [case for case in CASES if case.get("error", {}).get("type") != "syntax"],
    ids=lambda case: case["name"],
)
def test_renderable_vectors_validate(case: dict[str, Any]) -> None:
    variables = validate(case["template"])
    assert len(variables) == len(set(variables))
    error = case.get("error", {})
    if error.get("type") == "missing_variables":
        assert set(error["names"]) <= set(variables)
    if error.get("type") == "value":
        # the offending name is either an input or a loop variable
        assert error["name"] in variables or f"for {error['name']} in" in case["template"]


@pytest.mark.parametrize("case", VARIABLES_CASES, ids=_ids(VARIABLES_CASES))
def test_validate_vector(case: dict[str, Any]) -> None:
    assert validate(case["template"]) == case["variables"]


# --------------------------------------------------------------------------- messages


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ x | upper }}", "unsupported construct: filter 'upper' (line 1)"),
        ("Hi\n{{ user.name }}", "unsupported construct: attribute access 'user.name' (line 2)"),
        ('{{ a["b"] }}', "unsupported construct: item access 'a[\"b\"]' (line 1)"),
        ("{% set x = 1 %}", "unsupported construct: tag 'set' (line 1)"),
        (
            "x {# c #}",
            "unsupported construct: comment (line 1): comments {# ... #} are not allowed",
        ),
        (
            "{{ x | default(y) }}",
            "unsupported construct: filter 'default' arguments (line 1): "
            "default takes exactly one string literal",
        ),
        (
            "{% if a %}\nx\n",
            "template syntax error: unexpected end of template, expected 'endif' "
            "to close the 'if' opened on line 1 (line 3)",
        ),
        (
            "{% if a %}{% endfor %}",
            "template syntax error: unexpected 'endfor', expected 'endif' (line 1)",
        ),
        (
            "a\n\n{{ a b }}",
            "template syntax error: expected token 'end of print statement', got 'b' (line 3)",
        ),
    ],
)
def test_syntax_error_messages(template: str, message: str) -> None:
    with pytest.raises(TemplateSyntaxError) as info:
        validate(template)
    assert info.value.message == message
    assert str(info.value) == message


def test_missing_variables_error() -> None:
    with pytest.raises(MissingVariablesError) as info:
        render("{{ b }}{{ a }}{% for x in xs %}{% endfor %}", {})
    assert info.value.names == ["b", "a", "xs"]
    assert info.value.message == "missing variables: b, a, xs"


def test_value_error_message() -> None:
    with pytest.raises(TemplateValueError) as info:
        render("{% for x in items %}{% endfor %}", {"items": "abc"})
    assert info.value.name == "items"
    assert info.value.message == "variable 'items' must be a list, got string"


def test_error_hierarchy() -> None:
    for cls in (TemplateSyntaxError, MissingVariablesError, TemplateValueError):
        assert issubclass(cls, TemplateError)
    assert issubclass(TemplateError, Exception)


def test_tuple_is_iterable_like_a_list() -> None:
    assert render("{% for x in xs %}{{ x }}{% endfor %}|{{ xs }}", {"xs": (1, 2)}) == "12|[1,2]"


def test_missing_state_does_not_leak_between_renders() -> None:
    with pytest.raises(MissingVariablesError):
        render("{{ a }}", {})
    with pytest.raises(TemplateValueError):
        render("{{ a }}{% for x in s %}{% endfor %}", {"s": 1})
    assert render("{{ a }}", {"a": 1}) == "1"
    with pytest.raises(MissingVariablesError) as info:
        render("{{ c }}", {})
    assert info.value.names == ["c"]


def test_compiled_templates_are_cached() -> None:
    source = "cache probe {{ unique_cache_probe_variable }}"
    render(source, {"unique_cache_probe_variable": 1})
    hits = templating._compile.cache_info().hits
    assert validate(source) == ["unique_cache_probe_variable"]
    assert render(source, {"unique_cache_probe_variable": 2}) == "cache probe 2"
    assert templating._compile.cache_info().hits == hits + 2


def test_non_string_source_is_rejected() -> None:
    with pytest.raises(TypeError):
        validate(123)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- sandbox


@pytest.mark.parametrize(
    ("template", "construct"),
    [
        ("{{ ''.__class__ }}", "attribute access '\"\".__class__'"),
        ("{{ cycler.__init__ }}", "attribute access 'cycler.__init__'"),
        ("{{ x.__class__.__mro__ }}", "attribute access 'x.__class__.__mro__'"),
        ("{{ x['__class__'] }}", "item access 'x[\"__class__\"]'"),
        ("{{ x.__class__.__subclasses__() }}", "function call 'x.__class__.__subclasses__'"),
        (
            "{{ self._TemplateReference__context }}",
            "attribute access 'self._TemplateReference__context'",
        ),
        ("{{ lipsum.__globals__ }}", "attribute access 'lipsum.__globals__'"),
        (
            "{% for c in ''.__class__.__mro__ %}{% endfor %}",
            "attribute access '\"\".__class__.__mro__'",
        ),
        ("{% if x.__class__ %}{% endif %}", "attribute access 'x.__class__'"),
        ("{{ x | attr('__class__') }}", "filter 'attr'"),
        ("{% set x = namespace() %}", "tag 'set'"),
    ],
)
def test_sandbox_escape_attempts_are_refused(template: str, construct: str) -> None:
    with pytest.raises(TemplateSyntaxError) as info:
        validate(template)
    assert info.value.construct == construct
    with pytest.raises(TemplateSyntaxError):
        render(template, {"x": "value"})


def test_jinja_globals_are_not_reachable() -> None:
    assert validate("{{ cycler }}{{ range }}{{ namespace }}") == ["cycler", "range", "namespace"]
    with pytest.raises(MissingVariablesError) as info:
        render("{{ cycler }}{{ range }}{{ namespace }}{{ lipsum }}", {})
    assert info.value.names == ["cycler", "range", "namespace", "lipsum"]


def test_python_objects_are_only_printed() -> None:
    class Secret:
        def __str__(self) -> str:
            return "secret-object"

    assert render("{{ x }}", {"x": Secret()}) == "secret-object"


# --------------------------------------------------------------------------- chat content


CHAT: list[dict[str, str]] = [
    {"role": "system", "content": "You are {{ persona }}."},
    {"role": "user", "content": "{% if context %}{{ context }}\n{% endif %}{{ question }}"},
    {"role": "assistant", "content": "Noted, {{ persona }}."},
]


def test_content_variables_text() -> None:
    assert content_variables("{{ b }} {{ a }}") == ["b", "a"]


def test_content_variables_chat_union_in_order() -> None:
    assert content_variables(CHAT) == ["persona", "context", "question"]
    assert content_variables([]) == []


def test_content_variables_error_names_message() -> None:
    messages = [
        {"role": "system", "content": "ok {{ a }}"},
        {"role": "user", "content": "bad {{ a | upper }}"},
    ]
    with pytest.raises(TemplateSyntaxError) as info:
        content_variables(messages)
    assert info.value.message == "messages[1]: unsupported construct: filter 'upper' (line 1)"
    assert info.value.construct == "filter 'upper'"
    assert info.value.line == 1


def test_render_content_text() -> None:
    assert render_content("Hi {{ name }}", {"name": "Ada"}) == "Hi Ada"


def test_render_content_chat() -> None:
    original = [dict(message) for message in CHAT]
    result = render_content(CHAT, {"persona": "a pirate", "question": "Why?"})
    assert result == [
        {"role": "system", "content": "You are a pirate."},
        {"role": "user", "content": "Why?"},
        {"role": "assistant", "content": "Noted, a pirate."},
    ]
    assert original == CHAT  # input not mutated


def test_render_content_keeps_extra_message_keys() -> None:
    messages = [{"role": "user", "content": "{{ a }}", "name": "alice"}]
    assert render_content(messages, {"a": 1}) == [{"role": "user", "content": "1", "name": "alice"}]


def test_render_content_reports_all_missing_across_messages() -> None:
    messages = [
        {"role": "system", "content": "{{ b }} {{ a }}"},
        {"role": "user", "content": "{{ c }} {{ a }}"},
        {"role": "user", "content": "{{ d | default('x') }}"},
    ]
    with pytest.raises(MissingVariablesError) as info:
        render_content(messages, {})
    assert info.value.names == ["b", "a", "c"]


def test_render_content_syntax_error_wins_over_missing() -> None:
    messages = [
        {"role": "system", "content": "{{ missing }}"},
        {"role": "user", "content": "{% if a %}"},
    ]
    with pytest.raises(TemplateSyntaxError) as info:
        render_content(messages, {})
    assert info.value.message.startswith("messages[1]: template syntax error: ")


def test_render_content_value_error_names_message() -> None:
    messages = [
        {"role": "system", "content": "hi"},
        {"role": "user", "content": "{% for x in xs %}{% endfor %}"},
    ]
    with pytest.raises(TemplateValueError) as info:
        render_content(messages, {"xs": {"a": 1}})
    assert info.value.name == "xs"
    assert info.value.message == "messages[1]: variable 'xs' must be a list, got object"


def test_render_content_rejects_non_string_content() -> None:
    bad: Any = [{"role": "user", "content": 5}]
    with pytest.raises(TemplateError, match=r"messages\[0\]: content must be a string"):
        render_content(bad, {})
    with pytest.raises(TemplateError, match=r"messages\[0\]"):
        content_variables(bad)


# --------------------------------------------------------------------------- limits


def test_nesting_limits() -> None:
    loops = "{% for a in xs %}" * 16 + "x" + "{% endfor %}" * 16
    assert render(loops, {"xs": [1]}) == "x"
    with pytest.raises(TemplateSyntaxError, match="loops nested more than 16 levels deep"):
        validate("{% for a in xs %}" * 17 + "{% endfor %}" * 17)
    with pytest.raises(TemplateSyntaxError, match="blocks nested more than 50 levels deep"):
        validate("{% if a %}" * 51 + "{% endif %}" * 51)


def test_a_render_may_loop_100000_times_in_all_and_no_more() -> None:
    """Nested loops multiply: three over 300 items would run 27 million times. The count
    is of every iteration of every loop, charged as each loop starts."""
    nested = "{% for a in xs %}{% for b in xs %}{% for c in xs %}{% endfor %}{% endfor %}" \
             "{% endfor %}"
    assert render(nested, {"xs": list(range(46))}) == ""  # 46 + 46² + 46³ = 99,498
    with pytest.raises(templating.RenderLimitError,
                       match="would loop more than 100,000 times in all"):
        render(nested, {"xs": list(range(300))})
    flat = "{% for a in xs %}.{% endfor %}"
    assert len(render(flat, {"xs": [0] * 100_000})) == 100_000
    with pytest.raises(templating.RenderLimitError):
        render(flat, {"xs": [0] * 100_001})
    # Each render has its own count: a chat's messages, and one render after another.
    chat = [{"role": "user", "content": flat}, {"role": "user", "content": flat}]
    assert [len(m["content"]) for m in render_content(chat, {"xs": [0] * 60_000})] == \
        [60_000, 60_000]


def test_a_render_may_print_4_million_characters_and_no_more() -> None:
    big = "x" * 1_000_000
    assert len(render("{{ a }}{{ a }}{{ a }}{{ a }}", {"a": big})) == 4_000_000
    with pytest.raises(templating.RenderLimitError,
                       match="longer than 4,000,000 characters"):
        render("{% for a in xs %}{{ big }}{% endfor %}", {"xs": [0] * 5, "big": big})


@pytest.mark.parametrize(
    "template",
    ["{{ " + "(" * 5000 + "a" + ")" * 5000 + " }}", "{{ a" + ".b" * 20000 + " }}"],
    ids=["parentheses", "attributes"],
)
def test_pathological_templates_fail_cleanly(template: str) -> None:
    with pytest.raises(TemplateSyntaxError):
        validate(template)


# ------------------------------------------------------------- text-and-names fast path

_NAMES = st.sampled_from(["a", "b", "name", "loop", "self", "_x1"])
_TEXT = st.text(st.characters(codec="utf-8", exclude_characters="{}%#"), max_size=12)
_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8)
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner,
                                                                 max_size=3),
    max_leaves=6)


@st.composite
def _plain_templates(draw: st.DrawFn) -> str:
    pieces = draw(st.lists(st.one_of(_TEXT, _NAMES.map(lambda n: f"{{{{ {n} }}}}"),
                                     _NAMES.map(lambda n: f"{{{{{n}}}}}")), max_size=8))
    return "".join(pieces)


def _outcome(function: Any, *args: Any) -> tuple[str, Any]:
    try:
        return "ok", function(*args)
    except TemplateError as exc:
        return type(exc).__name__, (str(exc), getattr(exc, "names", None))


@hypothesis.settings(max_examples=300, deadline=None)
@hypothesis.given(_plain_templates(), st.dictionaries(_NAMES, _VALUES, max_size=6))
def test_text_and_names_render_as_jinja_renders_them(source: str,
                                                     variables: dict[str, Any]) -> None:
    """Templates of text and ``{{ name }}`` only skip Jinja: same text, same errors."""
    compiled = _compile(source)
    assert compiled.parts is not None, source
    assert _outcome(render, source, variables) == _outcome(
        _rendered_by_jinja, compiled.template, variables)


def test_only_text_and_names_skip_jinja() -> None:
    assert _compile("Hi {{ name }}!\r\nBye").parts == (
        (False, "Hi "), (True, "name"), (False, "!\nBye"))
    for source in ('{{ name | default("x") }}', "{% if a %}x{% endif %}",
                   "{% for x in xs %}{{ x }}{% endfor %}"):
        assert _compile(source).parts is None, source


def test_the_output_limit_holds_on_the_fast_path() -> None:
    with pytest.raises(templating.RenderLimitError):
        render("{{ a }}{{ a }}", {"a": "x" * 2_000_001})
    assert len(render("{{ a }}{{ a }}", {"a": "x" * 2_000_000})) == 4_000_000
