# frozen_string_literal: true

require "fileutils"
require "json"
require "net/http"
require "securerandom"
require "socket"
require "tmpdir"

module ScopeTest
  # A real `scope serve` process (Python, from the repository's venv) for integration tests.
  #
  # Its data lives in a temporary directory (SQLite), so a restart on the same
  # port keeps prompts and keys. The admin calls a test needs to set up data
  # (create a prompt, add and promote versions) go over plain Net::HTTP, not
  # through the SDK under test.
  class LiveServer
    REPO = File.expand_path("../../../..", __dir__)
    JWT_KEYS = "test:#{'k' * 48}"
    STARTUP_TIMEOUT = 30.0

    attr_reader :base_url, :api_key, :port

    def initialize(env: {})
      @port = self.class.free_port
      @base_url = "http://127.0.0.1:#{@port}"
      @api_key = "bootstrap-#{SecureRandom.hex(24)}"
      @dir = Dir.mktmpdir("scope-ruby-live-")
      @extra_env = env
      @pid = nil
    end

    # A TCP port nothing listens on right now (the OS picks it).
    def self.free_port
      server = TCPServer.new("127.0.0.1", 0)
      server.addr[1]
    ensure
      server&.close
    end

    # The Python interpreter whose environment has scope_api installed.
    def self.python
      ENV.fetch("SCOPE_PYTHON", File.join(REPO, ".venv", "bin", "python"))
    end

    # Starts the server and waits until /api/v1/health answers 200.
    def start
      log = File.open(log_path, "a")
      @pid = Process.spawn(environment, self.class.python, "-m", "scope_api.cli", "serve",
                           "--host", "127.0.0.1", "--port", @port.to_s,
                           chdir: @dir, out: log, err: log, pgroup: true)
      log.close
      begin
        wait_healthy
      rescue StandardError
        stop # no process or temporary directory left behind
        raise
      end
      self
    end

    # Kills the process at once (SIGKILL): an outage, not a shutdown.
    def kill
      signal("KILL")
    end

    # Starts again on the same port (after #kill), optionally with other settings
    # or with an empty database (+fresh_data+: every refresh token is unknown).
    def restart(env: {}, fresh_data: false)
      kill
      FileUtils.remove_entry(File.join(@dir, "data"), true) if fresh_data
      @extra_env = @extra_env.merge(env)
      @token = nil
      start
    end

    # Stops the process and removes its data.
    def stop
      signal("TERM")
      FileUtils.remove_entry(@dir, true)
    end

    # Everything the server wrote so far.
    def output
      File.exist?(log_path) ? File.read(log_path) : ""
    end

    # An access token for the bootstrap admin key.
    def token
      @token ||= call("POST", "/auth/token", { api_key: @api_key }, auth: false).fetch("access_token")
    end

    # Sends an admin request; returns the decoded body, raising on an error status.
    def call(method, path, body = nil, auth: true, expect: nil)
      status, parsed = raw(method, path, body, auth: auth)
      ok = expect ? Array(expect).include?(status) : status < 400
      raise "#{method} #{path} answered #{status}: #{parsed.inspect}" unless ok

      parsed
    end

    # Sends a request; returns [status, decoded body or nil].
    def raw(method, path, body = nil, auth: true, headers: {})
      uri = URI("#{@base_url}/api/v1#{path}")
      request = Net::HTTP.const_get(method.capitalize).new(uri)
      request["Authorization"] = "Bearer #{token}" if auth
      headers.each { |name, value| request[name] = value }
      if request.request_body_permitted?
        request["Content-Type"] = "application/json"
        request.body = body.nil? ? "" : JSON.generate(body)
      end
      response = Net::HTTP.start(uri.host, uri.port, read_timeout: 30) { |http| http.request(request) }
      parsed = response.body.nil? || response.body.empty? ? nil : JSON.parse(response.body)
      [response.code.to_i, parsed]
    end

    # Creates prompt +name+ with one version per content; promotes version +promote+.
    def create_prompt(name, *contents, promote: 1)
      call("POST", "/prompts", { name: name })
      contents.each { |content| add_version(name, content) }
      promote(name, promote) if promote
    end

    # Adds a version; returns its number.
    def add_version(name, content)
      call("POST", "/prompts/#{name}/versions", { content: content }).fetch("number")
    end

    # Publishes version +number+ of +name+.
    def promote(name, number)
      call("POST", "/prompts/#{name}/versions/#{number}/promote")
    end

    private

    def log_path
      File.join(@dir, "server.log")
    end

    def environment
      # No SCOPE_* setting of the caller's may leak into the server (nil unsets).
      env = ENV.keys.grep(/\ASCOPE_/).to_h { |name| [name, nil] }
      env.merge("SCOPE_DATA_DIR" => File.join(@dir, "data"), "SCOPE_JWT_KEYS" => JWT_KEYS,
                "SCOPE_BOOTSTRAP_API_KEY" => @api_key, "SCOPE_LOG_LEVEL" => "warning")
         .merge(@extra_env)
    end

    def wait_healthy
      deadline = monotonic + STARTUP_TIMEOUT
      last = "no attempt"
      while monotonic < deadline
        if reaped?
          @pid = nil
          raise "scope serve exited before becoming healthy:\n#{output}"
        end

        last = health
        return if last == "200"

        sleep 0.05 # polling a condition, not synchronising on time
      end
      raise "scope serve not healthy after #{STARTUP_TIMEOUT} s (#{last}):\n#{output}"
    end

    def health
      response = Net::HTTP.start("127.0.0.1", @port, open_timeout: 1, read_timeout: 2) do |http|
        http.get("/api/v1/health")
      end
      response.code
    rescue SystemCallError, IOError, Net::OpenTimeout, Net::ReadTimeout => e
      e.class.name
    end

    def signal(name)
      return if @pid.nil?

      send_signal(name)
      deadline = monotonic + 10
      until reaped?
        if monotonic > deadline
          send_signal("KILL")
          deadline = monotonic + 10
        end
        sleep 0.02
      end
      @pid = nil
    end

    def send_signal(name)
      Process.kill(name, -@pid) # the process group: uvicorn and anything it started
    rescue Errno::ESRCH
      nil
    end

    def reaped?
      !Process.waitpid(@pid, Process::WNOHANG).nil?
    rescue Errno::ECHILD
      true
    end

    def monotonic
      Process.clock_gettime(Process::CLOCK_MONOTONIC)
    end
  end
end
