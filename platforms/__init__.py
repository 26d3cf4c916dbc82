"""THE ONLY CODE THAT TALKS TO A CROWD PLATFORM. The rest of crowdhr asks for a Platform here."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .base import HitSpec, Platform, PlatformAssignment, PlatformError, PlatformHit, QualificationRequirement

if TYPE_CHECKING:
    from platforms.models import PlatformAccount

__all__ = [
    "HitSpec",
    "Platform",
    "PlatformAssignment",
    "PlatformError",
    "PlatformHit",
    "QualificationRequirement",
    "platform_for",
]


def emulator_url() -> str:
    """Where the local Mechanical Turk answers: MTURK_ENDPOINT when it is a URL, else the default."""
    endpoint = settings.MTURK_ENDPOINT
    if endpoint.startswith(("http://", "https://")):
        return endpoint
    if not settings.EMULATOR_ENABLED:
        raise ImproperlyConfigured("The local Mechanical Turk is not enabled (MTURK_ENDPOINT).")
    return settings.MTURK_EMULATOR_URL


def check_environment_allowed(environment: str) -> None:
    """Real money only where the installation says so: live accounts need MTURK_ENDPOINT=live."""
    if environment == "live" and settings.MTURK_ENDPOINT != "live":
        raise PlatformError(
            "This installation does not spend real money: set MTURK_ENDPOINT=live to use live accounts.",
            code="LiveNotAllowed",
            permanent=True,
        )


def platform_for(account: PlatformAccount) -> Platform:
    """The platform client for a researcher's account, with that account's own credentials.

    Clients are kept per endpoint and credentials: making a boto3 client costs far more than
    a call, and a client is safe to share between threads.
    """
    check_environment_allowed(account.environment)
    return _client(
        account.environment,
        account.access_key_id or settings.MTURK_DEFAULT_ACCESS_KEY_ID,
        account.secret_access_key or settings.MTURK_DEFAULT_SECRET_ACCESS_KEY,
        emulator_url() if account.environment == "emulator" else None,
    )


@functools.lru_cache(maxsize=64)
def _client(
    environment: str, access_key_id: str, secret_access_key: str, endpoint_url: str | None
) -> Platform:
    from .mturk import MTurk

    return MTurk(
        environment=environment,
        access_key_id=access_key_id,
        secret_access_key=secret_access_key,
        endpoint_url=endpoint_url,
    )
