"""Scheduled publishing (django-celery-beat): the page listing a researcher's schedules, a form to
add one with its cost shown first, and cancel. Served from the Experiment admin's URLs
(experiments/experiment/schedule/).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied as PermissionDeniedError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path

from crowdhr.admin_tools import Summary, admin_url, confirm_then_run, researcher
from experiments.models import Experiment
from experiments.services import (
    experiment_schedule_publish,
    publish_cost,
    publish_schedule_cancel,
    publish_schedules,
)


class ScheduleForm(forms.Form):
    experiment = forms.ModelChoiceField(queryset=Experiment.objects.none())  # set by limit_to
    when = forms.DateTimeField(help_text="UTC, e.g. 2026-12-01 09:00.")
    repeat_every_hours = forms.IntegerField(
        min_value=1, max_value=24 * 30, required=False, help_text="Blank: publish once."
    )

    def limit_to(self, request: HttpRequest) -> None:
        field = self.fields["experiment"]
        assert isinstance(field, forms.ModelChoiceField)  # declared above
        field.queryset = Experiment.objects.visible_to(request.user).order_by("name")


def schedule_summary(modeladmin, request, target, data: dict | None = None) -> Summary:
    if not data:
        return Summary(
            "Schedule publishing", 1, noun="schedule", lines=["Choose the Experiment and the time."]
        )
    experiment = data["experiment"]
    cost = publish_cost(experiment=experiment)
    repeat = data.get("repeat_every_hours")
    return Summary(
        "Schedule publishing",
        1,
        noun="schedule",
        lines=[
            f"{experiment} is published at {data['when']:%Y-%m-%d %H:%M} UTC"
            + (f", then every {repeat} hours." if repeat else ", once."),
            f"Each publish posts {cost.assignments} assignment(s) at ${cost.reward} in HITs of {cost.batches}.",
        ],
        money=cost.total,
        warning=f"The cost shown is for each publish, {experiment.account.platform_type.label}'s fees included,"
        " before any bonus.",
    )


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
        context = {
            **modeladmin.admin_site.each_context(request),
            "title": "Scheduled publishing",
            "opts": modeladmin.model._meta,
            "schedules": publish_schedules(request.user),
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
