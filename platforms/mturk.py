"""Amazon Mechanical Turk through boto3: the live site, the sandbox, or crowdhr's local emulator.

Throttling and 5xx answers are retried by botocore's standard retry mode; every other failure
becomes a `PlatformError` whose `permanent` flag tells the caller whether to try again later.
CreateHIT calls, which publishing makes many of at once, are paced to the account's rate limit
(`MTURK_RATE_LIMIT`, `platforms.pacing`): every attempt waits for its token, and a throttled one
is tried again with the next token rather than after botocore's exponential backoff.
"""

from __future__ import annotations

import functools
import html
import logging
import math
import re
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from .base import (
    BonusPayment,
    Capability,
    Destination,
    ExternalPage,
    HtmlForm,
    Platform,
    PlatformAssignment,
    PlatformError,
    PlatformHit,
    PostedWork,
    QualificationRequirement,
    WorkSpec,
)
from .fees import MTURK_FEES
from .pacing import Pace, Rate
from .registry import Environment, PlatformType, register

if TYPE_CHECKING:
    from platforms.models import PlatformAccount

logger = logging.getLogger("crowdhr.platform")

SANDBOX_URL = "https://mturk-requester-sandbox.us-east-1.amazonaws.com"
WORKER_SITES = {
    "live": "https://worker.mturk.com",
    "sandbox": "https://workersandbox.mturk.com",
}
PAGE_SIZE = 100
NOTIFY_LIMIT = 100

# Errors that say "try again later" rather than "this request is wrong".
TEMPORARY_CODES = {
    "ServiceFault",
    "ServiceUnavailable",
    "ThrottlingException",
    "Throttling",
    "RequestTimeout",
    "InternalError",
    "InternalFailure",
}
_THROTTLED = {"ThrottlingException", "Throttling"}
_HIT_ALREADY_EXISTS = "AWS.MechanicalTurk.HitAlreadyExists"
_TOKEN_USED = re.compile(r"token.*(already|previously).*used|already.*used.*token", re.IGNORECASE | re.DOTALL)
_HIT_ID_IN_MESSAGE = re.compile(r"\b([A-Z0-9]{20,40})\b")


class MTurk(Platform):
    """One requester account on one MTurk endpoint."""

    #: everything but a completion URL (workers submit through MTurk's own form) and hooks
    capabilities = frozenset(Capability) - {Capability.COMPLETION_URL, Capability.HOOKS}

    def __init__(
        self,
        *,
        environment: str,
        access_key_id: str,
        secret_access_key: str,
        endpoint_url: str | None = None,
        max_attempts: int = 5,
        throttled_attempts: int = 20,
        timeout: float = 30,
    ) -> None:
        if environment not in {"live", "sandbox", "emulator"}:
            raise ValueError(f"unknown MTurk environment {environment!r}")
        if environment == "sandbox":
            endpoint_url = endpoint_url or SANDBOX_URL
        if environment == "emulator" and not endpoint_url:
            raise ValueError("the emulator environment needs its endpoint URL")
        self.environment = environment
        self.name = f"mturk-{environment}"
        self.endpoint_url = endpoint_url
        self.client = _new_client(
            "mturk",
            region_name="us-east-1",
            endpoint_url=endpoint_url,
            aws_access_key_id=access_key_id or "crowdhr-no-key",
            aws_secret_access_key=secret_access_key or "crowdhr-no-secret",
            config=Config(
                retries={"mode": "standard", "max_attempts": max_attempts},
                connect_timeout=min(timeout, 10),
                read_timeout=timeout,
                max_pool_connections=20,
            ),
        )
        self.throttled_attempts = throttled_attempts
        self.pace = Pace(_rate_limit)
        self.client.meta.events.register("before-send.mturk.CreateHIT", self._wait_for_turn)
        self.client.meta.events.register("needs-retry.mturk.CreateHIT", self._retry_throttled)

    # --- calling -------------------------------------------------------------------------
    def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        """Call one MTurk operation, log it, and translate failures into PlatformError."""
        started = time.monotonic()
        outcome = "ok"
        try:
            return getattr(self.client, _snake(operation))(**params)
        except ClientError as error:
            outcome = _error_code(error)
            raise _platform_error(error) from error
        except BotoCoreError as error:
            outcome = type(error).__name__
            raise PlatformError(str(error), code=type(error).__name__, permanent=False) from error
        finally:
            logger.info(
                "platform call",
                extra={
                    "platform": self.name,
                    "operation": operation,
                    "hit": params.get("HITId", ""),
                    "assignment": params.get("AssignmentId", ""),
                    "duration_ms": round((time.monotonic() - started) * 1000, 1),
                    "outcome": outcome,
                },
            )

    def _wait_for_turn(self, **_: Any) -> None:
        """Every attempt at a paced call, a retry too, leaves with a token of the account's pace."""
        self.pace.wait()

    def _retry_throttled(
        self, response: tuple[Any, dict[str, Any]] | None = None, attempts: int = 0, **_: Any
    ) -> float | bool | None:
        """A throttled paced call goes again at once, to wait for its next token (`_wait_for_turn`),
        up to `throttled_attempts` in all: the pace spaces the attempts, not a backoff.

        Handlers of the operation's own event answer before botocore's retry handler (a delay to
        retry after, False for no retry); None leaves every other answer (outages, faults) to
        botocore's backoff.
        """
        code = response[1].get("Error", {}).get("Code") if response else None
        if code not in _THROTTLED:
            return None
        if attempts >= self.throttled_attempts:
            return False
        self.pace.throttled()
        return 0

    def _pages(self, operation: str, key: str, **params: Any) -> Iterator[dict[str, Any]]:
        token = None
        while True:
            page = self._call(
                operation, MaxResults=PAGE_SIZE, **params, **({"NextToken": token} if token else {})
            )
            items = page.get(key, [])
            yield from items
            token = page.get("NextToken")
            if not token or len(items) < PAGE_SIZE:  # a short page is the last: no empty call after it
                return

    # --- HITs ----------------------------------------------------------------------------
    def create_hit(self, spec: WorkSpec, *, unique_request_token: str) -> PlatformHit:
        params: dict[str, Any] = {
            "Title": spec.title,
            "Description": spec.description,
            "Reward": _money(spec.reward),
            "MaxAssignments": spec.places,
            "LifetimeInSeconds": spec.lifetime_seconds,
            "AssignmentDurationInSeconds": spec.time_allowed_seconds,
            "AutoApprovalDelayInSeconds": spec.auto_approval_delay_seconds,
            "Question": question_xml(spec.destination),
            "UniqueRequestToken": unique_request_token,
        }
        if spec.keywords:
            params["Keywords"] = spec.keywords
        if spec.annotation:
            params["RequesterAnnotation"] = spec.annotation
        if spec.requirements:
            params["QualificationRequirements"] = [_requirement(r) for r in spec.requirements]
        try:
            return _hit(self._call("CreateHIT", **params)["HIT"])
        except PlatformError as error:
            existing = _existing_hit_id(error)
            if existing:
                return self.get_hit(existing)
            raise

    def get_hit(self, hit_id: str) -> PlatformHit:
        return _hit(self._call("GetHIT", HITId=hit_id)["HIT"])

    def list_hits(self) -> list[PlatformHit]:
        return [_hit(raw) for raw in self._pages("ListHITs", "HITs")]

    def in_progress_of(self, hit_ids: Sequence[str], *, account_hits: int) -> dict[str, int]:
        """GetHIT per HIT, or ListHITs pages (100 HITs each) when the account has fewer pages than
        `hit_ids` has HITs: a study of 100 HITs is counted in one call, not 100."""
        wanted = set(hit_ids)
        if math.ceil(max(account_hits, 1) / PAGE_SIZE) >= len(wanted):
            return super().in_progress_of(hit_ids, account_hits=account_hits)
        counts: dict[str, int] = {}
        try:
            for raw in self._pages("ListHITs", "HITs"):
                if raw["HITId"] in wanted:
                    counts[raw["HITId"]] = raw.get("NumberOfAssignmentsPending", 0)
                    if len(counts) == len(wanted):
                        break
        except PlatformError:
            pass  # what was counted stands; the rest is unknown
        return counts

    def expire_hit(self, hit_id: str) -> None:
        self.update_expiration(hit_id, datetime(2015, 1, 1, tzinfo=UTC))

    def update_expiration(self, hit_id: str, expire_at: datetime) -> None:
        self._call("UpdateExpirationForHIT", HITId=hit_id, ExpireAt=expire_at)

    def add_assignments(self, hit_id: str, count: int, *, unique_request_token: str) -> None:
        try:
            self._call(
                "CreateAdditionalAssignmentsForHIT",
                HITId=hit_id,
                NumberOfAdditionalAssignments=count,
                UniqueRequestToken=unique_request_token,
            )
        except PlatformError as error:
            if not _token_was_used(error):
                raise

    def delete_hit(self, hit_id: str) -> None:
        self._call("DeleteHIT", HITId=hit_id)

    def worker_site_url(self, hit: PostedWork | None, hit_type_id: str = "") -> str:
        hit_type_id = hit.hit_type_id if hit else hit_type_id
        if self.environment == "emulator":
            base = (self.endpoint_url or "").rstrip("/").removesuffix("/mturk")
            return f"{base}/hits/{hit.hit_id}/" if hit else f"{base}/"
        return f"{WORKER_SITES[self.environment]}/projects/{hit_type_id}/tasks"

    # --- Assignments ---------------------------------------------------------------------
    def list_assignments(
        self, hit_id: str, statuses: Sequence[str] = ("Submitted", "Approved", "Rejected")
    ) -> list[PlatformAssignment]:
        raw = self._pages(
            "ListAssignmentsForHIT", "Assignments", HITId=hit_id, AssignmentStatuses=list(statuses)
        )
        return [_assignment(a) for a in raw]

    def get_assignment(self, assignment_id: str) -> PlatformAssignment:
        return _assignment(self._call("GetAssignment", AssignmentId=assignment_id)["Assignment"])

    def approve_assignment(
        self, assignment_id: str, *, feedback: str = "", override_rejection: bool = False
    ) -> None:
        params: dict[str, Any] = {"AssignmentId": assignment_id, "OverrideRejection": override_rejection}
        if feedback:
            params["RequesterFeedback"] = feedback[:1024]
        try:
            self._call("ApproveAssignment", **params)
        except PlatformError as error:
            if not (error.permanent and self._has_status(assignment_id, "Approved")):
                raise

    def reject_assignment(self, assignment_id: str, *, feedback: str) -> None:
        try:
            self._call("RejectAssignment", AssignmentId=assignment_id, RequesterFeedback=feedback[:1024])
        except PlatformError as error:
            if not (error.permanent and self._has_status(assignment_id, "Rejected")):
                raise

    def _has_status(self, assignment_id: str, status: str) -> bool:
        """After a refused decision: was it refused because the decision already stands?

        A read that fails temporarily answers nothing: it raises that temporary error (retry later),
        so an "already approved" after a lost answer is never taken for a refusal.
        """
        try:
            return self.get_assignment(assignment_id).status == status
        except PlatformError as error:
            if not error.permanent:
                raise
            return False

    # --- Money ---------------------------------------------------------------------------
    def send_bonus(
        self, *, worker_id: str, assignment_id: str, amount: Decimal, reason: str, unique_request_token: str
    ) -> None:
        try:
            self._call(
                "SendBonus",
                WorkerId=worker_id,
                AssignmentId=assignment_id,
                BonusAmount=_money(amount),
                Reason=reason,
                UniqueRequestToken=unique_request_token,
            )
        except PlatformError as error:
            if not _token_was_used(error):
                raise

    def list_bonus_payments(self, *, hit_id: str = "", assignment_id: str = "") -> list[BonusPayment]:
        where = {"HITId": hit_id} if hit_id else {"AssignmentId": assignment_id}
        return [
            BonusPayment(
                worker_id=raw["WorkerId"],
                assignment_id=raw["AssignmentId"],
                amount=Decimal(raw["BonusAmount"]),
                reason=raw.get("Reason", ""),
                grant_time=raw["GrantTime"],
            )
            for raw in self._pages("ListBonusPayments", "BonusPayments", **where)
        ]

    def account_balance(self) -> Decimal:
        answer = self._call("GetAccountBalance")
        return Decimal(answer.get("AvailableBalance", "0"))

    # --- Workers -------------------------------------------------------------------------
    def notify_workers(self, worker_ids: Sequence[str], *, subject: str, message: str) -> list[str]:
        failed: list[str] = []
        ids = list(dict.fromkeys(worker_ids))
        for start in range(0, len(ids), NOTIFY_LIMIT):
            answer = self._call(
                "NotifyWorkers",
                Subject=subject,
                MessageText=message,
                WorkerIds=ids[start : start + NOTIFY_LIMIT],
            )
            failed += [status["WorkerId"] for status in answer.get("NotifyWorkersFailureStatuses", [])]
        return failed

    def block_worker(self, worker_id: str, *, reason: str) -> None:
        self._call("CreateWorkerBlock", WorkerId=worker_id, Reason=reason)

    def unblock_worker(self, worker_id: str, *, reason: str = "") -> None:
        self._call("DeleteWorkerBlock", WorkerId=worker_id, **({"Reason": reason} if reason else {}))

    def list_blocked_workers(self) -> dict[str, str]:
        return {
            raw["WorkerId"]: raw.get("Reason", "") for raw in self._pages("ListWorkerBlocks", "WorkerBlocks")
        }

    # --- Qualifications ------------------------------------------------------------------
    def ensure_qualification_type(
        self,
        *,
        name: str,
        description: str,
        retry_delay_seconds: int | None = None,
        auto_granted_value: int | None = None,
    ) -> str:
        existing = self._pages(
            "ListQualificationTypes",
            "QualificationTypes",
            Query=name,
            MustBeRequestable=False,
            MustBeOwnedByCaller=True,
        )
        for raw in existing:
            if raw["Name"] == name:
                return raw["QualificationTypeId"]
        params: dict[str, Any] = {
            "Name": name,
            "Description": description,
            "QualificationTypeStatus": "Active",
        }
        if retry_delay_seconds is not None:
            params["RetryDelayInSeconds"] = retry_delay_seconds
        if auto_granted_value is not None:
            params.update(AutoGranted=True, AutoGrantedValue=auto_granted_value)
        return self._call("CreateQualificationType", **params)["QualificationType"]["QualificationTypeId"]

    def ensure_exclusion_list(self, *, name: str, description: str) -> str:
        """A qualification type of this requester, never requestable or auto-granted; work keeps
        its holders out by requiring it DoesNotExist."""
        return self.ensure_qualification_type(name=name, description=description)

    def add_to_exclusion_list(self, list_id: str, worker_id: str) -> None:
        self.set_qualification_score(list_id, worker_id, 1)

    def set_qualification_score(self, qualification_type_id: str, worker_id: str, value: int) -> None:
        self._call(
            "AssociateQualificationWithWorker",
            QualificationTypeId=qualification_type_id,
            WorkerId=worker_id,
            IntegerValue=value,
            SendNotification=False,
        )

    def get_qualification_score(self, qualification_type_id: str, worker_id: str) -> int | None:
        try:
            answer = self._call(
                "GetQualificationScore", QualificationTypeId=qualification_type_id, WorkerId=worker_id
            )
        except PlatformError as error:
            if error.permanent:
                return None
            raise
        qualification = answer["Qualification"]
        if qualification.get("Status", "Granted") != "Granted":
            return None  # revoked: the worker no longer holds it
        return qualification.get("IntegerValue")

    def remove_qualification(self, qualification_type_id: str, worker_id: str, *, reason: str = "") -> None:
        self._call(
            "DisassociateQualificationFromWorker",
            QualificationTypeId=qualification_type_id,
            WorkerId=worker_id,
            **({"Reason": reason} if reason else {}),
        )


# --- where the worker goes: MTurk's question XML ------------------------------------------------
_HTML_QUESTION = """<HTMLQuestion xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/2011-11-11/HTMLQuestion.xsd">
<HTMLContent><![CDATA[<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>HIT</title>
<style>body{{font-family:sans-serif;max-width:46em;margin:1em auto;padding:0 1em}}label{{display:block;margin:.4em 0}}
fieldset{{border:1px solid #ccc;margin:1em 0}}textarea{{width:100%}}</style></head><body>
<form id="mturk_form" method="post" action="https://www.mturk.com/mturk/externalSubmit">
<input type="hidden" name="assignmentId" id="assignmentId" value="">
{body}
<p><input type="submit" id="submitButton" value="Submit"></p>
</form>
<script>
(function () {{
  var params = new URLSearchParams(window.location.search);
  var assignment = params.get("assignmentId") || "ASSIGNMENT_ID_NOT_AVAILABLE";
  var submitTo = params.get("turkSubmitTo");
  document.getElementById("assignmentId").value = assignment;
  if (submitTo) document.getElementById("mturk_form").action = submitTo.replace(/\\/$/, "") + "/mturk/externalSubmit";
  if (assignment === "ASSIGNMENT_ID_NOT_AVAILABLE") {{
    var button = document.getElementById("submitButton");
    button.disabled = true; button.value = "Accept the HIT to submit";
  }}
}})();
</script></body></html>]]></HTMLContent>
<FrameHeight>0</FrameHeight>
</HTMLQuestion>"""


def question_xml(destination: Destination) -> str:
    """The Question parameter of CreateHIT for where the worker goes."""
    if isinstance(destination, ExternalPage):
        return external_question(destination.url)
    if isinstance(destination, HtmlForm):
        return html_question(destination.body)
    raise PlatformError(f"MTurk cannot show {destination!r}.", code="UnsupportedDestination")


def html_question(body: str) -> str:
    """Wrap a form body in an MTurk HTMLQuestion that submits to wherever MTurk says."""
    return _HTML_QUESTION.format(body=body.replace("]]>", "]]&gt;"))


def external_question(url: str, frame_height: int = 0) -> str:
    """An MTurk ExternalQuestion showing `url` in the worker's frame."""
    return (
        '<ExternalQuestion xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/'
        '2006-07-14/ExternalQuestion.xsd">'
        f"<ExternalURL>{html.escape(url)}</ExternalURL><FrameHeight>{frame_height}</FrameHeight>"
        "</ExternalQuestion>"
    )


# --- translation helpers --------------------------------------------------------------------
def _snake(operation: str) -> str:
    return re.sub(
        r"(?<=[a-z])(?=[A-Z])", "_", operation.replace("HITs", "Hits").replace("HIT", "Hit")
    ).lower()


def _money(amount: Decimal) -> str:
    return f"{Decimal(amount).quantize(Decimal('0.01'))}"


def _error_code(error: ClientError) -> str:
    return error.response.get("Error", {}).get("Code", "") or "ClientError"


def _platform_error(error: ClientError) -> PlatformError:
    code = _error_code(error)
    turk_code = error.response.get("TurkErrorCode") or error.response.get("Error", {}).get(
        "TurkErrorCode", ""
    )
    message = error.response.get("Error", {}).get("Message", "") or str(error)
    status = error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400)
    temporary = code in TEMPORARY_CODES or status >= 500
    return PlatformError(message, code=str(turk_code or code), permanent=not temporary)


def _existing_hit_id(error: PlatformError) -> str:
    if error.code != _HIT_ALREADY_EXISTS:
        return ""
    match = _HIT_ID_IN_MESSAGE.search(error.message)
    return match.group(1) if match else ""


def _token_was_used(error: PlatformError) -> bool:
    return error.permanent and bool(_TOKEN_USED.search(error.message))


def _requirement(requirement: QualificationRequirement) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "QualificationTypeId": requirement.qualification_type_id,
        "Comparator": requirement.comparator,
        "ActionsGuarded": requirement.actions_guarded,
    }
    if requirement.integer_values:
        raw["IntegerValues"] = list(requirement.integer_values)
    if requirement.locale_values:
        raw["LocaleValues"] = [dict(locale) for locale in requirement.locale_values]
    return raw


def _hit(raw: dict[str, Any]) -> PlatformHit:
    return PlatformHit(
        hit_id=raw["HITId"],
        hit_type_id=raw.get("HITTypeId", ""),
        status=raw.get("HITStatus", ""),
        title=raw.get("Title", ""),
        reward=Decimal(raw.get("Reward", "0")),
        max_assignments=raw.get("MaxAssignments", 0),
        available=raw.get("NumberOfAssignmentsAvailable", 0),
        pending=raw.get("NumberOfAssignmentsPending", 0),
        completed=raw.get("NumberOfAssignmentsCompleted", 0),
        creation_time=raw["CreationTime"],
        expiration=raw["Expiration"],
        review_status=raw.get("HITReviewStatus", "NotReviewed"),
        requester_annotation=raw.get("RequesterAnnotation", ""),
    )


def _assignment(raw: dict[str, Any]) -> PlatformAssignment:
    answer_xml = raw.get("Answer", "")
    return PlatformAssignment(
        assignment_id=raw["AssignmentId"],
        worker_id=raw["WorkerId"],
        hit_id=raw["HITId"],
        status=raw["AssignmentStatus"],
        accept_time=raw.get("AcceptTime"),
        submit_time=raw.get("SubmitTime"),
        auto_approval_time=raw.get("AutoApprovalTime"),
        approval_time=raw.get("ApprovalTime"),
        rejection_time=raw.get("RejectionTime"),
        answer_xml=answer_xml,
        answers=parse_answers(answer_xml),
        requester_feedback=raw.get("RequesterFeedback", ""),
    )


def parse_answers(answer_xml: str) -> dict[str, str]:
    """MTurk's QuestionFormAnswers XML as {question identifier: answer text}.

    Multiple selections are joined with '|'. Unreadable XML yields no answers rather than an
    error: the assignment is still stored, and review decides what to do with it.
    """
    if not answer_xml:
        return {}
    try:
        root = ElementTree.fromstring(answer_xml)  # noqa: S314 (defusedxml is not needed: no entities are expanded)
    except ElementTree.ParseError:
        logger.warning("unreadable answer XML", extra={"length": len(answer_xml)})
        return {}
    answers: dict[str, str] = {}
    for answer in root.iter():
        if _local(answer.tag) != "Answer":
            continue
        identifier = ""
        values: list[str] = []
        for child in answer:
            name = _local(child.tag)
            if name == "QuestionIdentifier":
                identifier = (child.text or "").strip()
            elif name in {"FreeText", "SelectionIdentifier", "OtherSelectionText", "UploadedFileKey"}:
                values.append(child.text or "")
        if identifier:
            answers[identifier] = "|".join(values)
    return answers


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


# --- the MTurk platform: clients per account, environments, fees ----------------------------------
def emulator_url() -> str:
    """Where the local Mechanical Turk answers: MTURK_ENDPOINT when it is a URL, else the default."""
    endpoint = settings.MTURK_ENDPOINT
    if endpoint.startswith(("http://", "https://")):
        return endpoint
    if not settings.EMULATOR_ENABLED:
        raise ImproperlyConfigured("The local Mechanical Turk is not enabled (MTURK_ENDPOINT).")
    return settings.MTURK_EMULATOR_URL


def _rate_limit() -> Rate | None:
    """The request rate limit of an account, as the setting MTURK_RATE_LIMIT knows it."""
    return Rate.parse(getattr(settings, "MTURK_RATE_LIMIT", None))


def connect(account: PlatformAccount) -> MTurk:
    """The MTurk client for a researcher's account, with that account's own credentials."""
    key = (
        account.environment,
        account.access_key_id or settings.MTURK_DEFAULT_ACCESS_KEY_ID,
        account.secret_access_key or settings.MTURK_DEFAULT_SECRET_ACCESS_KEY,
        emulator_url() if account.environment == "emulator" else None,
    )
    with _CLIENTS_LOCK:  # a burst of landings on a new account makes its client once, not once a thread
        return _client(*key)


_CLIENTS_LOCK = threading.Lock()

#: one boto3 session per process: its loader reads MTurk's service model once, so a client for
#: another account costs milliseconds instead of a model load (sessions are not thread-safe: a lock)
_SESSION = boto3.session.Session()
_SESSION_LOCK = threading.Lock()


def _new_client(*args: Any, **kwargs: Any) -> Any:
    with _SESSION_LOCK:
        return _SESSION.client(*args, **kwargs)


def warm_up() -> None:
    """Load MTurk's service model before the first request needs a client (a web process's start)."""
    _new_client(
        "mturk", region_name="us-east-1", aws_access_key_id="warm-up", aws_secret_access_key="warm-up"
    )


@functools.lru_cache(maxsize=64)
def _client(environment: str, access_key_id: str, secret_access_key: str, endpoint_url: str | None) -> MTurk:
    """Clients are kept per endpoint and credentials: making a boto3 client costs far more than
    a call, and a client is safe to share between threads."""
    return MTurk(
        environment=environment,
        access_key_id=access_key_id,
        secret_access_key=secret_access_key,
        endpoint_url=endpoint_url,
    )


MTURK = register(
    PlatformType(
        key="mturk",
        label="Amazon Mechanical Turk",
        client_class=MTurk,
        connect=connect,
        environments=(
            Environment("sandbox", "MTurk sandbox (no money moves)"),
            Environment("live", "MTurk live site (real money)", real_money=True),
            Environment("emulator", "Local Mechanical Turk (development)", local=True),
        ),
        fees=MTURK_FEES,
    )
)
