"""Change lists that stay fast at 100,000 rows.

`PageAnnotationsAdmin` computes per-row figures (`annotate_page(queryset, request)`) only for the
page shown and counts at most 10,000 rows (`CappedCountPaginator`); `owned()` (in
`crowdhr.admin_tools.owned`) is the researcher scoping written so a database stops after one page.
`bench/admin_pages.py` measures all this at 100,000 rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeVar, cast

from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.core.paginator import Paginator
from django.db import models
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


class CappedCountPaginator(Paginator):
    """Counts at most `cap` + 1 rows: the change list says "more than 10,000" instead of counting
    100,000 rows on every page view (filters and search narrow it down)."""

    cap = 10_000

    @cached_property
    def count(self) -> int:
        rows = cast(models.QuerySet[Any], self.object_list)  # change lists paginate querysets
        return rows[: self.cap + 1].count()

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
        return self.select_page_related(queryset)

    def select_page_related(self, queryset: models.QuerySet[_M]) -> models.QuerySet[_M]:
        """The page's rows with `list_select_related` (the plain page query left it out)."""
        related = self.list_select_related
        if isinstance(related, (list, tuple)) and related:
            return queryset.select_related(*related)
        return queryset.select_related() if related is True else queryset

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return PageAnnotatedChangeList
