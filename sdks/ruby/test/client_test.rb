# frozen_string_literal: true

require "test_helper"

# Configuration and the mapping of error responses to exceptions.
class ClientTest < Minitest::Test
  def with_env(values)
    saved = values.keys.to_h { |name| [name, ENV.fetch(name, nil)] }
    values.each { |name, value| ENV[name] = value }
    yield
  ensure
    saved.each { |name, value| ENV[name] = value }
  end

  def test_settings_come_from_the_environment_when_not_given
    with_env("SCOPE_BASE_URL" => "http://scope.internal:8000/api/v1/", "SCOPE_API_KEY" => "k") do
      assert_equal "http://scope.internal:8000", Scope::Client.new.base_url
    end
  end

  def test_a_missing_base_url_says_how_to_set_it
    with_env("SCOPE_BASE_URL" => nil, "SCOPE_API_KEY" => nil) do
      error = assert_raises(Scope::ConfigurationError) { Scope::Client.new(api_key: "k") }
      assert_match(/SCOPE_BASE_URL/, error.message)
    end
  end

  def test_a_missing_api_key_says_how_to_get_one
    with_env("SCOPE_API_KEY" => nil) do
      error = assert_raises(Scope::ConfigurationError) { Scope::Client.new(base_url: "http://h:1") }
      assert_match(/SCOPE_API_KEY.*scope keys create/, error.message)
    end
  end

  def test_a_base_url_that_is_not_an_http_url_is_refused
    ["scope.internal:8000", "http://", "http://exa mple.com"].each do |url|
      assert_raises(Scope::ConfigurationError, url) { Scope::Client.new(base_url: url, api_key: "k") }
    end
  end

  def test_error_statuses_map_to_the_exception_tree
    { 400 => Scope::BadRequest, 401 => Scope::Unauthenticated, 403 => Scope::Forbidden, 404 => Scope::NotFound,
      409 => Scope::Conflict, 413 => Scope::PayloadTooLarge, 422 => Scope::ValidationError,
      429 => Scope::RateLimited, 500 => Scope::ServerError, 502 => Scope::ProviderError,
      503 => Scope::ServerError, 504 => Scope::ProviderTimeout, 418 => Scope::APIError }.each do |status, klass|
      error = Scope::APIError.from_response(status, "", {})
      assert_instance_of klass, error, "status #{status}"
      assert_kind_of Scope::Error, error
    end
  end

  def test_an_error_body_is_read
    body = JSON.generate(error: { code: "conflict", message: "version 2 is already published",
                                  details: { "version" => 2 }, request_id: "abc" })
    error = Scope::APIError.from_response(409, body, {})
    assert_equal "409 conflict: version 2 is already published (request abc)", error.message
    assert_equal ["version 2 is already published", { "version" => 2 }, "abc"],
                 [error.reason, error.details, error.request_id]
  end

  def test_a_proxy_error_page_is_reported_as_such
    error = Scope::APIError.from_response(502, "<html>Bad gateway</html>", { "x-request-id" => "lb-1" })
    assert_instance_of Scope::ProviderError, error # classified by status
    assert_equal ["http_error", "unexpected response: <html>Bad gateway</html>", "lb-1"],
                 [error.code, error.reason, error.request_id]
  end

  def test_path_segments_are_escaped
    assert_equal "a%2Fb%20c%3F", Scope::Client.segment("a/b c?")
  end
end
