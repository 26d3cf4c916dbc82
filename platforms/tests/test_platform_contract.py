"""The Platform contract: what crowdhr relies on from every registered platform.

One class runs against each platform's harness (`conftest.py`): its real client over HTTP
against its local twin, no mocks. A case needing a capability the platform does not declare is
skipped with the reason. MTurk's wire details (botocore retries, page sizes) are in test_mturk.py.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from platforms import Capability, ExternalPage, PlatformError, QualificationRequirement, WorkSpec

pytestmark = pytest.mark.django_db(transaction=True)
needs = pytest.mark.needs


def spec(**overrides) -> WorkSpec:
    values = {
        "title": "Rate a sentence",
        "description": "Say whether the sentence is polite.",
        "reward": Decimal("0.25"),
        "places": 3,
        "destination": ExternalPage("https://crowdhr.example.org/study/1/"),
        "lifetime_seconds": 3600,
        "time_allowed_seconds": 600,
        "auto_approval_delay_seconds": 86400,
        "keywords": "rating, language",
        "estimated_seconds": 60,
    }
    return WorkSpec(**(values | overrides))


class TestPlatformContract:
    def test_create_get_and_list_hits(self, harness):
        platform = harness.platform
        created = platform.create_hit(spec(), unique_request_token="contract-1")
        assert created.status == "Assignable"
        assert created.reward == Decimal("0.25") and created.max_assignments == 3 and created.available == 3
        fetched = platform.get_hit(created.hit_id)
        assert fetched.hit_id == created.hit_id and fetched.title == "Rate a sentence"
        assert created.hit_id in {hit.hit_id for hit in platform.list_hits()}

    def test_a_repeated_creation_token_returns_the_first_hit_and_charges_once(self, harness):
        platform = harness.platform
        before = platform.account_balance()
        first = platform.create_hit(spec(), unique_request_token="contract-twice")
        again = platform.create_hit(spec(), unique_request_token="contract-twice")
        assert again.hit_id == first.hit_id
        assert len(platform.list_hits()) == 1
        assert before - platform.account_balance() == harness.fees.posting_cost(Decimal("0.25"), 3)

    def test_expired_work_takes_no_one_and_undecided_work_is_not_deleted(self, harness):
        platform, worker = harness.platform, harness.worker_id("worker1")
        hit = platform.create_hit(spec(places=1), unique_request_token="contract-expire")
        assignment_id = harness.crowd.work(hit.hit_id, worker, {"answer": "yes"})
        platform.expire_hit(hit.hit_id)
        assert platform.get_hit(hit.hit_id).expiration <= timezone.now()
        with pytest.raises(PlatformError) as refused:
            platform.delete_hit(hit.hit_id)  # a submitted assignment is still undecided
        assert refused.value.permanent
        platform.approve_assignment(assignment_id)
        platform.delete_hit(hit.hit_id)
        assert platform.get_hit(hit.hit_id).status == "Disposed"

    @needs(Capability.RESUME)
    def test_expired_work_can_be_resumed(self, harness):
        platform = harness.platform
        hit = platform.create_hit(spec(places=1), unique_request_token="contract-resume")
        platform.expire_hit(hit.hit_id)
        with pytest.raises(harness.crowd.Refused):
            harness.crowd.accept(hit.hit_id, harness.worker_id("worker1"))
        later = timezone.now() + timedelta(hours=2)
        platform.update_expiration(hit.hit_id, later)
        assert abs((platform.get_hit(hit.hit_id).expiration - later).total_seconds()) < 2
        assert harness.crowd.accept(hit.hit_id, harness.worker_id("worker1"))

    @needs(Capability.REOPEN)
    def test_added_places_with_a_repeated_token_are_added_once(self, harness):
        platform = harness.platform
        hit = platform.create_hit(spec(places=3), unique_request_token="contract-more")
        platform.add_assignments(hit.hit_id, 3, unique_request_token="contract-more-1")
        platform.add_assignments(hit.hit_id, 3, unique_request_token="contract-more-1")
        assert platform.get_hit(hit.hit_id).max_assignments == 6

    def test_assignments_are_listed_with_their_answers_and_decided_once(self, harness):
        platform, crowd = harness.platform, harness.crowd
        one, two = harness.worker_id("worker1"), harness.worker_id("worker2")
        hit = platform.create_hit(spec(), unique_request_token="contract-decide")
        first = crowd.work(hit.hit_id, one, {"answer": "polite", "comments": "nice task"})
        second = crowd.work(hit.hit_id, two, {"answer": "rude"})

        listed = {a.worker_id: a for a in platform.list_assignments(hit.hit_id)}
        assert listed[one].answers == harness.reported_answers(
            hit.hit_id, {"answer": "polite", "comments": "nice task"}
        )
        assert listed[one].status == "Submitted" and listed[one].accept_time is not None
        assert platform.get_assignment(second).worker_id == two

        platform.approve_assignment(first, feedback="Thank you!")
        platform.approve_assignment(first, feedback="Thank you!")  # already approved: success
        platform.reject_assignment(second, feedback="The agreed answer was: polite.")
        platform.reject_assignment(second, feedback="again")  # already rejected: success
        assert platform.get_assignment(first).status == "Approved"
        if harness.echoes_feedback:
            assert platform.get_assignment(second).requester_feedback == "The agreed answer was: polite."
        assert [a.worker_id for a in platform.list_assignments(hit.hit_id, statuses=["Rejected"])] == [two]

        with pytest.raises(PlatformError) as refused:
            platform.reject_assignment(first, feedback="changed my mind")
        assert refused.value.permanent
        if harness.overrides_rejections:
            platform.approve_assignment(second, override_rejection=True)
            assert platform.get_assignment(second).status == "Approved"
        else:
            with pytest.raises(PlatformError) as final:
                platform.approve_assignment(second, override_rejection=True)
            assert final.value.permanent and platform.get_assignment(second).status == "Rejected"

    @needs(Capability.BONUSES)
    def test_bonuses_with_a_repeated_token_are_paid_once(self, harness):
        platform, worker = harness.platform, harness.worker_id("worker1")
        one_step_bonuses(platform)
        hit = platform.create_hit(spec(), unique_request_token="contract-bonus")
        assignment_id = harness.crowd.work(hit.hit_id, worker, {"answer": "polite"})
        before = platform.account_balance()

        for _ in range(2):
            platform.send_bonus(
                worker_id=worker,
                assignment_id=assignment_id,
                amount=Decimal("1.00"),
                reason="Your payoff in the study",
                unique_request_token="contract-bonus-1",
            )

        paid = platform.list_bonus_payments(assignment_id=assignment_id)
        assert [(b.worker_id, b.amount, b.reason) for b in paid] == [
            (worker, Decimal("1.00"), "Your payoff in the study")
        ]
        assert [b.worker_id for b in platform.list_bonus_payments(hit_id=hit.hit_id)] == [worker]
        cost = Decimal("1.00") + harness.fees.bonus_fee(Decimal("1.00"))
        assert before - platform.account_balance() == cost

    @needs(Capability.BONUSES)
    def test_a_bonus_goes_only_to_the_worker_who_did_the_assignment(self, harness):
        platform = harness.platform
        hit = platform.create_hit(spec(), unique_request_token="contract-bonus-who")
        assignment_id = harness.crowd.work(hit.hit_id, harness.worker_id("worker1"), {"answer": "polite"})
        with pytest.raises(PlatformError) as refused:
            if platform.bonus_needs_setup:
                platform.setup_bonus(
                    worker_id=harness.worker_id("other"),
                    assignment_id=assignment_id,
                    hit_id=hit.hit_id,
                    amount=Decimal("1.00"),
                    reason="x",
                )
            else:
                platform.send_bonus(
                    worker_id=harness.worker_id("other"),
                    assignment_id=assignment_id,
                    amount=Decimal("1.00"),
                    reason="x",
                    unique_request_token="contract-bonus-who-1",
                )
        assert refused.value.permanent

    @needs(Capability.BONUSES)
    def test_a_two_step_bonus_pays_nothing_when_set_up_and_is_read_back_once_paid(self, harness):
        platform, worker = harness.platform, harness.worker_id("worker1")
        two_step_bonuses(platform)
        hit = platform.create_hit(spec(), unique_request_token="contract-bonus-2")
        assignment_id = harness.crowd.work(hit.hit_id, worker, {"answer": "polite"})
        before = platform.account_balance()
        bonus = {"worker_id": worker, "assignment_id": assignment_id, "amount": Decimal("1.00")}

        reference = platform.setup_bonus(**bonus, hit_id=hit.hit_id, reason="Your payoff in the study")
        assert platform.account_balance() == before
        assert platform.bonus_was_paid(reference, **bonus, known_paid=0) is False
        platform.pay_bonus_setup(reference)

        assert platform.bonus_was_paid(reference, **bonus, known_paid=0) is True
        assert platform.bonus_was_paid(reference, **bonus, known_paid=1) is False
        paid = platform.list_bonus_payments(assignment_id=assignment_id)
        assert [(b.worker_id, b.amount) for b in paid] == [(worker, Decimal("1.00"))]
        assert [b.worker_id for b in platform.list_bonus_payments(hit_id=hit.hit_id)] == [worker]
        cost = Decimal("1.00") + harness.fees.bonus_fee(Decimal("1.00"))
        assert before - platform.account_balance() == cost

    @needs(Capability.BONUSES)
    def test_a_two_step_bonus_whose_pay_answer_was_lost_reads_as_paid(self, harness):
        platform, worker = harness.platform, harness.worker_id("worker1")
        two_step_bonuses(platform)
        hit = platform.create_hit(spec(), unique_request_token="contract-bonus-lost-2")
        assignment_id = harness.crowd.work(hit.hit_id, worker, {"answer": "polite"})
        bonus = {"worker_id": worker, "assignment_id": assignment_id, "amount": Decimal("0.50")}
        reference = platform.setup_bonus(**bonus, hit_id=hit.hit_id, reason="Payoff")
        harness.fail_next("pay_bonus_setup", 1)

        with pytest.raises(PlatformError) as unknown:
            platform.pay_bonus_setup(reference)

        assert not unknown.value.permanent  # the outcome is unknown: the caller must read, not pay
        assert platform.bonus_was_paid(reference, **bonus, known_paid=0) is True
        assert len(platform.list_bonus_payments(assignment_id=assignment_id)) == 1

    @needs(Capability.MESSAGES)
    def test_messages_reach_a_worker_whose_work_was_decided(self, harness):
        platform, worker = harness.platform, harness.worker_id("worker1")
        hit = platform.create_hit(spec(places=1), unique_request_token="contract-notify")
        platform.approve_assignment(harness.crowd.work(hit.hit_id, worker, {"answer": "x"}))
        failed = platform.notify_workers([worker], subject="A new study", message="Come back tomorrow.")
        assert worker not in failed

    @needs(Capability.HARD_BLOCKS)
    def test_blocks(self, harness):
        platform, worker = harness.platform, harness.worker_id("worker1")
        platform.block_worker(worker, reason="Copied answers from another worker")
        reason = "Copied answers from another worker" if harness.keeps_block_reasons else ""
        assert platform.list_blocked_workers() == {worker: reason}
        platform.unblock_worker(worker, reason="Appeal accepted")
        assert platform.list_blocked_workers() == {}

    @needs(Capability.QUALIFICATIONS)
    def test_qualifications_score_workers_and_guard_work(self, harness):
        platform, crowd = harness.platform, harness.crowd
        veteran, newcomer = harness.worker_id("worker1"), harness.worker_id("newcomer")
        type_id = platform.ensure_qualification_type(
            name="Contract score", description="For tests", auto_granted_value=5
        )
        assert platform.ensure_qualification_type(name="Contract score", description="For tests") == type_id
        assert platform.get_qualification_score(type_id, veteran) is None
        platform.set_qualification_score(type_id, veteran, 3)
        assert platform.get_qualification_score(type_id, veteran) == 3

        requirement = QualificationRequirement(type_id, "GreaterThanOrEqualTo", (4,))
        hit = platform.create_hit(spec(requirements=[requirement]), unique_request_token="contract-qual")
        with pytest.raises(crowd.Refused):
            crowd.accept(hit.hit_id, veteran)
        assert crowd.accept(hit.hit_id, newcomer)  # auto-granted 5
        platform.remove_qualification(type_id, veteran, reason="reset")
        assert platform.get_qualification_score(type_id, veteran) is None

    def test_accounts_are_separate(self, harness):
        mine, theirs = harness.platform, harness.another_account("theirs")
        their_balance = theirs.account_balance()
        hit = mine.create_hit(spec(), unique_request_token="contract-mine")
        assert theirs.list_hits() == []
        assert theirs.account_balance() == their_balance
        assert mine.get_hit(hit.hit_id).hit_id == hit.hit_id

    def test_unknown_work_is_a_permanent_error(self, harness):
        with pytest.raises(PlatformError) as refused:
            harness.platform.get_hit("NOSUCHHIT0000000000000000000000")
        assert refused.value.permanent

    @needs(Capability.BONUSES)
    def test_a_bonus_whose_answer_was_lost_is_paid_once(self, harness):
        if harness.fail_next is None:
            pytest.skip(f"{harness.key}'s twin cannot lose answers")
        one_step_bonuses(harness.platform)
        platform, worker = harness.platform, harness.worker_id("worker1")
        hit = platform.create_hit(spec(), unique_request_token="contract-lost")
        assignment_id = harness.crowd.work(hit.hit_id, worker, {"answer": "polite"})
        harness.fail_next("send_bonus", 1)
        platform.send_bonus(
            worker_id=worker,
            assignment_id=assignment_id,
            amount=Decimal("0.50"),
            reason="Payoff",
            unique_request_token="contract-lost-1",
        )
        assert len(platform.list_bonus_payments(assignment_id=assignment_id)) == 1

    def test_work_whose_creation_answer_was_lost_is_created_once(self, harness):
        if harness.fail_next is None:
            pytest.skip(f"{harness.key}'s twin cannot lose answers")
        harness.fail_next("create_hit", 1)
        hit = harness.platform.create_hit(spec(), unique_request_token="contract-lost-hit")
        assert [h.hit_id for h in harness.platform.list_hits()] == [hit.hit_id]


def one_step_bonuses(platform) -> None:
    if platform.bonus_needs_setup:
        pytest.skip(f"{platform.name} pays bonuses in two steps (set up, then pay)")


def two_step_bonuses(platform) -> None:
    if not platform.bonus_needs_setup:
        pytest.skip(f"{platform.name} pays bonuses in one idempotent call")
