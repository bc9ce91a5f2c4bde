# frozen_string_literal: true

require "test_helper"

# What an app gets while Scope is down: the real server is killed (SIGKILL) and
# started again on the same port.
class OutageTest < Minitest::Test
  def setup
    @clock = ScopeTest::FakeClock.new
    @log = StringIO.new
    @waits = []
    @policy = Scope::RetryPolicy.new(sleep: ->(seconds) { @waits << seconds })
  end

  def client_for(base_url, api_key = "unused-key")
    Scope::Client.new(base_url: base_url, api_key: api_key, clock: @clock, retry_policy: @policy,
                      logger: ScopeTest.logger(@log), retry_backoff: 5.0)
  end

  def refresh_failures
    @log.string.scan("could not refresh prompt").length
  end

  def test_the_last_good_value_is_served_during_an_outage_and_replaced_after_it
    server = ScopeTest::LiveServer.new.start
    server.create_prompt("greeting", "v1 {{ name }}")
    client = client_for(server.base_url, server.api_key)
    good = client.prompts.get("greeting", ttl: 60)
    server.kill

    @clock.advance(61)
    assert_same good, client.prompts.get("greeting", ttl: 60) # at once, while a refresh tries
    ScopeTest.eventually { refresh_failures == 1 }
    assert_equal "v1 Ada", client.prompts.get("greeting", ttl: 60).render(name: "Ada")

    # Within the back-off after a failure, stale reads do not start new attempts.
    @clock.advance(4)
    10.times { assert_same good, client.prompts.get("greeting", ttl: 60) }
    sleep 0.3 # time for attempts that should not exist to fail and be logged
    assert_equal 1, refresh_failures

    # After it, one more attempt (still down: the last good value stays).
    @clock.advance(2)
    assert_same good, client.prompts.get("greeting", ttl: 60)
    ScopeTest.eventually { refresh_failures == 2 }

    server.restart
    server.promote("greeting", server.add_version("greeting", "v2 {{ name }}"))
    @clock.advance(6)
    client.prompts.get("greeting", ttl: 60)
    ScopeTest.eventually { client.prompts.get("greeting", ttl: 60).version == 2 }
  ensure
    server&.stop
  end

  def test_with_nothing_cached_the_fallback_is_served_and_marked
    client = client_for("http://127.0.0.1:#{ScopeTest::LiveServer.free_port}")
    prompt = client.prompts.get("greeting", fallback: "Hello {{ name }}!")
    assert prompt.fallback?
    assert_nil prompt.version
    assert_equal ["name"], prompt.variables
    assert_equal "Hello Ada!", prompt.render(name: "Ada")
    assert_match(/using the fallback for prompt "greeting"/, @log.string)
    assert_equal 2, @waits.length # the fetch was retried before giving up

    # Right after that failure the fallback comes back without another attempt.
    assert client.prompts.get("greeting", fallback: "Hello {{ name }}!").fallback?
    assert_equal 2, @waits.length
  end

  def test_a_chat_fallback_with_symbol_keys
    client = client_for("http://127.0.0.1:#{ScopeTest::LiveServer.free_port}")
    prompt = client.prompts.get("greeting", fallback: [{ role: "user", content: "Hi {{ name }}" }])
    assert_equal [{ "role" => "user", "content" => "Hi Ada" }], prompt.render(name: "Ada")
  end

  def test_with_nothing_cached_and_no_fallback_the_outage_is_raised
    client = client_for("http://127.0.0.1:#{ScopeTest::LiveServer.free_port}")
    error = assert_raises(Scope::ConnectionError) { client.prompts.get("greeting") }
    assert_match(/could not connect/, error.message)
  end

  def test_an_invalid_fallback_is_refused_when_it_is_needed
    client = client_for("http://127.0.0.1:#{ScopeTest::LiveServer.free_port}")
    assert_raises(Scope::TemplateSyntaxError) { client.prompts.get("greeting", fallback: "{{ user.name }}") }
  end
end
