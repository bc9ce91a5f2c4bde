# frozen_string_literal: true

require "test_helper"

# What the real server cannot do on cue: answer 503. A FakeServer (a real socket,
# scripted answers) plays it; everything else about runs is tested against
# `scope serve` in test/integration/runs_test.rb.
class RunsRetryTest < Minitest::Test
  TOKEN = '{"access_token":"t","token_type":"bearer","expires_in":900,"refresh_token":"r"}'
  UNAVAILABLE = [503, { "Content-Type" => "application/json" },
                 JSON.generate(error: { code: "unavailable", message: "m", details: {} })].freeze

  def setup
    @waits = []
    policy = Scope::RetryPolicy.new(max_attempts: 3, sleep: ->(seconds) { @waits << seconds })
    @server = ScopeTest::FakeServer.new { |request| answer(request) }
    @client = Scope::Client.new(base_url: @server.base_url, api_key: "k", retry_policy: policy)
    @polls = 0
  end

  def teardown
    @server.stop
  end

  # Starting a run always fails; the run is "running", then a blip, then "succeeded".
  def answer(request)
    case [request.method, request.path]
    in ["POST", "/api/v1/auth/token"] then [200, { "Content-Type" => "application/json" }, TOKEN]
    in ["POST", "/api/v1/golden-sets/faq/runs"] then UNAVAILABLE
    in ["GET", "/api/v1/runs/r1"]
      @polls += 1
      return UNAVAILABLE if @polls == 2

      status = @polls < 3 ? "running" : "succeeded"
      [200, { "Content-Type" => "application/json" }, JSON.generate(id: "r1", status: status)]
    end
  end

  def test_starting_a_run_is_never_retried
    assert_raises(Scope::ServerError) do
      @client.runs.create("faq", prompt: "p", versions: [1], targets: [{ provider: "sim", model: "m" }])
    end
    # A repeat could start, and bill, a second run.
    assert_equal 1, @server.received.count { |request| request.path.end_with?("/runs") }
    assert_empty @waits
  end

  def test_wait_rides_out_a_503_between_polls
    assert_equal "succeeded", @client.runs.wait("r1", poll: 0.01).fetch("status")
    assert_equal 3, @polls
    assert_equal 1, @waits.length # the retry's backoff
  end

  def test_wait_refuses_a_poll_interval_or_timeout_that_makes_no_sense
    assert_raises(ArgumentError) { @client.runs.wait("r1", poll: 0) }
    assert_raises(ArgumentError) { @client.runs.wait("r1", timeout: -1) }
    assert_empty @server.received # refused before asking the server
  end
end
