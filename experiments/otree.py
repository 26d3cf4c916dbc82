"""The oTree REST client: the only code in crowdhr that speaks to an oTree server.

oTree answers its REST API only with the `otree-rest-key` header equal to the server's
OTREE_REST_KEY (when OTREE_AUTH_LEVEL is STUDY or DEMO, as it should be on any real server).

What oTree reports for each participant (verified against oTree 6.0's `otree/views/rest.py`):
`id_in_session`, `code`, `label`, `status`, `payoff_in_real_world_currency` (the sum of the
player payoffs converted with the session's `real_world_currency_per_point`; the participation
fee is NOT included), and `finished` only when the project lists 'finished' in
PARTICIPANT_FIELDS. Money comes back as `Decimal`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote

import requests

REST_KEY_HEADER = "otree-rest-key"
DEFAULT_TIMEOUT = 10.0


class OtreeError(Exception):
    """An oTree call failed; `permanent` says that retrying the same call cannot help."""

    def __init__(self, message: str, permanent: bool) -> None:
        super().__init__(message)
        self.message = message
        self.permanent = permanent


@dataclass(frozen=True)
class OtreeSession:
    """A session just created on oTree, with the links a worker and a researcher follow."""

    code: str
    session_wide_url: str
    admin_url: str
    room_url: str | None = None


@dataclass(frozen=True)
class OtreeParticipant:
    """One participant of an oTree session as the REST API reports it."""

    code: str
    label: str | None
    id_in_session: int
    finished: bool
    payoff: Decimal  # in the real-world currency, participation fee not included
    status: str = ""

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> OtreeParticipant:
        return cls(
            code=data["code"],
            label=data.get("label"),
            id_in_session=data["id_in_session"],
            finished=bool(data.get("finished", False)),
            payoff=Decimal(str(data.get("payoff_in_real_world_currency") or 0)),
            status=data.get("status") or "",
        )


class OtreeClient:
    """One oTree server, reached at `url` with its REST key."""

    def __init__(self, url: str, rest_key: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.http = requests.Session()
        self.http.headers[REST_KEY_HEADER] = rest_key

    def version(self) -> str:
        """The oTree version the server runs, e.g. '6.0.15'."""
        return self._call("GET", "/api/otree_version")["version"]

    def session_configs(self) -> list[dict[str, Any]]:
        """The session configs in the project's settings (name, display_name, app_sequence...)."""
        return self._call("GET", "/api/session_configs")

    def create_session(
        self,
        config_name: str,
        num_participants: int,
        modified_session_config_fields: dict[str, Any] | None = None,
        room_name: str | None = None,
    ) -> OtreeSession:
        """Create a session of `config_name` for `num_participants` workers."""
        payload: dict[str, Any] = {"session_config_name": config_name, "num_participants": num_participants}
        if modified_session_config_fields:
            payload["modified_session_config_fields"] = modified_session_config_fields
        if room_name:
            payload["room_name"] = room_name
        data = self._call("POST", "/api/sessions", payload)
        return OtreeSession(
            code=data["code"],
            session_wide_url=data["session_wide_url"],
            admin_url=data["admin_url"],
            room_url=data.get("room_url"),
        )

    def get_session(self, code: str, participant_labels: list[str] | None = None) -> dict[str, Any]:
        """Everything oTree says about a session, its `participants` limited to the given labels.

        Keys include `code`, `config_name`, `num_participants`, `config`, `REAL_WORLD_CURRENCY_CODE`,
        `session_wide_url`, `admin_url` and `participants` (see the module docstring).
        """
        payload = {} if participant_labels is None else {"participant_labels": participant_labels}
        # POST because oTree reads the filter from the body (GET /api/sessions/<code> is its legacy alias).
        return self._call("POST", f"/api/get_session/{quote(code, safe='')}", payload)

    def participants(self, code: str, labels: list[str] | None = None) -> list[OtreeParticipant]:
        """The participants of a session, all of them or those with the given labels."""
        session = self.get_session(code, participant_labels=labels)
        return [OtreeParticipant.from_api(item) for item in session["participants"]]

    def participant(self, code: str, label: str) -> OtreeParticipant | None:
        """The participant labelled `label` (a worker id) in the session, or None if none has it yet."""
        found = self.participants(code, labels=[label])
        return found[0] if found else None

    def _call(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        where = f"oTree {method} {self.url}{path}"
        try:
            response = self.http.request(
                method,
                self.url + path,
                data=json.dumps(payload, default=_money_as_number) if payload else None,
                headers={"Content-Type": "application/json"} if payload else None,
                timeout=self.timeout,
            )
        except requests.RequestException as error:
            raise OtreeError(f"{where}: cannot reach the server ({error})", permanent=False) from error
        if response.status_code >= 400:
            detail = response.text.strip()[:300] or response.reason
            raise OtreeError(
                f"{where}: HTTP {response.status_code}: {detail}", permanent=_is_permanent(response)
            )
        try:
            return response.json(parse_float=Decimal)
        except ValueError as error:
            raise OtreeError(f"{where}: the answer is not JSON; is this an oTree server?", True) from error


def _money_as_number(value: Any) -> float:
    """Session config fields such as `participation_fee` may be Decimals; oTree takes JSON numbers."""
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"{type(value).__name__} cannot be sent to oTree")


def _is_permanent(response: requests.Response) -> bool:
    """A client error will not go away by itself; a server error, a timeout or throttling may."""
    return 400 <= response.status_code < 500 and response.status_code not in (408, 429)
