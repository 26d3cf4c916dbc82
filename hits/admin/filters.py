"""Change list filters shared by the HIT, assignment and Outsourcer pages."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from hits.models import Outsourcer


class ExperimentFilter(admin.SimpleListFilter):
    """Rows of one of the researcher's Experiments (`?experiment=<id>`; the Experiment page links here).

    `path` is the lookup from the filtered model to the Experiment. The Experiment model is reached
    through the Outsourcer's foreign key, since hits does not import experiments.
    """

    title = "experiment"
    parameter_name = "experiment"
    path = "outsourcer__experiment"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin[Any]) -> list[tuple[str, str]]:
        experiments: Any = Outsourcer._meta.get_field("experiment").related_model._default_manager.all()
        mine = experiments.visible_to(request.user)
        owner = request.GET.get("owner", "")  # a superuser looking at one researcher's rows
        if owner.isdigit():
            mine = mine.filter(owner_id=int(owner))
        mine = mine.order_by("-pk")[:50]
        return [(str(e.pk), str(e)) for e in mine]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        if not value or not value.isdigit():
            return queryset
        return queryset.filter(**{f"{self.path}_id": int(value)})


class HITExperimentFilter(ExperimentFilter):
    path = "outsourcer__experiment"


class AssignmentExperimentFilter(ExperimentFilter):
    path = "hit__outsourcer__experiment"


class OutsourcerExperimentFilter(ExperimentFilter):
    path = "experiment"
