# frozen_string_literal: true

require "monitor"
require "net/http"
require "openssl"
require "uri"
require "scope/errors"
require "scope/retry_policy"
require "scope/version"

module Scope
  # An HTTP response: +status+, +headers+ (lower-case names) and +body+ (UTF-8 text).
  Response = Struct.new(:status, :headers, :body) do
    # The parsed JSON body, or nil when there is none.
    def json
      body.nil? || body.empty? ? nil : JSON.parse(body)
    end
  end

  # Sends requests to one Scope server over kept-alive connections, with timeouts
  # and retries.
  #
  # Net::HTTP objects are not thread-safe, so each request checks one out of a
  # small pool and returns it afterwards; a connection that failed is closed, never
  # reused. Network failures become Scope::ConnectionError (TimeoutError for
  # timeouts). Only idempotent requests are retried, unless the caller says a
  # request is safe to repeat (the API-key exchange is).
  class Transport
    IDEMPOTENT = %w[GET HEAD PUT DELETE OPTIONS].freeze
    METHODS = {
      "GET" => Net::HTTP::Get, "POST" => Net::HTTP::Post, "PUT" => Net::HTTP::Put,
      "PATCH" => Net::HTTP::Patch, "DELETE" => Net::HTTP::Delete, "HEAD" => Net::HTTP::Head
    }.freeze
    NETWORK_ERRORS = [
      SystemCallError, IOError, SocketError, OpenSSL::SSL::SSLError, Net::HTTPBadResponse,
      Net::ProtocolError
    ].freeze
    TIMEOUTS = [Net::OpenTimeout, Net::ReadTimeout, Net::WriteTimeout].freeze

    attr_reader :base_uri

    def initialize(base_url, retry_policy: RetryPolicy.new, open_timeout: 5.0, timeout: 30.0,
                   ca_file: nil, pool_size: 8, logger: nil)
      @base_uri = URI(base_url)
      @origin = "#{@base_uri.scheme}://#{@base_uri.host}:#{@base_uri.port}"
      @retry = retry_policy
      @open_timeout = open_timeout
      @timeout = timeout
      @ca_file = ca_file
      @pool_size = pool_size
      @logger = logger
      @idle = []
      @pid = Process.pid
      @lock = Monitor.new
    end

    # Sends a request, retrying per the policy; returns the last Response.
    #
    # +retryable+ defaults to true for idempotent methods. Raises ConnectionError
    # when the server could not be reached on the last attempt.
    def request(method, path, headers: {}, body: nil, timeout: nil, retryable: IDEMPOTENT.include?(method))
      attempts = retryable ? @retry.max_attempts : 1
      (1..attempts).each do |attempt|
        last = attempt == attempts
        begin
          response = send_once(method, path, headers, body, timeout)
        rescue ConnectionError => e
          raise if last

          backoff(attempt, nil, "#{method} #{path} failed (#{e.message})")
          next
        end
        return response if last || !@retry.retry_status?(response.status)

        backoff(attempt, response.headers["retry-after"], "#{method} #{path} answered #{response.status}")
      end
    end

    # Closes every idle connection (open ones close when their request ends).
    def close
      @lock.synchronize do
        @idle.each { |http| finish(http) }
        @idle.clear
      end
    end

    private

    def backoff(attempt, retry_after, reason)
      seconds = @retry.wait(attempt, retry_after)
      @logger&.info("scope: #{reason}; retrying in #{format('%.2f', seconds)} s")
    end

    def send_once(method, path, headers, body, timeout)
      http = checkout
      begin
        http.read_timeout = http.write_timeout = timeout || @timeout
        response = http.request(build(method, path, headers, body))
      rescue *TIMEOUTS => e
        finish(http)
        raise TimeoutError, "#{method} #{@origin}#{path} timed out (#{e.class.name.split('::').last})"
      rescue *NETWORK_ERRORS => e
        finish(http)
        raise ConnectionError, "#{method} #{@origin}#{path} failed: #{e.class}: #{e.message}"
      end
      checkin(http)
      Response.new(response.code.to_i, response_headers(response), text(response.body))
    end

    def build(method, path, headers, body)
      request = METHODS.fetch(method).new(path)
      request["User-Agent"] = "scope-ruby/#{VERSION}"
      request["Accept"] = "application/json"
      headers.each { |name, value| request[name] = value }
      if body || request.request_body_permitted?
        request["Content-Type"] = "application/json"
        request.body = body || ""
      end
      request
    end

    def response_headers(response)
      headers = {}
      response.each_header { |name, value| headers[name] = value }
      headers
    end

    def text(body)
      body.nil? ? "" : body.force_encoding(Encoding::UTF_8)
    end

    def checkout
      idle = @lock.synchronize do
        # After a fork the idle sockets are shared with the parent: drop them
        # without closing (closing a TLS session would break the parent's).
        @idle, @pid = [], Process.pid if @pid != Process.pid
        @idle.pop
      end
      idle || connect
    end

    def checkin(http)
      # Net::HTTP closes the connection itself when the server says so.
      keep = http.started? && @lock.synchronize { @idle.length < @pool_size && @idle.push(http) }
      finish(http) unless keep
    end

    def connect
      http = Net::HTTP.new(@base_uri.host, @base_uri.port)
      http.open_timeout = @open_timeout
      http.max_retries = 0 # retries are this class's job, with backoff
      if @base_uri.scheme == "https"
        http.use_ssl = true
        http.verify_mode = OpenSSL::SSL::VERIFY_PEER
        http.ca_file = @ca_file if @ca_file
      end
      http.start
    rescue *TIMEOUTS => e
      raise TimeoutError, "connecting to #{@base_uri} timed out (#{e.class.name.split('::').last})"
    rescue *NETWORK_ERRORS => e
      raise ConnectionError, "could not connect to #{@base_uri}: #{e.class}: #{e.message}"
    end

    def finish(http)
      http.finish if http.started?
    rescue IOError
      nil # already closed
    end
  end
end
