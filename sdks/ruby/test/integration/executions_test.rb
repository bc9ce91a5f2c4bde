# frozen_string_literal: true

require "test_helper"

# Triggering and reading executions on a real server, with its built-in simulator provider.
class ExecutionsTest < Minitest::Test
  MODEL = "sim-gpt-mini" # listed by GET /models?provider=<simulator>

  def setup
    @server = ScopeTest.server
    @client = Scope::Client.new(base_url: @server.base_url, api_key: @server.api_key)
    @provider = self.class.provider(@server)
    @name = ScopeTest.unique("exec")
    @server.create_prompt(@name, "Summarise {{ topic }} in {{ words | default('ten') }} words.")
  end

  def teardown
    @client.close
  end

  def self.provider(server)
    @provider ||= begin
      server.call("POST", "/providers", { name: "sim", kind: "simulator" })
      models = server.call("GET", "/models?provider=sim").fetch("data").map { |row| row["model"] }
      raise "the simulator does not list #{MODEL}: #{models}" unless models.include?(MODEL)

      "sim"
    end
  end

  def run_once(**variables)
    @client.executions.create(prompt: @name, provider: @provider, model: MODEL, variables: variables)
  end

  def test_an_execution_runs_the_production_version_and_is_recorded
    execution = run_once(topic: "tides")
    assert_equal ["succeeded", @name, 1, "sim", MODEL],
                 execution.values_at("status", "prompt", "version", "provider", "model")
    assert_equal "Summarise tides in ten words.", execution.dig("rendered", "content")
    refute_empty execution.fetch("output")
    assert_operator execution.fetch("input_tokens"), :>, 0
    assert_operator execution.fetch("cost_usd"), :>, 0
    assert_equal execution, @client.executions.retrieve(execution.fetch("id"))
  end

  def test_a_pinned_version_and_parameters
    @server.add_version(@name, "Say {{ topic }}.")
    execution = @client.executions.create(prompt: @name, version: 2, provider: @provider, model: MODEL,
                                          variables: { "topic" => "hi" }, parameters: { max_tokens: 16 })
    assert_equal [2, "Say hi."], [execution["version"], execution.dig("rendered", "content")]
  end

  def test_a_missing_variable_is_refused_and_named
    error = assert_raises(Scope::ValidationError) { run_once }
    assert_equal 422, error.status
    assert(error.errors.any? { |item| item["loc"].last == "topic" })
  end

  def test_an_unknown_prompt_raises_not_found
    error = assert_raises(Scope::NotFound) do
      @client.executions.create(prompt: "#{@name}-nope", provider: @provider, model: MODEL)
    end
    assert_equal "not_found", error.code
  end

  def test_listing_filters_and_pages
    ids = Array.new(3) { |index| run_once(topic: "t#{index}").fetch("id") }
    listed = @client.executions.list(prompt: @name).map { |row| row["id"] }
    assert_equal ids.reverse, listed # newest first

    first = @client.executions.page(prompt: @name, limit: 2)
    assert_equal ids.reverse.first(2), first.map { |row| row["id"] }
    assert first.next?
    second = @client.executions.page(prompt: @name, limit: 2, cursor: first.next_cursor)
    assert_equal [ids.first], second.map { |row| row["id"] }
    refute second.next?

    assert_equal ids.reverse.first(2), @client.executions.list(prompt: @name, limit: 2).map { |row| row["id"] }
    assert_empty @client.executions.list(prompt: @name, status: "failed").to_a
    assert_equal 3, @client.executions.list(prompt: @name, since: Time.now - 3600).count
    assert_empty @client.executions.list(prompt: @name, since: Time.now + 3600).to_a
  end
end
