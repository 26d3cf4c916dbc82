"""How the API shows its objects (field names as in Prolific's reference where it names them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prolific_emulator import money, studies
from prolific_emulator.models import HookDelivery, HookSubscription, Project, Study, Submission, Workspace


def when(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def user(workspace: Workspace) -> dict[str, Any]:
    return {
        "id": workspace.user_id,
        "name": "Emulated Researcher",
        "first_name": "Emulated",
        "last_name": "Researcher",
        "email": f"researcher-{workspace.user_id[:8]}@example.org",
        "user_type": "researcher",
        "currency_code": workspace.currency_code,
        "balance": workspace.balance,
        "available_balance": money.available(workspace),
    }


def workspace(item: Workspace) -> dict[str, Any]:
    return {
        "id": item.id,
        "title": item.title,
        "description": "",
        "owner": item.user_id,
        "users": [{"id": item.user_id, "name": "Emulated Researcher", "roles": ["WORKSPACE_ADMIN"]}],
        "currency_code": item.currency_code,
        "naivety_distribution_rate": None,
    }


def project(item: Project) -> dict[str, Any]:
    return {"id": item.id, "title": item.title, "description": "", "workspace": item.workspace_id}


def study(item: Study) -> dict[str, Any]:
    per_status = studies.counts(item)
    return {
        **item.extra,
        "id": item.id,
        "name": item.name,
        "internal_name": item.internal_name,
        "description": item.description,
        "external_study_url": item.external_study_url,
        "prolific_id_option": item.prolific_id_option,
        "completion_codes": item.completion_codes,
        "total_available_places": item.total_available_places,
        "places_taken": studies.places_taken(item),
        "number_of_submissions": sum(per_status.values()),
        "submissions_counts": per_status,
        "estimated_completion_time": item.estimated_completion_time,
        "maximum_allowed_time": item.maximum_allowed_time,
        "reward": item.reward,
        "average_reward_per_hour": round(item.reward * 60 / item.estimated_completion_time),
        "currency_code": item.workspace.currency_code,
        "device_compatibility": item.device_compatibility,
        "filters": item.filters,
        "project": item.project_id,
        "status": item.status,
        "date_created": when(item.created),
        "published_at": when(item.published_at),
    }


def submission(item: Submission) -> dict[str, Any]:
    taken = (item.completed_at - item.started_at).total_seconds() if item.completed_at else None
    return {
        "id": item.id,
        "study_id": item.study_id,
        "participant_id": item.participant_id,
        "status": item.status,
        "started_at": when(item.started_at),
        "completed_at": when(item.completed_at),
        "is_complete": item.completed_at is not None,
        "time_taken": round(taken) if taken is not None else None,
        "reward": item.study.reward,
        "study_code": item.study_code or None,
        "return_requested": item.return_requested,
        "rejection_category": item.rejection_category or None,
        "bonus_payments": list(item.bonuses.values_list("amount", flat=True)),
    }


def subscription(item: HookSubscription) -> dict[str, Any]:
    return {
        "id": item.id,
        "event_type": item.event_type,
        "target_url": item.target_url,
        "workspace_id": item.workspace_id,
        "is_enabled": item.is_enabled,
        "date_created": when(item.created),
    }


def delivery(item: HookDelivery) -> dict[str, Any]:
    return {
        "id": item.id,
        "event_type": item.event_type,
        "resource_id": item.resource_id,
        "status": item.status,
        "attempts": item.attempts,
        "response_status": item.last_response_status,
        "datetime_created": when(item.created),
    }
