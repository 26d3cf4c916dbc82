"""The researcher's admin for what is purely about workers: hard blocks and messages.

The Worker pages (with their record of assignments and payments) and the payment ledger are in
`hits.admin.worker` and `hits.admin.payment`: they are made of HITs, and workers knows nothing of HITs.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from crowdhr.admin_tools import HistoryAdmin, OwnedAdmin
from workers.models import Block, Message


@admin.register(Block)
class BlockAdmin(HistoryAdmin, OwnedAdmin):
    list_display = ["worker", "kind", "account", "reason", "created", "lifted"]
    list_filter = ["kind", "created"]
    list_select_related = ["worker", "account"]

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Message)
class MessageAdmin(BlockAdmin):
    list_display = ["subject", "account", "sent", "sent_by"]
    list_filter = ["sent"]
    list_select_related = ["account", "sent_by"]
