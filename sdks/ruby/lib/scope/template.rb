# frozen_string_literal: true

require "monitor"
require "scope/template/errors"
require "scope/template/lexer"
require "scope/template/literals"
require "scope/template/stream"
require "scope/template/ast"
require "scope/template/expression"
require "scope/template/parser"
require "scope/template/scan"
require "scope/template/checker"
require "scope/template/output"
require "scope/template/renderer"

module Scope
  # Prompt templates: the strict subset of Jinja2 that every Scope renderer shares.
  #
  # ``{{ name }}``, ``{{ name | default("text") }}``, ``{% if a %}…{% elif b %}…
  # {% else %}…{% endif %}`` and ``{% for x in items %}…{% endfor %}``; anything
  # else is refused with a TemplateSyntaxError naming the construct. The rules
  # (output of each value type, truthiness, strictness, whitespace) are those of
  # the server's ``scope_api/templating`` and are pinned by the shared vectors in
  # ``tests/vectors/templates.json``, which this implementation passes.
  module Template
    CACHE_SIZE = 256
    @cache = {}
    @cache_lock = Monitor.new

    # A checked template, ready to render any number of times (thread-safe).
    class Compiled
      # Input variables in order of first appearance (loop variables excluded).
      attr_reader :variables

      def initialize(source)
        raise TypeError, "template source must be a String, not #{source.class}" unless source.is_a?(String)

        # Jinja normalises line endings of the template text (never of values).
        text = source.gsub(/\r\n?/, "\n")
        tokens = Lexer.new(text).tokenize
        paren_line = Scan.new(tokens, source.count("\n") + 1).run
        checker = Checker.new
        @nodes = checker.body(Parser.new(tokens).parse).freeze
        raise TemplateSyntaxError.unsupported("parentheses", paren_line) if paren_line

        @variables = checker.variables.keys.freeze
      end

      # Renders with +variables+ (a Hash with String or Symbol keys).
      def render(variables = {})
        Renderer.new(Template.normalize(variables)).render(@nodes)
      end
    end

    class << self
      # The checked template for +source+ (cached, bounded); raises TemplateSyntaxError.
      def compile(source)
        cached = @cache_lock.synchronize { @cache[source] }
        return cached if cached

        compiled = Compiled.new(source)
        @cache_lock.synchronize do
          @cache.shift if @cache.size >= CACHE_SIZE
          @cache[source.frozen? ? source : source.dup.freeze] = compiled
        end
        compiled
      end

      # Renders +source+ with +variables+.
      def render(source, variables = {})
        compile(source).render(variables)
      end

      # Input variables of +source+, in order of first appearance.
      def variables(source)
        compile(source).variables
      end

      # Renders text content, or the "content" of each chat message (other keys kept).
      #
      # All messages are checked first; a MissingVariablesError names every missing
      # variable across all messages.
      def render_content(content, variables = {})
        return render(content, variables) if content.is_a?(String)

        templates = message_templates(content)
        vars = normalize(variables)
        missing = {}
        rendered = templates.each_with_index.map do |template, index|
          render_message(content[index], template, vars, index, missing)
        end
        raise MissingVariablesError, missing.keys unless missing.empty?

        rendered
      end

      # Input variables of text or chat content (the union over messages, in order).
      def content_variables(content)
        return variables(content) if content.is_a?(String)

        message_templates(content).flat_map(&:variables).uniq
      end

      # Variables with String keys (callers may use Symbols).
      def normalize(variables)
        return {} if variables.nil?
        raise TypeError, "variables must be a Hash, not #{variables.class}" unless variables.is_a?(Hash)

        variables.transform_keys(&:to_s)
      end

      private

      def message_templates(content)
        raise TypeError, "content must be a String or an Array of messages" unless content.is_a?(Array)

        content.each_with_index.map do |message, index|
          text = message.is_a?(Hash) ? message["content"] || message[:content] : nil
          raise TemplateError, "messages[#{index}]: content must be a string" unless text.is_a?(String)

          with_prefix(index) { compile(text) }
        end
      end

      def render_message(message, template, vars, index, missing)
        text = with_prefix(index) do
          template.render(vars)
        rescue MissingVariablesError => e
          e.names.each { |name| missing[name] = true }
          ""
        end
        key = message.key?("content") ? "content" : :content
        message.merge(key => text)
      end

      # Errors of one chat message name it: "messages[1]: unsupported construct: ...".
      def with_prefix(index)
        yield
      rescue TemplateError => e
        raise prefixed(index, e)
      end

      def prefixed(index, error)
        message = "messages[#{index}]: #{error.message}"
        case error
        when TemplateSyntaxError then TemplateSyntaxError.new(message, line: error.line, construct: error.construct)
        when TemplateValueError then TemplateValueError.new(error.name, message)
        when MissingVariablesError then MissingVariablesError.new(error.names, message)
        else TemplateError.new(message)
        end
      end
    end
  end
end
