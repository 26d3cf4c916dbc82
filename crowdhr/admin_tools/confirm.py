"""A confirmation page before anything that spends money or changes a platform.

`summarize(modeladmin, request, target)` returns a `Summary` (what will happen: how many HITs,
how much money including MTurk's fees). A form class may define `limit_to(request)` to narrow its
choices to the researcher's own rows. The first POST (from the change list's action menu or
the button) shows that summary with a CSRF-protected form; only the second POST, carrying
``confirmed=yes`` and valid extra fields (`form_class`), does the work. Changelist actions use
`confirmed_action` the same way; the decorated function gets the scoped, selected queryset::

    @confirmed_action(description="Expire selected HITs", summarize=expire_summary)
    def expire(modeladmin, request, queryset, data): ...

`data` is the cleaned data of `form_class` (an empty dict without one). Every form a summary
page renders carries a `nonce` field: a fresh random value per confirmation page, so a double
click submits the same nonce twice and money paths can derive their idempotency key from it.
With `review_input=True` the typed values (a bonus amount) are shown back once more with
`summarize(modeladmin, request, target, data)` (the money they cost) before the work is done.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import wraps
from typing import Any, Protocol, cast

from django import forms
from django.contrib import admin
from django.contrib.admin import helpers
from django.db import models
from django.http import HttpRequest
from django.template.response import TemplateResponse

from crowdhr.admin_tools.fields import preselect_single_choices
from crowdhr.admin_tools.urls import admin_url

CONFIRMED = "confirmed"


@dataclass
class Summary:
    """What a confirmed operation will do, in the researcher's words, shown before it happens."""

    title: str
    count: int
    noun: str = "HIT"
    lines: list[str] = field(default_factory=list)
    money: Decimal | None = None  # what it costs, fees included
    warning: str = ""
    refuse: str = ""  # non-empty: nothing can be done, the page says why and offers no button

    @property
    def counted(self) -> str:
        return f"{self.count} {plural(self.noun, self.count)}"


def plural(noun: str, count: int) -> str:
    """The noun for `count` things: "1 bonus", "0 bonuses", "2 studies", "3 HITs"."""
    if count == 1:
        return noun
    if noun.endswith(("s", "x", "ch", "sh")):
        return noun + "es"
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return noun[:-1] + "ies"
    return noun + "s"


#: `summarize(modeladmin, request, target)`, or with `review_input` also `(..., data)`: what will happen
Summarize = Callable[..., Summary]
Confirmation = tuple[Summarize, "type[forms.Form] | None", bool, Callable[..., Any]]


class ConfirmedAction(Protocol):
    """A changelist action made by `confirmed_action`; `confirmation` lets a button reuse it."""

    __name__: str
    confirmation: Confirmation

    def __call__(self, modeladmin: Any, request: HttpRequest, queryset: models.QuerySet[Any]) -> Any: ...


class NonceForm(forms.Form):
    """The base of every confirmation form: a random nonce that is the same for a double click."""

    nonce = forms.CharField(widget=forms.HiddenInput, max_length=64)


def confirmation_form(form_class: type[forms.Form] | None, request: HttpRequest) -> forms.Form:
    """The form of a confirmation page, bound on the confirming POST, fresh (new nonce) otherwise."""
    cls: type[forms.Form] = type("ConfirmationForm", (NonceForm, form_class), {}) if form_class else NonceForm
    if is_confirming(request):
        form = cls(request.POST)
    else:
        # Fields typed before the confirmation (a feedback box in a table row) are carried over.
        carried = {
            name: request.POST[name] for name in cls.base_fields if name in request.POST and name != "nonce"
        }
        form = cls(initial={**carried, "nonce": secrets.token_urlsafe(16)})
    if hasattr(form, "limit_to"):
        form.limit_to(request)  # e.g. choices of the researcher's own platform accounts
    preselect_single_choices(form)  # the researcher's one account is chosen already
    return form


def is_confirming(request: HttpRequest) -> bool:
    return request.method == "POST" and request.POST.get(CONFIRMED) == "yes"


def render_confirmation(
    request: HttpRequest,
    modeladmin: admin.ModelAdmin[Any],
    *,
    summary: Summary,
    form: forms.Form | None,
    hidden: Iterable[tuple[str, str]],
    action_url: str,
    cancel_url: str,
) -> TemplateResponse:
    """The page that says what will happen, with a form posting `hidden` + `confirmed=yes` back."""
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": summary.title,
        "summary": summary,
        "form": form,
        "hidden": list(hidden),
        "action_url": action_url,
        "cancel_url": cancel_url,
        "opts": modeladmin.model._meta,
    }
    return TemplateResponse(request, "admin/crowdhr/confirm.html", context)


def confirm_then_run(
    request: HttpRequest,
    modeladmin: admin.ModelAdmin[Any],
    *,
    target: Any,
    summarize: Summarize | None,
    form_class: type[forms.Form] | None,
    review_input: bool,
    run: Callable[[dict[str, Any]], Any],
    hidden: Sequence[tuple[str, str]],
    cancel_url: str,
    title: str = "",
) -> tuple[bool, Any]:
    """The confirmation flow: (True, what `run` returned) once confirmed, else (False, the page).

    With `review_input`, what the researcher typed (a bonus amount) is shown back once more with
    the money it costs, `summarize(modeladmin, request, target, data)`, before it is done.
    """
    form = confirmation_form(form_class, request)
    if is_confirming(request) and form.is_valid():
        if not review_input or request.POST.get("reviewed") == "yes":
            return True, run(form.cleaned_data)
        typed = [(name, value) for name in form.fields for value in request.POST.getlist(name)]
        assert summarize is not None, "review_input shows the summary again: it needs summarize"
        page = render_confirmation(
            request,
            modeladmin,
            summary=summarize(modeladmin, request, target, form.cleaned_data),
            form=None,
            hidden=[*hidden, *typed, ("reviewed", "yes")],
            action_url=request.get_full_path(),
            cancel_url=cancel_url,
        )
        return False, page
    summary = summarize(modeladmin, request, target) if summarize else Summary(title, 1, noun="item")
    page = render_confirmation(
        request,
        modeladmin,
        summary=summary,
        form=form,
        hidden=hidden,
        action_url=request.get_full_path(),
        cancel_url=cancel_url,
    )
    return False, page


def confirmed_action(
    *,
    description: str,
    summarize: Summarize,
    form_class: type[forms.Form] | None = None,
    review_input: bool = False,
    permissions: Sequence[str] = ("change",),
) -> Callable[[Callable[..., Any]], ConfirmedAction]:
    """Decorate a changelist action that needs a confirmation page (see the module docstring)."""

    def decorate(run: Callable[..., Any]) -> ConfirmedAction:
        @wraps(run)
        def action(
            modeladmin: admin.ModelAdmin[Any], request: HttpRequest, queryset: models.QuerySet[Any]
        ) -> Any:
            selected = queryset.values_list("pk", flat=True)
            _, response = confirm_then_run(
                request,
                modeladmin,
                target=queryset,
                summarize=summarize,
                form_class=form_class,
                review_input=review_input,
                run=lambda data: run(modeladmin, request, queryset, data),
                hidden=[
                    ("action", run.__name__),
                    *[(helpers.ACTION_CHECKBOX_NAME, str(pk)) for pk in selected],
                ],
                cancel_url=admin_url(modeladmin, "changelist"),
            )
            return response

        # the function carries its confirmation, as admin.action's own attributes ride on it
        action.confirmation = (summarize, form_class, review_input, run)  # type: ignore[attr-defined]
        return cast(ConfirmedAction, admin.action(description=description, permissions=permissions)(action))

    return decorate
