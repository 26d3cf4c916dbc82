"""Response-time statistics of HITs, with an inline SVG histogram (no chart library, no CDN)."""

from __future__ import annotations

import math

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from hits import services
from hits.models import HIT

#: bin widths a reader takes in at a glance, in seconds
NICE_WIDTHS = (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 86400)


def bin_width(span: float, bins: int) -> float:
    """The smallest nice width that covers `span` in at most `bins` bars."""
    return next(
        (w for w in NICE_WIDTHS if w * bins >= span), NICE_WIDTHS[-1] * math.ceil(span / bins / 86400)
    )


def time_label(seconds: float) -> str:
    """2.5s, 45s, 2 min, 1.5 h: the unit a reader expects for the size."""
    if seconds < 60:
        return f"{seconds:g}s"
    if seconds < 3600:
        return f"{seconds / 60:g} min"
    return f"{seconds / 3600:g} h"


def histogram(seconds: tuple[float, ...], bins: int = 12, width: int = 600, height: int = 220) -> dict:
    """Bars for an inline SVG histogram of work times, in bins of a nice width ("2s to 4s")."""
    if not seconds:
        return {"bars": [], "width": width, "height": height}
    low, high = min(seconds), max(seconds)
    step = bin_width(high - low, bins)
    start = math.floor(low / step) * step
    count = max(1, math.floor((high - start) / step) + 1)
    counts = [0] * count
    for value in seconds:
        counts[min(count - 1, math.floor((value - start) / step))] += 1
    top = max(counts)
    plot_height, bar_width = height - 40, width / count
    bars = []
    for index, n in enumerate(counts):
        bar_height = plot_height * n / top
        edge = round(start + step * index, 6)
        bars.append(
            {
                "x": round(index * bar_width + 1, 1),
                "y": round(plot_height - bar_height + 10, 1),
                "w": round(bar_width - 2, 1),
                "h": round(bar_height, 1),
                "count": n,
                "label": time_label(edge),
                "range": f"{time_label(edge)} to {time_label(round(edge + step, 6))}",
            }
        )
    return {"bars": bars, "width": width, "height": height, "axis_y": height - 30, "bin": time_label(step)}


def statistics_page(
    modeladmin: admin.ModelAdmin, request: HttpRequest, hits: QuerySet[HIT]
) -> TemplateResponse:
    """The response-time statistics of `hits` with a histogram of their work times."""
    times = services.response_time_statistics(hits)
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": "Response-time statistics",
        "opts": modeladmin.model._meta,
        "stats": times,
        "hit_count": hits.count(),
        "chart": histogram(times.seconds),
    }
    return TemplateResponse(request, "admin/hits/hit/statistics.html", context)
