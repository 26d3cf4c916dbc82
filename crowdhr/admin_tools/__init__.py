"""Shared pieces of crowdhr's admin, one module per concern.

- `owned`: researchers see only their own rows (`OwnedAdmin`, `owned`, `HistoryAdmin`, `researcher`).
- `pages`: change lists that stay fast at 100,000 rows (`PageAnnotationsAdmin`).
- `confirm`: a confirmation page before anything that spends money (`confirmed_action`, `Summary`).
- `buttons`: buttons on the change form (`object_button`, `ObjectButtonsAdmin`).
- `runner`: ending an action with a count message, one row at a time (`for_each`, `report`).
- `audit`: the History page of an object is its audit trail (`AuditHistoryAdmin`).
- `urls`: `admin_url`.

Everything is re-exported here: `from crowdhr.admin_tools import OwnedAdmin`.
"""

from crowdhr.admin_tools.audit import AuditHistoryAdmin
from crowdhr.admin_tools.buttons import ObjectButton, ObjectButtonsAdmin, button_for_action, object_button
from crowdhr.admin_tools.confirm import (
    CONFIRMED,
    NonceForm,
    Summarize,
    Summary,
    confirm_then_run,
    confirmation_form,
    confirmed_action,
    is_confirming,
    render_confirmation,
)
from crowdhr.admin_tools.owned import (
    HistoryAdmin,
    OwnedAdmin,
    OwnerFilter,
    owned,
    owner_path_of,
    researcher,
    visible_rows,
)
from crowdhr.admin_tools.pages import CappedCountPaginator, PageAnnotatedChangeList, PageAnnotationsAdmin
from crowdhr.admin_tools.runner import for_each, report
from crowdhr.admin_tools.urls import admin_url

__all__ = [
    "CONFIRMED",
    "AuditHistoryAdmin",
    "CappedCountPaginator",
    "HistoryAdmin",
    "NonceForm",
    "ObjectButton",
    "ObjectButtonsAdmin",
    "OwnedAdmin",
    "OwnerFilter",
    "PageAnnotatedChangeList",
    "PageAnnotationsAdmin",
    "Summarize",
    "Summary",
    "admin_url",
    "button_for_action",
    "confirm_then_run",
    "confirmation_form",
    "confirmed_action",
    "for_each",
    "is_confirming",
    "object_button",
    "owned",
    "owner_path_of",
    "render_confirmation",
    "report",
    "researcher",
    "visible_rows",
]
