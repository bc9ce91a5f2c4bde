# frozen_string_literal: true

module ScopeTest
  # A monotonic clock that moves only when a test says so.
  class FakeClock
    attr_reader :now

    def initialize(now = 1000.0)
      @now = now
      @lock = Mutex.new
    end

    # The current reading (what Scope::Client calls).
    def call
      @lock.synchronize { @now }
    end

    # Moves time forward by +seconds+.
    def advance(seconds)
      @lock.synchronize { @now += seconds }
    end
  end
end
