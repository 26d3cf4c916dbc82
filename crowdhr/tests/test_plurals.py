"""Counts read right: "1 bonus", "0 bonuses", "2 studies"."""

from __future__ import annotations

from crowdhr.admin_tools.confirm import Summary, plural


def test_nouns_are_pluralised_by_english_rules():
    assert [plural("bonus", n) for n in (0, 1, 2)] == ["bonuses", "bonus", "bonuses"]
    assert plural("study", 2) == "studies" and plural("HIT", 3) == "HITs" and plural("day", 2) == "days"
    assert Summary("Pay bonuses", 0, noun="bonus").counted == "0 bonuses"
    assert Summary("Message", 1, noun="worker").counted == "1 worker"
