"""The endpoint platforms deliver hooks to: `/hooks/prolific/<account id>/` (see experiments.hooks)."""

from __future__ import annotations

import logging

from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from experiments import tasks
from experiments.hooks import BadHook, hook_receive

logger = logging.getLogger(__name__)
MAX_BODY = 64 * 1024


@csrf_exempt
@require_POST
def prolific_hook(request: HttpRequest, account_id: int) -> HttpResponse:
    """Verify a Prolific delivery; queue the review it asks for. A refused one changes nothing."""
    if len(request.body) > MAX_BODY:
        return HttpResponse("Too large.", status=413, content_type="text/plain")
    try:
        event = hook_receive(
            account_id=account_id,
            body=request.body,
            timestamp=request.headers.get("X-Prolific-Request-Timestamp", ""),
            signature=request.headers.get("X-Prolific-Request-Signature", ""),
        )
    except BadHook as refusal:
        logger.warning("hook refused", extra={"account": account_id, "why": str(refusal)})
        return HttpResponse(str(refusal), status=403, content_type="text/plain")
    transaction.on_commit(
        lambda: tasks.review_from_hook.delay(event.account_id, event.event_type, event.resource_id)
    )
    return HttpResponse(status=204)
