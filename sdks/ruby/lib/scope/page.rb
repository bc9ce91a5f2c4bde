# frozen_string_literal: true

module Scope
  # One page of a list endpoint: +data+ (Hashes as the API returns them) and
  # +next_cursor+ (nil on the last page).
  Page = Struct.new(:data, :next_cursor) do
    include Enumerable

    # Yields each item of this page.
    def each(&block)
      data.each(&block)
    end

    # True when another page follows.
    def next?
      !next_cursor.nil?
    end
  end

  class Page
    MAX_SIZE = 200 # the API's maximum: fewest round trips when iterating everything

    # A Page from the API's {"data": [...], "next_cursor": ...}.
    def self.from_json(body)
      new(body.fetch("data"), body["next_cursor"])
    end
  end
end
