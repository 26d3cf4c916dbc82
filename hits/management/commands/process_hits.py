"""The review worker without a broker: run review cycles in a loop (or once)."""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand

from hits.review.cycle import review_active_hits


class Command(BaseCommand):
    help = "Review active HITs: store assignments, decide them, pay, update qualifications."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--once", action="store_true", help="Run one cycle and stop.")
        parser.add_argument("--interval", type=float, default=30.0, help="Seconds between cycles.")
        parser.add_argument("--full", action="store_true", help="List every active HIT (the hourly sweep).")
        parser.add_argument("--cycles", type=int, default=0, help="Stop after this many cycles (0: never).")

    def handle(self, *args, once: bool, interval: float, cycles: int, full: bool, **options) -> None:
        done = 0
        while True:
            report = review_active_hits(full=full)  # its shards run here, one after the other
            done += 1
            self.stdout.write(
                f"reviewed {report.hits} HITs: {report.stored} new assignments, {report.approved} approved, "
                f"{report.rejected} rejected, {report.flagged} flagged, {len(report.errors)} errors"
            )
            if once or (cycles and done >= cycles):
                return
            time.sleep(interval)
