"""A researcher's first hour, hits side: readable statistics and the money held by open HITs."""

from __future__ import annotations

from hits.admin.statistics import histogram


def test_work_times_close_together_get_bins_with_distinct_labels():
    chart = histogram(tuple(2 + i * 0.07 for i in range(13)))

    labels = [bar["label"] for bar in chart["bars"]]
    assert len(set(labels)) == len(labels) <= 12
    assert labels[0] == "2s" and labels[1] == "2.1s"
    assert chart["bin"] == "0.1s"
    assert sum(bar["count"] for bar in chart["bars"]) == 13


def test_long_work_times_are_binned_in_minutes():
    chart = histogram((30.0, 45.0, 100.0, 400.0, 1200.0))

    assert chart["bin"] == "2 min"
    assert [bar["label"] for bar in chart["bars"]][:3] == ["0s", "2 min", "4 min"]
    assert chart["bars"][0]["range"] == "0s to 2 min"
