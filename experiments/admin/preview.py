"""What a worker will see, before anything is published: a batch's first item as its question
form, an oTree study's page before accepting (after it, the worker goes straight into oTree). Shown in a sandboxed frame (no scripts, no cookies), so a
researcher's template cannot act on the admin's pages.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.utils.html import escape, format_html

from crowdhr.admin_tools import admin_url
from experiments.batches import experiment_items
from experiments.models import Experiment
from hits.services import ServiceError
from hits.task_types import ConfigError, check_config

DEFAULT_TASK_TYPE = "template_batch"


def first_item(experiment: Experiment, example: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The first CSV row, or the task type's example item when there is no usable CSV yet."""
    if experiment.items_file:
        try:
            return experiment_items(experiment)[0], "the first item of your CSV file"
        except (ServiceError, OSError):
            pass
    return example, "an example item (upload a CSV file to see your first item)"


def worker_page(experiment: Experiment) -> tuple[str, str]:
    """(the HTML page a worker sees, what it shows); ConfigError when the settings cannot work."""
    if experiment.is_otree:
        page = render_to_string("experiments/preview.html", {"experiment": experiment})
        return page, "the study's page before accepting; once accepted, they go straight into oTree"
    task = check_config(experiment.task_type or DEFAULT_TASK_TYPE, experiment.task_config)
    inputs, what = first_item(experiment, task.example_inputs)
    body = task.html_form(inputs).body
    page = render_to_string("experiments/question_preview.html", {"experiment": experiment, "body": body})
    return page, what


def preview_frame(experiment: Experiment) -> str:
    """The worker's page in a sandboxed frame, or why it cannot be shown."""
    try:
        page, what = worker_page(experiment)
    except ConfigError as error:
        return format_html('<p class="errornote">No preview: {}</p>', str(error))
    return format_html(
        '<p class="help">A worker sees {}:</p>'
        '<iframe class="crowdhr-preview" sandbox srcdoc="{}" title="What a worker sees"></iframe>',
        what,
        escape(page),  # the page is the frame's attribute value: always escaped, though marked safe
    )


def preview_page(modeladmin: Any, request: HttpRequest, experiment: Experiment) -> TemplateResponse:
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": f"Preview: {experiment}",
        "experiment": experiment,
        "frame": preview_frame(experiment),
        "opts": Experiment._meta,
        "back": admin_url(modeladmin, "change", experiment.pk),
    }
    return TemplateResponse(request, "admin/experiments/experiment/preview.html", context)
