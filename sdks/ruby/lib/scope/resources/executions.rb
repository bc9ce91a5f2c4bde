# frozen_string_literal: true

require "time"

module Scope
  module Resources
    # +client.executions+: run a prompt version on a model; read what ran.
    #
    # Executions are returned as Hashes, as the API sends them ("id", "status",
    # "output", "input_tokens", "cost_usd", ...).
    class Executions
      # Executions wait for an LLM (and the server's own provider retries).
      TIMEOUT = 300.0

      def initialize(client)
        @client = client
      end

      # Renders +prompt+ (+version+, or +label+; default: production) with +variables+
      # and runs it on +provider+/+model+; returns the recorded execution.
      #
      # A failed provider call raises ProviderError/ProviderTimeout (the failed
      # execution is recorded: see +details["execution_id"]+); a missing variable
      # raises ValidationError naming it, and nothing runs. Never retried: a repeat
      # could run (and bill) the model twice.
      def create(prompt:, provider:, model:, variables: {}, version: nil, label: nil, parameters: {},
                 timeout: TIMEOUT)
        label = "production" if version.nil? && label.nil?
        body = { prompt: prompt, version: version, label: label, provider: provider, model: model,
                 variables: variables, parameters: parameters }.compact
        @client.json("POST", "/executions", body: body, timeout: timeout)
      end

      # One execution by id.
      def retrieve(id)
        @client.json("GET", "/executions/#{Client.segment(id)}")
      end

      # Executions, newest first, filtered; pages are fetched as the Enumerator is
      # iterated (+limit+: at most that many). +since+ is a Time or an RFC 3339 String.
      def list(prompt: nil, provider: nil, model: nil, status: nil, since: nil, limit: nil)
        @client.paginate("/executions", filters(prompt, provider, model, status, since), limit: limit)
      end

      # One page of executions (+cursor+ from the previous page's +next_cursor+).
      def page(prompt: nil, provider: nil, model: nil, status: nil, since: nil, limit: nil, cursor: nil)
        query = filters(prompt, provider, model, status, since).merge(cursor: cursor)
        @client.page("/executions", query, limit: limit)
      end

      private

      def filters(prompt, provider, model, status, since)
        since = since.getutc.iso8601(6) if since.is_a?(Time)
        { prompt: prompt, provider: provider, model: model, status: status, since: since }
      end
    end
  end
end
