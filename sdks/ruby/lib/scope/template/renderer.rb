# frozen_string_literal: true

module Scope
  module Template
    # Render nodes of a checked template. Text is a plain (frozen) String.
    module Nodes
      # ``{{ name }}``, or ``{{ name | default("text") }}`` when +default+ is set.
      Print = Struct.new(:name, :default)
      # ``if``/``elif`` branches as [name, body] pairs, then the ``else`` body.
      If = Struct.new(:branches, :else_body)
      # ``for target in iterable``.
      For = Struct.new(:target, :iterable, :body)
    end

    # Evaluates render nodes against one set of variables.
    #
    # Missing variables are collected rather than raised at once, so that one error
    # names all of them; only those actually reached count (not those in untaken
    # branches or in the body of a loop that runs zero times).
    class Renderer
      MISSING = Object.new.freeze

      # +variables+ is a Hash with String keys.
      def initialize(variables)
        @variables = variables
        @locals = {}
        @missing = {}
      end

      # The rendered text; raises MissingVariablesError or TemplateValueError.
      def render(nodes)
        out = +""
        walk(nodes, out)
        raise MissingVariablesError, @missing.keys unless @missing.empty?

        out
      end

      private

      def walk(nodes, out)
        nodes.each do |node|
          case node
          when String then out << node
          when Nodes::Print then print_value(node, out)
          when Nodes::If then branch(node, out)
          when Nodes::For then loop_over(node, out)
          end
        end
      end

      def lookup(name)
        return @locals[name] if @locals.key?(name)

        @variables.fetch(name, MISSING)
      end

      def print_value(node, out)
        value = lookup(node.name)
        if !value.equal?(MISSING)
          out << Output.to_text(value)
        elsif node.default
          out << node.default
        else
          @missing[node.name] = true
        end
      end

      def branch(node, out)
        node.branches.each do |name, body|
          value = lookup(name)
          next if value.equal?(MISSING) || !Output.truthy?(value)

          return walk(body, out)
        end
        walk(node.else_body, out)
      end

      def loop_over(node, out)
        items = lookup(node.iterable)
        return @missing[node.iterable] = true if items.equal?(MISSING)
        unless items.is_a?(Array)
          raise TemplateValueError.new(node.iterable, "variable '#{node.iterable}' must be a list, " \
                                                      "got #{Output.json_type(items)}")
        end

        with_local(node.target) do
          items.each do |item|
            @locals[node.target] = item
            walk(node.body, out)
          end
        end
      end

      # The loop variable shadows an outer one only inside the loop.
      def with_local(name)
        had = @locals.key?(name)
        saved = @locals[name]
        yield
      ensure
        had ? @locals[name] = saved : @locals.delete(name)
      end
    end
  end
end
