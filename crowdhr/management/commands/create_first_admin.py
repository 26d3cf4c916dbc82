"""Create the first superuser from ADMIN_USERNAME, ADMIN_EMAIL and ADMIN_PASSWORD (Heroku postdeploy).

Idempotent: an existing user of that name is left exactly as it is, so running the command again
never resets a password someone has since changed. Without the variables it does nothing.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from crowdhr import env


class Command(BaseCommand):
    help = "Create a superuser from ADMIN_USERNAME/ADMIN_EMAIL/ADMIN_PASSWORD unless it exists."

    def handle(self, *args: object, **options: object) -> None:
        username = env.text("ADMIN_USERNAME").strip()
        password = env.text("ADMIN_PASSWORD")
        email = env.text("ADMIN_EMAIL").strip()
        if not username or not password:
            self.stdout.write("ADMIN_USERNAME and ADMIN_PASSWORD are not both set: no admin created.")
            return
        users = get_user_model().objects
        if users.filter(username=username).exists():
            self.stdout.write(f"Admin {username!r} already exists: left unchanged.")
            return
        self._refuse_weak_password(username=username, email=email, password=password)
        users.create_superuser(username=username, email=email, password=password)
        self.stdout.write(self.style.SUCCESS(f"Admin {username!r} created."))

    def _refuse_weak_password(self, *, username: str, email: str, password: str) -> None:
        # The admin can spend the researchers' money: a weak password fails the deploy instead.
        candidate = get_user_model()(username=username, email=email)
        try:
            validate_password(password, user=candidate)
        except ValidationError as error:
            raise CommandError("ADMIN_PASSWORD is too weak: " + " ".join(error.messages)) from error
