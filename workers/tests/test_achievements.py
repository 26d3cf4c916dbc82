from __future__ import annotations

from decimal import Decimal
from itertools import pairwise

from workers.achievements import RATE_PER_HIT, TRACKS, track_for
from workers.models import Qualification


def test_bonuses_grow_in_size_and_spacing_at_a_rate_rising_to_the_constant():
    track = track_for(Qualification.HITS_APPROVED)
    levels = [track.level(n) for n in range(1, len(track.thresholds) + 1)]
    assert [level.bonus for level in levels] == sorted(level.bonus for level in levels)
    gaps = [b.threshold - a.threshold for a, b in pairwise(levels)]
    assert gaps == sorted(gaps)
    rates = [
        level.bonus / (level.threshold - (levels[i - 1].threshold if i else 0))
        for i, level in enumerate(levels)
    ]
    assert rates[0] < RATE_PER_HIT
    assert rates[-1] == RATE_PER_HIT
    assert rates == sorted(rates)


def test_a_maxed_worker_earns_periodic_bonuses_at_the_full_rate():
    track = track_for(Qualification.HITS_APPROVED)
    last = len(track.thresholds)
    first_maxed = track.level(last + 1)
    assert first_maxed.threshold == track.thresholds[-1] + track.maxed_interval
    assert first_maxed.bonus == RATE_PER_HIT * track.maxed_interval
    assert "maxed" in first_maxed.name


def test_levels_reached_counts_every_threshold_passed():
    track = track_for(Qualification.APPROVAL_STREAK)
    assert [level.number for level in track.levels_reached(4)] == []
    assert [level.number for level in track.levels_reached(15)] == [1, 2]


def test_every_track_follows_a_kept_qualification():
    assert {track.qualification for track in TRACKS} <= set(Qualification.values)
    assert all(track.level(1).bonus > Decimal(0) for track in TRACKS)
