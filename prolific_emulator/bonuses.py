"""Bulk bonus payments: set up from CSV lines, then paid (and paid again, if asked twice).

From Prolific's reference:
- `POST /submissions/bonus-payments/` takes `study_id` and `csv_bonuses`, lines of
  `<participant_id>,<amount>` or `<submission_id>,<amount>`; amounts are decimals in the study
  currency (`30` is 30.00). Ids that did not take part in the study are a 400 naming them.
  The answer has `id`, `study`, `amount`, `fees` and `total_amount` in minor units. Nothing is paid.
- `POST /bulk-bonus-payments/{id}/pay/` pays, asynchronously on Prolific, and is NOT idempotent:
  "Sending multiple requests with the same bulk bonus payment ID will result in participants
  being paid multiple times." The twin pays at once, every time it is called.
- The reference has no call that reads a bulk bonus back. The documented reads that show what
  was paid are each submission's `bonus_payments` and the workspace balance; `payments()` here
  is the twin's own view for tests in the same process.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.db.models import Max

from prolific_emulator import money, studies
from prolific_emulator.errors import BadRequest, NotFound, field_error
from prolific_emulator.models import BonusPayment, BulkBonus, Study, Submission, Workspace

MAX_LINES = 1000
MAX_AMOUNT = Decimal("10000")


def set_up(workspace: Workspace, data: dict[str, Any]) -> BulkBonus:
    """A bulk bonus from `study_id` and `csv_bonuses`; validates every line, pays nothing."""
    study = studies.get(workspace, _string(data, "study_id"))
    rows = _parse(_string(data, "csv_bonuses"))
    lines = _resolve(study, rows)
    amount = sum(line["amount"] for line in lines)
    fees = sum(money.fee(line["amount"]) for line in lines)
    return BulkBonus.objects.create(workspace=workspace, study=study, lines=lines, amount=amount, fees=fees)


def get(workspace: Workspace, bulk_id: str) -> BulkBonus:
    bulk = (
        BulkBonus.objects.select_related("study", "workspace").filter(pk=bulk_id, workspace=workspace).first()
    )
    if bulk is None:
        raise NotFound("Bulk bonus payment not found.")
    return bulk


def pay(bulk: BulkBonus) -> int:
    """Pay every line of the bulk bonus once more; returns which pay call this was (1, 2, ...)."""
    money.require_available(bulk.workspace, bulk.amount + bulk.fees, "pay these bonuses")
    call = (bulk.payments.aggregate(n=Max("pay_call"))["n"] or 0) + 1
    for line in bulk.lines:
        _pay_line(bulk, line, call)
    return call


def payments(bulk_id: str) -> list[BonusPayment]:
    """Every bonus paid for this bulk bonus, one row per line per pay call (twin-only read)."""
    return list(BonusPayment.objects.filter(bulk_bonus_id=bulk_id))


def representation(bulk: BulkBonus) -> dict[str, Any]:
    return {
        "id": bulk.id,
        "study": bulk.study_id,
        "amount": bulk.amount,
        "fees": bulk.fees,
        "total_amount": bulk.amount + bulk.fees,
    }


def _pay_line(bulk: BulkBonus, line: dict[str, Any], call: int) -> None:
    amount, fees = line["amount"], money.fee(line["amount"])
    refs = {"study_id": bulk.study_id, "submission_id": line["submission_id"], "bulk_bonus_id": bulk.id}
    money.charge(bulk.workspace, amount, f"Bonus to {line['participant_id']}", **refs)
    money.charge(bulk.workspace, fees, f"Fee on bonus to {line['participant_id']}", **refs)
    BonusPayment.objects.create(
        bulk_bonus=bulk,
        submission_id=line["submission_id"],
        participant_id=line["participant_id"],
        amount=amount,
        fees=fees,
        pay_call=call,
    )


def _string(data: dict[str, Any], name: str) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value.strip():
        raise field_error(name, "This field is required.")
    return value


def _parse(csv_bonuses: str) -> list[tuple[str, int]]:
    lines = [line.strip() for line in csv_bonuses.replace("\r", "\n").split("\n") if line.strip()]
    if not lines:
        raise field_error("csv_bonuses", "No bonuses given.")
    if len(lines) > MAX_LINES:
        raise field_error("csv_bonuses", f"At most {MAX_LINES} bonuses per request.")
    return [_parse_line(number, line) for number, line in enumerate(lines, start=1)]


def _parse_line(number: int, line: str) -> tuple[str, int]:
    parts = [part.strip() for part in line.split(",")]
    if len(parts) != 2:
        raise field_error("csv_bonuses", f"Line {number} is not <id>,<amount>.")
    return parts[0], _minor_units(number, parts[1])


def _minor_units(number: int, text: str) -> int:
    try:
        amount = Decimal(text)
    except InvalidOperation:
        raise field_error("csv_bonuses", f"Line {number}: {text[:20]!r} is not an amount.") from None
    if not amount.is_finite() or amount <= 0 or amount > MAX_AMOUNT or amount != round(amount, 2):
        raise field_error("csv_bonuses", f"Line {number}: the amount must be positive, in whole cents.")
    return int(amount * 100)


def _resolve(study: Study, rows: list[tuple[str, int]]) -> list[dict[str, Any]]:
    taken = list(study.submissions.values_list("id", "participant_id"))
    by_submission = dict(taken)
    by_participant = {participant: submission for submission, participant in taken}
    unknown = [given for given, _ in rows if given not in by_submission and given not in by_participant]
    if unknown:
        shown = ", ".join(given[:40] for given in unknown)
        raise BadRequest(f"These ids did not take part in study {study.id}: {shown}.")
    lines = []
    for given, amount in rows:
        submission_id = given if given in by_submission else by_participant[given]
        lines.append(
            {"participant_id": by_submission[submission_id], "submission_id": submission_id, "amount": amount}
        )
    return lines


def paid_to(submission: Submission) -> list[int]:
    """Bonus amounts paid to a submission (minor units), as its `bonus_payments` shows them."""
    return list(submission.bonuses.values_list("amount", flat=True))
