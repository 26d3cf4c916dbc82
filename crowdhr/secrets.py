"""Secrets at rest: a model field that stores text encrypted, and a write-only admin form field.

The key is `SECRETS_ENCRYPTION_KEY` (a Fernet key; any string is accepted and stretched to
one). Stored values never leave the database in clear text except to the code that uses them.
"""

from __future__ import annotations

import base64
import hashlib
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from django import forms
from django.conf import settings
from django.db import models

_PREFIX = "fernet:"


def _fernet() -> Fernet:
    key = settings.SECRETS_ENCRYPTION_KEY
    try:
        return Fernet(key)
    except ValueError:
        return Fernet(base64.urlsafe_b64encode(hashlib.sha256(key.encode()).digest()))


def encrypt(plain: str) -> str:
    return _PREFIX + _fernet().encrypt(plain.encode()).decode()


def decrypt(stored: str) -> str:
    if not stored.startswith(_PREFIX):
        raise ValueError("value is not encrypted by crowdhr")
    try:
        return _fernet().decrypt(stored[len(_PREFIX) :].encode()).decode()
    except InvalidToken as error:
        raise ValueError("cannot decrypt: SECRETS_ENCRYPTION_KEY changed?") from error


class EncryptedTextField(models.TextField):
    """Text encrypted with Fernet in the database, plain in Python."""

    def from_db_value(self, value: str | None, expression: Any, connection: Any) -> str | None:
        if not value:
            return value
        return decrypt(value)

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if not value:
            return value
        return encrypt(value)

    def formfield(self, **kwargs: Any) -> forms.Field | None:
        return super().formfield(**{"form_class": WriteOnlySecretField, **kwargs})


class WriteOnlySecretField(forms.CharField):
    """A password box that never shows the stored secret; left blank, it keeps the old one."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.pop("max_length", None)
        kwargs["widget"] = forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"})
        kwargs["required"] = False
        kwargs.setdefault(
            "help_text", "Stored encrypted and never shown again. Leave blank to keep the current one."
        )
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> str:
        return ""

    def has_changed(self, initial: Any, data: Any) -> bool:
        return bool(data)

    def bound_data(self, data: Any, initial: Any) -> Any:
        return data or initial

    def clean(self, value: Any) -> Any:
        return super().clean(value)


def keep_blank_secrets(form: forms.ModelForm, names: tuple[str, ...]) -> None:
    """In a ModelForm's clean: a blank secret box keeps the stored value."""
    for name in names:
        if not form.cleaned_data.get(name) and form.instance.pk:
            form.cleaned_data[name] = getattr(form.instance, name)
