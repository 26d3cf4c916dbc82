"""Response-time statistics of HITs, with an inline SVG histogram (no chart library, no CDN)."""

from __future__ import annotations

import math

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from hits import services
from hits.models import HIT


def histogram(seconds: tuple[float, ...], bins: int = 12, width: int = 600, height: int = 220) -> dict:
    """Bars for an inline SVG histogram of work times (no chart library, no CDN)."""
    if not seconds:
        return {"bars": [], "width": width, "height": height}
    low, high = min(seconds), max(seconds)
    span = (high - low) or 1.0
    counts = [0] * bins
    for value in seconds:
        counts[min(bins - 1, math.floor((value - low) / span * bins))] += 1
    top = max(counts)
    plot_height, bar_width = height - 40, width / bins
    bars = []
    for index, count in enumerate(counts):
        bar_height = plot_height * count / top
        bars.append(
            {
                "x": round(index * bar_width + 1, 1),
                "y": round(plot_height - bar_height + 10, 1),
                "w": round(bar_width - 2, 1),
                "h": round(bar_height, 1),
                "count": count,
                "label": f"{low + span * index / bins:.0f}s",
            }
        )
    return {"bars": bars, "width": width, "height": height, "axis_y": height - 30}


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
