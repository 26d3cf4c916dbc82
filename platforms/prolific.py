"""Prolific through its REST API v1 (`requests`): the live site, or crowdhr's local Prolific.

Facts about the API are from Prolific's API reference (docs.prolific.com/api-reference) as
summarised in /work/shared/PROLIFIC.md; where a choice is crowdhr's own, the comment says why.

Translation to crowdhr's words: a HIT is a study, an assignment a submission, a worker a
participant. Every failure becomes a `PlatformError`: 5xx, 429, time-outs and broken connections
are temporary (`permanent=False`), any other 4xx is permanent. GETs are retried on 429/502/503/504
by urllib3 (safe: reads change nothing); writes are never retried here, because Prolific has no
idempotency token: exactly-once is built on reads (`create_hit`, `add_assignments`) or left to
the ledger (bonuses, in two steps: `setup_bonus`, `pay_bonus_setup`, `bonus_was_paid`).
"""

from __future__ import annotations

import functools
import hashlib
import logging
import math
import time
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any, TypeVar

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from requests.adapters import HTTPAdapter
from urllib3.util.retry import Retry

from .base import (
    EXCLUDED,
    BonusPayment,
    Capability,
    ExternalPage,
    Platform,
    PlatformAssignment,
    PlatformError,
    PlatformHit,
    PostedWork,
    WorkSpec,
)
from .fees import CENT, FeeRules
from .registry import Environment, PlatformType, register

if TYPE_CHECKING:
    from platforms.models import PlatformAccount

logger = logging.getLogger("crowdhr.platform")
_T = TypeVar("_T")

LIVE_URL = "https://api.prolific.com/api/v1/"
LIVE_COMPLETION_URL = "https://app.prolific.com/submissions/complete"
PAGE_SIZE = 100
BLOCK_GROUP = "crowdhr blocked"
#: the hook events crowdhr subscribes to: both make review sooner (experiments.hooks)
HOOK_EVENTS = ("submission.status.change", "study.status.change")
#: Prolific's service fee on rewards and bonuses ("~33.33%", the same rate for both; the local
#: Prolific models the same constant). No minimum fee: a 1-cent reward costs no fee.
PROLIFIC_FEES = FeeRules(rate=Decimal("0.3333"), bonus_rate=Decimal("0.3333"), minimum_fee=Decimal("0.00"))
#: a REJECT needs a message of at least 100 characters (reference: "Approve or reject a submission")
MINIMUM_REJECTION_MESSAGE = 100
REJECTION_PADDING = (
    "This submission was reviewed by the researcher and could not be accepted for the reason given. "
    "If you think this is a mistake, please write to the researcher through Prolific."
)
MAX_MINUTES = 24 * 60 - 1  # Prolific: the maximum time allowed is always less than 24 hours
PID_PARAMETERS = "PROLIFIC_PID={{%PROLIFIC_PID%}}&STUDY_ID={{%STUDY_ID%}}&SESSION_ID={{%SESSION_ID%}}"
ALL_DEVICES = ["desktop", "tablet", "mobile"]
MAX_INTERNAL_NAME = 255

# Study statuses as MTurk's HIT statuses (crowdhr's vocabulary). Prolific has no expired or
# disposed study: a stopped or full study is AWAITING REVIEW, and COMPLETED once every
# submission is decided, which is what crowdhr means by a disposed HIT (nothing left to do).
HIT_STATUS = {
    "UNPUBLISHED": "Unassignable",
    "SCHEDULED": "Unassignable",
    "ACTIVE": "Assignable",
    "PAUSED": "Unassignable",
    "PROCESSING": "Unassignable",
    "AWAITING REVIEW": "Reviewable",
    "COMPLETED": "Disposed",
}
CLOSED_STUDIES = {"AWAITING REVIEW", "COMPLETED"}
# Submission statuses as assignment statuses. Only the first three are submitted work; returned,
# timed-out, reserved and active places are not, and stay out of the default listing.
ASSIGNMENT_STATUS = {
    "AWAITING REVIEW": "Submitted",
    "APPROVED": "Approved",
    "REJECTED": "Rejected",
    "RETURNED": "Returned",
    "TIMED-OUT": "TimedOut",
    "RESERVED": "Reserved",
    "ACTIVE": "Active",
    "PROCESSING": "Processing",
}
WORKING = ("RESERVED", "ACTIVE")
DECIDING = ("AWAITING REVIEW",)
DECIDED = ("APPROVED", "REJECTED")


def completion_code_for(unique_request_token: str) -> str:
    """The study's COMPLETED code, derived from its creation token: stable across retries, so a
    study found again after a lost answer has the code crowdhr expects."""
    return "CH" + hashlib.sha256(unique_request_token.encode()).hexdigest()[:10].upper()


class Prolific(Platform):
    """One Prolific workspace (an API token, optionally one project of it) on one API base URL."""

    capabilities = frozenset(
        {
            Capability.BONUSES,
            Capability.MESSAGES,
            Capability.HARD_BLOCKS,
            Capability.REOPEN,
            Capability.COMPLETION_URL,
            Capability.HOOKS,
            Capability.EXCLUSION_LISTS,
        }
    )
    bonus_needs_setup = True
    shows_work_in_progress = True
    pending_includes_submitted = True

    def __init__(
        self,
        *,
        environment: str,
        token: str,
        base_url: str,
        project_id: str = "",
        completion_base: str = LIVE_COMPLETION_URL,
        timeout: float = 30,
    ) -> None:
        if not token:
            raise PlatformError("A Prolific account needs its API token.", "NoToken", permanent=True)
        self.environment = environment
        self.name = f"prolific-{environment}"
        self.base_url = base_url if base_url.endswith("/") else base_url + "/"
        self.project_id = project_id
        self.completion_base = completion_base
        self.timeout = timeout
        self.session = requests.Session()
        self.session.headers.update({"Authorization": f"Token {token}", "Accept": "application/json"})
        reads = Retry(
            total=3,
            backoff_factor=0.5,
            status_forcelist=(429, 502, 503, 504),
            allowed_methods=frozenset({"GET"}),
            respect_retry_after_header=True,
            raise_on_status=False,
        )
        self.session.mount("https://", HTTPAdapter(max_retries=reads, pool_maxsize=20))
        self.session.mount("http://", HTTPAdapter(max_retries=reads, pool_maxsize=20))
        self._workspace_id = ""
        self._block_group_id = ""

    # --- calling -------------------------------------------------------------------------
    def _call(self, method: str, path: str, *, body: Any = None, params: dict[str, Any] | None = None) -> Any:
        """One API call (path relative to the base, or an absolute `next` link); JSON back."""
        return self._answer(method, path, body=body, params=params)[0]

    def _answer(
        self, method: str, path: str, *, body: Any = None, params: dict[str, Any] | None = None
    ) -> tuple[Any, requests.structures.CaseInsensitiveDict[str]]:
        """One API call: its JSON and its headers (a subscription's X-Hook-Secret is a header)."""
        url = path if path.startswith(("http://", "https://")) else self.base_url + path
        started = time.monotonic()
        outcome = "ok"
        try:
            answer = self.session.request(method, url, json=body, params=params, timeout=self.timeout)
        except requests.Timeout as error:
            outcome = "Timeout"
            raise PlatformError(
                f"Prolific did not answer in time: {error}", "Timeout", permanent=False
            ) from error
        except requests.RequestException as error:
            outcome = type(error).__name__
            raise PlatformError(
                f"Prolific could not be reached: {error}", outcome, permanent=False
            ) from error
        finally:
            logger.info(
                "platform call",
                extra={
                    "platform": self.name,
                    "operation": f"{method} {path.split('?')[0]}",
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                    "outcome": outcome,
                },
            )
        if answer.status_code >= 400:
            raise _platform_error(answer)
        if answer.status_code == 204 or not answer.content:
            return {}, answer.headers
        try:
            return answer.json(), answer.headers
        except ValueError as error:
            raise PlatformError(
                "Prolific answered with something that is not JSON.", "BadAnswer", False
            ) from error

    def _pages(self, path: str, params: dict[str, Any] | None = None) -> Iterator[dict[str, Any]]:
        """Every item of a paginated list, following `_links.next.href` to the end."""
        answer = self._call("GET", path, params={"page_size": PAGE_SIZE, **(params or {})})
        while True:
            yield from answer.get("results", [])
            following = _next_link(answer)
            if not following:
                return
            answer = self._call("GET", following)

    def _workspace(self) -> str:
        """The workspace the token (or the account's project) belongs to, asked once."""
        if not self._workspace_id:
            if self.project_id:
                self._workspace_id = self._call("GET", f"projects/{self.project_id}/")["workspace"]
            else:
                workspaces = self._call("GET", "workspaces/").get("results", [])
                if not workspaces:
                    raise PlatformError("The token belongs to no Prolific workspace.", "NoWorkspace")
                self._workspace_id = workspaces[0]["id"]
        return self._workspace_id

    # --- HITs: studies -------------------------------------------------------------------
    def create_hit(self, spec: WorkSpec, *, unique_request_token: str) -> PlatformHit:
        """One study with all places, published. Exactly once without an idempotency token: the
        token is the study's `internal_name`, and a study carrying it is found before creating."""
        if not isinstance(spec.destination, ExternalPage):
            raise PlatformError("Prolific shows only external study pages.", "UnsupportedDestination")
        if any(r.comparator != EXCLUDED for r in spec.requirements):
            raise PlatformError(
                "Prolific has no qualification requirements crowdhr can set (only exclusion lists).",
                "UnsupportedRequirements",
            )
        excluded = [r.qualification_type_id for r in spec.requirements]
        study = self._study_by_token(unique_request_token)
        if study is None:
            try:
                study = self._with_block_group(
                    lambda group: self._call(
                        "POST", "studies/", body=self._draft(spec, unique_request_token, [group, *excluded])
                    )
                )
            except PlatformError as error:
                # The outcome is unknown: read whether the draft was made, never post it again here.
                study = None if error.permanent else self._study_by_token(unique_request_token)
                if study is None:
                    raise
        if study["status"] == "UNPUBLISHED":
            study = self._publish(study["id"])
        return _hit(study)

    def _publish(self, study_id: str) -> dict[str, Any]:
        try:
            return self._call("POST", f"studies/{study_id}/transition/", body={"action": "PUBLISH"})
        except PlatformError as error:
            study = self._call("GET", f"studies/{study_id}/")
            if study["status"] == "UNPUBLISHED":
                raise error from None
            return study

    def _study_by_token(self, token: str) -> dict[str, Any] | None:
        for study in self._pages("studies/"):
            if _tokens(study)[:1] == [token]:
                return study
        return None

    def _draft(self, spec: WorkSpec, token: str, block_groups: list[str]) -> dict[str, Any]:
        maximum = min(MAX_MINUTES, max(1, math.ceil(spec.time_allowed_seconds / 60)))
        if spec.estimated_seconds:
            estimated = max(1, math.ceil(spec.estimated_seconds / 60))
        else:  # the inverse of Prolific's own default (maximum = 3 x estimate + 2)
            estimated = max(1, (maximum - 2) // 3)
        url = spec.destination.url  # type: ignore[union-attr]
        draft: dict[str, Any] = {
            "name": spec.title,
            "internal_name": token,
            "description": spec.description,
            "external_study_url": f"{url}{'&' if '?' in url else '?'}{PID_PARAMETERS}",
            "prolific_id_option": "url_parameters",
            "completion_codes": [
                {
                    "code": completion_code_for(token),
                    "code_type": "COMPLETED",
                    "actions": [{"action": "MANUALLY_REVIEW"}],
                }
            ],
            "total_available_places": spec.places,
            "estimated_completion_time": min(estimated, maximum),
            "maximum_allowed_time": maximum,
            "reward": _cents(spec.reward),
            "device_compatibility": ALL_DEVICES,
            # Blocked participants are kept out through the workspace's block group, and the
            # exclusion lists asked for (groups too); the study follows later changes to members.
            "filters": [{"filter_id": "participant_group_blocklist", "selected_values": block_groups}],
        }
        if self.project_id:
            draft["project"] = self.project_id
        return draft

    def get_hit(self, hit_id: str) -> PlatformHit:
        return _hit(self._call("GET", f"studies/{hit_id}/"))

    def in_progress(self, hit_id: str) -> int:
        """The study's active submissions (reserved or started, not yet completed)."""
        return _count(self._call("GET", f"studies/{hit_id}/"), *WORKING)

    def list_hits(self) -> list[PlatformHit]:
        studies = self._pages("studies/")
        return [
            _hit(study)
            for study in studies
            if not self.project_id or study.get("project") in (None, self.project_id)
        ]

    def expire_hit(self, hit_id: str) -> None:
        """STOP, not PAUSE: crowdhr's expire means "take nobody new, review what came in", and a
        stopped study releases the funds held for its empty places; PAUSE would hold them and
        needs a START that crowdhr never sends. Places can still be added (`add_assignments`),
        which reopens the study. A study that is already closed is left as it is."""
        study = self._call("GET", f"studies/{hit_id}/")
        if study["status"] in CLOSED_STUDIES:
            return
        try:
            self._call("POST", f"studies/{hit_id}/transition/", body={"action": "STOP"})
        except PlatformError as error:
            if not (error.permanent and self._call("GET", f"studies/{hit_id}/")["status"] in CLOSED_STUDIES):
                raise

    def add_assignments(self, hit_id: str, count: int, *, unique_request_token: str) -> None:
        """Raise the study's places. Exactly once per token: the token joins the study's
        `internal_name` in the same PATCH that raises the places (both may change after
        publishing), so a retry after a lost answer reads it there and adds nothing."""
        study = self._call("GET", f"studies/{hit_id}/")
        tokens = _tokens(study)
        if unique_request_token in tokens:
            return
        names = [*tokens, unique_request_token]
        while len(" ".join(names)) > MAX_INTERNAL_NAME and len(names) > 2:
            del names[1]  # forget the oldest reopen token, never the creation token
        self._call(
            "PATCH",
            f"studies/{hit_id}/",
            body={
                "total_available_places": study["total_available_places"] + count,
                "internal_name": " ".join(names),
            },
        )

    def delete_hit(self, hit_id: str) -> None:
        """A draft is deleted. A published study is never deleted on Prolific: with every
        submission decided there is nothing left to do (success); with undecided ones, refused."""
        study = self._call("GET", f"studies/{hit_id}/")
        if study["status"] == "UNPUBLISHED":
            self._call("DELETE", f"studies/{hit_id}/")
            return
        undecided = _count(study, *WORKING, *DECIDING, "PROCESSING")
        if study["status"] not in CLOSED_STUDIES or undecided:
            raise PlatformError(
                f"Study {hit_id} still takes participants or has undecided submissions.",
                "StudyNotFinished",
                permanent=True,
            )

    def completion_url(self, hit: PlatformHit) -> str:
        """Prolific's completion URL with the study's COMPLETED code: a participant finishes only
        by arriving there in the browser (there is no API call for it)."""
        return f"{self.completion_base}?cc={hit.completion_code}" if hit.completion_code else ""

    def worker_site_url(self, hit: PostedWork | None, hit_type_id: str = "") -> str:
        if self.environment == "emulator":
            base = self.completion_base.removesuffix("submissions/complete")
            return f"{base}studies/{hit.hit_id}/take-part/" if hit else base
        return f"https://app.prolific.com/researcher/workspaces/studies/{hit.hit_id}" if hit else ""

    # --- Hooks -------------------------------------------------------------------------------
    def ensure_hooks(self, target_url: str) -> str:
        """The workspace's hook secret (created the first time: Prolific keeps one active secret
        per workspace, and a new one would break other receivers), and a confirmed subscription of
        `target_url` to each of HOOK_EVENTS. A subscription is confirmed by posting back the
        `X-Hook-Secret` header its creation answered with (webhook reference, "Subscribing"); an
        unconfirmed one left by an earlier attempt cannot be confirmed any more and is replaced."""
        workspace = self._workspace()
        secrets = self._call("GET", "hooks/secrets/", params={"workspace_id": workspace}).get("results", [])
        if secrets:
            secret = secrets[0]["value"]
        else:
            secret = self._call("POST", "hooks/secrets/", body={"workspace_id": workspace})["value"]
        existing = self._pages("hooks/subscriptions/", {"workspace_id": workspace})
        mine = [s for s in existing if s.get("target_url") == target_url]
        for event_type in HOOK_EVENTS:
            same = [s for s in mine if s.get("event_type") == event_type]
            if any(s.get("is_enabled") for s in same):
                continue
            for stale in same:
                self._call("DELETE", f"hooks/subscriptions/{stale['id']}/")
            body = {"workspace_id": workspace, "event_type": event_type, "target_url": target_url}
            created, headers = self._answer("POST", "hooks/subscriptions/", body=body)
            confirmation = headers.get("X-Hook-Secret", "")
            self._call("POST", f"hooks/subscriptions/{created['id']}/", body={"secret": confirmation})
        return str(secret)

    # --- Assignments: submissions ----------------------------------------------------------
    def list_assignments(
        self, hit_id: str, statuses: Sequence[str] = ("Submitted", "Approved", "Rejected")
    ) -> list[PlatformAssignment]:
        listed = (_assignment(raw) for raw in self._pages(f"studies/{hit_id}/submissions/"))
        return [assignment for assignment in listed if assignment.status in statuses]

    def get_assignment(self, assignment_id: str) -> PlatformAssignment:
        return _assignment(self._call("GET", f"submissions/{assignment_id}/"))

    def approve_assignment(
        self, assignment_id: str, *, feedback: str = "", override_rejection: bool = False
    ) -> None:
        """APPROVE (the reference: the same request twice is ignored). Prolific shows no
        feedback on approval, and a rejection cannot be undone (`override_rejection` is refused)."""
        self._decide(assignment_id, {"action": "APPROVE"}, "Approved")

    def reject_assignment(
        self, assignment_id: str, *, feedback: str, rejection_category: str = "OTHER"
    ) -> None:
        """REJECT with a category and crowdhr's feedback, padded (never cut) with a standard
        sentence to the 100 characters Prolific asks for."""
        message = feedback.strip()
        if len(message) < MINIMUM_REJECTION_MESSAGE:
            message = f"{message} {REJECTION_PADDING}".strip()
        body = {"action": "REJECT", "rejection_category": rejection_category, "message": message}
        self._decide(assignment_id, body, "Rejected")

    def _decide(self, assignment_id: str, body: dict[str, str], status: str) -> None:
        try:
            self._call("POST", f"submissions/{assignment_id}/transition/", body=body)
        except PlatformError as error:
            if not error.permanent:
                raise
            current = self.get_assignment(assignment_id).status
            if current == "Processing":  # Prolific is still applying a decision: ask again later
                raise PlatformError(error.message, error.code, permanent=False) from error
            if current != status:
                raise

    # --- Money ---------------------------------------------------------------------------
    def setup_bonus(
        self, *, worker_id: str, assignment_id: str, hit_id: str, amount: Decimal, reason: str
    ) -> str:
        """Set up a bulk bonus of one line (the submission id, so only that participant's place
        is paid); nothing is paid yet. Prolific keeps no reason with a bonus."""
        submission = self.get_assignment(assignment_id)
        if submission.worker_id != worker_id or submission.hit_id != hit_id:
            raise PlatformError(
                f"{worker_id} did not do submission {assignment_id} of study {hit_id}.", "NotTheWorker"
            )
        line = f"{assignment_id},{Decimal(amount).quantize(CENT)}"
        answer = self._call(
            "POST", "submissions/bonus-payments/", body={"study_id": hit_id, "csv_bonuses": line}
        )
        return str(answer["id"])

    def pay_bonus_setup(self, reference: str) -> None:
        """Pay a set-up bulk bonus: asynchronous on Prolific and NOT idempotent ("sending multiple
        requests with the same bulk bonus payment ID will result in participants being paid
        multiple times"). Only the ledger calls this, once per recorded reference."""
        self._call("POST", f"bulk-bonus-payments/{reference}/pay/")

    def bonus_was_paid(
        self, reference: str, *, worker_id: str, assignment_id: str, amount: Decimal, known_paid: int
    ) -> bool | None:
        """The reference has no read of a bulk bonus; the most exact documented read is the
        submission's `bonus_payments` (amounts in minor units). Paid when it shows more bonuses of
        this amount than the `known_paid` ones. None when the answer has no such list."""
        raw = self._call("GET", f"submissions/{assignment_id}/")
        if raw.get("participant_id") != worker_id:
            raise PlatformError(f"{worker_id} did not do submission {assignment_id}.", "NotTheWorker")
        paid = raw.get("bonus_payments")
        if not isinstance(paid, list):
            return None
        return sum(1 for cents in paid if _minor(cents) == _cents(amount)) > known_paid

    def list_bonus_payments(self, *, hit_id: str = "", assignment_id: str = "") -> list[BonusPayment]:
        """What the submissions' `bonus_payments` show: amounts, without reasons or times."""
        rows = (
            [self._call("GET", f"submissions/{assignment_id}/")]
            if assignment_id
            else self._pages(f"studies/{hit_id}/submissions/")
        )
        return [
            BonusPayment(
                worker_id=raw["participant_id"],
                assignment_id=raw["id"],
                amount=Decimal(_minor(cents)) / 100,
                reason="",
                grant_time=None,
            )
            for raw in rows
            for cents in raw.get("bonus_payments") or []
        ]

    def account_balance(self) -> Decimal:
        """The workspace's available balance: what is left after the funds held for open places,
        as MTurk's available balance is what is left after posting."""
        report = self._call("GET", f"workspaces/{self._workspace()}/balance/")
        return Decimal(report["available_balance"]) / 100

    # --- Workers: participants -----------------------------------------------------------
    def notify_workers(self, worker_ids: Sequence[str], *, subject: str, message: str) -> list[str]:
        """One message per participant about the latest study of this account they took part in
        (Prolific files messages under a study); those who took part in none are returned."""
        wanted = list(dict.fromkeys(worker_ids))
        studies = self._latest_studies(set(wanted))
        failed = []
        for participant in wanted:
            if participant not in studies:
                failed.append(participant)
                continue
            body = {
                "recipient_id": participant,
                "study_id": studies[participant],
                "body": f"{subject}\n\n{message}",
            }
            try:
                self._call("POST", "messages/", body=body)
            except PlatformError as error:
                if not error.permanent:
                    raise
                failed.append(participant)
        return failed

    def _latest_studies(self, participants: set[str]) -> dict[str, str]:
        """participant -> the newest study of this account they took part in."""
        found: dict[str, str] = {}
        studies = sorted(self._pages("studies/"), key=lambda s: s.get("date_created") or "", reverse=True)
        for study in studies:
            if study["status"] == "UNPUBLISHED" or not (participants - found.keys()):
                continue
            for raw in self._pages(f"studies/{study['id']}/submissions/"):
                if raw["participant_id"] in participants:
                    found.setdefault(raw["participant_id"], study["id"])
        return found

    def block_worker(self, worker_id: str, *, reason: str) -> None:
        """Add the participant to the workspace's block group, which every study crowdhr posts
        excludes. Prolific keeps no reason with a group member (crowdhr's Block row has it)."""
        body = {"participant_ids": [worker_id]}
        self._with_block_group(
            lambda group: self._call("POST", f"participant-groups/{group}/participants/", body=body)
        )

    def unblock_worker(self, worker_id: str, *, reason: str = "") -> None:
        body = {"participant_ids": [worker_id]}
        self._with_block_group(
            lambda group: self._call("DELETE", f"participant-groups/{group}/participants/", body=body)
        )

    def list_blocked_workers(self) -> dict[str, str]:
        answer = self._with_block_group(
            lambda group: self._call("GET", f"participant-groups/{group}/participants/")
        )
        return {row["participant_id"]: "" for row in answer.get("results", [])}

    def ensure_exclusion_list(self, *, name: str, description: str) -> str:
        """A participant group of the workspace, used by studies as a block list."""

        def ensure() -> str:
            found = self._groups_by_name().get(name)
            if found:
                return found
            body = {"name": name, "workspace_id": self._workspace(), "description": description}
            return self._call("POST", "participant-groups/", body={**body, "participant_ids": []})["id"]

        remembered = bool(self._workspace_id)
        try:
            return ensure()
        except PlatformError as error:  # a remembered workspace can stop being true (`_with_block_group`)
            if not (remembered and error.permanent):
                raise
            self._block_group_id = self._workspace_id = ""
            return ensure()

    def add_to_exclusion_list(self, list_id: str, worker_id: str) -> None:
        self._call(
            "POST", f"participant-groups/{list_id}/participants/", body={"participant_ids": [worker_id]}
        )

    def _block_group(self) -> str:
        """The id of the workspace's group "crowdhr blocked", created the first time."""
        if not self._block_group_id:
            self._block_group_id = self._groups_by_name().get(BLOCK_GROUP) or self._create_block_group()
        return self._block_group_id

    def _with_block_group(self, use: Callable[[str], _T]) -> _T:
        """`use(block group id)`; when a remembered id is refused, look the group up again once.

        Clients are kept per token (`_client`), and what they remember (the workspace, its block
        group) can stop being true: the group deleted in Prolific's own pages, or, with the local
        Prolific, a fresh twin database behind the same token. A refusal is only trusted from ids
        read just now."""
        remembered = bool(self._block_group_id)
        try:
            return use(self._block_group())
        except PlatformError as error:
            if not (remembered and error.permanent):
                raise
            self._block_group_id = self._workspace_id = ""
            return use(self._block_group())

    def _create_block_group(self) -> str:
        return self._call(
            "POST",
            "participant-groups/",
            body={
                "name": BLOCK_GROUP,
                "workspace_id": self._workspace(),
                "description": "Participants blocked in crowdhr: every study crowdhr posts excludes them.",
                "participant_ids": [],
            },
        )["id"]

    def _groups_by_name(self) -> dict[str, str]:
        answer = self._call("GET", "participant-groups/", params={"workspace_id": self._workspace()})
        groups = [group for group in answer.get("results", []) if not group.get("is_deleted")]
        return {group["name"]: group["id"] for group in sorted(groups, key=lambda g: g["id"], reverse=True)}


# --- translation helpers --------------------------------------------------------------------------
def _platform_error(answer: requests.Response) -> PlatformError:
    """Prolific's error body {"error": {"status", "error_code", "title", "detail"}} as a PlatformError."""
    try:
        error = answer.json().get("error", {})
    except (ValueError, AttributeError):
        error = {}
    detail = error.get("detail", "") if isinstance(error, dict) else ""
    if isinstance(detail, dict):
        detail = "; ".join(
            f"{name}: {' '.join(map(str, msgs if isinstance(msgs, list) else [msgs]))}"
            for name, msgs in detail.items()
        )
    title = error.get("title", "") if isinstance(error, dict) else ""
    message = str(detail or title or answer.reason or f"HTTP {answer.status_code}")
    code = str(error.get("error_code") or "") if isinstance(error, dict) else ""
    temporary = answer.status_code >= 500 or answer.status_code == 429
    return PlatformError(message, code=code or f"HTTP{answer.status_code}", permanent=not temporary)


def _next_link(answer: dict[str, Any]) -> str:
    links = answer.get("_links") or {}
    following = links.get("next") if isinstance(links, dict) else None
    if isinstance(following, dict):
        return following.get("href") or ""
    return following or answer.get("next") or ""


def _tokens(study: dict[str, Any]) -> list[str]:
    return (study.get("internal_name") or "").split()


def _cents(amount: Decimal) -> int:
    cents = (Decimal(amount) * 100).quantize(Decimal(1), ROUND_HALF_UP)
    if cents != Decimal(amount) * 100:
        raise PlatformError(f"{amount} is not an amount in whole cents.", "BadAmount")
    return int(cents)


def _minor(value: Any) -> int:
    """A bonus amount as the read shows it: minor units (a number, or an object with `amount`)."""
    if isinstance(value, dict):
        value = value.get("amount", 0)
    return int(Decimal(str(value)))


def _when(text: str | None) -> datetime | None:
    moment = parse_datetime(text) if text else None
    if moment is not None and timezone.is_naive(moment):
        moment = timezone.make_aware(moment, UTC)
    return moment


def _count(study: dict[str, Any], *statuses: str) -> int:
    counts = study.get("submissions_counts") or {}
    return sum(int(counts.get(status, 0)) for status in statuses)


def _hit(study: dict[str, Any]) -> PlatformHit:
    """A study as a PlatformHit. Prolific has no expiry time: an open study reports a year after
    its creation (it runs until its places are taken or it is stopped), a closed one the moment
    of the read (it takes nobody any more)."""
    created = _when(study.get("date_created")) or timezone.now()
    status = study["status"]
    places = int(study.get("total_available_places", 0))
    taken = int(study.get("places_taken", 0))
    closed = status in CLOSED_STUDIES
    codes = [c["code"] for c in study.get("completion_codes") or [] if c.get("code_type") == "COMPLETED"]
    return PlatformHit(
        hit_id=study["id"],
        hit_type_id=study.get("project") or "",
        status=HIT_STATUS.get(status, "Unassignable"),
        title=study.get("name", ""),
        reward=Decimal(study.get("reward", 0)) / 100,
        max_assignments=places,
        available=max(0, places - taken) if status == "ACTIVE" else 0,
        pending=_count(study, *WORKING, *DECIDING),
        completed=_count(study, *DECIDED),
        creation_time=created,
        expiration=timezone.now() if closed else created + timedelta(days=365),
        review_status="Reviewed" if status == "COMPLETED" else "NotReviewed",
        requester_annotation=study.get("internal_name", ""),
        completion_code=codes[0] if codes else "",
    )


def _assignment(raw: dict[str, Any]) -> PlatformAssignment:
    status = ASSIGNMENT_STATUS.get(raw["status"], raw["status"])
    code = raw.get("study_code") or ""
    return PlatformAssignment(
        assignment_id=raw["id"],
        worker_id=raw["participant_id"],
        hit_id=raw.get("study_id", ""),
        status=status,
        accept_time=_when(raw.get("started_at")),
        submit_time=_when(raw.get("completed_at")),
        answers={"completion_code": code} if code else {},
    )


# --- the Prolific platform: clients per account, environments, fees -----------------------------
def emulator_url() -> str:
    """Where the local Prolific's API answers (only where the emulators are enabled)."""
    if not settings.EMULATOR_ENABLED:
        raise ImproperlyConfigured(
            "The local Prolific is not enabled (MTURK_ENDPOINT=emulator enables the twins)."
        )
    return settings.PROLIFIC_EMULATOR_URL


def connect(account: PlatformAccount) -> Prolific:
    """The Prolific client for a researcher's account: its API token (`secret_access_key`) and,
    optionally, the project its studies go to (`access_key_id`)."""
    local = account.environment == "emulator"
    return _client(
        account.environment,
        account.secret_access_key,
        account.access_key_id,
        emulator_url() if local else LIVE_URL,
    )


@functools.lru_cache(maxsize=64)
def _client(environment: str, token: str, project_id: str, base_url: str) -> Prolific:
    """Clients are kept per account: a session keeps its connections (and the workspace id)."""
    completion = LIVE_COMPLETION_URL
    if environment == "emulator":
        completion = base_url.rstrip("/").removesuffix("/api/v1") + "/submissions/complete"
    return Prolific(
        environment=environment,
        token=token,
        base_url=base_url,
        project_id=project_id,
        completion_base=completion,
    )


PROLIFIC = register(
    PlatformType(
        key="prolific",
        label="Prolific",
        client_class=Prolific,
        connect=connect,
        environments=(
            Environment("live", "Prolific (real money)", real_money=True, live_setting="PROLIFIC_LIVE"),
            Environment("emulator", "Local Prolific (development)", local=True),
        ),
        fees=PROLIFIC_FEES,
        credential_labels=("Project id (optional)", "API token"),
    )
)
