"""The researcher's admin for outsourced work: platform accounts, HITs, assignments, progress.

Every action and button calls a service (`hits.services`, `hits.bulk`) and ends with a count
message; everything that spends money or changes a platform is a POST with a confirmation page
(see `crowdhr.admin_tools`). Researchers see only their own rows.
"""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied as PermissionDeniedError
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path
from django.utils.html import format_html

from crowdhr.admin_tools import (
    HistoryAdmin,
    ObjectButtonsAdmin,
    OwnedAdmin,
    PageAnnotationsAdmin,
    Summary,
    admin_url,
    button_for_action,
    confirmed_action,
    object_button,
    report,
)
from experiments.services import experiment_schedule_publish, publish_schedule_cancel, publish_schedules
from hits import bulk, exports, services, tasks
from hits.models import HIT, Assignment, Outsourcer, Progress
from hits.review.decide import consensus_groups
from hits.selectors import hit_worker_site_url, hits_with_progress, undecided_cost, undecided_count
from hits.task_types import get_task_type
from platforms import PlatformError
from platforms.admin import environment_badge
from platforms.fees import MICRO_BATCH_LIMIT, assignment_cost


# --- summaries shown before a HIT operation -----------------------------------------------------
def _hits(target: Any) -> QuerySet[HIT]:
    return target if isinstance(target, QuerySet) else HIT.objects.filter(pk=target.pk)


def _outsourcers(target: Any) -> QuerySet[Outsourcer]:
    return Outsourcer.objects.filter(pk__in=_hits(target).values("outsourcer_id"))


def _live(target: Any) -> QuerySet[HIT]:
    return HIT.objects.filter(outsourcer__in=_outsourcers(target), status=HIT.Status.LIVE)


def expire_summary(modeladmin, request, target) -> Summary:
    live = _live(target).filter(expired=False).count()
    return Summary(
        "Expire HITs", live, lines=["Workers can no longer accept them; submitted work is still reviewed."]
    )


def unexpire_summary(modeladmin, request, target) -> Summary:
    paused = _live(target).filter(expired=True, outsourcer__active=True).count()
    return Summary("Unexpire HITs", paused, lines=["They take workers again for their whole lifetime."])


def delete_summary(modeladmin, request, target) -> Summary:
    hits = _live(target).filter(expired=False).count()
    outsourcers = _outsourcers(target).count()
    return Summary(
        "Delete HITs",
        hits,
        lines=[
            f"{hits} HIT(s) on the platform are expired now and {outsourcers} Outsourcer(s) deactivated.",
            "Nothing is destroyed: the records and every answer stay for history.",
        ],
    )


def reopen_summary(modeladmin, request, target) -> Summary:
    money, lines, count = Decimal("0.00"), [], 0
    for outsourcer in _outsourcers(target).filter(active=True):
        hit = outsourcer.hits.filter(status=HIT.Status.LIVE).order_by("-batch_number").first()
        if hit is None:
            continue
        extra = hit.assignments_required
        size = hit.max_assignments + extra if hit.max_assignments + extra <= MICRO_BATCH_LIMIT else extra
        money += assignment_cost(hit.reward, size) * extra
        count += 1
        lines.append(f"{outsourcer}: {extra} more assignment(s) at ${hit.reward} each")
    return Summary("Reopen HITs", count, lines=lines[:50], money=money)


def approve_all_summary(modeladmin, request, target) -> Summary:
    hits = _hits(target)
    return Summary(
        "Approve all assignments",
        undecided_count(hits),
        noun="assignment",
        lines=["Every undecided submitted assignment of the selected HITs is approved and paid."],
        money=undecided_cost(hits),
    )


def reject_all_summary(modeladmin, request, target) -> Summary:
    return Summary(
        "Reject all assignments",
        undecided_count(_hits(target)),
        noun="assignment",
        lines=["Every undecided submitted assignment is rejected; the workers read your feedback."],
        warning="Rejections lower the workers' approval rates on MTurk.",
        money=Decimal("0.00"),
    )


def flag_summary(modeladmin, request, target) -> Summary:
    return Summary(
        "Flag for review",
        _outsourcers(target).count(),
        noun="Outsourcer",
        lines=["The review worker skips them."],
    )


def unflag_summary(modeladmin, request, target) -> Summary:
    return Summary(
        "Unflag for review",
        _outsourcers(target).count(),
        noun="Outsourcer",
        lines=["The review picks them up."],
    )


class FeedbackForm(forms.Form):
    feedback = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1024,
        required=False,
        help_text="What the workers read. Blank: they are told the agreed answer when known.",
    )


class ProblemForm(forms.Form):
    problem = forms.CharField(max_length=500, required=False, help_text="Why a person must look.")


class InputDataForm(forms.Form):
    answer = forms.JSONField(help_text='The answer as JSON, e.g. {"answer": "cat"}.')

    def clean_answer(self) -> dict[str, Any]:
        answer = self.cleaned_data["answer"]
        if not isinstance(answer, dict):
            raise forms.ValidationError('Enter a JSON object, e.g. {"answer": "cat"}.')
        return answer


def _operate(modeladmin, request: HttpRequest, operation: str, hit_ids: list[int], data: dict) -> Any:
    """Run an operation on HITs now, or in the background when it touches many HITs."""
    targets = bulk.targets_of(operation, hit_ids)
    background = len(hit_ids) > bulk.BACKGROUND_OVER
    return _start(modeladmin, request, operation, targets, data, f"{len(hit_ids)} HITs", background)


def _start(
    modeladmin, request, operation: str, targets: list[int], data: dict, what: str, background: bool
) -> Any:
    """Run now and report, or start a Celery task and show its progress page (enqueued after commit)."""
    verb = bulk.OPERATIONS[operation].verb
    by = request.user.get_username()
    if background:
        progress = tasks.start_in_background(
            owner=request.user, operation=operation, ids=targets, data=_json_safe(data), by=by, what=what
        )
        modeladmin.message_user(request, f"Working on {what} in the background.")
        return HttpResponseRedirect(
            admin_url(ProgressAdmin(Progress, modeladmin.admin_site), "change", progress.pk)
        )
    outcome = bulk.run_operation(operation, targets, data=data, by=by)
    report(modeladmin, request, f"{outcome.changed} {verb}.", outcome.errors)
    return None


def _json_safe(data: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in data.items() if key != "nonce"}


def _action(operation: str, description: str, summarize, form_class=None):
    @confirmed_action(description=description, summarize=summarize, form_class=form_class)
    def run(modeladmin, request, queryset, data):
        return _operate(modeladmin, request, operation, list(queryset.values_list("pk", flat=True)), data)

    run.__name__ = run.__wrapped__.__name__ = f"{operation}_hits"  # type: ignore[attr-defined]
    return run


delete_hits = _action("delete", "Delete selected HITs", delete_summary)
reopen_hits = _action("reopen", "Reopen selected HITs", reopen_summary)
expire_hits = _action("expire", "Expire selected HITs", expire_summary)
unexpire_hits = _action("unexpire", "Unexpire selected HITs", unexpire_summary)
approve_all_hits = _action("approve_all", "Approve all assignments of selected HITs", approve_all_summary)
reject_all_hits = _action(
    "reject_all", "Reject all assignments of selected HITs", reject_all_summary, FeedbackForm
)
flag_hits = _action("flag", "Flag selected HITs for review", flag_summary, ProblemForm)
unflag_hits = _action("unflag", "Unflag selected HITs for review", unflag_summary)


# --- HITs ---------------------------------------------------------------------------------------
@admin.register(HIT)
class HITAdmin(HistoryAdmin, PageAnnotationsAdmin, ObjectButtonsAdmin, OwnedAdmin):
    list_display = [
        "title",
        "target",
        "where",
        "active",
        "needs_review",
        "num_new_assignments",
        "done_of_required",
        "money_spent",
        "last_reopen_time",
        "last_updated",
        "create_date",
    ]
    list_display_links = ["title"]
    list_filter = [
        "active",
        "outsourcer__needs_review",
        "environment",
        "status",
        "expired",
        "create_date",
        "last_updated",
    ]
    list_select_related = ["outsourcer"]
    search_fields = ["hit_id", "title", "outsourcer__target"]
    show_full_result_count = False
    ordering = ["-pk"]
    list_per_page = 100
    fieldsets = [
        ("Basics", {"fields": ["hit_id", "links", "where", "status", "active", "needs_review", "comments"]}),
        ("HIT Utils", {"fields": ["assignments_required", "agreements_required", "num_new_assignments"]}),
        ("HIT Stats", {"fields": ["last_reopen_time", "last_updated", "create_date", "modify_date"]}),
    ]
    readonly_fields = [
        "hit_id",
        "links",
        "where",
        "status",
        "active",
        "needs_review",
        "num_new_assignments",
        "last_reopen_time",
        "last_updated",
        "create_date",
        "modify_date",
    ]
    actions = [
        delete_hits,
        reopen_hits,
        expire_hits,
        unexpire_hits,
        approve_all_hits,
        reject_all_hits,
        flag_hits,
        unflag_hits,
        "response_time_statistics",
        exports.export_action("hits.csv", exports.hit_rows, "Download selected HITs as CSV"),
    ]
    object_buttons = [
        "view_assignments",
        "statistics",
        "input_data",
        "reopen_button",
        "expire_button",
        "unexpire_button",
        "approve_all_button",
        "reject_all_button",
        "flag_button",
        "unflag_button",
        "delete_button",
    ]

    reopen_button = button_for_action(reopen_hits, name="reopen_button", label="Reopen")
    expire_button = button_for_action(expire_hits, name="expire_button", label="Expire")
    unexpire_button = button_for_action(unexpire_hits, name="unexpire_button", label="Unexpire")
    approve_all_button = button_for_action(approve_all_hits, name="approve_all_button", label="Approve all")
    reject_all_button = button_for_action(reject_all_hits, name="reject_all_button", label="Reject all")
    flag_button = button_for_action(flag_hits, name="flag_button", label="Flag for review")
    unflag_button = button_for_action(unflag_hits, name="unflag_button", label="Unflag")
    delete_button = button_for_action(delete_hits, name="delete_button", label="Delete")

    def annotate_page(self, queryset: QuerySet[HIT], request: HttpRequest) -> QuerySet[HIT]:
        rows = (
            super()
            .annotate_page(queryset, request)
            .defer("question", "description", "qualification_requirements")
        )
        return hits_with_progress(rows)

    # --- columns ---
    @admin.display(description="target", ordering="outsourcer__target")
    def target(self, hit: HIT) -> str:
        return hit.outsourcer.target

    @admin.display(description="site", ordering="environment")
    def where(self, hit: HIT) -> str:
        return environment_badge(hit.environment)

    @admin.display(description="needs review", boolean=True, ordering="outsourcer__needs_review")
    def needs_review(self, hit: HIT) -> bool:
        return hit.outsourcer.needs_review

    @admin.display(description="done / required")
    def done_of_required(self, hit: HIT) -> str:
        return f"{getattr(hit, 'assignments_done', 0)}/{hit.max_assignments}"

    @admin.display(description="money spent")
    def money_spent(self, hit: HIT) -> str:
        return f"${Decimal(getattr(hit, 'money_spent', 0) or 0):.2f}"

    @admin.display(description="links")
    def links(self, hit: HIT) -> str:
        worker_site = hit_worker_site_url(hit)
        try:
            data_url = get_task_type(hit.outsourcer.task_type, hit.outsourcer.task_config).data_url(
                hit.outsourcer.inputs
            )
        except ValueError:
            data_url = ""
        parts = []
        if worker_site:
            parts.append(
                format_html('<a href="{}" target="_blank" rel="noopener">On the worker site</a>', worker_site)
            )
        if data_url.startswith(("http://", "https://")):
            parts.append(format_html('<a href="{}" target="_blank" rel="noopener">The data</a>', data_url))
        return format_html(" · ".join(["{}"] * len(parts)), *parts) if parts else "-"

    # --- buttons that only show pages ---
    @object_button(label="View assignments", methods=("GET",))
    def view_assignments(self, request, hit, data):
        return HttpResponseRedirect(admin_url(self, "assignments", hit.pk))

    @object_button(label="Statistics", methods=("GET",))
    def statistics(self, request, hit, data):
        return self.statistics_page(request, HIT.objects.filter(pk=hit.pk))

    @object_button(
        label="Manually input data",
        form_class=InputDataForm,
        summarize=lambda modeladmin, request, hit: Summary(
            "Enter the answer by hand",
            1,
            noun="Outsourcer",
            lines=[f"{hit.outsourcer}: the answer is saved, its HITs expired and it is deactivated."],
        ),
    )
    def input_data(self, request, hit, data):
        try:
            services.outsourcer_input_data(
                outsourcer=hit.outsourcer, answer=data["answer"], by=request.user.get_username()
            )
        except (services.ServiceError, PlatformError) as error:
            self.message_user(request, str(error), messages.ERROR)
            return None
        self.message_user(request, f"Saved the answer for {hit.outsourcer}.")
        return None

    # --- pages ---
    @admin.action(description="Response-time statistics of selected HITs", permissions=("view",))
    def response_time_statistics(self, request, queryset):
        return self.statistics_page(request, queryset)

    def statistics_page(self, request: HttpRequest, hits: QuerySet[HIT]) -> TemplateResponse:
        times = services.response_time_statistics(hits)
        context = {
            **self.admin_site.each_context(request),
            "title": "Response-time statistics",
            "opts": self.model._meta,
            "stats": times,
            "hit_count": hits.count(),
            "chart": histogram(times.seconds),
        }
        return TemplateResponse(request, "admin/hits/hit/statistics.html", context)

    def get_urls(self):
        info = self.model._meta.app_label, self.model._meta.model_name
        pages = [
            path(
                "<path:object_id>/assignments/",
                self.admin_site.admin_view(self.assignments_view),
                name="{}_{}_assignments".format(*info),
            )
        ]
        schedule = ScheduleViews(self)
        pages += [
            path("schedule/", self.admin_site.admin_view(schedule.page), name="{}_{}_schedule".format(*info)),
            path(
                "schedule/<str:task_id>/cancel/",
                self.admin_site.admin_view(schedule.cancel),
                name="{}_{}_schedule_cancel".format(*info),
            ),
        ]
        return pages + super().get_urls()

    def assignments_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Every assignment of one HIT with the workers' answers, and the consensus groups on top."""
        hit = self.get_scoped_object(request, object_id)
        outsourcer = hit.outsourcer
        task = get_task_type(outsourcer.task_type, outsourcer.task_config)
        assignments = list(hit.assignments.select_related("worker").order_by("submit_time", "pk"))
        rows = [(a, task.create_assignment_dict(a)) for a in assignments]
        columns = list(task.answer_fields)
        groups = [
            (task.describe_answer(group.representative) or "(empty)", group.size)
            for group in consensus_groups(outsourcer)
        ]
        assignment_admin = AssignmentAdmin(Assignment, self.admin_site)
        context = {
            **self.admin_site.each_context(request),
            "title": f"Assignments of {hit}",
            "opts": self.model._meta,
            "original": hit,
            "hit": hit,
            "outsourcer": outsourcer,
            "columns": columns,
            "rows": [
                (
                    a,
                    [d.get(c, "") for c in columns],
                    {
                        name: assignment_admin.button_url(a, name)
                        for name in ("approve", "reject", "save_as_data")
                    },
                )
                for a, d in rows
            ],
            "groups": groups,
            "agreed": task.describe_answer(outsourcer.answer) if isinstance(outsourcer.answer, dict) else "",
        }
        return TemplateResponse(request, "admin/hits/hit/assignments.html", context)


def histogram(seconds: tuple[float, ...], bins: int = 12, width: int = 600, height: int = 220) -> dict:
    """Bars for an inline SVG histogram of work times (no chart library, no CDN)."""
    if not seconds:
        return {"bars": [], "width": width, "height": height}
    low, high = min(seconds), max(seconds)
    span = (high - low) or 1.0
    counts = [0] * bins
    for value in seconds:
        counts[min(bins - 1, math.floor((value - low) / span * bins))] += 1
    top = max(counts)
    plot_height, bar_width = height - 40, width / bins
    bars = []
    for index, count in enumerate(counts):
        bar_height = plot_height * count / top
        bars.append(
            {
                "x": round(index * bar_width + 1, 1),
                "y": round(plot_height - bar_height + 10, 1),
                "w": round(bar_width - 2, 1),
                "h": round(bar_height, 1),
                "count": count,
                "label": f"{low + span * index / bins:.0f}s",
            }
        )
    return {"bars": bars, "width": width, "height": height, "axis_y": height - 30}


# --- assignments --------------------------------------------------------------------------------
def approve_summary(modeladmin, request, target) -> Summary:
    assignments = target if isinstance(target, QuerySet) else Assignment.objects.filter(pk=target.pk)
    undecided = assignments.undecided().select_related("hit")
    money = sum(
        (
            assignment_cost(a.hit.reward, a.hit.max_assignments or a.hit.assignments_required)
            for a in undecided
        ),
        Decimal("0.00"),
    )
    return Summary(
        "Approve assignments",
        len(undecided),
        noun="assignment",
        lines=["The workers are paid the reward."],
        money=money,
        refuse="" if undecided else "Nothing to approve: the selected assignments are decided already.",
    )


def reject_summary(modeladmin, request, target) -> Summary:
    assignments = target if isinstance(target, QuerySet) else Assignment.objects.filter(pk=target.pk)
    count = assignments.undecided().count()
    return Summary(
        "Reject assignments",
        count,
        noun="assignment",
        lines=["The workers read your feedback."],
        warning="Rejections lower the workers' approval rates on MTurk.",
        money=Decimal("0.00"),
        refuse="" if count else "Nothing to reject: the selected assignments are decided already.",
    )


def save_as_data_summary(modeladmin, request, assignment) -> Summary:
    return Summary(
        "Save as data",
        1,
        noun="answer",
        lines=[
            f"{assignment.worker}'s answer becomes the data of {assignment.hit.outsourcer}, "
            "which is then deactivated; other answers are judged against it."
        ],
    )


def _feedback(data: dict) -> dict[str, str]:
    return {"feedback": data["feedback"]} if data.get("feedback") else {}


def _decide_each(modeladmin, request, assignments, *, approve: bool, feedback: str = "") -> None:
    decide = services.assignment_approve if approve else services.assignment_reject
    decided, errors = 0, []
    for assignment in assignments.undecided().select_related("hit__outsourcer", "worker"):
        try:
            decided += decide(assignment=assignment, feedback=feedback, by=request.user.get_username())
        except (services.ServiceError, PlatformError) as error:
            errors.append(f"{assignment}: {error}")
    failed = [str(a) for a in assignments.exclude(problem="").filter(decision=Assignment.Decision.UNDECIDED)]
    errors += [f"{name}: the platform refused it (see its problem)" for name in failed]
    report(modeladmin, request, f"{decided} {'approved' if approve else 'rejected'}.", errors)


@admin.register(Assignment)
class AssignmentAdmin(HistoryAdmin, PageAnnotationsAdmin, ObjectButtonsAdmin, OwnedAdmin):
    list_display = [
        "assignment_id",
        "hit_title",
        "worker",
        "platform_status",
        "decision",
        "work_time",
        "confused",
        "submit_time",
    ]
    list_filter = ["decision", "platform_status", "confused", "submit_time"]
    list_select_related = ["hit", "worker"]
    search_fields = ["assignment_id", "worker__worker_id", "hit__hit_id"]
    show_full_result_count = False
    ordering = ["-pk"]
    list_per_page = 100
    readonly_fields = [
        f.name for f in Assignment._meta.get_fields() if f.concrete and not f.many_to_many and f.name != "id"
    ]
    object_buttons = ["approve", "reject", "save_as_data"]
    actions = [
        "approve_selected",
        "reject_selected",
        exports.export_action(
            "assignments.csv", exports.assignment_rows, "Download selected assignments as CSV"
        ),
    ]

    @admin.display(description="HIT", ordering="hit__title")
    def hit_title(self, assignment: Assignment) -> str:
        return assignment.hit.title

    @admin.display(description="work time")
    def work_time(self, assignment: Assignment) -> str:
        seconds = assignment.work_seconds
        return "-" if seconds is None else f"{seconds:.0f} s"

    @confirmed_action(description="Approve selected assignments", summarize=approve_summary)
    def approve_selected(self, request, queryset, data):
        return self._decide_many(request, queryset, "approve_assignments", data)

    @confirmed_action(
        description="Reject selected assignments", summarize=reject_summary, form_class=FeedbackForm
    )
    def reject_selected(self, request, queryset, data):
        return self._decide_many(request, queryset, "reject_assignments", data)

    def _decide_many(self, request, queryset, operation: str, data: dict) -> Any:
        ids = list(queryset.undecided().values_list("pk", flat=True))
        if len(ids) > bulk.BACKGROUND_OVER_ASSIGNMENTS:
            return _start(self, request, operation, ids, data, f"{len(ids)} assignments", True)
        _decide_each(self, request, queryset, approve=operation == "approve_assignments", **_feedback(data))
        return None

    def _back_to_hit(self, assignment: Assignment) -> HttpResponse:
        return HttpResponseRedirect(
            admin_url(HITAdmin(HIT, self.admin_site), "assignments", assignment.hit_id)
        )

    @object_button(label="Approve", summarize=approve_summary)
    def approve(self, request, assignment, data):
        _decide_each(self, request, Assignment.objects.filter(pk=assignment.pk), approve=True)
        return self._back_to_hit(assignment)

    @object_button(label="Reject", summarize=reject_summary, form_class=FeedbackForm)
    def reject(self, request, assignment, data):
        feedback = data.get("feedback", "")
        _decide_each(
            self, request, Assignment.objects.filter(pk=assignment.pk), approve=False, feedback=feedback
        )
        return self._back_to_hit(assignment)

    @object_button(label="Save as data", summarize=save_as_data_summary)
    def save_as_data(self, request, assignment, data):
        try:
            services.assignment_save_as_data(assignment=assignment, by=request.user.get_username())
        except (services.ServiceError, PlatformError, ValueError) as error:
            self.message_user(request, str(error), messages.ERROR)
        else:
            self.message_user(request, f"Saved {assignment.worker}'s answer as the data.")
        return self._back_to_hit(assignment)


# --- Outsourcers and progress -------------------------------------------------------------------
@admin.register(Outsourcer)
class OutsourcerAdmin(HistoryAdmin, OwnedAdmin):
    list_display = ["target", "task_type", "experiment", "state", "answer_source", "created"]
    list_filter = ["active", "needs_review", "task_type", "created"]
    list_select_related = ["experiment"]
    search_fields = ["target"]
    show_full_result_count = False
    readonly_fields = [
        "owner", "account", "experiment", "target", "task_type", "task_config", "inputs", "active",
        "needs_review", "problem", "answer", "answer_source", "last_updated", "created",
    ]  # fmt: skip


@admin.register(Progress)
class ProgressAdmin(HistoryAdmin, OwnedAdmin):
    """Long admin work: done/total and errors; the page refreshes itself until the work is done."""

    list_display = ["description", "bar", "error_count", "started", "finished"]
    readonly_fields = ["description", "bar", "total", "done", "error_list", "started", "finished"]
    fields = readonly_fields
    change_form_template = "admin/hits/progress/change_form.html"

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="progress")
    def bar(self, progress: Progress) -> str:
        percent = 100 if not progress.total else round(100 * progress.done / progress.total)
        return format_html(
            '<div class="crowdhr-progress" title="{}%"><div style="width:{}%"></div></div> {}/{}',
            percent,
            percent,
            progress.done,
            progress.total,
        )

    @admin.display(description="errors")
    def error_count(self, progress: Progress) -> int:
        return len(progress.errors or [])

    @admin.display(description="errors")
    def error_list(self, progress: Progress) -> str:
        errors = progress.errors or []
        return format_html("<br>".join(["{}"] * len(errors)), *errors) if errors else "none"


# --- scheduled publishing (django-celery-beat) ---------------------------------------------------
class ScheduleForm(forms.Form):
    experiment = forms.ModelChoiceField(queryset=Outsourcer.objects.none())  # set by limit_to
    when = forms.DateTimeField(help_text="UTC, e.g. 2026-12-01 09:00.")
    repeat_every_hours = forms.IntegerField(
        min_value=1, max_value=24 * 30, required=False, help_text="Blank: publish once."
    )

    def limit_to(self, request: HttpRequest) -> None:
        from experiments.models import Experiment

        self.fields["experiment"].queryset = Experiment.objects.visible_to(request.user).order_by("name")


def schedule_summary(modeladmin, request, target, data: dict | None = None) -> Summary:
    if not data:
        return Summary(
            "Schedule publishing", 1, noun="schedule", lines=["Choose the Experiment and the time."]
        )
    from experiments.services import publish_cost

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
        warning="The cost shown is for each publish, MTurk's fees included, before any bonus.",
    )


class ScheduleViews:
    """The schedule page, served from the HIT admin's URLs (hits/hit/schedule/)."""

    def __init__(self, modeladmin: HITAdmin) -> None:
        self.modeladmin = modeladmin

    def page(self, request: HttpRequest) -> HttpResponse:
        from crowdhr.admin_tools import confirm_then_run

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
                    by=request.user,
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
        return TemplateResponse(request, "admin/hits/hit/schedule.html", context)

    def cancel(self, request: HttpRequest, task_id: str) -> HttpResponse:
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not self.modeladmin.has_change_permission(request):
            raise PermissionDeniedError
        task = publish_schedule_cancel(user=request.user, task_id=task_id)
        if task is None:
            raise Http404("No such schedule.")
        self.modeladmin.message_user(request, f"Cancelled: {task.name}.")
        return HttpResponseRedirect(admin_url(self.modeladmin, "schedule"))


def _superusers_only_beat_admin() -> None:
    """django-celery-beat's own pages show every researcher's tasks: superusers only."""
    from django_celery_beat import models as beat

    for model in [
        beat.PeriodicTask,
        beat.ClockedSchedule,
        beat.CrontabSchedule,
        beat.SolarSchedule,
        beat.IntervalSchedule,
    ]:
        if not admin.site.is_registered(model):
            continue
        original = type(admin.site.get_model_admin(model))

        class SuperusersOnly(original):  # type: ignore[valid-type, misc]
            def has_module_permission(self, request):
                return request.user.is_superuser and super().has_module_permission(request)

            def has_view_permission(self, request, obj=None):
                return request.user.is_superuser and super().has_view_permission(request, obj)

            def has_change_permission(self, request, obj=None):
                return request.user.is_superuser and super().has_change_permission(request, obj)

            def has_add_permission(self, request):
                return request.user.is_superuser and super().has_add_permission(request)

            def has_delete_permission(self, request, obj=None):
                return request.user.is_superuser and super().has_delete_permission(request, obj)

        admin.site.unregister(model)
        admin.site.register(model, SuperusersOnly)


_superusers_only_beat_admin()
