"""THE ONLY CODE THAT TALKS TO A CROWD PLATFORM. The rest of crowdhr asks for a Platform here.

Platforms are registered by key (`platforms.registry`); importing this package registers every
platform crowdhr ships, so `platform_for(account)` finds the one `account.platform` names.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import mturk, prolific  # noqa: F401 (register "mturk" and "prolific")
from .base import (
    Capability,
    Destination,
    ExternalPage,
    HtmlForm,
    Platform,
    PlatformAssignment,
    PlatformError,
    PlatformHit,
    QualificationRequirement,
    WorkSpec,
    exclusion_requirement,
)
from .fees import FeeRules
from .registry import PlatformType, check_environment_allowed, platform_type, registered

if TYPE_CHECKING:
    from platforms.models import PlatformAccount

__all__ = [
    "Capability",
    "Destination",
    "ExternalPage",
    "FeeRules",
    "HtmlForm",
    "Platform",
    "PlatformAssignment",
    "PlatformError",
    "PlatformHit",
    "PlatformType",
    "QualificationRequirement",
    "WorkSpec",
    "exclusion_requirement",
    "fees_for",
    "platform_for",
    "platform_type",
    "registered",
    "shows_work_in_progress",
    "supports",
]


def platform_for(account: PlatformAccount) -> Platform:
    """The platform client for a researcher's account, with that account's own credentials.

    Refuses (permanently) an unknown platform or environment, and live accounts on an
    installation that does not spend real money.
    """
    kind = platform_type(account.platform)
    check_environment_allowed(kind.environment(account.environment))
    return kind.connect(account)


def supports(account: PlatformAccount, capability: Capability) -> bool:
    """Can the account's platform do this? False for a platform that is not registered."""
    try:
        return platform_type(account.platform).supports(capability)
    except PlatformError:
        return False


def shows_work_in_progress(account: PlatformAccount) -> bool:
    """Does the account's platform show an assignment while it is being worked on (Prolific's
    active submissions), so a landing can be confirmed at once? False: only once submitted (MTurk)."""
    return platform_type(account.platform).client_class.shows_work_in_progress


def fees_for(account: PlatformAccount) -> FeeRules:
    """What the account's platform charges."""
    return platform_type(account.platform).fees
