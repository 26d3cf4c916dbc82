"""Hooks: event types, the workspace's signing secret, subscriptions, and deliveries.

From Prolific's webhook pages:
- event types are named `noun.verb`; the bodies of `submission.status.change`
  (`resource_id`, `event_type`, `participant_id`, `status`) and `study.status.change`
  (`resource_id`, `event_type`, `metadata`, `status`) are as documented under "Receiving";
- one active secret per workspace; a new secret replaces the old one;
- a subscription answers with an `X-Hook-Secret` header and is confirmed by POSTing that
  secret back to `/hooks/subscriptions/{id}/`; only confirmed subscriptions receive events;
- every delivery carries `X-Prolific-Request-Timestamp` (UNIX seconds) and
  `X-Prolific-Request-Signature` = base64(HMAC-SHA256(secret, timestamp + body)); the body is
  `json.dumps(payload)` so the reference's own Python verification example accepts it.
- Prolific wants `https://` public target URLs; this twin also allows plain `http://` to
  127.0.0.1 / localhost / ::1 (and nothing else), so tests can receive hooks.

Deliveries are rows, written in the transaction that changed the status and sent over real HTTP
after it commits. A failed delivery is retried by `deliver_pending()` with a growing pause.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from datetime import timedelta
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import requests
from django.db import transaction
from django.utils import timezone

from prolific_emulator.errors import field_error
from prolific_emulator.models import HookDelivery, HookSecret, HookSubscription, Workspace

EVENT_TYPES = {
    "study.status.change": "A study's status changed.",
    "submission.status.change": "A submission's status changed.",
}
TIMEOUT_SECONDS = (1.0, 2.0)  # connect, read
MAX_ATTEMPTS = 5
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}


def sign(secret: str, timestamp: str, body: str) -> str:
    """The documented signature: base64(HMAC-SHA256(secret, timestamp + body))."""
    digest = hmac.new(secret.encode(), (timestamp + body).encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def create_secret(workspace: Workspace) -> HookSecret:
    """A new active secret for the workspace; earlier ones stop being used."""
    workspace.hook_secrets.filter(is_active=True).update(is_active=False)
    return HookSecret.objects.create(workspace=workspace, value=secrets.token_urlsafe(48))


def active_secret(workspace: Workspace) -> HookSecret | None:
    return workspace.hook_secrets.filter(is_active=True).order_by("-created").first()


def check_target_url(url: str) -> str:
    """https:// anywhere (as Prolific), or http:// on this machine only (the twin's allowance)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and parts.hostname in LOCAL_HOSTS:
        return url
    raise field_error("target_url", "Enter a valid https:// URL that is publicly accessible.")


def subscribe(workspace: Workspace, *, event_type: str, target_url: str) -> HookSubscription:
    """A new, unconfirmed subscription."""
    if event_type not in EVENT_TYPES:
        raise field_error("event_type", f'"{event_type}" is not a valid event type.')
    return HookSubscription.objects.create(
        workspace=workspace,
        event_type=event_type,
        target_url=check_target_url(target_url),
        confirmation_secret=secrets.token_hex(32),
    )


def confirm(subscription: HookSubscription, secret: str) -> HookSubscription:
    """Enable the subscription when `secret` is the X-Hook-Secret it was created with."""
    if not hmac.compare_digest(subscription.confirmation_secret, secret):
        raise field_error("secret", "The secret does not match the X-Hook-Secret of this subscription.")
    subscription.is_enabled = True
    subscription.save(update_fields=["is_enabled"])
    return subscription


def emit(workspace: Workspace, event_type: str, payload: dict[str, Any]) -> list[HookDelivery]:
    """Record the event for every confirmed subscription and send it once the change commits."""
    subscriptions = workspace.hook_subscriptions.filter(
        event_type=event_type, is_enabled=True, is_deleted=False
    )
    body = json.dumps(payload)
    rows = [
        HookDelivery.objects.create(
            subscription=subscription, event_type=event_type, resource_id=payload["resource_id"], body=body
        )
        for subscription in subscriptions
    ]
    for row in rows:
        transaction.on_commit(partial(deliver, row.pk))
    return rows


def deliver(delivery_id: str) -> HookDelivery:
    """One attempt to POST the delivery to its target; the outcome is saved on the row."""
    delivery = HookDelivery.objects.select_related("subscription__workspace").get(pk=delivery_id)
    if delivery.status == HookDelivery.DELIVERED:
        return delivery
    secret = active_secret(delivery.subscription.workspace)
    timestamp = str(int(time.time()))
    delivery.attempts += 1
    delivery.last_timestamp = timestamp
    delivery.last_signature = sign(secret.value, timestamp, delivery.body) if secret else ""
    try:
        answer = requests.post(
            delivery.subscription.target_url,
            data=delivery.body.encode(),
            headers=_headers(delivery, timestamp),
            timeout=TIMEOUT_SECONDS,
            allow_redirects=False,
        )
        delivery.last_response_status = answer.status_code
        delivery.last_error = "" if answer.ok else f"HTTP {answer.status_code}"
        succeeded = answer.ok
    except requests.RequestException as problem:
        delivery.last_response_status = None
        delivery.last_error = str(problem)[:2000]
        succeeded = False
    _record_outcome(delivery, succeeded)
    return delivery


def _headers(delivery: HookDelivery, timestamp: str) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "X-Prolific-Request-Timestamp": timestamp,
        "X-Prolific-Request-Signature": delivery.last_signature,
        "X-Event-ID": delivery.id,
    }


def _record_outcome(delivery: HookDelivery, succeeded: bool) -> None:
    if succeeded:
        delivery.status = HookDelivery.DELIVERED
    else:
        delivery.status = HookDelivery.FAILED if delivery.attempts >= MAX_ATTEMPTS else HookDelivery.PENDING
        delivery.next_attempt = timezone.now() + timedelta(seconds=2**delivery.attempts)
    delivery.save()


def deliver_pending(*, force: bool = False) -> int:
    """Retry every undelivered delivery that is due (all of them with `force`); returns how many."""
    due = HookDelivery.objects.filter(status=HookDelivery.PENDING)
    if not force:
        due = due.filter(next_attempt__lte=timezone.now())
    ids = list(due.values_list("pk", flat=True))
    for pk in ids:
        deliver(pk)
    return len(ids)


def deliveries(workspace: Workspace | None = None, event_type: str | None = None) -> list[HookDelivery]:
    """The deliveries made (oldest first), for tests: `.body`, `.status`, `.attempts`, ..."""
    rows = HookDelivery.objects.select_related("subscription")
    if workspace is not None:
        rows = rows.filter(subscription__workspace=workspace)
    if event_type is not None:
        rows = rows.filter(event_type=event_type)
    return list(rows)


def payloads(workspace: Workspace | None = None, event_type: str | None = None) -> list[dict[str, Any]]:
    """The bodies of the deliveries, decoded."""
    return [json.loads(row.body) for row in deliveries(workspace, event_type)]
