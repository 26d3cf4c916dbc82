"""Crowd platforms by key: each platform registers what it is once, at import of its module.

A `PlatformType` says how to build the platform's client from a `PlatformAccount`, where an
account can work (its environments, with labels), what the platform charges (`FeeRules`) and
what it can do (the client class's capabilities). `PlatformAccount.platform` holds the key.

    register(PlatformType(key="mturk", label="Amazon Mechanical Turk", client_class=MTurk,
                          connect=connect, environments=(...), fees=MTURK_FEES))

Tests register a platform for the length of a `with registered(platform_type):` block.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings

from .base import Capability, Platform, PlatformError
from .fees import FeeRules

if TYPE_CHECKING:
    from platforms.models import PlatformAccount


@dataclass(frozen=True)
class Environment:
    """Where an account of a platform works. `key` is one of `PlatformAccount.Environment`."""

    key: str
    label: str
    real_money: bool = False  # only where the installation says so (see `live_setting`)
    local: bool = False  # the platform's local twin, for development and tests
    #: the boolean setting that lets real-money accounts of this platform work
    #: ("" = MTurk's rule, MTURK_ENDPOINT=live)
    live_setting: str = ""


@dataclass(frozen=True)
class PlatformType:
    """One crowd platform as crowdhr knows it."""

    key: str  # stored in PlatformAccount.platform and Worker.platform: "mturk", "prolific"
    label: str  # "Amazon Mechanical Turk"
    client_class: type[Platform]
    connect: Callable[[PlatformAccount], Platform]  # the client for an account (cache it: clients are dear)
    environments: tuple[Environment, ...]
    fees: FeeRules
    #: what the account's two credential fields mean on this platform (admin labels):
    #: PlatformAccount.access_key_id, PlatformAccount.secret_access_key (encrypted, write-only)
    credential_labels: tuple[str, str] = ("Access key id", "Secret access key")

    def __post_init__(self) -> None:
        micro = Capability.MICRO_BATCHES in self.capabilities
        if micro != (self.fees.micro_batch_limit is not None):
            raise ValueError(f"{self.key}: micro_batches needs a micro-batch limit in its fees, and only it")

    @property
    def capabilities(self) -> frozenset[Capability]:
        return self.client_class.capabilities

    def supports(self, capability: Capability) -> bool:
        return capability in self.capabilities

    def environment(self, key: str) -> Environment:
        """The environment `key` of this platform; a permanent PlatformError when it has none."""
        for environment in self.environments:
            if environment.key == key:
                return environment
        raise PlatformError(f"{self.label} has no {key!r} environment.", code="UnknownEnvironment")

    def environment_choices(self, *, include_local: bool = True) -> list[tuple[str, str]]:
        return [(e.key, e.label) for e in self.environments if include_local or not e.local]


_registry: dict[str, PlatformType] = {}


def register(platform_type: PlatformType) -> PlatformType:
    """Make a platform available under its key. Registering the same key twice is an error."""
    if platform_type.key in _registry and _registry[platform_type.key] != platform_type:
        raise ValueError(f"a platform is already registered as {platform_type.key!r}")
    _registry[platform_type.key] = platform_type
    return platform_type


def unregister(key: str) -> None:
    _registry.pop(key, None)


@contextmanager
def registered(platform_type: PlatformType) -> Iterator[PlatformType]:
    """Register a platform for the length of the block (tests)."""
    register(platform_type)
    try:
        yield platform_type
    finally:
        unregister(platform_type.key)


def platform_type(key: str) -> PlatformType:
    """The registered platform `key`; a permanent PlatformError for an unknown key."""
    try:
        return _registry[key]
    except KeyError:
        raise PlatformError(f"No crowd platform is registered as {key!r}.", code="UnknownPlatform") from None


def platform_types() -> list[PlatformType]:
    return list(_registry.values())


def platform_choices() -> list[tuple[str, str]]:
    """(key, label) of every registered platform, for PlatformAccount.platform."""
    return [(p.key, p.label) for p in _registry.values()]


def check_environment_allowed(environment: Environment) -> None:
    """Real money only where the installation says so: live accounts need MTURK_ENDPOINT=live,
    or the environment's own `live_setting` (PROLIFIC_LIVE)."""
    if environment.real_money and environment.live_setting:
        if not getattr(settings, environment.live_setting, False):
            raise PlatformError(
                f"This installation does not spend real money: set {environment.live_setting}=1 "
                "to use live accounts.",
                code="LiveNotAllowed",
                permanent=True,
            )
        return
    if environment.real_money and settings.MTURK_ENDPOINT != "live":
        raise PlatformError(
            "This installation does not spend real money: set MTURK_ENDPOINT=live to use live accounts.",
            code="LiveNotAllowed",
            permanent=True,
        )
