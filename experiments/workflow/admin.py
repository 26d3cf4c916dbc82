"""The researcher's pages for hosted tasks: upload a package, edit it, publish (the cost range and
the hourly wage first), follow progress per worker and per item, each worker's status history,
and download the results and the consensus per item."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.template.response import TemplateResponse
from django.utils.html import format_html, format_html_join

from crowdhr.admin_tools.buttons import ObjectButtonsAdmin, object_button
from crowdhr.admin_tools.confirm import Summary
from crowdhr.admin_tools.exports import csv_response
from crowdhr.admin_tools.fields import preselect_single_choices
from crowdhr.admin_tools.owned import OwnedAdmin, researcher, visible_rows
from crowdhr.admin_tools.urls import admin_url
from experiments.workflow import packages, qualification, results, services
from experiments.workflow.models import HostedStudy, PageView, PlaceStatus, Task, WorkerPlace
from experiments.workflow.queue import item_progress
from hits.services import ServiceError
from platforms.models import PlatformAccount


class UploadForm(forms.Form):
    account = forms.ModelChoiceField(queryset=PlatformAccount.objects.none(), help_text="Where to publish.")
    package = forms.FileField(
        help_text="A zip of manifest.json, instructions.md, task.html, items.csv and optionally "
        "qualification.csv and training.csv (see docs/hosted-package.md)."
    )

    def clean_package(self) -> packages.Package:
        upload = self.cleaned_data["package"]
        if upload.size > packages.MAX_PACKAGE_BYTES:
            raise forms.ValidationError("The package is larger than 20 MB.")
        try:
            return packages.read_package(packages.files_from_zip(upload.read()))
        except packages.PackageError as error:
            raise forms.ValidationError(str(error)) from error


class HostedStudyForm(forms.ModelForm):
    qualification_function = forms.ChoiceField(choices=qualification.qualification_choices)

    class Meta:
        model = HostedStudy
        fields = [
            "instructions",
            "consent",
            "task_template",
            "answer_fields",
            "qualification_name",
            "qualification_function",
            "qualification_args",
            "qualification_valid_days",
            "on_fail",
            "training_count",
            "training_paid",
            "pay_per_task",
            "tasks_per_worker",
            "answers_per_item",
            "agreements_required",
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        try:
            qualification.check_args(data.get("qualification_function", ""), data.get("qualification_args"))
        except qualification.QualificationError as error:
            self.add_error("qualification_args", str(error))
        fields = [f.strip() for f in (data.get("answer_fields") or "").split(",") if f.strip()]
        try:
            packages.check_config(
                "template_batch", {"template": data.get("task_template", ""), "answer_fields": fields}
            )
        except packages.ConfigError as error:
            self.add_error("task_template", str(error))
        return data


def publish_summary(modeladmin, request: HttpRequest, study: HostedStudy) -> Summary:
    cost = services.cost_range(study)
    experiment = study.experiment
    return Summary(
        f"Publish {experiment}",
        cost.slots,
        noun="worker slot",
        lines=[
            f"{cost.slots} worker slots of up to {study.tasks_per_worker} tasks; each item answered "
            f"{study.answers_per_item} times.",
            f"Cost: from ${cost.minimum} (everyone stops at once: the assignment pay) to ${cost.maximum} "
            f"(every task done), the platform's fee of {cost.fee_percent} included.",
            f"Effective hourly wage: ${cost.hourly_wage}/h for a full share done in about {cost.minutes} minutes "
            f"(${experiment.reward} + {study.tasks_per_worker} x ${study.pay_per_task}).",
        ],
        money=cost.maximum,
        refuse="Published already." if experiment.published_at else "",
    )


class PlaceInline(admin.TabularInline):
    model = WorkerPlace
    readonly_fields = (
        "worker",
        "stage",
        "started_at",
        "ended_at",
        "qualification_score",
        "saved",
    )
    fields = readonly_fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="worker")
    def worker(self, place: WorkerPlace) -> str:
        return place.participant.worker_id

    @admin.display(description="tasks saved")
    def saved(self, place: WorkerPlace) -> int:
        return place.tasks.filter(kind="task", status=Task.Status.SAVED).count()


@admin.register(HostedStudy)
class HostedStudyAdmin(ObjectButtonsAdmin[HostedStudy], OwnedAdmin[HostedStudy]):
    form = HostedStudyForm
    list_display = ["experiment", "account", "published", "places", "progress"]
    readonly_fields = ["experiment", "progress", "item_table"]
    inlines = [PlaceInline]
    object_buttons = ["publish", "results_csv", "consensus_csv"]

    @admin.display(description="account")
    def account(self, study: HostedStudy) -> str:
        return str(study.experiment.account)

    @admin.display(description="published", boolean=True)
    def published(self, study: HostedStudy) -> bool:
        return study.experiment.published_at is not None

    @admin.display(description="workers")
    def places(self, study: HostedStudy) -> int:
        return study.places.count()

    @admin.display(description="progress per worker")
    def progress(self, study: HostedStudy) -> str:
        counts = services.progress_by_stage(study)
        return ", ".join(f"{stage}: {n}" for stage, n in sorted(counts.items())) or "nobody yet"

    @admin.display(description="progress per item")
    def item_table(self, study: HostedStudy) -> str:
        rows = format_html_join(
            "",
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (item.number, ", ".join(map(str, item.inputs.values()))[:80], saved, open_)
                for item, saved, open_ in item_progress(study)
            ),
        )
        return format_html(
            "<table><tr><th>item</th><th>values</th><th>answers saved of {}</th><th>in progress</th></tr>{}</table>",
            study.answers_per_item,
            rows,
        )

    def add_view(
        self, request: HttpRequest, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        """Upload an experiment package: checked completely, a clear error otherwise."""
        if not self.has_add_permission(request):
            return HttpResponseRedirect(admin_url(self, "changelist"))
        form = UploadForm(request.POST or None, request.FILES or None)
        form.fields["account"].queryset = visible_rows(PlatformAccount, request.user)  # type: ignore[attr-defined]
        preselect_single_choices(form)
        if request.method == "POST" and form.is_valid():
            study = packages.hosted_create(
                owner=researcher(request),
                account=form.cleaned_data["account"],
                package=form.cleaned_data["package"],
                by=researcher(request),
            )
            self.message_user(request, f"Created {study.experiment} with {study.items.count()} items.")
            return HttpResponseRedirect(admin_url(self, "change", study.pk))
        context = {
            **self.admin_site.each_context(request),
            "title": "Upload a hosted-tasks package",
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/workflow/upload.html", context)

    @object_button(label="Publish", summarize=publish_summary)
    def publish(self, request: HttpRequest, study: HostedStudy, data: dict[str, Any]) -> None:
        try:
            services.hosted_publish(study=study, by=researcher(request))
        except ServiceError as error:
            self.message_user(request, str(error), messages.ERROR)
            return
        self.message_user(
            request, f"Published {study.experiment} with {services.worker_slots(study)} worker slots."
        )

    @object_button(label="Results CSV", methods=("GET",))
    def results_csv(self, request: HttpRequest, study: HostedStudy, data: dict[str, Any]) -> HttpResponseBase:
        return csv_response(f"hosted-{study.experiment_id}-answers.csv", results.answer_rows(study))

    @object_button(label="Consensus CSV", methods=("GET",))
    def consensus_csv(
        self, request: HttpRequest, study: HostedStudy, data: dict[str, Any]
    ) -> HttpResponseBase:
        return csv_response(f"hosted-{study.experiment_id}-consensus.csv", results.consensus_rows(study))


class PlaceStatusInline(admin.TabularInline):
    model = PlaceStatus
    readonly_fields = (
        "stage",
        "at",
        "note",
    )
    fields = readonly_fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class TaskInline(admin.TabularInline):
    model = Task
    readonly_fields = (
        "position",
        "kind",
        "item",
        "status",
        "answer",
        "correct",
        "started_at",
        "saved_at",
        "paid",
        "history",
    )
    fields = readonly_fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="status history")
    def history(self, task: Task) -> str:
        return ", ".join(f"{h.status} {h.at:%H:%M:%S}" for h in task.history.all())


class PageViewInline(admin.TabularInline):
    model = PageView
    readonly_fields = (
        "page",
        "task",
        "shown_at",
        "completed_at",
        "user_agent",
        "screen",
        "window",
    )
    fields = readonly_fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WorkerPlace)
class WorkerPlaceAdmin(OwnedAdmin[WorkerPlace]):
    """One worker in one study: their stage, status history, tasks and pages (read only)."""

    list_display = ["__str__", "stage", "started_at", "ended_at"]
    list_filter = ["stage", "study"]
    search_fields = ["participant__worker_id"]
    readonly_fields = (
        "participant",
        "study",
        "stage",
        "started_at",
        "ended_at",
        "qualification_score",
    )
    fields = readonly_fields
    inlines = [PlaceStatusInline, TaskInline, PageViewInline]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
