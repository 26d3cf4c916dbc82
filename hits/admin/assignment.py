"""Assignments: approve, reject, save as data, one at a time or selected."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import admin, messages
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import reverse

from crowdhr.admin_tools import (
    HistoryAdmin,
    ObjectButtonsAdmin,
    OwnedAdmin,
    PageAnnotationsAdmin,
    Summary,
    confirmed_action,
    object_button,
    report,
)
from crowdhr.rows import run_each
from hits import bulk, exports, services
from hits.admin.filters import AssignmentExperimentFilter
from hits.admin.forms import FeedbackForm, feedback_of
from hits.admin.work import start
from hits.models import Assignment, AssignmentQuerySet
from hits.selectors import rejection_effect
from platforms import fees_for
from platforms.admin import REFUSALS
from platforms.fees import percent

#: why an answer cannot be saved as the data: a refusal, a platform error, or an answer that does not fit
NOT_SAVED: tuple[type[Exception], ...] = (*REFUSALS, ValueError)


# --- assignments --------------------------------------------------------------------------------
def approve_summary(modeladmin, request, target) -> Summary:
    assignments = (
        target if isinstance(target, AssignmentQuerySet) else Assignment.objects.filter(pk=target.pk)
    )
    undecided = assignments.undecided().select_related("hit__outsourcer__account")
    money, fee_lines = Decimal("0.00"), set()
    for a in undecided:
        account = a.hit.outsourcer.account
        fees, size = fees_for(account), a.hit.max_assignments or a.hit.assignments_required
        money += fees.assignment_cost(a.hit.reward, size)
        fee_lines.add(f"{account.platform_type.label}'s fee: {percent(fees.commission_rate(size))}")
    return Summary(
        "Approve assignments",
        len(undecided),
        noun="assignment",
        lines=["The workers are paid the reward.", *sorted(fee_lines)],
        money=money,
        refuse="" if undecided else "Nothing to approve: the selected assignments are decided already.",
    )


def reject_summary(modeladmin, request, target) -> Summary:
    assignments = (
        target if isinstance(target, AssignmentQuerySet) else Assignment.objects.filter(pk=target.pk)
    )
    count = assignments.undecided().count()
    effect = rejection_effect(assignments)
    return Summary(
        "Reject assignments",
        count,
        noun="assignment",
        lines=["The workers read your feedback.", *effect.lines],
        warning=effect.warning,
        money=effect.money,
        refuse="" if count else "Nothing to reject: the selected assignments are decided already.",
    )


def save_as_data_summary(modeladmin, request, assignment) -> Summary:
    return Summary(
        "Save as data",
        1,
        noun="answer",
        lines=[
            f"{assignment.worker}'s answer becomes the data of {assignment.hit.outsourcer}, "
            "which is then deactivated; other answers are judged against it.",
            SAVE_AS_DATA_HELP,
        ],
    )


#: what "Save as data" means, on its button and its confirmation page
SAVE_AS_DATA_HELP = (
    "Save as data: you judge this answer right. It becomes the item's agreed answer (the data in the "
    "results, instead of waiting for workers to agree), the item takes no more work, and review "
    "approves the submitted answers that agree with it and rejects the others. It pays nothing by itself."
)


def _decide_each(modeladmin, request, assignments, *, approve: bool, feedback: str = "") -> None:
    decide = services.assignment_approve if approve else services.assignment_reject
    outcome = run_each(
        assignments.undecided().select_related("hit__outsourcer", "worker"),
        lambda assignment: decide(assignment=assignment, feedback=feedback, by=request.user),
        refusals=REFUSALS,
    )
    failed = [str(a) for a in assignments.exclude(problem="").filter(decision=Assignment.Decision.UNDECIDED)]
    errors = outcome.errors + [f"{name}: the platform refused it (see its problem)" for name in failed]
    report(modeladmin, request, f"{outcome.changed} {'approved' if approve else 'rejected'}.", errors)


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
    list_filter = [AssignmentExperimentFilter, "decision", "platform_status", "confused", "submit_time"]
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
            return start(self, request, operation, ids, data, f"{len(ids)} assignments", True)
        _decide_each(self, request, queryset, approve=operation == "approve_assignments", **feedback_of(data))
        return None

    def _back_to_hit(self, assignment: Assignment) -> HttpResponse:
        return HttpResponseRedirect(
            reverse(f"{self.admin_site.name}:hits_hit_assignments", args=[assignment.hit_id])
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
            services.assignment_save_as_data(assignment=assignment, by=request.user)
        except NOT_SAVED as error:
            self.message_user(request, str(error), messages.ERROR)
        else:
            self.message_user(request, f"Saved {assignment.worker}'s answer as the data.")
        return self._back_to_hit(assignment)
