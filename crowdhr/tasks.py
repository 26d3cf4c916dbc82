"""Project-wide periodic tasks."""

from __future__ import annotations

import logging

from celery import shared_task

logger = logging.getLogger(__name__)


@shared_task
def heartbeat() -> str:
    """Logs that the worker and beat are alive; a canary for ops."""
    logger.info("heartbeat")
    return "alive"
