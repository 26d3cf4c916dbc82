"""Tokens, the user, workspaces and their balance; the workspace command."""

from __future__ import annotations

import requests
from django.core.management import call_command

from prolific_emulator import accounts
from prolific_emulator.models import Workspace


def test_no_token_is_a_401_in_prolifics_error_shape(base_url, workspace):
    answer = requests.get(base_url + "users/me/", timeout=5)

    assert answer.status_code == 401
    error = answer.json()["error"]
    assert error["status"] == 401
    assert {"error_code", "title", "detail"} <= set(error)


def test_an_unknown_token_is_refused(base_url, workspace):
    answer = requests.get(base_url + "studies/", headers={"Authorization": "Token nope"}, timeout=5)

    assert answer.status_code == 401
    assert answer.json()["error"]["detail"] == "Invalid token."


def test_a_bearer_header_is_not_prolifics_scheme(base_url, workspace):
    answer = requests.get(
        base_url + "users/me/", headers={"Authorization": "Bearer researcher-one-token"}, timeout=5
    )

    assert answer.status_code == 401


def test_the_token_finds_its_user_and_workspace(researcher, workspace):
    me = researcher.ok("GET", "users/me/")
    listed = researcher.ok("GET", "workspaces/")["results"]

    assert me["id"] == workspace.user_id
    assert [w["id"] for w in listed] == [workspace.id]
    assert researcher.ok("GET", f"workspaces/{workspace.id}/")["id"] == workspace.id


def test_the_balance_is_reported_in_minor_units(researcher, workspace):
    report = researcher.ok("GET", f"workspaces/{workspace.id}/balance/")

    assert report["currency_code"] == "USD"
    assert report["total_balance"] == 100000
    assert report["available_balance"] == 100000


def test_another_workspace_is_not_found(researcher, other_researcher):
    other = other_researcher.workspace_id()

    assert researcher.get(f"workspaces/{other}/balance/").status_code == 404


def test_the_workspace_command_is_idempotent(transactional_db):
    call_command(
        "prolific_emulator_workspace", "--token", "demo-token", "--balance", "50.00", "--currency", "GBP"
    )
    accounts.top_up("demo-token", accounts.Decimal("1"))
    call_command("prolific_emulator_workspace", "--token", "demo-token", "--balance", "50.00")

    workspace = Workspace.objects.get(token="demo-token")
    assert (workspace.balance, workspace.currency_code, Workspace.objects.count()) == (5100, "GBP", 1)
