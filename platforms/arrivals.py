"""Who arrives at a worker-facing page: the platform's identity, read from the link it opened.

Each platform sends workers to crowdhr's pages with its own query parameters (MTurk:
`workerId`, `assignmentId`, `hitId`, `turkSubmitTo`; Prolific: `PROLIFIC_PID`, `STUDY_ID`,
`SESSION_ID`). They are unauthenticated: anyone can type them. This module only reads and
validates them completely (full match, length, character set) and says which platform sent
them; what a page may do for such an identity is decided by the caller.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

#: MTurk's ids: upper-case letters and digits (Amazon's are 12-64 characters)
MTURK_ID = re.compile(r"[A-Z0-9]{1,64}")
#: Prolific's ids are 24 lower-case hexadecimal digits (MongoDB object ids)
PROLIFIC_ID = re.compile(r"[0-9a-f]{24}")
#: Prolific's session ids are opaque; letters, digits, '-' and '_' only
PROLIFIC_SESSION = re.compile(r"[0-9A-Za-z_-]{1,64}")
MTURK_PREVIEW = "ASSIGNMENT_ID_NOT_AVAILABLE"
MAX_PARAMETER = 2048


class BadArrival(ValueError):
    """The link's parameters are missing or not what the platform sends; the message says which."""


@dataclass(frozen=True)
class Arrival:
    """A worker's identity as the platform's link states it (not yet verified by anyone).

    `work_id` is the posted work (MTurk HIT, Prolific study), `assignment_id` this worker's
    attempt at it (MTurk assignment, Prolific session), `submit_to` where the platform wants the
    work handed back (MTurk's `turkSubmitTo`; empty for Prolific, whose completion URL is fixed).
    """

    platform: str
    worker_id: str
    assignment_id: str
    work_id: str
    submit_to: str = ""
    preview: bool = False


def _text(params: Mapping[str, str], name: str, pattern: re.Pattern[str]) -> str:
    value = params.get(name, "")
    if not value:
        raise BadArrival(f"The link has no {name}. Please open this study from the platform.")
    if len(value) > MAX_PARAMETER or not pattern.fullmatch(value):
        raise BadArrival(f"The {name} in the link is not valid.")
    return value


def _mturk(params: Mapping[str, str]) -> Arrival:
    if params.get("assignmentId") == MTURK_PREVIEW:
        hit_id = params.get("hitId", "")
        return Arrival("mturk", "", "", hit_id if MTURK_ID.fullmatch(hit_id or "-") else "", preview=True)
    submit_to = params.get("turkSubmitTo", "")
    if not submit_to:
        raise BadArrival("The link has no turkSubmitTo. Please open this study from its HIT.")
    if len(submit_to) > MAX_PARAMETER or not submit_to.isprintable():
        raise BadArrival("The link's turkSubmitTo is not valid.")
    return Arrival(
        "mturk",
        worker_id=_text(params, "workerId", MTURK_ID),
        assignment_id=_text(params, "assignmentId", MTURK_ID),
        work_id=_text(params, "hitId", MTURK_ID),
        submit_to=submit_to.rstrip("/"),
    )


def _prolific(params: Mapping[str, str]) -> Arrival:
    return Arrival(
        "prolific",
        worker_id=_text(params, "PROLIFIC_PID", PROLIFIC_ID),
        assignment_id=_text(params, "SESSION_ID", PROLIFIC_SESSION),
        work_id=_text(params, "STUDY_ID", PROLIFIC_ID),
    )


#: which parameter names tell which platform sent the worker, checked in order
_READERS: tuple[tuple[str, Callable[[Mapping[str, str]], Arrival]], ...] = (
    ("PROLIFIC_PID", _prolific),
    ("assignmentId", _mturk),
)


def arrival_from(params: Mapping[str, str]) -> Arrival:
    """The identity in a worker-facing link, validated; `BadArrival` when it is not one."""
    for marker, read in _READERS:
        if marker in params:
            return read(params)
    raise BadArrival("The link does not say who you are. Please open this study from the platform.")


def is_worker_id(value: str) -> bool:
    """Whether `value` has the shape of a worker id on some platform crowdhr speaks to."""
    return bool(MTURK_ID.fullmatch(value) or PROLIFIC_ID.fullmatch(value))
