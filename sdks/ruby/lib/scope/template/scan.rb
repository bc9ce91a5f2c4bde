# frozen_string_literal: true

module Scope
  module Template
    # Token-level checks, before parsing: comments, whitespace control, string
    # literals, tag names and block nesting.
    #
    # They come first because the parser would drop or misreport these (as the
    # server's own scan does), so that e.g. an unclosed block says which one.
    class Scan
      MAX_NESTING = 50 # if and for blocks together
      MAX_LOOP_NESTING = 16 # for blocks
      Block = Struct.new(:tag, :line, :seen_else)

      def initialize(tokens, line_count)
        @tokens = tokens
        @line_count = line_count
        @stack = []
      end

      # Raises TemplateSyntaxError; returns the line of the first parenthesis that
      # does not open default's arguments (refused later, if nothing else is), or nil.
      def run
        paren_line = nil
        expect_tag = false
        previous = nil
        significant = []
        @tokens.each do |token|
          next if token.type == :whitespace

          check_token(token, previous)
          paren_line ||= token.line if token.type == :operator && token.value == "(" &&
                                       significant != ["|", "default"]
          previous = token.type
          significant = [significant.last, token.value].compact
          if token.type == :block_begin
            expect_tag = true
            next
          end
          next unless expect_tag

          expect_tag = false
          check_tag(token.value, token.line) if token.type == :name
        end
        check_closed
        paren_line
      end

      private

      def check_token(token, previous)
        line = token.line
        case token.type
        when :comment_begin
          raise TemplateSyntaxError.unsupported("comment", line, "comments {# ... #} are not allowed")
        when :raw_begin
          raise TemplateSyntaxError.unsupported("tag 'raw'", line)
        when :block_begin, :variable_begin
          whitespace_control(token) if %w[- +].include?(token.value[2])
        when :block_end, :variable_end
          whitespace_control(token) if %w[- +].include?(token.value[0])
        when :string
          if token.value.include?("\\")
            raise TemplateSyntaxError.unsupported("backslash escape in string literal", line)
          end
          raise TemplateSyntaxError.unsupported("implicit string concatenation", line) if previous == :string
        end
      end

      def whitespace_control(token)
        raise TemplateSyntaxError.unsupported("whitespace control '#{token.value}'", token.line)
      end

      def check_tag(tag, line)
        case tag
        when "if", "for" then open_block(tag, line)
        when "elif", "else" then branch(tag, line)
        when "endif", "endfor" then close_block(tag, line)
        else raise TemplateSyntaxError.unsupported("tag '#{tag}'", line)
        end
      end

      def open_block(tag, line)
        if @stack.length >= MAX_NESTING
          raise TemplateSyntaxError.plain("blocks nested more than #{MAX_NESTING} levels deep", line)
        end
        if tag == "for" && @stack.count { |block| block.tag == "for" } >= MAX_LOOP_NESTING
          raise TemplateSyntaxError.plain("loops nested more than #{MAX_LOOP_NESTING} levels deep", line)
        end

        @stack.push(Block.new(tag, line, false))
      end

      def branch(tag, line)
        top = @stack.last
        raise TemplateSyntaxError.unsupported("for loop 'else'", line) if top&.tag == "for" && tag == "else"
        if top.nil? || top.tag != "if"
          raise TemplateSyntaxError.plain("unexpected '#{tag}' outside of an 'if' block", line)
        end
        raise TemplateSyntaxError.plain("unexpected '#{tag}' after 'else'", line) if top.seen_else

        top.seen_else = true if tag == "else"
      end

      def close_block(tag, line)
        top = @stack.last
        raise TemplateSyntaxError.plain("unexpected '#{tag}' without a matching '#{tag[3..]}'", line) if top.nil?
        raise TemplateSyntaxError.plain("unexpected '#{tag}', expected 'end#{top.tag}'", line) if tag != "end#{top.tag}"

        @stack.pop
      end

      def check_closed
        block = @stack.last
        return if block.nil?

        raise TemplateSyntaxError.plain(
          "unexpected end of template, expected 'end#{block.tag}' to close " \
          "the '#{block.tag}' opened on line #{block.line}", @line_count
        )
      end
    end
  end
end
