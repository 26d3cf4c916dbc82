"""Test helpers for anything that needs a real oTree server: a pytest fixture and a worker's walk.

`otree_server_fixture` backs the session-scoped `otree_server` fixture in the root conftest.py,
so tests anywhere (app folders or a top-level tests/) can use it. `walk_participant` plays one
worker through an oTree session over plain HTTP, as a browser without JavaScript would.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlencode, urljoin, urlsplit

import pytest
import requests

from experiments.otree_env import OtreeEnvError, ensure_otree_env
from experiments.otree_server import OtreeServer, OtreeServerError, start_otree_server

SKIP_VARIABLE = "CROWDHR_SKIP_OTREE"
TEST_REST_KEY = "crowdhr-test-otree-rest-key"
MAX_PAGES = 50


def otree_server_fixture() -> Iterator[OtreeServer]:
    """Start the shipped oTree project once for the test session; stop it afterwards.

    Fails the tests that use it when oTree cannot be installed or started, unless
    CROWDHR_SKIP_OTREE=1, which skips them instead.
    """
    skip_wanted = os.environ.get(SKIP_VARIABLE) == "1"
    if skip_wanted:
        pytest.skip(f"{SKIP_VARIABLE}=1: tests that need a real oTree server are skipped")
    try:
        ensure_otree_env(say=lambda _message: None)
    except OtreeEnvError as error:
        pytest.fail(f"oTree could not be installed (set {SKIP_VARIABLE}=1 to skip): {error}", pytrace=False)
    with tempfile.TemporaryDirectory(prefix="crowdhr-otree-") as work_dir:
        path = Path(work_dir)
        try:
            server = start_otree_server(path / "project", rest_key=TEST_REST_KEY, log_path=path / "otree.log")
        except OtreeServerError as error:
            pytest.fail(f"oTree did not start (set {SKIP_VARIABLE}=1 to skip): {error}", pytrace=False)
        try:
            yield server
        finally:
            server.stop()


@dataclass
class Walk:
    """Where a worker's walk through oTree ended and what it saw on the way."""

    pages: list[str] = field(default_factory=list)  # URL of every page shown, in order
    last_html: str = ""
    done_link: str | None = None  # the link back to crowdhr on the last page, if any
    rejected: bool = False  # the last page refused the answers and is shown again


def walk_participant(
    session_wide_url: str,
    participant_label: str,
    answers: dict[str, str] | None = None,
    *,
    done_link_prefix: str | None = None,
    http: requests.Session | None = None,
) -> Walk:
    """Play a worker through the session: join with the label, submit each page, stop at the end.

    `answers` fills form fields by name on whichever page asks for them. The walk stops on the
    first page that links back to crowdhr (a link carrying this worker's `participant_label`, and
    starting with `done_link_prefix` when given), that has no next button, or that refuses the
    answers (`Walk.rejected`). A new `http` session is a new browser; pass one to keep cookies.
    """
    http = http or requests.Session()
    answers = answers or {}
    walk = Walk()
    join_url = f"{session_wide_url}?{urlencode({'participant_label': participant_label})}"
    response = _checked(http.get(join_url, timeout=10))
    for _ in range(MAX_PAGES):
        walk.pages.append(response.url)
        walk.last_html = response.text
        page = _PageParser.parse(response.text)
        walk.done_link = _done_link(page, response.url, participant_label, done_link_prefix)
        if walk.done_link or not page.has_next_button:
            return walk
        form = {**page.form_fields, **{name: answers[name] for name in page.form_fields if name in answers}}
        response = _checked(http.post(response.url, data=form, timeout=10))
        if response.url == walk.pages[-1]:
            walk.rejected = True
            walk.last_html = response.text
            return walk
    raise AssertionError(f"oTree showed more than {MAX_PAGES} pages; the walk is stuck at {response.url}")


def _done_link(page: _PageParser, page_url: str, label: str, prefix: str | None) -> str | None:
    """The link back to crowdhr: it carries the worker's label (the convention in otree_project/README.md)."""
    for link in (urljoin(page_url, href) for href in page.links):
        if prefix and not link.startswith(prefix):
            continue
        if parse_qs(urlsplit(link).query).get("participant_label") == [label]:
            return link
    return None


def _checked(response: requests.Response) -> requests.Response:
    if response.status_code != 200:
        raise AssertionError(
            f"oTree answered {response.status_code} at {response.url}:\n{response.text[:2000]}"
        )
    return response


class _PageParser(HTMLParser):
    """The parts of an oTree page a worker acts on: the form's fields, its next button, the links."""

    def __init__(self) -> None:
        super().__init__()
        self.form_fields: dict[str, str] = {}
        self.links: list[str] = []
        self.has_next_button = False
        self._in_form = False

    @classmethod
    def parse(cls, html: str) -> _PageParser:
        parser = cls()
        parser.feed(html)
        return parser

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {name: value or "" for name, value in attrs}
        if tag == "form" and attributes.get("id") == "form":
            self._in_form = True
        elif tag == "a" and attributes.get("href"):
            self.links.append(attributes["href"])
        elif self._in_form and tag == "button" and "otree-btn-next" in attributes.get("class", ""):
            self.has_next_button = True
        elif self._in_form and tag in ("input", "select", "textarea") and attributes.get("name"):
            self._add_field(attributes)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._in_form = False

    def _add_field(self, attributes: dict[str, str]) -> None:
        if attributes.get("type") in ("radio", "checkbox") and "checked" not in attributes:
            self.form_fields.setdefault(attributes["name"], "")
            return
        self.form_fields[attributes["name"]] = attributes.get("value", "")
