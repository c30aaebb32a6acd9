"""Charts for reports, rendered offline to inline SVG with matplotlib (text as paths: no fonts needed)."""

from __future__ import annotations

import io
from collections.abc import Sequence

PALETTE = ["#1f4e79", "#2e75b6", "#9dc3e6", "#c9d9ea", "#f4b183", "#c55a11"]


def bar_chart(
    labels: Sequence[str],
    values: Sequence[float],
    *,
    title: str,
    unit: str = "",
    horizontal: bool = False,
    width: float = 6.0,
    height: float = 2.8,
) -> str:
    """An SVG bar chart, each bar labelled with its value."""
    import matplotlib
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    with matplotlib.rc_context({"svg.hashsalt": "quanta", "svg.fonttype": "path", "font.size": 9}):
        figure = Figure(figsize=(width, height))
        axes = figure.add_subplot()
        colours = [PALETTE[i % len(PALETTE)] for i in range(len(values))]
        positions = range(len(values))
        bars = axes.barh(positions, values, color=colours) if horizontal else axes.bar(positions, values, color=colours)
        if horizontal:
            axes.set_yticks(list(positions), [str(label) for label in labels])
            axes.invert_yaxis()
        else:
            axes.set_xticks(list(positions), [str(label) for label in labels])
        axes.bar_label(bars, labels=[_short(v) + unit for v in values], padding=2)
        (axes.xaxis if horizontal else axes.yaxis).set_major_formatter(FuncFormatter(lambda v, _: _short(v)))
        axes.set_title(title, loc="left", fontweight="bold")
        for side in ("top", "right"):
            axes.spines[side].set_visible(False)
        axes.margins(x=0.15) if horizontal else axes.margins(y=0.15)
        figure.tight_layout()
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Date": None})
    svg = buffer.getvalue()
    return svg[svg.index("<svg") :]


def _short(value: float) -> str:
    magnitude = abs(value)
    if magnitude >= 1_000_000:
        return f"{value / 1_000_000:.1f}M"
    if magnitude >= 10_000:
        return f"{value / 1_000:.0f}k"
    return f"{value:,.0f}" if magnitude >= 10 or float(value).is_integer() else f"{value:.2f}"
