"""The bar charts drawn as SVG: a bar per month at the height of its value, the labels and
caption shown as written, and the numbers listed for readers who cannot see the bars."""

from __future__ import annotations

from html_tree import parsed
from paperfeed.web.charts import HEIGHT, bar_chart, month_chart


def test_a_bar_per_month_its_height_its_value_and_the_text_as_written() -> None:
    months = [f"2025-{month:02d}" for month in range(1, 13)] + ["2026-01"]
    values = [0, 5, 10] + [1] * 10
    titles = [
        f"{month}: {value} <papers> & more" for month, value in zip(months, values, strict=True)
    ]
    chart = month_chart('Papers per month matching "KL" & <b>x</b>', months, values, titles)
    assert chart is not None
    figure = parsed(bar_chart(chart, "trend")).one("figure", class_="chart")
    assert figure.attributes["id"] == "trend"
    svg = figure.one("svg")
    assert svg.attributes["aria-labelledby"] == "trend-caption"
    bars = svg.all("rect", class_="bar")
    assert [bar.one("title").text for bar in bars] == titles
    heights = [float(bar.attributes["height"]) for bar in bars]
    assert heights[0] == 0 and heights[2] == max(heights) == 2 * heights[1]
    # each bar stands on the axis
    for bar in bars:
        bottom = float(bar.attributes["y"]) + float(bar.attributes["height"])
        assert abs(bottom - float(svg.one("line", class_="axis").attributes["y1"])) < 0.02
    labels = [text.text for text in svg.all("text", class_="x-label")]
    assert labels[0] == "2025-01" and labels[-1] == "2026-01"
    assert [text.text for text in svg.all("text", class_="y-label")] == ["10", "0"]
    caption = figure.one("figcaption")
    assert caption.text == 'Papers per month matching "KL" & <b>x</b>'
    assert caption.attributes["id"] == "trend-caption"
    assert [item.text for item in figure.one("ul").all("li")] == titles
    assert all(float(bar.attributes["y"]) < HEIGHT for bar in bars)


def test_nothing_to_draw_is_no_chart() -> None:
    assert month_chart("empty", [], [], []) is None
    assert month_chart("zeros", ["2025-01", "2025-02"], [0, 0], ["a", "b"]) is None
