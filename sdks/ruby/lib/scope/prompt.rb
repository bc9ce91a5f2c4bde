# frozen_string_literal: true

require "scope/template"

module Scope
  # A prompt as an app uses it: content fetched from Scope (or a fallback) and +render+.
  #
  # +content+ is a String (a text prompt) or an Array of chat messages
  # ({"role" => ..., "content" => ...}). +version+ is nil for a fallback.
  class Prompt
    attr_reader :name, :version, :content, :variables, :etag

    # Builds a prompt from a version as the API returns it.
    def self.from_version(data, etag: nil)
      new(data.fetch("prompt"), data.fetch("number"), data.fetch("content"),
          data.fetch("variables"), etag: etag)
    end

    # The caller's fallback template standing in for an unreachable Scope.
    #
    # Raises TemplateSyntaxError at once if the fallback is not a valid template.
    def self.fallback(name, content)
      content = normalize_messages(content)
      new(name, nil, content, Template.content_variables(content), fallback: true)
    end

    def self.normalize_messages(content)
      return content if content.is_a?(String)
      raise TypeError, "fallback must be a String or an Array of messages" unless content.is_a?(Array)

      content.map { |message| message.transform_keys(&:to_s) }
    end
    private_class_method :normalize_messages

    def initialize(name, version, content, variables, etag: nil, fallback: false)
      @name = name.freeze
      @version = version
      @content = deep_freeze(content)
      @variables = variables.dup.freeze
      @etag = etag
      @fallback = fallback
      # Prompts are shared between threads through the cache: only the memoised
      # template (idempotent to compute) is set after construction.
      @templates = nil
    end

    # True when Scope could not be reached and the caller's fallback is used instead.
    def fallback?
      @fallback
    end

    # Fills in the variables (a Hash with String or Symbol keys, or keyword arguments):
    # a String for a text prompt, an Array of messages for a chat prompt.
    #
    # Raises MissingVariablesError naming every missing variable.
    def render(variables = nil, **keywords)
      vars = Template.normalize(variables).merge!(Template.normalize(keywords))
      return templates.render(vars) if @content.is_a?(String)

      Template.render_content(@content, vars)
    end

    def inspect
      kind = @fallback ? "fallback" : "version=#{@version}"
      "#<Scope::Prompt #{@name.inspect} #{kind} variables=#{@variables.inspect}>"
    end
    alias to_s inspect

    private

    # Text prompts keep their checked template, so rendering parses nothing.
    def templates
      @templates ||= Template.compile(@content)
    end

    def deep_freeze(value)
      case value
      when Array then value.map { |item| deep_freeze(item) }.freeze
      when Hash then value.to_h { |key, item| [key.freeze, deep_freeze(item)] }.freeze
      when String then value.frozen? ? value : value.dup.freeze
      else value
      end
    end
  end
end
