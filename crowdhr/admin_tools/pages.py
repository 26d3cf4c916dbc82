"""Change lists that stay fast at 100,000 rows.

`PageAnnotationsAdmin` computes per-row figures (`annotate_page(queryset, request)`) only for the
page shown and counts at most 10,000 rows (`CappedCountPaginator`); `owned()` (in
`crowdhr.admin_tools.owned`) is the researcher scoping written so a database stops after one page.
`bench/admin_pages.py` measures all this at 100,000 rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar, cast

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.core.paginator import Paginator
from django.db import models
from django.db.models.constants import LOOKUP_SEP
from django.http import HttpRequest
from django.utils.functional import cached_property


class PageAnnotatedChangeList(ChangeList):
    """Computes `annotate_page` only for the rows of the page shown, after paginating plain rows.

    Databases evaluate per-row subqueries (money spent, assignments done) for every row they sort;
    annotating only the page's 100 ids keeps the work the same at 100 rows and at 100,000.
    """

    def get_results(self, request: HttpRequest) -> None:
        rows = self.queryset
        self.queryset = rows.select_related(None).only("pk")  # the page's ids; rows come next
        try:
            super().get_results(request)
        finally:
            self.queryset = rows
        ids = [row.pk for row in self.result_list]
        model_admin = cast("PageAnnotationsAdmin[Any]", self.model_admin)  # its get_changelist chose us
        annotated = model_admin.annotate_page(self.model._default_manager.filter(pk__in=ids), request)
        by_pk = {row.pk: row for row in annotated}
        self.result_list = [by_pk[pk] for pk in ids if pk in by_pk]
        attach_related(self.result_list, model_admin.page_related())


def attach_related(rows: Sequence[models.Model], paths: Iterable[str]) -> None:
    """Give each row its related objects along `paths` ("hit", "hit__outsourcer"), as
    `select_related` would, but read by key: one `pk IN (...)` query per relation.

    PostgreSQL joins a page's 100 rows to a related table of some thousands by hashing the whole
    table (it prices the 100 index reads above one scan), which costs more than the page itself.
    """
    if not rows:
        return
    branches: dict[str, list[str]] = {}
    for path in paths:
        name, _, rest = path.partition(LOOKUP_SEP)
        branches.setdefault(name, []).extend([rest] if rest else [])
    for name, deeper in branches.items():
        field = rows[0]._meta.get_field(name)
        assert isinstance(field, models.ForeignKey), f"{name} is not a foreign key"
        keys = {getattr(row, field.attname) for row in rows} - {None}
        related = field.related_model._base_manager.in_bulk(keys)
        for row in rows:
            field.set_cached_value(row, related.get(getattr(row, field.attname)))
        attach_related(list(related.values()), deeper)


class CappedCountPaginator(Paginator):
    """Counts at most `cap` + 1 rows: the change list says "more than 10,000" instead of counting
    100,000 rows on every page view (filters and search narrow it down)."""

    cap = 10_000

    @cached_property
    def count(self) -> int:
        rows = cast(models.QuerySet[Any], self.object_list)  # change lists paginate querysets
        return rows.order_by()[: self.cap + 1].count()  # any 10,001 rows will do: no sort to count them

    @property
    def capped(self) -> bool:
        return self.count > self.cap


_M = TypeVar("_M", bound=models.Model)


class PageAnnotationsAdmin(admin.ModelAdmin[_M]):
    """Use with `annotate_page(queryset, request)` returning the page's rows with computed columns.

    Its change list counts at most 10,000 rows (`CappedCountPaginator`); give the model a
    `pagination.html` that includes "admin/crowdhr/pagination.html" to say so.
    """

    paginator = CappedCountPaginator
    show_full_result_count = False

    def annotate_page(self, queryset: models.QuerySet[_M], request: HttpRequest) -> Iterable[_M]:
        """The page's rows (`queryset`: filtered to their ids) with their computed columns."""
        return queryset

    def page_related(self) -> list[str]:
        """The relations the page's rows are given after `annotate_page`: `list_select_related`."""
        related = self.list_select_related
        if related is True:
            return [f.name for f in self.model._meta.concrete_fields if f.many_to_one and not f.null]
        return list(related) if isinstance(related, (list, tuple)) else []

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return PageAnnotatedChangeList
