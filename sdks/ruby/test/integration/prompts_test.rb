# frozen_string_literal: true

require "test_helper"

# prompts.get against a real `scope serve`, with the time of the cache under the
# test's control and every request the SDK sends recorded by a pass-through proxy.
class PromptsTest < Minitest::Test
  def setup
    @server = ScopeTest.server
    @proxy = ScopeTest::RecordingProxy.new(@server.port)
    @clock = ScopeTest::FakeClock.new
    @log = StringIO.new
    @client = Scope::Client.new(base_url: @proxy.base_url, api_key: @server.api_key, clock: @clock,
                                logger: ScopeTest.logger(@log))
    @name = ScopeTest.unique("greeting")
  end

  def teardown
    @client.close
    @proxy.stop
  end

  def production_requests
    @proxy.requests("/prompts/#{@name}/production")
  end

  # Gives a background refresh that should not exist time to reach the proxy.
  # Asserting an absence needs a wait; a slower machine can only make this pass
  # wrongly, never fail wrongly.
  def settle
    sleep 0.3
  end

  def wait_for_log(text, count = 1)
    ScopeTest.eventually { @log.string.scan(text).length >= count }
  end

  def test_get_returns_the_production_version_ready_to_render
    @server.create_prompt(@name, "Hello {{ name }}!", "Hi {{ name }}, {{ greeting | default('welcome') }}.",
                          promote: 2)
    prompt = @client.prompts.get(@name)
    assert_equal [@name, 2, %w[name greeting], false], [prompt.name, prompt.version, prompt.variables, prompt.fallback?]
    assert_equal "Hi Ada, welcome.", prompt.render(name: "Ada")
    assert_equal "Hi Ada, hello.", prompt.render({ "name" => "Ada" }, greeting: "hello")
    error = assert_raises(Scope::MissingVariablesError) { prompt.render }
    assert_equal ["name"], error.names
  end

  def test_a_chat_prompt_renders_each_message
    @server.create_prompt(@name, [{ role: "system", content: "Be {{ tone | default('kind') }}." },
                                  { role: "user", content: "Greet {{ name }}." }])
    prompt = @client.prompts.get(@name)
    assert_equal [{ "role" => "system", "content" => "Be brief." }, { "role" => "user", "content" => "Greet Ada." }],
                 prompt.render(name: "Ada", tone: "brief")
  end

  def test_fresh_hits_never_touch_the_network
    @server.create_prompt(@name, "v1 {{ x }}")
    first = @client.prompts.get(@name, ttl: 60)
    @clock.advance(59.9)
    1000.times { assert_same first, @client.prompts.get(@name, ttl: 60) }
    settle
    assert_equal 1, production_requests.length
    assert_equal 1, @proxy.requests("/auth/token").length
  end

  def test_a_stale_value_is_served_at_once_while_one_refresh_fetches_the_new_version
    @server.create_prompt(@name, "v1 {{ x }}")
    first = @client.prompts.get(@name, ttl: 60)
    @server.promote(@name, @server.add_version(@name, "v2 {{ x }}"))
    @clock.advance(60)
    assert_same first, @client.prompts.get(@name, ttl: 60)
    wait_for_log("refreshed prompt #{@name.inspect} (version 2)")
    assert_equal 2, @client.prompts.get(@name, ttl: 60).version
    assert_equal 2, production_requests.length
    assert_equal first.etag, production_requests.last.headers["if-none-match"]
  end

  def test_an_unchanged_prompt_is_revalidated_with_its_etag
    @server.create_prompt(@name, "v1 {{ x }}")
    first = @client.prompts.get(@name, ttl: 60)
    refute_nil first.etag
    @clock.advance(61)
    @client.prompts.get(@name, ttl: 60)
    wait_for_log("is unchanged (304)")
    # The 304 made the entry fresh again: the same object, and no further request.
    @clock.advance(59)
    assert_same first, @client.prompts.get(@name, ttl: 60)
    settle
    assert_equal 2, production_requests.length
  end

  def test_concurrent_stale_reads_start_exactly_one_refresh
    @server.create_prompt(@name, "v1 {{ x }}")
    first = @client.prompts.get(@name, ttl: 60)
    @clock.advance(120)
    threads = Array.new(16) do
      Thread.new { Array.new(200) { @client.prompts.get(@name, ttl: 60) } }
    end
    served = threads.flat_map(&:value)
    assert(served.all? { |prompt| prompt.equal?(first) })
    wait_for_log("is unchanged (304)")
    settle
    assert_equal 2, production_requests.length
  end

  def test_a_version_can_be_pinned
    @server.create_prompt(@name, "one", "two", promote: 2)
    pinned = @client.prompts.get(@name, version: 1)
    assert_equal [1, "one"], [pinned.version, pinned.content]
    assert_equal 2, @client.prompts.get(@name).version
    assert_equal 1, @proxy.requests("/prompts/#{@name}/versions/1").length
  end

  def test_a_missing_prompt_raises_not_found_even_with_a_fallback
    error = assert_raises(Scope::NotFound) { @client.prompts.get(@name, fallback: "Hello") }
    assert_equal [404, "not_found"], [error.status, error.code]
    assert_match(/#{@name}/, error.message)
  end

  def test_a_prompt_without_a_published_version_raises_not_found
    @server.create_prompt(@name, "draft only", promote: nil)
    assert_raises(Scope::NotFound) { @client.prompts.get(@name) }
  end

  def test_an_unknown_label_is_refused
    error = assert_raises(ArgumentError) { @client.prompts.get(@name, label: "staging") }
    assert_match(/production/, error.message)
  end
end
