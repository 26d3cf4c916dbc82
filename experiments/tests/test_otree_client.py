"""The oTree REST client against a real oTree server running crowdhr's shipped project."""

from __future__ import annotations

from decimal import Decimal

import pytest

from experiments.otree import OtreeClient, OtreeError
from experiments.otree_env import OTREE_VERSION
from experiments.otree_server import free_port
from experiments.testing import walk_participant

pytestmark = pytest.mark.otree

DONE_URL = "http://127.0.0.1:8000/experiments/done/"


@pytest.fixture
def client(otree_server) -> OtreeClient:
    return OtreeClient(otree_server.url, otree_server.rest_key)


def test_reports_the_pinned_otree_version(client):
    assert client.version() == OTREE_VERSION


def test_lists_the_effort_session_config_with_its_exchange_rate(client):
    configs = {config["name"]: config for config in client.session_configs()}

    assert configs["effort"]["app_sequence"] == ["effort"]
    assert configs["effort"]["real_world_currency_per_point"] == Decimal("0.01")


def test_a_new_session_has_the_requested_participants_and_none_has_finished(client):
    session = client.create_session(
        "effort", 4, {"crowdhr_done_url": DONE_URL, "real_world_currency_per_point": Decimal("0.02")}
    )

    info = client.get_session(session.code)
    assert info["config"]["crowdhr_done_url"] == DONE_URL
    assert info["config"]["real_world_currency_per_point"] == Decimal("0.02")
    assert len(info["participants"]) == 4
    assert not any(participant["finished"] for participant in info["participants"])
    assert client.participant(session.code, "WORKER1") is None


def test_a_worker_who_completes_the_study_is_finished_with_the_payoff_of_their_effort(client):
    session = client.create_session("effort", 2, {"crowdhr_done_url": DONE_URL})

    walk = walk_participant(session.session_wide_url, "WORKER1", {"effort": "7"}, done_link_prefix=DONE_URL)

    assert walk.done_link == f"{DONE_URL}?participant_label=WORKER1"
    worker = client.participant(session.code, "WORKER1")
    assert worker is not None
    assert worker.finished
    # 7 units x $0.10
    assert worker.payoff == Decimal("0.70")
    [other] = [p for p in client.participants(session.code) if p.code != worker.code]
    assert not other.finished
    assert other.payoff == 0


def test_a_worker_who_returns_with_the_same_label_gets_the_same_participant(client):
    session = client.create_session("effort", 2)

    first = walk_participant(session.session_wide_url, "WORKER2", {"effort": "3"})
    again = walk_participant(session.session_wide_url, "WORKER2")

    assert again.pages[-1] == first.pages[-1]
    assert [p.label for p in client.participants(session.code)].count("WORKER2") == 1


def test_a_worker_who_stops_midway_is_not_finished(client):
    session = client.create_session("effort", 1)

    walk = walk_participant(session.session_wide_url, "WORKER3", {"effort": "not a number"})

    assert walk.rejected
    worker = client.participant(session.code, "WORKER3")
    assert worker is not None
    assert not worker.finished
    assert worker.payoff == 0


def test_an_unknown_session_config_is_a_permanent_error(client):
    with pytest.raises(OtreeError) as error:
        client.create_session("no_such_config", 2)

    assert error.value.permanent
    assert "no_such_config" in error.value.message


def test_an_unknown_session_code_is_a_permanent_error(client):
    with pytest.raises(OtreeError) as error:
        client.get_session("nosuchcode")

    assert error.value.permanent


def test_a_wrong_rest_key_is_a_permanent_error(otree_server):
    client = OtreeClient(otree_server.url, "not-the-key")

    with pytest.raises(OtreeError) as error:
        client.session_configs()

    assert error.value.permanent
    assert "403" in error.value.message


def test_an_unreachable_server_is_a_temporary_error():
    client = OtreeClient(f"http://127.0.0.1:{free_port()}", "any-key", timeout=2)

    with pytest.raises(OtreeError) as error:
        client.version()

    assert not error.value.permanent


def test_a_participant_sees_the_payoff_in_dollars_and_no_debug_panel(client):
    session = client.create_session("effort", 1, {"crowdhr_done_url": DONE_URL})

    walk = walk_participant(session.session_wide_url, "WORKER9", {"effort": "3"}, done_link_prefix=DONE_URL)

    assert "earned $0.30" in walk.last_html
    assert "points" not in walk.last_html
    assert "Debug info" not in walk.last_html and 'isDebug = ""' in walk.last_html
