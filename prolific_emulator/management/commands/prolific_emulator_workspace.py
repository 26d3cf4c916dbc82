"""Create (or find) a workspace of the local Prolific and its API token."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from prolific_emulator import accounts


def _amount(text: str) -> Decimal:
    try:
        return Decimal(text)
    except InvalidOperation:
        raise CommandError(f"{text!r} is not an amount") from None


class Command(BaseCommand):
    help = "Create the local Prolific workspace answering to --token (idempotent: an existing one is kept)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--token", required=True, help="the API token (Authorization: Token <token>)")
        parser.add_argument(
            "--balance", default="1000.00", help="opening balance in major units (default 1000.00)"
        )
        parser.add_argument("--currency", default="USD", choices=["USD", "GBP"])
        parser.add_argument("--title", default="Emulated workspace")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            workspace = accounts.ensure_workspace(
                options["token"],
                balance=_amount(options["balance"]),
                currency=options["currency"],
                title=options["title"],
            )
        except ValueError as problem:
            raise CommandError(str(problem)) from None
        self.stdout.write(
            f"Workspace {workspace.id} ({workspace.currency_code}, balance {workspace.balance} minor units)."
        )
