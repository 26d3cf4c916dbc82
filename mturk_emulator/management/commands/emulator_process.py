"""Apply what the local Mechanical Turk's clock has made due: expiry, abandonment, auto-approval."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from mturk_emulator import clock


class Command(BaseCommand):
    help = (
        "Expire HITs (refunding unused assignments), release overdue work and auto-approve due assignments."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        clock.process_due()
        self.stdout.write(self.style.SUCCESS("Due expiry, abandonment and auto-approval applied."))
