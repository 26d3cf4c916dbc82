"""A process's memo: values kept for seconds, read-only, forgotten between tests."""

from __future__ import annotations

import time

from crowdhr.memo import Memo, forget_all


def test_a_value_is_kept_for_its_time_and_then_made_again(monkeypatch):
    now = [1000.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    memo: Memo[int] = Memo(5)
    made: list[int] = []
    assert memo.get_or_make("study", lambda: made.append(1) or 3) == 3
    now[0] += 4.9
    assert memo.get_or_make("study", lambda: made.append(1) or 4) == 3
    now[0] += 0.2
    assert memo.get_or_make("study", lambda: made.append(1) or 5) == 5
    assert len(made) == 2


def test_nothing_is_kept_for_none():
    memo: Memo[int] = Memo(60)
    assert memo.get_or_make("no such HIT", lambda: None) is None
    assert memo.get("no such HIT") is None


def test_add_keeps_only_the_first():
    memo: Memo[bool] = Memo(60)
    assert memo.add("asked", True)
    assert not memo.add("asked", True)


def test_the_oldest_values_make_room():
    memo: Memo[int] = Memo(60, size=3)
    for n in range(5):
        memo.put(n, n)
    assert [memo.get(n) for n in range(5)] == [None, None, 2, 3, 4]


def test_forgetting_everything_refuses_work_begun_before():
    memo: Memo[int] = Memo(60)
    generation = memo.generation
    memo.put("kept", 1)
    forget_all()
    assert memo.get("kept") is None
    memo.put("late", 2, generation=generation)
    assert memo.get("late") is None
