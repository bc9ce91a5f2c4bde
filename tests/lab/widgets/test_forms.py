"""The variable form: fields generated from templates, values parsed from what was typed."""

from __future__ import annotations

from scope_lab._template import render_content
from scope_lab.widgets._forms import content_fields, merge_fields, parse_values, template_fields


def test_fields_follow_first_use_with_kind_default_and_required() -> None:
    source = ('{% if vip %}Dear {{ name }}{% else %}Hi {{ name | default("you") }}{% endif %}'
              '{% for t in topics %}- {{ t }} {{ sign | default("Bo") }}{% endfor %}')
    assert template_fields(source) == [
        {"name": "vip", "kind": "text", "required": False, "default": None},
        {"name": "name", "kind": "text", "required": True, "default": "you"},
        {"name": "topics", "kind": "json", "required": True, "default": None},
        {"name": "sign", "kind": "text", "required": False, "default": "Bo"},
    ]
    # Same order as the SDK lists the template's variables.
    assert [f["name"] for f in template_fields(source)] == ["vip", "name", "topics", "sign"]


def test_a_loop_variable_of_an_outer_loop_is_not_a_field() -> None:
    fields = template_fields("{% for row in rows %}{% for c in row %}{{ c }}{% endfor %}"
                             "{% endfor %}")
    assert [(f["name"], f["kind"]) for f in fields] == [("rows", "json")]


def test_chat_content_and_several_versions_merge_by_name() -> None:
    chat = [{"role": "system", "content": "Be {{ tone | default(\"kind\") }}"},
            {"role": "user", "content": "{{ question }} {{ tone }}"}]
    assert [(f["name"], f["required"], f["default"]) for f in content_fields(chat)] == [
        ("tone", True, "kind"), ("question", True, None)]
    merged = merge_fields([template_fields("{{ items }}"),
                           template_fields("{% for i in items %}{{ i }}{% endfor %}{{ x }}")])
    assert [(f["name"], f["kind"]) for f in merged] == [("items", "json"), ("x", "text")]


def test_typed_values_are_parsed_and_empty_fields_are_left_out() -> None:
    source = ('{{ name | default("you") }}: {% for t in topics %}[{{ t }}]{% endfor %}'
              '{% if vip %}!{% endif %}')
    fields = template_fields(source)
    values, problems = parse_values(fields, {"name": "", "topics": '["a", 2]', "vip": "yes"})
    assert problems == {}
    assert values == {"topics": ["a", 2], "vip": "yes"}
    assert render_content(source, values) == "you: [a][2]!"


def test_json_fields_say_what_is_wrong() -> None:
    fields = template_fields("{% for t in topics %}{{ t }}{% endfor %}{{ n }}")
    _, problems = parse_values(fields, {"topics": '["a",', "n": "[not json]"})
    assert list(problems) == ["topics"]  # text fields are taken as typed
    assert problems["topics"].startswith("topics: not valid JSON (")
    _, problems = parse_values(fields, {"topics": '"a"'})
    assert problems == {"topics": 'topics: a loop needs a JSON list such as ["a", "b"], '
                                  'not "a"'}
