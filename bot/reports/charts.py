"""Per-question bar charts as one PNG, for staff who would rather look than read.

Uses matplotlib's object API with the Agg canvas: no pyplot global state, no display needed.
"""

from __future__ import annotations

import io
import textwrap

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

BAR_COLOR = "#2e7d32"


def bar_charts_png(title: str, questions: list[tuple[str, dict[str, int]]]) -> bytes:
    """One horizontal bar chart per question (label, {option: count}), stacked vertically."""
    shown = [(q, counts) for q, counts in questions if counts] or [("Chưa có câu trả lời", {"": 0})]
    heights = [1.2 + 0.45 * len(counts) for _, counts in shown]
    fig = Figure(figsize=(9, sum(heights) + 0.8), dpi=100)
    FigureCanvasAgg(fig)
    fig.suptitle(textwrap.fill(title, 70), fontsize=13, fontweight="bold")
    grid = fig.add_gridspec(len(shown), 1, height_ratios=heights, hspace=0.9)
    for row, (question, counts) in enumerate(shown):
        ax = fig.add_subplot(grid[row, 0])
        labels = [textwrap.shorten(str(k), 40, placeholder="…") for k in counts]
        values = list(counts.values())
        bars = ax.barh(range(len(values)), values, color=BAR_COLOR)
        ax.set_yticks(range(len(values)), labels, fontsize=9)
        ax.invert_yaxis()
        ax.set_title(textwrap.shorten(question, 90, placeholder="…"), fontsize=10, loc="left")
        ax.bar_label(bars, fontsize=8, padding=2)
        ax.set_xlim(0, max([*values, 1]) * 1.15)
        ax.spines[["top", "right"]].set_visible(False)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    return buffer.getvalue()
