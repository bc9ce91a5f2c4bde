"""Summaries, paired comparisons and custom scores, checked against hand-computed values."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from scope_lab import stats
from scope_lab.frames import executions_frame, results_frame
from tests.lab.test_frames import execution, failed_result, item, result


def cell(item_id: str, score: float | None, *, version: int = 1, model: str = "m",
         latency: float = 100.0, cost: float | None = 0.01) -> dict[str, Any]:
    """A succeeded result with one ``em`` score (None: failed)."""
    if score is None:
        return failed_result(item_id=item_id, version=version, model=model,
                             latency_ms=latency, provider="p")
    return result(item_id=item_id, version=version, provider="p", model=model,
                  scores={"em": score}, latency_ms=latency, cost_usd=cost)


@pytest.fixture
def three_versions() -> pd.DataFrame:
    """v1: mixed with a failure; v2: all perfect, unknown cost; v3: all 0.5."""
    rows = [cell(f"i{n}", s, latency=lat, cost=c) for n, (s, lat, c) in enumerate(
        [(1.0, 100, 0.01), (0.0, 200, 0.02), (1.0, 300, 0.03), (1.0, 400, 0.04),
         (None, 5000, None)])]
    rows += [cell(f"i{n}", 1.0, version=2, latency=10.0 * (n + 1), cost=None)
             for n in range(5)]
    rows += [cell(f"i{n}", 0.5, version=3, cost=0.01) for n in range(4)]
    return results_frame(rows)


def row_of(summary: pd.DataFrame, version: int) -> pd.Series:
    return summary.loc[summary["version"] == version].iloc[0]


def test_summary_has_one_row_per_version_and_target(three_versions: pd.DataFrame) -> None:
    summary = stats.summary(three_versions)

    assert summary[["version", "target"]].values.tolist() == [[1, "p/m"], [2, "p/m"],
                                                              [3, "p/m"]]
    assert list(summary.columns) == [
        "version", "target", "count", "failed", "scored", "mean_score", "ci_low", "ci_high",
        "passed", "pass_rate", "latency_ms_p50", "latency_ms_p95", "cost_usd",
        "cost_per_pass_usd"]
    assert summary.attrs["score"] == "score.em"


def test_summary_counts_a_failed_cell_as_zero_and_not_a_pass(
        three_versions: pd.DataFrame) -> None:
    v1 = row_of(stats.summary(three_versions), 1)

    assert (v1["count"], v1["failed"], v1["scored"], v1["passed"]) == (5, 1, 5, 3)
    assert v1["mean_score"] == pytest.approx(3 / 5)
    assert v1["pass_rate"] == pytest.approx(3 / 5)


def test_summary_latency_percentiles_interpolate_over_succeeded_calls(
        three_versions: pd.DataFrame) -> None:
    v1 = row_of(stats.summary(three_versions), 1)

    # Succeeded latencies 100, 200, 300, 400 (the failed 5,000 ms call is left out).
    # Type 7: p50 at rank 1.5 → 250; p95 at rank 3 × 0.95 = 2.85 → 300 + 0.85 × 100.
    assert v1["latency_ms_p50"] == pytest.approx(250.0)
    assert v1["latency_ms_p95"] == pytest.approx(385.0)


def test_summary_cost_total_and_per_passing_item(three_versions: pd.DataFrame) -> None:
    summary = stats.summary(three_versions)
    v1, v2, v3 = (row_of(summary, v) for v in (1, 2, 3))

    assert v1["cost_usd"] == pytest.approx(0.10)
    assert v1["cost_per_pass_usd"] == pytest.approx(0.10 / 3)
    assert np.isnan(v2["cost_usd"])
    assert np.isnan(v2["cost_per_pass_usd"])
    assert v3["passed"] == 0
    assert np.isnan(v3["cost_per_pass_usd"])


def test_pass_threshold_decides_what_passes(three_versions: pd.DataFrame) -> None:
    v3 = row_of(stats.summary(three_versions, pass_threshold=0.5), 3)

    assert v3["pass_rate"] == 1.0
    assert v3["cost_per_pass_usd"] == pytest.approx(0.04 / 4)


def test_identical_scores_give_a_zero_width_interval(three_versions: pd.DataFrame) -> None:
    summary = stats.summary(three_versions)

    assert (row_of(summary, 2)["ci_low"], row_of(summary, 2)["ci_high"]) == (1.0, 1.0)
    assert (row_of(summary, 3)["ci_low"], row_of(summary, 3)["ci_high"]) == (0.5, 0.5)


def continuous(n: int, *, seed: int = 7, version: int = 1) -> list[dict[str, Any]]:
    values = np.random.default_rng(seed).beta(2, 5, size=n)
    return [cell(f"i{k}", float(v), version=version) for k, v in enumerate(values)]


def test_the_interval_contains_the_mean_and_matches_the_normal_approximation() -> None:
    df = results_frame(continuous(400))
    values = df["score.em"].to_numpy()

    s = stats.summary(df, resamples=4000).iloc[0]

    assert s["ci_low"] < s["mean_score"] < s["ci_high"]
    half_width = 1.96 * values.std(ddof=1) / math.sqrt(len(values))
    assert s["ci_high"] - s["ci_low"] == pytest.approx(2 * half_width, rel=0.1)
    assert (s["ci_low"] + s["ci_high"]) / 2 == pytest.approx(values.mean(), abs=0.1 * half_width)


def test_intervals_are_deterministic_given_the_seed() -> None:
    df = results_frame(continuous(200))

    first = stats.summary(df, seed=1)
    again = stats.summary(df, seed=1)
    other = stats.summary(df, seed=2)

    assert first[["ci_low", "ci_high"]].equals(again[["ci_low", "ci_high"]])
    assert not first[["ci_low", "ci_high"]].equals(other[["ci_low", "ci_high"]])


def test_a_groups_interval_does_not_depend_on_the_other_groups() -> None:
    df = results_frame(continuous(100, version=1) + continuous(100, seed=8, version=2))

    both = stats.summary(df)
    alone = stats.summary(df[df["version"] == 2])  # its index starts at 100

    assert alone["version"].tolist() == [2]
    assert alone.iloc[0]["mean_score"] == pytest.approx(df["score.em"][100:].mean())
    assert row_of(both, 2)["ci_low"] == alone.iloc[0]["ci_low"]
    assert row_of(both, 2)["ci_high"] == alone.iloc[0]["ci_high"]


def test_summary_of_concatenated_frames_with_repeated_index_labels() -> None:
    first = results_frame([cell("i1", 1.0), cell("i2", 1.0)])
    second = results_frame([cell("i1", 0.0, version=2), cell("i2", 0.0, version=2)])

    summary = stats.summary(pd.concat([first, second]))

    assert summary["version"].tolist() == [1, 2]
    assert summary["mean_score"].tolist() == [1.0, 0.0]


def test_value_counts_and_row_resampling_give_the_same_distribution() -> None:
    values = np.array([1.0] * 600 + [0.0] * 1400)
    distinct, counts = np.unique(values, return_counts=True)

    by_counts = stats.resample_means(values, resamples=4000, rng=np.random.default_rng(1),
                                     counts=(distinct, counts))
    by_rows = stats.resample_means(values, resamples=4000, rng=np.random.default_rng(2))

    sd = math.sqrt(0.3 * 0.7 / len(values))  # the mean's standard error
    for means in (by_counts, by_rows):
        assert means.mean() == pytest.approx(0.3, abs=sd / 10)
        assert means.std() == pytest.approx(sd, rel=0.06)
        assert set(np.round(means * len(values)).astype(int)) <= set(range(len(values) + 1))
    assert np.quantile(by_counts, 0.025) == pytest.approx(np.quantile(by_rows, 0.025), abs=sd / 4)
    assert np.quantile(by_counts, 0.975) == pytest.approx(np.quantile(by_rows, 0.975), abs=sd / 4)


def test_summary_leaves_out_succeeded_rows_without_the_score() -> None:
    rows = [cell("i1", 1.0), cell("i2", 0.0), result(item_id="i3", provider="p", model="m",
                                                      scores={"other": 1.0})]

    s = stats.summary(results_frame(rows), score="em").iloc[0]

    assert (s["count"], s["scored"], s["mean_score"], s["pass_rate"]) == (3, 2, 0.5, 0.5)


def test_boolean_score_columns_read_as_zero_and_one(three_versions: pd.DataFrame) -> None:
    df = three_versions.drop(columns="score.em")
    df["score.ok"] = three_versions["score.em"].to_numpy() >= 1.0

    v1 = row_of(stats.summary(df), 1)

    assert v1["mean_score"] == pytest.approx(3 / 5)
    assert v1["passed"] == 3


def test_summary_by_any_columns() -> None:
    rows = [cell("i1", 1.0, model="a"), cell("i2", 0.0, model="a"), cell("i1", 1.0, model="b")]

    summary = stats.summary(results_frame(rows), by="target")

    assert summary["target"].tolist() == ["p/a", "p/b"]
    assert summary["mean_score"].tolist() == [0.5, 1.0]


def test_the_score_must_be_named_when_there_are_several() -> None:
    df = results_frame([result(scores={"exact_match": 1.0, "contains": 1.0})])

    with pytest.raises(ValueError, match=r"score.contains.*score.exact_match"):
        stats.summary(df)
    assert stats.summary(df, score="contains").attrs["score"] == "score.contains"
    assert stats.summary(df, score="score.contains").attrs["score"] == "score.contains"
    with pytest.raises(ValueError, match="no score 'typo'"):
        stats.summary(df, score="typo")
    with pytest.raises(ValueError, match="add_score"):
        stats.summary(df.drop(columns=["score.exact_match", "score.contains"]))
    with pytest.raises(ValueError, match="'nope'"):
        stats.summary(df, by=("nope",), score="contains")


def pass_fail_pairs() -> pd.DataFrame:
    """10 items: a passes only on 1, b passes only on 6, both on 2, neither on 1."""
    outcomes = [(1.0, 0.0)] + [(0.0, 1.0)] * 6 + [(1.0, 1.0)] * 2 + [(0.0, 0.0)]
    rows = []
    for n, (a, b) in enumerate(outcomes):
        rows += [cell(f"i{n}", a, version=1), cell(f"i{n}", b, version=2)]
    return results_frame(rows)


def test_compare_gives_mcnemar_counts_and_the_exact_p_value() -> None:
    c = stats.compare(pass_fail_pairs(), {"version": 1}, {"version": 2})

    assert (c.pairs, c.a_only, c.b_only, c.both, c.neither) == (10, 1, 6, 2, 1)
    assert (c.pass_rate_a, c.pass_rate_b) == (0.3, 0.8)
    # Two-sided binomial test of 1 vs 6 discordant pairs: 2 × (C(7,0) + C(7,1)) / 2^7.
    assert c.p_value == 2 * (1 + 7) / 128
    assert c.mean_diff == pytest.approx(0.5)
    assert c.ci_low < 0.5 < c.ci_high


def test_mcnemar_p_values_by_hand() -> None:
    assert stats.mcnemar_p_value(0, 0) == 1.0
    assert stats.mcnemar_p_value(3, 3) == 1.0
    assert stats.mcnemar_p_value(2, 3) == 1.0  # 2 × (1 + 5 + 10) / 32 = 1
    assert stats.mcnemar_p_value(0, 10) == 2 / 1024
    assert stats.mcnemar_p_value(10, 0) == 2 / 1024


def test_mcnemar_with_many_discordant_pairs_matches_exact_integers() -> None:
    n, k = 20_000, 9_800  # above the exact-integer limit: summed in log space
    term = total = 1
    for i in range(k):  # C(n, i + 1) from C(n, i), in exact integers
        term = term * (n - i) // (i + 1)
        total += term
    exact = 2 * total / 2**n

    assert stats.mcnemar_p_value(k, n - k) == pytest.approx(exact, rel=1e-9)


def test_the_paired_interval_of_a_constant_difference_is_that_constant() -> None:
    rows = []
    for n, a in enumerate([0.5, 0.25, 0.75, 0.0]):
        rows += [cell(f"i{n}", a, version=1), cell(f"i{n}", a + 0.25, version=2)]

    c = stats.compare(results_frame(rows), {"version": 1}, {"version": 2})

    assert (c.mean_diff, c.ci_low, c.ci_high) == (0.25, 0.25, 0.25)


def test_a_constant_that_floats_cannot_sum_exactly_still_gives_itself() -> None:
    # 0.1 + 0.1 + 0.1 = 0.30000000000000004 in floating point: averaging resamples
    # would give 0.10000000000000002, so an all-equal group must short-circuit.
    rows = []
    for n in range(3):
        rows += [cell(f"i{n}", 0.0, version=1), cell(f"i{n}", 0.1, version=2)]
    df = results_frame(rows)

    c = stats.compare(df, {"version": 1}, {"version": 2})
    v2 = row_of(stats.summary(df), 2)

    assert (c.ci_low, c.ci_high) == (0.1, 0.1)
    assert (v2["ci_low"], v2["ci_high"]) == (0.1, 0.1)


def test_compare_versions_pairs_each_item_on_the_same_target() -> None:
    rows = []
    for model, (a, b) in {"x": (1.0, 1.0), "y": (0.0, 1.0)}.items():
        for n in range(3):
            rows += [cell(f"i{n}", a, version=1, model=model),
                     cell(f"i{n}", b, version=2, model=model)]

    c = stats.compare(results_frame(rows), {"version": 1}, {"version": 2})

    assert c.pairs == 6
    assert c.on == ("item_id", "provider", "model")
    assert (c.mean_a, c.mean_b, c.b_only) == (0.5, 1.0, 3)


def test_compare_targets_pairs_each_item_on_the_same_version() -> None:
    rows = [cell("i1", 1.0, model="x"), cell("i1", 0.0, model="y"),
            cell("i2", 1.0, model="x"), cell("i2", 1.0, model="y"),
            cell("i3", 1.0, model="x")]  # no partner: reported, not used

    c = stats.compare(results_frame(rows), {"target": "p/x"}, {"target": "p/y"})

    assert c.on == ("item_id", "version")
    assert (c.pairs, c.unpaired_a, c.unpaired_b) == (2, 1, 0)
    assert c.mean_diff == -0.5
    assert c.a_only == 1


def test_compare_counts_a_failed_cell_as_zero() -> None:
    rows = [cell("i1", None, version=1), cell("i1", 1.0, version=2)]

    c = stats.compare(results_frame(rows), {"version": 1}, {"version": 2})

    assert (c.mean_a, c.mean_b, c.b_only) == (0.0, 1.0, 1)


def test_compare_as_a_frame() -> None:
    frame = stats.compare(pass_fail_pairs(), {"version": 1}, {"version": 2}).to_frame()

    assert frame.shape[0] == 1
    assert frame.loc[0, "p_value"] == 0.125
    assert frame.loc[0, "a"] == "{'version': 1}"


def test_compare_errors_say_what_is_wrong() -> None:
    df = results_frame([cell("i1", 1.0, version=1), cell("i2", 1.0, version=2),
                        cell("i3", 1.0, version=3), cell("i3", 0.0, version=3)])

    with pytest.raises(ValueError, match="no items in common"):
        stats.compare(df, {"version": 1}, {"version": 2})
    with pytest.raises(ValueError, match="selects no rows"):
        stats.compare(df, {"version": 1}, {"version": 9})
    with pytest.raises(ValueError, match="same rows"):
        stats.compare(df, {"version": 1}, {"version": 1})
    with pytest.raises(ValueError, match="'colour'"):
        stats.compare(df, {"colour": 1}, {"version": 1})
    with pytest.raises(ValueError, match="several rows"):
        stats.compare(df, {"version": 1}, {"version": 3})


def frame_to_score() -> pd.DataFrame:
    rows = [result(item_id="i1", output="Hello, Ada!"), result(item_id="i2", output="Hi"),
            failed_result(item_id="i3")]
    items = [item("i1", expected="Hello, Ada!", name="Ada"), item("i2", expected="Hey"),
             item("i3", name="Cy")]
    return results_frame(rows, items)


def test_add_score_calls_the_function_with_the_arguments_it_asks_for() -> None:
    df = frame_to_score()
    seen: list[tuple[Any, ...]] = []

    def polite(output: str, expected: str | None, variables: dict[str, Any]) -> bool:
        seen.append((output, expected, variables))
        return output == expected

    scored = stats.add_score(df, "polite", polite)

    assert seen == [("Hello, Ada!", "Hello, Ada!", {"name": "Ada"}), ("Hi", "Hey", {})]
    assert scored["score.polite"].tolist()[:2] == [1.0, 0.0]
    assert np.isnan(scored.loc[2, "score.polite"])  # failed: not called, counted 0 later
    assert "score.polite" not in df.columns
    assert stats.summary(scored, score="polite").iloc[0]["mean_score"] == pytest.approx(1 / 3)


def test_add_score_can_read_the_whole_row() -> None:
    scored = stats.add_score(frame_to_score(), "short",
                             lambda row: 1.0 if row["output_tokens"] < 10 else 0.0)

    assert scored["score.short"].tolist()[:2] == [1.0, 1.0]


def test_add_score_replaces_a_score_of_the_same_name() -> None:
    scored = stats.add_score(frame_to_score(), "exact_match", lambda output: 0.25)

    assert scored["score.exact_match"].tolist()[:2] == [0.25, 0.25]


@pytest.mark.parametrize("bad", [1.5, -0.1, float("nan"), "yes", None])
def test_a_custom_score_outside_zero_one_names_the_row(bad: Any) -> None:
    with pytest.raises(ValueError, match=r"scorer 'bad' returned .* on row 1 \(item 'i2'\)"):
        stats.add_score(frame_to_score(), "bad",
                        lambda output: 1.0 if output.startswith("Hello") else bad)


def test_a_scorer_asking_for_an_unknown_argument_is_a_type_error() -> None:
    def scorer(output: str, reference: str) -> float:
        return 1.0

    with pytest.raises(TypeError, match="'reference'"):
        stats.add_score(frame_to_score(), "s", scorer)


def test_an_exception_in_a_scorer_says_which_row() -> None:
    with pytest.raises(KeyError) as info:
        stats.add_score(frame_to_score(), "s", lambda variables: variables["name"] == "Ada")

    assert "in scorer 's' on row 1 (item 'i2')" in info.value.__notes__


def test_executions_can_be_scored_and_summarised_by_target() -> None:
    df = executions_frame([execution(id="e1", output="Hi Ada!", latency_ms=100.0),
                           execution(id="e2", output="Hello", latency_ms=300.0),
                           execution(id="e3", model="gpt-4o", output="Hi Ada!")])
    scored = stats.add_score(df, "greets_ada", lambda output: "Ada" in output)

    summary = stats.summary(scored, by="target")

    assert summary["target"].tolist() == ["openai-main/gpt-4o", "openai-main/gpt-4o-mini"]
    assert summary["mean_score"].tolist() == [1.0, 0.5]
    assert summary["latency_ms_p50"].tolist()[1] == 200.0
    with pytest.raises(ValueError, match="item_id"):
        stats.compare(scored, {"model": "gpt-4o"}, {"model": "gpt-4o-mini"})
