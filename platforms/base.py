"""The interface crowdhr needs from a crowd platform.

Everything that talks to a crowd platform lives in this package; the rest of crowdhr sees
only these plain data classes and `PlatformError`. Money is expressed as `Decimal` dollars,
times as aware `datetime`s.
"""

from __future__ import annotations

import abc
import enum
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import ClassVar, NoReturn, Protocol


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


class Capability(enum.StrEnum):
    """What a platform can do beyond posting work, listing it and deciding assignments.

    A platform declares its capabilities (`Platform.capabilities`); a method that needs one it
    lacks raises a permanent PlatformError, and callers (the admin above all) check first with
    `platforms.supports(account, capability)`.
    """

    QUALIFICATIONS = "qualifications"  # own qualification types, worker scores, requirements on work
    HARD_BLOCKS = "hard_blocks"  # block / unblock a worker on the whole platform account
    MESSAGES = "messages"  # write to workers through the platform
    BONUSES = "bonuses"  # pay a worker more than the reward for one piece of work
    REOPEN = "reopen"  # add places to work already posted
    RESUME = "resume"  # move the expiration of posted work (resume a paused HIT)
    MICRO_BATCHES = "micro_batches"  # fees reward posting work as many small HITs
    HTML_FORMS = "html_forms"  # the worker can answer an HTML form on the platform's own page
    COMPLETION_URL = "completion_url"  # work is handed in at a URL crowdhr sends the worker to
    HOOKS = "hooks"  # the platform tells crowdhr at once, by signed hooks, that work changed
    #: named lists of workers kept off work posted with `exclusion_requirement(list)` (MTurk: a
    #: qualification type required DoesNotExist; Prolific: a participant group used as a block list)
    EXCLUSION_LISTS = "exclusion_lists"


#: the methods each capability guards: a platform without the capability need not implement them
CAPABILITY_METHODS: dict[Capability, tuple[str, ...]] = {
    Capability.QUALIFICATIONS: (
        "ensure_qualification_type",
        "set_qualification_score",
        "get_qualification_score",
        "remove_qualification",
    ),
    Capability.HARD_BLOCKS: ("block_worker", "unblock_worker", "list_blocked_workers"),
    Capability.MESSAGES: ("notify_workers",),
    Capability.BONUSES: ("send_bonus", "list_bonus_payments"),
    Capability.REOPEN: ("add_assignments",),
    Capability.RESUME: ("update_expiration",),
    Capability.COMPLETION_URL: ("completion_url",),
    Capability.HOOKS: ("ensure_hooks",),
    Capability.EXCLUSION_LISTS: ("ensure_exclusion_list", "add_to_exclusion_list"),
}
#: what Capability.BONUSES needs instead on a platform whose bonuses are paid in two steps
TWO_STEP_BONUS_METHODS = ("setup_bonus", "pay_bonus_setup", "bonus_was_paid", "list_bonus_payments")


@dataclass(frozen=True)
class QualificationRequirement:
    """Who may take part: a condition on a worker's score for one of our qualification types.

    The comparators are crowdhr's vocabulary (they happen to be MTurk's names): LessThan,
    GreaterThanOrEqualTo, EqualTo, Exists, DoesNotExist, In, ...; each platform translates them.
    """

    qualification_type_id: str
    comparator: str
    integer_values: tuple[int, ...] = ()
    locale_values: tuple[dict[str, str], ...] = ()
    actions_guarded: str = "Accept"  # Accept, PreviewAndAccept, DiscoverPreviewAndAccept


#: the comparator that keeps the workers of an exclusion list off work (`exclusion_requirement`)
EXCLUDED = "DoesNotExist"


def exclusion_requirement(list_id: str) -> QualificationRequirement:
    """The requirement that keeps the workers of an exclusion list (Capability.EXCLUSION_LISTS)
    off work posted with it; it follows the list's later members."""
    return QualificationRequirement(qualification_type_id=list_id, comparator=EXCLUDED)


@dataclass(frozen=True)
class ExternalPage:
    """The worker goes to this address (crowdhr's landing page); the platform adds its own ids."""

    url: str


@dataclass(frozen=True)
class HtmlForm:
    """The worker answers this form on the platform's own page (needs Capability.HTML_FORMS).

    `body` is the form's inner HTML: the fields, without a <form> element or submit button;
    the platform wraps it so that it submits to the platform.
    """

    body: str


#: where the worker goes to do the work
Destination = ExternalPage | HtmlForm


def dump_destination(destination: Destination) -> str:
    """The destination as text, for storing on a HIT row (JSON)."""
    if isinstance(destination, ExternalPage):
        return json.dumps({"external_url": destination.url}, ensure_ascii=False)
    return json.dumps({"html_form": destination.body}, ensure_ascii=False)


def load_destination(text: str) -> Destination:
    """The destination stored by `dump_destination`; ValueError for anything else."""
    raw = json.loads(text)
    if isinstance(raw, dict) and isinstance(raw.get("external_url"), str):
        return ExternalPage(raw["external_url"])
    if isinstance(raw, dict) and isinstance(raw.get("html_form"), str):
        return HtmlForm(raw["html_form"])
    raise ValueError("not a stored destination")


@dataclass(frozen=True)
class WorkSpec:
    """One piece of work to post, in crowdhr's words; each platform translates it.

    On MTurk it is one HIT with `places` assignments; on Prolific one study with `places` places.
    """

    title: str
    description: str
    reward: Decimal
    places: int
    destination: Destination
    lifetime_seconds: int = 7 * 24 * 3600
    time_allowed_seconds: int = 3600
    auto_approval_delay_seconds: int = 3 * 24 * 3600
    keywords: str = ""
    requirements: Sequence[QualificationRequirement] = ()
    annotation: str = ""  # crowdhr's own note on the work (which Outsourcer, which batch)
    #: how long the work takes a worker, when known; platforms that pay by the hour need it
    #: (Prolific checks its minimum hourly pay on this); None: the platform derives it
    estimated_seconds: int | None = None


class PostedWork(Protocol):
    """Anything that names a piece of posted work: a `PlatformHit`, or crowdhr's own HIT row."""

    @property
    def hit_id(self) -> str: ...

    @property
    def hit_type_id(self) -> str: ...


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
    #: the code a worker hands back to say the work is done, where the platform has one
    #: (Prolific: the study's COMPLETED code; see `Platform.completion_url`)
    completion_code: str = ""


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
    grant_time: datetime | None  # None where the platform does not say when (Prolific)


class Platform(abc.ABC):
    """One account on one crowd platform. Every method may raise `PlatformError`.

    The abstract methods are what every platform does. The others are guarded by a capability
    (`CAPABILITY_METHODS`): a platform that declares the capability must override them, one that
    does not inherits a method that refuses with a permanent PlatformError.
    """

    #: a short name for logs and the admin: "mturk-live", "mturk-sandbox", "mturk-emulator"
    name: str = ""
    #: what this platform can do beyond the abstract methods
    capabilities: ClassVar[frozenset[Capability]] = frozenset()
    #: Capability.BONUSES in two steps (`setup_bonus`, then `pay_bonus_setup`) because paying is
    #: not idempotent on this platform (Prolific); False: one idempotent `send_bonus` (MTurk)
    bonus_needs_setup: ClassVar[bool] = False
    #: `get_assignment` shows an assignment while it is being worked on (Prolific's active
    #: submissions), so a landing can be confirmed at once; False: only once submitted (MTurk)
    shows_work_in_progress: ClassVar[bool] = False
    #: `PlatformHit.pending` counts submitted work awaiting a decision too (Prolific's AWAITING
    #: REVIEW), so a decision lowers it; False: only work being done (MTurk)
    pending_includes_submitted: ClassVar[bool] = False

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        for capability in cls.capabilities:
            methods = CAPABILITY_METHODS.get(capability, ())
            if capability is Capability.BONUSES and cls.bonus_needs_setup:
                methods = TWO_STEP_BONUS_METHODS
            for method in methods:
                if getattr(cls, method) is getattr(Platform, method):
                    raise TypeError(f"{cls.__name__} declares {capability} but does not implement {method}")

    def supports(self, capability: Capability) -> bool:
        return capability in self.capabilities

    def refuse(self, capability: Capability) -> NoReturn:
        """Raise the permanent error for a call this platform cannot make."""
        raise PlatformError(
            f"{self.name or type(self).__name__} cannot do this: it has no {capability.value}.",
            code="NotSupported",
            permanent=True,
        )

    # --- HITs -----------------------------------------------------------------------------
    @abc.abstractmethod
    def create_hit(self, spec: WorkSpec, *, unique_request_token: str) -> PlatformHit:
        """Post the work. Repeating a call with the same token returns the work made the first time.

        A destination the platform cannot show (an HtmlForm without Capability.HTML_FORMS) is
        refused with a permanent PlatformError.
        """

    @abc.abstractmethod
    def get_hit(self, hit_id: str) -> PlatformHit: ...

    def in_progress(self, hit_id: str) -> int:
        """How many workers are working on the HIT now (accepted, not yet submitted): what bounds
        the claims crowdhr takes on trust (MTurk: GetHIT's NumberOfAssignmentsPending)."""
        return self.get_hit(hit_id).pending

    def in_progress_of(self, hit_ids: Sequence[str], *, account_hits: int) -> dict[str, int]:
        """`in_progress` of each of `hit_ids`, in as few calls as the platform allows; a HIT the
        platform cannot count now is left out. `account_hits` is about how many HITs the account
        has (crowdhr's own count): it tells whether reading the account's listing is cheaper
        than one call per HIT. One call per HIT here."""
        counts = {}
        for hit_id in hit_ids:
            try:
                counts[hit_id] = self.in_progress(hit_id)
            except PlatformError:
                continue
        return counts

    @abc.abstractmethod
    def list_hits(self) -> list[PlatformHit]:
        """Every HIT of this account (all pages)."""

    @abc.abstractmethod
    def expire_hit(self, hit_id: str) -> None:
        """Stop the HIT taking new workers now; submitted work stays reviewable."""

    def update_expiration(self, hit_id: str, expire_at: datetime) -> None:
        """Capability.RESUME: move the HIT's expiration (a time in the past expires it now)."""
        self.refuse(Capability.RESUME)

    def add_assignments(self, hit_id: str, count: int, *, unique_request_token: str) -> None:
        """Capability.REOPEN: add places to a HIT. A repeated token is success, done once."""
        self.refuse(Capability.REOPEN)

    @abc.abstractmethod
    def delete_hit(self, hit_id: str) -> None:
        """Dispose of an expired HIT whose assignments are all decided."""

    def completion_url(self, hit: PlatformHit) -> str:
        """Capability.COMPLETION_URL: where crowdhr's done page sends a worker to hand the work in
        on the platform (Prolific's completion URL with the study's code). A platform without it
        (MTurk: the worker's page posts to the platform's submit URL instead) answers ""."""
        return ""

    def worker_site_url(self, hit: PostedWork | None, hit_type_id: str = "") -> str:
        """Where a worker (or the researcher) sees this HIT (or, without one, this kind of HIT)
        on the platform's worker site; "" when the platform has no such page."""
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
    def send_bonus(
        self, *, worker_id: str, assignment_id: str, amount: Decimal, reason: str, unique_request_token: str
    ) -> None:
        """Capability.BONUSES: pay a bonus. A repeated token is success: paid the first time."""
        if self.bonus_needs_setup:
            raise PlatformError(
                f"{self.name or type(self).__name__} pays bonuses in two steps (setup_bonus, then "
                "pay_bonus_setup through the ledger), never in one unguarded call.",
                code="TwoStepBonus",
                permanent=True,
            )
        self.refuse(Capability.BONUSES)

    def list_bonus_payments(self, *, hit_id: str = "", assignment_id: str = "") -> list[BonusPayment]:
        """Capability.BONUSES: the bonuses paid for a HIT or for one assignment."""
        self.refuse(Capability.BONUSES)

    # Two-step bonuses (`bonus_needs_setup`): the ledger records the reference `setup_bonus`
    # returns BEFORE it calls `pay_bonus_setup`, and after a pay whose outcome it does not know
    # it asks `bonus_was_paid` instead of paying again (hits.payments).
    def setup_bonus(
        self, *, worker_id: str, assignment_id: str, hit_id: str, amount: Decimal, reason: str
    ) -> str:
        """Prepare a bonus to the worker who did the assignment; pays nothing. Returns the
        platform's reference for it. A worker who did not do the assignment is refused."""
        self.refuse(Capability.BONUSES)

    def pay_bonus_setup(self, reference: str) -> None:
        """Pay a prepared bonus. NOT idempotent: every call pays again."""
        self.refuse(Capability.BONUSES)

    def bonus_was_paid(
        self, reference: str, *, worker_id: str, assignment_id: str, amount: Decimal, known_paid: int
    ) -> bool | None:
        """After a pay whose outcome is unknown: does the platform show more than `known_paid`
        bonuses of `amount` to this worker for this assignment? None: it cannot tell yet."""
        self.refuse(Capability.BONUSES)

    @abc.abstractmethod
    def account_balance(self) -> Decimal: ...

    # --- Workers --------------------------------------------------------------------------
    def notify_workers(self, worker_ids: Sequence[str], *, subject: str, message: str) -> list[str]:
        """Capability.MESSAGES: message workers; returns the ids that could not be reached."""
        self.refuse(Capability.MESSAGES)

    def block_worker(self, worker_id: str, *, reason: str) -> None:
        """Capability.HARD_BLOCKS: keep the worker off everything this account posts."""
        self.refuse(Capability.HARD_BLOCKS)

    def unblock_worker(self, worker_id: str, *, reason: str = "") -> None:
        """Capability.HARD_BLOCKS: lift a block."""
        self.refuse(Capability.HARD_BLOCKS)

    def list_blocked_workers(self) -> dict[str, str]:
        """Capability.HARD_BLOCKS: blocked worker id -> reason."""
        self.refuse(Capability.HARD_BLOCKS)

    # --- Hooks ------------------------------------------------------------------------------
    def ensure_hooks(self, target_url: str) -> str:
        """Capability.HOOKS: have the platform deliver crowdhr's events (submissions and studies
        changing status) to `target_url`; returns the secret the deliveries are signed with.
        Safe to repeat: subscriptions already in place are kept."""
        self.refuse(Capability.HOOKS)

    # --- Exclusion lists --------------------------------------------------------------------
    def ensure_exclusion_list(self, *, name: str, description: str) -> str:
        """Capability.EXCLUSION_LISTS: the id of this account's list of workers with that name,
        created (empty) if missing. Work posted with `exclusion_requirement(id)` keeps its
        members out, also those added after the work was posted."""
        self.refuse(Capability.EXCLUSION_LISTS)

    def add_to_exclusion_list(self, list_id: str, worker_id: str) -> None:
        """Capability.EXCLUSION_LISTS: put the worker on the list (adding a member again is success).
        The worker is not told."""
        self.refuse(Capability.EXCLUSION_LISTS)

    # --- Qualifications -------------------------------------------------------------------
    def ensure_qualification_type(
        self,
        *,
        name: str,
        description: str,
        retry_delay_seconds: int | None = None,
        auto_granted_value: int | None = None,
    ) -> str:
        """Capability.QUALIFICATIONS: the id of this account's qualification type with that name,
        created if missing. With `auto_granted_value` a worker without a score gets that score
        when first asked (so newcomers pass a "score >= n" requirement)."""
        self.refuse(Capability.QUALIFICATIONS)

    def set_qualification_score(self, qualification_type_id: str, worker_id: str, value: int) -> None:
        """Capability.QUALIFICATIONS: give the worker this score."""
        self.refuse(Capability.QUALIFICATIONS)

    def get_qualification_score(self, qualification_type_id: str, worker_id: str) -> int | None:
        """Capability.QUALIFICATIONS: the worker's score, or None when they do not hold it."""
        self.refuse(Capability.QUALIFICATIONS)

    def remove_qualification(self, qualification_type_id: str, worker_id: str, *, reason: str = "") -> None:
        """Capability.QUALIFICATIONS: take the qualification away."""
        self.refuse(Capability.QUALIFICATIONS)
