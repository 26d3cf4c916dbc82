"""What one review cycle did, for logs, task results and the admin."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field


@dataclass
class CycleReport:
    """What one review cycle did, for logs and the admin."""

    hits: int = 0
    stored: int = 0
    approved: int = 0
    rejected: int = 0
    flagged: int = 0
    #: HITs handed to shard tasks (beat's cycle), reviewed by worker processes after it returns
    queued: int = 0
    errors: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        """The report as numbers, for log lines and task results."""
        return {
            "hits": self.hits,
            "stored": self.stored,
            "approved": self.approved,
            "rejected": self.rejected,
            "flagged": self.flagged,
            "queued": self.queued,
            "errors": len(self.errors),
        }

    @classmethod
    def combined(cls, reports: Sequence[CycleReport]) -> CycleReport:
        total = cls()
        for report in reports:
            total.hits += report.hits
            total.stored += report.stored
            total.approved += report.approved
            total.rejected += report.rejected
            total.flagged += report.flagged
            total.queued += report.queued
            total.errors += report.errors
        return total
