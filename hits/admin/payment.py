"""The payment ledger: every approval, rejection and bonus, with totals; failed payments retried."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import Count, F, QuerySet, Sum
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from crowdhr.admin_tools import (
    HistoryAdmin,
    OwnedAdmin,
    Summary,
    confirm_then_run,
    confirmed_action,
    report,
    researcher,
)
from hits import exports, payments, reconcile
from hits.models import Payment
from hits.selectors import MONEY


def retry_summary(modeladmin, request, rows: QuerySet[Payment]) -> Summary:
    failed = rows.filter(status=Payment.Status.FAILED)
    money = failed.aggregate(total=Sum(F("amount") + F("fee"), output_field=MONEY))["total"] or Decimal(
        "0.00"
    )
    return Summary(
        "Retry failed payments",
        failed.count(),
        noun="payment",
        lines=["Each is sent again with its own token, so nothing is paid twice."],
        money=money,
        refuse="" if failed.exists() else "None of the selected payments failed.",
    )


@confirmed_action(
    description="Retry selected failed payments", summarize=retry_summary, permissions=("retry",)
)
def retry_failed_payments(modeladmin, request, rows, data):
    done, errors = 0, []
    for payment in rows.filter(status=Payment.Status.FAILED).select_related(
        "account", "worker", "assignment"
    ):
        payment = payments.retry_failed(payment, by=request.user)
        if payment.status == Payment.Status.DONE:
            done += 1
        elif payment.status == Payment.Status.FAILED:
            errors.append(f"Payment {payment.pk}: {payment.error}")
    report(modeladmin, request, f"{done} payments done.", errors)


@admin.register(Payment)
class PaymentAdmin(HistoryAdmin, OwnedAdmin):
    list_display = [
        "created", "kind", "status_badge", "amount", "fee", "worker", "assignment", "experiment", "token",
        "triggered_by",
    ]  # fmt: skip
    list_filter = ["status", "kind", ("experiment", admin.RelatedOnlyFieldListFilter), "created"]
    list_select_related = ["worker", "assignment", "experiment"]
    search_fields = ["token", "worker__worker_id", "assignment__assignment_id"]
    show_full_result_count = False
    list_per_page = 100
    actions = [
        retry_failed_payments,
        exports.export_action("payments.csv", exports.payment_rows, "Download selected payments as CSV"),
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in Payment._meta.concrete_fields if f.name != "id"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # the ledger is written by payments only; the actions still run (view permission)

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("hits.change_payment")

    def get_urls(self):
        reconcile_page = path(
            "reconcile/", self.admin_site.admin_view(self.reconcile_view), name="hits_payment_reconcile"
        )
        return [reconcile_page, *super().get_urls()]

    def reconcile_view(self, request: HttpRequest) -> HttpResponse:
        """What a crash left unfinished in the researcher's own rows; the repair is a confirmed POST."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        user = researcher(request)
        owner = None if user.is_superuser else user
        url = reverse("admin:hits_payment_reconcile")
        if request.method == "POST":
            if not self.has_retry_permission(request):
                raise PermissionDenied
            found = reconcile.reconcile_report(owner)
            confirmed, page = confirm_then_run(
                request,
                self,
                target=found,
                summarize=lambda modeladmin, request, target: Summary(
                    "Repair",
                    target.count,
                    noun="unfinished item",
                    lines=[
                        "Owed follow-ups are run and pending ledger rows paid, each claimed first, "
                        "with its own token: nothing is paid or run twice.",
                        "Scores are sent to the platform and checked against what it shows.",
                        "Failed payments are not retried here (use the ledger's retry action).",
                    ],
                ),
                form_class=None,
                review_input=False,
                run=lambda data: reconcile.reconcile_repair(by=user, owner=owner),
                hidden=[],
                cancel_url=url,
                title="Repair",
            )
            if not confirmed:
                return page
            self.message_user(request, f"Repaired: {page}.")
            return HttpResponseRedirect(url)
        context = {
            **self.admin_site.each_context(request),
            "title": "Reconcile",
            "opts": self.model._meta,
            "report": reconcile.reconcile_report(owner),
            "can_repair": self.has_retry_permission(request),
        }
        return TemplateResponse(request, "admin/hits/payment/reconcile.html", context)

    @admin.display(description="status", ordering="status")
    def status_badge(self, payment: Payment) -> str:
        return format_html('<span class="payment-{}">{}</span>', payment.status, payment.get_status_display())

    def changelist_view(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        if not isinstance(response, TemplateResponse) or response.context_data is None:
            return response  # a redirect (after an action) has no page to add totals to
        changelist = response.context_data.get("cl")
        if changelist is not None:
            response.context_data["totals"] = (
                changelist.queryset.order_by()
                .values("experiment__name", "kind", "status")
                .annotate(count=Count("pk"), amount=Sum("amount"), fee=Sum("fee"))
                .order_by("experiment__name", "kind", "status")
            )
        return response
