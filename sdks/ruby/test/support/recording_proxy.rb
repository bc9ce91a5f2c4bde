# frozen_string_literal: true

require "socket"

module ScopeTest
  # A pass-through TCP proxy in front of a real server that records the head
  # (request line and headers) of every HTTP request going through it.
  #
  # It lets a test assert what the SDK actually sent -- "no request at all",
  # "exactly one refresh", "with If-None-Match" -- while the answers still come
  # from the real server.
  class RecordingProxy
    # A recorded request: +line+ ("GET /api/v1/... HTTP/1.1") and +headers+ (lower-case names).
    Head = Struct.new(:line, :headers)

    def initialize(upstream_port)
      @upstream_port = upstream_port
      @server = TCPServer.new("127.0.0.1", 0)
      @heads = []
      @connections = 0
      @lock = Mutex.new
      @thread = Thread.new { accept_loop }
    end

    def base_url
      "http://127.0.0.1:#{@server.addr[1]}"
    end

    # Recorded requests whose line contains +fragment+.
    def requests(fragment = "")
      @lock.synchronize { @heads.select { |head| head.line.include?(fragment) } }
    end

    # Client connections accepted so far.
    def connections
      @lock.synchronize { @connections }
    end

    def stop
      @thread.kill
      @server.close
    end

    private

    def accept_loop
      loop do
        client = @server.accept
        @lock.synchronize { @connections += 1 }
        Thread.new(client) { |socket| relay(socket) }
      end
    rescue IOError
      nil # stopped
    end

    def relay(client)
      upstream = TCPSocket.new("127.0.0.1", @upstream_port)
      back = Thread.new { copy(upstream, client) }
      forward_requests(client, upstream)
      back.join
    rescue SystemCallError, IOError
      nil
    ensure
      [client, upstream].each { |socket| socket&.close unless socket&.closed? }
    end

    def forward_requests(client, upstream)
      while (head = read_head(client))
        upstream.write(head)
        record(head)
        length = head[/^content-length:\s*(\d+)/i, 1].to_i
        upstream.write(client.read(length)) if length.positive?
      end
      upstream.close_write
    end

    def read_head(socket)
      head = +""
      while (line = socket.gets)
        head << line
        return head if line == "\r\n"
      end
      nil
    end

    def record(head)
      line, *rest = head.split("\r\n")
      headers = rest.to_h do |header|
        name, value = header.split(":", 2)
        [name.downcase, value.to_s.strip]
      end
      @lock.synchronize { @heads << Head.new(line, headers) }
    end

    def copy(from, to)
      IO.copy_stream(from, to)
    rescue SystemCallError, IOError
      nil
    ensure
      to.close unless to.closed?
    end
  end
end
