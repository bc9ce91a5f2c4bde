# frozen_string_literal: true

require "logger"
require "minitest/autorun"
require "stringio"
require "scope"
require "support/fake_clock"
require "support/fake_server"
require "support/live_server"
require "support/recording_proxy"

module ScopeTest
  VECTORS = File.expand_path("../../../tests/vectors/templates.json", __dir__)

  # The server most integration tests share, started on first use and stopped at exit.
  def self.server
    @server ||= begin
      server = LiveServer.new.start
      Minitest.after_run { server.stop }
      server
    end
  end

  # A logger whose output a test can read (+log.string+).
  def self.logger(io = StringIO.new)
    logger = Logger.new(io)
    logger.level = Logger::DEBUG
    logger
  end

  # Waits until the block is true (polling a condition, not sleeping a fixed time).
  def self.eventually(timeout: 10.0)
    deadline = Process.clock_gettime(Process::CLOCK_MONOTONIC) + timeout
    until (result = yield)
      raise Minitest::Assertion, "condition not met within #{timeout} s" if
        Process.clock_gettime(Process::CLOCK_MONOTONIC) > deadline

      sleep 0.01
    end
    result
  end

  # A unique prompt name for one test.
  def self.unique(prefix)
    "#{prefix}-#{SecureRandom.hex(4)}"
  end
end
