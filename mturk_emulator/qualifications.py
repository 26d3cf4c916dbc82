"""Qualification requirements: which workers may discover, preview or accept a HIT.

Besides the requester's own qualification types, MTurk offers system types (locale, approval
rate, number of approved HITs, adult, Masters) whose scores it computes from the worker; the
emulator computes them from its own tables.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q
from django.utils import timezone

from mturk_emulator.models import Assignment, Qualification, QualificationType, SimulatedWorker
from mturk_emulator.protocol import RequestError

LOCALE = "00000000000000000071"
NUMBER_HITS_APPROVED = "00000000000000000040"
PERCENT_ASSIGNMENTS_APPROVED = "000000000000000000L0"
ADULT = "00000000000000000060"
MASTERS = {"2F1QJWKUDD8XADTFD2Q0G6UTO95ALH", "2ARFPLSP75KLA8M8DH1HTEQVJT3SY6"}
SYSTEM_TYPES = {LOCALE, NUMBER_HITS_APPROVED, PERCENT_ASSIGNMENTS_APPROVED, ADULT, *MASTERS}

MAX_REQUIREMENTS = 10
NO_VALUE_COMPARATORS = {"Exists", "DoesNotExist"}
LIST_COMPARATORS = {"In", "NotIn"}
_GUARDED = {
    "Discover": {"DiscoverPreviewAndAccept"},
    "Preview": {"PreviewAndAccept", "DiscoverPreviewAndAccept"},
    "Accept": {"Accept", "PreviewAndAccept", "DiscoverPreviewAndAccept"},
}


def grant(qtype: QualificationType, worker_id: str, value: int) -> Qualification:
    """Give the worker a score of the qualification type (replacing a revoked or older one)."""
    score, _ = Qualification.objects.update_or_create(
        qualification_type=qtype,
        worker_id=worker_id,
        defaults={
            "integer_value": value,
            "status": Qualification.GRANTED,
            "grant_time": timezone.now(),
            "revoked_time": None,
        },
    )
    return score


def check_requirements(requirements: list[dict[str, Any]]) -> None:
    """Refuse requirements MTurk would refuse: too many, unknown types, values not fitting the comparator."""
    if len(requirements) > MAX_REQUIREMENTS:
        raise RequestError(
            f"A HIT can have at most {MAX_REQUIREMENTS} QualificationRequirements.",
            "AWS.MechanicalTurk.InvalidParameterValue",
        )
    for requirement in requirements:
        _check_requirement(requirement)


def _check_requirement(requirement: dict[str, Any]) -> None:
    type_id = requirement["QualificationTypeId"]
    comparator = requirement["Comparator"]
    if type_id not in SYSTEM_TYPES and not QualificationType.objects.filter(
        qualification_type_id=type_id, deleted=False
    ):
        raise RequestError(
            f"Qualification type {type_id} does not exist.",
            "AWS.MechanicalTurk.QualificationTypeDoesNotExist",
        )
    values = requirement.get("LocaleValues") if type_id == LOCALE else requirement.get("IntegerValues")
    values = values or []
    if comparator in NO_VALUE_COMPARATORS and values:
        raise _bad_values(comparator, "takes no values")
    if comparator in LIST_COMPARATORS and not values:
        raise _bad_values(comparator, "needs at least one value")
    if comparator not in NO_VALUE_COMPARATORS | LIST_COMPARATORS and len(values) != 1:
        raise _bad_values(comparator, "needs exactly one value")


def _bad_values(comparator: str, problem: str) -> RequestError:
    return RequestError(
        f"The comparator {comparator} {problem} (IntegerValues, or LocaleValues for the locale).",
        "AWS.MechanicalTurk.InvalidParameterValue",
    )


def guarded_actions(requirement: dict[str, Any]) -> str:
    """What the requirement guards; MTurk's default is Accept (PreviewAndAccept if RequiredToPreview)."""
    if requirement.get("ActionsGuarded"):
        return requirement["ActionsGuarded"]
    return "PreviewAndAccept" if requirement.get("RequiredToPreview") else "Accept"


def unmet_requirement(requirements: list[dict[str, Any]], worker_id: str, action: str) -> dict | None:
    """The first requirement guarding `action` (Discover, Preview, Accept) that the worker fails."""
    for requirement in requirements:
        if guarded_actions(requirement) in _GUARDED[action] and not meets(worker_id, requirement):
            return requirement
    return None


def meets(worker_id: str, requirement: dict[str, Any]) -> bool:
    """Does the worker satisfy one QualificationRequirement?"""
    type_id = requirement["QualificationTypeId"]
    comparator = requirement["Comparator"]
    if type_id == LOCALE:
        return _locale_meets(worker_id, comparator, requirement.get("LocaleValues") or [])
    score = worker_score(worker_id, type_id)
    if comparator == "Exists":
        return score is not None
    if comparator == "DoesNotExist":
        return score is None
    if score is None:
        return False
    values = requirement.get("IntegerValues") or []
    return _compare(score, comparator, values)


def _compare(score: int, comparator: str, values: list[int]) -> bool:
    if comparator == "In":
        return score in values
    if comparator == "NotIn":
        return score not in values
    target = values[0]
    return {
        "LessThan": score < target,
        "LessThanOrEqualTo": score <= target,
        "GreaterThan": score > target,
        "GreaterThanOrEqualTo": score >= target,
        "EqualTo": score == target,
        "NotEqualTo": score != target,
    }[comparator]


def _locale_meets(worker_id: str, comparator: str, locales: list[dict[str, str]]) -> bool:
    worker = SimulatedWorker.objects.filter(worker_id=worker_id).first()
    if comparator == "Exists":
        return worker is not None
    if comparator == "DoesNotExist":
        return worker is None
    if worker is None:
        return False
    matches = any(_locale_matches(worker, locale) for locale in locales)
    return matches if comparator in {"EqualTo", "In"} else not matches


def _locale_matches(worker: SimulatedWorker, locale: dict[str, str]) -> bool:
    if locale.get("Country", "").upper() != worker.country.upper():
        return False
    wanted = locale.get("Subdivision")
    return not wanted or wanted.upper() == worker.subdivision.upper()


def worker_score(worker_id: str, type_id: str) -> int | None:
    """The worker's integer score of a qualification type, or None if they do not hold it."""
    if type_id in SYSTEM_TYPES:
        return _system_score(worker_id, type_id)
    held = Qualification.objects.filter(
        qualification_type__qualification_type_id=type_id, worker_id=worker_id, status=Qualification.GRANTED
    ).first()
    return held.integer_value if held else None


def _system_score(worker_id: str, type_id: str) -> int | None:
    if type_id in MASTERS:
        return None
    if type_id == ADULT:
        worker = SimulatedWorker.objects.filter(worker_id=worker_id).first()
        return 1 if worker is None or worker.is_adult else 0
    decided = Assignment.objects.filter(worker_id=worker_id).filter(
        Q(status=Assignment.APPROVED) | Q(status=Assignment.REJECTED)
    )
    approved = decided.filter(status=Assignment.APPROVED).count()
    if type_id == NUMBER_HITS_APPROVED:
        return approved
    total = decided.count()
    # MTurk reports 100% for workers without any decided work yet.
    return 100 if total == 0 else round(100 * approved / total)


def describe(requirement: dict[str, Any]) -> str:
    """A worker-facing sentence for a requirement, e.g. "Quality score GreaterThanOrEqualTo 80"."""
    type_id = requirement["QualificationTypeId"]
    names = {
        LOCALE: "Location",
        NUMBER_HITS_APPROVED: "Number of HITs approved",
        PERCENT_ASSIGNMENTS_APPROVED: "HIT approval rate (%)",
        ADULT: "Adult content qualification",
    }
    name = names.get(type_id) or ("Masters" if type_id in MASTERS else None)
    if name is None:
        qtype = QualificationType.objects.filter(qualification_type_id=type_id).first()
        name = qtype.name if qtype else type_id
    values = requirement.get("IntegerValues") or [
        "-".join(filter(None, [loc.get("Country"), loc.get("Subdivision")]))
        for loc in requirement.get("LocaleValues") or []
    ]
    return " ".join([name, requirement["Comparator"], ", ".join(str(v) for v in values)]).strip()
