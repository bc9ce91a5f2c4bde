# frozen_string_literal: true

require "time"

module Scope
  module Resources
    # +client.runs+: start a golden-set run, follow its progress and read its results.
    #
    # Thin calls over the API's /golden-sets/{name}/runs and /runs endpoints;
    # runs and results are Hashes as the API sends them. Calls about one run take
    # its id or the run Hash itself (what #create returned).
    class Runs
      ENDED = %w[succeeded failed cancelled].freeze

      def initialize(client)
        @client = client
      end

      # Starts a run of +golden_set+ (202: the server runs it in the background);
      # returns the run, status "queued". Follow it with #wait.
      #
      # +targets+ is a list of {provider:, model:}; +scorers+ a list of scorer
      # objects such as {type: "exact_match"}. Before anything runs the server checks
      # that every item renders with every version: if not, ValidationError (its
      # +errors+ name the items and the missing variables) and nothing is started.
      # Never retried: a repeat could start (and bill) a second run.
      def create(golden_set, prompt:, versions:, targets:, scorers: [], parameters: nil,
                 concurrency: nil, budget_usd: nil, cache: nil)
        body = definition(prompt, versions, targets, scorers, parameters, concurrency, budget_usd, cache)
        @client.json("POST", "/golden-sets/#{Client.segment(golden_set)}/runs", body: body)
      end

      # What the run would take, without starting it: "calls", "judge_calls",
      # "input_tokens", "output_tokens", "cost_usd" (nil if a model has no price) and
      # "expected_duration_s". Validated like #create.
      def estimate(golden_set, prompt:, versions:, targets:, scorers: [], parameters: nil, concurrency: nil)
        body = definition(prompt, versions, targets, scorers, parameters, concurrency, nil, nil)
        @client.json("POST", "/golden-sets/#{Client.segment(golden_set)}/runs/estimate", body: body)
      end

      # One run: "status", "progress" {"done", "total", "failed"}, "spent_usd",
      # "error" and "summary" (one entry per version and target).
      def retrieve(run)
        @client.json("GET", "/runs/#{path_id(run)}")
      end

      # Polls +run+ every +poll+ seconds until it has ended (succeeded, failed or
      # cancelled) and returns it. After +timeout+ seconds (nil: no limit) raises
      # RunTimeout with the run as last read; the run itself goes on.
      def wait(run, timeout: nil, poll: 0.5)
        raise ArgumentError, "poll must be a positive number of seconds, got #{poll.inspect}" unless poll.positive?
        raise ArgumentError, "timeout must be >= 0 seconds, got #{timeout.inspect}" if timeout&.negative?

        deadline = timeout && (Client::MONOTONIC.call + timeout)
        id = path_id(run)
        loop do
          latest = @client.json("GET", "/runs/#{id}")
          return latest if ENDED.include?(latest["status"])

          remaining = deadline && (deadline - Client::MONOTONIC.call)
          raise RunTimeout.new(timeout_message(latest, timeout), latest) if remaining && remaining <= 0

          # The last poll falls on the deadline, not up to +poll+ seconds after it.
          sleep(remaining ? [poll, remaining].min : poll)
        end
      end

      # Runs, newest first (of +golden_set+, if given), fetched page by page as the
      # Enumerator is iterated.
      def list(golden_set: nil, limit: nil)
        @client.paginate("/runs", { golden_set: golden_set }, limit: limit)
      end

      # One page of runs (+cursor+ from the previous page's +next_cursor+).
      def page(golden_set: nil, limit: nil, cursor: nil)
        @client.page("/runs", { golden_set: golden_set, cursor: cursor }, limit: limit)
      end

      # The completed cells of +run+ in item order (one per item, version and
      # target), fetched lazily; stable while the run goes on. +since+ (a Time or an
      # RFC 3339 String): only the cells completed at or after it (+completed_at+).
      def results(run, since: nil, limit: nil)
        @client.paginate("/runs/#{path_id(run)}/results", { since: instant(since) }, limit: limit)
      end

      # One page of results of +run+ (a +cursor+ goes with the +since+ it came from).
      def results_page(run, since: nil, limit: nil, cursor: nil)
        @client.page("/runs/#{path_id(run)}/results", { since: instant(since), cursor: cursor },
                     limit: limit)
      end

      # Stops +run+ (calls in flight are abandoned, finished cells kept); returns
      # the run. Conflict once the run has ended.
      def cancel(run)
        @client.json("POST", "/runs/#{path_id(run)}/cancel")
      end

      private

      def instant(time)
        time.is_a?(Time) ? time.getutc.iso8601(6) : time
      end

      # The escaped id of +run+: an id, or a run Hash as the API returned it.
      def path_id(run)
        Client.segment(run.is_a?(Hash) ? run.fetch("id") : run)
      end

      # The request body of #create and #estimate; unset options take the server's defaults.
      def definition(prompt, versions, targets, scorers, parameters, concurrency, budget_usd, cache)
        { prompt: prompt, versions: versions, targets: targets, scorers: scorers, parameters: parameters,
          concurrency: concurrency, budget_usd: budget_usd, cache: cache }.compact
      end

      def timeout_message(run, timeout)
        progress = run["progress"] || {}
        "run #{run["id"]} is still #{run["status"]} after #{timeout} s " \
          "(#{progress["done"]}/#{progress["total"]} cells done); it goes on: wait again or cancel it"
      end
    end
  end
end
