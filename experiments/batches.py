"""Template batches: a CSV of items and an HTML template become one Outsourcer (and HIT) per row,
and the agreed answers come back as a CSV with one row per item.

On a platform without HTML forms (Prolific) the items cannot be posted: each item gets a hosted HIT
(`hits.hosted`, nothing posted) and the batch is one study whose participants answer their sets of
items on crowdhr's pages (`experiments.hosted`), with places for every answer the items need."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from crowdhr.audit import User
from experiments.hosted import study_places
from hits.hosted import hosted_outsourcer_create
from hits.models import Outsourcer
from hits.services import HitSettings, ServiceError, outsourcer_create, outsourcers_close_for_target
from hits.task_types import ConfigError, TemplateBatch, check_config, get_task_type
from platforms import Capability, supports

MAX_ITEMS = 10_000
#: the task type of a hosted batch's study (`experiments.task_types`)
HOSTED_STUDY_TASK_TYPE = "hosted_batch"
MAX_FILE_BYTES = 5 * 1024 * 1024


def read_items(data: bytes) -> list[dict[str, str]]:
    """The rows of a batch's CSV file, checked: a header row, at least one item, no empty columns."""
    if len(data) > MAX_FILE_BYTES:
        raise ServiceError(f"The CSV file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MB.")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ServiceError("The CSV file must be UTF-8 text.") from error
    reader = csv.DictReader(io.StringIO(text))
    headers = [h.strip() for h in reader.fieldnames or []]
    if not headers or any(not h for h in headers):
        raise ServiceError("The CSV file needs a header row naming every column.")
    rows = [{h.strip(): (v or "").strip() for h, v in row.items() if h} for row in reader]
    rows = [row for row in rows if any(row.values())]
    if not rows:
        raise ServiceError("The CSV file has no items.")
    if len(rows) > MAX_ITEMS:
        raise ServiceError(f"A batch holds at most {MAX_ITEMS} items; split the file.")
    return rows


def check_template_fits(task_config: dict[str, Any], headers: list[str]) -> None:
    """Every ${placeholder} of the template must be a column of the CSV."""
    task = get_task_type("template_batch", task_config)
    assert isinstance(task, TemplateBatch)
    missing = sorted(set(task.placeholders()) - set(headers))
    if missing:
        raise ServiceError(f"The template uses columns the CSV does not have: {', '.join(missing)}.")


def experiment_items(experiment) -> list[dict[str, str]]:
    if not experiment.items_file:
        raise ServiceError("Upload the CSV file of items first.")
    with experiment.items_file.open("rb") as handle:
        return read_items(handle.read())


def item_target(experiment, number: int) -> str:
    return f"experiment:{experiment.pk}:item:{number}"


def batch_publish(*, experiment, by: User | None, forced: bool = False) -> list[Outsourcer]:
    """Post one HIT per CSV row that has none yet (publishing again only posts what is missing:
    items never posted, and items whose Outsourcer was deleted before it had an answer).

    `forced` (a forced import, and each later run of a repeating schedule) posts every item anew:
    the item's outstanding Outsourcers are closed first (deactivated, their HITs expired, their
    unreviewed assignments approved), so there is never more than one open per item.
    """
    task_type = experiment.task_type or "template_batch"
    try:
        check_config(task_type, experiment.task_config)
    except ConfigError as error:
        raise ServiceError(f"{experiment}: the task type's settings cannot work: {error}") from error
    items = experiment_items(experiment)
    if task_type == "template_batch":
        check_template_fits(experiment.task_config, list(items[0]))
    task_config = {**experiment.task_config, "quality_threshold": experiment.quality_threshold}
    posted = Outsourcer.objects.filter(experiment=experiment)
    published = set(posted.filter(Q(active=True) | Q(answer__isnull=False)).values_list("target", flat=True))
    hosted = not supports(experiment.account, Capability.HTML_FORMS)
    created = []
    for number, row in enumerate(items, start=1):
        target = item_target(experiment, number)
        if forced:
            outsourcers_close_for_target(owner=experiment.owner, target=target, by=by)
        elif target in published:
            continue
        if hosted:
            created.append(
                hosted_outsourcer_create(
                    owner=experiment.owner,
                    account=experiment.account,
                    experiment=experiment,
                    task_type=task_type,
                    target=target,
                    inputs=row,
                    task_config=task_config,
                    assignments_required=experiment.assignments_required,
                    agreements_required=experiment.agreements_required,
                    by=by,
                )
            )
            continue
        created.append(
            outsourcer_create(
                owner=experiment.owner,
                account=experiment.account,
                experiment=experiment,
                task_type=task_type,
                target=target,
                inputs=row,
                task_config=task_config,
                settings=batch_hit_settings(experiment),
                by=by,
            )
        )
    if hosted and experiment.outsourcer_target not in published:
        created.append(_publish_hosted_study(experiment, len(items), by))
    type(experiment).objects.filter(pk=experiment.pk, published_at__isnull=True).update(
        published_at=timezone.now()
    )
    return created


def hosted_start_url(experiment) -> str:
    """crowdhr's first page of a hosted batch: the study's address on the platform."""
    return settings.SITE_URL + reverse("experiments:hosted_start", args=[experiment.pk])


def _publish_hosted_study(experiment, items: int, by: User | None) -> Outsourcer:
    """The batch's one study: a place for every set of items the answers need, plus a reserve;
    each participant is paid the reward for their set."""
    if experiment.agreements_required > experiment.assignments_required:
        raise ServiceError("Agreements required cannot exceed the assignments asked for.")
    places = study_places(experiment, items)
    return outsourcer_create(
        owner=experiment.owner,
        account=experiment.account,
        experiment=experiment,
        task_type=HOSTED_STUDY_TASK_TYPE,
        target=experiment.outsourcer_target,
        inputs={"url": hosted_start_url(experiment)},
        task_config={"experiment_id": experiment.pk},
        settings=replace(batch_hit_settings(experiment), assignments_required=places, agreements_required=1),
        batch_sizes=[places],
        by=by,
    )


def batch_hit_settings(experiment) -> HitSettings:
    return HitSettings(
        title=experiment.title,
        description=experiment.description,
        reward=experiment.reward,
        keywords=experiment.keywords,
        duration_seconds=experiment.duration_seconds,
        lifetime_seconds=experiment.lifetime_seconds,
        auto_approval_delay_seconds=experiment.auto_approval_delay_seconds,
        assignments_required=experiment.assignments_required,
        agreements_required=experiment.agreements_required,
        qualification_requirements=tuple(experiment.qualification_requirements),
        # A Quality Score requirement needs qualifications (MTurk); Prolific has none.
        quality_threshold=(
            experiment.quality_threshold if supports(experiment.account, Capability.QUALIFICATIONS) else None
        ),
    )


def batch_results(experiment) -> Iterator[list[str]]:
    """The results CSV, row by row: the item's columns, its agreed answer, and how many agreed."""
    task = get_task_type(experiment.task_type or "template_batch", experiment.task_config)
    outsourcers = (
        Outsourcer.objects.filter(experiment=experiment)
        .exclude(target=experiment.outsourcer_target)  # a hosted batch's study is no item
        .order_by("pk")
    )
    columns: list[str] = []
    for outsourcer in outsourcers.only("inputs").iterator(chunk_size=500):
        columns += [c for c in outsourcer.inputs if c not in columns]
    answer_fields = list(task.answer_fields)
    yield [*columns, *answer_fields, "agreements", "status", "problem"]
    for outsourcer in outsourcers.iterator(chunk_size=500):
        answer = outsourcer.answer if isinstance(outsourcer.answer, dict) else {}
        yield [
            *(str(outsourcer.inputs.get(c, "")) for c in columns),
            *(_cell(answer.get(name)) for name in answer_fields),
            "" if outsourcer.agreements is None else str(outsourcer.agreements),
            _status(outsourcer),
            outsourcer.problem,
        ]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _status(outsourcer: Outsourcer) -> str:
    if outsourcer.answer is not None:
        return "answered"
    if outsourcer.needs_review:
        return "needs review"
    return "open" if outsourcer.active else "closed without answer"
