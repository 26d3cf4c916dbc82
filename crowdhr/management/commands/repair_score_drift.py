"""`manage.py repair_score_drift`: compare crowdhr's scores with the platforms' and repair drift."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from workers import scoring


class Command(BaseCommand):
    help = (
        "Compare workers' scores on the platforms with crowdhr's, re-send any that drifted, and report them."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--limit", type=int, default=1000, help="At most this many scores read.")

    def handle(self, *args: Any, limit: int, **options: Any) -> None:
        repaired = scoring.repair_score_drift(limit=limit)
        for drift in repaired:
            self.stdout.write(f"repaired: {drift}")
        self.stdout.write(f"{len(repaired)} score(s) repaired.")
