"""Injected faults, their gated HTTP control, and hostile input that must never be a 500."""

from __future__ import annotations

import pytest
import requests

from prolific_emulator import faults
from prolific_emulator.tests.conftest import study_body


def test_the_fault_control_is_hidden_without_the_test_switch(live_server, workspace, settings):
    settings.PROLIFIC_EMULATOR_FAULTS = False

    answer = requests.post(f"{live_server.url}/emulator/prolific/faults/", json={"next": []}, timeout=5)

    assert answer.status_code == 404


def test_the_fault_control_schedules_faults_when_switched_on(live_server, researcher, settings):
    settings.PROLIFIC_EMULATOR_FAULTS = True
    url = f"{live_server.url}/emulator/prolific/faults/"

    shown = requests.post(
        url, json={"next": [{"operation": "studies.list", "kind": "unavailable"}]}, timeout=5
    )

    assert shown.json()["next"][0]["kind"] == "unavailable"
    failed = researcher.get("studies/")
    assert (failed.status_code, failed.json()["error"]["status"]) == (503, 503)
    assert researcher.get("studies/").status_code == 200
    assert requests.delete(url, timeout=5).json() == {"next": []}


def test_an_error_fault_does_no_work(researcher):
    faults.fail_next("studies.create", "error")

    answer = researcher.post("studies/", {"name": "x"})

    assert answer.status_code == 500
    assert answer.json()["error"]["status"] == 500
    assert researcher.ok("GET", "studies/")["meta"]["count"] == 0


def test_a_lost_answer_on_create_still_created_the_study(researcher):
    faults.fail_next("studies.create", "lose_answer")
    assert researcher.post("studies/", study_body()).status_code == 500
    assert researcher.ok("GET", "studies/")["meta"]["count"] == 1


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b"{not json", "application/json"),
        (b'{"name": "a\\u0000b"}', "application/json"),
        (b"[1, 2]", "application/json"),
        (b'{"reward": NaN}', "application/json"),
        (b"\xff\xfe\x00", "application/json"),
        (b"[" * 100000 + b"]" * 100000, "application/json"),
        (b'{"a": ' * 50 + b"1" + b"}" * 50, "application/json"),
        (b'{"name": "' + b"x" * 3_000_000 + b'"}', "application/json"),
        (b'{"reward": ' + b"9" * 10000 + b"}", "application/json"),
    ],
)
def test_hostile_bodies_are_400(researcher, body, content_type):
    answer = researcher.call("POST", "studies/", data=body, headers={"Content-Type": content_type})

    assert answer.status_code == 400, answer.text[:300]
    assert answer.json()["error"]["status"] == 400


@pytest.mark.parametrize(
    "path",
    [
        "studies/not-an-id/",
        "studies/%00/",
        "submissions/../../users/me/",
        "studies/" + "a" * 300 + "/",
        "studies/ZZZZZZZZZZZZZZZZZZZZZZZZ/",
    ],
)
def test_bad_ids_are_404(researcher, path):
    assert researcher.get(path).status_code == 404


def test_nul_in_a_query_is_400(researcher):
    assert researcher.get("submissions/?study=%00").status_code == 400


@pytest.mark.parametrize(
    "body",
    [
        {
            "name": 5,
            "description": [],
            "external_study_url": "javascript:alert(1)",
            "prolific_id_option": "x",
            "total_available_places": -1,
            "estimated_completion_time": True,
            "reward": 1.5,
        },
        {"completion_codes": "nope"},
        {"completion_codes": [{"code": "A", "code_type": "COMPLETED", "actions": [{"action": "PAY_ME"}]}]},
        {"filters": [{"filter_id": "Robert'); DROP TABLE--"}]},
        {"device_compatibility": ["toaster"]},
        {"total_available_places": 10**30},
    ],
)
def test_wrongly_typed_study_fields_are_400(researcher, body):
    answer = researcher.post("studies/", study_body(**body))

    assert answer.status_code == 400, answer.text


def test_a_wrong_method_is_405_in_prolifics_shape(researcher):
    answer = researcher.call("PUT", "studies/")

    assert answer.status_code == 405
    assert answer.json()["error"]["status"] == 405
