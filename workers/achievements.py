"""Achievement tracks: names, the qualification each follows, thresholds and bonuses.

This module is the one place to change how achievements pay. Bonuses grow in size and in
spacing so that the bonus per approved HIT stays constant (`RATE_PER_HIT`), scaled by a
multiplier that starts below 1 and reaches 1 at the last level: newcomers earn a little less
per HIT than veterans. A worker past the last level is "maxed" and earns a bonus every
`maxed_interval` further points at the full rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from workers.models import Qualification

RATE_PER_HIT = Decimal("0.02")  # dollars per point of the track's qualification, at full rate
FIRST_MULTIPLIER = Decimal("0.5")  # the first level pays half the full rate
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Level:
    number: int
    name: str
    threshold: int
    bonus: Decimal


@dataclass(frozen=True)
class Track:
    qualification: str
    title: str
    thresholds: tuple[int, ...]
    level_names: tuple[str, ...]

    @property
    def maxed_interval(self) -> int:
        """Points between payouts once maxed: the last gap between levels."""
        if len(self.thresholds) < 2:
            return self.thresholds[0]
        return self.thresholds[-1] - self.thresholds[-2]

    def multiplier(self, number: int) -> Decimal:
        """Rises from FIRST_MULTIPLIER at level 1 to 1 at the last level (and stays 1 when maxed)."""
        last = len(self.thresholds)
        if number >= last or last == 1:
            return Decimal(1)
        return FIRST_MULTIPLIER + (Decimal(1) - FIRST_MULTIPLIER) * Decimal(number - 1) / Decimal(last - 1)

    def level(self, number: int) -> Level:
        """Level `number` (1-based); numbers past the last level are the maxed payouts."""
        last = len(self.thresholds)
        if number <= last:
            threshold = self.thresholds[number - 1]
            previous = self.thresholds[number - 2] if number > 1 else 0
            name = f"{self.title}: {self.level_names[number - 1]}"
        else:
            threshold = self.thresholds[-1] + (number - last) * self.maxed_interval
            previous = threshold - self.maxed_interval
            name = f"{self.title}: maxed ({threshold})"
        bonus = (RATE_PER_HIT * (threshold - previous) * self.multiplier(number)).quantize(
            CENT, ROUND_HALF_UP
        )
        return Level(number=number, name=name, threshold=threshold, bonus=bonus)

    def levels_reached(self, score: int) -> list[Level]:
        """Every level (including maxed payouts) a score has reached."""
        reached: list[Level] = []
        number = 1
        while True:
            level = self.level(number)
            if level.threshold > score:
                return reached
            reached.append(level)
            number += 1


TRACKS: tuple[Track, ...] = (
    Track(
        qualification=Qualification.HITS_APPROVED,
        title="HITs Approved",
        thresholds=(10, 30, 70, 150, 310),
        level_names=("Apprentice", "Regular", "Expert", "Master", "Legend"),
    ),
    Track(
        qualification=Qualification.APPROVAL_STREAK,
        title="Approval Streak",
        thresholds=(5, 15, 35, 75),
        level_names=("Steady", "Reliable", "Unshakeable", "Flawless"),
    ),
    Track(
        qualification=Qualification.EARLY_BIRD,
        title="Early Bird",
        thresholds=(5, 15, 35),
        level_names=("Riser", "Dawn Worker", "First Light"),
    ),
)


def track_for(qualification: str) -> Track | None:
    return next((track for track in TRACKS if track.qualification == qualification), None)
