# frozen_string_literal: true

require "test_helper"

# Golden-set runs on a real `scope serve`, executed by its run worker on the built-in
# simulator (whose answers start "Simulated answer to: <the prompt>"), with every
# request the SDK sends recorded by a pass-through proxy.
class RunsIntegrationTest < Minitest::Test
  MODEL = "sim-gpt-mini"
  # The simulator echoes the prompt, so "contains" scores 1 when +expected+ is the
  # city itself and 0 for the country: a known mix of scores per version (2 of 3).
  ITEMS = [%w[Paris Paris], %w[Rome Rome], %w[Oslo Norway]].map do |city, expected|
    { variables: { city: city }, expected: expected }
  end.freeze
  CONTAINS = { "Paris" => 1.0, "Rome" => 1.0, "Oslo" => 0.0 }.freeze
  SLOW_MS = 2000 # per simulator call: a run of 3 cells at concurrency 1 lasts 6 s

  def setup
    @server = ScopeTest.server
    @proxy = ScopeTest::RecordingProxy.new(@server.port)
    @client = Scope::Client.new(base_url: @proxy.base_url, api_key: @server.api_key)
    @prompt = ScopeTest.unique("run-prompt")
    @server.create_prompt(@prompt, "Where is {{ city }}?", "Which country has {{ city }}?")
    @set = ScopeTest.unique("run-set")
    @client.golden_sets.create(@set, items: ITEMS)
  end

  def teardown
    @client.close
    @proxy.stop
  end

  # A simulator provider, created once per server: +fast+ answers at once, the slow
  # one takes SLOW_MS per call.
  def self.provider(server, fast:)
    @providers ||= {}
    @providers[fast] ||= begin
      name = ScopeTest.unique(fast ? "sim-fast" : "sim-slow")
      options = fast ? {} : { latency_ms: SLOW_MS }
      server.call("POST", "/providers", { name: name, kind: "simulator", options: options })
      name
    end
  end

  def targets(fast: true)
    [{ provider: self.class.provider(@server, fast: fast), model: MODEL }]
  end

  def start(versions: [1, 2], **options)
    @client.runs.create(@set, prompt: @prompt, versions: versions, targets: targets,
                              scorers: [{ type: "contains" }], **options)
  end

  def monotonic
    Process.clock_gettime(Process::CLOCK_MONOTONIC)
  end

  def test_a_run_is_estimated_started_waited_for_and_read
    estimate = @client.runs.estimate(@set, prompt: @prompt, versions: [1, 2], targets: targets)
    assert_equal [6, 0], estimate.values_at("calls", "judge_calls") # 3 items x 2 versions x 1 target
    assert_operator estimate.fetch("input_tokens"), :>, 0
    assert_empty @client.runs.list(golden_set: @set).to_a # estimating started nothing

    run = start
    assert_equal ["queued", { "done" => 0, "total" => 6, "failed" => 0 }], run.values_at("status", "progress")
    done = @client.runs.wait(run, timeout: 60, poll: 0.1) # the run Hash, or its id
    assert_equal ["succeeded", { "done" => 6, "total" => 6, "failed" => 0 }], done.values_at("status", "progress")
    summary = done.fetch("summary").sort_by { |entry| entry["version"] }
    assert_equal [[1, MODEL, 3, 0], [2, MODEL, 3, 0]],
                 summary.map { |entry| entry.values_at("version", "model", "count", "failed") }
    summary.each { |entry| assert_in_delta 2.0 / 3, entry.dig("scores", "contains"), 1e-9 }
    assert_operator done.fetch("spent_usd"), :>, 0

    results = @client.runs.results(run).to_a
    assert_equal 6, results.length
    assert(results.all? { |result| result["status"] == "succeeded" && result["provider"] == targets.first[:provider] })
    assert_equal({ 1 => 3, 2 => 3 }, results.map { |result| result["version"] }.tally)
    items = @client.golden_sets.items(@set).to_a
    assert_equal items.map { |item| item["id"] }, results.map { |result| result["item_id"] }.uniq # item order
    city = items.to_h { |item| [item["id"], item.dig("variables", "city")] }
    scores = results.group_by { |result| city.fetch(result["item_id"]) }
                    .transform_values { |cells| cells.map { |cell| cell.dig("scores", "contains") }.uniq }
    assert_equal CONTAINS.transform_values { |score| [score] }, scores

    assert_equal [run.fetch("id")], @client.runs.list(golden_set: @set).map { |listed| listed["id"] }
    assert_equal done, @client.runs.retrieve(run.fetch("id"))
  end

  def test_results_are_paged_lazily_through_the_servers_cursor
    id = start.fetch("id")
    @client.runs.wait(id, timeout: 60, poll: 0.1)
    everything = @client.runs.results(id)
    assert_empty @proxy.requests("/runs/#{id}/results") # nothing fetched before iterating
    all = everything.to_a
    assert_equal 1, @proxy.requests("/runs/#{id}/results").length # one page of up to 200

    pages = [@client.runs.results_page(id, limit: 4)]
    pages << @client.runs.results_page(id, limit: 4, cursor: pages.last.next_cursor) while pages.last.next?
    assert_equal [4, 2], pages.map { |page| page.data.length }
    assert_equal all, pages.flat_map(&:data)
    assert_equal all.first(5), @client.runs.results(id, limit: 5).to_a

    newest = all.map { |result| Time.iso8601(result.fetch("completed_at")) }.max
    latest = all.select { |result| Time.iso8601(result.fetch("completed_at")) >= newest }
    assert_equal latest, @client.runs.results(id, since: newest).to_a
    assert_empty @client.runs.results(id, since: (newest + 1).iso8601(6)).to_a
  end

  def test_a_version_that_needs_a_variable_the_items_lack_is_refused_before_anything_runs
    @server.add_version(@prompt, "Is {{ city }} on the {{ river }}?")
    definition = { prompt: @prompt, versions: [1, 3], targets: targets }
    refused = assert_raises(Scope::ValidationError) { @client.runs.create(@set, **definition) }
    assert_equal 422, refused.status
    assert_includes refused.message, "missing variables: river"
    assert_equal [%w[items 0], %w[items 1], %w[items 2]],
                 refused.errors.map { |error| error["loc"].first(2).map(&:to_s) }
    assert(refused.errors.all? { |error| error["msg"].include?("version 3") && error["msg"].include?("river") })
    assert_empty @client.runs.list(golden_set: @set).to_a

    estimated = assert_raises(Scope::ValidationError) { @client.runs.estimate(@set, **definition) }
    assert_includes estimated.message, "river"
  end

  def test_wait_gives_up_at_its_timeout_and_cancel_stops_the_run
    run = @client.runs.create(@set, prompt: @prompt, versions: [1], targets: targets(fast: false), concurrency: 1)
    started = monotonic
    timed_out = assert_raises(Scope::RunTimeout) { @client.runs.wait(run.fetch("id"), timeout: 0.3, poll: 5) }
    assert_operator monotonic - started, :<, 1.5 # the deadline, not the 5 s poll interval
    assert_kind_of Scope::Error, timed_out
    assert_match(%r{\Arun #{run.fetch("id")} is still (queued|running) after 0\.3 s \(0/3 cells done\)},
                 timed_out.message)
    assert_equal run.fetch("id"), timed_out.run.fetch("id")
    assert_includes %w[queued running], @client.runs.retrieve(run.fetch("id")).fetch("status") # it went on

    cancelled = @client.runs.cancel(run.fetch("id"))
    assert_equal "cancelled", cancelled.fetch("status")
    assert_operator cancelled.dig("progress", "done"), :<, 3
    assert_equal "cancelled", @client.runs.wait(run.fetch("id"), timeout: 5).fetch("status") # ended: at once
    conflict = assert_raises(Scope::Conflict) { @client.runs.cancel(run.fetch("id")) }
    assert_equal [409, "conflict"], [conflict.status, conflict.code]
    assert_includes conflict.message, "already ended"
  end

  def test_an_unknown_run_raises_not_found
    assert_raises(Scope::NotFound) { @client.runs.retrieve(SecureRandom.hex(16)) }
    assert_raises(Scope::NotFound) { @client.runs.wait(SecureRandom.hex(16)) }
  end
end
