# frozen_string_literal: true

require "test_helper"

# API key -> JWT exchange and renewal against a real `scope serve`.
class AuthTest < Minitest::Test
  LIFETIME = 900 # the server's default access-token lifetime, in seconds

  def setup
    @clock = ScopeTest::FakeClock.new
    @log = StringIO.new
  end

  def client_for(server, api_key = server.api_key)
    Scope::Client.new(base_url: server.base_url, api_key: api_key, clock: @clock, logger: ScopeTest.logger(@log))
  end

  def log_count(text)
    @log.string.scan(text).length
  end

  def test_the_key_is_exchanged_lazily_and_once_for_all_threads
    client = Scope::Client.new(base_url: "http://127.0.0.1:#{ScopeTest::LiveServer.free_port}", api_key: "k")
    assert_kind_of Scope::Client, client # nothing was sent yet: no server there

    server = ScopeTest.server
    client = client_for(server)
    Array.new(8) { Thread.new { client.executions.list(limit: 1).to_a } }.each(&:join)
    assert_equal 1, log_count("exchanged the API key")
  end

  def test_the_token_is_renewed_with_the_refresh_token_before_it_expires
    client = client_for(ScopeTest.server)
    client.executions.list(limit: 1).to_a
    @clock.advance(LIFETIME * 0.8 - 1)
    client.executions.list(limit: 1).to_a
    assert_equal 0, log_count("refreshed the access token")
    @clock.advance(2)
    client.executions.list(limit: 1).to_a
    assert_equal [1, 1], [log_count("exchanged the API key"), log_count("refreshed the access token")]
    @clock.advance(LIFETIME * 0.8 + 1)
    client.executions.list(limit: 1).to_a # the rotated refresh token works too
    assert_equal [1, 2], [log_count("exchanged the API key"), log_count("refreshed the access token")]
  end

  def test_a_refused_refresh_falls_back_to_exchanging_the_key
    server = ScopeTest::LiveServer.new.start
    client = client_for(server)
    client.executions.list(limit: 1).to_a
    server.restart(fresh_data: true) # same API key, but the refresh token is unknown now
    @clock.advance(LIFETIME)
    assert_equal [], client.executions.list(limit: 1).to_a
    assert_match(/token refresh answered 401; exchanging the API key/, @log.string)
    assert_equal 2, log_count("exchanged the API key")
  ensure
    server&.stop
  end

  def test_a_token_the_server_no_longer_accepts_is_replaced_once
    server = ScopeTest::LiveServer.new.start
    client = client_for(server)
    client.executions.list(limit: 1).to_a
    server.restart(env: { "SCOPE_JWT_KEYS" => "rotated:#{'r' * 48}" }) # old tokens: 401
    assert_equal [], client.executions.list(limit: 1).to_a
    assert_equal 2, log_count("exchanged the API key")
  ensure
    server&.stop
  end

  def test_a_wrong_api_key_raises_unauthenticated
    client = client_for(ScopeTest.server, "not-a-valid-key")
    error = assert_raises(Scope::Unauthenticated) { client.prompts.get("anything") }
    assert_equal [401, "unauthenticated"], [error.status, error.code]
  end

  def test_the_key_never_shows_in_inspect
    client = client_for(ScopeTest.server)
    refute_includes client.inspect, ScopeTest.server.api_key
    refute_includes client.instance_variable_get(:@auth).inspect, ScopeTest.server.api_key
  end
end
