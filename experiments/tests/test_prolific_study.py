"""An oTree study end to end on Prolific: one study with every place on the local Prolific, participants
take part through crowdhr's landing, play the real oTree, complete with the study's code, and review
approves them and pays each payoff bonus exactly once (checked against the twin's own records).
"""

from __future__ import annotations

import re
from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from experiments import services
from experiments.testing import walk_participant
from experiments.tests.conftest import find, make_study
from hits.models import HIT, Assignment, Payment
from hits.review.cycle import review_active_hits
from platforms import platform_for
from platforms.models import PlatformAccount
from prolific_emulator import participants as twin
from prolific_emulator.accounts import ensure_workspace
from prolific_emulator.models import Submission

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.otree]

TOKEN = "ada-prolific-token"


@pytest.fixture
def prolific_account(researcher, live_server, settings) -> PlatformAccount:
    settings.PROLIFIC_EMULATOR_URL = f"{live_server.url}/emulator/prolific/api/v1/"
    ensure_workspace(TOKEN, balance=Decimal("1000.00"))
    return PlatformAccount.objects.create(
        owner=researcher,
        name="Ada on Prolific",
        platform="prolific",
        environment=PlatformAccount.Environment.EMULATOR,
        secret_access_key=TOKEN,
    )


@pytest.fixture
def prolific_study(prolific_account, site, site_url):
    # Prolific wants at least $8 an hour: $1.00 for a study of at most 5 minutes
    return make_study(
        prolific_account, site, num_participants=3, reward=Decimal("1.00"), duration_seconds=300
    )


def take_part(study, hit: HIT, site_url: str, effort: int) -> tuple[str, Submission]:
    """A participant takes part on Prolific, follows the link to crowdhr and into oTree, plays,
    and completes at Prolific's completion URL from crowdhr's done page."""
    pid = twin.new_participant()
    submission = twin.take_part(hit.hit_id, pid)
    http = requests.Session()
    landing = http.get(twin.study_link(submission), allow_redirects=False, timeout=10)
    assert landing.status_code == 302, landing.text[:1000]
    assert landing.headers["Location"].endswith(f"participant_label={pid}")
    walk = walk_participant(
        study.otree_session_wide_url, pid, {"effort": str(effort)}, done_link_prefix=site_url
    )
    assert walk.done_link, walk.last_html[:2000]
    done = http.get(walk.done_link, timeout=10)
    assert done.status_code == 200, done.text[:1000]
    completion_url = find(r'id="crowdhr-complete" class="button" href="([^"]+)"', done.text)
    code = parse_qs(urlsplit(completion_url).query)["cc"][0]
    assert completion_url.startswith(f"{site_url}/emulator/prolific/submissions/complete?cc=")
    return pid, twin.complete(submission, code)


def test_a_study_on_prolific_is_one_study_whose_participants_are_approved_and_paid_once(
    prolific_study, site_url
):
    cost = services.publish_cost(experiment=prolific_study)
    assert (cost.batches, cost.fee_percent) == ([3], "33.33%")
    services.experiment_publish(experiment=prolific_study, by=None)

    (hit,) = HIT.objects.filter(outsourcer__experiment=prolific_study)
    assert platform_for(prolific_study.account).get_hit(hit.hit_id).max_assignments == 3
    prolific_study.refresh_from_db()
    taken = [take_part(prolific_study, hit, site_url, effort) for effort in (3, 5)]
    assert {s.status for _, s in taken} == {Submission.AWAITING_REVIEW}

    review_active_hits()
    review_active_hits()  # a second cycle decides and pays nothing more

    for pid, submission in taken:
        submission.refresh_from_db()
        assert submission.status == Submission.APPROVED
        assignment = Assignment.objects.get(assignment_id=submission.id)
        assert (assignment.decision, assignment.worker.worker_id) == ("approved", pid)
        bonuses = Payment.objects.filter(assignment=assignment, kind=Payment.Kind.BONUS)
        assert [b.status for b in bonuses] == ["done"]
        assert sum(twin_bonus_amounts(submission)) == bonuses[0].amount * 100
        assert bonuses[0].amount > 0


def twin_bonus_amounts(submission: Submission) -> list[int]:
    """What the local Prolific actually paid the submission, in cents."""
    from prolific_emulator.submissions import bonus_amounts

    return bonus_amounts(submission)


def test_a_participant_from_another_study_is_refused(prolific_study, site_url):
    services.experiment_publish(experiment=prolific_study, by=None)
    url = services.landing_url(prolific_study)
    params = "PROLIFIC_PID=5f0c1e2d3c4b5a6978899aab&STUDY_ID=aaaaaaaaaaaaaaaaaaaaaaaa&SESSION_ID=s1"
    response = requests.get(f"{url}?{params}", timeout=10)
    assert response.status_code in (400, 404)
    assert re.search(r"does not belong to this study", response.text)
