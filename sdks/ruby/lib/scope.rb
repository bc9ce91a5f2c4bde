# frozen_string_literal: true

# Scope's Ruby client: fetch, cache and render prompts from a Scope registry, and
# trigger and read executions and evaluation runs. Standard library only.
#
#   require "scope"
#   scope = Scope::Client.new # SCOPE_BASE_URL, SCOPE_API_KEY
#   scope.prompts.get("greeting").render(name: "Ada")
module Scope
end

require "scope/version"
require "scope/errors"
require "scope/template"
require "scope/prompt"
require "scope/client"
