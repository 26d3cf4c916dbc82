"""Apply due time-outs and automatic approvals, and retry undelivered hooks."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from prolific_emulator import clock, hooks


class Command(BaseCommand):
    help = "Apply what is due on the local Prolific (time-outs, automatic approvals) and retry hooks."

    def handle(self, *args: Any, **options: Any) -> None:
        changed = clock.process_due()
        retried = hooks.deliver_pending()
        self.stdout.write(f"{changed} submissions changed, {retried} hook deliveries retried.")
