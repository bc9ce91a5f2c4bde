# frozen_string_literal: true

require "socket"

module ScopeTest
  # A tiny HTTP/1.1 server on a real socket that answers with a test's handler.
  #
  # Used only where the real server cannot produce the case cheaply: 429/5xx
  # sequences for retry tests and a server that never answers (timeouts).
  class FakeServer
    # A request as the server received it.
    Request = Struct.new(:method, :path, :headers, :body)

    attr_reader :requests

    # The handler takes a Request and returns [status, headers, body], or :hang
    # (read and never answer) or :drop (close without answering).
    def initialize(&handler)
      @handler = handler
      @requests = []
      @lock = Mutex.new
      @server = TCPServer.new("127.0.0.1", 0)
      @thread = Thread.new { serve }
    end

    def base_url
      "http://127.0.0.1:#{@server.addr[1]}"
    end

    # Requests received so far (a copy).
    def received
      @lock.synchronize { @requests.dup }
    end

    def stop
      @thread.kill
      @server.close
    end

    private

    def serve
      loop do
        client = @server.accept
        Thread.new(client) { |socket| handle(socket) }
      end
    rescue IOError
      nil # stopped
    end

    def handle(socket)
      request = read_request(socket)
      return socket.close if request.nil?

      @lock.synchronize { @requests << request }
      answer = @handler.call(request)
      return sleep(3600) if answer == :hang

      respond(socket, *answer) unless answer == :drop
      socket.close
    rescue IOError, SystemCallError
      nil
    end

    def read_request(socket)
      line = socket.gets
      return nil if line.nil?

      method, path = line.split
      headers = {}
      while (header = socket.gets) && header != "\r\n"
        name, value = header.split(":", 2)
        headers[name.downcase] = value.strip
      end
      length = headers.fetch("content-length", "0").to_i
      Request.new(method, path, headers, length.positive? ? socket.read(length) : "")
    end

    def respond(socket, status, headers, body)
      lines = ["HTTP/1.1 #{status} X", "Content-Length: #{body.bytesize}", "Connection: close"]
      headers.each { |name, value| lines << "#{name}: #{value}" }
      socket.write("#{lines.join("\r\n")}\r\n\r\n#{body}")
    end
  end
end
