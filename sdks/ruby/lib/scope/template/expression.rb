# frozen_string_literal: true

module Scope
  module Template
    # A recursive-descent parser for Jinja2's expression grammar (same precedence).
    #
    # Most of what it accepts is refused afterwards by the Checker; parsing it all
    # is what lets the refusal name the construct instead of a token.
    class ExpressionParser
      COMPARE = %w[== != > >= < <=].freeze
      CONSTANTS = {
        "true" => true, "false" => false, "True" => true, "False" => false,
        "none" => nil, "None" => nil
      }.freeze
      TUPLE_END = %i[variable_end block_end].freeze
      ARGUMENT_START = %i[name string integer float].freeze

      def initialize(stream)
        @stream = stream
      end

      # Jinja's parse_tuple: one expression, or a tuple when commas separate several.
      def parse_tuple(simplified: false, with_condexpr: true, end_names: [], parenthesized: false)
        line = @stream.current.line
        items = []
        tuple = false
        loop do
          @stream.expect(:operator, ",") unless items.empty?
          break if tuple_end?(end_names)

          items << tuple_item(simplified, with_condexpr)
          break unless @stream.operator?(",")

          tuple = true
        end
        return items.first if !tuple && !items.empty?
        return Ast::TupleLit.new(items, line) if tuple || parenthesized

        @stream.fail_at(@stream.current, "expected an expression, got '#{@stream.describe(@stream.current)}'")
      end

      # A full expression, including ``a if b else c`` when +with_condexpr+.
      def parse_expression(with_condexpr: true)
        with_condexpr ? parse_condexpr : parse_or
      end

      # A primary expression (name, literal, parenthesised tuple, list, dict).
      def parse_primary
        token = @stream.current
        case token.type
        when :name then primary_name(token)
        when :string then primary_string(token)
        when :integer, :float
          @stream.advance
          Ast::Const.new(Literals.parse(token), token.line)
        when :operator then primary_operator(token)
        else @stream.fail_at(token, "unexpected '#{@stream.describe(token)}'")
        end
      end

      private

      def tuple_item(simplified, with_condexpr)
        return parse_primary if simplified

        parse_expression(with_condexpr: with_condexpr)
      end

      def tuple_end?(end_names)
        token = @stream.current
        TUPLE_END.include?(token.type) || (token.type == :operator && token.value == ")") ||
          (token.type == :name && end_names.include?(token.value))
      end

      def parse_condexpr
        line = @stream.current.line
        expr1 = parse_or
        while @stream.skip_if(:name, "if")
          expr2 = parse_or
          expr3 = @stream.skip_if(:name, "else") ? parse_condexpr : nil
          expr1 = Ast::CondExpr.new(expr2, expr1, expr3, line)
        end
        expr1
      end

      def parse_or
        left = parse_and
        left = Ast::BinExpr.new("or", left, parse_and, left.line) while @stream.skip_if(:name, "or")
        left
      end

      def parse_and
        left = parse_not
        left = Ast::BinExpr.new("and", left, parse_not, left.line) while @stream.skip_if(:name, "and")
        left
      end

      def parse_not
        return parse_compare unless @stream.name?("not")

        line = @stream.advance.line
        Ast::UnaryExpr.new("not", parse_not, line)
      end

      def parse_compare
        line = @stream.current.line
        expr = parse_math1
        ops = []
        loop do
          if @stream.current.type == :operator && COMPARE.include?(@stream.current.value)
            ops << [@stream.advance.value, parse_math1]
          elsif @stream.skip_if(:name, "in")
            ops << ["in", parse_math1]
          elsif @stream.name?("not") && @stream.look.type == :name && @stream.look.value == "in"
            2.times { @stream.advance }
            ops << ["not in", parse_math1]
          else
            break
          end
        end
        ops.empty? ? expr : Ast::Compare.new(expr, ops, line)
      end

      def parse_math1
        binary(%w[+ -]) { parse_concat }
      end

      def parse_concat
        line = @stream.current.line
        nodes = [parse_math2]
        nodes << parse_math2 while @stream.skip_if(:operator, "~")
        nodes.length == 1 ? nodes.first : Ast::Concat.new(nodes, line)
      end

      def parse_math2
        binary(%w[* / // %]) { parse_pow }
      end

      def parse_pow
        binary(%w[**]) { parse_unary }
      end

      def binary(operators)
        left = yield
        while @stream.current.type == :operator && operators.include?(@stream.current.value)
          operator = @stream.advance.value
          left = Ast::BinExpr.new(operator, left, yield, left.line)
        end
        left
      end

      def parse_unary(with_filter: true)
        token = @stream.current
        node =
          if @stream.operator?("-") || @stream.operator?("+")
            @stream.advance
            Ast::UnaryExpr.new(token.value, parse_unary(with_filter: false), token.line)
          else
            parse_primary
          end
        node = parse_postfix(node)
        with_filter ? parse_filter_expr(node) : node
      end

      def primary_name(token)
        @stream.advance
        return Ast::Const.new(CONSTANTS[token.value], token.line) if CONSTANTS.key?(token.value)

        Ast::Name.new(token.value, token.line)
      end

      def primary_string(token)
        # Adjacent literals concatenate in Jinja; the scan has refused them already.
        value = +""
        value << Literals.unquote(@stream.advance.value) while @stream.test?(:string)
        Ast::Const.new(value, token.line)
      end

      def primary_operator(token)
        case token.value
        when "("
          @stream.advance
          node = parse_tuple(parenthesized: true)
          @stream.expect(:operator, ")")
          node
        when "[" then parse_list(token)
        when "{" then parse_dict(token)
        else @stream.fail_at(token, "unexpected '#{token.value}'")
        end
      end

      def parse_list(token)
        @stream.advance
        items = []
        until @stream.operator?("]")
          @stream.expect(:operator, ",") unless items.empty?
          break if @stream.operator?("]")

          items << parse_expression
        end
        @stream.expect(:operator, "]")
        Ast::ListLit.new(items, token.line)
      end

      def parse_dict(token)
        @stream.advance
        pairs = []
        until @stream.operator?("}")
          @stream.expect(:operator, ",") unless pairs.empty?
          break if @stream.operator?("}")

          key = parse_expression
          @stream.expect(:operator, ":")
          pairs << [key, parse_expression]
        end
        @stream.expect(:operator, "}")
        Ast::DictLit.new(pairs, token.line)
      end

      def parse_postfix(node)
        loop do
          if @stream.operator?(".") || @stream.operator?("[")
            node = parse_subscript(node)
          elsif @stream.operator?("(")
            node = parse_call(node)
          else
            return node
          end
        end
      end

      def parse_filter_expr(node)
        loop do
          if @stream.operator?("|") then node = parse_filter(node)
          elsif @stream.name?("is") then node = parse_test(node)
          elsif @stream.operator?("(") then node = parse_call(node)
          else return node
          end
        end
      end

      def parse_subscript(node)
        token = @stream.advance
        if token.value == "."
          attr = @stream.current
          @stream.advance
          return Ast::Getattr.new(node, attr.value, token.line) if attr.type == :name
          if attr.type == :integer
            return Ast::Getitem.new(node, Ast::Const.new(Literals.parse(attr), attr.line), token.line)
          end

          @stream.fail_at(attr, "expected name or number")
        end
        args = []
        until @stream.operator?("]")
          @stream.expect(:operator, ",") unless args.empty?
          args << parse_subscribed
        end
        @stream.expect(:operator, "]")
        Ast::Getitem.new(node, args.length == 1 ? args.first : Ast::TupleLit.new(args, token.line), token.line)
      end

      def parse_subscribed
        line = @stream.current.line
        parts = []
        if @stream.operator?(":")
          @stream.advance
          parts << nil
        else
          node = parse_expression
          return node unless @stream.skip_if(:operator, ":")

          parts << node
        end
        parts << (slice_end? ? nil : parse_expression)
        if @stream.skip_if(:operator, ":")
          parts << (slice_end? ? nil : parse_expression)
        else
          parts << nil
        end
        Ast::Slice.new(*parts, line)
      end

      def slice_end?
        @stream.operator?("]") || @stream.operator?(",") || @stream.operator?(":")
      end

      def parse_call(node)
        token = @stream.advance
        args, kwargs, dyn = parse_call_args
        Ast::Call.new(node, args, kwargs, dyn, token.line)
      end

      # Arguments up to the closing parenthesis (the "(" is consumed already).
      def parse_call_args
        args = []
        kwargs = []
        dyn = false
        until @stream.operator?(")")
          @stream.expect(:operator, ",") unless args.empty? && kwargs.empty? && !dyn
          break if @stream.operator?(")")

          if @stream.operator?("*") || @stream.operator?("**")
            @stream.advance
            parse_expression
            dyn = true
          elsif @stream.test?(:name) && @stream.look.type == :operator && @stream.look.value == "="
            key = @stream.advance.value
            @stream.advance
            kwargs << [key, parse_expression]
          else
            args << parse_expression
          end
        end
        @stream.expect(:operator, ")")
        [args, kwargs, dyn]
      end

      def parse_filter(node)
        @stream.advance
        token = @stream.expect(:name)
        name = token.value
        name += ".#{@stream.expect(:name).value}" while @stream.skip_if(:operator, ".")
        args = []
        kwargs = []
        dyn = false
        if @stream.skip_if(:operator, "(")
          args, kwargs, dyn = parse_call_args
        end
        Ast::Filter.new(node, name, args, kwargs, dyn, token.line)
      end

      def parse_test(node)
        @stream.advance
        negated = @stream.skip_if(:name, "not")
        token = @stream.expect(:name)
        name = token.value
        name += ".#{@stream.expect(:name).value}" while @stream.skip_if(:operator, ".")
        if @stream.skip_if(:operator, "(")
          parse_call_args
        elsif test_argument?
          parse_primary
        end
        test = Ast::Test.new(node, name, token.line)
        negated ? Ast::UnaryExpr.new("not", test, token.line) : test
      end

      def test_argument?
        token = @stream.current
        return false if token.type == :name && %w[else or and].include?(token.value)

        ARGUMENT_START.include?(token.type) || (token.type == :operator && ["[", "{"].include?(token.value))
      end
    end
  end
end
