# frozen_string_literal: true

require "strscan"

module Scope
  module Template
    # One lexical token: +type+ (Symbol), +value+ (source text) and 1-based +line+.
    Token = Struct.new(:type, :value, :line)

    # Splits a template into text and tag tokens the way Jinja2's lexer does.
    #
    # The renderer only needs names, strings and a few operators, but the lexer
    # accepts all of Jinja's expression tokens: a template that is valid Jinja yet
    # outside the subset must be refused by the checker with the construct named,
    # as the server does, rather than fail here with a vaguer message.
    class Lexer
      WHITESPACE = /[[:space:]\x1c-\x1f]+/.freeze
      FLOAT = /(?<!\.)(?:\d+_)*\d+(?:(?:\.(?:\d+_)*\d+)?e[+-]?(?:\d+_)*\d+|\.(?:\d+_)*\d+)/i.freeze
      INTEGER = /0b(?:_?[01])+|0o(?:_?[0-7])+|0x(?:_?[\da-f])+|[1-9](?:_?\d)*|0(?:_?0)*/i.freeze
      NAME = /[\p{L}\p{M}\p{N}\p{Pc}]+/.freeze
      STRING = /'[^'\\]*(?:\\.[^'\\]*)*'|"[^"\\]*(?:\\.[^"\\]*)*"/m.freeze
      OPERATOR = %r{//|\*\*|==|!=|>=|<=|[-+/*%~\[\](){}><=.:|,;]}.freeze
      TAG_START = /\{\{[-+]?|\{%[-+]?|\{#[-+]?/.freeze
      RAW_START = /\{%[-+]?[[:space:]]*raw[[:space:]]*-?%\}/.freeze
      RAW_END = /\{%[-+]?[[:space:]]*endraw[[:space:]]*-?%\}/.freeze
      VARIABLE_END = /-\}\}[[:space:]]*|\}\}/.freeze
      BLOCK_END = /\+%\}|-%\}[[:space:]]*|%\}/.freeze
      OPENING = { "(" => ")", "[" => "]", "{" => "}" }.freeze
      CLOSING = OPENING.invert.freeze

      # +source+ must already have its line endings normalised to "\n".
      def initialize(source)
        @source = source
        # fixed_anchor: look-behinds see the text before the scan position.
        @scanner = StringScanner.new(source, fixed_anchor: true)
        @line = 1
        @tokens = []
      end

      # All tokens of the template; raises TemplateSyntaxError on a lexical error.
      def tokenize
        until @scanner.eos?
          start = @scanner.pos
          skipped = @scanner.skip_until(TAG_START)
          if skipped.nil?
            push(:data, @source.byteslice(start, @source.bytesize - start))
            break
          end
          tag_start = @scanner.pos - @scanner.matched_size
          push(:data, @source.byteslice(start, tag_start - start)) if tag_start > start
          @scanner.pos = tag_start
          tag
        end
        @tokens
      end

      private

      def tag
        if (opener = @scanner.scan(RAW_START))
          return raw(opener)
        end

        opener = @scanner.scan(TAG_START)
        case opener[1]
        when "{" then block(opener, :variable_begin, :variable_end, VARIABLE_END)
        when "%" then block(opener, :block_begin, :block_end, BLOCK_END)
        else comment(opener)
        end
      end

      # Jinja keeps a raw block's body as text; the scan refuses the tag itself.
      def raw(opener)
        push(:raw_begin, opener)
        body = @scanner.scan_until(RAW_END)
        raise TemplateSyntaxError.plain("missing end of raw directive", @line) if body.nil?

        push(:data, body)
      end

      def comment(opener)
        push(:comment_begin, opener)
        return if @scanner.eos? # Jinja's lexer stops there without complaint

        body = @scanner.scan_until(/#\}/)
        raise TemplateSyntaxError.plain("missing end of comment tag", @line) if body.nil?

        push(:comment, body[0...-2])
        push(:comment_end, "#}")
      end

      def block(opener, begin_type, end_type, closer)
        push(begin_type, opener)
        # Like Jinja, a closing delimiter inside open brackets is two brace operators.
        stack = []
        until @scanner.eos? # at the end, the parser reports the unexpected end
          if stack.empty? && (text = @scanner.scan(closer))
            return push(end_type, text)
          end

          expression_token(stack)
        end
      end

      def expression_token(stack)
        if (text = @scanner.scan(WHITESPACE)) then push(:whitespace, text)
        elsif (text = @scanner.scan(FLOAT)) then push(:float, text)
        elsif (text = @scanner.scan(INTEGER)) then push(:integer, text)
        elsif (text = @scanner.scan(NAME)) then push(:name, text)
        elsif (text = @scanner.scan(STRING)) then push(:string, text)
        elsif (text = @scanner.scan(OPERATOR)) then operator(text, stack)
        else
          char = @scanner.peek(4).scrub[0]
          raise TemplateSyntaxError.plain("unexpected char #{char.inspect}", @line)
        end
      end

      def operator(text, stack)
        if OPENING.key?(text)
          stack.push(text)
        elsif CLOSING.key?(text)
          raise TemplateSyntaxError.plain("unexpected '#{text}'", @line) if stack.empty?

          expected = OPENING[stack.pop]
          unless expected == text
            raise TemplateSyntaxError.plain("unexpected '#{text}', expected '#{expected}'", @line)
          end
        end
        push(:operator, text)
      end

      def push(type, text)
        @tokens << Token.new(type, text, @line)
        @line += text.count("\n")
      end
    end
  end
end
