"""Forms of the HIT and assignment confirmation pages."""

from __future__ import annotations

from typing import Any

from django import forms


class FeedbackForm(forms.Form):
    feedback = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=1024,
        required=False,
        help_text="What the workers read. Blank: they are told the agreed answer when known.",
    )


class ProblemForm(forms.Form):
    problem = forms.CharField(max_length=500, required=False, help_text="Why a person must look.")


class InputDataForm(forms.Form):
    answer = forms.JSONField(help_text='The answer as JSON, e.g. {"answer": "cat"}.')

    def clean_answer(self) -> dict[str, Any]:
        answer = self.cleaned_data["answer"]
        if not isinstance(answer, dict):
            raise forms.ValidationError('Enter a JSON object, e.g. {"answer": "cat"}.')
        return answer


def feedback_of(data: dict) -> dict[str, str]:
    """The feedback typed on a confirmation page, as keyword arguments (none when blank)."""
    return {"feedback": data["feedback"]} if data.get("feedback") else {}
