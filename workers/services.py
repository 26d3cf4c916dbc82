"""Writes on workers that a researcher asks for: hard blocks, unblocks, messages and bonuses.

Bans (a Quality Score of 0) live in `workers.scoring`; money goes through `hits.payments`.
These call the platform through `platforms` and record what was done.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils import timezone

from crowdhr import audit
from crowdhr.audit import User
from crowdhr.errors import Refusal
from platforms import platform_for
from platforms.models import PlatformAccount
from workers.models import Block, Message, Worker

#: MTurk's NotifyWorkers limits
MESSAGE_SUBJECT_LIMIT = 200
MESSAGE_BODY_LIMIT = 4096
MESSAGE_WORKERS_PER_CALL = 100


class WorkerServiceError(Refusal):
    """A request about workers that cannot be done; the message says why (a `Refusal`)."""


def worker_hard_block(*, account: PlatformAccount, worker: Worker, reason: str, by: User | None) -> Block:
    """Block the worker on the platform for this account (counts against the worker's standing)."""
    if not reason.strip():
        raise WorkerServiceError("A block needs a reason: the worker reads it.")
    platform_for(account).block_worker(worker.worker_id, reason=reason)
    block = Block.objects.create(
        account=account, worker=worker, kind=Block.Kind.HARD_BLOCK, reason=reason, created_by=by
    )
    audit.record(by=by, action="hard block", obj=worker, account=account.name, reason=reason)
    return block


def worker_unblock(*, account: PlatformAccount, worker: Worker, by: User | None) -> int:
    """Lift the worker's hard blocks on this account; returns how many were lifted."""
    blocks = Block.objects.filter(
        account=account, worker=worker, kind=Block.Kind.HARD_BLOCK, lifted__isnull=True
    )
    if not blocks.exists():
        return 0
    platform_for(account).unblock_worker(worker.worker_id, reason=f"unblocked ({audit.label(by)})")
    lifted = blocks.update(lifted=timezone.now())
    audit.record(by=by, action="unblock", obj=worker, account=account.name, blocks=lifted)
    return lifted


def workers_message(
    *, account: PlatformAccount, workers: Sequence[Worker], subject: str, body: str, by: User | None
) -> list[Message]:
    """Message workers through the platform, at most 100 per call; one Message row per call."""
    if not subject.strip() or not body.strip():
        raise WorkerServiceError("A message needs a subject and a text.")
    if len(subject) > MESSAGE_SUBJECT_LIMIT or len(body) > MESSAGE_BODY_LIMIT:
        raise WorkerServiceError(
            f"MTurk allows a subject of {MESSAGE_SUBJECT_LIMIT} and a text of {MESSAGE_BODY_LIMIT} characters."
        )
    platform = platform_for(account)
    sent = []
    workers = list(workers)
    for start in range(0, len(workers), MESSAGE_WORKERS_PER_CALL):
        batch = workers[start : start + MESSAGE_WORKERS_PER_CALL]
        failed = platform.notify_workers([w.worker_id for w in batch], subject=subject, message=body)
        message = Message.objects.create(
            account=account, subject=subject, body=body, failed_worker_ids=failed, sent_by=by
        )
        message.workers.set(batch)
        audit.record(by=by, action="message", obj=message, workers=len(batch), failed=failed)
        sent.append(message)
    return sent
