# frozen_string_literal: true

require_relative "lib/scope/version"

Gem::Specification.new do |spec|
  spec.name = "scope-sdk"
  spec.version = Scope::VERSION
  spec.summary = "Ruby client for Scope: fetch, cache and render prompts; run and read evaluations"
  spec.description = "Fetches prompt versions from a Scope registry with an API key, caches them " \
                     "(stale-while-revalidate, last good value during outages, fallbacks) and renders " \
                     "Scope's template language exactly as the server does. Standard library only."
  spec.authors = ["Scope contributors"]
  spec.license = "Apache-2.0"
  spec.required_ruby_version = ">= 3.1"
  spec.files = Dir["lib/**/*.rb", "README.md"]
  spec.require_paths = ["lib"]
  spec.metadata["rubygems_mfa_required"] = "true"
  # No runtime dependencies: net/http, json, openssl, monitor and strscan ship with Ruby.
end
