"""Prepare the demo: a researcher account whose login is printed."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

DEMO_USERNAME = "researcher"
DEMO_PASSWORD = "crowdhr-demo"


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
        self.stdout.write(
            self.style.SUCCESS(
                f"crowdhr demo: http://127.0.0.1:8000/admin/  login {DEMO_USERNAME} / {DEMO_PASSWORD}\n"
                "local Mechanical Turk (worker view): http://127.0.0.1:8000/emulator/"
            )
        )
