"""Hostile input against every worker-facing URL and the local platforms' APIs: never a 500, never a
change of state.

Property-based (hypothesis): thousands of requests with ids that almost match (a trailing newline, a
NUL, a carriage return, 65 characters, unicode look-alikes), unknown parameters, forged cookies and
tokens, junk bodies and headers. The worker-facing URLs are read from the URL configuration, so pages
added later (hosted question pages) are covered too. State is every row of crowdhr's apps and of the
local platforms, counted, plus the worker's place as stored.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from urllib.parse import quote

import pytest
from django.apps import apps
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from experiments import places
from experiments.models import Experiment, Participant, Visit
from hits.models import HIT, Outsourcer
from platforms.models import PlatformAccount

pytestmark = pytest.mark.django_db

STATE_APPS = ("crowdhr", "platforms", "workers", "hits", "experiments", "mturk_emulator", "prolific_emulator")
MANY = settings(
    max_examples=600,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)

#: values that nearly pass a check: the named cases first, then anything
NEAR_MISSES = [
    "AW1\n",
    "AW1\r",
    "AW1\x00",
    "AW1%0A",
    "A" * 65,
    "aw1",
    "AW1 ",
    " AW1",
    "ＡＷ１",
    "AW1\u2028",
    "",
]
hostile_text = st.one_of(
    st.sampled_from(NEAR_MISSES),
    st.text(max_size=80),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=60, max_size=300),
    st.from_regex(r"[A-Z0-9]{1,70}[\x00-\x1f]?", fullmatch=True),
    st.from_regex(r"[0-9a-f]{24}\n?", fullmatch=True),
)
PARAMETERS = [
    "assignmentId",
    "hitId",
    "workerId",
    "turkSubmitTo",
    "PROLIFIC_PID",
    "STUDY_ID",
    "SESSION_ID",
    "participant_label",
    "screen",
    "token",
]
params = st.dictionaries(
    st.one_of(st.sampled_from(PARAMETERS), st.text(max_size=12)), hostile_text, max_size=6
)


@pytest.fixture
def study(researcher, monkeypatch):
    """A published-looking oTree study with one worker's place, no platform calls needed."""
    monkeypatch.setattr(places, "in_progress", lambda experiment, fresh=False: 0)
    account = PlatformAccount.objects.create(
        owner=researcher, name="Lab", environment=PlatformAccount.Environment.EMULATOR
    )
    experiment = Experiment.objects.create(
        owner=researcher,
        account=account,
        name="Study",
        kind=Experiment.Kind.OTREE,
        title="A study",
        description="d",
        reward=Decimal("0.50"),
        num_participants=2,
        otree_session_code="abc",
        otree_session_wide_url="https://otree.example.org/join/abc",
    )
    outsourcer = Outsourcer.objects.create(
        owner=researcher,
        account=account,
        target=experiment.outsourcer_target,
        task_type="otree_study",
        task_config={"experiment_id": experiment.pk},
        experiment=experiment,
    )
    HIT.objects.create(
        outsourcer=outsourcer,
        hit_id="3HIT",
        environment="emulator",
        status=HIT.Status.LIVE,
        creation_token="t",
        title="t",
        description="d",
        reward=Decimal("0.50"),
        max_assignments=2,
        question="<q/>",
    )
    now = timezone.now()
    place = Participant.objects.create(
        experiment=experiment,
        worker_id="AW1",
        assignment_id="3A1",
        hit_id="3HIT",
        turk_submit_to="https://www.mturk.com",
        browser_key="k" * 43,
        landed_at=now,
        claim_expires_at=now + timezone.timedelta(hours=1),
    )
    Visit.objects.create(participant=place, assignment_id="3A1", landed_at=now)
    return experiment


def state() -> tuple:
    counts = tuple(
        (model._meta.label, model._default_manager.count())
        for name in STATE_APPS
        if apps.is_installed(name)
        for model in apps.get_app_config(name).get_models()
    )
    places_now = tuple(
        Participant.objects.order_by("pk").values_list(
            "worker_id",
            "assignment_id",
            "hit_id",
            "turk_submit_to",
            "browser_key",
            "submitted_at",
            "completed_at",
        )
    )
    return counts, places_now


def worker_routes() -> list[str]:
    """Every URL pattern under /study/ and /hooks/, as a template with {name} for each segment."""
    found = []

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, route)
            elif isinstance(pattern, URLPattern) and route.startswith(("study/", "hooks/")):
                found.append(route)

    walk(get_resolver().url_patterns, "")
    return sorted(set(found))


def fill(route: str, experiment_pk: int, segment: str) -> str:
    def value(match: re.Match) -> str:
        converter, _, name = match.group(1).rpartition(":")
        if converter == "int":
            return str(experiment_pk) if name == "pk" else "1"
        return quote(segment, safe="") or "x"

    return "/" + re.sub(r"<([^>]+)>", value, route)


def test_every_worker_facing_route_is_covered():
    routes = worker_routes()
    assert {"study/<int:pk>/", "study/<int:pk>/done/", "study/<int:pk>/submitting/"} <= set(routes)
    assert any(route.startswith("hooks/") for route in routes)


@MANY
@given(
    query=params,
    method=st.sampled_from(["get", "post"]),
    segment=hostile_text,
    cookie=hostile_text,
    pick=st.integers(min_value=0, max_value=10_000),
)
def test_worker_pages_answer_hostile_input_without_a_500_or_a_change(
    client, study, query, method, segment, cookie, pick
):
    routes = worker_routes()
    url = fill(routes[pick % len(routes)], study.pk, segment)
    client.cookies[places.cookie_name(study.pk)] = cookie.replace("\x00", "").encode().decode("latin-1")
    before = state()

    if method == "get":
        response = client.get(url, query)
    else:
        response = client.post(
            url + "?" + "&".join(f"{quote(k)}={quote(v)}" for k, v in query.items()), query
        )

    assert response.status_code < 500, (url, query)
    assert state() == before


@pytest.mark.parametrize("name", ["workerId", "assignmentId", "hitId"])
@pytest.mark.parametrize("bad", ["AW1\n", "AW1\x00"], ids=["trailing newline", "NUL"])
def test_a_trailing_newline_or_a_nul_in_an_id_is_a_400(client, study, name, bad):
    good = {
        "assignmentId": "3A2",
        "hitId": "3HIT",
        "workerId": "AW2",
        "turkSubmitTo": "https://www.mturk.com",
    }
    before = state()

    response = client.get(f"/study/{study.pk}/", {**good, name: bad})

    assert response.status_code == 400 and state() == before


def test_the_encoded_newline_is_not_a_second_worker(client, study):
    before = state()

    response = client.get(
        f"/study/{study.pk}/?assignmentId=3A2&hitId=3HIT&workerId=AW1%0A&turkSubmitTo=https://www.mturk.com"
    )

    assert response.status_code == 400 and state() == before


# --- the local platforms' APIs ------------------------------------------------------------------------
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | hostile_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(hostile_text, inner, max_size=4),
    max_leaves=12,
)
MTURK_OPERATIONS = [
    "CreateHIT",
    "GetHIT",
    "ListHITs",
    "GetAccountBalance",
    "SendBonus",
    "ApproveAssignment",
    "Nope",
]


@MANY
@given(
    operation=st.one_of(st.sampled_from(MTURK_OPERATIONS), hostile_text),
    body=st.one_of(json_values.map(json.dumps), hostile_text),
    authorization=hostile_text,
)
def test_the_local_mturk_answers_hostile_requests_without_a_500_or_a_change(
    client, operation, body, authorization
):
    before = state()
    headers = {
        "HTTP_X_AMZ_TARGET": f"MTurkRequesterServiceV20170117.{operation}".replace("\n", " ").replace(
            "\r", " "
        ),
        "HTTP_AUTHORIZATION": authorization.replace("\n", " ").replace("\r", " "),
    }

    response = client.post("/emulator/mturk/", body, content_type="application/x-amz-json-1.1", **headers)

    assert response.status_code < 500
    assert state() == before


PROLIFIC_PATHS = [
    "users/me/",
    "studies/",
    "studies/{x}/",
    "studies/{x}/transition/",
    "studies/{x}/submissions/",
    "submissions/",
    "submissions/bulk-approve/",
    "submissions/bonus-payments/",
    "submissions/{x}/",
    "submissions/{x}/transition/",
    "workspaces/",
    "workspaces/{x}/balance/",
]


@MANY
@given(
    path=st.sampled_from(PROLIFIC_PATHS),
    segment=hostile_text,
    method=st.sampled_from(["get", "post", "patch", "delete"]),
    body=st.one_of(json_values.map(json.dumps), hostile_text),
    token=hostile_text,
)
def test_the_local_prolific_answers_hostile_requests_without_a_500_or_a_change(
    client, path, segment, method, body, token
):
    before = state()
    url = "/emulator/prolific/api/v1/" + path.format(x=quote(segment, safe="") or "x")
    auth = f"Token {token}".replace("\n", " ").replace("\r", " ")

    if method in ("post", "patch"):
        response = getattr(client, method)(
            url, body, content_type="application/json", HTTP_AUTHORIZATION=auth
        )
    else:
        response = getattr(client, method)(url, HTTP_AUTHORIZATION=auth)

    assert response.status_code < 500
    assert state() == before
