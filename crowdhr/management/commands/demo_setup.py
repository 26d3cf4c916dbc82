"""Prepare the demo: a researcher account whose login is printed, with the local Prolific, the local
MTurk and the local oTree, and one unpublished demo study on each platform (Prolific first)."""

from __future__ import annotations

from io import StringIO

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.core.management.base import BaseCommand

DEMO_USERNAME = "researcher"
DEMO_PASSWORD = "crowdhr-demo"
DEMO_ACCESS_KEY_ID = "AKIADEMORESEARCHER"
DEMO_SECRET_ACCESS_KEY = "demo-secret"
DEMO_PROLIFIC_TOKEN = "demo-prolific-token"


class Command(BaseCommand):
    help = "Create the demo researcher (idempotent) and print the login."

    def handle(self, *args: object, **options: object) -> None:
        from crowdhr.researchers import researchers_group

        user, created = get_user_model().objects.get_or_create(
            username=DEMO_USERNAME, defaults={"is_staff": True, "email": "researcher@example.org"}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        group: Group = researchers_group()
        user.groups.add(group)
        prolific_study = demo_prolific_study(user)
        study = demo_otree_study(user)
        change = "http://127.0.0.1:8000/admin/experiments/experiment/{}/change/"
        self.stdout.write(
            self.style.SUCCESS(
                f"crowdhr demo: http://127.0.0.1:8000/admin/  login {DEMO_USERNAME} / {DEMO_PASSWORD}\n"
                "local Prolific (participant view): http://127.0.0.1:8000/emulator/prolific/\n"
                f"oTree study on Prolific to publish: {change.format(prolific_study.pk)}\n"
                "local Mechanical Turk (worker view): http://127.0.0.1:8000/emulator/\n"
                f"oTree study on MTurk to publish: {change.format(study.pk)}"
            )
        )


def demo_site(user):
    """The local oTree started next to crowdhr by `make demo` (not asked anything here)."""
    from experiments.models import OtreeSite
    from experiments.otree_server import DEMO_OTREE_PORT, DEMO_OTREE_REST_KEY

    site, _ = OtreeSite.objects.get_or_create(
        owner=user,
        name="Local oTree (demo)",
        defaults={"url": f"http://127.0.0.1:{DEMO_OTREE_PORT}", "rest_key": DEMO_OTREE_REST_KEY},
    )
    return site


def demo_prolific_study(user):
    """A workspace on the local Prolific (created by name: crowdhr never imports the emulator), the
    researcher's account for it, and an unpublished oTree study of the effort task on it."""
    from decimal import Decimal

    from experiments.models import Experiment
    from platforms.models import PlatformAccount

    if settings.EMULATOR_ENABLED:
        call_command("prolific_emulator_workspace", "--token", DEMO_PROLIFIC_TOKEN, stdout=StringIO())
    account, _ = PlatformAccount.objects.get_or_create(
        owner=user,
        name="Local Prolific",
        defaults={
            "platform": "prolific",
            "environment": PlatformAccount.Environment.EMULATOR,
            "secret_access_key": DEMO_PROLIFIC_TOKEN,
        },
    )
    study, _ = Experiment.objects.get_or_create(
        owner=user,
        name="Effort study on Prolific (demo)",
        defaults={
            "account": account,
            "kind": Experiment.Kind.OTREE,
            "title": "A two-minute effort decision",
            "description": "Decide how much effort to give; you earn a bonus for each unit.",
            # Prolific refuses studies that pay less than $8 an hour: $1.00 for at most 5 minutes
            "reward": Decimal("1.00"),
            "duration_seconds": 300,
            "otree_site": demo_site(user),
            "session_config_name": "effort",
            "num_participants": 3,
        },
    )
    return study


def demo_otree_study(user):
    """The local oTree (started next to crowdhr by `make demo`) and the local MTurk, as the
    researcher's own site and account, with a small unpublished study of the shipped effort task.

    The oTree server is not asked anything here: it starts at the same time as crowdhr.
    """
    from decimal import Decimal

    from experiments.models import Experiment
    from platforms.models import PlatformAccount

    site = demo_site(user)
    account, _ = PlatformAccount.objects.get_or_create(
        owner=user,
        name="Local Mechanical Turk",
        defaults={
            "environment": PlatformAccount.Environment.EMULATOR,
            "access_key_id": DEMO_ACCESS_KEY_ID,
            "secret_access_key": DEMO_SECRET_ACCESS_KEY,
        },
    )
    register_demo_requester(
        account.access_key_id or settings.MTURK_DEFAULT_ACCESS_KEY_ID,
        account.secret_access_key or settings.MTURK_DEFAULT_SECRET_ACCESS_KEY,
    )
    study, _ = Experiment.objects.get_or_create(
        owner=user,
        name="Effort study (demo)",
        defaults={
            "account": account,
            "kind": Experiment.Kind.OTREE,
            "title": "A two-minute effort decision",
            "description": "Decide how much effort to give; you earn a bonus for each unit.",
            "reward": Decimal("0.50"),
            "otree_site": site,
            "session_config_name": "effort",
            "num_participants": 3,
        },
    )
    return study


def register_demo_requester(access_key_id: str, secret_access_key: str) -> None:
    """Open the demo account's requester on the local MTurk, which refuses keys it does not know.

    A live emulator account, so the demo's balance shows what publishing and paying cost. Called by
    name: crowdhr never imports the emulator.
    """
    if not (settings.EMULATOR_ENABLED and access_key_id and secret_access_key):
        return
    call_command(
        "emulator_requester",
        "--access-key-id",
        access_key_id,
        "--secret",
        secret_access_key,
        "--live",
        stdout=StringIO(),
    )
