"""Open a requester account on the local Mechanical Turk, as signing up on MTurk does."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from mturk_emulator.accounts import create_requester


class Command(BaseCommand):
    help = (
        "Open (or update) the requester account of an access key id and secret on the local Mechanical "
        "Turk. A sandbox account (the default) never spends; --live makes one whose balance moves."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--access-key-id", required=True, help="the access key id requests are signed with"
        )
        parser.add_argument("--secret", required=True, help="the secret access key that signs them")
        parser.add_argument("--live", action="store_true", help="a live account: money is spent")
        parser.add_argument("--balance", help="a live account's available balance in dollars, e.g. 500.00")

    def handle(self, *args: Any, **options: Any) -> None:
        balance = self._balance(options["balance"])
        try:
            account = create_requester(
                options["access_key_id"], options["secret"], balance=balance, sandbox=not options["live"]
            )
        except ValueError as problem:
            raise CommandError(str(problem)) from None
        where = "sandbox" if account.sandbox else "live"
        self.stdout.write(
            self.style.SUCCESS(f"Requester {account.access_key_id} ({where}) has ${account.balance:.2f}.")
        )

    def _balance(self, text: str | None) -> Decimal | None:
        if text is None:
            return None
        try:
            return Decimal(text).quantize(Decimal("0.01"))
        except InvalidOperation:
            raise CommandError(f"--balance must be an amount in dollars, not {text!r}") from None
