# frozen_string_literal: true

module Scope
  module Template
    # Walks a parsed template, refusing everything outside the subset (naming the
    # construct as the server does) and turning the rest into render nodes.
    #
    # Only bare names, ``default`` with one string literal, ``if`` on names and
    # ``for`` over names get through; input variables are collected in order of
    # first appearance, names bound by an enclosing ``for`` excluded.
    class Checker
      NAME = /\A[A-Za-z_][A-Za-z0-9_]*\z/.freeze
      COMPARISONS = %w[== != > >= < <= in].freeze

      attr_reader :variables

      def initialize
        @variables = {}
      end

      # Render nodes for +statements+; +bound+ holds the loop variables in scope.
      def body(statements, bound = [])
        statements.map { |node| statement(node, bound) }
      end

      private

      def statement(node, bound)
        case node
        when Ast::Text then node.text
        when Ast::Output then output(node.expr, bound)
        when Ast::If then if_node(node, bound)
        when Ast::For then for_node(node, bound)
        end
      end

      def if_node(node, bound)
        branches = [[name(node.test, bound), body(node.body, bound)]]
        node.elifs.each { |test, branch| branches << [name(test, bound), body(branch, bound)] }
        Nodes::If.new(branches, body(node.else_body, bound))
      end

      def for_node(node, bound)
        target = node.target
        if target.is_a?(Ast::TupleLit)
          names = target.items.map { |item| Describe.show(item) }.join(", ")
          raise TemplateSyntaxError.unsupported("tuple unpacking '#{names}'", target.line)
        end
        raise TemplateSyntaxError.unsupported(Describe.construct(target), target.line) unless target.is_a?(Ast::Name)

        check_name(target.name, target.line)
        iterable = name(node.iter, bound)
        raise TemplateSyntaxError.unsupported("for loop 'if' filter", node.test.line) if node.test
        raise TemplateSyntaxError.unsupported("for loop 'recursive'", node.line) if node.recursive
        raise TemplateSyntaxError.unsupported("for loop 'else'", node.line) unless node.else_body.empty?

        Nodes::For.new(target.name, iterable, body(node.body, bound + [target.name]))
      end

      def output(expr, bound)
        return Nodes::Print.new(name(expr, bound), nil) unless expr.is_a?(Ast::Filter) && expr.name == "default"

        inner = expr.node
        if inner.is_a?(Ast::Filter)
          raise TemplateSyntaxError.unsupported("chained filters", expr.line) if inner.name == "default"

          raise TemplateSyntaxError.unsupported(Describe.construct(inner), inner.line)
        end
        raise TemplateSyntaxError.unsupported(Describe.construct(inner), expr.line) unless inner.is_a?(Ast::Name)

        argument = expr.args.first
        unless expr.args.length == 1 && argument.is_a?(Ast::Const) && argument.value.is_a?(String) &&
               expr.kwargs.empty? && !expr.dyn
          raise TemplateSyntaxError.unsupported("filter 'default' arguments", expr.line,
                                                "default takes exactly one string literal")
        end
        Nodes::Print.new(name(inner, bound), argument.value.freeze)
      end

      # Accepts a bare variable name (an input unless loop-bound) and returns it.
      def name(node, bound)
        raise TemplateSyntaxError.unsupported(Describe.construct(node), node.line) unless node.is_a?(Ast::Name)

        check_name(node.name, node.line)
        @variables[node.name] = true unless bound.include?(node.name)
        node.name.freeze
      end

      def check_name(name, line)
        raise TemplateSyntaxError.unsupported("non-ASCII name '#{name}'", line) unless NAME.match?(name)
      end
    end

    # How refused expressions are named in error messages (the server's wording).
    module Describe
      module_function

      # The +construct+ of a refused expression, e.g. "attribute access 'user.name'".
      def construct(node)
        case node
        when Ast::Getattr then "attribute access '#{show(node)}'"
        when Ast::Getitem, Ast::Slice then "item access '#{show(node)}'"
        when Ast::Call then "function call '#{show(node.node)}'"
        when Ast::Filter then "filter '#{node.name}'"
        when Ast::Test then "test '#{node.name}'"
        when Ast::BinExpr, Ast::UnaryExpr then "operator '#{node.operator}'"
        when Ast::Concat then "operator '~'"
        when Ast::Compare then "comparison '#{node.ops.first.first}'"
        when Ast::CondExpr then "conditional expression"
        when Ast::Const then "literal #{show(node)}"
        when Ast::ListLit then "list literal"
        when Ast::DictLit then "dict literal"
        when Ast::TupleLit then "tuple"
        else "expression '#{node.class.name.split('::').last}'"
        end
      end

      # Best-effort source text of an expression.
      def show(node)
        case node
        when Ast::Name then node.name
        when Ast::Const then show_const(node.value)
        when Ast::Getattr then "#{show(node.node)}.#{node.attr}"
        when Ast::Getitem then "#{show(node.node)}[#{show(node.arg)}]"
        when Ast::Slice then slice_parts(node).map { |part| part.nil? ? "" : show(part) }.join(":")
        when Ast::Call
          arguments = node.args.empty? && node.kwargs.empty? && !node.dyn ? "" : "..."
          "#{show(node.node)}(#{arguments})"
        else "..."
        end
      end

      def slice_parts(node)
        node.step.nil? ? [node.start, node.stop] : [node.start, node.stop, node.step]
      end

      def show_const(value)
        case value
        when String then Output.json_string(value)
        when nil then "none"
        when Float then Output.float_repr(value)
        else value.to_s
        end
      end
    end
  end
end
