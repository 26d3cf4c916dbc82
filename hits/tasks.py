"""Thin Celery tasks: take ids, call one service."""

from __future__ import annotations

from celery import shared_task

from hits import review


@shared_task(acks_late=True)
def review_active_hits() -> dict[str, int]:
    """The review cycle that Celery beat runs every minute."""
    return review.review_active_hits().counts()


@shared_task(acks_late=True)
def run_admin_operation(progress_id: int, operation: str, ids: list[int], data: dict, by: str) -> int:
    """A researcher's operation on many HITs (see `hits.bulk`), recording its Progress."""
    from hits.bulk import run_operation
    from hits.models import Progress

    progress = Progress.objects.filter(pk=progress_id).first()
    if progress is None or progress.finished:
        return 0
    return run_operation(operation, ids, data=data, by=by, progress=progress).changed


@shared_task(acks_late=True)
def publish_experiment_on_schedule(experiment_id: int, user_id: int) -> str:
    """Celery beat's scheduled publish of an Experiment, as the researcher who scheduled it."""
    from django.contrib.auth import get_user_model
    from django.utils.module_loading import import_string

    from experiments.models import Experiment

    user = get_user_model().objects.get(pk=user_id)
    experiment = Experiment.objects.visible_to(user).filter(pk=experiment_id).first()
    if experiment is None:
        return "experiment gone"
    publish = import_string("experiments.services.experiment_publish")
    publish(experiment=experiment, by=f"schedule of {user.username}")
    return "published"
