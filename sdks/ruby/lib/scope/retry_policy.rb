# frozen_string_literal: true

require "time"

module Scope
  # When and how long to wait before trying a request again.
  #
  # Connection errors, timeouts, 429 and 5xx are retried, with exponential backoff
  # and full jitter (a random wait between 0 and base_delay * 2**n, capped at
  # max_delay). A Retry-After header (seconds or an HTTP date) replaces the
  # backoff, capped at max_delay too, so a server cannot stall a caller for long.
  # +sleep+ and +random+ are injectable so tests check the waits without waiting.
  class RetryPolicy
    attr_reader :max_attempts, :base_delay, :max_delay

    # +max_attempts+ counts the first try (3: the request and two retries).
    def initialize(max_attempts: 3, base_delay: 0.2, max_delay: 5.0,
                   sleep: ->(seconds) { Kernel.sleep(seconds) }, random: Random.new)
      raise ArgumentError, "max_attempts must be at least 1" if max_attempts < 1

      @max_attempts = max_attempts
      @base_delay = base_delay.to_f
      @max_delay = max_delay.to_f
      @sleep = sleep
      @random = random
    end

    # A policy that tries once and never waits.
    def self.none
      new(max_attempts: 1)
    end

    # True for the statuses worth another try: 429 and every 5xx.
    def retry_status?(status)
      status == 429 || status >= 500
    end

    # Waits before attempt number +attempt+ + 1; returns the seconds waited.
    def wait(attempt, retry_after = nil)
      seconds = delay(attempt, retry_after)
      @sleep.call(seconds) if seconds.positive?
      seconds
    end

    # The wait after the +attempt+-th failed attempt (1-based).
    def delay(attempt, retry_after = nil)
      hinted = self.class.parse_retry_after(retry_after)
      return hinted.clamp(0.0, @max_delay) if hinted

      ceiling = [@max_delay, @base_delay * (2**(attempt - 1))].min
      @random.rand * ceiling
    end

    # Seconds from a Retry-After value ("3", "1.5" or an HTTP date), or nil.
    def self.parse_retry_after(value, now: Time.now)
      return nil if value.nil? || value.strip.empty?
      return Float(value) if value.match?(/\A\s*\d+(\.\d+)?\s*\z/)

      [Time.httpdate(value.strip) - now, 0.0].max
    rescue ArgumentError
      nil
    end
  end
end
