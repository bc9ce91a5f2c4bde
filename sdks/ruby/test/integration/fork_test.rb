# frozen_string_literal: true

require "test_helper"

# Pre-forking servers (Puma, Unicorn) create the client before forking workers.
class ForkTest < Minitest::Test
  def test_a_forked_child_opens_its_own_connection
    server = ScopeTest.server
    proxy = ScopeTest::RecordingProxy.new(server.port)
    client = Scope::Client.new(base_url: proxy.base_url, api_key: server.api_key)
    client.executions.list(limit: 1).to_a
    assert_equal 1, proxy.connections

    child = fork do
      client.executions.list(limit: 1).to_a
      exit!(0)
    rescue StandardError
      exit!(1)
    end
    _, status = Process.wait2(child)
    assert status.success?, "the request in the forked child failed"
    assert_equal 2, proxy.connections # the child did not share the parent's socket

    client.executions.list(limit: 1).to_a # the parent's pooled connection still works
    assert_equal 2, proxy.connections
  ensure
    proxy&.stop
  end
end
