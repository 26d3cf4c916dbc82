"""Thin Celery tasks for experiments: take ids, call one service."""

from __future__ import annotations

from celery import shared_task
from django.contrib.auth import get_user_model

from experiments.models import Experiment
from experiments.services import experiment_publish


@shared_task(acks_late=True)
def publish_experiment_on_schedule(experiment_id: int, user_id: int) -> str:
    """Celery beat's scheduled publish of an Experiment, as the researcher who scheduled it."""
    user = get_user_model().objects.get(pk=user_id)
    experiment = Experiment.objects.visible_to(user).filter(pk=experiment_id).first()
    if experiment is None:
        return "experiment gone"
    experiment_publish(experiment=experiment, by=user)  # the researcher who scheduled it acts
    return "published"
