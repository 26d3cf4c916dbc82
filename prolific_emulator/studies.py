"""Studies: creating drafts, the fields that may change, transitions, and place accounting.

Rules from Prolific's reference and help pages (PROLIFIC.md):
- `POST /studies/` makes an UNPUBLISHED draft; `POST /studies/{id}/transition/` with PUBLISH,
  START, PAUSE or STOP changes its status. Stopping, or running out of places, lands in
  AWAITING REVIEW; there is no stopped status. When every submission is decided, COMPLETED.
- After publishing only `internal_name` and `total_available_places` may change; places only go
  up, and raising them reopens an AWAITING REVIEW or COMPLETED study.
- Only drafts can be deleted.
- Publishing checks the balance covers every place (reward plus fee) and that the reward meets
  Prolific's minimum hourly pay.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from django.db.models import Count
from django.utils import timezone

from prolific_emulator import accounts, hooks, money
from prolific_emulator.errors import InvalidTransition, NotFound, ValidationFailed, field_error
from prolific_emulator.models import ParticipantGroup, Project, Study, Submission, Workspace

PROLIFIC_ID_OPTIONS = ["url_parameters", "question", "not_required"]
DEVICES = ["desktop", "tablet", "mobile"]
CODE_TYPES = [
    "COMPLETED",
    "FAILED_ATTENTION_CHECK",
    "FOLLOW_UP_STUDY",
    "GIVE_BONUS",
    "INCOMPATIBLE_DEVICE",
    "NO_CONSENT",
    "OTHER",
]
CODE_ACTIONS = [
    "AUTOMATICALLY_APPROVE",
    "MANUALLY_REVIEW",
    "ADD_TO_PARTICIPANT_GROUP",
    "REMOVE_FROM_PARTICIPANT_GROUP",
    "REQUEST_RETURN",
]
GROUP_FILTERS = ["participant_group_allowlist", "participant_group_blocklist"]
ID_FILTERS = ["custom_allowlist", "custom_blocklist"]
FILTER_ID = re.compile(r"^[a-z0-9_-]{1,64}$")
PID_PLACEHOLDER = "{{%PROLIFIC_PID%}}"
MAX_MINUTES = 24 * 60 - 1  # "the max time allowed ... is always less than 24 hours"

REQUIRED = [
    "name",
    "description",
    "external_study_url",
    "prolific_id_option",
    "total_available_places",
    "estimated_completion_time",
    "reward",
]
EDITABLE = [
    *REQUIRED,
    "internal_name",
    "completion_codes",
    "maximum_allowed_time",
    "device_compatibility",
    "filters",
    "project",
]
# Documented study fields the twin keeps and shows back but does not act on.
STORED_AS_GIVEN = [
    "peripheral_requirements",
    "study_labels",
    "content_warnings",
    "content_warning_details",
    "naivety_distribution_rate",
    "submissions_config",
    "is_custom_screening",
    "privacy_notice",
    "metadata",
]
EDITABLE_WHEN_PUBLISHED = ["internal_name", "total_available_places"]
TRANSITIONS = {
    "PUBLISH": {Study.UNPUBLISHED: Study.ACTIVE},
    "PAUSE": {Study.ACTIVE: Study.PAUSED},
    "START": {Study.PAUSED: Study.ACTIVE},
    "STOP": {Study.ACTIVE: Study.AWAITING_REVIEW, Study.PAUSED: Study.AWAITING_REVIEW},
}
OPEN_SUBMISSIONS = [Submission.RESERVED, Submission.ACTIVE, Submission.AWAITING_REVIEW]


# --- reading -------------------------------------------------------------------------------------
def get(workspace: Workspace, study_id: str) -> Study:
    """The workspace's study (404 for anyone else's, for deleted ones and for malformed ids)."""
    study = Study.objects.filter(pk=study_id, workspace=workspace, is_deleted=False).first()
    if study is None:
        raise NotFound("Study not found.")
    return study


def places_taken(study: Study) -> int:
    """Places held by a submission: reserved, active, awaiting review or approved."""
    return study.submissions.filter(status__in=Submission.HOLDS_PLACE).count()


def counts(study: Study) -> dict[str, int]:
    """Submissions per status (for the study representation)."""
    rows = study.submissions.values("status").annotate(n=Count("id"))
    return {row["status"]: row["n"] for row in rows}


# --- writing -------------------------------------------------------------------------------------
def create(workspace: Workspace, data: dict[str, Any]) -> Study:
    """A new draft from the body of POST /studies/."""
    missing = {name: ["This field is required."] for name in REQUIRED if data.get(name) in (None, "")}
    if missing:
        raise ValidationFailed(missing)
    values = _clean(workspace, data, EDITABLE)
    values.setdefault("project", accounts.default_project(workspace))
    values.setdefault("maximum_allowed_time", default_maximum_time(values["estimated_completion_time"]))
    values.setdefault("device_compatibility", list(DEVICES))
    study = Study(workspace=workspace, **values, extra=_extra(data, {}))
    _check_times(study)
    study.save()
    return study


def update(study: Study, data: dict[str, Any]) -> Study:
    """PATCH: any field of a draft; only internal_name and more places once published."""
    if study.status != Study.UNPUBLISHED:
        _check_published_update(study, data)
    values = _clean(study.workspace, data, EDITABLE)
    for name, value in values.items():
        setattr(study, name, value)
    study.extra = _extra(data, study.extra)
    _check_times(study)
    study.save()
    if "total_available_places" in values and study.status != Study.UNPUBLISHED:
        _reopen_if_places(study)
    return study


def delete(study: Study) -> None:
    if study.status != Study.UNPUBLISHED:
        raise InvalidTransition("Only unpublished studies can be deleted.")
    study.is_deleted = True
    study.save(update_fields=["is_deleted"])


def transition(study: Study, action: Any) -> Study:
    """PUBLISH / START / PAUSE / STOP, or a 400 naming what is wrong."""
    if action not in TRANSITIONS:
        raise field_error("action", f'"{action}" is not a valid choice: {", ".join(TRANSITIONS)}.')
    target = TRANSITIONS[action].get(study.status)
    if target is None:
        raise InvalidTransition(f"A study with status {study.status} cannot be transitioned with {action}.")
    if action == "PUBLISH":
        _check_publishable(study)
        study.published_at = timezone.now()
        study.save(update_fields=["published_at"])
    if action == "STOP":
        study.stopped_at = timezone.now()
        study.save(update_fields=["stopped_at"])
    set_status(study, target)
    settle(study)
    return study


def set_status(study: Study, status: str) -> None:
    """Save a new status and tell subscribers (`study.status.change`)."""
    if study.status == status:
        return
    study.status = status
    study.save(update_fields=["status"])
    hooks.emit(
        study.workspace,
        "study.status.change",
        {"resource_id": study.id, "event_type": "study.status.change", "metadata": {}, "status": status},
    )


def settle(study: Study) -> None:
    """Move the study on after its places or submissions changed.

    ACTIVE with every place held and nobody still working -> AWAITING REVIEW;
    AWAITING REVIEW (full, not stopped) with a place freed again -> ACTIVE;
    AWAITING REVIEW with every submission decided -> COMPLETED.
    """
    study.refresh_from_db(fields=["status", "total_available_places", "stopped_at"])
    full = places_taken(study) >= study.total_available_places
    working = study.submissions.filter(status__in=[Submission.RESERVED, Submission.ACTIVE]).exists()
    if study.status == Study.ACTIVE and full and not working:
        set_status(study, Study.AWAITING_REVIEW)
    elif study.status == Study.AWAITING_REVIEW and study.stopped_at is None and not full:
        set_status(study, Study.ACTIVE)
        return
    open_work = study.submissions.filter(status__in=OPEN_SUBMISSIONS).exists()
    if study.status == Study.AWAITING_REVIEW and study.submissions.exists() and not open_work:
        set_status(study, Study.COMPLETED)


def default_maximum_time(estimated: int) -> int:
    """Guessed: Prolific derives it from the estimate ("always less than 24 hours")."""
    return min(estimated * 3 + 2, MAX_MINUTES)


# --- validation ----------------------------------------------------------------------------------
def _check_published_update(study: Study, data: dict[str, Any]) -> None:
    frozen = sorted(name for name in data if name in EDITABLE + STORED_AS_GIVEN)
    frozen = [name for name in frozen if name not in EDITABLE_WHEN_PUBLISHED]
    if frozen:
        raise ValidationFailed(
            {name: ["This field cannot be changed once the study is published."] for name in frozen}
        )
    if "total_available_places" in data:
        places = _positive_int(data, "total_available_places")
        if places < study.total_available_places:
            raise field_error(
                "total_available_places", "The number of places of a published study can only be increased."
            )
        extra_cost = (places - study.total_available_places) * (study.reward + money.fee(study.reward))
        money.require_available(study.workspace, extra_cost, "add these places")


def _reopen_if_places(study: Study) -> None:
    closed = study.status in (Study.AWAITING_REVIEW, Study.COMPLETED)
    if closed and places_taken(study) < study.total_available_places:
        study.stopped_at = None
        study.save(update_fields=["stopped_at"])
        set_status(study, Study.ACTIVE)


def _check_publishable(study: Study) -> None:
    if not study.completion_codes:
        raise field_error("completion_codes", "A study needs at least one completion code to be published.")
    cost = study.total_available_places * (study.reward + money.fee(study.reward))
    money.require_available(study.workspace, cost, "publish this study")
    hourly = study.reward * 60 / study.estimated_completion_time
    minimum = money.MINIMUM_HOURLY_REWARD[study.workspace.currency_code]
    if hourly < minimum:
        raise field_error(
            "reward",
            f"The reward per hour ({hourly:.0f}) is below the minimum of {minimum} "
            f"{study.workspace.currency_code} minor units per hour.",
        )


def _check_times(study: Study) -> None:
    if study.maximum_allowed_time < study.estimated_completion_time:
        raise field_error("maximum_allowed_time", "Must be at least the estimated completion time.")


def _clean(workspace: Workspace, data: dict[str, Any], names: list[str]) -> dict[str, Any]:
    cleaners = {
        "name": lambda: _text(data, "name", 255),
        "internal_name": lambda: _text(data, "internal_name", 255, blank=True),
        "description": lambda: _text(data, "description", 10000),
        "external_study_url": lambda: _study_url(data),
        "prolific_id_option": lambda: _choice(data, "prolific_id_option", PROLIFIC_ID_OPTIONS),
        "total_available_places": lambda: _positive_int(data, "total_available_places"),
        "estimated_completion_time": lambda: _minutes(data, "estimated_completion_time"),
        "maximum_allowed_time": lambda: _minutes(data, "maximum_allowed_time"),
        "reward": lambda: _positive_int(data, "reward"),
        "completion_codes": lambda: _completion_codes(workspace, data.get("completion_codes")),
        "device_compatibility": lambda: _devices(data.get("device_compatibility")),
        "filters": lambda: _filters(workspace, data.get("filters")),
        "project": lambda: _project(workspace, data.get("project")),
    }
    values: dict[str, Any] = {}
    errors: dict[str, list[str]] = {}
    for name in names:
        if name in data:
            try:
                values[name] = cleaners[name]()
            except ValidationFailed as problem:
                errors.update(problem.detail)  # type: ignore[arg-type]
    if errors:
        raise ValidationFailed(errors)
    _check_pid_placeholder(values, data)
    return values


def _extra(data: dict[str, Any], current: dict[str, Any]) -> dict[str, Any]:
    return {**current, **{name: data[name] for name in STORED_AS_GIVEN if name in data}}


def _text(data: dict[str, Any], name: str, limit: int, blank: bool = False) -> str:
    value = data[name]
    if not isinstance(value, str) or (not blank and not value.strip()):
        raise field_error(
            name, "Not a valid string." if not isinstance(value, str) else "This field may not be blank."
        )
    if len(value) > limit:
        raise field_error(name, f"Ensure this field has no more than {limit} characters.")
    return value


def _positive_int(data: dict[str, Any], name: str) -> int:
    value = data[name]
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 10**9:
        raise field_error(name, "A valid positive integer is required.")
    return value


def _minutes(data: dict[str, Any], name: str) -> int:
    value = _positive_int(data, name)
    if value > MAX_MINUTES:
        raise field_error(name, f"Ensure this value is less than or equal to {MAX_MINUTES}.")
    return value


def _choice(data: dict[str, Any], name: str, choices: list[str]) -> str:
    if data[name] not in choices:
        raise field_error(name, f'"{data[name]}" is not a valid choice.')
    return data[name]


def _study_url(data: dict[str, Any]) -> str:
    url = _text(data, "external_study_url", 2000)
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise field_error("external_study_url", "Enter a valid URL.")
    return url


def _check_pid_placeholder(values: dict[str, Any], data: dict[str, Any]) -> None:
    url = values.get("external_study_url")
    option = values.get("prolific_id_option", data.get("prolific_id_option"))
    if url and option == "url_parameters" and PID_PLACEHOLDER not in url:
        raise field_error(
            "external_study_url", f"With url_parameters the URL must contain {PID_PLACEHOLDER}."
        )


def _completion_codes(workspace: Workspace, codes: Any) -> list[dict[str, Any]]:
    if not isinstance(codes, list) or len(codes) > 50:
        raise field_error("completion_codes", "Expected a list of completion codes.")
    cleaned = [_completion_code(workspace, code) for code in codes]
    if len({code["code"] for code in cleaned}) != len(cleaned):
        raise field_error("completion_codes", "Completion codes must be unique within a study.")
    return cleaned


def _completion_code(workspace: Workspace, code: Any) -> dict[str, Any]:
    if not isinstance(code, dict) or not isinstance(code.get("code"), str) or not code["code"].strip():
        raise field_error("completion_codes", 'Each completion code needs a "code" string.')
    if len(code["code"]) > 64:
        raise field_error("completion_codes", "A code has at most 64 characters.")
    if code.get("code_type") not in CODE_TYPES:
        raise field_error("completion_codes", f'"code_type" must be one of {", ".join(CODE_TYPES)}.')
    actions = code.get("actions", [])
    if not isinstance(actions, list):
        raise field_error("completion_codes", '"actions" must be a list.')
    return {
        "code": code["code"],
        "code_type": code["code_type"],
        "actor": code.get("actor", "participant"),
        "actions": [_code_action(workspace, action) for action in actions],
    }


def _code_action(workspace: Workspace, action: Any) -> dict[str, Any]:
    if not isinstance(action, dict) or action.get("action") not in CODE_ACTIONS:
        raise field_error(
            "completion_codes", f'Each action needs "action", one of {", ".join(CODE_ACTIONS)}.'
        )
    if action["action"] in ("ADD_TO_PARTICIPANT_GROUP", "REMOVE_FROM_PARTICIPANT_GROUP"):
        _group(workspace, action.get("participant_group"), "completion_codes")
    return dict(action)


def _devices(devices: Any) -> list[str]:
    if not isinstance(devices, list) or not devices or any(device not in DEVICES for device in devices):
        raise field_error("device_compatibility", f"Expected a non-empty list of {', '.join(DEVICES)}.")
    return list(dict.fromkeys(devices))


def _filters(workspace: Workspace, filters: Any) -> list[dict[str, Any]]:
    if not isinstance(filters, list) or len(filters) > 100:
        raise field_error("filters", "Expected a list of filters.")
    return [_filter(workspace, item) for item in filters]


def _filter(workspace: Workspace, item: Any) -> dict[str, Any]:
    if not isinstance(item, dict) or not isinstance(item.get("filter_id"), str):
        raise field_error("filters", 'Each filter needs a "filter_id".')
    if not FILTER_ID.match(item["filter_id"]):
        raise field_error("filters", f'"{item["filter_id"][:64]}" is not a valid filter id.')
    values = item.get("selected_values")
    listed = isinstance(values, list) and values and all(isinstance(v, str) for v in values)
    if item["filter_id"] in GROUP_FILTERS + ID_FILTERS and not listed:
        raise field_error("filters", f'{item["filter_id"]} needs "selected_values": a list of ids.')
    if item["filter_id"] in GROUP_FILTERS and isinstance(values, list):  # listed, as checked above
        for group_id in values:
            _group(workspace, group_id, "filters")
    return dict(item)


def _group(workspace: Workspace, group_id: Any, field: str) -> ParticipantGroup:
    group = ParticipantGroup.objects.filter(pk=str(group_id), workspace=workspace, is_deleted=False).first()
    if group is None:
        raise field_error(field, f'Participant group "{str(group_id)[:40]}" does not exist.')
    return group


def _project(workspace: Workspace, project_id: Any) -> Project:
    project = Project.objects.filter(pk=str(project_id), workspace=workspace).first()
    if project is None:
        raise field_error("project", f'Project "{str(project_id)[:40]}" does not exist.')
    return project
