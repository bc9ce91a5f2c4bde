# frozen_string_literal: true

require "test_helper"

# Behaviour beyond the shared vectors: Python's number layout, Ruby inputs, chat content.
class TemplateTest < Minitest::Test
  def render(source, variables = {})
    Scope::Template.render(source, variables)
  end

  def test_floats_print_as_python_does_not_as_ruby_does
    values = { "1e+16" => 1e16, "1000000000000000.0" => 1e15, "1e-05" => 1e-5, "0.0001" => 1e-4,
               "1.5e+300" => 1.5e300, "-0.0" => -0.0, "0.30000000000000004" => 0.1 + 0.2,
               "1.2345678901234568e+17" => 123_456_789_012_345_678.0 }
    values.each { |printed, value| assert_equal printed, render("{{ x }}", "x" => value) }
  end

  def test_floats_inside_json_use_the_same_layout
    assert_equal '[1e+20,{"x":1e-07}]', render("{{ xs }}", "xs" => [1e20, { "x" => 1e-7 }])
  end

  def test_non_finite_floats_print_as_python_does
    variables = { "a" => Float::NAN, "b" => Float::INFINITY, "c" => -Float::INFINITY,
                  "d" => [Float::NAN, Float::INFINITY] }
    assert_equal "nan inf -inf [NaN,Infinity]", render("{{ a }} {{ b }} {{ c }} {{ d }}", variables)
  end

  def test_symbol_keys_and_values_are_accepted
    assert_equal 'Hi Ada {"role":"admin"}', render("Hi {{ name }} {{ user }}", name: :Ada, user: { role: "admin" })
  end

  def test_control_characters_in_json_are_escaped_like_python
    # Like json.dumps: \u escapes in lower-case hex, DEL (0x7f) left as is.
    assert_equal "[\"\\u001f\\t\u007f\"]", render("{{ xs }}", "xs" => ["\u001f\t\u007f"])
  end

  def test_variables_must_be_a_hash
    assert_raises(TypeError) { render("{{ a }}", [["a", 1]]) }
  end

  def test_syntax_error_messages_name_the_construct_and_line
    error = assert_raises(Scope::TemplateSyntaxError) { render("ok\n{{ name | upper }}") }
    assert_equal "unsupported construct: filter 'upper' (line 2)", error.message
  end

  def test_missing_variables_message_lists_them_all
    error = assert_raises(Scope::MissingVariablesError) { render("{{ b }}{{ a }}") }
    assert_equal "missing variables: b, a", error.message
  end

  def test_value_error_says_what_the_value_was
    error = assert_raises(Scope::TemplateValueError) { render("{% for x in n %}{% endfor %}", "n" => 3) }
    assert_equal "variable 'n' must be a list, got number", error.message
  end

  def test_chat_content_renders_each_message_and_keeps_other_keys
    content = [{ "role" => "system", "content" => "Be {{ tone | default('kind') }}." },
               { "role" => "user", "content" => "Greet {{ name }}.", "name" => "u1" }]
    assert_equal [{ "role" => "system", "content" => "Be kind." },
                  { "role" => "user", "content" => "Greet Ada.", "name" => "u1" }],
                 Scope::Template.render_content(content, name: "Ada")
    assert_equal %w[tone name], Scope::Template.content_variables(content)
  end

  def test_chat_missing_variables_are_collected_across_messages
    content = [{ "role" => "system", "content" => "{{ a }}" }, { "role" => "user", "content" => "{{ b }}{{ a }}" }]
    error = assert_raises(Scope::MissingVariablesError) { Scope::Template.render_content(content, {}) }
    assert_equal %w[a b], error.names
  end

  def test_chat_errors_name_the_message
    content = [{ "role" => "system", "content" => "ok" }, { "role" => "user", "content" => "{{ a.b }}" }]
    error = assert_raises(Scope::TemplateSyntaxError) { Scope::Template.render_content(content, {}) }
    assert_equal "messages[1]: unsupported construct: attribute access 'a.b' (line 1)", error.message
    assert_equal "attribute access 'a.b'", error.construct
  end

  def test_a_message_without_text_content_is_refused
    error = assert_raises(Scope::TemplateError) { Scope::Template.render_content([{ "role" => "user" }], {}) }
    assert_equal "messages[0]: content must be a string", error.message
  end

  def test_deep_nesting_is_refused_not_a_stack_overflow
    source = "{% if a %}" * 51 + "{% endif %}" * 51
    error = assert_raises(Scope::TemplateSyntaxError) { Scope::Template.variables(source) }
    assert_match(/nested more than 50 levels/, error.message)
  end

  def test_compiled_templates_are_reused
    assert_same Scope::Template.compile("Hello {{ n }}"), Scope::Template.compile(+"Hello {{ n }}")
  end
end
