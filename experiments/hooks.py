"""Platform hooks: a platform tells crowdhr at once that work changed, and review runs for it.

Prolific signs every delivery: `X-Prolific-Request-Signature` is base64(HMAC-SHA256(secret,
timestamp + body)) with the workspace's hook secret, `X-Prolific-Request-Timestamp` the UNIX time
it was signed (Prolific's webhook reference, "Receiving"). A delivery is accepted only when

- the account has hooks set up (its secret is stored encrypted on `PlatformHooks`),
- the signature matches, compared in constant time,
- the timestamp is within `FRESHNESS` of now, and
- the same signature was not accepted before (`ReceivedHook`, unique, kept for the window),

and then the view queues the review of the HIT it concerns (`experiments.tasks.review_from_hook`)
once the request commits. Hooks only make
review sooner: the review cycle still polls every minute, so a lost delivery delays nothing long.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import logging
from dataclasses import dataclass
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone

from crowdhr import audit
from crowdhr.audit import User
from crowdhr.errors import Refusal
from experiments.models import PlatformHooks, ReceivedHook
from hits.models import HIT, Assignment
from hits.review.cycle import handle_hit
from hits.review.report import CycleReport
from platforms import Capability, PlatformError, platform_for, supports
from platforms.models import PlatformAccount

logger = logging.getLogger(__name__)

FRESHNESS = timedelta(minutes=5)
EVENT_TYPES = ("submission.status.change", "study.status.change")


class BadHook(Exception):
    """A delivery crowdhr refuses; nothing was recorded or queued."""


@dataclass(frozen=True)
class HookEvent:
    """An accepted delivery: which account, what happened, to which platform object."""

    account_id: int
    event_type: str
    resource_id: str


def signature_of(secret: str, timestamp: str, body: bytes) -> str:
    """Prolific's signature: base64(HMAC-SHA256(secret, timestamp + body))."""
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def hook_receive(*, account_id: int, body: bytes, timestamp: str, signature: str) -> HookEvent:
    """Verify one delivery, remember it, and queue the review it asks for; `BadHook` otherwise."""
    hooks = PlatformHooks.objects.filter(account_id=account_id).first()
    if hooks is None:
        raise BadHook("No hooks are set up for this account.")
    _check_fresh(timestamp)
    if not signature or not hmac.compare_digest(signature_of(hooks.secret, timestamp, body), signature):
        raise BadHook("The signature does not match.")
    event = _event(account_id, body)
    try:
        with transaction.atomic():
            ReceivedHook.objects.create(
                account_id=account_id,
                signature=signature[:128],
                event_type=event.event_type,
                resource_id=event.resource_id,
                received_at=timezone.now(),
            )
    except IntegrityError as error:
        raise BadHook("This delivery was received already.") from error
    ReceivedHook.objects.filter(received_at__lt=timezone.now() - 2 * FRESHNESS).delete()
    return event


def _check_fresh(timestamp: str) -> None:
    try:
        signed_at = int(timestamp)
    except ValueError as error:
        raise BadHook("The timestamp is not a UNIX time.") from error
    if abs(timezone.now().timestamp() - signed_at) > FRESHNESS.total_seconds():
        raise BadHook("The delivery is too old (or from the future).")


def _event(account_id: int, body: bytes) -> HookEvent:
    try:
        payload = json.loads(body)
        event_type, resource_id = payload["event_type"], payload["resource_id"]
    except (ValueError, TypeError, KeyError) as error:
        raise BadHook("The body is not a hook event.") from error
    if event_type not in EVENT_TYPES or not isinstance(resource_id, str) or not 0 < len(resource_id) <= 64:
        raise BadHook("Not an event crowdhr subscribes to.")
    return HookEvent(account_id, event_type, resource_id)


def hit_for_event(event: HookEvent) -> HIT | None:
    """The HIT (Prolific study) an event concerns, or None when it is none of crowdhr's."""
    hits = HIT.objects.filter(outsourcer__account_id=event.account_id, status=HIT.Status.LIVE)
    if event.event_type == "study.status.change":
        return hits.filter(hit_id=event.resource_id).first()
    known = Assignment.objects.filter(
        assignment_id=event.resource_id, hit__outsourcer__account_id=event.account_id
    ).values_list("hit_id", flat=True)
    for hit_pk in known:
        return hits.filter(pk=hit_pk).first()
    account = PlatformAccount.objects.get(pk=event.account_id)
    try:
        study_id = platform_for(account).get_assignment(event.resource_id).hit_id
    except PlatformError as error:
        logger.info(
            "hook for an unknown submission", extra={"resource": event.resource_id, "error": str(error)}
        )
        return None
    return hits.filter(hit_id=study_id).first()


def review_for_event(*, account_id: int, event_type: str, resource_id: str) -> CycleReport | None:
    """Review the HIT a hook event concerns now (None when it is not crowdhr's, or already leased)."""
    hit = hit_for_event(HookEvent(account_id, event_type, resource_id))
    if hit is None:
        return None
    report = CycleReport()
    return report if handle_hit(hit.pk, report) else None


def hooks_set_up(*, account: PlatformAccount, target_url: str, by: User | None) -> PlatformHooks:
    """Create the account's hook secret and subscriptions on the platform; store the secret.

    Setting up again replaces the secret (the platform keeps one active secret per workspace).
    """
    if not supports(account, Capability.HOOKS):
        raise Refusal(f"{account} is on a platform that sends no hooks.")
    try:
        secret = platform_for(account).ensure_hooks(target_url)
    except PlatformError as error:
        raise Refusal(f"The platform refused to set up hooks: {error}") from error
    hooks, _ = PlatformHooks.objects.update_or_create(
        account=account, defaults={"secret": secret, "target_url": target_url}
    )
    audit.record(by=by, action="set up hooks", obj=account, target_url=target_url)
    return hooks
