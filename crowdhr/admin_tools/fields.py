"""Form fields the researcher's pages share: durations in their own units, one possible choice chosen.

`DurationInSeconds` edits a number of seconds as "90 minutes" or "3 days" and cleans to seconds;
a plain number of seconds posted under the field's own name (scripts, older forms) is accepted
too. `preselect_single_choices(form)` chooses the only option of a required select, such as the
researcher's one platform account.
"""

from __future__ import annotations

from typing import Any

from django import forms

UNITS = [("minutes", "minutes", 60), ("hours", "hours", 3600), ("days", "days", 24 * 3600)]
SECONDS_PER = {key: seconds for key, _, seconds in UNITS}


class DurationWidget(forms.MultiWidget):
    """A number and a unit; decompresses seconds into the largest unit that divides them."""

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        widgets = [
            forms.NumberInput(attrs={"min": 0, "step": "any", "style": "width: 7em"}),
            forms.Select(choices=[(key, label) for key, label, _ in UNITS]),
        ]
        super().__init__(widgets, attrs)

    def decompress(self, value: Any) -> list[Any]:
        if value in (None, ""):
            return [None, "hours"]
        seconds = int(value)
        for key, _, per in reversed(UNITS):
            if seconds and seconds % per == 0:
                return [seconds // per, key]
        return [round(seconds / 60, 2), "minutes"]

    def value_from_datadict(self, data: Any, files: Any, name: str) -> Any:
        if name in data:  # a plain number of seconds
            return [data.get(name), "seconds"]
        return super().value_from_datadict(data, files, name)


class DurationInSeconds(forms.MultiValueField):
    """A duration typed in minutes, hours or days; cleans to whole seconds."""

    widget = DurationWidget

    def __init__(self, *, min_seconds: int = 0, max_seconds: int | None = None, **kwargs: Any) -> None:
        self.min_seconds, self.max_seconds = min_seconds, max_seconds
        fields = (
            forms.DecimalField(min_value=0, max_digits=12, decimal_places=4),
            forms.ChoiceField(choices=[(key, label) for key, label, _ in UNITS] + [("seconds", "seconds")]),
        )
        super().__init__(fields, require_all_fields=True, **kwargs)

    def compress(self, data_list: list[Any]) -> int | None:
        if not data_list:
            return None
        amount, unit = data_list
        seconds = round(amount * SECONDS_PER.get(unit, 1))
        if seconds < self.min_seconds:
            raise forms.ValidationError(f"At least {describe_seconds(self.min_seconds)}.")
        if self.max_seconds is not None and seconds > self.max_seconds:
            raise forms.ValidationError(f"At most {describe_seconds(self.max_seconds)}.")
        return seconds


def describe_seconds(seconds: int) -> str:
    """'30 seconds', '90 minutes', '3 days': the largest unit that divides the duration."""
    for key, _, per in reversed(UNITS):
        if seconds and seconds % per == 0:
            amount = seconds // per
            return f"{amount} {key[:-1] if amount == 1 else key}"
    return f"{seconds} seconds"


def preselect_single_choices(form: forms.BaseForm) -> None:
    """A required select with exactly one possible choice has it chosen already (unbound forms)."""
    if form.is_bound:
        return
    for name, field in form.fields.items():
        if not isinstance(field, forms.ModelChoiceField) or isinstance(field, forms.ModelMultipleChoiceField):
            continue
        if not field.required or form.initial.get(name):
            continue
        only = list(field.queryset[:2]) if field.queryset is not None else []
        if len(only) == 1:
            form.initial[name] = only[0].pk
