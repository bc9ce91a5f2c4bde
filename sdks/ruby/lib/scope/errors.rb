# frozen_string_literal: true

require "json"

# Scope's Ruby client. See Scope::Client.
module Scope
  # The SDK's exceptions: one tree, so +rescue Scope::NotFound+ reads naturally.
  #
  #   Scope::Error
  #   ├── ConfigurationError         no base URL or API key: the message says how to set them
  #   ├── ConnectionError            Scope could not be reached (after retries)
  #   │   └── TimeoutError           ... because a connect, read or write timed out
  #   ├── RunTimeout                 runs.wait gave up before the run ended (+run+)
  #   ├── TemplateError              rendering a prompt locally (scope/template/errors.rb)
  #   │   ├── TemplateSyntaxError    outside the template subset (+construct+, +line+)
  #   │   ├── MissingVariablesError  +names+: every missing variable, in order of use
  #   │   └── TemplateValueError     +name+: e.g. looping over a non-list
  #   └── APIError                   the server answered with an error body
  #       ├── BadRequest             400 bad_request
  #       ├── Unauthenticated        401 unauthenticated
  #       ├── Forbidden              403 forbidden
  #       ├── NotFound               404 not_found
  #       ├── Conflict               409 conflict
  #       ├── PayloadTooLarge        413 payload_too_large
  #       ├── ValidationError        422 validation_error (+errors+: [{loc, msg}])
  #       ├── RateLimited            429 rate_limited (+retry_after+ seconds, if sent)
  #       ├── ProviderError          502 provider_error (the LLM provider failed)
  #       ├── ProviderTimeout        504 provider_timeout
  #       └── ServerError            other 5xx (500 internal, 503 database unavailable)
  #
  # The same tree as the Python SDK's (scope_lab.errors), with Scope::Error for ScopeError.
  class Error < StandardError; end

  # The client is missing a setting; the message says how to provide it.
  class ConfigurationError < Error; end

  # Scope could not be reached (connection refused, DNS, TLS, timeout) after retries.
  class ConnectionError < Error; end

  # A connect, read or write timed out.
  class TimeoutError < ConnectionError; end

  # +runs.wait+ gave up before the run ended; the run itself goes on on the server.
  class RunTimeout < Error
    # The run as last read (a Hash: "status", "progress", ...).
    attr_reader :run

    def initialize(message, run)
      super(message)
      @run = run
    end
  end

  # The server answered with an error body: +status+, +code+, +reason+ (the server's
  # message alone), +details+, +request_id+; +message+ combines them.
  class APIError < Error
    attr_reader :status, :code, :reason, :details, :request_id, :headers

    def initialize(status, code, message, details: {}, request_id: nil, headers: {})
      suffix = request_id.nil? || request_id.empty? ? "" : " (request #{request_id})"
      super("#{status} #{code}: #{message}#{suffix}")
      @status = status
      @code = code
      @reason = message
      @details = details || {}
      @request_id = request_id
      @headers = headers || {}
    end

    # Builds the exception for an error response (+headers+ with lower-case names).
    def self.from_response(status, body, headers = {})
      klass = BY_STATUS.fetch(status) { status >= 500 ? ServerError : APIError }
      error = parse_body(body)
      if error
        klass.new(status, error["code"].to_s, error["message"].to_s, details: error["details"],
                                                                     request_id: error["request_id"], headers: headers)
      else
        # Not Scope's body: a proxy or load balancer answered. Say so plainly.
        text = body.to_s.strip[0, 200]
        klass.new(status, "http_error", "unexpected response: #{text.empty? ? "HTTP #{status}" : text}",
                  request_id: headers["x-request-id"], headers: headers)
      end
    end

    def self.parse_body(body)
      parsed = body.nil? || body.empty? ? nil : JSON.parse(body)
      error = parsed.is_a?(Hash) ? parsed["error"] : nil
      error.is_a?(Hash) && error.key?("code") && error.key?("message") ? error : nil
    rescue JSON::ParserError
      nil
    end
    private_class_method :parse_body
  end

  # 400: malformed request or tampered cursor.
  class BadRequest < APIError; end
  # 401: missing, expired or revoked credentials.
  class Unauthenticated < APIError; end
  # 403: the API key's role lacks the permission.
  class Forbidden < APIError; end
  # 404: no such resource in this tenant.
  class NotFound < APIError; end
  # 409: duplicate name, illegal status transition or concurrent change.
  class Conflict < APIError; end
  # 413: the request body is over the server's limit.
  class PayloadTooLarge < APIError; end

  # 422: the request is well-formed but invalid; +errors+ lists {loc, msg}.
  class ValidationError < APIError
    # The server's per-field errors.
    def errors
      list = details["errors"]
      list.is_a?(Array) ? list : []
    end
  end

  # 429: too many requests; +retry_after+ is the server's hint in seconds, if any.
  class RateLimited < APIError
    # Seconds the server asked to wait (numeric Retry-After only), or nil.
    def retry_after
      value = headers["retry-after"]
      value.nil? ? nil : Float(value)
    rescue ArgumentError
      nil
    end
  end

  # 502: the LLM provider answered with an error (the failed execution is recorded).
  class ProviderError < APIError; end
  # 504: the LLM provider did not answer in time.
  class ProviderTimeout < APIError; end
  # Any other 5xx: a server-side failure (the body never holds a stack trace).
  class ServerError < APIError; end

  class APIError
    BY_STATUS = {
      400 => BadRequest, 401 => Unauthenticated, 403 => Forbidden, 404 => NotFound,
      409 => Conflict, 413 => PayloadTooLarge, 422 => ValidationError, 429 => RateLimited,
      502 => ProviderError, 504 => ProviderTimeout
    }.freeze
  end
end
