# frozen_string_literal: true

require "test_helper"

# golden_sets against a real `scope serve`: what a Ruby service needs to set up a run.
class GoldenSetsTest < Minitest::Test
  ITEMS = [
    { variables: { city: "Paris" }, expected: "France", metadata: { source: "atlas" } },
    { "variables" => { "city" => "Rome" } } # String keys; no expected, no metadata
  ].freeze

  def setup
    @server = ScopeTest.server
    @client = Scope::Client.new(base_url: @server.base_url, api_key: @server.api_key)
    @name = ScopeTest.unique("set")
  end

  def teardown
    @client.close
  end

  def test_a_set_is_created_with_its_items_and_read_back_in_order
    created = @client.golden_sets.create(@name, description: "capitals", items: ITEMS)
    assert_equal [@name, "capitals", 2], created.values_at("name", "description", "item_count")
    items = @client.golden_sets.items(@name).to_a
    assert_equal [[0, { "city" => "Paris" }, "France", { "source" => "atlas" }],
                  [1, { "city" => "Rome" }, nil, {}]],
                 items.map { |item| item.values_at("position", "variables", "expected", "metadata") }
    assert_equal items.first(1), @client.golden_sets.items(@name, limit: 1).to_a
    assert_equal created, @client.golden_sets.retrieve(@name)
    assert_includes @client.golden_sets.list.map { |set| set["name"] }, @name
  end

  def test_items_are_appended_all_or_nothing
    assert_equal 0, @client.golden_sets.create(@name).fetch("item_count")
    assert_equal({ "added" => 2, "item_count" => 2 }, @client.golden_sets.add_items(@name, ITEMS))
    refused = assert_raises(Scope::ValidationError) do
      @client.golden_sets.add_items(@name, [{ variables: { city: "Oslo" } }, { variables: { "not a name" => 1 } }])
    end
    assert_equal ["body", 1], refused.errors.first.fetch("loc").first(2) # the second item
    assert_equal 2, @client.golden_sets.retrieve(@name).fetch("item_count") # the good one was not added
  end

  def test_a_taken_name_conflicts_and_a_deleted_set_is_gone
    @client.golden_sets.create(@name)
    assert_raises(Scope::Conflict) { @client.golden_sets.create(@name) }
    assert_nil @client.golden_sets.delete(@name)
    assert_raises(Scope::NotFound) { @client.golden_sets.retrieve(@name) }
    assert_raises(Scope::NotFound) { @client.golden_sets.add_items(@name, ITEMS) }
  end
end
