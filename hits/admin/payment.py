"""The payment ledger: every approval, rejection and bonus, with totals; failed payments retried."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib import admin
from django.db.models import Count, F, QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.html import format_html

from crowdhr.admin_tools import (
    HistoryAdmin,
    OwnedAdmin,
    Summary,
    confirmed_action,
    report,
)
from hits import exports, payments
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
