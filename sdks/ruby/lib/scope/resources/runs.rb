# frozen_string_literal: true

module Scope
  module Resources
    # +client.runs+: start a golden-set run and read its progress and results.
    #
    # Thin calls over the API's /golden-sets/{name}/runs and /runs endpoints;
    # runs and results are Hashes as the API sends them.
    class Runs
      def initialize(client)
        @client = client
      end

      # Starts a run of +golden_set+ (202: it runs in the background); returns the run.
      #
      # +targets+ is a list of {provider:, model:}; +scorers+ a list of scorer
      # objects such as {type: "exact_match"}.
      def create(golden_set, prompt:, versions:, targets:, scorers:, parameters: nil, concurrency: nil)
        body = { prompt: prompt, versions: versions, targets: targets, scorers: scorers,
                 parameters: parameters, concurrency: concurrency }.compact
        @client.json("POST", "/golden-sets/#{Client.segment(golden_set)}/runs", body: body)
      end

      # One run: "status", "progress" {"done", "total", "failed"} and "summary".
      def retrieve(id)
        @client.json("GET", "/runs/#{Client.segment(id)}")
      end

      # Runs (of +golden_set+, if given), fetched page by page as the Enumerator is iterated.
      def list(golden_set: nil, limit: nil)
        @client.paginate("/runs", { golden_set: golden_set }, limit: limit)
      end

      # One page of runs (+cursor+ from the previous page's +next_cursor+).
      def page(golden_set: nil, limit: nil, cursor: nil)
        @client.page("/runs", { golden_set: golden_set, cursor: cursor }, limit: limit)
      end

      # Every result of run +id+ (one per item, version and target), fetched lazily.
      def results(id, limit: nil)
        @client.paginate("/runs/#{Client.segment(id)}/results", {}, limit: limit)
      end

      # One page of results of run +id+.
      def results_page(id, limit: nil, cursor: nil)
        @client.page("/runs/#{Client.segment(id)}/results", { cursor: cursor }, limit: limit)
      end

      # Asks the server to stop run +id+; returns the run.
      def cancel(id)
        @client.json("POST", "/runs/#{Client.segment(id)}/cancel")
      end
    end
  end
end
