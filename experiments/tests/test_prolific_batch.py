"""A batch of questions on Prolific, end to end against the local Prolific: one study whose participants
answer their sets of items on crowdhr's hosted pages (landing through Prolific's link, bound to the
browser, CSRF on every form), consensus per item as on MTurk, each submission decided once by its items,
and a participant whose answers disagree told the agreed answers (in the rejection message, or in a
Prolific message when the policy pays anyway). A returned participant's items go to others; a stranger
cannot answer another participant's items.
"""

from __future__ import annotations

import re
from decimal import Decimal
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.cache import cache
from django.core.files.base import ContentFile
from django.test import Client

from experiments import hosted, services
from experiments.models import Experiment, HostedAnswer
from hits.models import HIT, Assignment, Outsourcer, Payment, RejectionPolicy
from hits.review.cycle import review_active_hits
from platforms import platform_for
from platforms.models import PlatformAccount
from prolific_emulator import participants as twin
from prolific_emulator.accounts import ensure_workspace
from prolific_emulator.models import Message as TwinMessage
from prolific_emulator.models import Submission

pytestmark = pytest.mark.django_db(transaction=True)

TOKEN = "ada-prolific-batch-token"
ITEMS = b"name,country\nLyon,France\nMadrid,Portugal\nPorto,Portugal\n"
RIGHT = {"Lyon": "yes", "Madrid": "no", "Porto": "yes"}
TEMPLATE = (
    "<p>Is <strong>${name}</strong> a city in ${country}?</p>\n"
    '<label><input type="radio" name="answer" value="yes" required> yes</label>\n'
    '<label><input type="radio" name="answer" value="no"> no</label>'
)


@pytest.fixture
def prolific_account(researcher, live_server, settings) -> PlatformAccount:
    settings.PROLIFIC_EMULATOR_URL = f"{live_server.url}/emulator/prolific/api/v1/"
    settings.SITE_URL = live_server.url
    cache.clear()
    ensure_workspace(TOKEN, balance=Decimal("1000.00"))
    return PlatformAccount.objects.create(
        owner=researcher,
        name="Ada on Prolific",
        platform="prolific",
        environment=PlatformAccount.Environment.EMULATOR,
        secret_access_key=TOKEN,
    )


def make_batch(account: PlatformAccount, on_rejection: str) -> Experiment:
    experiment = Experiment.objects.create(
        owner=account.owner,
        account=account,
        name="Cities",
        kind=Experiment.Kind.BATCH,
        task_type="template_batch",
        task_config={"template": TEMPLATE, "answer_fields": ["answer"]},
        title="Which cities are where",
        description="Three quick questions about cities.",
        reward=Decimal("1.00"),  # Prolific wants at least $8 an hour: $1.00 for 5 minutes
        duration_seconds=300,
        assignments_required=3,
        agreements_required=2,
        items_per_participant=3,
        on_rejection=on_rejection,
    )
    experiment.items_file.save("cities.csv", ContentFile(ITEMS))
    return experiment


def find(pattern: str, html: str) -> str:
    match = re.search(pattern, html)
    assert match, f"{pattern!r} not on the page:\n{html[:3000]}"
    return unescape(match.group(1))


class Participant:
    """One Prolific participant and their browser on crowdhr's pages (CSRF enforced)."""

    def __init__(self, study_id: str) -> None:
        self.pid = twin.new_participant()
        self.submission = twin.take_part(study_id, self.pid)
        self.browser = Client(enforce_csrf_checks=True)

    def land(self, link: str | None = None):
        parts = urlsplit(link or twin.study_link(self.submission))
        return self.browser.get(f"{parts.path}?{parts.query}")

    def answer(self, page_url: str, value: str, **extra: str):
        page = self.browser.get(page_url)
        assert page.status_code == 200, page.content[:2000]
        token = find(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
        return self.browser.post(page_url, {"csrfmiddlewaretoken": token, "answer": value, **extra})

    def answer_all(self, answers: dict[str, str], *, stop_after: int | None = None) -> str | None:
        """Answer the allotted items (by the city each shows); the completion code at the end."""
        response = self.land()
        assert response.status_code == 302, response.content[:2000]
        url, answered = response["Location"], 0
        while "/items/done/" not in url:
            html = self.browser.get(url).content.decode()
            city = find(r"<strong>([^<]+)</strong> a city", html)
            response = self.answer(url, answers[city])
            assert response.status_code == 302, response.content[:2000]
            url, answered = response["Location"], answered + 1
            if stop_after is not None and answered >= stop_after:
                return None
        done = self.browser.get(url)
        assert done.status_code == 200, done.content[:2000]
        completion_url = find(r'id="crowdhr-complete" class="button" href="([^"]+)"', done.content.decode())
        return parse_qs(urlsplit(completion_url).query)["cc"][0]

    def complete(self, answers: dict[str, str]) -> Submission:
        code = self.answer_all(answers)
        return twin.complete(self.submission, code)


def publish(experiment: Experiment) -> HIT:
    services.experiment_publish(experiment=experiment, by=None)
    study = hosted.study_hit(experiment)
    assert study is not None
    return study


def review_until_settled(cycles: int = 4) -> None:
    for _ in range(cycles):
        review_active_hits()


@pytest.mark.parametrize("policy", [RejectionPolicy.REJECT, RejectionPolicy.PAY_ANYWAY])
def test_a_batch_on_prolific_is_decided_by_consensus_and_the_disagreeing_participant_is_told(
    prolific_account, policy
):
    experiment = make_batch(prolific_account, policy)
    study = publish(experiment)
    # one study on Prolific, with a place for every set of items (3 items x 3 answers / 3) plus one
    assert platform_for(prolific_account).get_hit(study.hit_id).max_assignments == 3 + 1
    assert [h.hit_id for h in platform_for(prolific_account).list_hits()] == [study.hit_id]
    items = Outsourcer.objects.filter(experiment=experiment).exclude(target=experiment.outsourcer_target)
    assert items.count() == 3 and all(item.hits.get().reward == 0 for item in items)

    # a participant who returns the study on Prolific: their items go to the others
    quitter = Participant(study.hit_id)
    assert quitter.answer_all(RIGHT, stop_after=1) is None
    assert HostedAnswer.objects.filter(session_id=quitter.submission.id).count() == 3
    twin.return_submission(quitter.submission)

    agree_1, agree_2, disagree = (Participant(study.hit_id) for _ in range(3))
    wrong = {"Lyon": "no", "Madrid": "yes", "Porto": "yes"}  # only Porto agrees: 1 of 3
    taken = [agree_1.complete(RIGHT), agree_2.complete(RIGHT), disagree.complete(wrong)]
    assert {s.status for s in taken} == {Submission.AWAITING_REVIEW}
    assert not HostedAnswer.objects.filter(session_id=quitter.submission.id).exists()

    review_until_settled()

    for item in items:
        item.refresh_from_db()
        assert item.answer == {"answer": RIGHT[item.inputs["name"]]}, item.problem
    for person in (agree_1, agree_2, disagree):
        person.submission.refresh_from_db()
    assert agree_1.submission.status == agree_2.submission.status == Submission.APPROVED
    decided = Assignment.objects.get(assignment_id=disagree.submission.id)
    assert decided.decision == Assignment.Decision.REJECTED
    told = "Item 1 (Lyon, France): you answered \u201cno\u201d; the agreed answer was \u201cyes\u201d."
    if policy == RejectionPolicy.REJECT:
        assert disagree.submission.status == Submission.REJECTED
        assert told in disagree.submission.rejection_message
        assert len(disagree.submission.rejection_message) >= 100
    else:  # paid anyway: approved on Prolific, which shows no feedback, so a message tells them
        assert disagree.submission.status == Submission.APPROVED and decided.paid_despite_rejection
        (message,) = TwinMessage.objects.filter(participant_id=disagree.pid)
        assert told in message.body
    assert not TwinMessage.objects.filter(participant_id__in=[agree_1.pid, agree_2.pid]).exists()

    # each submission decided once, each item answer decided with no money and no platform call
    review_until_settled(2)
    for person in (agree_1, agree_2, disagree):
        rows = Payment.objects.filter(assignment__assignment_id=person.submission.id).exclude(
            kind=Payment.Kind.BONUS
        )
        assert [(p.status, p.amount) for p in rows] == [
            ("done", Decimal("1.00") if person is not disagree or policy == RejectionPolicy.PAY_ANYWAY else 0)
        ]
    item_rows = Payment.objects.filter(assignment__hit__hit_type_id="crowdhr-hosted")
    assert item_rows.count() == 9 and {p.amount for p in item_rows} == {Decimal("0.00")}
    assert TwinMessage.objects.filter(participant_id=disagree.pid).count() == (
        1 if policy == RejectionPolicy.PAY_ANYWAY else 0
    )

    # stopping the batch stops the study on Prolific; the items' hosted HITs are crowdhr's own
    assert services.experiment_expire(experiment=experiment, by=None) == 1 + 3
    assert platform_for(prolific_account).get_hit(study.hit_id).status != "Assignable"


def test_a_stranger_cannot_answer_another_participants_items(prolific_account):
    experiment = make_batch(prolific_account, RejectionPolicy.REJECT)
    study = publish(experiment)
    owner, other = Participant(study.hit_id), Participant(study.hit_id)
    first = owner.land()
    assert first.status_code == 302
    item_url = first["Location"]

    # no cookie: nothing to see or post, whatever the URL says
    stranger = Client(enforce_csrf_checks=True)
    assert stranger.get(item_url).status_code == 403
    assert stranger.post(item_url, {"answer": "yes"}).status_code == 403
    # the same browser without the CSRF token is refused too
    assert owner.browser.post(item_url, {"answer": "yes"}).status_code == 403

    # another participant typing the owner's session into their own link: Prolific says it is not theirs
    link = twin.study_link(other.submission).replace(other.submission.id, owner.submission.id)
    assert other.land(link).status_code == 403
    # with their own place, the same item URL is one of their own items, never the owner's
    assert other.land().status_code == 302
    assert other.answer(item_url, "no").status_code == 302
    mine = HostedAnswer.objects.get(session_id=owner.submission.id, position=1)
    assert mine.answered_at is None and mine.worker_id == owner.pid
    theirs = HostedAnswer.objects.get(session_id=other.submission.id, position=1)
    assert theirs.answers == {"answer": "no"}

    # only the template's fields are kept, within their lengths
    response = owner.answer(item_url, "x" * 2000)
    assert response.status_code == 400
    assert owner.answer(item_url, "yes", extra_field="<script>", comments="fine").status_code == 302
    mine.refresh_from_db()
    assert mine.answers == {"answer": "yes", "comments": "fine"}
