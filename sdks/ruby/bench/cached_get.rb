# frozen_string_literal: true

# Time of a cached prompts.get (a fresh hit: no network), per call.
#
#   ruby -Ilib bench/cached_get.rb                      # starts its own `scope serve`
#   SCOPE_BASE_URL=... SCOPE_API_KEY=... ruby -Ilib bench/cached_get.rb PROMPT_NAME
#
# The first get fetches the prompt from a real server; every timed call is then a
# hit. Calls are timed in batches of BATCH (a clock read costs about as much as
# a hit), and the median and p99 of the per-call time over the batches are
# printed; single-call timings (which include one clock read) are printed too.
# Target (issue 8): median under 5 µs.

$LOAD_PATH.unshift(File.expand_path("../lib", __dir__))
$LOAD_PATH.unshift(File.expand_path("../test", __dir__))
require "scope"

CALLS = Integer(ENV.fetch("CALLS", 100_000))
BATCH = 100
TARGET_NS = 5_000

def now_ns
  Process.clock_gettime(Process::CLOCK_MONOTONIC, :nanosecond)
end

def percentile(sorted, fraction)
  sorted[((sorted.length - 1) * fraction).round]
end

def with_server
  if ENV["SCOPE_BASE_URL"] && ARGV[0]
    yield Scope::Client.new, ARGV[0]
  else
    require "support/live_server"
    server = ScopeTest::LiveServer.new.start
    begin
      server.create_prompt("bench", [{ role: "system", content: "You are {{ persona }}." },
                                     { role: "user", content: "{{ question }}" }])
      yield Scope::Client.new(base_url: server.base_url, api_key: server.api_key), "bench"
    ensure
      server.stop
    end
  end
end

with_server do |client, name|
  prompt = client.prompts.get(name, ttl: 3600)
  20_000.times { client.prompts.get(name, ttl: 3600) } # warm-up

  batches = Array.new(CALLS / BATCH) do
    started = now_ns
    BATCH.times { client.prompts.get(name, ttl: 3600) }
    (now_ns - started).fdiv(BATCH)
  end.sort
  singles = Array.new(10_000) do
    started = now_ns
    client.prompts.get(name, ttl: 3600)
    now_ns - started
  end.sort
  same = client.prompts.get(name, ttl: 3600).equal?(prompt)

  puts "ruby #{RUBY_VERSION} (#{RUBY_PLATFORM}), scope-ruby #{Scope::VERSION}"
  puts "cached prompts.get, #{CALLS} calls in batches of #{BATCH} (a hit every time: #{same})"
  puts format("  per call: median %<p50>.0f ns, p99 %<p99>.0f ns, max %<max>.0f ns",
              p50: percentile(batches, 0.5), p99: percentile(batches, 0.99), max: batches.last)
  puts format("  single calls (incl. one clock read): median %<p50>d ns, p99 %<p99>d ns",
              p50: percentile(singles, 0.5), p99: percentile(singles, 0.99))
  median = percentile(batches, 0.5)
  puts format("  target: median < %<target>d ns -> %<verdict>s", target: TARGET_NS,
                                                                 verdict: median < TARGET_NS ? "met" : "MISSED")
  exit(median < TARGET_NS ? 0 : 1)
end
