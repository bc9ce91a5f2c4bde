# frozen_string_literal: true

require "scope/prompt"

module Scope
  module Resources
    # +client.prompts+: +get+, the cached fetch production apps use.
    class Prompts
      # Failures that mean "Scope is unavailable right now", as opposed to a definite answer.
      UNAVAILABLE = [ConnectionError, ServerError, RateLimited].freeze

      def initialize(client, cache, logger)
        @client = client
        @cache = cache
        @logger = logger
      end

      # The prompt an app should use now, from the cache whenever possible.
      #
      # A hit younger than +ttl+ seconds never touches the network. An older one is
      # returned at once while one background refresh (revalidated with ETag) runs.
      # If Scope is unreachable the last good value keeps being served; with nothing
      # cached, +fallback+ (a template String or chat messages) is returned as a
      # Prompt with +fallback?+ true, or ConnectionError (ServerError, RateLimited)
      # is raised. A definite answer such as NotFound is raised, never replaced by
      # the fallback. +version+ pins a version number instead of the label.
      def get(name, label: "production", version: nil, ttl: 60, fallback: nil)
        key = [name, label, version]
        entry = @cache.entry(key)
        if entry
          stale = @cache.clock.call - entry.fetched_at >= ttl
          refresh_in_background(key) if stale && @cache.claim(key, ttl: ttl)
          return entry.prompt
        end
        fetch_missing(key, fallback)
      end

      # Forgets every cached prompt.
      def clear_cache
        @cache.clear
      end

      private

      def fetch_missing(key, fallback)
        name = key.first
        # Right after a failure, do not make the caller wait for another one.
        return Prompt.fallback(name, fallback) if fallback && @cache.backing_off?(key)

        begin
          prompt = fetch(key, nil)
        rescue *UNAVAILABLE => e
          @cache.failed(key)
          raise if fallback.nil?

          @logger&.warn("scope: Scope is unavailable (#{e.message}); using the fallback for prompt #{name.inspect}")
          return Prompt.fallback(name, fallback)
        end
        @cache.store(key, prompt)
        prompt
      end

      # The prompt from the server, or nil when +etag+ is still current (304).
      def fetch(key, etag)
        name, label, version = key
        headers = etag ? { "If-None-Match" => etag } : {}
        response = @client.request("GET", path(name, label, version), headers: headers, ok: [304])
        return nil if response.status == 304

        Prompt.from_version(response.json, etag: response.headers["etag"])
      end

      def path(name, label, version)
        return "/prompts/#{Client.segment(name)}/versions/#{Integer(version)}" unless version.nil?
        return "/prompts/#{Client.segment(name)}/production" if label == "production"

        raise ArgumentError, "unknown label #{label.inspect}: the registry has \"production\" (or pass version: N)"
      end

      def refresh_in_background(key)
        Thread.new { refresh(key) }.report_on_exception = false
      rescue ThreadError => e
        @cache.release(key)
        @logger&.warn("scope: could not start a refresh of prompt #{key.first.inspect} (#{e.message})")
      end

      def refresh(key)
        entry = @cache.entry(key)
        prompt = fetch(key, entry&.prompt&.etag)
        if prompt.nil?
          @cache.touch(key)
          @logger&.debug("scope: prompt #{key.first.inspect} is unchanged (304)")
        else
          @cache.store(key, prompt)
          @logger&.debug("scope: refreshed prompt #{key.first.inspect} (version #{prompt.version})")
        end
      rescue StandardError => e
        # Keep serving the last good value, a deleted or unpublished prompt's too,
        # so that an operator's mistake cannot take a running app down.
        @cache.failed(key)
        @logger&.warn("scope: could not refresh prompt #{key.first.inspect} (#{e.message}); " \
                      "serving the cached version")
      ensure
        @cache.release(key)
      end
    end
  end
end
