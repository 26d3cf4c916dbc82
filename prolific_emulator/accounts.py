"""Workspaces and their API tokens, created explicitly (Prolific has no API for this).

    workspace = accounts.ensure_workspace("token-1", balance=Decimal("1000.00"))
    accounts.top_up("token-1", Decimal("50"))

or `manage.py prolific_emulator_workspace --token token-1 --balance 1000.00`.
"""

from __future__ import annotations

import re
from decimal import Decimal

from django.db import transaction

from prolific_emulator import money
from prolific_emulator.models import LedgerEntry, Project, Workspace

TOKEN = re.compile(r"^[A-Za-z0-9._~+/=-]{1,255}$")
DEFAULT_BALANCE = Decimal("1000.00")


def minor_units(amount: Decimal) -> int:
    """1000.00 -> 100000; refuses fractions of a cent and negative amounts."""
    cents = amount * 100
    if cents != cents.to_integral_value() or cents < 0:
        raise ValueError(f"{amount} is not an amount in whole cents")
    return int(cents)


def ensure_workspace(
    token: str,
    *,
    balance: Decimal = DEFAULT_BALANCE,
    currency: str = "USD",
    title: str = "Emulated workspace",
) -> Workspace:
    """The workspace answering to `token`, created with `balance` (major units) the first time.

    Idempotent: an existing workspace keeps its balance, currency and history.
    """
    if not TOKEN.match(token):
        raise ValueError("a token is 1-255 letters, digits or ._~+/=-")
    if currency not in Workspace.CURRENCIES:
        raise ValueError(f"currency must be one of {', '.join(Workspace.CURRENCIES)}")
    with transaction.atomic():
        workspace, created = Workspace.objects.get_or_create(
            token=token, defaults={"currency_code": currency, "title": title}
        )
        if created:
            Project.objects.create(workspace=workspace, title="Default project")
            if balance:
                _credit(workspace, minor_units(balance), "Opening balance")
    return workspace


def top_up(token: str, amount: Decimal) -> Workspace:
    """Add money to a workspace (Prolific does this in its web app, never through the API)."""
    with transaction.atomic():
        workspace = Workspace.objects.select_for_update().get(token=token)
        _credit(workspace, minor_units(amount), "Top-up")
    return workspace


def workspace_for_token(token: str) -> Workspace | None:
    return Workspace.objects.filter(token=token).first()


def default_project(workspace: Workspace) -> Project:
    project = workspace.projects.order_by("created", "id").first()
    return project or Project.objects.create(workspace=workspace, title="Default project")


def _credit(workspace: Workspace, amount: int, description: str) -> LedgerEntry:
    return money.charge(workspace, -amount, description)
