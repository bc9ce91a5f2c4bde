"""DataFrames built from the REST API's raw result, item and execution dicts."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from scope_lab.frames import (
    EXECUTION_COLUMNS,
    RESULT_COLUMNS,
    executions_frame,
    results_frame,
    score_columns,
    variable_columns,
)


def result(**overrides: Any) -> dict[str, Any]:
    """A run result as ``GET /runs/{id}/results`` returns it."""
    row: dict[str, Any] = {
        "item_id": "itm_1", "version": 1, "provider": "openai", "model": "gpt-4o-mini",
        "output": "Hello, Ada!", "scores": {"exact_match": 1.0}, "input_tokens": 12,
        "output_tokens": 4, "latency_ms": 250.5, "cost_usd": 0.0003, "status": "succeeded",
        "error": None,
    }
    return row | overrides


def failed_result(**overrides: Any) -> dict[str, Any]:
    return result(output=None, scores={}, input_tokens=None, output_tokens=None,
                  cost_usd=None, status="failed",
                  error={"code": "provider_timeout", "message": "timed out after 30 s"},
                  **overrides)


def item(item_id: str, expected: str | None = "Hello, Ada!", **variables: Any) -> dict[str, Any]:
    return {"id": item_id, "variables": variables, "expected": expected, "metadata": {}}


def execution(**overrides: Any) -> dict[str, Any]:
    """An execution as ``GET /executions`` returns it."""
    row: dict[str, Any] = {
        "id": "exe_1", "prompt": "greeting", "version": 3, "provider": "openai-main",
        "model": "gpt-4o-mini", "status": "succeeded",
        "rendered": {"content": [{"role": "user", "content": "Say hi to Ada"}],
                     "parameters": {"temperature": 0}},
        "output": "Hi Ada!", "error": None, "input_tokens": 21, "output_tokens": 4,
        "latency_ms": 812.25, "cost_usd": 0.0000056, "trace_id": "a" * 32,
        "span_id": "b" * 16, "created_at": "2026-11-26T05:22:03.123456Z",
    }
    return row | overrides


def test_results_frame_has_one_row_per_result_and_the_fixed_columns_in_order() -> None:
    rows = [result(item_id="itm_1", scores={"exact_match": 1.0, "contains": 0.0}),
            result(item_id="itm_2", model="gpt-4o", scores={"exact_match": 0.0}),
            failed_result(item_id="itm_3", version=2)]
    items = [item("itm_1", lang="en", name="Ada"), item("itm_2", expected="Hi", name="Bob")]

    df = results_frame(rows, items)

    assert df.shape == (3, len(RESULT_COLUMNS) + 4)
    assert list(df.columns) == [*RESULT_COLUMNS, "score.contains", "score.exact_match",
                                "var.lang", "var.name"]
    assert score_columns(df) == ["score.contains", "score.exact_match"]
    assert variable_columns(df) == ["var.lang", "var.name"]
    assert df["target"].tolist() == ["openai/gpt-4o-mini", "openai/gpt-4o", "openai/gpt-4o-mini"]
    assert df["version"].tolist() == [1, 1, 2]


def test_results_frame_dtypes_follow_the_contract() -> None:
    df = results_frame([result(), failed_result(item_id="itm_2")], [item("itm_1", name="Ada")])

    dtypes = {name: str(dtype) for name, dtype in df.dtypes.items()}
    assert dtypes == {
        "item_id": "str", "version": "int64", "provider": "category", "model": "category",
        "target": "category", "status": "category", "error": "str", "error_code": "str",
        "output": "str", "expected": "str", "input_tokens": "Int64",
        "output_tokens": "Int64", "latency_ms": "float64", "cost_usd": "float64",
        "score.exact_match": "float64", "var.name": "str",
    }


def test_failed_results_carry_the_error_and_missing_values() -> None:
    df = results_frame([result(), failed_result(item_id="itm_2")])

    failed = df.iloc[1]
    assert failed["status"] == "failed"
    assert failed["error"] == "timed out after 30 s"
    assert failed["error_code"] == "provider_timeout"
    assert pd.isna(failed["output"])
    assert failed["input_tokens"] is pd.NA
    assert np.isnan(failed["cost_usd"])
    assert np.isnan(failed["score.exact_match"])
    assert pd.isna(df.loc[0, "error"])
    assert pd.isna(df.loc[0, "error_code"])
    assert df.loc[0, "input_tokens"] == 12


def test_items_are_joined_on_item_id_and_unknown_items_get_missing_values() -> None:
    rows = [result(item_id="itm_2"), result(item_id="itm_1"), result(item_id="itm_9"),
            result(item_id="itm_2", version=2)]
    items = [item("itm_1", expected="Hi Ada", name="Ada", docs=["a", "b"]),
             item("itm_2", expected=None, name="Bob", docs=[])]

    df = results_frame(rows, items)

    assert df["var.name"].tolist()[:2] == ["Bob", "Ada"]
    assert pd.isna(df.loc[2, "var.name"])
    assert df.loc[3, "var.name"] == "Bob"
    assert df["var.docs"].tolist()[:2] == [[], ["a", "b"]]
    assert pd.isna(df.loc[0, "expected"])
    assert df.loc[1, "expected"] == "Hi Ada"
    assert pd.isna(df.loc[2, "expected"])


def test_without_items_expected_is_missing_and_there_are_no_variable_columns() -> None:
    df = results_frame([result()])

    assert pd.isna(df.loc[0, "expected"])
    assert variable_columns(df) == []


def test_scores_are_the_union_of_every_results_scorers() -> None:
    df = results_frame([result(scores={"exact_match": 1.0}),
                        result(scores={"similarity": 0.75}), result(scores={})])

    assert df["score.exact_match"].tolist()[0] == 1.0
    assert np.isnan(df["score.exact_match"].tolist()[1:]).all()
    assert df["score.similarity"].tolist()[1] == 0.75


def test_categories_are_sorted_and_target_joins_provider_and_model() -> None:
    df = results_frame([result(provider="openai", model="gpt-4o"),
                        result(provider="anthropic", model="claude"),
                        result(provider="openai", model="claude")])

    assert df["provider"].cat.categories.tolist() == ["anthropic", "openai"]
    assert df["target"].cat.categories.tolist() == ["anthropic/claude", "openai/claude",
                                                    "openai/gpt-4o"]
    assert df["target"].tolist() == ["openai/gpt-4o", "anthropic/claude", "openai/claude"]


def test_results_frame_accepts_generators_as_the_client_pages_through_results() -> None:
    df = results_frame((result(item_id=f"itm_{i}") for i in range(3)),
                       (item(f"itm_{i}", name=str(i)) for i in range(3)))

    assert df["var.name"].tolist() == ["0", "1", "2"]


def test_empty_results_give_an_empty_frame_with_the_fixed_columns() -> None:
    df = results_frame([], [])

    assert df.shape == (0, len(RESULT_COLUMNS))
    assert list(df.columns) == list(RESULT_COLUMNS)
    assert str(df["version"].dtype) == "int64"
    assert str(df["input_tokens"].dtype) == "Int64"
    assert str(df["target"].dtype) == "category"
    assert str(df["latency_ms"].dtype) == "float64"


def test_duplicate_item_ids_are_an_error() -> None:
    with pytest.raises(ValueError, match="itm_1"):
        results_frame([result()], [item("itm_1"), item("itm_1")])


def test_executions_frame_has_the_execution_columns_and_a_utc_created_at() -> None:
    rows = [execution(), execution(id="exe_2", status="failed", output=None, cost_usd=None,
                                   error={"code": "provider_error", "message": "rate limited"},
                                   created_at="2026-11-26T07:00:00+02:00")]

    df = executions_frame(rows)

    assert list(df.columns) == list(EXECUTION_COLUMNS)
    assert str(df["created_at"].dtype) == "datetime64[us, UTC]"
    assert df.loc[0, "created_at"] == pd.Timestamp("2026-11-26 05:22:03.123456", tz="UTC")
    assert df.loc[1, "created_at"] == pd.Timestamp("2026-11-26 05:00:00", tz="UTC")
    assert df.loc[0, "target"] == "openai-main/gpt-4o-mini"
    assert df.loc[0, "rendered"]["parameters"] == {"temperature": 0}
    assert df.loc[1, "error"] == "rate limited"
    assert df.loc[1, "error_code"] == "provider_error"
    assert np.isnan(df.loc[1, "cost_usd"])
    assert str(df["status"].dtype) == "category"


def test_empty_executions_give_an_empty_frame_with_the_fixed_columns() -> None:
    df = executions_frame(iter([]))

    assert list(df.columns) == list(EXECUTION_COLUMNS)
    assert len(df) == 0
    assert str(df["created_at"].dtype) == "datetime64[us, UTC]"
