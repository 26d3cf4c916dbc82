"""Admin logins are throttled (django-axes) and every page carries a Content-Security-Policy."""

from __future__ import annotations

import re

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"


def test_sixty_wrong_passwords_lock_the_login_and_the_sixty_first_right_one_is_refused(researcher):
    browser = Client()
    answers = [
        browser.post(LOGIN, {"username": "ada", "password": f"guess-{n}"}).status_code for n in range(60)
    ]

    right = browser.post(LOGIN, {"username": "ada", "password": "ada-password-1"})

    assert answers[:4] == [200] * 4  # the login form again, with its error
    assert set(answers[4:]) == {429}  # the fifth failure locks the login for AXES_COOLOFF_TIME
    assert right.status_code == 429
    assert "_auth_user_id" not in browser.session


def test_a_researcher_who_mistypes_a_few_times_still_logs_in(researcher):
    browser = Client()
    for n in range(3):
        browser.post(LOGIN, {"username": "ada", "password": f"typo-{n}"})

    response = browser.post(LOGIN, {"username": "ada", "password": "ada-password-1"})

    assert response.status_code == 302 and browser.session["_auth_user_id"] == str(researcher.pk)


def policy(response) -> dict[str, str]:
    header = response.headers["Content-Security-Policy"]
    return {part.split()[0]: part.strip() for part in header.split(";") if part.strip()}


@pytest.mark.parametrize("url", ["/", "/admin/login/", "/healthz", "/study/1/", "/study/1/done/"])
def test_every_page_has_a_content_security_policy(client, url):
    directives = policy(client.get(url))

    assert directives["default-src"] == "default-src 'self'"
    # a page with inline scripts adds its nonce; none ever runs inline code without it
    assert re.fullmatch(r"script-src 'self'( 'nonce-[^']+')?", directives["script-src"])
    assert "object-src 'none'" in directives.values()


def test_only_worker_pages_may_be_framed_and_only_by_mturk(client):
    worker = policy(client.get("/study/1/?assignmentId=ASSIGNMENT_ID_NOT_AVAILABLE&hitId=3H"))[
        "frame-ancestors"
    ]
    admin = policy(client.get("/admin/login/"))["frame-ancestors"]

    assert "https://www.mturk.com" in worker and "https://workersandbox.mturk.com" in worker
    assert admin == "frame-ancestors 'self'"
