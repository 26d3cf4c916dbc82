"""Scheduled publishing (django-celery-beat): the page listing a researcher's schedules, a form to
add one with its cost shown first, and cancel. Served from the Experiment admin's URLs
(experiments/experiment/schedule/); the Experiment page links here with itself chosen.

What a repeat does depends on the kind (`experiments.services.experiment_publish_on_schedule`): an
oTree study publishes a new round (a copy with a new oTree session and new HITs), a batch posts
every item again as new Outsourcers (the previous round's are closed as in a forced import).
"""

from __future__ import annotations

import json
from decimal import Decimal

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied as PermissionDeniedError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path
from django_celery_beat.models import PeriodicTask

from crowdhr.admin_tools import Summary, admin_url, confirm_then_run, researcher
from experiments.batches import experiment_items
from experiments.models import Experiment
from experiments.services import (
    ServiceError,
    experiment_schedule_publish,
    publish_cost,
    publish_schedule_cancel,
    publish_schedules,
)
from platforms import fees_for

REPEAT_HELP = (
    "Blank: publish once. Each repeat publishes a new round: an oTree study a copy of itself with a new "
    "oTree session and new HITs; a batch every item again as new Outsourcers (the previous round's open "
    "ones are closed: HITs expired, unreviewed work approved)."
)


class ScheduleForm(forms.Form):
    experiment = forms.ModelChoiceField(queryset=Experiment.objects.none())  # set by limit_to
    when = forms.DateTimeField(help_text="UTC, e.g. 2026-12-01 09:00.")
    repeat_every_hours = forms.IntegerField(
        min_value=1, max_value=24 * 30, required=False, help_text=REPEAT_HELP
    )

    def limit_to(self, request: HttpRequest) -> None:
        field = self.fields["experiment"]
        assert isinstance(field, forms.ModelChoiceField)  # declared above
        field.queryset = Experiment.objects.visible_to(request.user).order_by("name")


def batch_cost(experiment: Experiment, *, every_item: bool = False) -> tuple[str, Decimal]:
    """A batch posts one HIT per item row not posted yet (`every_item`: a repeat posts them all),
    each with `assignments_required` workers."""
    try:
        items = len(experiment_items(experiment))
    except (ServiceError, OSError) as error:
        return f"{experiment}: {error}", Decimal("0.00")
    open_items = experiment.outsourcers.filter(active=True).count()
    new = items if every_item else max(items - open_items, 0)
    per_item = fees_for(experiment.account).posting_cost(experiment.reward, experiment.assignments_required)
    return (
        f"{experiment}: a batch; {new} of {items} items to post, {experiment.assignments_required} workers "
        f"each, ${experiment.reward} per assignment.",
        per_item * new,
    )


def _cost_lines(experiment: Experiment, repeat: int | None) -> tuple[list[str], Decimal]:
    """What each run costs: the first publish, and (repeating) each new round."""
    if experiment.kind == Experiment.Kind.BATCH:
        line, first = batch_cost(experiment)
        if not repeat:
            return [line], first
        again, each = batch_cost(experiment, every_item=True)
        return [f"First run: {line}", f"Each repeat: {again} (${each})"], first
    cost = publish_cost(experiment=experiment)
    line = (
        f"Each publish posts {cost.assignments} assignments at ${cost.reward} in HITs of "
        f"{' + '.join(map(str, cost.batches))}, up to ${cost.bonuses} in bonuses."
    )
    if repeat:
        line += " Each repeat is a new round: a new oTree session with new HITs."
    return [line], cost.total


def schedule_summary(modeladmin, request, target, data: dict | None = None) -> Summary:
    if not data:
        return Summary(
            "Schedule publishing", 1, noun="schedule", lines=["Choose the Experiment and the time."]
        )
    experiment = data["experiment"]
    repeat = data.get("repeat_every_hours")
    lines, money = _cost_lines(experiment, repeat)
    return Summary(
        "Schedule publishing",
        1,
        noun="schedule",
        lines=[
            f"{experiment} is published at {data['when']:%Y-%m-%d %H:%M} UTC"
            + (f", then every {repeat} hours." if repeat else ", once."),
            *lines,
        ],
        money=money,
        warning=f"The cost shown is for the first publish, {experiment.account.platform_type.label}'s fees "
        "included.",
    )


def schedule_experiment_id(task: PeriodicTask) -> int | None:
    return json.loads(task.kwargs or "{}").get("experiment_id")


def schedule_state(task: PeriodicTask) -> str:
    """What the researcher needs to know of a schedule: a one-off that has run is done, not enabled."""
    if task.one_off and (task.total_run_count or task.last_run_at):
        return "done (ran once)"
    if not task.enabled:
        return "paused"
    return f"repeats every {task.interval}" if task.interval_id else "waiting to run once"


def _chosen(request: HttpRequest) -> Experiment | None:
    """The Experiment whose page the researcher came from (?experiment=<id>), if it is theirs."""
    value = request.GET.get("experiment", "")
    if not value.isdigit():
        return None
    return Experiment.objects.visible_to(request.user).filter(pk=int(value)).first()


class ScheduleViews:
    """The schedule page and cancel, checked against the Experiment admin's permissions."""

    def __init__(self, modeladmin: admin.ModelAdmin) -> None:
        self.modeladmin = modeladmin

    def page(self, request: HttpRequest) -> HttpResponse:
        modeladmin = self.modeladmin
        if not modeladmin.has_view_permission(request):
            raise PermissionDeniedError
        back = admin_url(modeladmin, "schedule")
        if request.method == "POST":
            if not modeladmin.has_change_permission(request):
                raise PermissionDeniedError
            ran, response = confirm_then_run(
                request,
                modeladmin,
                target=None,
                summarize=schedule_summary,
                form_class=ScheduleForm,
                review_input=True,
                run=lambda data: experiment_schedule_publish(
                    experiment=data["experiment"],
                    when=data["when"],
                    repeat_every_hours=data.get("repeat_every_hours"),
                    by=researcher(request),
                ),
                hidden=[],
                cancel_url=back,
            )
            if not ran:
                return response
            modeladmin.message_user(request, f"Scheduled: {response.name}.")
            return HttpResponseRedirect(back)
        experiment = _chosen(request)
        schedules = publish_schedules(request.user)
        if experiment is not None:
            schedules = [t for t in schedules if schedule_experiment_id(t) == experiment.pk]
        context = {
            **modeladmin.admin_site.each_context(request),
            "title": f"Scheduled publishing of {experiment}" if experiment else "Scheduled publishing",
            "opts": modeladmin.model._meta,
            "experiment": experiment,
            "schedules": [(task, schedule_state(task)) for task in schedules],
            "repeat_help": REPEAT_HELP,
        }
        return TemplateResponse(request, "admin/experiments/experiment/schedule.html", context)

    def cancel(self, request: HttpRequest, task_id: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.modeladmin.has_change_permission(request):
            raise PermissionDeniedError
        task = publish_schedule_cancel(by=researcher(request), task_id=task_id)
        if task is None:
            raise Http404("No such schedule.")
        self.modeladmin.message_user(request, f"Cancelled: {task.name}.")
        return HttpResponseRedirect(admin_url(self.modeladmin, "schedule"))


def schedule_urls(modeladmin: admin.ModelAdmin) -> list:
    """The schedule page and its cancel URL, named `<app>_<model>_schedule[_cancel]`."""
    info = modeladmin.model._meta.app_label, modeladmin.model._meta.model_name
    schedule = ScheduleViews(modeladmin)
    return [
        path(
            "schedule/", modeladmin.admin_site.admin_view(schedule.page), name="{}_{}_schedule".format(*info)
        ),
        path(
            "schedule/<str:task_id>/cancel/",
            modeladmin.admin_site.admin_view(schedule.cancel),
            name="{}_{}_schedule_cancel".format(*info),
        ),
    ]
