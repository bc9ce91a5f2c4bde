# frozen_string_literal: true

require "json"
require "monitor"
require "scope/errors"

module Scope
  # Exchanges an API key for short-lived access tokens and keeps one valid.
  #
  # The key is exchanged on first use (POST /auth/token). Once 80% of a token's
  # lifetime has passed it is renewed with the refresh token (POST /auth/refresh),
  # as the Python SDK does. Refresh tokens are single-use and the server revokes
  # the whole family when one is presented twice, so renewal happens under a lock
  # (one renewal for all threads), the refresh request is never retried, and a
  # refused or failed refresh falls back to a fresh exchange of the API key.
  # If Scope cannot be reached while renewing, the current token is used for as
  # long as it is still valid.
  #
  # Threat model: the API key and tokens live only in this object's memory; they
  # are never logged, and +inspect+ hides them.
  class Auth
    RENEW_AT = 0.8 # fraction of the token lifetime after which it is renewed

    def initialize(transport, api_key, api_prefix:, clock:, logger: nil)
      @transport = transport
      @api_key = api_key
      @prefix = api_prefix
      @clock = clock
      @logger = logger
      @lock = Monitor.new
      @access = nil
      @refresh = nil
      @renew_at = -Float::INFINITY
      @expires_at = -Float::INFINITY
    end

    # A valid access token, renewing it first if needed.
    def token
      @lock.synchronize do
        renew if @access.nil? || @clock.call >= @renew_at
        @access
      end
    end

    # The server refused +used+ (401): forget it and exchange the API key again.
    # Returns the new token. Several threads refused at once exchange only once.
    def reauthenticate(used)
      @lock.synchronize do
        if @access == used || @access.nil?
          @access = @refresh = nil
          exchange
        end
        @access
      end
    end

    def inspect
      "#<Scope::Auth api_key=…>"
    end

    private

    def renew
      return refresh if @refresh && @access

      exchange
    rescue ConnectionError, ServerError, RateLimited => e
      raise if @access.nil? || @clock.call >= @expires_at

      @logger&.warn("scope: could not renew the access token (#{e.message}); using the current one")
    end

    def refresh
      started = @clock.call
      token_used = @refresh
      # Whatever happens next, this refresh token is spent: never send it again.
      @refresh = nil
      response = post("/auth/refresh", { refresh_token: token_used }, retryable: false)
      if response.status == 200
        store(response, started)
        @logger&.debug("scope: refreshed the access token")
      else
        @logger&.info("scope: token refresh answered #{response.status}; exchanging the API key")
        exchange
      end
    rescue ConnectionError => e
      @logger&.info("scope: token refresh failed (#{e.message}); exchanging the API key")
      exchange
    end

    def exchange
      started = @clock.call
      response = post("/auth/token", { api_key: @api_key }, retryable: true)
      raise APIError.from_response(response.status, response.body, response.headers) unless response.status == 200

      store(response, started)
      @logger&.debug("scope: exchanged the API key for an access token")
    end

    def post(path, body, retryable:)
      @transport.request("POST", "#{@prefix}#{path}", body: JSON.generate(body), retryable: retryable)
    end

    def store(response, started)
      body = response.json
      lifetime = Float(body.fetch("expires_in"))
      @access = body.fetch("access_token")
      @refresh = body["refresh_token"]
      @renew_at = started + (lifetime * RENEW_AT)
      @expires_at = started + lifetime
    end
  end
end
