"""Workers as a researcher sees them: only those who did their assignments, with approvals and
rejections counted, and ban, block, bonus and message actions.

Lives in the hits app because a worker's record here is made of HITs, assignments and the payment
ledger; `workers` itself knows nothing of HITs. The templates stay keyed on the model
(`admin/workers/worker/`). Bonuses go through the ledger (`hits.services.worker_bonus`).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import Count, Q, QuerySet
from django.http import HttpRequest
from django.utils.translation import ngettext

from crowdhr.admin_tools import (
    HistoryAdmin,
    ObjectButton,
    ObjectButtonsAdmin,
    PageAnnotationsAdmin,
    Summary,
    button_for_action,
    confirmed_action,
    for_each,
    owned,
    report,
)
from hits import exports
from hits import services as hit_services
from hits.models import Assignment, Payment
from platforms import Capability, fees_for
from platforms.admin import REFUSALS, CapabilityGatedAdmin
from platforms.fees import percent
from platforms.models import PlatformAccount
from workers import scoring, services
from workers.models import Achievement, Block, Worker, WorkerQualification

HARD_BLOCK_WARNING = (
    "A hard block counts against the worker's MTurk account: several blocks can get them suspended "
    "from MTurk altogether. Prefer a ban (Quality Score 0), which only keeps them off your HITs."
)


# --- forms of the confirmation pages ------------------------------------------------------------
class AccountForm(forms.Form):
    account = forms.ModelChoiceField(queryset=PlatformAccount.objects.none(), help_text="On which account.")

    def limit_to(self, request: HttpRequest) -> None:
        accounts = PlatformAccount.objects.visible_to(request.user).order_by("name")
        field = self.fields["account"]
        assert isinstance(field, forms.ModelChoiceField)  # declared above
        field.queryset = accounts
        if len(accounts) == 1:
            self.fields["account"].initial = accounts[0].pk


class ReasonForm(AccountForm):
    reason = forms.CharField(max_length=1024, widget=forms.Textarea(attrs={"rows": 2}))


def selected_worker_ids(request: HttpRequest) -> list[str]:
    """The workers a confirmation page acts on: the change list's selection, or the page's worker."""
    selected = request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
    if selected:
        return selected
    match = request.resolver_match
    object_id = match.kwargs.get("object_id") if match else None
    return [object_id] if object_id else []


class AssignmentChoiceField(forms.ModelChoiceField):
    """An assignment by what the researcher recognises: its HIT's title, account and time."""

    def label_from_instance(self, obj: Any) -> str:
        hit = obj.hit
        when = f", submitted {obj.submit_time:%Y-%m-%d %H:%M}" if obj.submit_time else ""
        return f"{obj.worker}: {hit.title or hit.hit_id} on {hit.outsourcer.account}{when}"


class BonusForm(AccountForm):
    assignment = AssignmentChoiceField(
        queryset=Assignment.objects.none(),
        required=False,
        help_text="The assignment the bonus is for (the worker sees its HIT with the bonus). "
        "Blank: each worker's latest assignment on the account.",
    )
    amount = forms.DecimalField(min_value=Decimal("0.01"), max_value=Decimal("100.00"), decimal_places=2)
    reason = forms.CharField(
        max_length=1024, widget=forms.Textarea(attrs={"rows": 2}), help_text="The worker reads it."
    )

    def limit_to(self, request: HttpRequest) -> None:
        super().limit_to(request)
        field = self.fields["assignment"]
        assert isinstance(field, forms.ModelChoiceField)  # declared above
        field.queryset = (
            Assignment.objects.visible_to(request.user)
            .filter(worker__pk__in=[pk for pk in selected_worker_ids(request) if str(pk).isdigit()])
            .select_related("hit__outsourcer__account", "worker")
            .order_by("-submit_time", "-pk")
        )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        chosen, account = data.get("assignment"), data.get("account")
        if chosen is not None and account is not None and chosen.hit.outsourcer.account_id != account.pk:
            self.add_error("assignment", f"That assignment was not done on {account}.")
        return data


class MessageForm(AccountForm):
    subject = forms.CharField(max_length=services.MESSAGE_SUBJECT_LIMIT)
    body = forms.CharField(max_length=services.MESSAGE_BODY_LIMIT, widget=forms.Textarea(attrs={"rows": 6}))


# --- what each action will do --------------------------------------------------------------------
def _summary(title: str, *lines: str, warning: str = ""):
    def summarize(modeladmin, request, workers: QuerySet[Worker], data: dict | None = None) -> Summary:
        return Summary(title, workers.count(), noun="worker", lines=list(lines), warning=warning)

    return summarize


def bonus_summary(modeladmin, request, workers: QuerySet[Worker], data: dict | None = None) -> Summary:
    count = workers.count()
    if not data:
        return Summary("Send a bonus", count, noun="worker", lines=["Next: check the amount and the cost."])
    amount, account = data["amount"], data["account"]
    fees = fees_for(account)
    return Summary(
        "Send a bonus",
        count,
        noun="worker",
        lines=[
            f"${amount} each from {account}: “{data['reason']}”",
            f"{account.platform_type.label}'s fee: {percent(fees.bonus_rate)}, ${fees.bonus_fee(amount)} each",
        ],
        money=(amount + fees.bonus_fee(amount)) * count,
    )


def message_summary(modeladmin, request, workers: QuerySet[Worker], data: dict | None = None) -> Summary:
    count = workers.count()
    calls = -(-count // services.MESSAGE_WORKERS_PER_CALL)
    return Summary(
        "Send a message",
        count,
        noun="worker",
        lines=[f"Sent by MTurk in {calls} call(s) of at most {services.MESSAGE_WORKERS_PER_CALL} workers."],
    )


def _each(modeladmin, request, workers, verb: str | tuple[str, str], do) -> None:
    for_each(
        modeladmin,
        request,
        workers,
        verb,
        do,
        (*REFUSALS, ValueError),
    )


@confirmed_action(
    description="Ban selected workers (Quality Score 0)",
    summarize=_summary(
        "Ban workers", "Their Quality Score on the account becomes 0: they cannot take your HITs."
    ),
    form_class=ReasonForm,
)
def ban_workers(modeladmin, request, workers, data):
    _each(
        modeladmin,
        request,
        workers,
        "banned",
        lambda w: scoring.ban_worker(data["account"], w, reason=data["reason"], by=request.user),
    )


@confirmed_action(
    description="Unban selected workers",
    summarize=_summary("Unban workers", "They get back the Quality Score they had before the ban."),
    form_class=AccountForm,
)
def unban_workers(modeladmin, request, workers, data):
    _each(
        modeladmin,
        request,
        workers,
        "unbanned",
        lambda w: scoring.unban_worker(data["account"], w, by=request.user) or 1,
    )


@confirmed_action(
    description="Hard block selected workers on MTurk",
    summarize=_summary(
        "Hard block workers", "MTurk blocks them from all your HITs.", warning=HARD_BLOCK_WARNING
    ),
    form_class=ReasonForm,
)
def hard_block_workers(modeladmin, request, workers, data):
    _each(
        modeladmin,
        request,
        workers,
        "blocked",
        lambda w: services.worker_hard_block(
            account=data["account"], worker=w, reason=data["reason"], by=request.user
        ),
    )


@confirmed_action(
    description="Unblock selected workers on MTurk",
    summarize=_summary("Unblock workers", "Their hard blocks on the account are lifted."),
    form_class=AccountForm,
)
def unblock_workers(modeladmin, request, workers, data):
    _each(
        modeladmin,
        request,
        workers,
        "unblocked",
        lambda w: services.worker_unblock(account=data["account"], worker=w, by=request.user),
    )


@confirmed_action(
    description="Send a bonus to selected workers",
    summarize=bonus_summary,
    form_class=BonusForm,
    review_input=True,
)
def send_bonus(modeladmin, request, workers, data):
    key = f"admin:{data['nonce']}"  # the same page submitted twice pays once
    sent = hit_services.worker_bonuses_sent(key=key, workers=workers)
    if sent:
        count = len(sent)
        modeladmin.message_user(
            request,
            ngettext(
                "Bonus already sent to %(n)d worker: this confirmation was submitted before, nothing "
                "was paid twice.",
                "Bonuses already sent to %(n)d workers: this confirmation was submitted before, nothing "
                "was paid twice.",
                count,
            )
            % {"n": count},
            messages.WARNING,
        )
        workers = workers.exclude(pk__in=sent)
        if not workers.exists():
            return

    def pay(worker: Worker) -> bool:
        payment = hit_services.worker_bonus(
            account=data["account"],
            worker=worker,
            amount=data["amount"],
            reason=data["reason"],
            key=key,
            by=request.user,
            assignment=data.get("assignment"),
        )
        if payment.status == Payment.Status.FAILED:
            raise services.WorkerServiceError(payment.error)
        return True

    _each(modeladmin, request, workers, ("bonus sent", "bonuses sent"), pay)


@confirmed_action(
    description="Send a message to selected workers", summarize=message_summary, form_class=MessageForm
)
def send_message(modeladmin, request, workers, data):
    try:
        sent = services.workers_message(
            account=data["account"],
            workers=list(workers),
            subject=data["subject"],
            body=data["body"],
            by=request.user,
        )
    except REFUSALS as error:
        report(modeladmin, request, "0 messages sent.", [str(error)])
        return
    failed = [worker_id for message in sent for worker_id in message.failed_worker_ids]
    reached = workers.count() - len(failed)
    report(
        modeladmin,
        request,
        ngettext("Message sent to %(n)d worker.", "Message sent to %(n)d workers.", reached) % {"n": reached},
        [f"Could not reach {', '.join(failed)}"] if failed else [],
    )


# --- workers --------------------------------------------------------------------------------------
@admin.register(Worker)
class WorkerAdmin(
    CapabilityGatedAdmin, HistoryAdmin, PageAnnotationsAdmin, ObjectButtonsAdmin, admin.ModelAdmin
):
    list_display = ["worker_id", "platform", "assignments_done", "approvals", "rejections", "first_seen"]
    list_filter = ["first_seen"]
    search_fields = ["worker_id"]
    readonly_fields = ["worker_id", "platform", "first_seen"]
    show_full_result_count = False
    ordering = ["-pk"]
    list_per_page = 100
    change_form_template = "admin/workers/worker/change_form.html"
    actions = [
        ban_workers,
        unban_workers,
        hard_block_workers,
        unblock_workers,
        send_bonus,
        send_message,
        "export_csv",
    ]
    object_buttons = ["ban", "unban", "hard_block", "unblock", "bonus", "message"]
    ban = button_for_action(ban_workers, name="ban", label="Ban")
    unban = button_for_action(unban_workers, name="unban", label="Unban")
    hard_block = button_for_action(hard_block_workers, name="hard_block", label="Hard block")
    unblock = button_for_action(unblock_workers, name="unblock", label="Unblock")
    bonus = button_for_action(send_bonus, name="bonus", label="Send bonus")
    message = button_for_action(send_message, name="message", label="Send message")
    capability_needs = {
        **dict.fromkeys(["ban_workers", "unban_workers", "ban", "unban"], Capability.QUALIFICATIONS),
        **dict.fromkeys(
            ["hard_block_workers", "unblock_workers", "hard_block", "unblock"], Capability.HARD_BLOCKS
        ),
        **dict.fromkeys(["send_bonus", "bonus"], Capability.BONUSES),
        **dict.fromkeys(["send_message", "message"], Capability.MESSAGES),
    }

    def platform_of(self, worker: Worker) -> str:
        return worker.platform

    def get_object_buttons(self, request: HttpRequest, obj: Worker) -> list[ObjectButton]:
        """Ban or Unban (Hard block or Unblock) as the worker stands on the researcher's accounts of
        their platform: a button shows only where some account has something for it to do."""
        accounts = PlatformAccount.objects.visible_to(request.user).filter(platform=obj.platform)
        held = set(
            Block.objects.filter(account__in=accounts, worker=obj, lifted__isnull=True).values_list(
                "account_id", "kind"
            )
        )
        shown = {}
        for kind, (on, off) in {
            Block.Kind.BAN: ("ban", "unban"),
            Block.Kind.HARD_BLOCK: ("hard_block", "unblock"),
        }.items():
            blocked_on = {pk for pk, k in held if k == kind}
            shown[on] = len(blocked_on) < accounts.count()
            shown[off] = bool(blocked_on)
        return [b for b in super().get_object_buttons(request, obj) if shown.get(b.name, True)]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Worker]:
        """Only workers who worked on the researcher's HITs, with counts of that work."""
        workers = super().get_queryset(request)
        if request.user.is_superuser:
            return workers
        return workers.filter(owners__owner=request.user)  # WorkerOwner: unique per worker and owner

    def annotate_page(self, queryset: QuerySet[Worker], request: HttpRequest) -> list[Worker]:
        """The page's workers with counts of the viewer's own assignments (one grouped query)."""
        workers = list(queryset)
        counts: dict[int, dict[str, int]] = {w.pk: {} for w in workers}
        rows = (
            owned(Assignment.objects.filter(worker_id__in=list(counts)), request.user)
            .values_list("worker_id", "decision")
            .annotate(n=Count("pk"))
            .order_by()
        )
        for worker_id, decision, n in rows:
            counts[worker_id][decision] = n
        for worker in workers:
            mine = counts[worker.pk]
            vars(worker).update(  # figures of this page only, read by the columns below
                assignments_done=sum(mine.values()),
                approvals=mine.get(Assignment.Decision.APPROVED, 0),
                rejections=mine.get(Assignment.Decision.REJECTED, 0),
            )
        return workers

    def is_visible(self, request: HttpRequest, obj: Any) -> bool:
        return obj is None or self.get_queryset(request).filter(pk=obj.pk).exists()

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_view_permission(request, obj) and self.is_visible(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return super().has_change_permission(request, obj) and self.is_visible(request, obj)

    @admin.action(description="Download selected workers as CSV", permissions=("view",))
    def export_csv(self, request: HttpRequest, queryset: QuerySet[Worker]):
        ids = list(queryset.order_by("pk").values_list("pk", flat=True))

        def annotated() -> Iterator[Worker]:
            for start in range(0, len(ids), exports.CHUNK):
                chunk = Worker.objects.filter(pk__in=ids[start : start + exports.CHUNK]).order_by("pk")
                yield from self.annotate_page(chunk, request)

        return exports.csv_response("workers.csv", exports.worker_rows(annotated()))

    @admin.display()
    def assignments_done(self, worker: Worker) -> int:
        return getattr(worker, "assignments_done", 0)

    @admin.display()
    def approvals(self, worker: Worker) -> int:
        return getattr(worker, "approvals", 0)

    @admin.display()
    def rejections(self, worker: Worker) -> int:
        return getattr(worker, "rejections", 0)

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context=None):
        worker = self.get_queryset(request).filter(pk=object_id).first() if object_id.isdigit() else None
        extra = {**(extra_context or {}), "record": worker_record(request.user, worker) if worker else []}
        return super().change_view(request, object_id, form_url, extra)


def worker_record(user, worker: Worker) -> list[dict[str, Any]]:
    """Per platform account of the researcher: scores with history, achievements, money, blocks."""
    accounts = PlatformAccount.objects.visible_to(user).filter(
        Q(worker_qualifications__worker=worker) | Q(payments__worker=worker) | Q(blocks__worker=worker)
    )
    record = []
    for account in accounts.distinct().order_by("name"):
        scores = WorkerQualification.objects.filter(account=account, worker=worker).order_by("qualification")
        ledger = Payment.objects.filter(account=account, worker=worker)
        record.append(
            {
                "account": account,
                "scores": [(score, list(score.history.all()[:10])) for score in scores],
                "achievements": Achievement.objects.filter(account=account, worker=worker).order_by("at"),
                "approvals": ledger.filter(kind=Payment.Kind.APPROVAL).count(),
                "rejections": ledger.filter(kind=Payment.Kind.REJECTION).count(),
                "bonuses": ledger.filter(kind=Payment.Kind.BONUS).order_by("-created"),
                "blocks": Block.objects.filter(account=account, worker=worker),
            }
        )
    return record
