# frozen_string_literal: true

require "scope/errors"

module Scope
  # Base class of template errors raised while checking or rendering a prompt locally.
  class TemplateError < Error; end

  # The template is not valid, or uses a construct outside the subset.
  #
  # +line+ is the 1-based line of the problem; +construct+ names a refused construct
  # (e.g. "filter 'upper'") and is nil for plain syntax errors.
  class TemplateSyntaxError < TemplateError
    attr_reader :line, :construct

    def initialize(message, line: nil, construct: nil)
      super(message)
      @line = line
      @construct = construct
    end

    # A construct that Jinja understands but the subset refuses.
    def self.unsupported(construct, line, hint = nil)
      where = line ? " (line #{line})" : ""
      tail = hint ? ": #{hint}" : ""
      new("unsupported construct: #{construct}#{where}#{tail}", line: line, construct: construct)
    end

    # A template that is not valid at all (unclosed tag, unexpected token, ...).
    def self.plain(detail, line)
      where = line ? " (line #{line})" : ""
      new("template syntax error: #{detail}#{where}", line: line)
    end
  end

  # Rendering needed variables that were not supplied; +names+ lists every one.
  class MissingVariablesError < TemplateError
    attr_reader :names

    def initialize(names, message = nil)
      @names = names.dup.freeze
      super(message || "missing variables: #{@names.join(', ')}")
    end
  end

  # A supplied value cannot be used as required (looping over a non-list); +name+ is its variable.
  class TemplateValueError < TemplateError
    attr_reader :name

    def initialize(name, message = nil)
      @name = name
      super(message || "invalid value for variable '#{name}'")
    end
  end
end
