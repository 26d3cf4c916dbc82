"""Worker qualifications: quality score, streaks, early bird, totals; achievements; bans.

Scores are kept here, per platform account, with their history, and synced to the platform
as qualification types (`sync_qualifications`), which is what lets MTurk refuse a worker
whose Quality Score fell to the threshold.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from queue import Empty, SimpleQueue

from django import db
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from crowdhr import audit
from crowdhr.audit import User
from platforms import Capability, Platform, PlatformError, QualificationRequirement, platform_for, supports
from platforms.models import PlatformAccount
from platforms.registry import platform_types
from workers import achievements
from workers.models import (
    Achievement,
    Block,
    Qualification,
    QualificationChange,
    QualificationType,
    Worker,
    WorkerQualification,
)

logger = logging.getLogger(__name__)

QUALITY_START = 36
QUALITY_APPROVED = +1
QUALITY_REJECTED = -9
DEFAULT_QUALITY_THRESHOLD = 0
EARLY_BIRD_WINDOW = timedelta(minutes=12)
#: how long a worker whose Quality Score fell must wait before asking for it again
QUALITY_RETRY_DELAY_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class QualificationInfo:
    start: int
    description: str


QUALIFICATIONS: dict[str, QualificationInfo] = {
    Qualification.QUALITY_SCORE: QualificationInfo(
        QUALITY_START,
        "The quality of your work for this requester: +1 per approved HIT, -9 per rejected one.",
    ),
    Qualification.APPROVAL_STREAK: QualificationInfo(0, "Approved HITs in a row for this requester."),
    Qualification.HITS_APPROVED: QualificationInfo(0, "HITs approved by this requester."),
    Qualification.EARLY_BIRD: QualificationInfo(0, "HITs submitted within 12 minutes of being posted."),
    Qualification.TOTAL_HITS: QualificationInfo(0, "HITs completed for this requester."),
}


def qualification_name(account: PlatformAccount, qualification: str) -> str:
    """The platform name of a qualification type: unique per researcher account."""
    return f"crowdhr {Qualification(qualification).label} ({account.owner.get_username()})"


# --- changing scores ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Outcome:
    """One decided piece of work, in the words scoring needs (nothing about HITs)."""

    account: PlatformAccount
    worker: Worker
    approved: bool
    early_bird: bool
    reference: str  # what was decided, e.g. "assignment 3XK..."; kept in the score history


def record_outcome(outcome: Outcome) -> list[Achievement]:
    """Update the worker's scores for one decision; returns the achievement levels newly reached.

    Runs inside the transaction that marks the work decided, so it happens exactly once. Each
    new Achievement is owed a bonus, which the caller (the payment ledger) writes in the same
    transaction.
    """
    return record_outcomes([outcome])[0]


def record_outcomes(outcomes: Sequence[Outcome]) -> list[list[Achievement]]:
    """`record_outcome` for many decisions at once (a HIT's review), in a fixed number of queries
    whatever their number: the achievements newly reached, per outcome."""
    scores = _locked_scores_of({(o.account, o.worker) for o in outcomes})
    history: list[QualificationChange] = []
    changed: dict[int, WorkerQualification] = {}
    for outcome in outcomes:
        rows = scores[(outcome.account.pk, outcome.worker.pk)]
        verb = "approved" if outcome.approved else "rejected"
        for name, value in _new_values(rows, outcome).items():
            row = rows[name]
            if row.value == value:
                continue
            history.append(
                QualificationChange(
                    qualification=row,
                    old_value=row.value,
                    new_value=value,
                    reason=f"{verb} {outcome.reference}"[:255],
                    reference=outcome.reference[:100],
                )
            )
            row.value, row.updated = value, timezone.now()
            changed[row.pk] = row
    if changed:
        QualificationChange.objects.bulk_create(history)
        WorkerQualification.objects.bulk_update(list(changed.values()), ["value", "updated"])
    return [award_achievements(o.account, o.worker, scores[(o.account.pk, o.worker.pk)]) for o in outcomes]


def _new_values(scores: dict[str, WorkerQualification], outcome: Outcome) -> dict[str, int]:
    """The scores one decision changes, from their current values."""
    new_values: dict[str, int] = {
        Qualification.TOTAL_HITS: scores[Qualification.TOTAL_HITS].value + 1,
        Qualification.QUALITY_SCORE: scores[Qualification.QUALITY_SCORE].value
        + (QUALITY_APPROVED if outcome.approved else QUALITY_REJECTED),
        Qualification.APPROVAL_STREAK: scores[Qualification.APPROVAL_STREAK].value + 1
        if outcome.approved
        else 0,
    }
    if outcome.approved:
        new_values[Qualification.HITS_APPROVED] = scores[Qualification.HITS_APPROVED].value + 1
        if outcome.early_bird:
            new_values[Qualification.EARLY_BIRD] = scores[Qualification.EARLY_BIRD].value + 1
    return new_values


def is_early_bird(submitted: datetime | None, posted: datetime) -> bool:
    """Submitted within the early-bird window of the work being posted."""
    return submitted is not None and submitted - posted <= EARLY_BIRD_WINDOW


def _locked_scores(account: PlatformAccount, worker: Worker) -> dict[str, WorkerQualification]:
    """The worker's score rows on this account, locked until the transaction ends (made if missing)."""
    rows = WorkerQualification.objects.select_for_update().filter(account=account, worker=worker)
    scores = {row.qualification: row for row in rows}
    missing = [
        WorkerQualification(account=account, worker=worker, qualification=name, value=info.start)
        for name, info in QUALIFICATIONS.items()
        if name not in scores
    ]
    if missing:
        WorkerQualification.objects.bulk_create(missing, ignore_conflicts=True)
        scores = {row.qualification: row for row in rows.all()}
    return scores


def _locked_scores_of(
    pairs: set[tuple[PlatformAccount, Worker]],
) -> dict[tuple[int, int], dict[str, WorkerQualification]]:
    """`_locked_scores` of many workers, in two queries: the missing rows made, then every row
    locked in one order (by id), so reviewers locking overlapping workers cannot deadlock."""
    WorkerQualification.objects.bulk_create(
        [
            WorkerQualification(account=account, worker=worker, qualification=name, value=info.start)
            for account, worker in sorted(pairs, key=lambda pair: (pair[0].pk, pair[1].pk))
            for name, info in QUALIFICATIONS.items()
        ],
        ignore_conflicts=True,
    )
    wanted = Q()
    for account, worker in pairs:
        wanted |= Q(account=account, worker=worker)
    scores: dict[tuple[int, int], dict[str, WorkerQualification]] = {
        (account.pk, worker.pk): {} for account, worker in pairs
    }
    for row in WorkerQualification.objects.select_for_update().filter(wanted).order_by("pk"):
        scores[(row.account_id, row.worker_id)][row.qualification] = row
    return scores


def _set(row: WorkerQualification, value: int, reason: str) -> None:
    if row.value == value:
        return
    QualificationChange.objects.create(
        qualification=row, old_value=row.value, new_value=value, reason=reason[:255]
    )
    row.value = value
    row.save(update_fields=["value", "updated"])


def scores_of(account: PlatformAccount, worker: Worker) -> dict[str, int]:
    """The worker's current scores on this account (start values for ones never changed)."""
    current = {name: info.start for name, info in QUALIFICATIONS.items()}
    current.update(
        WorkerQualification.objects.filter(account=account, worker=worker).values_list(
            "qualification", "value"
        )
    )
    return current


# --- achievements ------------------------------------------------------------------------------
def award_achievements(
    account: PlatformAccount, worker: Worker, scores: dict[str, WorkerQualification]
) -> list[Achievement]:
    """Achievement levels newly reached (each reached once, ever, per account)."""
    reached = {
        track: track.levels_reached(scores[track.qualification].value) for track in achievements.TRACKS
    }
    if not any(reached.values()):
        return []
    have = set(Achievement.objects.filter(account=account, worker=worker).values_list("track", "level"))
    return [
        Achievement.objects.create(
            account=account,
            worker=worker,
            track=track.qualification,
            level=level.number,
            name=level.name,
            score=level.threshold,
        )
        for track, levels in reached.items()
        for level in levels
        if (track.qualification, level.number) not in have
    ]


def achievement_bonus(achievement: Achievement) -> tuple[Decimal, str]:
    """What reaching an achievement pays, and the reason the worker reads."""
    track = achievements.track_for(achievement.track)
    if track is None:
        raise ValueError(f"No achievement track {achievement.track!r}.")
    level = track.level(achievement.level)
    return level.bonus, f"Achievement reached: {level.name}. Thank you for your work!"


# --- bans and blocks ---------------------------------------------------------------------------
@transaction.atomic
def ban_worker(account: PlatformAccount, worker: Worker, *, reason: str, by: User | None) -> Block:
    """Set the worker's Quality Score to 0: they cannot take our HITs until the retry delay passes.

    On a platform without qualifications (Prolific) a score keeps nobody out, so the ban is also a
    block on the platform: the row is written unsynced, and the block is made after commit
    (`sync_bans`; the review cycle finishes it if this process dies first)."""
    row = _locked_scores(account, worker)[Qualification.QUALITY_SCORE]
    _set(row, 0, f"banned by {_name(by)}: {reason}")
    block = Block.objects.create(
        account=account,
        worker=worker,
        kind=Block.Kind.BAN,
        reason=reason,
        platform_synced=not _ban_blocks(account),
        expires=timezone.now() + timedelta(seconds=QUALITY_RETRY_DELAY_SECONDS),
    )
    audit.record(by=by, action="ban", obj=worker, account=account.name, reason=reason)
    _sync_after_commit(account)
    return block


def _ban_blocks(account: PlatformAccount) -> bool:
    """Does a ban need a block on the platform? Where qualifications are missing and blocks exist."""
    return not supports(account, Capability.QUALIFICATIONS) and supports(account, Capability.HARD_BLOCKS)


def _sync_after_commit(account: PlatformAccount) -> None:
    if _ban_blocks(account):
        transaction.on_commit(lambda: sync_bans(account=account))


def _name(by: User | None) -> str:
    return by.get_username() if by is not None else "the system"


@transaction.atomic
def unban_worker(account: PlatformAccount, worker: Worker, *, by: User | None) -> int:
    """Give back the Quality Score the worker had before the ban; returns bans lifted."""
    row = _locked_scores(account, worker)[Qualification.QUALITY_SCORE]
    ban_change = row.history.filter(reason__startswith="banned by").first()
    restored = ban_change.old_value if ban_change and ban_change.old_value is not None else QUALITY_START
    _set(row, max(restored, DEFAULT_QUALITY_THRESHOLD + 1), f"unbanned by {_name(by)}")
    lifted = Block.objects.filter(
        account=account, worker=worker, kind=Block.Kind.BAN, lifted__isnull=True
    ).update(lifted=timezone.now(), platform_synced=not _ban_blocks(account))
    audit.record(by=by, action="unban", obj=worker, account=account.name, bans=lifted)
    _sync_after_commit(account)
    return lifted


def bans_expire(*, limit: int = 500) -> int:
    """End the bans whose retry delay has passed; returns how many ended.

    As on MTurk, where the worker may request the auto-granted Quality Score again once the
    retry delay has passed, the score starts again at its start value (sent to the platform by
    `sync_qualifications`; on Prolific the block is lifted by `sync_bans`)."""
    due = Block.objects.filter(kind=Block.Kind.BAN, lifted__isnull=True, expires__lte=timezone.now())
    return sum(_end_ban(block) for block in due.select_related("account", "worker")[:limit])


@transaction.atomic
def _end_ban(block: Block) -> int:
    account, worker = block.account, block.worker
    ended = Block.objects.filter(pk=block.pk, lifted__isnull=True).update(
        lifted=timezone.now(), platform_synced=not _ban_blocks(account)
    )
    if not ended:
        return 0  # another process ended it
    still_banned = Block.objects.filter(
        account=account, worker=worker, kind=Block.Kind.BAN, lifted__isnull=True
    ).exists()
    if not still_banned:
        row = _locked_scores(account, worker)[Qualification.QUALITY_SCORE]
        _set(row, max(row.value, QUALITY_START), "ban ended: the retry delay has passed")
    audit.record(by=None, action="ban expired", obj=worker, account=account.name, reason=block.reason)
    _sync_after_commit(account)
    return 1


def sync_bans(*, account: PlatformAccount | None = None, limit: int = 500) -> int:
    """Make (or lift) on the platform the blocks that bans need there; returns how many. Durable
    work: each row stays unsynced until the platform did it, so any later process finishes it
    (the review cycle calls this). A lifted ban unblocks only a worker nothing else keeps out."""
    rows = Block.objects.filter(kind=Block.Kind.BAN, platform_synced=False).select_related(
        "account", "worker"
    )
    if account is not None:
        rows = rows.filter(account=account)
    synced = 0
    for block in rows.order_by("created")[:limit]:
        try:
            _sync_ban(block)
        except PlatformError as error:
            logger.warning("ban not synced", extra={"worker": block.worker.worker_id, "error": str(error)})
            if not error.permanent:
                break
            continue
        synced += Block.objects.filter(pk=block.pk, lifted=block.lifted).update(platform_synced=True)
    return synced


def _sync_ban(block: Block) -> None:
    platform = platform_for(block.account)
    worker_id = block.worker.worker_id
    if block.lifted is None:
        platform.block_worker(worker_id, reason=block.reason)
        return
    still_kept_out = Block.objects.filter(
        account=block.account, worker=block.worker, lifted__isnull=True
    ).exists()
    if not still_kept_out:
        platform.unblock_worker(worker_id, reason="ban lifted")


# --- the platform's copy -----------------------------------------------------------------------
def qualification_type_id(account: PlatformAccount, qualification: str) -> str:
    """The platform id of one of our qualification types, created on first use per account."""
    known = QualificationType.objects.filter(account=account, qualification=qualification).first()
    if known:
        return known.platform_id
    info = QUALIFICATIONS[qualification]
    is_quality = qualification == Qualification.QUALITY_SCORE
    platform_id = platform_for(account).ensure_qualification_type(
        name=qualification_name(account, qualification),
        description=info.description,
        retry_delay_seconds=QUALITY_RETRY_DELAY_SECONDS if is_quality else None,
        auto_granted_value=QUALITY_START if is_quality else None,
    )
    row, _ = QualificationType.objects.get_or_create(
        account=account, qualification=qualification, defaults={"platform_id": platform_id}
    )
    return row.platform_id


def quality_requirement(
    account: PlatformAccount, threshold: int = DEFAULT_QUALITY_THRESHOLD
) -> QualificationRequirement:
    """What every HIT requires: a Quality Score above the threshold (a ban, score 0, fails it)."""
    return QualificationRequirement(
        qualification_type_id=qualification_type_id(account, Qualification.QUALITY_SCORE),
        comparator="GreaterThan",
        integer_values=(threshold,),
        actions_guarded="Accept",
    )


#: how many times one sync re-sends a score that moved while it was being sent
MAX_RESENDS = 5


#: the scores that gate work (a HIT's requirement): synced in the review shard that changes them;
#: the counters (streak, totals, early bird) wait for the cycle's one sync
GATING = (Qualification.QUALITY_SCORE,)


def sync_qualifications(
    *,
    account: PlatformAccount | None = None,
    limit: int = 1000,
    qualifications: Sequence[str] | None = None,
) -> int:
    """Send changed scores to the platform (only `qualifications`, if given); returns how many
    were synced. Safe to repeat: one call per score whose value differs from the platform's.

    Each send carries the score's value as read, and a row is marked synced only by a
    compare-and-set on that value after the call: if the score moved meanwhile (or a slower
    concurrent sync may have written an older value over it), the current value is sent again. A
    send whose outcome is unknown marks the row unsynced, so it is sent again next time. Scores
    are sent `REVIEW_THREADS` at once (each send waits for the platform, and no two sends of one
    sync share a row); a failure that is not permanent stops the sync.
    """
    rows = WorkerQualification.objects.unsynced().select_related("account", "worker")
    rows = rows.filter(account__platform__in=_platforms_with_qualifications())
    if account is not None:
        rows = rows.filter(account=account)
    if qualifications is not None:
        rows = rows.filter(qualification__in=qualifications)
    waiting: SimpleQueue[WorkerQualification] = SimpleQueue()
    for row in rows.order_by("account_id", "worker_id")[:limit]:
        waiting.put(row)
    sender = _Sender(waiting)
    threads = min(settings.REVIEW_THREADS, waiting.qsize())
    if threads <= 1:
        return sender.send_all()
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="score-sync") as pool:
        return sum(pool.map(lambda _: sender.send_on_own_connection(), range(threads)))


class _Sender:
    """One sync's sending: the rows waiting, and what every sender shares (each account's platform
    client and qualification type ids, read once per sync rather than once per score)."""

    def __init__(self, waiting: SimpleQueue[WorkerQualification]) -> None:
        self.waiting = waiting
        self.stopped = threading.Event()
        self.lock = threading.Lock()
        self.platforms: dict[int, Platform] = {}
        self.type_ids: dict[tuple[int, str], str] = {}

    def send_all(self) -> int:
        """Send waiting rows until none wait or a failure stops the sync; returns how many synced."""
        synced = 0
        while not self.stopped.is_set():
            try:
                row = self.waiting.get_nowait()
            except Empty:
                break
            try:
                platform, type_id = self._platform_and_type(row)
                synced += send_score(platform, row, type_id=type_id)
            except PlatformError as error:
                logger.warning(
                    "qualification sync failed", extra={"worker": row.worker.worker_id, "error": str(error)}
                )
                if not error.permanent:
                    self.stopped.set()
        return synced

    def send_on_own_connection(self) -> int:
        try:
            return self.send_all()
        finally:
            db.connections.close_all()  # this thread's connections only

    def _platform_and_type(self, row: WorkerQualification) -> tuple[Platform, str]:
        key = (row.account_id, row.qualification)
        with self.lock:  # a type made on first use is made once, not once a thread
            if row.account_id not in self.platforms:
                self.platforms[row.account_id] = platform_for(row.account)
            if key not in self.type_ids:
                self.type_ids[key] = qualification_type_id(row.account, row.qualification)
            return self.platforms[row.account_id], self.type_ids[key]


def _platforms_with_qualifications() -> list[str]:
    # Platforms without qualifications (Prolific) have no copy to sync: crowdhr keeps the scores.
    return [k.key for k in platform_types() if k.supports(Capability.QUALIFICATIONS)]


def send_score(platform: Platform, row: WorkerQualification, *, type_id: str | None = None) -> bool:
    """Send the row's value as read, then its current value until the platform holds the value
    crowdhr still has after the call (a compare-and-set that cannot regress); True once it is
    marked synced. `type_id`: the qualification type's platform id, if already known."""
    type_id = type_id or qualification_type_id(row.account, row.qualification)
    current = WorkerQualification.objects.filter(pk=row.pk)
    value = row.value
    for _ in range(MAX_RESENDS):
        try:
            platform.set_qualification_score(type_id, row.worker.worker_id, value)
        except PlatformError:
            current.update(synced_value=None)  # it may have landed, or not: unknown until re-sent
            raise
        if current.filter(value=value).update(synced_value=value):
            return True
        value = current.values_list("value", flat=True).get()
    return False


@dataclass(frozen=True)
class Drift:
    """A score the platform shows differently from crowdhr (repaired: crowdhr's value sent)."""

    account: str
    worker_id: str
    qualification: str
    on_platform: int | None
    in_crowdhr: int

    def __str__(self) -> str:
        return (
            f"{self.account}: {self.worker_id} {self.qualification} was {self.on_platform} on the "
            f"platform, {self.in_crowdhr} in crowdhr"
        )


def repair_score_drift(*, account: PlatformAccount | None = None, limit: int = 1000) -> list[Drift]:
    """Compare the scores crowdhr believes synced with the platform's, and re-send any that drifted
    (changed on the platform behind crowdhr's back, or a lost write); returns what was repaired.

    Reads one score per row, most recently changed first (where drift is likeliest), up to `limit`.
    """
    rows = WorkerQualification.objects.filter(
        synced_value=F("value"), account__platform__in=_platforms_with_qualifications()
    ).select_related("account", "worker")
    if account is not None:
        rows = rows.filter(account=account)
    repaired: list[Drift] = []
    platforms: dict[int, Platform] = {}
    for row in rows.order_by("-updated", "pk")[:limit]:
        platform = platforms.setdefault(row.account_id, platform_for(row.account))
        try:
            type_id = qualification_type_id(row.account, row.qualification)
            shown = platform.get_qualification_score(type_id, row.worker.worker_id)
            if shown == row.value:
                continue
            WorkerQualification.objects.filter(pk=row.pk).update(synced_value=None)
            send_score(platform, row)
        except PlatformError as error:
            logger.warning(
                "score drift check failed", extra={"worker": row.worker.worker_id, "error": str(error)}
            )
            if not error.permanent:
                break
            continue
        drift = Drift(
            row.account.name, row.worker.worker_id, row.get_qualification_display(), shown, row.value
        )
        logger.warning("score drift repaired", extra={"drift": str(drift)})
        repaired.append(drift)
    return repaired
