"""Shared pieces of crowdhr's admin: researchers who see only their own rows, object buttons, and
a confirmation page before anything that spends money or changes a platform.

Owned rows
----------
`OwnedAdmin` scopes a ModelAdmin to the researcher: `get_queryset` goes through the model
queryset's `visible_to(request.user)` (see `hits.models.OwnedQuerySet`), so every change page,
history page, object button and changelist action of another researcher's row answers 404 (or
the admin's "does not exist" redirect). Foreign-key and many-to-many choices list only the
researcher's own rows, `owner` is set on save, and superusers see everything with an owner
filter::

    @admin.register(Experiment)
    class ExperimentAdmin(OwnedAdmin, admin.ModelAdmin):
        list_display = ["name", "account"]

Object buttons
--------------
Buttons on the change form are methods decorated with `object_button` and listed in
`object_buttons`. Each is an admin URL ``<pk>/button/<name>/`` wrapped in
`admin_site.admin_view`; unknown names answer 404, a wrong method 405, and the object is looked
up through the scoped queryset (another researcher's object: 404). The method returns a
response, or None to go back to the change page::

    class ExperimentAdmin(ObjectButtonsAdmin, OwnedAdmin, admin.ModelAdmin):
        object_buttons = ["publish"]

        @object_button(label="Publish", summarize=publish_summary)  # POST + confirmation page
        def publish(self, request, experiment, data):
            published = experiment_publish(experiment=experiment, by=request.user.username)
            self.message_user(request, f"Published {published} HITs.")

        @object_button(label="Open on oTree", methods=("GET",))  # a plain link, no confirmation
        def open_site(self, request, experiment, data):
            return redirect(experiment.url)

Confirmation
------------
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
`button_for_action(action, name=..., label=...)` makes the same operation a button on one object.

Big change lists
----------------
`PageAnnotationsAdmin` computes per-row figures (`annotate_page(queryset, request)`) only for the
page shown and counts at most 10,000 rows (`CappedCountPaginator`); `owned()` is the researcher
scoping written so a database stops after one page. `HistoryAdmin` is for records that are never
added or deleted by hand. `bench/admin_pages.py` measures all this at 100,000 rows.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import wraps
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import models
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.functional import cached_property

CONFIRMED = "confirmed"


# --- owned rows ---------------------------------------------------------------------------------
def owner_path_of(model: type[models.Model]) -> str | None:
    """The lookup from `model` to its researcher ("owner", "outsourcer__owner", ...), if it has one."""
    queryset = model._default_manager.all()
    return getattr(queryset, "owner_path", None) if hasattr(queryset, "visible_to") else None


def visible_rows(model: type[models.Model], user) -> models.QuerySet:
    """The rows of `model` the user may see (all of them for models without an owner)."""
    queryset = model._default_manager.all()
    return queryset.visible_to(user) if hasattr(queryset, "visible_to") else queryset


def owned(queryset: models.QuerySet, user) -> models.QuerySet:
    """`queryset.visible_to(user)` as EXISTS on each row's own id.

    Same rows; but the database can walk the table in page order (or by another index, such as
    the worker of an assignment) and stop early, instead of starting from the owner and sorting
    every row the researcher owns (100,000 HITs) to show one page.
    """
    if user.is_superuser:
        return queryset
    mine = queryset.model._default_manager.visible_to(user).filter(pk=OuterRef("pk"))
    return queryset.filter(Exists(mine))


class OwnerFilter(admin.SimpleListFilter):
    """Superusers: narrow a change list to one researcher's rows."""

    title = "owner"
    parameter_name = "owner"

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        from django.contrib.auth import get_user_model

        users = get_user_model().objects.filter(is_staff=True).order_by("username")
        return [(str(user.pk), user.username) for user in users]

    def queryset(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
        owner_path = getattr(queryset, "owner_path", None)
        if self.value() and owner_path:
            return queryset.filter(**{f"{owner_path}_id": self.value()})
        return queryset


class OwnedAdmin(admin.ModelAdmin):
    """A ModelAdmin that shows a researcher only their own rows (superusers: everything)."""

    def get_queryset(self, request: HttpRequest) -> models.QuerySet:
        queryset = super().get_queryset(request)
        if hasattr(queryset, "visible_to") and not request.user.is_superuser:
            queryset = owned(queryset, request.user)
        return queryset

    def is_visible(self, request: HttpRequest, obj: models.Model | None) -> bool:
        return obj is None or obj.pk is None or self.get_queryset(request).filter(pk=obj.pk).exists()

    def has_view_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return super().has_view_permission(request, obj) and self.is_visible(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return super().has_change_permission(request, obj) and self.is_visible(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return super().has_delete_permission(request, obj) and self.is_visible(request, obj)

    def get_list_filter(self, request: HttpRequest) -> Sequence[Any]:
        filters = list(super().get_list_filter(request))
        if request.user.is_superuser and owner_path_of(self.model):
            filters.append(OwnerFilter)
        return filters

    def get_exclude(self, request: HttpRequest, obj: models.Model | None = None) -> Sequence[str] | None:
        excluded = list(super().get_exclude(request, obj) or ())
        if not request.user.is_superuser and _has_owner_field(self.model):
            excluded.append("owner")
        return excluded

    def formfield_for_foreignkey(self, db_field, request: HttpRequest, **kwargs: Any):
        kwargs.setdefault("queryset", visible_rows(db_field.remote_field.model, request.user))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request: HttpRequest, **kwargs: Any):
        kwargs.setdefault("queryset", visible_rows(db_field.remote_field.model, request.user))
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: models.Model, form: Any, change: bool) -> None:
        if _has_owner_field(self.model) and not getattr(obj, "owner_id", None):
            obj.owner = request.user
        super().save_model(request, obj, form, change)


class HistoryAdmin(admin.ModelAdmin):
    """Rows that are records (HITs, assignments, the ledger): written by services, never added or
    deleted by hand. Without delete permission the "delete selected" action disappears too."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        return False


def _has_owner_field(model: type[models.Model]) -> bool:
    return any(f.name == "owner" for f in model._meta.get_fields())


# --- change lists that stay fast at 100,000 rows ---------------------------------------------
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
        annotated = self.model_admin.annotate_page(self.model._default_manager.filter(pk__in=ids), request)
        by_pk = {row.pk: row for row in annotated}
        self.result_list = [by_pk[pk] for pk in ids if pk in by_pk]


class CappedCountPaginator(Paginator):
    """Counts at most `cap` + 1 rows: the change list says "more than 10,000" instead of counting
    100,000 rows on every page view (filters and search narrow it down)."""

    cap = 10_000

    @cached_property
    def count(self) -> int:
        return self.object_list[: self.cap + 1].count()

    @property
    def capped(self) -> bool:
        return self.count > self.cap


class PageAnnotationsAdmin(admin.ModelAdmin):
    """Use with `annotate_page(queryset, request)` returning the page's rows with computed columns.

    Its change list counts at most 10,000 rows (`CappedCountPaginator`); give the model a
    `pagination.html` that includes "admin/crowdhr/pagination.html" to say so.
    """

    paginator = CappedCountPaginator
    show_full_result_count = False

    def annotate_page(self, queryset: models.QuerySet, request: HttpRequest) -> models.QuerySet:
        return queryset.select_related(*self.list_select_related) if self.list_select_related else queryset

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return PageAnnotatedChangeList


# --- confirmation -------------------------------------------------------------------------------
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
        return f"{self.count} {self.noun}{'' if self.count == 1 else 's'}"


Summarize = Callable[[admin.ModelAdmin, HttpRequest, Any], Summary]


class NonceForm(forms.Form):
    """The base of every confirmation form: a random nonce that is the same for a double click."""

    nonce = forms.CharField(widget=forms.HiddenInput, max_length=64)


def confirmation_form(form_class: type[forms.Form] | None, request: HttpRequest) -> forms.Form:
    """The form of a confirmation page, bound on the confirming POST, fresh (new nonce) otherwise."""
    cls = type("ConfirmationForm", (NonceForm, form_class), {}) if form_class else NonceForm
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
    return form


def is_confirming(request: HttpRequest) -> bool:
    return request.method == "POST" and request.POST.get(CONFIRMED) == "yes"


def render_confirmation(
    request: HttpRequest,
    modeladmin: admin.ModelAdmin,
    *,
    summary: Summary,
    form: forms.Form,
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
    modeladmin: admin.ModelAdmin,
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
        page = render_confirmation(
            request,
            modeladmin,
            summary=summarize(modeladmin, request, target, form.cleaned_data),  # type: ignore[call-arg,misc]
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
) -> Callable:
    """Decorate a changelist action that needs a confirmation page (see the module docstring)."""

    def decorate(run: Callable[[admin.ModelAdmin, HttpRequest, models.QuerySet, dict], Any]) -> Callable:
        @wraps(run)
        def action(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: models.QuerySet):
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

        action.confirmation = (summarize, form_class, review_input, run)  # type: ignore[attr-defined]
        return admin.action(description=description, permissions=permissions)(action)

    return decorate


def button_for_action(action: Callable, *, name: str, label: str) -> Callable:
    """An object button that runs a `confirmed_action` on its one object (same summary and form)."""
    summarize, form_class, review_input, run = action.confirmation

    def one(obj: models.Model) -> models.QuerySet:
        return type(obj)._default_manager.filter(pk=obj.pk)

    def button(modeladmin, request, obj, data):
        return run(modeladmin, request, one(obj), data)

    button.__name__ = name
    return object_button(
        label=label,
        summarize=lambda modeladmin, request, obj, *data: summarize(modeladmin, request, one(obj), *data),
        form_class=form_class,
        review_input=review_input,
    )(button)


# --- object buttons ----------------------------------------------------------------------------
@dataclass(frozen=True)
class ObjectButton:
    name: str
    label: str
    methods: tuple[str, ...]
    summarize: Summarize | None
    form_class: type[forms.Form] | None
    review_input: bool
    css_class: str
    run: Callable


def object_button(
    *,
    label: str,
    methods: Sequence[str] = ("POST",),
    summarize: Summarize | None = None,
    form_class: type[forms.Form] | None = None,
    review_input: bool = False,
    css_class: str = "",
) -> Callable:
    """Decorate a ModelAdmin method `(self, request, obj, data)` as a button on the change form.

    With `summarize`, a confirmation page comes first. GET buttons are links and must not change
    anything; everything that spends money or changes a platform is POST.
    """

    def decorate(run: Callable) -> Callable:
        run.object_button = ObjectButton(  # type: ignore[attr-defined]
            name=run.__name__,
            label=label,
            methods=tuple(m.upper() for m in methods),
            summarize=summarize,
            form_class=form_class,
            review_input=review_input,
            css_class=css_class,
            run=run,
        )
        return run

    return decorate


class ObjectButtonsAdmin(admin.ModelAdmin):
    """Adds the buttons named in `object_buttons` to the change form, each at its own admin URL."""

    object_buttons: Sequence[str] = ()
    change_form_template = "admin/crowdhr/change_form.html"

    def get_object_buttons(self, request: HttpRequest, obj: models.Model) -> list[ObjectButton]:
        return [getattr(self, name).object_button for name in self.object_buttons]

    def get_urls(self):
        info = self.model._meta.app_label, self.model._meta.model_name
        button_urls = [
            path(
                "<path:object_id>/button/<str:name>/",
                self.admin_site.admin_view(self.object_button_view),
                name="{}_{}_button".format(*info),
            )
        ]
        return button_urls + super().get_urls()

    def button_url(self, obj: models.Model, name: str) -> str:
        info = self.model._meta.app_label, self.model._meta.model_name
        return reverse(f"{self.admin_site.name}:{info[0]}_{info[1]}_button", args=[obj.pk, name])

    def object_button_view(self, request: HttpRequest, object_id: str, name: str) -> HttpResponse:
        if name not in self.object_buttons:
            raise Http404("No such button.")
        button: ObjectButton = getattr(self, name).object_button
        if request.method not in button.methods:
            return HttpResponseNotAllowed(button.methods)
        obj = self.get_scoped_object(request, object_id)
        if not self.has_change_permission(request, obj):
            raise PermissionDenied
        back = admin_url(self, "change", obj.pk)
        if button.summarize is None and button.form_class is None:
            response = button.run(self, request, obj, {})
        else:
            ran, response = confirm_then_run(
                request,
                self,
                target=obj,
                summarize=button.summarize,
                form_class=button.form_class,
                review_input=button.review_input,
                run=lambda data: button.run(self, request, obj, data),
                hidden=[],
                cancel_url=back,
                title=button.label,
            )
            if not ran:
                return response
        return response or HttpResponseRedirect(back)

    def get_scoped_object(self, request: HttpRequest, object_id: str) -> models.Model:
        """The object through the researcher's queryset: someone else's (or a bad id) is 404."""
        try:
            obj = self.get_queryset(request).filter(pk=object_id).first()
        except (ValueError, TypeError, models.ObjectDoesNotExist):
            obj = None
        if obj is None:
            raise Http404("No such object.")
        return obj

    def render_change_form(self, request: HttpRequest, context: dict, *args: Any, obj=None, **kwargs: Any):
        if obj is not None and obj.pk:
            context["object_buttons"] = [
                (button, self.button_url(obj, button.name))
                for button in self.get_object_buttons(request, obj)
            ]
        return super().render_change_form(request, context, *args, obj=obj, **kwargs)


def admin_url(modeladmin: admin.ModelAdmin, view: str, *args: Any) -> str:
    """reverse() of one of `modeladmin`'s own admin URLs ("changelist", "change", "button", ...)."""
    opts = modeladmin.model._meta
    return reverse(f"{modeladmin.admin_site.name}:{opts.app_label}_{opts.model_name}_{view}", args=args)


# --- messages -----------------------------------------------------------------------------------
def report(modeladmin: admin.ModelAdmin, request: HttpRequest, done: str, errors: Sequence[str]) -> None:
    """End an action with its count message, and every failure as an admin error message."""
    modeladmin.message_user(request, done, messages.SUCCESS if not errors else messages.WARNING)
    for error in errors[:20]:
        modeladmin.message_user(request, error, messages.ERROR)
    if len(errors) > 20:
        modeladmin.message_user(request, f"... and {len(errors) - 20} more errors.", messages.ERROR)


def for_each(
    modeladmin: admin.ModelAdmin,
    request: HttpRequest,
    rows: Iterable[Any],
    what: str,
    run: Callable[[Any], Any],
    refusals: tuple[type[Exception], ...],
) -> None:
    """Run one service per selected row; a refusal is reported for its row and the rest go on.

    `run` returns how many things it changed (or something truthy for one); the count message
    says "<count> <what>."
    """
    done, errors = 0, []
    for row in rows:
        try:
            result = run(row)
        except refusals as error:
            errors.append(f"{row}: {error}")
            continue
        done += result if isinstance(result, int) else int(bool(result))
    report(modeladmin, request, f"{done} {what}.", errors)
