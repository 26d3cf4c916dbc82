"""A published oTree study on the local MTurk and a real oTree server, and a worker who walks it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from html import unescape
from urllib.parse import urlencode

import pytest
import requests

from experiments.models import Experiment, OtreeSite


@pytest.fixture
def site_url(live_server, settings) -> str:
    """crowdhr's address as MTurk and oTree see it: the live test server."""
    settings.SITE_URL = live_server.url
    return live_server.url


@pytest.fixture
def site(researcher, otree_server) -> OtreeSite:
    return OtreeSite.objects.create(
        owner=researcher, name="Lab oTree", url=otree_server.url, rest_key=otree_server.rest_key
    )


def make_study(account, site, **fields) -> Experiment:
    values = {
        "owner": account.owner,
        "account": account,
        "name": "Effort study",
        "kind": Experiment.Kind.OTREE,
        "title": "A short decision study",
        "description": "Choose how much effort to give; about 2 minutes.",
        "reward": Decimal("0.50"),
        "otree_site": site,
        "session_config_name": "effort",
        "num_participants": 12,
        **fields,
    }
    return Experiment.objects.create(**values)


@pytest.fixture
def study(account, site, site_url) -> Experiment:
    """An unpublished 12-participant oTree study of the effort task."""
    return make_study(account, site)


def find(pattern: str, html: str) -> str:
    match = re.search(pattern, html)
    assert match, f"{pattern!r} not on the page:\n{html[:3000]}"
    return unescape(match.group(1))


def went_in(landing: requests.Response) -> bool:
    """The landing gave the place: it redirected the worker into the study."""
    return landing.status_code == 302


@dataclass
class WorkerBrowser:
    """One worker's browser on crowdhr's pages (plain HTTP, as MTurk's frame would load them)."""

    site_url: str
    experiment: Experiment
    worker_id: str
    http: requests.Session

    @property
    def submit_base(self) -> str:
        return f"{self.site_url}/emulator"

    def land(self, assignment_id: str, hit_id: str, **override: str) -> requests.Response:
        params = {
            "assignmentId": assignment_id,
            "hitId": hit_id,
            "workerId": self.worker_id,
            "turkSubmitTo": self.submit_base,
            **override,
        }
        url = f"{self.site_url}/study/{self.experiment.pk}/?{urlencode(params)}"
        return self.http.get(url, allow_redirects=False, timeout=10)

    def go(self, landing: requests.Response) -> str:
        """Where the landing sent the worker: the oTree link (a landing that gives the place answers
        with one redirect into oTree)."""
        assert went_in(landing), landing.text[:500]
        return landing.headers["Location"]

    def submit_from_done_page(self, done_link: str) -> requests.Response:
        """Open the done page and press its submit button (a POST to MTurk's externalSubmit)."""
        page = self.http.get(done_link, timeout=10)
        assert page.status_code == 200, page.text[:1000]
        action = find(r'id="crowdhr-submit-form" method="post" action="([^"]+)"', page.text)
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.text))
        return self.http.post(action, data=fields, timeout=10)


@pytest.fixture
def browser(site_url):
    def open_browser(experiment: Experiment, worker_id: str) -> WorkerBrowser:
        return WorkerBrowser(site_url, experiment, worker_id, requests.Session())

    return open_browser
