"""Reconcile: print what a crash left unfinished (`hits.reconcile`); with --repair, finish it."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from hits.reconcile import reconcile_repair, reconcile_report


class Command(BaseCommand):
    help = (
        "List per experiment the decisions without a ledger row, follow-ups owed, ledger rows not done "
        "and scores out of step with the platform; --repair finishes them through the ledger."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--repair", action="store_true", help="Finish what is listed, then list again.")
        parser.add_argument("--owner", default="", help="Only this researcher's rows (a username).")

    def handle(self, *args, repair: bool, owner: str, **options) -> None:
        researcher = None
        if owner:
            try:
                researcher = get_user_model().objects.get(username=owner)
            except get_user_model().DoesNotExist as missing:
                raise CommandError(f"no researcher {owner!r}") from missing
        for line in reconcile_report(researcher).lines():
            self.stdout.write(line)
        if repair:
            done = reconcile_repair(by=None, owner=researcher)
            self.stdout.write(f"repaired: {done}")
            for line in reconcile_report(researcher).lines():
                self.stdout.write(line)
