"""Labels a researcher reads: an account names its environment once; oTree is spelled oTree."""

from __future__ import annotations

from platforms.models import PlatformAccount


def test_an_account_named_after_its_environment_says_it_once():
    local = PlatformAccount(name="Local Mechanical Turk", platform="mturk", environment="emulator")
    lab = PlatformAccount(name="Ada's lab", platform="prolific", environment="emulator")

    assert str(local) == "Local Mechanical Turk (development)"
    assert str(lab) == "Ada's lab (Local Prolific (development))"


def test_otree_is_spelled_otree_in_every_label():
    from django.apps import apps

    labels = [
        str(label)
        for model in apps.get_models()
        for label in [
            model._meta.verbose_name,
            *(getattr(f, "verbose_name", "") for f in model._meta.get_fields()),
        ]
    ]
    otree = [label for label in labels if "otree" in label.lower()]
    assert otree and all("oTree" in label for label in otree), otree
