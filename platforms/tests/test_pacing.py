"""crowdhr's pace for a platform's rate limit: calls leave a token apart, and a throttled answer
leaves nothing to spend until the next token (a fake clock: no sleeping, no timing)."""

from __future__ import annotations

import pytest

from platforms.pacing import Pace, Rate


class Clock:
    """Time that moves only when a caller sleeps."""

    def __init__(self) -> None:
        self.now = 0.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))


def paced(rate: Rate | None) -> tuple[Pace, Clock]:
    clock = Clock()
    return Pace(lambda: rate, clock=clock, sleep=clock.sleep), clock


def test_half_the_burst_leaves_at_once_and_the_rest_one_token_apart():
    pace, clock = paced(Rate(per_second=20, burst=10))

    for _ in range(8):
        pace.wait()  # eight threads at once: five tokens there, three owed

    assert clock.slept == [0.05, 0.1, 0.15]


def test_tokens_come_back_at_the_rate_up_to_half_the_burst():
    pace, clock = paced(Rate(per_second=20, burst=10))
    for _ in range(5):
        pace.wait()
    clock.now = 60.0

    for _ in range(6):
        pace.wait()

    assert clock.slept == [0.05]


def test_after_a_throttled_answer_the_next_call_waits_for_the_next_token():
    pace, clock = paced(Rate(per_second=20, burst=10))
    pace.wait()

    pace.throttled()  # the platform counted calls crowdhr did not
    pace.wait()

    assert clock.slept == [0.05]


def test_without_a_rate_limit_nothing_waits():
    pace, clock = paced(None)
    for _ in range(100):
        pace.wait()
    pace.throttled()
    assert clock.slept == []


@pytest.mark.parametrize(
    ("setting", "rate"),
    [
        ((20, 10), Rate(20, 10)),
        (5, Rate(5, 5)),
        (0.5, Rate(0.5, 1)),
        (None, None),
    ],
)
def test_a_rate_limit_setting_reads_as_per_second_and_burst(setting, rate):
    assert Rate.parse(setting) == rate


@pytest.mark.parametrize("setting", [(0, 10), (20, 0.5), (1, 2, 3), float("inf")])
def test_a_rate_limit_that_cannot_be_kept_is_refused(setting):
    with pytest.raises(ValueError):
        Rate.parse(setting)
