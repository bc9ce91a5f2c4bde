# frozen_string_literal: true

require "test_helper"

# The runs calls against the contract in API.md. The real server has no run
# endpoints yet (issue 4), so a FakeServer plays them: these tests check the
# requests the SDK sends and how it pages, not a server's behaviour.
class RunsTest < Minitest::Test
  TOKEN = '{"access_token":"t","token_type":"bearer","expires_in":900,"refresh_token":"r"}'
  RESULTS = Array.new(5) { |index| { "item_id" => "i#{index}", "version" => 1, "scores" => { "exact_match" => 1.0 } } }

  def setup
    @server = ScopeTest::FakeServer.new { |request| answer(request) }
    @client = Scope::Client.new(base_url: @server.base_url, api_key: "k")
  end

  def teardown
    @server.stop
  end

  def answer(request)
    path, query = request.path.split("?", 2)
    params = URI.decode_www_form(query.to_s).to_h
    case [request.method, path]
    in ["POST", "/api/v1/auth/token"] then json(200, JSON.parse(TOKEN))
    in ["POST", "/api/v1/golden-sets/faq/runs"] then json(202, { "id" => "r1", "status" => "queued" })
    in ["GET", "/api/v1/runs/r1"] then json(200, { "id" => "r1", "status" => "running",
                                                   "progress" => { "done" => 2, "total" => 5, "failed" => 0 } })
    in ["GET", "/api/v1/runs/r1/results"] then results_page(params)
    in ["GET", "/api/v1/runs"] then json(200, { "data" => [{ "id" => "r1", "golden_set" => params["golden_set"] }],
                                                "next_cursor" => nil })
    in ["POST", "/api/v1/runs/r1/cancel"] then json(200, { "id" => "r1", "status" => "cancelled" })
    else json(404, { "error" => { "code" => "not_found", "message" => "no route", "details" => {} } })
    end
  end

  # Pages of at most +limit+ results; the cursor is the next offset.
  def results_page(params)
    offset = params.fetch("cursor", "0").to_i
    limit = params.fetch("limit").to_i
    following = offset + limit < RESULTS.length ? (offset + limit).to_s : nil
    json(200, { "data" => RESULTS[offset, limit], "next_cursor" => following })
  end

  def json(status, body)
    [status, { "Content-Type" => "application/json" }, JSON.generate(body)]
  end

  def sent(method, path_prefix)
    @server.received.select { |request| request.method == method && request.path.start_with?(path_prefix) }
  end

  def test_create_posts_the_run_definition
    run = @client.runs.create("faq", prompt: "greeting", versions: [1, 2],
                                     targets: [{ provider: "sim", model: "sim-gpt-mini" }],
                                     scorers: [{ type: "exact_match" }], concurrency: 4)
    assert_equal "queued", run["status"]
    body = JSON.parse(sent("POST", "/api/v1/golden-sets/faq/runs").first.body)
    assert_equal({ "prompt" => "greeting", "versions" => [1, 2],
                   "targets" => [{ "provider" => "sim", "model" => "sim-gpt-mini" }],
                   "scorers" => [{ "type" => "exact_match" }], "concurrency" => 4 }, body)
  end

  def test_retrieve_and_cancel
    assert_equal({ "done" => 2, "total" => 5, "failed" => 0 }, @client.runs.retrieve("r1")["progress"])
    assert_equal "cancelled", @client.runs.cancel("r1")["status"]
  end

  def test_results_are_paged_through_lazily
    results = @client.runs.results("r1")
    assert_empty sent("GET", "/api/v1/runs/r1/results") # nothing fetched before iterating
    assert_equal RESULTS, results.to_a
    assert_equal 1, sent("GET", "/api/v1/runs/r1/results").length # one page of up to 200
  end

  def test_small_pages_follow_the_cursor
    page = @client.runs.results_page("r1", limit: 2)
    assert_equal [RESULTS.first(2), "2"], [page.data, page.next_cursor]
    page = @client.runs.results_page("r1", limit: 2, cursor: page.next_cursor)
    assert_equal RESULTS[2, 2], page.data
    assert_equal RESULTS.first(3), @client.runs.results("r1", limit: 3).to_a
  end

  def test_list_filters_by_golden_set
    assert_equal "faq", @client.runs.list(golden_set: "faq").first["golden_set"]
    assert_includes sent("GET", "/api/v1/runs?").last.path, "golden_set=faq"
  end

  def test_an_unknown_run_raises_not_found
    assert_raises(Scope::NotFound) { @client.runs.retrieve("nope") }
  end
end
