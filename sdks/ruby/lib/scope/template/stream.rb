# frozen_string_literal: true

module Scope
  module Template
    # The significant tokens of a template, read one at a time by the parser.
    class Stream
      EOF_NAMES = {
        variable_end: "end of print statement",
        block_end: "end of statement block",
        eof: "end of template"
      }.freeze

      def initialize(tokens)
        @tokens = tokens.reject { |token| token.type == :whitespace }
        # Like Jinja, the end is reported on the line where the last token starts.
        @tokens << Token.new(:eof, "", @tokens.empty? ? 1 : @tokens.last.line)
        @index = 0
      end

      # The token under the cursor.
      def current
        @tokens[@index]
      end

      # The token after the current one.
      def look
        @tokens[@index + 1] || @tokens.last
      end

      # Returns the current token and moves past it.
      def advance
        token = current
        @index += 1 if @index < @tokens.length - 1
        token
      end

      # True if the current token is +type+ (and has +value+, if given).
      def test?(type, value = nil)
        token = current
        token.type == type && (value.nil? || token.value == value)
      end

      # True if the current token is the operator +value+.
      def operator?(value)
        test?(:operator, value)
      end

      # True if the current token is the name (or keyword) +value+.
      def name?(value)
        test?(:name, value)
      end

      # Consumes the current token if it matches; returns whether it did.
      def skip_if(type, value = nil)
        return false unless test?(type, value)

        advance
        true
      end

      # Consumes a token that must match, or raises a plain syntax error.
      def expect(type, value = nil)
        return advance if test?(type, value)

        wanted = value ? "'#{value}'" : "'#{EOF_NAMES.fetch(type, type.to_s)}'"
        if current.type == :eof
          raise TemplateSyntaxError.plain("unexpected end of template, expected #{wanted}", current.line)
        end

        fail_at(current, "expected token #{wanted}, got '#{describe(current)}'")
      end

      # Raises a plain syntax error at +token+.
      def fail_at(token, detail)
        detail = "unexpected end of template" if token.type == :eof
        raise TemplateSyntaxError.plain(detail, token.line)
      end

      # A token as Jinja names it in messages.
      def describe(token)
        EOF_NAMES.fetch(token.type, token.value)
      end
    end
  end
end
