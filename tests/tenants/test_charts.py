"""tenants.charts: the shared chart module draws every point it is given, as SVG or PNG."""

from __future__ import annotations

import re
import zoneinfo
from datetime import UTC, datetime, timedelta

import pytest

from tenants.charts import Series, time_series_png, time_series_svg

JAKARTA = zoneinfo.ZoneInfo("Asia/Jakarta")
START = datetime(2026, 11, 13, 17, 0, tzinfo=UTC)


def times(n: int) -> list[datetime]:
    return [START + timedelta(hours=i) for i in range(n)]


def vertices(svg: str, key: str) -> int:
    """The vertices of the path drawn for series ``key``."""
    group = re.search(rf'<g id="series-{key}">(.*?)</g>', svg, re.DOTALL)
    assert group, f"no series {key}"
    path = re.search(r'<path d="([^"]*)"', group.group(1))
    assert path
    return len(re.findall(r"[ML] ", path.group(1)))


@pytest.mark.parametrize("n", [1, 7, 168])
def test_a_line_has_one_vertex_per_point(n: int) -> None:
    values = [(i * 37) % 11 for i in range(n)]  # no smoothing may drop a point
    svg = time_series_svg(
        times=times(n),
        series=[Series(key="mentions", label="Mentions", values=values)],
        time_zone=JAKARTA,
        title="Mentions",
    )
    assert vertices(svg, "mentions") == n


def test_svg_is_inline_markup_with_a_title_and_the_zone() -> None:
    svg = time_series_svg(
        times=times(24),
        series=[
            Series(key="negative", label="Negative", values=[1] * 24, stacked=True),
            Series(key="positive", label="Positive", values=[2] * 24, stacked=True),
            Series(key="mentions", label="Mentions", values=[3] * 24),
        ],
        time_zone=JAKARTA,
        title="Volume <& sentiment>",
    )
    assert svg.startswith("<svg ") and svg.rstrip().endswith("</svg>")
    assert "<?xml" not in svg and "DOCTYPE" not in svg
    assert 'role="img"' in svg and "<title>Volume &lt;&amp; sentiment&gt;</title>" in svg
    assert ">WIB<" in svg  # the axis names the zone the times are shown in
    for key in ("negative", "positive", "mentions"):
        assert f'<g id="series-{key}">' in svg
    # Text stays text (no glyph outlines); no address but the XML namespaces.
    assert "<text" in svg and "<metadata" not in svg
    assert {url.split("/")[2] for url in re.findall(r"https?://[^\"]+", svg)} == {"www.w3.org"}


def test_the_same_input_draws_the_same_svg() -> None:
    kwargs = {
        "times": times(10),
        "series": [Series(key="m", label="m", values=list(range(10)))],
        "time_zone": JAKARTA,
        "title": "t",
    }
    assert time_series_svg(**kwargs) == time_series_svg(**kwargs)


def test_png() -> None:
    png = time_series_png(
        times=times(48),
        series=[Series(key="m", label="m", values=[1] * 48)],
        time_zone=JAKARTA,
        title="t",
    )
    assert png.startswith(b"\x89PNG\r\n\x1a\n")


@pytest.mark.parametrize(
    "bad",
    [
        {"series": []},
        {"series": [Series(key="m", label="m", values=[1, 2])]},
        {"times": [datetime(2026, 1, 1)] * 3},
        {
            "series": [
                Series(key="m", label="m", values=[1, 2, 3]),
                Series(key="m", label="n", values=[1, 2, 3]),
            ]
        },
    ],
)
def test_refuses_inconsistent_input(bad: dict[str, object]) -> None:
    kwargs: dict[str, object] = {
        "times": times(3),
        "series": [Series(key="m", label="m", values=[1, 2, 3])],
        "time_zone": JAKARTA,
        "title": "t",
    }
    with pytest.raises(ValueError):
        time_series_svg(**(kwargs | bad))  # type: ignore[arg-type]


def test_series_keys_are_safe_in_markup() -> None:
    with pytest.raises(ValueError):
        Series(key='m" onload="x', label="m", values=[])
