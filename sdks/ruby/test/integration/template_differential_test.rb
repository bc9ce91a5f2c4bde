# frozen_string_literal: true

require "open3"
require "test_helper"

# Random templates rendered by the server's own renderer (scope_api.templating,
# run by SCOPE_PYTHON) and by this one must agree: same output and inputs, or the
# same error with the same construct, line and names. Messages must agree too,
# except for plain syntax errors, whose wording comes from Jinja's parser.
class TemplateDifferentialTest < Minitest::Test
  GENERATOR = File.expand_path("../support/template_cases.py", __dir__)
  COUNT = 2000

  def cases
    seed = Integer(ENV.fetch("SCOPE_DIFF_SEED", Random.new_seed % 1_000_000))
    output, errors, status = Open3.capture3(ScopeTest::LiveServer.python, GENERATOR, "--seed", seed.to_s,
                                            "--count", COUNT.to_s, chdir: ScopeTest::LiveServer::REPO)
    assert status.success?, "the case generator failed:\n#{errors}"
    [seed, output.lines.map { |line| JSON.parse(line) }]
  end

  def test_ruby_renders_random_templates_exactly_as_the_server_does
    seed, generated = cases
    assert_equal COUNT, generated.length
    mismatches = generated.filter_map { |vector| mismatch(vector) }
    assert_empty mismatches.first(5), "#{mismatches.length} of #{COUNT} cases differ " \
                                      "(rerun with SCOPE_DIFF_SEED=#{seed})"
    kinds = generated.map { |vector| vector.dig("error", "type") || "ok" }.tally
    assert_operator kinds.fetch("ok", 0), :>, COUNT / 5 # the mix exercises rendering too
    assert_operator kinds.fetch("syntax", 0), :>, COUNT / 5
  end

  private

  def mismatch(vector)
    template = vector.fetch("template")
    got = outcome(template, vector.fetch("variables"))
    want = vector["error"] || { "expected" => vector.fetch("expected"), "inputs" => vector.fetch("inputs") }
    [got, want].each { |result| result.delete("message") if result["type"] == "syntax" && result["construct"].nil? }
    got == want ? nil : { template: template, ruby: got, server: want }
  end

  def outcome(template, variables)
    { "expected" => Scope::Template.render(template, variables), "inputs" => Scope::Template.variables(template) }
  rescue Scope::TemplateSyntaxError => e
    { "type" => "syntax", "construct" => e.construct, "line" => e.line, "message" => e.message }
  rescue Scope::MissingVariablesError => e
    { "type" => "missing_variables", "names" => e.names }
  rescue Scope::TemplateValueError => e
    { "type" => "value", "name" => e.name, "message" => e.message }
  end
end
