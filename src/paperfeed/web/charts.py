"""Small server-rendered SVG bar charts: their geometry, and their markup (``bar_chart``,
a template global).

No script and no chart library: the page's Content-Security-Policy allows neither
inline scripts nor other origins, and a month-by-month bar chart needs neither.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from markupsafe import Markup

from paperfeed.search.profiles import Profile
from paperfeed.search.trends import Trend

WIDTH = 720
HEIGHT = 150
_LEFT = 44  # room for the y-axis labels
_BOTTOM = 22  # room for the x-axis labels
_TOP = 8
_GAP = 0.15  # share of each slot left empty between bars
_MAX_SLOT = 48.0


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    title: str  # the tooltip: "2025-03: 12 papers"


@dataclass(frozen=True)
class Tick:
    x: float
    label: str


@dataclass(frozen=True)
class BarChart:
    """A chart ready to draw: bars, x ticks, the y maximum, a caption."""

    caption: str
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    maximum: int
    width: int = WIDTH
    height: int = HEIGHT
    left: int = _LEFT
    bottom: float = HEIGHT - _BOTTOM
    top: int = _TOP


_LABEL_SPACE = 48.0  # "2025-03" at the chart's 10px font is ~40 units wide, plus a gap


def _ticks(labels: Sequence[str], slot: float) -> list[Tick]:
    """Label January of each year (and the first month); every month when there are few;
    thinned so no two labels are closer than ``_LABEL_SPACE`` (the first month gave way
    to the January next to it, and they overlapped)."""
    if len(labels) <= 8:
        wanted = list(range(len(labels)))
    else:
        wanted = [0] + [p for p, label in enumerate(labels) if p and label.endswith("-01")]
    kept: list[int] = []
    for position in wanted:
        if kept and (position - kept[-1]) * slot < _LABEL_SPACE:
            if kept[-1] == 0 and position and labels[position].endswith("-01"):
                kept[-1] = position  # a year's January tells more than the first month
            continue
        kept.append(position)
    return [Tick(_LEFT + slot * (position + 0.5), labels[position]) for position in kept]


def month_chart(
    caption: str, months: Sequence[str], values: Sequence[int], titles: Sequence[str]
) -> BarChart | None:
    """A bar per month; None when there is nothing to draw (no month, or all zero)."""
    if not months or max(values, default=0) <= 0:
        return None
    maximum = max(values)
    # a few months get bars of at most _MAX_SLOT, left-aligned, not one bar filling the width
    slot = min((WIDTH - _LEFT - 4) / len(months), _MAX_SLOT)
    plot_height = HEIGHT - _BOTTOM - _TOP
    bars = []
    for position, (value, title) in enumerate(zip(values, titles, strict=True)):
        height = plot_height * value / maximum
        bars.append(
            Bar(
                x=round(_LEFT + slot * position + slot * _GAP / 2, 2),
                y=round(HEIGHT - _BOTTOM - height, 2),
                width=round(max(slot * (1 - _GAP), 1.0), 2),
                height=round(height, 2),
                title=title,
            )
        )
    return BarChart(caption, tuple(bars), tuple(_ticks(months, slot)), maximum)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def trend_chart(trend: Trend) -> BarChart | None:
    """Papers per month matching a search."""
    return month_chart(
        f"Papers per month matching {trend.query}",
        [month.month for month in trend.months],
        [month.count for month in trend.months],
        [f"{m.month}: {m.count} of {_plural(m.corpus, 'paper')}" for m in trend.months],
    )


def profile_chart(profile: Profile) -> BarChart | None:
    """Upvotes per month of an author's or an organisation's papers."""
    return month_chart(
        "Upvotes per month",
        [entry.month for entry in profile.months],
        [entry.upvotes for entry in profile.months],
        [
            f"{entry.month}: {_plural(entry.papers, 'paper')}, {_plural(entry.upvotes, 'upvote')}"
            for entry in profile.months
        ],
    )


def bar_chart(chart: BarChart, element_id: str) -> Markup:
    """The chart as a ``<figure>``: the SVG, its caption, and its numbers as a list (for
    screen readers and copying). Written in Python, not a Jinja macro: a search page
    draws one with up to ~100 bars, and the macro's ~5 autoescapes a bar took ~0.3 ms."""
    identifier = escape(element_id)
    titles = [escape(bar.title) for bar in chart.bars]  # each shown twice: escaped once
    bars = "".join(
        f'<rect class="bar" x="{bar.x}" y="{bar.y}" width="{bar.width}" '
        f'height="{bar.height}"><title>{title}</title></rect>\n    '
        for bar, title in zip(chart.bars, titles, strict=True)
    )
    ticks = "".join(
        f'<text class="x-label" x="{tick.x}" y="{chart.height - 6}" '
        f'text-anchor="middle">{escape(tick.label)}</text>\n    '
        for tick in chart.ticks
    )
    numbers = "".join(f"<li>{title}</li>" for title in titles)
    return Markup(
        f'<figure class="chart" id="{identifier}">\n'
        f'  <svg viewBox="0 0 {chart.width} {chart.height}" width="100%" role="img" '
        f'aria-labelledby="{identifier}-caption" preserveAspectRatio="xMinYMin meet">\n'
        f'    <line class="axis" x1="{chart.left}" y1="{chart.bottom}" x2="{chart.width - 4}" '
        f'y2="{chart.bottom}"/>\n'
        f'    <text class="y-label" x="{chart.left - 6}" y="{chart.top + 10}" '
        f'text-anchor="end">{chart.maximum}</text>\n'
        f'    <text class="y-label" x="{chart.left - 6}" y="{chart.bottom}" '
        'text-anchor="end">0</text>\n'
        f"    {bars}{ticks}\n"
        "  </svg>\n"
        f'  <figcaption id="{identifier}-caption">{escape(chart.caption)}</figcaption>\n'
        '  <details class="chart-data"><summary>The numbers</summary>\n'
        f"    <ul>{numbers}</ul>\n"
        "  </details>\n"
        "</figure>"
    )
