"""The SDK's offline template renderer: shared vectors, chat content, and agreement with
the server's renderer on generated templates (tests may import scope_api; the SDK may not).
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest

from scope_api import templating as server
from scope_lab._template import (
    MissingVariablesError,
    TemplateError,
    TemplateSyntaxError,
    TemplateValueError,
    compile_template,
    content_variables,
    render_content,
)

VECTORS = json.loads(
    (Path(__file__).resolve().parents[1] / "vectors" / "templates.json").read_text("utf-8")
)
CASES: list[dict[str, Any]] = VECTORS["cases"]
VARIABLES_CASES: list[dict[str, Any]] = VECTORS["variables_cases"]
ERROR_TYPES: dict[str, type[TemplateError]] = {
    "missing_variables": MissingVariablesError,
    "value": TemplateValueError,
    "syntax": TemplateSyntaxError,
}


def render(source: str, variables: Mapping[str, Any]) -> str:
    return compile_template(source).render(variables)


# --------------------------------------------------------------------------- shared vectors


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_render_vector(case: dict[str, Any]) -> None:
    if "expected" in case:
        assert render(case["template"], case["variables"]) == case["expected"]
        return
    error = case["error"]
    with pytest.raises(ERROR_TYPES[error["type"]]) as info:
        render(case["template"], case["variables"])
    exc = info.value
    if isinstance(exc, MissingVariablesError):
        assert exc.names == error["names"]
    elif isinstance(exc, TemplateValueError):
        assert exc.name == error["name"]
    elif isinstance(exc, TemplateSyntaxError):
        assert (exc.construct, exc.line) == (error["construct"], error["line"])


@pytest.mark.parametrize(
    "case",
    [case for case in CASES if case.get("error", {}).get("type") == "syntax"],
    ids=lambda case: case["name"],
)
def test_syntax_vectors_are_refused_at_compile_time(case: dict[str, Any]) -> None:
    with pytest.raises(TemplateSyntaxError):
        compile_template(case["template"])


@pytest.mark.parametrize("case", VARIABLES_CASES, ids=[case["name"] for case in VARIABLES_CASES])
def test_variables_vector(case: dict[str, Any]) -> None:
    assert compile_template(case["template"]).variables == case["variables"]


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ x | upper }}", "unsupported construct: filter 'upper' (line 1)"),
        ("x {# c #}",
         "unsupported construct: comment (line 1): comments {# ... #} are not allowed"),
        (
            "{% if a %}\nx\n",
            "template syntax error: unexpected end of template, expected 'endif' "
            "to close the 'if' opened on line 1 (line 3)",
        ),
        ("a\n\n{{ a b }}", "template syntax error: expected token 'end of print statement', "
                           "got 'b' (line 3)"),
    ],
)
def test_syntax_error_messages(template: str, message: str) -> None:
    with pytest.raises(TemplateSyntaxError) as info:
        compile_template(template)
    assert str(info.value) == info.value.message == message


def test_missing_and_value_error_messages() -> None:
    with pytest.raises(MissingVariablesError, match=r"^missing variables: b, a, xs$"):
        render("{{ b }}{{ a }}{% for x in xs %}{% endfor %}", {})
    with pytest.raises(TemplateValueError, match=r"^variable 'items' must be a list, got string$"):
        render("{% for x in items %}{% endfor %}", {"items": "abc"})


def test_value_error_aborts_even_with_missing_variables_before_it() -> None:
    with pytest.raises(TemplateValueError):
        render("{{ missing }}{% for x in n %}{% endfor %}", {"n": 3})


def test_errors_form_one_tree() -> None:
    for cls in (TemplateSyntaxError, MissingVariablesError, TemplateValueError):
        assert issubclass(cls, TemplateError)


def test_non_string_source_is_a_type_error() -> None:
    with pytest.raises(TypeError):
        compile_template(["{{ a }}"])  # type: ignore[arg-type]


# --------------------------------------------------------------------------- behaviour


def test_compiled_templates_are_cached_and_reusable() -> None:
    source = "{% for r in rows %}{{ r }};{% endfor %}{{ tail | default('.') }}"
    template = compile_template(source)
    assert compile_template(source) is template
    assert template.render({"rows": [1, 2]}) == "1;2;."
    assert template.render({"rows": [], "tail": "!"}) == "!"
    with pytest.raises(MissingVariablesError):
        template.render({})
    assert template.render({"rows": ["a"]}) == "a;."  # no state left from the failure


def test_variables_property_is_a_copy() -> None:
    template = compile_template("{{ a }}{{ b }}")
    template.variables.append("c")
    assert template.variables == ["a", "b"]


def test_rendering_does_not_mutate_variables() -> None:
    variables = {"xs": [[1], [2, 3]], "o": {"k": [None]}}
    snapshot = json.dumps(variables)
    render("{% for x in xs %}{% for y in x %}{{ y }}{% endfor %}{% endfor %}{{ o }}", variables)
    assert json.dumps(variables) == snapshot


@pytest.mark.parametrize(
    ("template", "variables", "expected"),
    [
        ("a\r\n{{ x | default('p\r\nq') }}\rb", {}, "a\np\nq\nb"),  # text and default
        ("{{ x }}", {"x": "1\r\n2\r"}, "1\r\n2\r"),  # values are never changed
        ("\r\n{% if t %}\r\n{% endif %}\r\n", {"t": 1}, "\n\n\n"),
    ],
)
def test_line_endings(template: str, variables: dict[str, Any], expected: str) -> None:
    assert render(template, variables) == expected


@pytest.mark.parametrize("gap", ["", " ", "\t", "\n", " \n  ", "\n\n"])
def test_whitespace_around_tags_is_kept(gap: str) -> None:
    template = f"{gap}{{% for x in xs %}}{gap}{{{{ x }}}}{gap}{{% endfor %}}{gap}"
    assert render(template, {"xs": [1, 2]}) == f"{gap}{gap}1{gap}{gap}2{gap}{gap}"


def test_mapping_that_is_not_a_dict() -> None:
    from types import MappingProxyType

    assert render("{{ a }}{% if b %}B{% endif %}", MappingProxyType({"a": 1, "b": 0})) == "1"


def test_nesting_limits() -> None:
    loops = "{% for a in a %}" * 16 + "{{ a }}" + "{% endfor %}" * 16
    nested: Any = "deep"
    for _ in range(16):
        nested = [nested]
    assert render("{% if t %}" * 34 + loops + "{% endif %}" * 34, {"t": 1, "a": nested}) == "deep"
    with pytest.raises(TemplateSyntaxError, match="loops nested more than 16 levels deep"):
        compile_template("{% for a in xs %}" * 17 + "{% endfor %}" * 17)
    with pytest.raises(TemplateSyntaxError, match="blocks nested more than 50 levels deep"):
        compile_template("{% if a %}" * 51 + "{% endif %}" * 51)


@pytest.mark.parametrize(
    "template",
    ["{{ " + "(" * 5000 + "a" + ")" * 5000 + " }}", "{{ a" + ".b" * 20000 + " }}",
     "{{ " + "[" * 3000 + "]" * 3000 + " }}"],
    ids=["parentheses", "attributes", "lists"],
)
def test_pathological_templates_fail_cleanly(template: str) -> None:
    with pytest.raises(TemplateSyntaxError, match="nested too deeply"):
        compile_template(template)


def test_package_imports_neither_jinja_nor_the_server() -> None:
    code = (
        "import sys\n"
        "from scope_lab._template import compile_template\n"
        "assert compile_template('{{ a }}').render({'a': 1}) == '1'\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('jinja2', 'scope_api')))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True, timeout=60)
    assert result.stdout.strip() == "[]"


# --------------------------------------------------------------------------- chat content

CHAT: list[dict[str, Any]] = [
    {"role": "system", "content": "You are {{ persona }}."},
    {"role": "user", "content": "{% if context %}{{ context }}\n{% endif %}{{ question }}",
     "name": "ada"},
    {"role": "assistant", "content": "Noted, {{ persona }}."},
]


def test_content_variables() -> None:
    assert content_variables("{{ b }} {{ a }}") == ["b", "a"]
    assert content_variables(CHAT) == ["persona", "context", "question"]
    assert content_variables([]) == []


def test_render_content_text_and_chat() -> None:
    assert render_content("Hi {{ name }}", {"name": "Ada"}) == "Hi Ada"
    before = json.dumps(CHAT)
    assert render_content(CHAT, {"persona": "a pirate", "question": "Why?"}) == [
        {"role": "system", "content": "You are a pirate."},
        {"role": "user", "content": "Why?", "name": "ada"},
        {"role": "assistant", "content": "Noted, a pirate."},
    ]
    assert json.dumps(CHAT) == before


def test_render_content_lists_every_missing_name_across_messages() -> None:
    messages = [
        {"role": "system", "content": "{{ b }} {{ a }}"},
        {"role": "user", "content": "{{ c }} {{ a }}"},
        {"role": "user", "content": "{{ d | default('x') }}"},
    ]
    with pytest.raises(MissingVariablesError) as info:
        render_content(messages, {})
    assert info.value.names == ["b", "a", "c"]


def test_render_content_errors_name_the_message() -> None:
    bad_syntax = [{"role": "system", "content": "{{ missing }}"},
                  {"role": "user", "content": "ok\n{{ a | upper }}"}]
    with pytest.raises(TemplateSyntaxError) as syntax:
        render_content(bad_syntax, {})  # syntax errors win over missing variables
    assert (syntax.value.message, syntax.value.construct, syntax.value.line) == (
        "messages[1]: unsupported construct: filter 'upper' (line 2)", "filter 'upper'", 2)
    with pytest.raises(TemplateSyntaxError, match=r"^messages\[1\]: "):
        content_variables(bad_syntax)
    loop = [{"role": "system", "content": "hi"},
            {"role": "user", "content": "{% for x in xs %}{% endfor %}"}]
    with pytest.raises(TemplateValueError) as value:
        render_content(loop, {"xs": {"a": 1}})
    assert value.value.name == "xs"
    assert value.value.message == "messages[1]: variable 'xs' must be a list, got object"
    not_text: Any = [{"role": "user", "content": 5}]
    with pytest.raises(TemplateError, match=r"^messages\[0\]: content must be a string$"):
        render_content(not_text, {})


# --------------------------------------------------------------------------- differential

NAMES = ["a", "b", "items", "rows", "loop", "x"]
VALUES: list[Any] = ["Ada", "", "ü\r\n{{ a }}", 0, 7, -1, 0.0, 2.5, 1e16, True, False, None, [],
                     {}, {"k": [1, None], "é": "v"}, [1, "a", None], [[1, 2], [], ["z"]],
                     [{"n": 1}], ["", 0, [0]], (1, 2)]
DEFAULTS = ['"d"', "'\"'", "''", "'{{ a }}'"]
TEXT = ["Hi ", "\n", "  ", "\r\n", "é🎉", "{ ", " }", "%", "#", "}{ ", "-"]


def _tag(inside: str) -> str:
    return "{% " + inside + " %}"


def _print(inside: str) -> str:
    return "{{ " + inside + " }}"


def _output(rng: random.Random, names: list[str]) -> str:
    name = rng.choice(names)
    inner = name if rng.random() < 0.7 else f"{name} | default({rng.choice(DEFAULTS)})"
    return rng.choice(["{{ %s }}", "{{%s}}", "{{\n%s\t}}"]) % inner


def _subset_body(rng: random.Random, depth: int, loop_vars: list[str]) -> str:
    names = NAMES + loop_vars
    parts = []
    for _ in range(rng.randint(0, 4)):
        roll = rng.random()
        if roll < 0.3:
            parts.append(rng.choice(TEXT))
        elif roll < 0.6 or depth >= 3:
            parts.append(_output(rng, names))
        elif roll < 0.8:
            parts.append(_tag("if " + rng.choice(names)))
            parts.append(_subset_body(rng, depth + 1, loop_vars))
            for _ in range(rng.randint(0, 2)):
                parts.append(_tag("elif " + rng.choice(names)))
                parts.append(_subset_body(rng, depth + 1, loop_vars))
            if rng.random() < 0.5:
                parts.append("{% else %}" + _subset_body(rng, depth + 1, loop_vars))
            parts.append("{% endif %}")
        else:
            target = rng.choice(["x", "y", "row", "loop"])
            colon = rng.choice(["", "", ":"])  # Jinja (and so the subset) allows "xs: %}"
            parts.append(_tag(f"for {target} in {rng.choice(names)}{colon}"))
            parts.append(_subset_body(rng, depth + 1, [*loop_vars, target]))
            parts.append("{% endfor %}")
    return "".join(parts)


def _subset_case(rng: random.Random) -> tuple[str, dict[str, Any]]:
    variables = {name: rng.choice(VALUES) for name in NAMES if rng.random() < 0.75}
    return _subset_body(rng, 0, []), variables


GAPS = [" ", "\n", "\r\n "]
FILTER_ARGUMENTS = ["", '("q")', "(y)", "()", '("a", true)', '("a" "b")']
EXPRESSION_ATOMS = ["a", "b", "café", "loop", "'s'", '"d q"', "1", "2.5", "0x1F", "true", "None"]


def _expression(rng: random.Random, depth: int = 0) -> str:
    atom = rng.choice(EXPRESSION_ATOMS)
    if depth < 2:
        roll = rng.randrange(9)
        sub = _expression(rng, depth + 1)
        atom = [atom, f"({sub})", f"[{sub}, {atom}]", f"{{{atom}: {sub}}}", f"{atom}.b",
                f"{atom}[{rng.choice([sub, '1:2', '::2'])}]", f"{atom}({sub}, k=1)",
                f"{atom} | {rng.choice(['default', 'upper'])}{rng.choice(FILTER_ARGUMENTS)}",
                f"{atom} is {rng.choice(['defined', 'not none', 'sameas b'])}"][roll]
    if rng.random() < 0.3:
        operator = rng.choice(["+", "**", "~", "and", "or", "==", "in", "not in", "if"])
        atom = f"{atom}{rng.choice(GAPS)}{operator} {rng.choice(EXPRESSION_ATOMS)}"
    return rng.choice(["", "not ", "-"]) + atom if rng.random() < 0.2 else atom


JUNK = ["{{", "}}", "{%", "%}", "+%}", "{#", "#}", " ", "\n", "\r", "t", "-", "+", "a", "xs",
        "if", "for", "in", "else", "endif", "endfor", "raw", "set", "'s'", "'a\\n'", "1", "|",
        ".", ",", "(", ")", "[", "]", "{", "}", ":", "=", "€", "·", "{{ a }}", "{% if a %}",
        "{% endif %}", "{% for x in xs %}", "{% endfor %}"]


def _invalid_case(rng: random.Random) -> tuple[str, dict[str, Any]]:
    prefix = rng.choice(["", "x\n", "\n\n", "{% if a %}\n"])
    suffix = "{% endif %}" if prefix.startswith("{%") else ""
    roll = rng.random()
    if roll < 0.3:
        body = "".join(rng.choice(JUNK) for _ in range(rng.randint(1, 12)))
    elif roll < 0.6:
        body = _print(_expression(rng))
    elif roll < 0.8:
        body = _tag("if " + _expression(rng)) + "y" + _tag("endif")
    else:
        target = rng.choice(["x", "k, v", "(k)", "x,", "in", "1"])
        body = _tag(f"for {target} in {_expression(rng)}") + "{{ x }}" + _tag("endfor")
    return prefix + body + suffix, {"a": 1, "xs": [1, 2], "b": "B"}


def _outcome(render_fn: Callable[[], str]) -> tuple[Any, ...]:
    try:
        return ("ok", render_fn())
    except (TemplateError, server.TemplateError) as exc:
        return (type(exc).__name__, exc.message, getattr(exc, "construct", None),
                getattr(exc, "line", None), getattr(exc, "names", None), getattr(exc, "name", None))


EDGE_CASES = [
    "{% if a +%}{% endif %}", "{{+ a }}", "{% if a %}{%+ endif %}", "{{ a -}}\n", "x {#- c -#}",
    "{#", "{# never closed", "{% raw %}{{ x }}", "{%- raw -%}{%- endraw -%}", "{% endraw %}",
    "{{ (a }}", "{{ a ) }}", "{{ a ! }}", "{{ a\n.b }}", "{{ a[\n0] }}", "{{ a.0 }}", "{{ a[] }}",
    "{{ x | default ('p') }}", "{{ x|default(('p')) }}", "{{ x | default('p',) }}",
    "{{ x | default(*a) }}", "{{ x | default(**a) }}", "{{ f(*a, *b) }}", "{{ a, }}", "{{ }}",
    "{% if a: %}1{% elif b: %}2{% else: %}3{% endif %}", "{% for x in xs: %}{{ x }}{% endfor %}",
    "{% for in in xs %}{% endfor %}", "{% for x in xs if x recursive %}{% endfor %}",
    "{% for 1 in xs %}{% endfor %}", "{% for (a, b) in xs %}{% endfor %}", "{% for x in %}",
    "{% if %}", "{% %}", "{% 1 %}", "{% endif x %}", "{% if a %}{% else x %}{% endif %}",
    "{% if a %}{% endif x %}", "{{ a·b }}", "{{ ·a }}", "{{ 1.٣ }}", "{{ 1٣ }}", "{{ a€ }}",
    "{{ 0b2 }}", "{{ 1__0 }}", "{{ 1_0 }}", "{{ 1.5e3 }}", "{{ x is not defined }}",
    "{{ x is is }}", "{{ not }}", "{{ and }}", "{% if or %}{% endif %}", "{{ if }}",
    "{{ a if b }}", "{{ 'a' ~ 'b' }}", "{{ a not in b }}", "{{ a < b < c }}", "{{ -a.b }}",
    "{{ a | b.c }}", "{{ f(k=1)(2) }}", "{{ a[1:2:3] }}", "{{ a[::] }}", "{{ {'a': 1,} }}",
    "a\r\r{% if b %}", "a\r\n{% for x in %}", "{{ a }}\r{{ b c }}", "{{ café |default('é') }}",
    "{% for x in xs %}{% else %}{% endfor %}", "{% for x in xs %}{% elif y %}{% endfor %}",
    "{{ x\n| upper\n| default('a') }}", "{{ x\n| default('a')\n| default('b') }}",
    "{{ x\n.y\n| default(\n'a') }}", "{% if a\n+\nb\n+ c %}{% endif %}",
]


@pytest.mark.parametrize("source", EDGE_CASES)
def test_edge_cases_agree_with_the_server(source: str) -> None:
    variables = {"a": 1, "b": [], "xs": [0], "x": "X"}
    expected = _outcome(lambda: server.render(source, variables))
    assert _outcome(lambda: render(source, variables)) == expected


@pytest.mark.parametrize(
    ("generate", "seed", "count"),
    [(_subset_case, 20261126, 400), (_invalid_case, 5, 400)],
    ids=["subset", "invalid"],
)
def test_agrees_with_the_server_renderer(
    generate: Callable[[random.Random], tuple[str, dict[str, Any]]], seed: int, count: int
) -> None:
    rng = random.Random(seed)
    kinds: set[str] = set()
    for _ in range(count):
        source, variables = generate(rng)
        expected = _outcome(lambda: server.render(source, variables))  # noqa: B023
        assert _outcome(lambda: render(source, variables)) == expected, source  # noqa: B023
        kinds.add(expected[0] if expected[0] != "TemplateSyntaxError" else f"syntax:{expected[2]}")
        if expected[0] == "ok":
            assert compile_template(source).variables == server.validate(source), source
    # The generators must reach every outcome, or the comparison proves little.
    if generate is _subset_case:
        assert {"ok", "MissingVariablesError", "TemplateValueError"} <= kinds
    else:
        assert len({kind for kind in kinds if kind.startswith("syntax:")}) >= 15
