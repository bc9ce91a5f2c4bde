# frozen_string_literal: true

require "monitor"

module Scope
  # The prompt cache behind +prompts.get+: fresh hits, stale-while-revalidate, outages.
  #
  # An entry is fresh while younger than the caller's TTL and is then returned
  # without any I/O. A stale entry is still returned at once, and #claim lets
  # exactly one caller per key start a background refresh. A failed refresh keeps
  # the entry (the last good value is what an app wants during an outage) and
  # holds off the next attempt for +retry_backoff+ seconds, so an outage does not
  # turn every call into a new connection attempt.
  #
  # Time comes from the injected +clock+ (monotonic seconds), so tests move time
  # instead of stubbing it. The semantics are those of the Python SDK's cache.
  class PromptCache
    # One cached prompt and the clock reading when the server last confirmed it.
    Entry = Struct.new(:prompt, :fetched_at)

    attr_reader :clock

    def initialize(clock: -> { Process.clock_gettime(Process::CLOCK_MONOTONIC) }, retry_backoff: 5.0)
      @clock = clock
      @retry_backoff = retry_backoff
      @entries = {}.freeze
      @retry_at = {}
      @refreshing = {}
      @lock = Monitor.new
    end

    # The entry for +key+ ([name, label, version]), or nil.
    #
    # Writers replace the frozen Hash of entries instead of changing it (writes
    # are rare: one per fetch), so this hot-path read needs no lock on any Ruby.
    def entry(key)
      @entries[key]
    end

    # Remembers a freshly fetched prompt.
    def store(key, prompt)
      @lock.synchronize do
        put(key, Entry.new(prompt, @clock.call).freeze)
        @retry_at.delete(key)
      end
    end

    # The server confirmed the cached value (304): it is fresh again.
    def touch(key)
      @lock.synchronize do
        current = @entries[key]
        put(key, Entry.new(current.prompt, @clock.call).freeze) if current
        @retry_at.delete(key)
      end
    end

    # True for the one caller that should refresh +key+ now; it must call #release.
    #
    # The entry's age is checked again under the lock: a caller that found it stale
    # may have looked just before another refresh renewed it and released its claim,
    # and must not start a second one.
    def claim(key, ttl:)
      @lock.synchronize do
        current = @entries[key]
        next false if current && @clock.call - current.fetched_at < ttl
        # A claim made before a fork (Puma, Unicorn) belongs to a thread the child
        # does not have: it must not block the child's refreshes forever.
        next false if @refreshing[key] == Process.pid || backing_off?(key)

        @refreshing[key] = Process.pid
        true
      end
    end

    # The refresh of +key+ has ended, successfully or not.
    def release(key)
      @lock.synchronize { @refreshing.delete(key) }
    end

    # Fetching +key+ failed: do not try again for +retry_backoff+ seconds.
    def failed(key)
      @lock.synchronize { @retry_at[key] = @clock.call + @retry_backoff }
    end

    # True while +key+ is inside the pause that follows a failed fetch.
    def backing_off?(key)
      retry_at = @retry_at[key]
      !retry_at.nil? && @clock.call < retry_at
    end

    # Forgets every entry (the next +get+ of each prompt fetches it).
    def clear
      @lock.synchronize do
        @entries = {}.freeze
        @retry_at.clear
      end
    end

    private

    def put(key, entry)
      # A caller could mutate its name String later: keep a frozen copy of the key.
      key = key.map { |part| part.frozen? ? part : part.dup.freeze }.freeze
      @entries = @entries.merge(key => entry).freeze
    end
  end
end
