"""Completion codes: proof, tied to one assignment and one worker, that crowdhr saw the worker finish.

The done page shows the code only after oTree confirmed the participant finished; review accepts
it only for the assignment and the worker MTurk reports. Nobody can compute it without SECRET_KEY.
"""

from __future__ import annotations

import hashlib
import hmac

from django.conf import settings

CODE_LENGTH = 16


def completion_code(experiment_pk: int, assignment_id: str, worker_id: str) -> str:
    """The code a worker submits with this assignment of this study."""
    message = f"crowdhr-completion:{experiment_pk}:{assignment_id}:{worker_id}".encode()
    digest = hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()
    return digest[:CODE_LENGTH].upper()


def is_valid_completion_code(
    experiment_pk: int, assignment_id: str, worker_id: str, code: str | None
) -> bool:
    """Whether `code` is the one crowdhr gave for this assignment and worker."""
    expected = completion_code(experiment_pk, assignment_id, worker_id)
    return hmac.compare_digest(expected, (code or "").strip().upper())
