"""Fixtures for the local Prolific's tests: a researcher's HTTP client over the live server,
study builders, scripted participants, and a hook receiver listening on 127.0.0.1."""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import requests

from prolific_emulator import accounts, participants

TOKEN = "researcher-one-token"
LONG_REASON = (
    "The answers do not follow the instructions of the study, and the attention check was failed twice. " * 2
)


class Researcher:
    """A researcher's API client: `Authorization: Token <token>`, JSON in and out."""

    def __init__(self, base: str, token: str) -> None:
        self.base = base
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Token {token}"

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", 10)
        return self.session.request(method, self.base + path, **kwargs)

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.call("GET", path, **kwargs)

    def post(self, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        return self.call("POST", path, json=body, **kwargs)

    def patch(self, path: str, body: Any, **kwargs: Any) -> requests.Response:
        return self.call("PATCH", path, json=body, **kwargs)

    def delete(self, path: str, body: Any = None, **kwargs: Any) -> requests.Response:
        return self.call("DELETE", path, json=body, **kwargs)

    def ok(self, method: str, path: str, body: Any = None, status: int = 200) -> Any:
        answer = self.call(method, path, json=body) if body is not None else self.call(method, path)
        assert answer.status_code == status, answer.text
        return answer.json() if answer.content else None

    def create_study(self, **overrides: Any) -> dict[str, Any]:
        return self.ok("POST", "studies/", study_body(**overrides), 201)

    def published_study(self, **overrides: Any) -> dict[str, Any]:
        study = self.create_study(**overrides)
        return self.ok("POST", f"studies/{study['id']}/transition/", {"action": "PUBLISH"})

    def workspace_id(self) -> str:
        return self.ok("GET", "workspaces/")["results"][0]["id"]

    def balance(self) -> int:
        return self.ok("GET", f"workspaces/{self.workspace_id()}/balance/")["total_balance"]


def study_body(**overrides: Any) -> dict[str, Any]:
    """A valid draft: $1.00 for 5 minutes, 3 places, one manually reviewed code."""
    return {
        "name": "Label pictures",
        "internal_name": "pictures-1",
        "description": "Say what each picture shows.",
        "external_study_url": (
            "https://study.example.org/start?PROLIFIC_PID={{%PROLIFIC_PID%}}"
            "&STUDY_ID={{%STUDY_ID%}}&SESSION_ID={{%SESSION_ID%}}"
        ),
        "prolific_id_option": "url_parameters",
        "completion_codes": [
            {"code": "DONE1", "code_type": "COMPLETED", "actions": [{"action": "MANUALLY_REVIEW"}]},
            {"code": "AUTO1", "code_type": "OTHER", "actions": [{"action": "AUTOMATICALLY_APPROVE"}]},
        ],
        "total_available_places": 3,
        "estimated_completion_time": 5,
        "reward": 100,
        "device_compatibility": ["desktop"],
    } | overrides


def new_pid() -> str:
    return secrets.token_hex(12)


@pytest.fixture
def base_url(live_server) -> str:
    return f"{live_server.url}/emulator/prolific/api/v1/"


@pytest.fixture
def workspace(transactional_db):
    return accounts.ensure_workspace(TOKEN)


@pytest.fixture
def researcher(base_url, workspace) -> Researcher:
    return Researcher(base_url, TOKEN)


@pytest.fixture
def other_researcher(base_url, transactional_db) -> Researcher:
    accounts.ensure_workspace("researcher-two-token")
    return Researcher(base_url, "researcher-two-token")


@pytest.fixture
def done(researcher):
    """A published study and one submission AWAITING REVIEW: (study, submission)."""
    study = researcher.published_study()
    submission = participants.take_part(study["id"], new_pid())
    return study, participants.complete(submission, "DONE1")


class Receiver:
    """An HTTP server on 127.0.0.1 that records every POST (headers and raw body)."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.status = 200
        receiver = self

        class Handle(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                receiver.received.append({"headers": dict(self.headers), "body": body.decode()})
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handle)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def payloads(self) -> list[dict[str, Any]]:
        return [json.loads(item["body"]) for item in self.received]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.server.shutdown()
