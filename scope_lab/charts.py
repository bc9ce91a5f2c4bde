"""Charts of a results frame: cost vs quality, latency, cost per target, score by version.

Why Altair 5 (Vega-Lite 5) with vl-convert, and not Plotly or matplotlib:

* **It renders in JupyterLab offline.** JupyterLab 4.6 ships a renderer for the
  ``application/vnd.vegalite.v5+json`` mimetype with Vega and Vega-Lite bundled, so a
  chart is interactive (tooltips) with no network and no extension to install.
  Plotly's mimetype needs the jupyterlab-plotly renderer, which JupyterLab does not
  ship; matplotlib gives static images only.
* **It saves PNG, SVG, HTML offline.** vl-convert is one wheel with Vega compiled in
  (Deno/V8 plus resvg): no browser, nothing fetched at run time. Plotly's exporter,
  Kaleido 1.x, drives an installed Chrome (or downloads one with ``kaleido_get_chrome``).
* **Altair 5, not 6.** Altair 6 emits Vega-Lite 6 as ``application/vnd.vegalite.v6.json``
  (no JupyterLab renderer) and its HTML and widget renderers load Vega from a CDN. Altair
  5.5's default renderer also uses a CDN; that is why charts here are :class:`ScopeChart`
  objects that emit the v5 mimetype themselves, whatever renderer is enabled.
* **Specs are data.** A chart is a JSON spec of small, pre-aggregated tables, so tests
  check fields and values without a browser, and a 100,000-row frame never reaches the
  browser (nor Altair's 5,000-row limit).

Each function takes a results frame (``scope_lab.frames``) and returns a ScopeChart.
Use ``.save("chart.png")`` (or ``.svg``, ``.html``, ``.json``) to export it, and
``.chart`` for the Altair object, to restyle or combine it (wrap the result again with
``ScopeChart(...)`` to keep the offline display).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import altair as alt
import numpy as np
import pandas as pd
import vl_convert as vlc

from scope_lab import stats

VEGALITE_MIMETYPE = "application/vnd.vegalite.v5+json"
# vl-convert bundles several Vega-Lite versions; use the one Altair wrote the spec for.
_VL_VERSION = ".".join(alt.SCHEMA_VERSION.lstrip("v").split(".")[:2])
WIDTH, HEIGHT = 420, 260
CostMeasure = Literal["total", "per_item", "per_pass"]


@dataclass(frozen=True)
class ScopeChart:
    """An Altair chart that displays in JupyterLab without network and saves offline."""

    chart: alt.TopLevelMixin

    def to_dict(self) -> dict[str, Any]:
        """The Vega-Lite 5 spec, data included."""
        spec: dict[str, Any] = self.chart.to_dict()
        return spec

    def to_png(self, *, scale: float = 2.0) -> bytes:
        """The chart as PNG bytes (``scale`` 2 suits high-DPI screens and slides)."""
        return vlc.vegalite_to_png(self.to_dict(), vl_version=_VL_VERSION, scale=scale,
                                   allowed_base_urls=[])

    def to_svg(self) -> str:
        """The chart as an SVG document."""
        return vlc.vegalite_to_svg(self.to_dict(), vl_version=_VL_VERSION,
                                   allowed_base_urls=[])

    def to_html(self) -> str:
        """A standalone HTML page with Vega inlined, so it opens without network."""
        return vlc.vegalite_to_html(self.to_dict(), vl_version=_VL_VERSION, bundle=True)

    def save(self, path: str | Path, *, scale: float = 2.0) -> Path:
        """Write the chart to ``path``; the suffix picks the format (png, svg, html, json)."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".png":
            path.write_bytes(self.to_png(scale=scale))
        elif suffix in (".svg", ".html"):
            text = self.to_svg() if suffix == ".svg" else self.to_html()
            path.write_text(text, encoding="utf-8")
        elif suffix == ".json":
            path.write_text(self.chart.to_json(), encoding="utf-8")
        else:
            raise ValueError(f"cannot save a chart as {suffix or 'a file without suffix'!r}; "
                             "use .png, .svg, .html or .json")
        return path

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        # Only the mimetype JupyterLab renders itself; no text/html that would load Vega
        # from a CDN, as Altair's own renderers do.
        spec = self.to_dict()
        title = spec.get("title", "")
        text = title.get("text", "") if isinstance(title, dict) else title
        return {VEGALITE_MIMETYPE: spec, "text/plain": f"<ScopeChart {text!r}>"}


def cost_vs_quality(
    df: pd.DataFrame, *, score: str | None = None, pass_threshold: float = 1.0,
    confidence: float = 0.95, resamples: int = 1000, seed: int = 0,
) -> ScopeChart:
    """Mean score (with its CI) against mean cost per item: one point per version and target."""
    data = _summary_table(df, score=score, pass_threshold=pass_threshold,
                          confidence=confidence, resamples=resamples, seed=seed)
    column = data.attrs["score"]
    base = alt.Chart(data).encode(
        x=alt.X("cost_per_item_usd:Q", title="cost per item (USD)",
                axis=alt.Axis(format="$.2~g")),
        y=alt.Y("mean_score:Q", title=_score_title(column, confidence),
                scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("target:N", title="target"),
    )
    points = base.mark_point(filled=True, size=80).encode(tooltip=_tooltip(column))
    bars = base.mark_rule().encode(y="ci_low:Q", y2="ci_high:Q")
    labels = base.mark_text(align="left", dx=7, dy=-7).encode(text="label:N")
    return _finish(bars + points + labels, f"Cost vs quality ({column})")


def latency(df: pd.DataFrame) -> ScopeChart:
    """Latency of succeeded calls per target (and version): p5–p95 whiskers, IQR box, p50."""
    table = _latency_table(df)
    several = table["version"].nunique() > 1
    base = alt.Chart(table).encode(
        y=alt.Y("target:N", title="target"),
        color=alt.Color("version:N", title="version") if several else alt.value("#4c78a8"),
        tooltip=[alt.Tooltip("target:N"), alt.Tooltip("version:O"), alt.Tooltip("count:Q"),
                 *(alt.Tooltip(f"{p}:Q", title=f"{p} (ms)", format=",.1f")
                   for p in ("p5", "p25", "p50", "p75", "p95"))],
    )
    if several:
        base = base.encode(yOffset=alt.YOffset("version:N"))
    whiskers = base.mark_rule().encode(
        x=alt.X("p5:Q", title="latency (ms): p5–p95, box p25–p75, tick p50"), x2="p95:Q")
    box = base.mark_bar(size=12, opacity=0.6).encode(x="p25:Q", x2="p75:Q")
    median = base.mark_tick(color="black", size=14, thickness=2).encode(x="p50:Q")
    return _finish(whiskers + box + median, "Latency per target (succeeded calls)")


def cost_by_target(
    df: pd.DataFrame, *, measure: CostMeasure = "total", score: str | None = None,
    pass_threshold: float = 1.0,
) -> ScopeChart:
    """Cost per target (bars, one per version): total, per item, or per passing item."""
    fields = {"total": ("cost_usd", "total cost (USD)"),
              "per_item": ("cost_per_item_usd", "cost per item (USD)"),
              "per_pass": ("cost_per_pass_usd", "cost per passing item (USD)")}
    if measure not in fields:
        raise ValueError(f"measure must be one of {list(fields)}, not {measure!r}")
    field, title = fields[measure]
    if measure == "per_pass":
        data = _summary_table(df, score=score, pass_threshold=pass_threshold, resamples=1)
    else:
        data = _cost_table(df)
    several = data["version"].nunique() > 1
    chart = alt.Chart(data).mark_bar().encode(
        y=alt.Y("target:N", title="target"),
        x=alt.X(f"{field}:Q", title=title, axis=alt.Axis(format="$.2~g")),
        color=alt.Color("version:N", title="version") if several else alt.value("#4c78a8"),
        tooltip=[alt.Tooltip("target:N"), alt.Tooltip("version:O"), alt.Tooltip("count:Q"),
                 alt.Tooltip(f"{field}:Q", title=title, format="$,.6~g")],
    )
    if several:
        chart = chart.encode(yOffset=alt.YOffset("version:N"))
    return _finish(chart, f"Cost per target: {title}")


def score_by_version(
    df: pd.DataFrame, *, score: str | None = None, pass_threshold: float = 1.0,
    confidence: float = 0.95, resamples: int = 1000, seed: int = 0,
) -> ScopeChart:
    """Mean score per version with bootstrap CI error bars, one colour per target."""
    data = _summary_table(df, score=score, pass_threshold=pass_threshold,
                          confidence=confidence, resamples=resamples, seed=seed)
    column = data.attrs["score"]
    base = alt.Chart(data).encode(
        x=alt.X("version:O", title="version", axis=alt.Axis(labelAngle=0)),
        xOffset=alt.XOffset("target:N"),
        color=alt.Color("target:N", title="target"),
    )
    points = base.mark_point(filled=True, size=70).encode(
        y=alt.Y("mean_score:Q", title=_score_title(column, confidence),
                scale=alt.Scale(domain=[0, 1])),
        tooltip=_tooltip(column))
    bars = base.mark_rule(strokeWidth=2).encode(y="ci_low:Q", y2="ci_high:Q")
    return _finish(bars + points, f"{column} by version")


def _summary_table(df: pd.DataFrame, **options: Any) -> pd.DataFrame:
    """``stats.summary`` by (version, target) in plain JSON-friendly dtypes."""
    summary = stats.summary(df, ("version", "target"), **options)
    # No score chart shows latency; leaving it out keeps the embedded data small and the
    # spec identical for identical scores (latency differs on every run).
    table = _plain(summary.drop(columns=["latency_ms_p50", "latency_ms_p95"]))
    table["cost_per_item_usd"] = table["cost_usd"] / table["count"]
    table["label"] = [f"v{v}" for v in table["version"]]
    table.attrs = dict(summary.attrs)
    return table


def _cost_table(df: pd.DataFrame) -> pd.DataFrame:
    costs = pd.DataFrame({"cost": df["cost_usd"].to_numpy(dtype=float, na_value=np.nan)})
    keys = [pd.Series(df[c].array, name=c) for c in ("version", "target")]
    table = costs.groupby(keys, observed=True).agg(
        count=("cost", "size"), cost_usd=("cost", "sum"), known=("cost", "count"),
    ).reset_index()
    table["cost_usd"] = table["cost_usd"].where(table["known"] > 0)
    table["cost_per_item_usd"] = table["cost_usd"] / table["count"]
    return _plain(table.drop(columns="known"))


def _latency_table(df: pd.DataFrame) -> pd.DataFrame:
    """Latency percentiles (linear interpolation) of succeeded rows per version and target."""
    ok = df["status"] == "succeeded" if "status" in df.columns else np.ones(len(df), bool)
    rows = df.loc[ok, ["version", "target", "latency_ms"]].dropna(subset=["latency_ms"])
    grouped = rows.groupby(["version", "target"], observed=True)["latency_ms"]
    quantiles = {f"p{int(q * 100)}": grouped.quantile(q) for q in (0.05, 0.25, 0.5, 0.75, 0.95)}
    table = pd.DataFrame({"count": grouped.size(), **quantiles}).reset_index()
    return _plain(table)


def _plain(table: pd.DataFrame) -> pd.DataFrame:
    """Object strings and plain numbers, which every Altair version serializes alike."""
    out = pd.DataFrame(index=range(len(table)))
    for name in table.columns:
        column = table[name].reset_index(drop=True)
        if isinstance(column.dtype, pd.CategoricalDtype) or pd.api.types.is_string_dtype(column):
            out[name] = column.astype(object).where(column.notna(), None)
        elif pd.api.types.is_integer_dtype(column) and not column.isna().any():
            out[name] = column.astype("int64")
        else:
            out[name] = column.astype(float)  # NaN becomes null in the spec
    return out


def _tooltip(column: str) -> list[alt.Tooltip]:
    return [
        alt.Tooltip("target:N"), alt.Tooltip("version:O"), alt.Tooltip("count:Q"),
        alt.Tooltip("failed:Q"),
        alt.Tooltip("mean_score:Q", title=f"mean {column}", format=".3f"),
        alt.Tooltip("ci_low:Q", format=".3f"), alt.Tooltip("ci_high:Q", format=".3f"),
        alt.Tooltip("pass_rate:Q", format=".1%"),
        alt.Tooltip("cost_usd:Q", title="total cost (USD)", format="$,.4~g"),
        alt.Tooltip("cost_per_item_usd:Q", title="cost per item (USD)", format="$,.6~g"),
    ]


def _score_title(column: str, confidence: float) -> str:
    return f"mean {column} ({confidence:.0%} CI)"


def _finish(chart: alt.TopLevelMixin, title: str) -> ScopeChart:
    return ScopeChart(chart.properties(title=title, width=WIDTH, height=HEIGHT))
