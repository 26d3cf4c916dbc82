"""Thin Celery tasks for experiments: take ids, call one service."""

from __future__ import annotations

from celery import shared_task
from django.contrib.auth import get_user_model

from experiments.hooks import review_for_event
from experiments.models import Experiment
from experiments.services import experiment_publish_on_schedule


@shared_task(acks_late=True)
def publish_experiment_on_schedule(experiment_id: int, user_id: int) -> str:
    """Celery beat's scheduled publish of an Experiment, as the researcher who scheduled it (a
    repeating schedule's later runs publish a new round: see `experiment_publish_on_schedule`)."""
    user = get_user_model().objects.get(pk=user_id)
    experiment = Experiment.objects.visible_to(user).filter(pk=experiment_id).first()
    if experiment is None:
        return "experiment gone"
    experiment_publish_on_schedule(experiment=experiment, by=user)  # the researcher who scheduled it acts
    return "published"


@shared_task(acks_late=True)
def review_from_hook(account_id: int, event_type: str, resource_id: str) -> dict[str, int] | None:
    """A platform's hook said work changed: review that HIT now (polling stays the safety net)."""
    report = review_for_event(account_id=account_id, event_type=event_type, resource_id=resource_id)
    return None if report is None else report.counts()
