# frozen_string_literal: true

require "json"
require "uri"
require "scope/auth"
require "scope/cache"
require "scope/errors"
require "scope/page"
require "scope/retry_policy"
require "scope/transport"
require "scope/resources/executions"
require "scope/resources/golden_sets"
require "scope/resources/prompts"
require "scope/resources/runs"

module Scope
  # A client for one Scope server: +prompts+, +executions+, +golden_sets+ and +runs+.
  #
  #   scope = Scope::Client.new(base_url: "https://scope.example.com", api_key: ENV["KEY"])
  #   prompt = scope.prompts.get("greeting", fallback: "Hello {{ name }}!")
  #   prompt.render(name: "Ada")
  #
  # Thread-safe: share one client (and so one cache and one token) per process.
  class Client
    MONOTONIC = -> { Process.clock_gettime(Process::CLOCK_MONOTONIC) }

    attr_reader :base_url, :prompts, :executions, :golden_sets, :runs

    # +base_url+ and +api_key+ default to SCOPE_BASE_URL and SCOPE_API_KEY.
    # +timeout+ bounds each read and write (seconds), +open_timeout+ each connect;
    # +retry_policy+ says how often and how long to retry; +clock+ (monotonic
    # seconds) drives the prompt cache and token renewal; +retry_backoff+ is the
    # pause after a failed prompt fetch before the next attempt.
    def initialize(base_url: nil, api_key: nil, timeout: 30.0, open_timeout: 5.0,
                   retry_policy: RetryPolicy.new, clock: MONOTONIC, retry_backoff: 5.0,
                   logger: nil, ca_file: nil)
      @base_url = resolve_url(base_url || ENV.fetch("SCOPE_BASE_URL", nil))
      key = api_key || ENV.fetch("SCOPE_API_KEY", nil)
      if key.nil? || key.empty?
        raise ConfigurationError, "no API key given: pass api_key: or set SCOPE_API_KEY " \
                                  "(create one with `scope keys create --tenant T --role R`)"
      end

      @prefix = "#{parse_url(@base_url).path}/api/v1"
      @transport = Transport.new(@base_url, retry_policy: retry_policy, timeout: timeout,
                                            open_timeout: open_timeout, ca_file: ca_file, logger: logger)
      @auth = Auth.new(@transport, key, api_prefix: @prefix, clock: clock, logger: logger)
      @prompts = Resources::Prompts.new(self, PromptCache.new(clock: clock, retry_backoff: retry_backoff), logger)
      @executions = Resources::Executions.new(self)
      @golden_sets = Resources::GoldenSets.new(self)
      @runs = Resources::Runs.new(self)
    end

    # Sends an authenticated request to +path+ (under /api/v1); returns the Response.
    #
    # A 401 is answered by exchanging the API key again and retrying once. Error
    # statuses raise the matching APIError; +ok+ lists extra statuses to return
    # (e.g. 304).
    def request(method, path, query: nil, body: nil, headers: {}, timeout: nil, ok: [])
      url = "#{@prefix}#{path}#{query_string(query)}"
      payload = body.nil? ? nil : JSON.generate(body)
      token = @auth.token
      response = send_request(method, url, token, headers, payload, timeout)
      if response.status == 401
        token = @auth.reauthenticate(token)
        response = send_request(method, url, token, headers, payload, timeout)
      end
      if response.status >= 400 || (response.status >= 300 && !ok.include?(response.status))
        raise APIError.from_response(response.status, response.body, response.headers)
      end

      response
    end

    # Sends a request and returns its decoded JSON body.
    def json(method, path, **options)
      request(method, path, **options).json
    end

    # Every item of a paginated list, fetched page by page as the caller iterates
    # (at most +limit+ items when given).
    def paginate(path, query = {}, limit: nil)
      Enumerator.new do |yielder|
        remaining = limit
        cursor = nil
        loop do
          page = page(path, query.merge(cursor: cursor), limit: remaining)
          page.data.each do |item|
            break if remaining&.zero?

            yielder << item
            remaining -= 1 if remaining
          end
          break if page.next_cursor.nil? || remaining&.zero?

          cursor = page.next_cursor
        end
      end
    end

    # One page of a list (+limit+ items at most, up to the API's maximum of 200).
    def page(path, query = {}, limit: nil)
      size = limit.nil? ? Page::MAX_SIZE : limit.clamp(1, Page::MAX_SIZE)
      Page.from_json(json("GET", path, query: query.merge(limit: size)))
    end

    # A path segment escaped so that a name can never change the path.
    def self.segment(value)
      URI.encode_www_form_component(value.to_s).gsub("+", "%20")
    end

    # Closes idle connections (the client stays usable).
    def close
      @transport.close
    end

    def inspect
      "#<Scope::Client base_url=#{@base_url.inspect} api_key=…>"
    end

    private

    def send_request(method, url, token, headers, payload, timeout)
      @transport.request(method, url, headers: headers.merge("Authorization" => "Bearer #{token}"),
                                      body: payload, timeout: timeout)
    end

    def query_string(query)
      return "" if query.nil?

      pairs = query.reject { |_, value| value.nil? }
      pairs.empty? ? "" : "?#{URI.encode_www_form(pairs)}"
    end

    def resolve_url(url)
      if url.nil? || url.empty?
        raise ConfigurationError, "no Scope server given: pass base_url: \"http://host:8000\" or set SCOPE_BASE_URL"
      end

      # Accept the API root too (what the server prints), not only the server's origin.
      url = url.chomp("/").delete_suffix("/api/v1")
      unless url.start_with?("http://", "https://")
        raise ConfigurationError, "base_url must start with http:// or https://, got #{url.inspect}"
      end

      url
    end

    def parse_url(url)
      uri = URI(url)
      raise ConfigurationError, "base_url has no host: #{url.inspect}" if uri.host.nil? || uri.host.empty?

      uri
    rescue URI::InvalidURIError => e
      raise ConfigurationError, "base_url is not a valid URL: #{e.message}"
    end
  end
end
