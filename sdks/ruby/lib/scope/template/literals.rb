# frozen_string_literal: true

module Scope
  module Template
    # Values of literal tokens, as Jinja2 reads them.
    module Literals
      module_function

      # The Integer or Float of a number token (underscores and 0x/0o/0b prefixes allowed).
      def parse(token)
        text = token.value.delete("_")
        token.type == :float ? Float(text) : Integer(text)
      end

      # The text of a string token without its quotes (escapes are refused before parsing).
      def unquote(text)
        text[1...-1]
      end
    end
  end
end
