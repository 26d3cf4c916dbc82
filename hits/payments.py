"""The one path money takes: approvals (the reward), rejections, and bonuses.

Every payment follows the same steps, so that two review workers never pay twice and a crash
at any line leaves a state the next cycle finishes:

1. claim the decision with a conditional update, and write the ledger row in the same
   transaction (status `pending`), BEFORE any platform call;
2. claim the ledger row (`pending` -> `sending`, or a `sending` row whose lease has run out);
3. call the platform with the row's UniqueRequestToken ("already done" answers are success);
4. mark the row `done` and the assignment decided, update the worker's scores (achievement bonus
   rows too) and owe the task type's follow-ups (`hits.followups`: an oTree payoff bonus, the
   "previous participant" qualification), in one transaction; temporary failures go back to
   `pending`, permanent ones are `failed`. No consequence of a decision depends on the process
   that made the call surviving it: whichever process comes next finishes them.

Claims die with their process: on PostgreSQL step 2 also takes a session advisory lock on the row,
held for the call, so a `sending` row whose holder was killed is taken over at once (its lock went
with its connection); on SQLite a `sending` row waits SENDING_LEASE. An "already approved/rejected"
answer is success only when a read confirms it; a read that fails temporarily makes it a temporary
failure. When the platform shows a decision whose crowdhr ledger row is not done, it is finished
as crowdhr's decision (`record_platform_decision`), never re-labelled as the platform's.

The review decides a HIT's assignments together (`decide_assignments`), by the same steps in a
fixed number of queries: step 1 for all of them in one transaction, whose ledger rows are written
already claimed (step 2, `sending`, their advisory locks taken before commit), then each call, then
step 4 for every success in one transaction. Anything another process took meanwhile sends the
batch back to one decision at a time.

Workers are paid only to the WorkerId the platform reported for the assignment.

A hosted assignment (`hits.hosted`: an item answered on crowdhr's own pages) is decided with the
same claims and ledger row (amount 0) but no platform call: the platform does not know it. A
bonus it earns (an achievement) is paid against the platform's submission it was answered in.

Bonuses on a platform whose pay call is not idempotent (`Platform.bonus_needs_setup`: Prolific,
where paying a bulk bonus twice pays twice) take two platform steps instead of step 3:

3a. if the row has no `platform_reference`: set the bonus up (this pays nothing) and record its
    id on the row, committed, BEFORE paying;
3b. record `pay_sent_at`, committed, then pay once; a refusal (permanent) clears `pay_sent_at`,
    since nothing was paid.

Whenever a row comes back with `pay_sent_at` set (a time-out, a 5xx, a lost answer, or a process
killed after 3b began), the outcome is unknown and the ledger NEVER pays blindly: it reads what
the platform shows (`bonus_was_paid`: on Prolific the submission's `bonus_payments`, matched on
amount and on how many bonuses of that amount this worker's other ledger rows account for).
Paid -> done. Not shown -> Prolific pays asynchronously, so a read soon after the pay proves
nothing: the row waits (back to pending) until BONUS_SETTLE_WINDOW has passed since the last pay
call, and only a read after that window that still shows nothing lets it pay again.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Case, Q, Value, When
from django.utils import timezone

from crowdhr import audit, locks
from crowdhr.audit import User
from hits import followups
from hits.hosted import is_hosted, paid_through
from hits.models import Assignment, Outsourcer, Payment, RejectionPolicy
from hits.task_types import scores_decisions
from platforms import Platform, PlatformError, fees_for, platform_for
from workers import scoring
from workers.models import Achievement

logger = logging.getLogger(__name__)

#: a `sending` row older than this is taken to belong to a worker that died
SENDING_LEASE = timedelta(minutes=2)
#: how long after a two-step bonus's pay call an empty read still may mean "not paid yet"
BONUS_SETTLE_WINDOW = timedelta(minutes=10)
Decision = Assignment.Decision


def token_for(key: str) -> str:
    """The UniqueRequestToken for a ledger key (MTurk allows 64 characters)."""
    return "crowdhr-" + hashlib.sha256(key.encode()).hexdigest()[:56]


# --- decisions ---------------------------------------------------------------------------------
def approve_assignment(assignment: Assignment, *, feedback: str = "", decided_by: str) -> bool:
    """Approve an undecided assignment (paying its reward). False when it was already decided."""
    return _decide(assignment, approve=True, feedback=feedback or "Thank you!", decided_by=decided_by)


def reject_assignment(assignment: Assignment, *, feedback: str, decided_by: str) -> bool:
    """Reject an undecided assignment with the reason the worker reads. False when already decided.

    Under the Outsourcer's rejection policy "pay anyway" (the default) the platform is told to
    APPROVE (the worker is paid, their approval rate there untouched) while crowdhr records the
    rejection: the Quality Score drops and the streak ends once the approval is done.
    """
    pay_anyway = _pays_anyway(assignment)
    return _decide(
        assignment,
        approve=False,
        feedback=_rejection_feedback(feedback, pay_anyway),
        decided_by=decided_by,
        pay_anyway=pay_anyway,
    )


def _pays_anyway(assignment: Assignment) -> bool:
    return assignment.hit.outsourcer.on_rejection == RejectionPolicy.PAY_ANYWAY


def _rejection_feedback(feedback: str, pay_anyway: bool) -> str:
    return f"{feedback} {PAID_ANYWAY_NOTE}".strip() if pay_anyway else feedback


#: what a worker rejected under the "pay anyway" policy reads after the reason
PAID_ANYWAY_NOTE = "You are paid for this HIT anyway, but it lowers your Quality Score with us."


def _decide(
    assignment: Assignment, *, approve: bool, feedback: str, decided_by: str, pay_anyway: bool = False
) -> bool:
    with transaction.atomic():
        claimed = Assignment.objects.filter(pk=assignment.pk, decision=Decision.UNDECIDED).update(
            decision=Decision.APPROVING if approve else Decision.REJECTING,
            paid_despite_rejection=pay_anyway,
            decided_by=decided_by,
            feedback=feedback,
            decision_time=timezone.now(),
            problem="",
        )
        if not claimed:
            return False
        payment = _decision_row(
            assignment, approved=approve or pay_anyway, reason=feedback, triggered_by=decided_by
        )
    settle(payment)
    return True


@dataclass(frozen=True)
class Verdict:
    """One decision the review took on an undecided assignment, with the feedback the worker reads."""

    assignment: Assignment
    approve: bool
    feedback: str = ""


class _Contended(Exception):
    """Another process took part of a batch meanwhile: it is done one decision at a time instead."""


def decide_assignments(verdicts: Sequence[Verdict], *, decided_by: str) -> list[Verdict]:
    """Decide many undecided assignments (a HIT's review) by the same steps as one at a time, in a
    fixed number of queries whatever their number; returns the verdicts this process claimed.

    One transaction claims every decision (a conditional update on all of them) and writes their
    ledger rows already claimed for the call (`sending`; on PostgreSQL with their advisory locks
    taken before commit), BEFORE any platform call; after the calls one transaction records every
    success (done, decided, scored, follow-ups owed). When another process claimed any of them
    first (or a ledger row exists: a person decides again after a refusal), the batch is rolled
    back and each verdict decided on its own (`approve_assignment` / `reject_assignment`).
    """
    if not verdicts:
        return []
    try:
        sending = _claim_all(verdicts, decided_by=decided_by)
    except (_Contended, IntegrityError):
        return [verdict for verdict in verdicts if _decide_one(verdict, decided_by=decided_by)]
    try:
        done: list[Payment] = []
        for payment in sending:
            try:
                _call_platform(payment)
            except PlatformError as error:
                _record_failure(payment, error)
            else:
                done.append(payment)
        bonuses = _record_successes(done)
    finally:
        if locks.available():
            locks.release_all([("payment", payment.pk) for payment in sending])
    for bonus in bonuses:
        settle(bonus)
    return list(verdicts)


def _decide_one(verdict: Verdict, *, decided_by: str) -> bool:
    if verdict.approve:
        return approve_assignment(verdict.assignment, feedback=verdict.feedback, decided_by=decided_by)
    return reject_assignment(verdict.assignment, feedback=verdict.feedback, decided_by=decided_by)


def _claim_all(verdicts: Sequence[Verdict], *, decided_by: str) -> list[Payment]:
    """Claim every decision and write its ledger row, claimed for its call, in one transaction."""
    now = timezone.now()
    pay_anyway = {v.assignment.pk for v in verdicts if not v.approve and _pays_anyway(v.assignment)}
    feedback = {
        v.assignment.pk: (v.feedback or "Thank you!")
        if v.approve
        else _rejection_feedback(v.feedback, v.assignment.pk in pay_anyway)
        for v in verdicts
    }

    def per_assignment(values: dict[int, object]) -> Case:
        return Case(*(When(pk=pk, then=Value(value)) for pk, value in values.items()))

    with transaction.atomic():
        claimed = Assignment.objects.filter(pk__in=feedback, decision=Decision.UNDECIDED).update(
            decision=per_assignment(
                {v.assignment.pk: Decision.APPROVING if v.approve else Decision.REJECTING for v in verdicts}
            ),
            paid_despite_rejection=per_assignment({pk: pk in pay_anyway for pk in feedback}),
            decided_by=decided_by,
            feedback=per_assignment(feedback),  # type: ignore[arg-type]
            decision_time=now,
            problem="",
        )
        if claimed != len(verdicts):
            raise _Contended
        for v in verdicts:  # as claimed, for what follows in this process
            v.assignment.decision = Decision.APPROVING if v.approve else Decision.REJECTING
            v.assignment.feedback, v.assignment.decided_by = feedback[v.assignment.pk], decided_by
        rows = Payment.objects.bulk_create(
            _decision_payment(
                v.assignment,
                approved=v.approve or v.assignment.pk in pay_anyway,
                reason=feedback[v.assignment.pk],
                triggered_by=decided_by,
                sending_since=now,
            )
            for v in verdicts
        )
        if locks.available() and not locks.hold_all("payment", [row.pk for row in rows]):
            locks.release_all([("payment", row.pk) for row in rows])
            raise _Contended
    return rows


def _record_successes(done: Sequence[Payment]) -> list[Payment]:
    """Record the calls that succeeded as `_record_success` does, all in one transaction; the
    achievement bonus rows they earned (settled by the caller after commit)."""
    if not done:
        return []
    try:
        with transaction.atomic():
            Payment.objects.filter(pk__in=[p.pk for p in done], status=Payment.Status.SENDING).update(
                status=Payment.Status.DONE, done_at=timezone.now(), error=""
            )
            approvals = [p.assignment_id for p in done if p.kind == Payment.Kind.APPROVAL]
            finished = Assignment.objects.filter(
                pk__in=[p.assignment_id for p in done], decision__in=[Decision.APPROVING, Decision.REJECTING]
            ).update(
                decision=Case(
                    When(decision=Decision.APPROVING, then=Value(Decision.APPROVED)),
                    default=Value(Decision.REJECTED),
                ),
                platform_status=Case(
                    When(pk__in=approvals, then=Value(Assignment.PlatformStatus.APPROVED)),
                    default=Value(Assignment.PlatformStatus.REJECTED),
                ),
            )
            if finished != len(done):
                raise _Contended
            decided = [(p.assignment, p.assignment.decision == Decision.APPROVING) for p in done]
            for assignment, approved in decided:
                assignment.decision = Decision.APPROVED if approved else Decision.REJECTED
            bonuses = record_all_scores(decided)
            followups.enqueue_all([p.assignment for p in done])
    except _Contended:  # another process finished some of them: each on its own, exactly once
        for payment in done:
            _record_success(payment)
        return []
    for payment in done:
        logger.info(
            "payment done", extra={"payment": payment.pk, "kind": payment.kind, "amount": str(payment.amount)}
        )
    return bonuses


# --- bonuses -----------------------------------------------------------------------------------
def pay_bonus(
    *, assignment: Assignment, amount: Decimal, reason: str, key: str, triggered_by: str
) -> Payment:
    """Pay a bonus to the worker who did `assignment`, once per `key`, ever.

    Calling again with the same key returns the same ledger row (and finishes it if needed).
    """
    if Decimal(amount).quantize(Decimal("0.01")) <= 0:
        raise ValueError("A bonus must be at least $0.01.")
    if not reason.strip():
        raise ValueError("A bonus needs a reason the worker can read.")
    with transaction.atomic():
        payment = bonus_row(
            assignment=assignment, amount=amount, reason=reason, key=key, triggered_by=triggered_by
        )
    return settle(payment)


def bonus_row(
    *, assignment: Assignment, amount: Decimal, reason: str, key: str, triggered_by: str
) -> Payment:
    """Write a bonus's ledger row without calling the platform (inside a caller's transaction).

    The caller settles it after commit; `settle_pending` finishes it if the caller dies first.
    """
    amount = Decimal(amount).quantize(Decimal("0.01"))
    return _ledger_row(
        assignment=assignment,
        kind=Payment.Kind.BONUS,
        key=f"bonus:{key}",
        amount=amount,
        fee=fees_for(assignment.hit.outsourcer.account).bonus_fee(amount),
        reason=reason,
        triggered_by=triggered_by,
    )


def _decision_row(assignment: Assignment, *, approved: bool, reason: str, triggered_by: str) -> Payment:
    """The ledger row of an approval (the reward and MTurk's fee) or a rejection (no money)."""
    row = _decision_payment(assignment, approved=approved, reason=reason, triggered_by=triggered_by)
    return _ledger_row(
        assignment=assignment,
        kind=row.kind,
        key=row.key,
        amount=row.amount,
        fee=row.fee,
        reason=reason,
        triggered_by=triggered_by,
    )


def _decision_payment(
    assignment: Assignment,
    *,
    approved: bool,
    reason: str,
    triggered_by: str,
    sending_since: datetime | None = None,
) -> Payment:
    """The unsaved ledger row of a decision (claimed for its call when `sending_since` is given),
    with its account, worker and assignment at hand for the call."""
    kind = Payment.Kind.APPROVAL if approved else Payment.Kind.REJECTION
    hit = assignment.hit
    paid = approved and not is_hosted(hit)  # a hosted assignment moves no money
    fee = (
        fees_for(hit.outsourcer.account).assignment_fee(
            hit.reward, hit.max_assignments or hit.assignments_required
        )
        if paid
        else Decimal("0.00")
    )
    key = f"{kind}:{assignment.assignment_id}"
    return Payment(
        account=hit.outsourcer.account,
        owner_id=hit.outsourcer.account.owner_id,
        experiment_id=hit.outsourcer.experiment_id,
        worker=assignment.worker,
        assignment=assignment,
        kind=kind,
        key=key,
        token=token_for(key),
        amount=hit.reward if paid else Decimal("0.00"),
        fee=fee,
        reason=reason,
        triggered_by=triggered_by,
        **(
            {"status": Payment.Status.SENDING, "claimed_at": sending_since, "attempts": 1}
            if sending_since
            else {}
        ),
    )


def _ledger_row(
    *,
    assignment: Assignment,
    kind: str,
    key: str,
    amount: Decimal,
    fee: Decimal,
    reason: str,
    triggered_by: str,
) -> Payment:
    outsourcer = assignment.hit.outsourcer
    payment, created = Payment.objects.get_or_create(
        key=key,
        defaults={
            "account_id": outsourcer.account_id,
            # the account's owner; looked up on save when the account was not read with it
            **({"owner_id": outsourcer.account.owner_id} if Outsourcer.account.is_cached(outsourcer) else {}),
            "experiment_id": outsourcer.experiment_id,
            "worker_id": assignment.worker_id,
            "assignment": assignment,
            "kind": kind,
            "token": token_for(key),
            "amount": amount,
            "fee": fee,
            "reason": reason,
            "triggered_by": triggered_by,
        },
    )
    if not created and payment.status == Payment.Status.FAILED and kind != Payment.Kind.BONUS:
        # A person decides again after the platform refused: same row, fresh attempt.
        Payment.objects.filter(pk=payment.pk, status=Payment.Status.FAILED).update(
            status=Payment.Status.PENDING, reason=reason, triggered_by=triggered_by, error=""
        )
        payment.refresh_from_db()
    return payment


# --- settling ----------------------------------------------------------------------------------
def settle(payment: Payment) -> Payment:
    """Make the platform call for a ledger row, if nobody else is making it. Safe to repeat.

    On PostgreSQL the claim is also a session advisory lock held for the call: when its holder is
    killed the lock goes with its connection, and the next process takes the row over at once.
    """
    held = locks.available() and locks.try_hold("payment", payment.pk)
    if locks.available() and not held:
        payment.refresh_from_db()
        return payment  # a live process is making the call
    try:
        return _settle_claimed(payment, held=held)
    finally:
        if held:
            locks.release("payment", payment.pk)


def _settle_claimed(payment: Payment, *, held: bool) -> Payment:
    if not _claim(payment, held=held):
        payment.refresh_from_db()
        return payment
    payment = Payment.objects.select_related(
        "account", "worker", "assignment__worker", "assignment__hit__outsourcer__account"
    ).get(pk=payment.pk)
    try:
        _call_platform(payment)
    except PlatformError as error:
        _record_failure(payment, error)
    else:
        _record_success(payment)
    payment.refresh_from_db(fields=["status", "error", "done_at"])
    return payment


def settle_pending(*, limit: int = 500) -> int:
    """Finish ledger rows left pending (temporary failures) or abandoned mid-call (a crash)."""
    # With advisory locks a `sending` row is checked at once: `settle` skips it while its holder lives.
    stale = timezone.now() - (timedelta(0) if locks.available() else SENDING_LEASE)
    waiting = Payment.objects.filter(
        Q(status=Payment.Status.PENDING) | Q(status=Payment.Status.SENDING, claimed_at__lt=stale)
    ).order_by("created")[:limit]
    settled = 0
    for payment in waiting.select_related("account", "worker", "assignment"):
        if settle(payment).status == Payment.Status.DONE:
            settled += 1
    return settled


def retry_failed(payment: Payment, *, by: User | None) -> Payment:
    """A person asks to try a failed payment again (e.g. after topping up the balance)."""
    retried = Payment.objects.filter(pk=payment.pk, status=Payment.Status.FAILED).update(
        status=Payment.Status.PENDING, error="", triggered_by=audit.label(by)
    )
    if retried:
        audit.record(by=by, action="retry payment", obj=payment, amount=payment.amount, kind=payment.kind)
    return settle(payment)


def _claim(payment: Payment, *, held: bool = False) -> bool:
    """Pending, or sending for a process that is gone: with the advisory lock `held`, any sending
    row's holder is dead (its lock went with its connection); without one, after SENDING_LEASE."""
    return locks.claim_row(
        Payment,
        payment.pk,
        waiting=Payment.Status.PENDING,
        in_flight=Payment.Status.SENDING,
        lease=SENDING_LEASE,
        held=held,
    )


def _call_platform(payment: Payment) -> None:
    if payment.kind != Payment.Kind.BONUS and is_hosted(payment.assignment.hit):
        return  # crowdhr's own decision on an item answered on its pages: nothing to tell the platform
    platform = platform_for(payment.account)
    assignment_id = payment.assignment.assignment_id
    if payment.kind == Payment.Kind.APPROVAL:
        platform.approve_assignment(assignment_id, feedback=payment.reason)
    elif payment.kind == Payment.Kind.REJECTION:
        platform.reject_assignment(assignment_id, feedback=payment.reason)
    elif platform.bonus_needs_setup:
        _pay_two_step_bonus(platform, payment)
    else:
        if payment.attempts > 1 and _bonus_already_granted(platform, payment):
            return
        platform.send_bonus(
            worker_id=payment.worker.worker_id,
            assignment_id=assignment_id,
            amount=payment.amount,
            reason=payment.reason,
            unique_request_token=payment.token,
        )


def _pay_two_step_bonus(platform: Platform, payment: Payment) -> None:
    """Set up (reference recorded first), or resolve an unknown pay by reading; then pay once."""
    worker_id, assignment_id = payment.worker.worker_id, payment.assignment.assignment_id
    if not payment.platform_reference:
        reference = platform.setup_bonus(
            worker_id=worker_id,
            assignment_id=assignment_id,
            hit_id=payment.assignment.hit.hit_id,
            amount=payment.amount,
            reason=payment.reason,
        )
        Payment.objects.filter(pk=payment.pk, platform_reference="").update(platform_reference=reference)
        payment.refresh_from_db(fields=["platform_reference", "pay_sent_at"])
    elif payment.pay_sent_at is not None:
        paid = platform.bonus_was_paid(
            payment.platform_reference,
            worker_id=worker_id,
            assignment_id=assignment_id,
            amount=payment.amount,
            known_paid=_known_paid(payment),
        )
        if paid:
            return
        settled = payment.pay_sent_at + BONUS_SETTLE_WINDOW
        if paid is None or timezone.now() < settled:
            raise PlatformError(
                f"The bonus may have been paid ({payment.platform_reference}): reading the platform "
                f"again, and paying only if it still shows nothing after {settled:%Y-%m-%d %H:%M} UTC.",
                code="BonusOutcomeUnknown",
                permanent=False,
            )
    _mark_pay_sent(payment)
    try:
        platform.pay_bonus_setup(payment.platform_reference)
    except PlatformError as error:
        if error.permanent:  # refused: nothing was paid, a later retry may pay at once
            Payment.objects.filter(pk=payment.pk).update(pay_sent_at=None)
        raise


def _mark_pay_sent(payment: Payment) -> None:
    """From here on the bonus may be paid: committed before the pay call goes out."""
    Payment.objects.filter(pk=payment.pk).update(pay_sent_at=timezone.now())


def _known_paid(payment: Payment) -> int:
    """Bonuses of the same amount for the same assignment that other ledger rows account for:
    done ones, and earlier rows whose pay is itself unknown (the platform's read shows amounts,
    not which row paid them; rows of one amount for one worker are interchangeable)."""
    same = Payment.objects.filter(
        kind=Payment.Kind.BONUS,
        account_id=payment.account_id,
        assignment_id=payment.assignment_id,
        amount=payment.amount,
    ).exclude(pk=payment.pk)
    done = same.filter(status=Payment.Status.DONE).count()
    unknown = same.filter(pk__lt=payment.pk, pay_sent_at__isnull=False).exclude(
        status__in=[Payment.Status.DONE, Payment.Status.FAILED]
    )
    return done + unknown.count()


def _bonus_already_granted(platform: Platform, payment: Payment) -> bool:
    """After an attempt with an unknown outcome: did the platform pay it? (Tokens expire after 24 h.)"""
    granted = platform.list_bonus_payments(assignment_id=payment.assignment.assignment_id)
    return any(
        bonus.worker_id == payment.worker.worker_id
        and bonus.amount == payment.amount
        and bonus.reason == payment.reason
        for bonus in granted
    )


def _record_success(payment: Payment) -> None:
    new_bonuses: list[Payment] = []
    with transaction.atomic():
        done = Payment.objects.filter(pk=payment.pk, status=Payment.Status.SENDING).update(
            status=Payment.Status.DONE, done_at=timezone.now(), error=""
        )
        if done and payment.kind != Payment.Kind.BONUS:
            new_bonuses = _finish_decision(payment)
            followups.enqueue(payment.assignment)
    logger.info(
        "payment done", extra={"payment": payment.pk, "kind": payment.kind, "amount": str(payment.amount)}
    )
    for bonus in new_bonuses:
        settle(bonus)


def _finish_decision(payment: Payment) -> list[Payment]:
    """Mark the assignment decided as crowdhr judged it (an approval on the platform may carry a
    rejection: the "pay anyway" policy) and score it; the achievement bonus rows it earned."""
    on_platform = (
        Assignment.PlatformStatus.APPROVED
        if payment.kind == Payment.Kind.APPROVAL
        else Assignment.PlatformStatus.REJECTED
    )
    for claimed, decided, approved in (
        (Decision.APPROVING, Decision.APPROVED, True),
        (Decision.REJECTING, Decision.REJECTED, False),
    ):
        finished = Assignment.objects.filter(pk=payment.assignment_id, decision=claimed).update(
            decision=decided, platform_status=on_platform
        )
        if finished:
            return record_scores(payment.assignment, approved=approved)
    return []


def _record_failure(payment: Payment, error: PlatformError) -> None:
    logger.warning(
        "payment failed",
        extra={
            "payment": payment.pk,
            "kind": payment.kind,
            "permanent": error.permanent,
            "error": str(error),
        },
    )
    if not error.permanent:
        Payment.objects.filter(pk=payment.pk, status=Payment.Status.SENDING).update(
            status=Payment.Status.PENDING, error=str(error)
        )
        return
    with transaction.atomic():
        Payment.objects.filter(pk=payment.pk, status=Payment.Status.SENDING).update(
            status=Payment.Status.FAILED, error=str(error)
        )
        if payment.kind != Payment.Kind.BONUS:
            verb = "approve" if payment.kind == Payment.Kind.APPROVAL else "reject"
            Assignment.objects.filter(
                pk=payment.assignment_id, decision__in=[Decision.APPROVING, Decision.REJECTING]
            ).update(
                decision=Decision.UNDECIDED,
                paid_despite_rejection=False,
                problem=f"The platform refused to {verb} it: {error}",
            )


def record_platform_decision(assignment: Assignment, *, approved: bool) -> bool:
    """The platform shows a decision crowdhr has not recorded: record the money and the scores once.

    When crowdhr's own ledger row for that decision exists (a refusal was recorded, or the call is
    still in flight, but the platform took it), the decision is crowdhr's: it is finished as crowdhr
    made it, never re-labelled as the platform's. Otherwise the platform decided on its own
    (auto-approval after the delay).
    """
    if _finish_own_decision(assignment, approved=approved):
        return True
    with transaction.atomic():
        claimed = Assignment.objects.filter(pk=assignment.pk, decision=Decision.UNDECIDED).update(
            decision=Decision.APPROVED if approved else Decision.REJECTED,
            decided_by="platform (automatic)",
            decision_time=timezone.now(),
        )
        if not claimed:
            return False
        payment = _decision_row(
            assignment,
            approved=approved,
            reason="Decided by the platform (automatic approval).",
            triggered_by="platform",
        )
        Payment.objects.filter(pk=payment.pk).update(status=Payment.Status.DONE, done_at=timezone.now())
        bonuses = record_scores(assignment, approved=approved)
    for bonus in bonuses:
        settle(bonus)
    return True


def _finish_own_decision(assignment: Assignment, *, approved: bool) -> bool:
    """The platform shows the decision crowdhr's ledger row asked for, though the row says otherwise."""
    kind = Payment.Kind.APPROVAL if approved else Payment.Kind.REJECTION
    payment = Payment.objects.filter(key=f"{kind}:{assignment.assignment_id}").first()
    if payment is None or payment.status == Payment.Status.DONE:
        return False
    with transaction.atomic():
        # The call's outcome is now known: the row is done (whoever holds a claim on it finds it so).
        Payment.objects.filter(pk=payment.pk).exclude(status=Payment.Status.DONE).update(
            status=Payment.Status.DONE, done_at=timezone.now(), error=""
        )
        # A recorded refusal put it back to undecided: it is crowdhr's decision again, as made.
        Assignment.objects.filter(pk=assignment.pk, decision=Decision.UNDECIDED).update(
            decision=Decision.APPROVING if approved else Decision.REJECTING
        )
        Assignment.objects.filter(pk=assignment.pk, problem__startswith="The platform refused").update(
            problem=""
        )
        new_bonuses = _finish_decision(payment)
        if _was_finished(assignment):
            followups.enqueue(assignment)
    for bonus in new_bonuses:
        settle(bonus)
    return True


def _was_finished(assignment: Assignment) -> bool:
    return Assignment.objects.filter(
        pk=assignment.pk, decision__in=[Decision.APPROVED, Decision.REJECTED]
    ).exists()


# --- scores and achievements -------------------------------------------------------------------
def record_scores(assignment: Assignment, *, approved: bool) -> list[Payment]:
    """Score one decided assignment and write the bonus rows of achievements it reached.

    Runs inside the transaction that marks the assignment decided; the caller settles the
    returned bonus rows after commit (`settle_pending` does if the caller dies first).
    """
    return record_all_scores([(assignment, approved)])


def record_all_scores(decisions: Sequence[tuple[Assignment, bool]]) -> list[Payment]:
    """`record_scores` for many decided assignments (approved or not), in a fixed number of queries."""
    scored = [(a, approved) for a, approved in decisions if scores_decisions(a.hit.outsourcer.task_type)]
    # a hosted batch's submission is not scored: its items were
    reached = (
        scoring.record_outcomes(
            [
                scoring.Outcome(
                    account=assignment.hit.outsourcer.account,
                    worker=assignment.worker,
                    approved=approved,
                    early_bird=scoring.is_early_bird(assignment.submit_time, assignment.hit.create_date),
                    reference=f"assignment {assignment.assignment_id}",
                )
                for assignment, approved in scored
            ]
        )
        if scored
        else []
    )
    return [
        _achievement_bonus_row(assignment, achievement)
        for (assignment, _), achievements in zip(scored, reached, strict=True)
        for achievement in achievements
    ]


def _achievement_bonus_row(assignment: Assignment, achievement: Achievement) -> Payment:
    amount, reason = scoring.achievement_bonus(achievement)
    payment = bonus_row(
        assignment=paid_through(assignment),
        amount=amount,
        reason=reason,
        key=(
            f"achievement:{achievement.account_id}:{achievement.worker.worker_id}:"
            f"{achievement.track}:{achievement.level}"
        ),
        triggered_by="achievements",
    )
    Payment.objects.filter(pk=payment.pk, achievement__isnull=True).update(achievement=achievement)
    return payment
