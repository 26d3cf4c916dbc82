"""Buttons on the change form (after django-object-actions, with its permissions and POSTs).

Buttons are methods decorated with `object_button` and listed in `object_buttons`. Each is an
admin URL ``<pk>/button/<name>/`` wrapped in `admin_site.admin_view`; unknown names answer 404,
a wrong method 405 (a GET on a button that asks first shows its confirmation page, never runs
it), and the object is looked up through the scoped queryset (another researcher's object: 404).
The method returns a response, or None to go back to the change page::

    class ExperimentAdmin(ObjectButtonsAdmin, OwnedAdmin, admin.ModelAdmin):
        object_buttons = ["publish"]

        @object_button(label="Publish", summarize=publish_summary)  # POST + confirmation page
        def publish(self, request, experiment, data):
            published = experiment_publish(experiment=experiment, by=request.user)
            self.message_user(request, f"Published {published} HITs.")

        @object_button(label="Open on oTree", methods=("GET",))  # a plain link, no confirmation
        def open_site(self, request, experiment, data):
            return redirect(experiment.url)

`button_for_action(action, name=..., label=...)` makes a `confirmed_action` a button on one object.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import path, reverse

from crowdhr.admin_tools.confirm import ConfirmedAction, Summarize, confirm_then_run
from crowdhr.admin_tools.urls import admin_url

_M = TypeVar("_M", bound=models.Model)


def button_for_action(action: ConfirmedAction, *, name: str, label: str) -> Callable[..., Any]:
    """An object button that runs a `confirmed_action` on its one object (same summary and form)."""
    summarize, form_class, review_input, run = action.confirmation

    def one(obj: models.Model) -> models.QuerySet[Any]:
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


class ObjectButtonsAdmin(admin.ModelAdmin[_M]):
    """Adds the buttons named in `object_buttons` to the change form, each at its own admin URL."""

    object_buttons: Sequence[str] = ()
    change_form_template = "admin/crowdhr/change_form.html"

    def get_object_buttons(self, request: HttpRequest, obj: _M) -> list[ObjectButton]:
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

    def button_url(self, obj: _M, name: str) -> str:
        info = self.model._meta.app_label, self.model._meta.model_name
        return reverse(f"{self.admin_site.name}:{info[0]}_{info[1]}_button", args=[obj.pk, name])

    def object_button_view(self, request: HttpRequest, object_id: str, name: str) -> HttpResponse:
        if name not in self.object_buttons:
            raise Http404("No such button.")
        button: ObjectButton = getattr(self, name).object_button
        # A GET on a button that asks first shows its confirmation page (a bookmark, a reload).
        asks_first = button.summarize is not None or button.form_class is not None
        if request.method not in button.methods and not (request.method == "GET" and asks_first):
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

    def get_scoped_object(self, request: HttpRequest, object_id: str) -> _M:
        """The object through the researcher's queryset: someone else's (or a bad id) is 404."""
        try:
            obj = self.get_queryset(request).filter(pk=object_id).first()
        except (ValueError, TypeError, models.ObjectDoesNotExist):
            obj = None
        if obj is None:
            raise Http404("No such object.")
        return obj

    def render_change_form(
        self,
        request: HttpRequest,
        context: dict[str, Any],
        add: bool = False,
        change: bool = False,
        form_url: str = "",
        obj: _M | None = None,
    ) -> HttpResponse:
        if obj is not None and obj.pk:
            context["object_buttons"] = [
                (button, self.button_url(obj, button.name))
                for button in self.get_object_buttons(request, obj)
            ]
        return super().render_change_form(request, context, add, change, form_url, obj)
