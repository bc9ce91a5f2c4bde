"""Chart specs name the right fields and values; exports work offline."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from scope_lab import charts
from scope_lab.frames import results_frame
from tests.lab.test_frames import failed_result, result


@pytest.fixture(scope="module")
def df() -> pd.DataFrame:
    """Two versions × two targets × 2 items; one failed cell (v2, cheap, item 2)."""
    rows = []
    for version in (1, 2):
        for model, cost, latencies in (("cheap", 0.001, (100.0, 300.0)),
                                       ("smart", 0.01, (1000.0, 2000.0))):
            for n, latency in enumerate(latencies):
                if (version, model, n) == (2, "cheap", 1):
                    rows.append(failed_result(item_id=f"i{n}", version=version,
                                              provider="p", model=model, latency_ms=50.0))
                    continue
                score = 1.0 if model == "smart" or n == 0 else 0.0
                rows.append(result(item_id=f"i{n}", version=version, provider="p",
                                   model=model, scores={"em": score},
                                   latency_ms=latency * version, cost_usd=cost))
    return results_frame(rows)


def values(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """The inline rows of a (layered) spec."""
    rows: list[dict[str, Any]] = spec["datasets"][spec["data"]["name"]]
    return rows


def by_cell(rows: list[dict[str, Any]]) -> dict[tuple[int, str], dict[str, Any]]:
    return {(r["version"], r["target"]): r for r in rows}


def encodings(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [layer["encoding"] for layer in spec.get("layer", [spec])]


def test_score_by_version_plots_mean_and_interval_per_version_and_target(
        df: pd.DataFrame) -> None:
    spec = charts.score_by_version(df).to_dict()

    points, bars = encodings(spec)[1], encodings(spec)[0]
    assert (points["x"]["field"], points["y"]["field"], points["color"]["field"]) == (
        "version", "mean_score", "target")
    assert (bars["y"]["field"], bars["y2"]["field"]) == ("ci_low", "ci_high")
    cells = by_cell(values(spec))
    assert cells[(1, "p/cheap")]["mean_score"] == 0.5
    assert cells[(2, "p/cheap")]["mean_score"] == 0.5  # 1 right + 1 failed (counted 0)
    assert cells[(1, "p/smart")]["ci_low"] == cells[(1, "p/smart")]["ci_high"] == 1.0
    assert spec["title"] == "score.em by version"


def test_cost_vs_quality_puts_cost_per_item_against_mean_score(df: pd.DataFrame) -> None:
    spec = charts.cost_vs_quality(df).to_dict()

    point = encodings(spec)[1]
    assert (point["x"]["field"], point["y"]["field"]) == ("cost_per_item_usd", "mean_score")
    cells = by_cell(values(spec))
    assert cells[(1, "p/smart")]["cost_per_item_usd"] == pytest.approx(0.01)
    # The failed cell has no known cost: 0.001 over 2 items.
    assert cells[(2, "p/cheap")]["cost_per_item_usd"] == pytest.approx(0.0005)
    assert cells[(1, "p/cheap")]["label"] == "v1"


def test_latency_gives_percentiles_of_succeeded_calls(df: pd.DataFrame) -> None:
    spec = charts.latency(df).to_dict()

    whisker, box, median = encodings(spec)
    assert (whisker["x"]["field"], whisker["x2"]["field"]) == ("p5", "p95")
    assert (box["x"]["field"], box["x2"]["field"], median["x"]["field"]) == ("p25", "p75", "p50")
    assert whisker["yOffset"]["field"] == "version"
    cells = by_cell(values(spec))
    smart = cells[(2, "p/smart")]  # 2,000 and 4,000 ms
    assert (smart["p5"], smart["p50"], smart["p95"]) == (2100.0, 3000.0, 3900.0)
    assert cells[(2, "p/cheap")]["count"] == 1  # the failed 50 ms call is left out


def test_cost_by_target_total_per_item_and_per_pass(df: pd.DataFrame) -> None:
    total = charts.cost_by_target(df).to_dict()
    per_pass = charts.cost_by_target(df, measure="per_pass").to_dict()

    assert total["encoding"]["x"]["field"] == "cost_usd"
    assert total["encoding"]["y"]["field"] == "target"
    assert by_cell(values(total))[(1, "p/smart")]["cost_usd"] == pytest.approx(0.02)
    assert per_pass["encoding"]["x"]["field"] == "cost_per_pass_usd"
    assert by_cell(values(per_pass))[(1, "p/cheap")]["cost_per_pass_usd"] == pytest.approx(
        0.002)  # 0.002 spent, 1 item right
    with pytest.raises(ValueError, match="measure"):
        charts.cost_by_target(df, measure="median")  # type: ignore[arg-type]


def test_charts_display_as_vega_lite_5_which_jupyterlab_renders_offline(
        df: pd.DataFrame) -> None:
    bundle = charts.score_by_version(df)._repr_mimebundle_()

    assert set(bundle) == {"application/vnd.vegalite.v5+json", "text/plain"}
    spec = bundle["application/vnd.vegalite.v5+json"]
    assert spec["$schema"].startswith("https://vega.github.io/schema/vega-lite/v5.")
    assert "url" not in spec.get("data", {})  # data inline: nothing to fetch
    assert bundle["text/plain"] == "<ScopeChart 'score.em by version'>"


def test_png_export_is_a_real_png(df: pd.DataFrame, tmp_path: Path) -> None:
    path = charts.cost_vs_quality(df).save(tmp_path / "chart.png")

    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])  # the IHDR chunk
    # Scale 2 of the 420 × 260 plot plus axes, title and legend.
    assert 2 * charts.WIDTH < width < 2 * (charts.WIDTH + 400)
    assert 2 * charts.HEIGHT < height < 2 * (charts.HEIGHT + 250)
    assert len(data) > 10_000


def test_svg_html_and_json_exports(df: pd.DataFrame, tmp_path: Path) -> None:
    chart = charts.latency(df)

    svg = chart.save(tmp_path / "chart.svg").read_text()
    html = chart.save(tmp_path / "chart.html").read_text()
    spec = json.loads(chart.save(tmp_path / "chart.json").read_text())

    assert svg.startswith("<svg")
    assert "Latency per target" in svg
    assert "cdn.jsdelivr" not in html
    assert "<script src" not in html
    assert spec == chart.to_dict()
    with pytest.raises(ValueError, match=r"\.pdf"):
        chart.save(tmp_path / "chart.pdf")
