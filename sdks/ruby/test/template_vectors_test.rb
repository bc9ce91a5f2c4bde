# frozen_string_literal: true

require "test_helper"

# The shared vectors (tests/vectors/templates.json) that the server and the
# Python SDK pass too: one test per case, named after it.
class TemplateVectorsTest < Minitest::Test
  DATA = JSON.parse(File.read(ScopeTest::VECTORS))

  def test_the_vector_file_has_cases
    assert_operator DATA.fetch("cases").length, :>=, 100
    refute_empty DATA.fetch("variables_cases")
  end

  DATA.fetch("cases").each_with_index do |vector, index|
    define_method("test_case_#{index}_#{vector['name'].gsub(/\W+/, '_')}") do
      check(vector)
    end
  end

  DATA.fetch("variables_cases").each_with_index do |vector, index|
    define_method("test_variables_#{index}_#{vector['name'].gsub(/\W+/, '_')}") do
      assert_equal vector.fetch("variables"), Scope::Template.variables(vector.fetch("template"))
    end
  end

  private

  def check(vector)
    template = vector.fetch("template")
    variables = vector.fetch("variables")
    return assert_equal(vector.fetch("expected"), Scope::Template.render(template, variables)) unless vector["error"]

    expected = vector.fetch("error")
    case expected.fetch("type")
    when "missing_variables"
      error = assert_raises(Scope::MissingVariablesError) { Scope::Template.render(template, variables) }
      assert_equal expected.fetch("names"), error.names
    when "value"
      error = assert_raises(Scope::TemplateValueError) { Scope::Template.render(template, variables) }
      assert_equal expected.fetch("name"), error.name
    when "syntax"
      # Refused when checked, before any variable is looked at (as the server does).
      error = assert_raises(Scope::TemplateSyntaxError) { Scope::Template.variables(template) }
      assert_equal [expected.fetch("construct"), expected.fetch("line")], [error.construct, error.line]
    else
      flunk "unknown error type #{expected['type']}"
    end
  end
end
