"""The researcher's admin for what is purely about workers: hard blocks and messages.

The Worker pages (with their record of assignments and payments) and the payment ledger are in
`hits.admin.worker` and `hits.admin.payment`: they are made of HITs, and workers knows nothing of HITs.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from crowdhr.admin_tools import HistoryAdmin, OwnedAdmin
from crowdhr.admin_tools.exports import CHUNK, export_action, field_rows
from workers.models import Block, Message

BLOCK_FIELDS = [
    "id", "worker__platform", "worker__worker_id", "kind", "account__name", "reason", "created_by__username",
    "created", "expires", "lifted", "platform_synced",
]  # fmt: skip


def message_rows(messages: QuerySet[Message]) -> Iterator[list[Any]]:
    """One row per message, its workers' ids in one cell separated by spaces."""
    yield ["id", "account", "subject", "body", "workers", "failed_worker_ids", "sent_by", "sent"]
    rows = messages.select_related("account", "sent_by").prefetch_related("workers").order_by("pk")
    for m in rows.iterator(chunk_size=CHUNK):
        workers = " ".join(w.worker_id for w in m.workers.all())
        sender, failed = m.sent_by.username if m.sent_by else "", " ".join(m.failed_worker_ids)
        yield [m.pk, m.account.name, m.subject, m.body, workers, failed, sender, m.sent]


@admin.register(Block)
class BlockAdmin(HistoryAdmin, OwnedAdmin):
    list_display = ["worker", "kind", "account", "reason", "created", "lifted"]
    list_filter = ["kind", "created"]
    list_select_related = ["worker", "account"]
    actions = [export_action("blocks.csv", field_rows(BLOCK_FIELDS), "Download selected blocks as CSV")]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Message)
class MessageAdmin(BlockAdmin):
    list_display = ["subject", "account", "sent", "sent_by"]
    list_filter = ["sent"]
    list_select_related = ["account", "sent_by"]
    actions = [export_action("messages.csv", message_rows, "Download selected messages as CSV")]
