"""Plotly figures for the page, built from the day document (counts and scores only).

Each figure is plain plotly JSON (``data`` + ``layout``); the page draws it with plotly.js,
which the plugin serves from the plotly package (nothing from a CDN).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from atlas.quality.model import DIMENSIONS

LAYER_ORDER = ("landed", "malformed", "bronze", "silver", "quarantined", "duplicates", "superseded")
LAYER_COLORS = {"landed": "#64748b", "malformed": "#f97316", "bronze": "#b45309", "silver": "#475569",
                "quarantined": "#dc2626", "duplicates": "#a855f7", "superseded": "#0ea5e9"}
DIMENSION_COLORS = {"overall": "#111827", "completeness": "#2563eb", "uniqueness": "#7c3aed",
                    "validity": "#059669", "consistency": "#d97706", "timeliness": "#0891b2",
                    "accuracy": "#db2777"}
FONT = {"family": "system-ui, -apple-system, 'Segoe UI', sans-serif", "size": 12}


def _layout(**extra: Any) -> dict[str, Any]:
    layout = {"margin": {"l": 48, "r": 16, "t": 8, "b": 40}, "height": 260, "font": FONT,
              "paper_bgcolor": "rgba(0,0,0,0)", "plot_bgcolor": "rgba(0,0,0,0)", "showlegend": False}
    layout.update(extra)
    return layout


def _figure(data: list[Any], layout: dict[str, Any]) -> dict[str, Any]:
    import plotly.graph_objects as go

    return go.Figure(data=data, layout=layout).to_plotly_json()


def layers_figure(layers: dict[str, Any]) -> dict[str, Any] | None:
    import plotly.graph_objects as go

    rows = layers["rows"]
    shown = [name for name in LAYER_ORDER if rows.get(name) is not None]
    if not shown:
        return None
    values = [rows[name] for name in shown]
    bar = go.Bar(x=list(shown), y=values, text=[f"{v:,}" for v in values], textposition="outside",
                 marker={"color": [LAYER_COLORS[n] for n in shown]}, cliponaxis=False,
                 hovertemplate="%{x}: %{y:,} rows<extra></extra>")
    return _figure([bar], _layout(yaxis={"title": {"text": "rows"}, "rangemode": "tozero"}))


def quarantine_figure(quarantine: dict[str, Any]) -> dict[str, Any] | None:
    import plotly.graph_objects as go

    reasons = list(reversed(quarantine["reasons"][:12]))  # largest at the top
    if not reasons:
        return None
    labels = [_short(f"{r['stage']}: {r['reason']}", 56) for r in reasons]
    bar = go.Bar(x=[r["rows"] for r in reasons], y=labels, orientation="h", marker={"color": "#dc2626"},
                 text=[f"{r['rows']:,}" for r in reasons], textposition="auto",
                 hovertemplate="%{y}<br>%{x:,} rows<extra></extra>")
    height = max(160, 28 * len(reasons) + 50)
    left = 16 + 7 * max(len(label) for label in labels)  # room for the labels without plotly's automargin pass
    return _figure([bar], _layout(height=height, margin={"l": left, "r": 16, "t": 8, "b": 32},
                                  xaxis={"title": {"text": "rows"}}))


def scores_figure(quality: dict[str, Any]) -> dict[str, Any] | None:
    import plotly.graph_objects as go

    day = quality["day"]
    dims = [d for d in ("overall", *DIMENSIONS) if d in day]
    if not dims:
        return None
    points = [day[d] for d in dims]
    bar = go.Bar(x=dims, y=[p["score"] for p in points], marker={"color": [DIMENSION_COLORS.get(d, "#334155")
                                                                         for d in dims]},
                 text=[f"{p['score']:g}" for p in points], textposition="outside", cliponaxis=False,
                 customdata=[[p["checks"], p["passed"], p["warned"], p["failed"]] for p in points],
                 hovertemplate="%{x}: %{y:g}%<br>%{customdata[0]} checks, %{customdata[1]} passed, "
                               "%{customdata[2]} warned, %{customdata[3]} failed<extra></extra>")
    return _figure([bar], _layout(yaxis={"title": {"text": "% of checks passed"}, "range": [0, 110]}))


def trend_figure(quality: dict[str, Any], ds: str) -> dict[str, Any] | None:
    import plotly.graph_objects as go

    trend = quality["trend"]
    dims = [d for d in ("overall", *DIMENSIONS) if trend.get(d)]
    if not dims:
        return None
    lines = []
    for dim in dims:
        points = trend[dim]
        lines.append(go.Scatter(
            x=[p["day"] for p in points], y=[p["score"] for p in points], name=dim, mode="lines+markers",
            line={"color": DIMENSION_COLORS.get(dim, "#334155"), "width": 3 if dim == "overall" else 1.5},
            marker={"size": 7 if dim == "overall" else 5},
            customdata=[[p["checks"], p["warned"], p["failed"]] for p in points],
            hovertemplate=f"{dim}" + " %{x}: %{y:g}%<br>%{customdata[0]} checks, %{customdata[1]} warned, "
                                     "%{customdata[2]} failed<extra></extra>"))
    layout = _layout(height=300, showlegend=True, legend={"orientation": "h", "y": -0.25},
                     margin={"l": 48, "r": 16, "t": 8, "b": 8},
                     yaxis={"title": {"text": "% of checks passed"}, "range": [-5, 105]},
                     xaxis={"type": "date", "tickformat": "%b %d", "range": _window(ds, quality["trend_days"])},
                     shapes=[{"type": "line", "xref": "x", "yref": "paper", "x0": ds, "x1": ds, "y0": 0, "y1": 1,
                              "line": {"color": "#94a3b8", "dash": "dot", "width": 1}}])
    return _figure(lines, layout)


def _window(ds: str, days: int) -> list[str]:
    """The trend's x range: ``days`` days up to ``ds``, half a day of margin on both sides."""
    from datetime import date, timedelta

    end = datetime.combine(date.fromisoformat(ds), datetime.min.time()) + timedelta(hours=12)
    return [(end - timedelta(days=days)).isoformat(sep=" "), end.isoformat(sep=" ")]


def figures(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Every chart the document has data for, by element id."""
    built = {
        "chart-layers": layers_figure(doc["layers"]) if "layers" in doc else None,
        "chart-quarantine": quarantine_figure(doc["quarantine"]) if "quarantine" in doc else None,
        "chart-scores": scores_figure(doc["quality"]) if "quality" in doc else None,
        "chart-trend": trend_figure(doc["quality"], doc["logical_date"]) if "quality" in doc else None,
    }
    return {key: figure for key, figure in built.items() if figure is not None}


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def warm_up() -> None:
    """Build one figure so plotly's validators are loaded before the first page, not during it."""
    layers_figure({"rows": {"landed": 1}})
