# frozen_string_literal: true

require "test_helper"

# Retries, backoff and timeouts. The server here is FakeServer (a real socket, a
# scripted answer): the real server cannot be made to answer 429 or 503 on cue.
class RetryTest < Minitest::Test
  TOKEN = '{"access_token":"t","token_type":"bearer","expires_in":900,"refresh_token":"r"}'

  def setup
    @waits = []
    @policy = Scope::RetryPolicy.new(max_attempts: 3, base_delay: 0.2, max_delay: 5.0,
                                     sleep: ->(seconds) { @waits << seconds }, random: Random.new(7))
  end

  def teardown
    @server&.stop
  end

  # A fake Scope whose token endpoint works and whose other answers come from +answers+ in turn.
  def scope_with(*answers)
    queue = answers.dup
    @server = ScopeTest::FakeServer.new do |request|
      next [200, { "Content-Type" => "application/json" }, TOKEN] if request.path.end_with?("/auth/token")

      queue.length > 1 ? queue.shift : queue.first
    end
    Scope::Client.new(base_url: @server.base_url, api_key: "k", retry_policy: @policy, timeout: 0.5)
  end

  def app_requests
    @server.received.reject { |request| request.path.include?("/auth/") }
  end

  def error(status, code)
    [status, { "Content-Type" => "application/json" },
     JSON.generate(error: { code: code, message: "m", details: {}, request_id: "rid" })]
  end

  def ok(body)
    [200, { "Content-Type" => "application/json" }, JSON.generate(body)]
  end

  def test_503_then_success_is_retried_with_backoff
    client = scope_with(error(503, "unavailable"), error(503, "unavailable"), ok(id: "e1"))
    assert_equal({ "id" => "e1" }, client.executions.retrieve("e1"))
    assert_equal 3, app_requests.length
    assert_equal 2, @waits.length
    assert_operator @waits[0], :<=, 0.2 # full jitter below base * 2**0
    assert_operator @waits[1], :<=, 0.4 # ... and below base * 2**1
  end

  def test_retry_after_in_seconds_is_honoured
    limited = [429, { "Retry-After" => "1.5" }, ""]
    client = scope_with(limited, ok(id: "e1"))
    client.executions.retrieve("e1")
    assert_equal [1.5], @waits
  end

  def test_retry_after_as_an_http_date_is_honoured
    limited = [429, { "Retry-After" => (Time.now + 3).httpdate }, ""]
    client = scope_with(limited, ok(id: "e1"))
    client.executions.retrieve("e1")
    assert_equal 1, @waits.length
    assert_in_delta 2.5, @waits.first, 1.0 # whole seconds in the header
  end

  def test_a_long_retry_after_is_capped
    client = scope_with([503, { "Retry-After" => "3600" }, ""], ok(id: "e1"))
    client.executions.retrieve("e1")
    assert_equal [5.0], @waits
  end

  def test_the_last_error_is_raised_when_attempts_run_out
    client = scope_with(error(500, "internal"))
    raised = assert_raises(Scope::ServerError) { client.executions.retrieve("e1") }
    assert_equal [500, "internal", "rid"], [raised.status, raised.code, raised.request_id]
    assert_equal 3, app_requests.length
  end

  def test_429_raises_rate_limited_with_retry_after
    client = scope_with([429, { "Retry-After" => "2" }, ""])
    raised = assert_raises(Scope::RateLimited) { client.executions.retrieve("e1") }
    assert_equal 2.0, raised.retry_after
    assert_equal "http_error", raised.code # no Scope body: the status still classifies it
  end

  def test_posts_are_not_retried
    client = scope_with(error(503, "unavailable"), ok(id: "e1"))
    assert_raises(Scope::ServerError) do
      client.executions.create(prompt: "p", provider: "sim", model: "m", variables: { "a" => 1 })
    end
    assert_equal 1, app_requests.length
    assert_empty @waits
  end

  def test_client_errors_are_not_retried
    client = scope_with(error(404, "not_found"))
    assert_raises(Scope::NotFound) { client.executions.retrieve("nope") }
    assert_equal 1, app_requests.length
  end

  def test_a_dropped_connection_is_retried
    client = scope_with(:drop, ok(id: "e1"))
    assert_equal({ "id" => "e1" }, client.executions.retrieve("e1"))
    assert_equal 1, @waits.length
  end

  def test_a_server_that_never_answers_times_out
    client = scope_with(:hang)
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    assert_raises(Scope::TimeoutError) { client.executions.retrieve("e1") }
    elapsed = Process.clock_gettime(Process::CLOCK_MONOTONIC) - started
    assert_equal 3, app_requests.length
    assert_operator elapsed, :<, 3.0 # three 0.5 s read timeouts, no real backoff sleeps
  end

  def test_connection_refused_is_retried_then_raised
    port = ScopeTest::LiveServer.free_port
    client = Scope::Client.new(base_url: "http://127.0.0.1:#{port}", api_key: "k", retry_policy: @policy)
    raised = assert_raises(Scope::ConnectionError) { client.executions.retrieve("e1") }
    assert_match(/127\.0\.0\.1:#{port}/, raised.message)
    assert_equal 2, @waits.length
  end

  def test_the_token_exchange_is_retried
    attempts = 0
    @server = ScopeTest::FakeServer.new do |request|
      next ok(id: "e1") unless request.path.end_with?("/auth/token")

      attempts += 1
      attempts == 1 ? error(503, "unavailable") : [200, {}, TOKEN]
    end
    client = Scope::Client.new(base_url: @server.base_url, api_key: "k", retry_policy: @policy)
    assert_equal({ "id" => "e1" }, client.executions.retrieve("e1"))
    assert_equal 2, attempts
  end

  def test_delays_grow_exponentially_and_stay_under_the_cap
    policy = Scope::RetryPolicy.new(base_delay: 1.0, max_delay: 4.0, random: Random.new(1))
    samples = (1..6).map { |attempt| Array.new(200) { policy.delay(attempt) }.max }
    samples.zip([1, 2, 4, 4, 4, 4]).each do |observed, ceiling|
      assert_operator observed, :<=, ceiling
      assert_operator observed, :>, ceiling * 0.9 # full jitter reaches close to the ceiling
    end
  end

  def test_retry_after_parsing
    now = Time.utc(2026, 11, 26, 10, 0, 0)
    assert_equal 3.0, Scope::RetryPolicy.parse_retry_after("3", now: now)
    assert_equal 10.0, Scope::RetryPolicy.parse_retry_after("Thu, 26 Nov 2026 10:00:10 GMT", now: now)
    assert_equal 0.0, Scope::RetryPolicy.parse_retry_after("Thu, 26 Nov 2026 09:00:00 GMT", now: now)
    assert_nil Scope::RetryPolicy.parse_retry_after("soon", now: now)
    assert_nil Scope::RetryPolicy.parse_retry_after(nil)
  end
end
