"""Participant groups: saved lists of participant ids, used as allow or block lists.

From Prolific's reference: a group belongs to a workspace (or an organisation, which the twin
does not model); participants are added (duplicates ignored) and removed on the fly, and studies
that use the group as `participant_group_allowlist` / `participant_group_blocklist` follow the
change. Deleting is soft: the API no longer shows the group.
"""

from __future__ import annotations

import re
from typing import Any

from django.db import IntegrityError, transaction

from prolific_emulator.errors import BadRequest, NotFound, field_error
from prolific_emulator.models import GroupMember, ParticipantGroup, Workspace

PARTICIPANT_ID = re.compile(r"^[0-9a-f]{24}$")
MAX_IDS = 10000


def create(workspace: Workspace, data: dict[str, Any]) -> ParticipantGroup:
    """POST /participant-groups/ with `name`, `workspace_id` (or `project_id`), `description`, `participant_ids`."""
    name = data.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 255:
        raise field_error("name", "This field is required (at most 255 characters).")
    _check_scope(workspace, data)
    description = data.get("description", "")
    if not isinstance(description, str):
        raise field_error("description", "Not a valid string.")
    ids = participant_ids(data, required=False)
    group = ParticipantGroup.objects.create(
        workspace=workspace, name=name, description=description, project_id=str(data.get("project_id") or "")
    )
    add(group, ids)
    return group


def get(workspace: Workspace, group_id: str) -> ParticipantGroup:
    group = ParticipantGroup.objects.filter(pk=group_id, workspace=workspace, is_deleted=False).first()
    if group is None:
        raise NotFound("Participant group not found.")
    return group


def listed(workspace: Workspace, query: Any) -> list[ParticipantGroup]:
    """GET /participant-groups/?workspace_id=... or ?project_id=... (one is required)."""
    groups = workspace.participant_groups.filter(is_deleted=False).order_by("created", "id")
    if query.get("workspace_id"):
        if query["workspace_id"] != workspace.id:
            raise NotFound("Workspace not found.")
        return list(groups)
    if query.get("project_id"):
        if not workspace.projects.filter(pk=query["project_id"]).exists():
            raise NotFound("Project not found.")
        return list(groups.filter(project_id=query["project_id"]))
    raise BadRequest("Provide workspace_id or project_id.")


def delete(group: ParticipantGroup) -> None:
    group.is_deleted = True
    group.save(update_fields=["is_deleted"])


def add(group: ParticipantGroup, ids: list[str]) -> None:
    """Add participants; those already in the group are ignored."""
    for participant_id in dict.fromkeys(ids):
        try:
            with transaction.atomic():
                GroupMember.objects.create(group=group, participant_id=participant_id)
        except IntegrityError:
            continue


def remove(group: ParticipantGroup, ids: list[str]) -> None:
    group.members.filter(participant_id__in=ids).delete()


def members(group: ParticipantGroup) -> set[str]:
    return set(group.members.values_list("participant_id", flat=True))


def participant_ids(data: dict[str, Any], *, required: bool = True) -> list[str]:
    """The `participant_ids` of a body: a list of Prolific participant ids."""
    ids = data.get("participant_ids", None if required else [])
    if not isinstance(ids, list) or (required and not ids) or len(ids) > MAX_IDS:
        raise field_error("participant_ids", "Expected a list of participant ids.")
    bad = [str(i)[:40] for i in ids if not isinstance(i, str) or not PARTICIPANT_ID.match(i)]
    if bad:
        raise field_error("participant_ids", f"Not valid participant ids: {', '.join(bad[:20])}.")
    return ids


def representation(group: ParticipantGroup) -> dict[str, Any]:
    return {
        "id": group.id,
        "name": group.name,
        "description": group.description,
        "workspace_id": group.workspace_id,
        "project_id": group.project_id or None,
        "organisation_id": None,
        "participant_count": group.members.count(),
        "is_deleted": group.is_deleted,
        "feeder_studies": [],
    }


def member_rows(group: ParticipantGroup) -> list[dict[str, Any]]:
    return [
        {"participant_id": m.participant_id, "datetime_created": m.created.isoformat()}
        for m in group.members.all()
    ]


def _check_scope(workspace: Workspace, data: dict[str, Any]) -> None:
    if data.get("organisation_id") and not data.get("workspace_id"):
        raise field_error("organisation_id", "Organisation not found.")
    if data.get("project_id"):
        if not workspace.projects.filter(pk=str(data["project_id"])).exists():
            raise field_error("project_id", "Project not found.")
        return
    if data.get("workspace_id") != workspace.id:
        raise field_error("workspace_id", "Either a workspace or organisation ID must be specified.")
