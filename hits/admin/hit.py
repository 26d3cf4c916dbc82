"""HITs: the change list, its actions and buttons, and the page of one HIT's assignments."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
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
)
from hits import exports, services
from hits.admin.assignment import SAVE_AS_DATA_HELP, AssignmentAdmin
from hits.admin.filters import HITExperimentFilter
from hits.admin.forms import FeedbackForm, InputDataForm, ProblemForm
from hits.admin.statistics import statistics_page
from hits.admin.work import operate
from hits.models import HIT, Assignment, Outsourcer
from hits.review.decide import consensus_groups
from hits.selectors import (
    hit_worker_site_url,
    hits_with_progress,
    rejection_effect,
    undecided_cost,
    undecided_count,
)
from hits.task_types import get_task_type
from platforms import Capability, fees_for
from platforms.admin import REFUSALS, CapabilityGatedAdmin, environment_badge


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
        fees = fees_for(outsourcer.account)
        # as outsourcer_reopen does: the HIT grows unless that would pass the platform's micro-batch limit
        limit = fees.micro_batch_limit
        size = hit.max_assignments + extra if limit is None or hit.max_assignments + extra <= limit else extra
        money += fees.assignment_cost(hit.reward, size) * extra
        count += 1
        lines.append(f"{outsourcer}: {extra} more assignment(s) at ${hit.reward} each")
    full = [str(o.experiment) for o in _outsourcers(target).filter(active=True) if _study_is_full(o)]
    warning = (
        f"No places left in the oTree session of {', '.join(full)}: workers of new assignments cannot "
        "take part. Add participants to the study instead (it needs an oTree session with free places)."
        if full
        else ""
    )
    return Summary("Reopen HITs", count, lines=lines[:50], money=money, warning=warning)


def _study_is_full(outsourcer: Outsourcer) -> bool:
    """An oTree study whose session has given every place away."""
    study = outsourcer.experiment
    if study is None or not study.is_otree:
        return False
    return study.participants.count() >= (study.num_participants or 0)


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
    effect = rejection_effect(Assignment.objects.filter(hit__in=_hits(target)))
    return Summary(
        "Reject all assignments",
        undecided_count(_hits(target)),
        noun="assignment",
        lines=[
            "Every undecided submitted assignment is rejected; the workers read your feedback.",
            *effect.lines,
        ],
        warning=effect.warning,
        money=effect.money,
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


def _action(operation: str, description: str, summarize, form_class=None):
    @confirmed_action(description=description, summarize=summarize, form_class=form_class)
    def run(modeladmin, request, queryset, data):
        return operate(modeladmin, request, operation, list(queryset.values_list("pk", flat=True)), data)

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
class HITAdmin(CapabilityGatedAdmin, HistoryAdmin, PageAnnotationsAdmin, ObjectButtonsAdmin, OwnedAdmin):
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
        HITExperimentFilter,
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
        (
            "Basics",
            {
                "fields": [
                    "hit_id",
                    "links",
                    "where",
                    "status",
                    "active",
                    "needs_review",
                    "agreed_answer",
                    "comments",
                ]
            },
        ),
        ("HIT Utils", {"fields": ["assignments_required", "agreements_required", "num_new_assignments"]}),
        ("HIT Stats", {"fields": ["last_reopen_time", "last_updated", "create_date", "modify_date"]}),
    ]
    readonly_fields = [
        "hit_id",
        "links",
        "agreed_answer",
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
    capability_needs = {
        "reopen_hits": Capability.REOPEN,
        "reopen_button": Capability.REOPEN,
        "unexpire_hits": Capability.RESUME,
        "unexpire_button": Capability.RESUME,
    }

    def get_object_buttons(self, request: HttpRequest, obj: HIT) -> list[Any]:
        """Only the buttons that can do something now: a deactivated Outsourcer's HIT is history."""
        outsourcer = obj.outsourcer
        hidden = {"expire_button" if obj.expired else "unexpire_button"}
        hidden.add("unflag_button" if not outsourcer.needs_review else "flag_button")
        if not outsourcer.active:
            hidden |= {"reopen_button", "expire_button", "unexpire_button", "flag_button", "unflag_button"}
            hidden |= {"input_data", "delete_button"}
        return [b for b in super().get_object_buttons(request, obj) if b.name not in hidden]

    @admin.display(description="agreed answer")
    def agreed_answer(self, hit: HIT) -> str:
        outsourcer = hit.outsourcer
        if not isinstance(outsourcer.answer, dict):
            return "none yet" if outsourcer.active else "none (closed without an answer)"
        try:
            answer = get_task_type(outsourcer.task_type, outsourcer.task_config).describe_answer(
                outsourcer.answer
            )
        except ValueError:
            answer = str(outsourcer.answer)
        source = f" ({outsourcer.answer_source})" if outsourcer.answer_source else ""
        return f"{answer or '(empty)'}{source}"

    def platform_of(self, hit: HIT) -> str:
        return hit.outsourcer.account.platform

    def audited_objects(self, hit: HIT) -> list[Any]:
        return [hit, hit.outsourcer]  # HIT actions act on (and record) the Outsourcer

    def annotate_page(self, queryset: QuerySet[HIT], request: HttpRequest) -> QuerySet[HIT]:
        return hits_with_progress(queryset.defer("question", "description", "qualification_requirements"))

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
            services.outsourcer_input_data(outsourcer=hit.outsourcer, answer=data["answer"], by=request.user)
        except REFUSALS as error:
            self.message_user(request, str(error), messages.ERROR)
            return None
        self.message_user(request, f"Saved the answer for {hit.outsourcer}.")
        return None

    # --- pages ---
    @admin.action(description="Response-time statistics of selected HITs", permissions=("view",))
    def response_time_statistics(self, request, queryset):
        return self.statistics_page(request, queryset)

    def statistics_page(self, request: HttpRequest, hits: QuerySet[HIT]) -> TemplateResponse:
        return statistics_page(self, request, hits)

    def get_urls(self):
        info = self.model._meta.app_label, self.model._meta.model_name
        pages = [
            path(
                "<path:object_id>/assignments/",
                self.admin_site.admin_view(self.assignments_view),
                name="{}_{}_assignments".format(*info),
            )
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
        # completion task types (oTree studies) decide each assignment alone: no groups to show
        groups = [
            (task.describe_answer(group.representative) or "(empty)", group.size)
            for group in (consensus_groups(outsourcer) if task.decides_by == "consensus" else [])
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
            "save_as_data_help": SAVE_AS_DATA_HELP,
        }
        return TemplateResponse(request, "admin/hits/hit/assignments.html", context)
