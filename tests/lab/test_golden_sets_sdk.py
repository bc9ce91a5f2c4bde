"""``scope.golden_sets`` against a real server: lists, CSV and JSONL files, DataFrames."""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path

import pandas as pd
import pytest

import scope_lab
from scope_lab import AsyncScope, Scope
from scope_lab._uploads import batches
from tests.live import LiveServer

ITEMS = [
    {"variables": {"name": "Ada", "topic": "billing, refunds"}, "expected": "Hello Ada",
     "metadata": {"source": "upload"}},
    {"variables": {"name": 'Bob "the builder"', "topic": "line one\nline two"},
     "expected": None, "metadata": {}},
    {"variables": {"name": "Zoë", "topic": "ünïcode ✓"}, "expected": "Bonjour",
     "metadata": {"n": 3}},
]


def unique(prefix: str = "gs") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def stored(scope: Scope, name: str) -> list[tuple[int, object, object, object]]:
    return [(i.position, i.variables, i.expected, i.metadata)
            for i in scope.golden_sets.items(name)]


EXPECTED = [(n, i["variables"], i["expected"], i["metadata"]) for n, i in enumerate(ITEMS)]


def test_create_from_a_list_then_read_list_and_delete(scope: Scope) -> None:
    name = unique()
    created = scope.golden_sets.create(name, description="tickets", items=ITEMS)
    assert (created.name, created.description, created.item_count) == (name, "tickets", 3)
    assert stored(scope, name) == EXPECTED
    assert scope.golden_sets.retrieve(name).item_count == 3
    assert name in [s.name for s in scope.golden_sets.list()]
    first = list(scope.golden_sets.items(name, limit=2))
    assert [i.position for i in first] == [0, 1]

    scope.golden_sets.delete(name)
    with pytest.raises(scope_lab.NotFound):
        scope.golden_sets.retrieve(name)


def test_csv_and_jsonl_files_and_a_dataframe_give_the_same_items(scope: Scope,
                                                                 tmp_path: Path) -> None:
    csv_path = tmp_path / "tickets.csv"
    pd.DataFrame([{**i["variables"], "expected": i["expected"] or "",
                   "metadata": json.dumps(i["metadata"]) if i["metadata"] else ""}
                  for i in ITEMS]).to_csv(csv_path, index=False)
    jsonl_path = tmp_path / "tickets.jsonl"
    jsonl_path.write_text("".join(json.dumps(i) + "\n" for i in ITEMS), encoding="utf-8")
    frame = pd.DataFrame([{**i["variables"], "expected": i["expected"],
                           "metadata": i["metadata"]} for i in ITEMS])

    for source in (csv_path, str(jsonl_path), frame):
        name = unique()
        created = scope.golden_sets.create(name, items=source)
        assert created.item_count == 3, source
        assert stored(scope, name) == EXPECTED, source


def test_dataframe_cells_become_json_values_and_empty_cells_are_left_out(scope: Scope) -> None:
    frame = pd.DataFrame({"question": ["a?", "b?"], "count": [1, 2],
                          "note": ["kept", None], "expected": ["A", None]})
    name = unique()
    scope.golden_sets.create(name, items=frame)
    assert stored(scope, name) == [
        (0, {"question": "a?", "count": 1, "note": "kept"}, "A", {}),
        (1, {"question": "b?", "count": 2}, None, {})]


def test_large_lists_go_in_batches_and_keep_their_order(scope: Scope) -> None:
    name = unique()
    scope.golden_sets.create(name)
    items = [{"variables": {"n": n}} for n in range(2_500)]
    updated = scope.golden_sets.add_items(name, items, batch_size=1_000)
    assert updated.item_count == 2_500
    assert [i.variables["n"] for i in scope.golden_sets.items(name)] == list(range(2_500))


def test_a_bad_item_raises_with_where_it_is(scope: Scope, tmp_path: Path) -> None:
    name = unique()
    scope.golden_sets.create(name)
    with pytest.raises(scope_lab.ValidationError) as caught:
        scope.golden_sets.add_items(name, [{"variables": {"ok": 1}},
                                           {"variables": {"not ok": 1}}])
    assert caught.value.errors[0]["loc"][:3] == ["body", 1, "variables"]

    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text("question,metadata\nfine,\nbroken,{nope\n", encoding="utf-8")
    with pytest.raises(scope_lab.ValidationError) as caught:
        scope.golden_sets.add_items(name, bad_csv)
    assert caught.value.errors[0]["loc"] == ["body", "line", 3, "metadata"]

    # In batches, the error says where its batch starts and what was already stored.
    items = [{"variables": {"n": n}} for n in range(5)] + [{"variables": {"1bad": 0}}]
    with pytest.raises(scope_lab.ValidationError) as caught:
        scope.golden_sets.add_items(name, items, batch_size=2)
    assert caught.value.errors[0]["loc"][:2] == ["body", 1]
    assert "starts at item 4" in "\n".join(caught.value.__notes__)
    assert "4 items were added before it" in "\n".join(caught.value.__notes__)
    assert scope.golden_sets.retrieve(name).item_count == 4


def test_unknown_file_suffix_is_refused_before_any_request(scope: Scope,
                                                           tmp_path: Path) -> None:
    name = unique()
    scope.golden_sets.create(name)
    path = tmp_path / "items.txt"
    path.write_text("x")
    with pytest.raises(ValueError, match=r"\.csv, \.jsonl"):
        scope.golden_sets.add_items(name, path)
    with pytest.raises(TypeError, match="list of items"):
        scope.golden_sets.add_items(name, {"variables": {}})


async def test_async_client_uploads_and_iterates(live: LiveServer) -> None:
    name = unique()
    async with AsyncScope(live.base_url, live.api_key) as scope:
        created = await scope.golden_sets.create(name, items=ITEMS)
        assert created.item_count == 3
        items = [i async for i in scope.golden_sets.items(name)]
        assert [(i.position, i.variables, i.expected, i.metadata) for i in items] == EXPECTED
        await scope.golden_sets.delete(name)


def test_csv_files_are_split_at_records_with_the_header_repeated(tmp_path: Path) -> None:
    path = tmp_path / "multi.csv"
    path.write_text('q,expected\r\n"one\r\nline two",a\r\nthree,b\r\nfour,c\r\n',
                    encoding="utf-8")
    planned = batches(path, batch_size=2)
    assert [b.body.decode() for b in planned] == [
        'q,expected\r\n"one\r\nline two",a\r\nthree,b\r\n', "q,expected\r\nfour,c\r\n"]
    assert [(b.count, b.where()) for b in planned] == [(2, "line 2"), (1, "line 5")]


def test_dataframes_are_recognised_without_importing_pandas_first() -> None:
    # scope_lab must not import pandas for an app that only uploads lists.
    import subprocess

    code = ("import sys; from scope_lab._uploads import batches; "
            "batches([{'variables': {}}]); print('pandas' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "False"
