"""Hosted-tasks fixtures: the demo package on the local Prolific, and workers walking it over HTTP."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal
from html import unescape
from pathlib import Path

import pytest
import requests

from experiments.workflow import packages, services
from experiments.workflow.models import HostedStudy
from platforms.models import PlatformAccount

DEMO = Path(packages.__file__).resolve().parent / "demo_package"
TOKEN = "ada-prolific-token"
#: the demo's right answers, by review text (the items, the test and the training)
RIGHT = {
    "The pasta was perfect and the staff were lovely.": "positive",
    "Cold soup and a rude waiter. Never again.": "negative",
    "Best pizza in town; we will come back.": "positive",
    "We waited an hour for a burnt steak.": "negative",
    "A cosy place with friendly service.": "positive",
    "The fish smelled off and the bill was wrong.": "negative",
    "Lovely desserts and a great view.": "positive",
    "Noisy, dirty and overpriced.": "negative",
    "An amazing dinner from start to finish.": "positive",
    "The worst meal I have had in years.": "negative",
    "Delicious food and very kind staff.": "positive",
    "Not bad at all, we loved the curry.": "positive",
    "Great location, shame about the food: bland and cold.": "negative",
}


@pytest.fixture
def site_url(live_server, settings) -> str:
    settings.SITE_URL = live_server.url
    return live_server.url


@pytest.fixture
def prolific_account(researcher, live_server, settings) -> PlatformAccount:
    from prolific_emulator.accounts import ensure_workspace

    settings.PROLIFIC_EMULATOR_URL = f"{live_server.url}/emulator/prolific/api/v1/"
    ensure_workspace(TOKEN, balance=Decimal("1000.00"))
    return PlatformAccount.objects.create(
        owner=researcher,
        name="Ada on Prolific",
        platform="prolific",
        environment=PlatformAccount.Environment.EMULATOR,
        secret_access_key=TOKEN,
    )


def demo_study(account: PlatformAccount, **changes) -> HostedStudy:
    package = packages.read_package(packages.files_from_folder(DEMO))
    study = packages.hosted_create(owner=account.owner, account=account, package=package, by=None)
    if changes:
        HostedStudy.objects.filter(pk=study.pk).update(**changes)
        study.refresh_from_db()
    return study


#: each item decided by one answer (a single worker's answers are decided at once)
SOLO = {"answers_per_item": 1, "agreements_required": 1}


@pytest.fixture
def published(request, prolific_account, site_url) -> HostedStudy:
    """The demo package, published as one study on the local Prolific (changed by an indirect
    parameter: `@pytest.mark.parametrize("published", [SOLO], indirect=True)`)."""
    study = demo_study(prolific_account, **getattr(request, "param", {}))
    services.hosted_publish(study=study, by=None)
    study.refresh_from_db()
    return study


def find(pattern: str, html: str) -> str:
    match = re.search(pattern, html)
    assert match, f"{pattern!r} not on the page:\n{html[:3000]}"
    return unescape(match.group(1))


def review_of(html: str) -> str:
    return find(r"Review: <em>([^<]+)</em>", html)


@dataclass
class HttpWorker:
    """One participant's browser on crowdhr's hosted pages (plain HTTP with cookies)."""

    site_url: str
    study: HostedStudy
    pid: str = ""
    submission_id: str = ""
    http: requests.Session = field(default_factory=requests.Session)

    def take_part(self) -> requests.Response:
        from prolific_emulator import participants as twin

        hit = self.study.experiment.outsourcers.get(target=self.study.experiment.outsourcer_target).hits.get()
        self.pid = twin.new_participant()
        submission = twin.take_part(hit.hit_id, self.pid)
        self.submission_id = submission.id
        return self.land()

    def land(self) -> requests.Response:
        from prolific_emulator import participants as twin
        from prolific_emulator.models import Submission

        response = self.http.get(twin.study_link(Submission.objects.get(pk=self.submission_id)), timeout=10)
        assert response.status_code == 200, response.text[:2000]
        return response

    def url(self, name: str) -> str:
        return f"{self.site_url}/study/{self.study.experiment_id}/hosted/{name}"

    def page(self) -> str:
        response = self.http.get(self.url("work/"), timeout=10)
        assert response.status_code == 200, response.text[:2000]
        return response.text

    def token(self, html: str) -> str:
        return find(r'name="token" value="([^"]+)"', html)

    def consent(self) -> str:
        html = self.page()
        view = find(r'name="view" value="(\d+)"', html)
        response = self.http.post(
            self.url("intro/"),
            {
                "token": self.token(html),
                "view": view,
                "consent": "yes",
                "screen": "1920x1080",
                "window": "1400x900",
            },
            timeout=10,
        )
        return response.text

    def answer_question(self, wrong: bool = False) -> str:
        html = self.page()
        review = review_of(html)
        given = RIGHT[review]
        if wrong:
            given = "negative" if given == "positive" else "positive"
        data = {
            "token": self.token(html),
            "view": find(r'name="view" value="(\d+)"', html),
            "task": find(r'name="task" value="(\d+)"', html),
            "answer": given,
            "screen": "1920x1080",
            "window": "1400x900",
        }
        return self.http.post(self.url("answer/"), data, timeout=10).text

    def current_task(self) -> dict:
        return self.http.get(self.url("task/"), timeout=10).json()

    def save_task(self, task: dict, token: str, answer: str | None = None) -> dict:
        review = review_of(task["html"])
        data = {
            "token": token,
            "task": task["task"],
            "view": task["view"],
            "answer": answer or RIGHT[review],
            "screen": "1920x1080",
            "window": "1400x900",
        }
        return self.http.post(self.url("task/save/"), data, timeout=10).json()

    def stop(self, token: str) -> str:
        return self.http.post(self.url("stop/"), {"token": token}, timeout=10).text

    def complete(self, html: str):
        from prolific_emulator import participants as twin

        completion_url = find(r'id="crowdhr-complete" class="button" href="([^"]+)"', html)
        code = re.search(r"cc=([^&]+)", completion_url).group(1)
        return twin.complete(self.submission_id, code)


@pytest.fixture
def worker_factory(published, site_url):
    return lambda: HttpWorker(site_url, published)
