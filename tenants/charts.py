"""Server-rendered charts: a time series drawn by matplotlib (Agg, no display, no browser code).

The one chart module of the project: the admin's start pages use it, and so will reports and
their PDFs. It is pure: no Django, no database; given the points it returns the picture.

- ``time_series_svg(...)`` returns inline SVG markup (no XML prologue, ``role="img"`` and a
  ``<title>`` for screen readers), to be placed in an HTML page as it is; text stays text
  (``svg.fonttype = none``), so a page's fonts apply and the markup stays small.
- ``time_series_png(...)`` returns PNG bytes of the same chart (for PDFs and e-mails).

Every series is drawn from every point it is given (path simplification off), so a series of
``n`` points is one path of ``n`` vertices (SVG: ``<g id="series-<key>">``). ``stacked`` series
are drawn as areas stacked in the order given; the others as lines over them. Times are shown
in ``time_zone``, which the axis names (e.g. ``WIB``). Output is deterministic for the same
input: no date in the metadata, fixed ids.

matplotlib's settings are process-wide, so drawing is serialised by a lock (a chart takes tens
of milliseconds); matplotlib is imported on the first chart, not when Django starts.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from html import escape
from typing import Any

_LOCK = threading.Lock()
_KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,39}$")
_PROLOGUE = re.compile(r"^.*?(?=<svg\b)", re.DOTALL)
_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.DOTALL)

# The colours of the project's charts: sentiment and a neutral ink for totals.
COLOURS = {
    "positive": "#2e7d32",
    "neutral": "#9e9e9e",
    "negative": "#c62828",
    "total": "#1a3a5c",
}


@dataclass(frozen=True, kw_only=True)
class Series:
    """One named series: ``key`` (lower-case letters, digits and dashes) names it in the SVG,
    ``label`` in the legend; one value per time of the chart."""

    key: str
    label: str
    values: Sequence[float]
    colour: str = COLOURS["total"]
    stacked: bool = False

    def __post_init__(self) -> None:
        if not _KEY.match(self.key):
            raise ValueError(f"series key {self.key!r}: lower-case letters, digits and dashes")


@dataclass(frozen=True, kw_only=True)
class Marker:
    """A moment marked on a time chart (a dashed vertical line labelled at the top), e.g. an
    incident's milestones: alert, acknowledged, statements, resolved."""

    at: datetime
    label: str
    colour: str = "#555555"


@dataclass(frozen=True, kw_only=True)
class BandArea:
    """A shaded band between ``low`` and ``high`` (one value each per time of the chart), e.g.
    a baseline's median ± 2 MAD; ``label`` names it in the legend."""

    low: Sequence[float]
    high: Sequence[float]
    label: str
    colour: str = "#90caf9"


def time_series_svg(
    *,
    times: Sequence[datetime],
    series: Sequence[Series],
    time_zone: tzinfo,
    title: str,
    y_label: str = "",
    width: float = 9.0,
    height: float = 3.2,
    markers: Sequence[Marker] = (),
    band: BandArea | None = None,
    y_max: float | None = None,
) -> str:
    """The chart as inline SVG markup (``width`` and ``height`` in inches at 100 px each)."""
    svg = _render(
        times=times,
        series=series,
        time_zone=time_zone,
        title=title,
        y_label=y_label,
        width=width,
        height=height,
        image_format="svg",
        markers=markers,
        band=band,
        y_max=y_max,
    ).decode("utf-8")
    svg = _METADATA.sub("", _PROLOGUE.sub("", svg, count=1), count=1)
    return svg.replace(
        "<svg ",
        f'<svg role="img" aria-label="{escape(title)}" class="sigap-chart" ',
        1,
    ).replace(">", f"><title>{escape(title)}</title>", 1)


def time_series_png(
    *,
    times: Sequence[datetime],
    series: Sequence[Series],
    time_zone: tzinfo,
    title: str,
    y_label: str = "",
    width: float = 9.0,
    height: float = 3.2,
    dpi: int = 100,
    markers: Sequence[Marker] = (),
    band: BandArea | None = None,
    y_max: float | None = None,
) -> bytes:
    """The same chart as PNG bytes."""
    return _render(
        times=times,
        series=series,
        time_zone=time_zone,
        title=title,
        y_label=y_label,
        width=width,
        height=height,
        image_format="png",
        dpi=dpi,
        markers=markers,
        band=band,
        y_max=y_max,
    )


def _render(
    *,
    times: Sequence[datetime],
    series: Sequence[Series],
    time_zone: tzinfo,
    title: str,
    y_label: str,
    width: float,
    height: float,
    image_format: str,
    dpi: int = 100,
    markers: Sequence[Marker] = (),
    band: BandArea | None = None,
    y_max: float | None = None,
) -> bytes:
    if not series:
        raise ValueError("a chart needs at least one series")
    for one in series:
        if len(one.values) != len(times):
            raise ValueError(f"series {one.key!r}: {len(one.values)} values for {len(times)} times")
    if any(t.tzinfo is None for t in times):
        raise ValueError("times must be aware datetimes")
    if len({one.key for one in series}) != len(series):
        raise ValueError("series keys must be unique")
    if band is not None and not len(band.low) == len(band.high) == len(times):
        raise ValueError("the band needs one low and one high value per time")
    if any(marker.at.tzinfo is None for marker in markers):
        raise ValueError("marker times must be aware datetimes")

    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.dates as mdates
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    settings: Any = {
        "svg.fonttype": "none",
        "svg.hashsalt": "sigap",
        "path.simplify": False,
        "text.parse_math": False,
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
    with _LOCK, matplotlib.rc_context(settings):
        figure = Figure(figsize=(width, height), dpi=dpi, layout="constrained")
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        local = [t.astimezone(time_zone) for t in times]
        x = mdates.date2num(local)  # type: ignore[no-untyped-call]  # days since the epoch
        axes.xaxis_date(tz=time_zone)
        if band is not None and len(x):
            shaded = axes.fill_between(
                x,
                list(band.low),
                list(band.high),
                color=band.colour,
                alpha=0.35,
                linewidth=0,
                label=band.label,
            )
            shaded.set_gid("band")
        stacked = [one for one in series if one.stacked]
        if stacked and len(x):
            areas = axes.stackplot(
                x,
                *[list(one.values) for one in stacked],
                labels=[one.label for one in stacked],
                colors=[one.colour for one in stacked],
                alpha=0.55,
                linewidth=0,
            )
            for one, area in zip(stacked, areas, strict=True):
                area.set_gid(f"series-{one.key}")
        for one in series:
            if one.stacked:
                continue
            (line,) = axes.plot(x, list(one.values), label=one.label, color=one.colour, lw=1.4)
            line.set_gid(f"series-{one.key}")
        for index, marker in enumerate(markers):
            at = float(mdates.date2num(marker.at.astimezone(time_zone)))  # type: ignore[no-untyped-call]
            line = axes.axvline(at, color=marker.colour, lw=0.9, ls="--")
            line.set_gid(f"marker-{index}")
            axes.annotate(
                marker.label,
                xy=(at, 1.0),
                xycoords=("data", "axes fraction"),
                rotation=90,
                va="top",
                ha="right",
                fontsize=7,
                color=marker.colour,
            )
        axes.set_title(title, loc="left", fontsize=10, fontweight="bold")
        axes.set_ylabel(y_label)
        zone_name = local[0].tzname() if local else str(time_zone)
        axes.set_xlabel(zone_name or "")
        locator = mdates.AutoDateLocator(tz=time_zone, minticks=4, maxticks=10)  # type: ignore[no-untyped-call]
        formatter = mdates.ConciseDateFormatter(locator, tz=time_zone)  # type: ignore[no-untyped-call]
        axes.xaxis.set_major_locator(locator)
        axes.xaxis.set_major_formatter(formatter)
        axes.set_ylim(bottom=0, top=y_max)
        if len(x) > 1:
            axes.set_xlim(float(x[0]), float(x[-1]))

        axes.grid(axis="y", color="#e0e0e0", linewidth=0.6)
        axes.legend(
            loc="lower right",
            bbox_to_anchor=(1.0, 1.0),
            frameon=False,
            ncols=max(1, len(series)),
            fontsize=8,
        )
        buffer = io.BytesIO()
        metadata = {"Date": None} if image_format == "svg" else {}
        figure.savefig(buffer, format=image_format, metadata=metadata)
    return buffer.getvalue()


def bar_chart_svg(
    *,
    labels: Sequence[str],
    values: Sequence[float],
    title: str,
    highlight: Sequence[bool] = (),
    width: float = 9.0,
    height: float = 3.2,
) -> str:
    """Horizontal bars (e.g. share of voice per query) as inline SVG; ``highlight`` marks bars
    drawn in the accent colour (e.g. the incident's own queries)."""
    svg = _render_bars(labels, values, title, highlight, width, height, "svg", 100).decode("utf-8")
    svg = _METADATA.sub("", _PROLOGUE.sub("", svg, count=1), count=1)
    return svg.replace(
        "<svg ",
        f'<svg role="img" aria-label="{escape(title)}" class="sigap-chart" ',
        1,
    ).replace(">", f"><title>{escape(title)}</title>", 1)


def bar_chart_png(
    *,
    labels: Sequence[str],
    values: Sequence[float],
    title: str,
    highlight: Sequence[bool] = (),
    width: float = 9.0,
    height: float = 3.2,
    dpi: int = 100,
) -> bytes:
    """The same bars as PNG bytes."""
    return _render_bars(labels, values, title, highlight, width, height, "png", dpi)


def _render_bars(
    labels: Sequence[str],
    values: Sequence[float],
    title: str,
    highlight: Sequence[bool],
    width: float,
    height: float,
    image_format: str,
    dpi: int,
) -> bytes:
    if len(labels) != len(values):
        raise ValueError("one value per label")
    marks = list(highlight) or [False] * len(labels)
    if len(marks) != len(labels):
        raise ValueError("one highlight flag per label")

    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    settings: Any = {
        "svg.fonttype": "none",
        "svg.hashsalt": "sigap",
        "text.parse_math": False,
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
    with _LOCK, matplotlib.rc_context(settings):
        figure = Figure(figsize=(width, height), dpi=dpi, layout="constrained")
        FigureCanvasAgg(figure)
        axes = figure.add_subplot()
        positions = list(range(len(labels)))[::-1]
        colours = [COLOURS["negative"] if mark else COLOURS["total"] for mark in marks]
        bars = axes.barh(positions, list(values), color=colours)
        for index, bar in enumerate(bars):
            bar.set_gid(f"bar-{index}")
        axes.set_yticks(positions, list(labels))
        axes.set_title(title, loc="left", fontsize=10, fontweight="bold")
        axes.set_xlim(left=0)
        axes.grid(axis="x", color="#e0e0e0", linewidth=0.6)
        buffer = io.BytesIO()
        metadata = {"Date": None} if image_format == "svg" else {}
        figure.savefig(buffer, format=image_format, metadata=metadata)
    return buffer.getvalue()
