# frozen_string_literal: true

module Scope
  module Resources
    # +client.golden_sets+: the named test datasets runs are made of.
    #
    # Thin calls over the API's /golden-sets endpoints; sets and items are Hashes as
    # the API sends them.
    class GoldenSets
      def initialize(client)
        @client = client
      end

      # Creates golden set +name+ (Conflict if the name is taken) and, when +items+
      # are given, adds them (see #add_items); returns the set with its "item_count".
      #
      # Two requests: if adding the items fails, the set exists, empty.
      def create(name, description: nil, items: nil)
        created = @client.json("POST", "/golden-sets", body: { name: name, description: description }.compact)
        return created if items.nil?

        add_items(name, items)
        retrieve(name)
      end

      # Appends +items+, all or nothing: a list of {variables: {...}, expected: ...,
      # metadata: {...}} (+expected+ and +metadata+ optional). Returns {"added",
      # "item_count"}. A bad item raises ValidationError locating it
      # (["body", index, ...]). One request: up to 100,000 items and 64 MiB by default.
      def add_items(name, items)
        @client.json("POST", "/golden-sets/#{Client.segment(name)}/items", body: items.to_a)
      end

      # One golden set: "name", "description", "item_count", ...
      def retrieve(name)
        @client.json("GET", "/golden-sets/#{Client.segment(name)}")
      end

      # The tenant's golden sets, newest first, fetched page by page as the
      # Enumerator is iterated.
      def list(limit: nil)
        @client.paginate("/golden-sets", {}, limit: limit)
      end

      # The items of set +name+ in the order they were added ("id", "position",
      # "variables", "expected", "metadata"), fetched lazily.
      def items(name, limit: nil)
        @client.paginate("/golden-sets/#{Client.segment(name)}/items", {}, limit: limit)
      end

      # Deletes set +name+ with its items; its runs stay readable.
      def delete(name)
        @client.request("DELETE", "/golden-sets/#{Client.segment(name)}")
        nil
      end
    end
  end
end
