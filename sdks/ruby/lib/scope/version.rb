# frozen_string_literal: true

module Scope
  VERSION = "0.1.0"
end
