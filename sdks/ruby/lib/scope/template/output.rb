# frozen_string_literal: true

module Scope
  module Template
    # The output and truthiness rules shared by every Scope renderer.
    #
    # Values print the way the Python server prints them, not the way Ruby does:
    # floats in Python's shortest round-trip form (1e+16, not 1.0e+16), lists and
    # hashes as compact JSON with non-ASCII characters unescaped, nil as "".
    module Output
      ESCAPES = {
        '"' => '\\"', "\\" => "\\\\", "\n" => "\\n", "\r" => "\\r", "\t" => "\\t",
        "\b" => "\\b", "\f" => "\\f"
      }.freeze
      NEEDS_ESCAPE = /["\\\x00-\x1f]/.freeze

      module_function

      # The printed form of a value (see the output rules in API.md).
      def to_text(value)
        case value
        when String then value
        when nil then ""
        when true then "true"
        when false then "false"
        when Integer then value.to_s
        when Float then float_repr(value)
        when Array, Hash then json(value)
        else value.to_s
        end
      end

      # Python truthiness: missing, nil, false, 0, 0.0, "", [] and {} are false.
      def truthy?(value)
        case value
        when nil, false then false
        when Numeric then !value.zero?
        when String, Array, Hash then !value.empty?
        when Symbol then !value.empty?
        else true
        end
      end

      # The JSON type name of a value, for error messages.
      def json_type(value)
        case value
        when nil then "null"
        when true, false then "boolean"
        when Numeric then "number"
        when String, Symbol then "string"
        when Hash then "object"
        when Array then "list"
        else value.class.name
        end
      end

      # Compact JSON as Python's json.dumps(ensure_ascii=False, separators=(",", ":")) writes it.
      def json(value, out = +"")
        case value
        when Hash then json_object(value, out)
        when Array
          out << "["
          value.each_with_index do |item, index|
            out << "," if index.positive?
            json(item, out)
          end
          out << "]"
        when String, Symbol then out << json_string(value.to_s)
        when nil then out << "null"
        when true then out << "true"
        when false then out << "false"
        when Integer then out << value.to_s
        when Float then out << json_float(value)
        else out << json_string(value.to_s)
        end
      end

      def json_object(hash, out)
        out << "{"
        hash.each_with_index do |(key, item), index|
          out << "," if index.positive?
          out << json_string(json_key(key)) << ":"
          json(item, out)
        end
        out << "}"
      end

      # Python converts non-string keys itself: 1 -> "1", nil -> "null", 0.5 -> "0.5".
      def json_key(key)
        case key
        when nil then "null"
        when Float then json_float(key)
        else key.to_s
        end
      end

      def json_float(value)
        return "NaN" if value.nan?
        return value.positive? ? "Infinity" : "-Infinity" if value.infinite?

        float_repr(value)
      end

      # A JSON string literal; only quotes, backslashes and control characters are escaped.
      def json_string(text)
        return "\"#{text}\"" unless NEEDS_ESCAPE.match?(text)

        escaped = text.gsub(NEEDS_ESCAPE) { |char| ESCAPES[char] || format("\\u%04x", char.ord) }
        "\"#{escaped}\""
      end

      # Python's repr of a float: the shortest digits that round-trip, in Python's layout.
      #
      # Ruby finds the same shortest digits but lays them out differently
      # (1.0e+16 vs 1e+16, 1.0e-05 vs 1e-05, 1.0e+15 vs 1000000000000000.0).
      def float_repr(value)
        return "nan" if value.nan?
        return value.positive? ? "inf" : "-inf" if value.infinite?

        sign = value.negative? || (value.zero? && 1.0 / value < 0) ? "-" : ""
        digits, point = shortest_digits(value.abs)
        return "#{sign}0.0" if digits.empty?

        "#{sign}#{layout(digits, point)}"
      end

      # The significant digits of a positive float and the position of the decimal
      # point relative to them (1.5 -> ["15", 1]; 0.001 -> ["1", -2]).
      def shortest_digits(value)
        mantissa, exponent = value.to_s.split("e")
        whole, fraction = mantissa.split(".")
        digits = whole + fraction.to_s
        point = whole.length + exponent.to_i
        stripped = digits.sub(/\A0+/, "")
        point -= digits.length - stripped.length
        [stripped.sub(/0+\z/, ""), point]
      end

      # Python's repr switches to exponent notation below 1e-4 and from 1e16 on.
      def layout(digits, point)
        if point > 16 || point < -3
          exponent = point - 1
          mantissa = digits.length > 1 ? "#{digits[0]}.#{digits[1..]}" : digits
          format("%<m>se%<s>s%<e>02d", m: mantissa, s: exponent.negative? ? "-" : "+", e: exponent.abs)
        elsif point <= 0
          "0.#{'0' * -point}#{digits}"
        elsif point >= digits.length
          "#{digits}#{'0' * (point - digits.length)}.0"
        else
          "#{digits[0, point]}.#{digits[point..]}"
        end
      end
    end
  end
end
