# frozen_string_literal: true

require "test_helper"

# The cache's bookkeeping on its own, with a clock the test moves.
class CacheTest < Minitest::Test
  KEY = ["greeting", "production", nil].freeze

  def setup
    @clock = ScopeTest::FakeClock.new
    @cache = Scope::PromptCache.new(clock: @clock, retry_backoff: 5.0)
    @prompt = Scope::Prompt.new("greeting", 1, "Hi {{ name }}", ["name"], etag: '"e1"')
  end

  def test_an_entry_records_when_it_was_fetched
    assert_nil @cache.entry(KEY)
    @cache.store(KEY, @prompt)
    assert_equal [@prompt, 1000.0], @cache.entry(KEY).to_a
  end

  def test_touch_renews_an_entry_without_replacing_the_prompt
    @cache.store(KEY, @prompt)
    @clock.advance(90)
    @cache.touch(KEY)
    assert_same @prompt, @cache.entry(KEY).prompt
    assert_equal 1090.0, @cache.entry(KEY).fetched_at
  end

  def test_only_one_caller_claims_a_refresh_until_it_is_released
    claims = Array.new(50) { Thread.new { @cache.claim(KEY, ttl: 60) } }.map(&:value)
    assert_equal 1, claims.count(true)
    refute @cache.claim(KEY, ttl: 60)
    @cache.release(KEY)
    assert @cache.claim(KEY, ttl: 60)
  end

  def test_an_entry_renewed_since_the_caller_looked_is_not_claimed
    # A caller saw the entry stale; meanwhile another refresh renewed it and released.
    @cache.store(KEY, @prompt)
    @clock.advance(90)
    @cache.touch(KEY)
    refute @cache.claim(KEY, ttl: 60)
    @clock.advance(60)
    assert @cache.claim(KEY, ttl: 60)
  end

  def test_a_failure_holds_off_claims_for_the_backoff
    @cache.failed(KEY)
    assert @cache.backing_off?(KEY)
    refute @cache.claim(KEY, ttl: 60)
    @clock.advance(4.9)
    refute @cache.claim(KEY, ttl: 60)
    @clock.advance(0.2)
    refute @cache.backing_off?(KEY)
    assert @cache.claim(KEY, ttl: 60)
  end

  def test_a_successful_fetch_ends_the_backoff
    @cache.failed(KEY)
    @cache.store(KEY, @prompt)
    refute @cache.backing_off?(KEY)
  end

  def test_keys_are_copied_so_a_caller_cannot_change_them
    name = +"greeting"
    @cache.store([name, "production", nil], @prompt)
    name << "-changed"
    assert_same @prompt, @cache.entry(KEY).prompt
  end

  def test_clear_forgets_everything
    @cache.store(KEY, @prompt)
    @cache.failed(KEY)
    @cache.clear
    assert_nil @cache.entry(KEY)
    refute @cache.backing_off?(KEY)
  end

  def test_prompts_are_immutable_once_cached
    prompt = Scope::Prompt.from_version({ "prompt" => "p", "number" => 1, "variables" => [],
                                          "content" => [{ "role" => "user", "content" => "x" }] })
    assert prompt.content.frozen?
    assert prompt.content.first["content"].frozen?
    assert_raises(FrozenError) { prompt.content.first["content"] << "y" }
  end
end
