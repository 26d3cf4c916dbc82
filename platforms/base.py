"""The interface crowdhr needs from a crowd platform.

Everything that talks to a crowd platform lives in this package; the rest of crowdhr sees
only these plain data classes and `PlatformError`. Money is expressed as `Decimal` dollars,
times as aware `datetime`s.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal


class PlatformError(Exception):
    """A platform call failed.

    `permanent` says whether repeating the same call can ever succeed: a throttled or
    unavailable platform is temporary, a refused request (bad state, bad input) is permanent.
    """

    def __init__(self, message: str, code: str = "", permanent: bool = True) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.permanent = permanent

    def __str__(self) -> str:
        return f"{self.code}: {self.message}" if self.code else self.message


@dataclass(frozen=True)
class QualificationRequirement:
    """A condition a worker must meet to accept a HIT (MTurk's QualificationRequirement)."""

    qualification_type_id: str
    comparator: str  # LessThan, GreaterThanOrEqualTo, Exists, DoesNotExist, In, ...
    integer_values: tuple[int, ...] = ()
    locale_values: tuple[dict[str, str], ...] = ()
    actions_guarded: str = "Accept"  # Accept, PreviewAndAccept, DiscoverPreviewAndAccept


@dataclass(frozen=True)
class HitSpec:
    """Everything needed to post one HIT."""

    title: str
    description: str
    reward: Decimal
    max_assignments: int
    question: str  # ExternalQuestion / HTMLQuestion / QuestionForm XML
    lifetime_seconds: int = 7 * 24 * 3600
    duration_seconds: int = 3600
    auto_approval_delay_seconds: int = 3 * 24 * 3600
    keywords: str = ""
    qualification_requirements: Sequence[QualificationRequirement] = ()
    requester_annotation: str = ""


@dataclass(frozen=True)
class PlatformHit:
    """A HIT as the platform reports it."""

    hit_id: str
    hit_type_id: str
    status: str  # Assignable, Unassignable, Reviewable, Reviewing, Disposed
    title: str
    reward: Decimal
    max_assignments: int
    available: int
    pending: int
    completed: int
    creation_time: datetime
    expiration: datetime
    review_status: str = "NotReviewed"
    requester_annotation: str = ""


@dataclass(frozen=True)
class PlatformAssignment:
    """An assignment as the platform reports it, with its answers parsed to a dict."""

    assignment_id: str
    worker_id: str
    hit_id: str
    status: str  # Submitted, Approved, Rejected
    accept_time: datetime | None
    submit_time: datetime | None
    auto_approval_time: datetime | None = None
    approval_time: datetime | None = None
    rejection_time: datetime | None = None
    answer_xml: str = ""
    answers: dict[str, str] = field(default_factory=dict)
    requester_feedback: str = ""


@dataclass(frozen=True)
class BonusPayment:
    worker_id: str
    assignment_id: str
    amount: Decimal
    reason: str
    grant_time: datetime


class Platform(abc.ABC):
    """One account on one crowd platform. Every method may raise `PlatformError`."""

    #: a short name for logs and the admin: "mturk-live", "mturk-sandbox", "mturk-emulator"
    name: str = ""

    # --- HITs -----------------------------------------------------------------------------
    @abc.abstractmethod
    def create_hit(self, spec: HitSpec, *, unique_request_token: str) -> PlatformHit:
        """Post a HIT. Repeating a call with the same token returns the HIT made the first time."""

    @abc.abstractmethod
    def get_hit(self, hit_id: str) -> PlatformHit: ...

    @abc.abstractmethod
    def list_hits(self) -> list[PlatformHit]:
        """Every HIT of this account (all pages)."""

    @abc.abstractmethod
    def expire_hit(self, hit_id: str) -> None:
        """Stop the HIT taking new workers now; submitted work stays reviewable."""

    @abc.abstractmethod
    def update_expiration(self, hit_id: str, expire_at: datetime) -> None:
        """Move the HIT's expiration (a time in the past expires it now)."""

    @abc.abstractmethod
    def add_assignments(self, hit_id: str, count: int, *, unique_request_token: str) -> None:
        """Add assignments to a HIT. A repeated token is success, done once."""

    @abc.abstractmethod
    def delete_hit(self, hit_id: str) -> None:
        """Dispose of an expired HIT whose assignments are all decided."""

    def worker_site_url(self, hit: PlatformHit | None, hit_type_id: str = "") -> str:
        """Where a worker (or the researcher) sees this HIT on the platform's worker site."""
        return ""

    # --- Assignments ----------------------------------------------------------------------
    @abc.abstractmethod
    def list_assignments(
        self, hit_id: str, statuses: Sequence[str] = ("Submitted", "Approved", "Rejected")
    ) -> list[PlatformAssignment]:
        """Every assignment of the HIT in these statuses, all pages."""

    @abc.abstractmethod
    def get_assignment(self, assignment_id: str) -> PlatformAssignment: ...

    @abc.abstractmethod
    def approve_assignment(
        self, assignment_id: str, *, feedback: str = "", override_rejection: bool = False
    ) -> None:
        """Approve (and pay the reward). Approving an already approved assignment is success."""

    @abc.abstractmethod
    def reject_assignment(self, assignment_id: str, *, feedback: str) -> None:
        """Reject with a reason the worker sees. Rejecting an already rejected one is success."""

    # --- Money ----------------------------------------------------------------------------
    @abc.abstractmethod
    def send_bonus(
        self, *, worker_id: str, assignment_id: str, amount: Decimal, reason: str, unique_request_token: str
    ) -> None:
        """Pay a bonus. A repeated token is success: the bonus was paid the first time."""

    @abc.abstractmethod
    def list_bonus_payments(self, *, hit_id: str = "", assignment_id: str = "") -> list[BonusPayment]: ...

    @abc.abstractmethod
    def account_balance(self) -> Decimal: ...

    # --- Workers --------------------------------------------------------------------------
    @abc.abstractmethod
    def notify_workers(self, worker_ids: Sequence[str], *, subject: str, message: str) -> list[str]:
        """Message up to 100 workers; returns the ids that could not be reached."""

    @abc.abstractmethod
    def block_worker(self, worker_id: str, *, reason: str) -> None: ...

    @abc.abstractmethod
    def unblock_worker(self, worker_id: str, *, reason: str = "") -> None: ...

    @abc.abstractmethod
    def list_blocked_workers(self) -> dict[str, str]:
        """Blocked worker id -> reason."""

    # --- Qualifications -------------------------------------------------------------------
    @abc.abstractmethod
    def ensure_qualification_type(
        self, *, name: str, description: str, retry_delay_seconds: int | None = None
    ) -> str:
        """The id of this account's qualification type with that name, created if missing."""

    @abc.abstractmethod
    def set_qualification_score(self, qualification_type_id: str, worker_id: str, value: int) -> None: ...

    @abc.abstractmethod
    def get_qualification_score(self, qualification_type_id: str, worker_id: str) -> int | None:
        """The worker's score, or None when the worker does not hold the qualification."""

    @abc.abstractmethod
    def remove_qualification(
        self, qualification_type_id: str, worker_id: str, *, reason: str = ""
    ) -> None: ...
