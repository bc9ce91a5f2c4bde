# frozen_string_literal: true

module Scope
  module Template
    # Builds the statement tree from the token stream, following Jinja2's parser.
    class Parser
      def initialize(tokens)
        @stream = Stream.new(tokens)
        @expressions = ExpressionParser.new(@stream)
      end

      # The template's top-level statements.
      def parse
        subparse(nil)
      end

      private

      def subparse(end_tags)
        body = []
        loop do
          token = @stream.current
          case token.type
          when :data
            body << Ast::Text.new(@stream.advance.value)
          when :variable_begin
            @stream.advance
            body << Ast::Output.new(@expressions.parse_tuple, token.line)
            @stream.expect(:variable_end)
          when :block_begin
            @stream.advance
            return body if end_tags && @stream.test?(:name) && end_tags.include?(@stream.current.value)

            body << statement
            @stream.expect(:block_end)
          else
            return body if end_tags.nil?

            @stream.fail_at(token, "unexpected end of template")
          end
        end
      end

      def statement
        token = @stream.current
        @stream.fail_at(token, "tag name expected") unless token.type == :name
        case token.value
        when "if" then parse_if
        when "for" then parse_for
        else @stream.fail_at(token, "encountered unknown tag '#{token.value}'")
        end
      end

      def parse_if
        line = @stream.advance.line
        test = @expressions.parse_tuple(with_condexpr: false)
        body = statements(%w[elif else endif])
        elifs = []
        else_body = []
        loop do
          tag = @stream.advance.value
          if tag == "elif"
            elif_test = @expressions.parse_tuple(with_condexpr: false)
            elifs << [elif_test, statements(%w[elif else endif])]
            next
          end
          else_body = statements(%w[endif], drop_needle: true) if tag == "else"
          break
        end
        Ast::If.new(test, body, elifs, else_body, line)
      end

      def parse_for
        line = @stream.advance.line
        target = @expressions.parse_tuple(simplified: true, end_names: %w[in])
        unless assignable?(target)
          kind = target.class.name.split("::").last.downcase
          @stream.fail_at(@stream.current, "can't assign to '#{kind}'")
        end
        @stream.expect(:name, "in")
        iter = @expressions.parse_tuple(with_condexpr: false, end_names: %w[recursive])
        test = @stream.skip_if(:name, "if") ? @expressions.parse_expression : nil
        recursive = @stream.skip_if(:name, "recursive")
        body = statements(%w[endfor else])
        else_body = @stream.advance.value == "endfor" ? [] : statements(%w[endfor], drop_needle: true)
        Ast::For.new(target, iter, test, recursive, body, else_body, line)
      end

      def assignable?(target)
        return target.items.all? { |item| assignable?(item) } if target.is_a?(Ast::TupleLit)

        target.is_a?(Ast::Name)
      end

      # The body up to one of +end_tags+ (Jinja accepts a colon before the "%}").
      def statements(end_tags, drop_needle: false)
        @stream.skip_if(:operator, ":")
        @stream.expect(:block_end)
        body = subparse(end_tags)
        @stream.advance if drop_needle
        body
      end
    end
  end
end
