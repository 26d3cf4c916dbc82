"""A workspace's money: the service fee, charges, and the balance Prolific reports.

Prolific charges a service fee on top of every reward and bonus it pays a participant. Its
researcher help centre states "~33.33% service charge on each bonus payment + VAT where
applicable" and that bonuses are charged at the same rate as rewards; some accounts pay 42.8%.
The twin models one rate, 33.33%, and no VAT.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.db.models import F

from prolific_emulator.errors import InsufficientFunds
from prolific_emulator.models import LedgerEntry, Study, Submission, Workspace

FEE_RATE = Decimal("0.3333")
# Prolific's minimum pay (researcher help: "the minimum pay allowed is £6.00 / $8.00 per hour"),
# in minor units per hour, checked when a study is published.
MINIMUM_HOURLY_REWARD = {"GBP": 600, "USD": 800}
OPEN_STUDIES = [Study.ACTIVE, Study.PAUSED, Study.SCHEDULED, Study.AWAITING_REVIEW]


def fee(amount: int) -> int:
    """Prolific's service fee on `amount` minor units, rounded to the nearest minor unit."""
    return int((Decimal(amount) * FEE_RATE).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def charge(workspace: Workspace, amount: int, description: str, **refs: str) -> LedgerEntry:
    """Take `amount` minor units from the workspace's balance and write the ledger row."""
    Workspace.objects.filter(pk=workspace.pk).update(balance=F("balance") - amount)
    balance = Workspace.objects.values_list("balance", flat=True).get(pk=workspace.pk)
    workspace.balance = balance
    return LedgerEntry.objects.create(
        workspace=workspace, amount=-amount, balance_after=balance, description=description, **refs
    )


def reserved(workspace: Workspace) -> int:
    """Funds held for open studies: every place not yet approved, at reward plus fee."""
    held = 0
    for study in workspace.studies.filter(status__in=OPEN_STUDIES, is_deleted=False):
        approved = study.submissions.filter(status=Submission.APPROVED).count()
        held += max(0, study.total_available_places - approved) * (study.reward + fee(study.reward))
    return held


def available(workspace: Workspace) -> int:
    """What the workspace can still commit to new places or bonuses."""
    return workspace.balance - reserved(workspace)


def require_available(workspace: Workspace, amount: int, what: str) -> None:
    """Refuse (400) what would cost more than the workspace has available."""
    if available(workspace) < amount:
        raise InsufficientFunds(
            f"Insufficient balance in your workspace to {what}: it needs {amount} "
            f"({workspace.currency_code} minor units) and {available(workspace)} is available."
        )


def balance_report(workspace: Workspace) -> dict[str, object]:
    """The body of GET /workspaces/{id}/balance/ (fields as in Prolific's reference)."""
    workspace.refresh_from_db(fields=["balance"])
    spare = available(workspace)
    return {
        "currency_code": workspace.currency_code,
        "total_balance": workspace.balance,
        "balance_breakdown": _breakdown(workspace.balance),
        "available_balance": spare,
        "available_balance_breakdown": _breakdown(spare),
    }


def _breakdown(total: int) -> dict[str, int]:
    fees = total - int((Decimal(total) / (1 + FEE_RATE)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    return {"rewards": total - fees, "fees": fees, "vat": 0}
