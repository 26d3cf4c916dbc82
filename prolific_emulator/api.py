"""Prolific's REST API v1 under /emulator/prolific/api/v1/: one small handler per operation.

Paths, methods and field names follow Prolific's API reference (docs.prolific.com/api-reference);
where the reference is silent the module that models the resource says what was guessed.
"""

from __future__ import annotations

import json

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from prolific_emulator import (
    bonuses,
    faults,
    groups,
    hooks,
    messaging,
    money,
    representations,
    studies,
    submissions,
)
from prolific_emulator.errors import BadRequest, NotFound, field_error
from prolific_emulator.models import Project, Study
from prolific_emulator.wire import Answer, Call, endpoint, paginated


# --- users, workspaces, projects ------------------------------------------------------------------
def me(call: Call) -> Answer:
    return Answer(representations.user(call.workspace))


def workspace_list(call: Call) -> Answer:
    return Answer({"results": [representations.workspace(call.workspace)]})


def _own_workspace(call: Call) -> None:
    if call.ids["workspace_id"] != call.workspace.id:
        raise NotFound("Workspace not found.")


def workspace_detail(call: Call) -> Answer:
    _own_workspace(call)
    return Answer(representations.workspace(call.workspace))


def workspace_balance(call: Call) -> Answer:
    _own_workspace(call)
    return Answer(money.balance_report(call.workspace))


def project_list(call: Call) -> Answer:
    _own_workspace(call)
    projects = call.workspace.projects.order_by("created", "id")
    return Answer({"results": [representations.project(p) for p in projects]})


def project_create(call: Call) -> Answer:
    _own_workspace(call)
    title = call.data.get("title")
    if not isinstance(title, str) or not title.strip() or len(title) > 255:
        raise field_error("title", "This field is required (at most 255 characters).")
    project = Project.objects.create(workspace=call.workspace, title=title)
    return Answer(representations.project(project), 201)


def project_detail(call: Call) -> Answer:
    project = Project.objects.filter(pk=call.ids["project_id"], workspace=call.workspace).first()
    if project is None:
        raise NotFound("Project not found.")
    return Answer(representations.project(project))


# --- studies ---------------------------------------------------------------------------------------
def study_list(call: Call) -> Answer:
    rows = Study.objects.filter(workspace=call.workspace, is_deleted=False).select_related("workspace")
    state = call.query.get("state")
    if state is not None:
        if state not in Study.STATUSES:
            raise BadRequest(f'"{state[:40]}" is not a study status.')
        rows = rows.filter(status=state)
    return Answer(paginated(call.request, list(rows), representations.study))


def study_create(call: Call) -> Answer:
    return Answer(representations.study(studies.create(call.workspace, call.data)), 201)


def study_detail(call: Call) -> Answer:
    return Answer(representations.study(studies.get(call.workspace, call.ids["study_id"])))


def study_update(call: Call) -> Answer:
    study = studies.update(studies.get(call.workspace, call.ids["study_id"]), call.data)
    return Answer(representations.study(study))


def study_delete(call: Call) -> Answer:
    studies.delete(studies.get(call.workspace, call.ids["study_id"]))
    return Answer(None, 204)


def study_transition(call: Call) -> Answer:
    study = studies.get(call.workspace, call.ids["study_id"])
    studies.transition(study, call.data.get("action"))
    return Answer(representations.study(study))


def study_submissions(call: Call) -> Answer:
    study = studies.get(call.workspace, call.ids["study_id"])
    rows = list(study.submissions.select_related("study").prefetch_related("bonuses"))
    return Answer(paginated(call.request, rows, representations.submission))


# --- submissions -----------------------------------------------------------------------------------
def submission_list(call: Call) -> Answer:
    study_id = call.query.get("study")
    if not study_id:
        raise field_error("study", "A study id is required.")
    return study_submissions(
        Call(call.request, call.workspace, call.data, call.query, {"study_id": study_id})
    )


def submission_detail(call: Call) -> Answer:
    return Answer(representations.submission(submissions.get(call.workspace, call.ids["submission_id"])))


def submission_transition(call: Call) -> Answer:
    submission = submissions.get(call.workspace, call.ids["submission_id"])
    submissions.transition(submission, call.data)
    return Answer(representations.submission(submission))


def submission_request_return(call: Call) -> Answer:
    submission = submissions.get(call.workspace, call.ids["submission_id"])
    submissions.request_return(submission, call.data.get("request_return_reasons"))
    return Answer(representations.submission(submission))


def bulk_approve(call: Call) -> Answer:
    approved = submissions.bulk_approve(call.workspace, call.data)
    return Answer({"message": f"{len(approved)} submissions approved."})


# --- bonuses ---------------------------------------------------------------------------------------
def bonus_set_up(call: Call) -> Answer:
    return Answer(bonuses.representation(bonuses.set_up(call.workspace, call.data)), 201)


def bonus_pay(call: Call) -> Answer:
    bonuses.pay(bonuses.get(call.workspace, call.ids["bulk_id"]))
    return Answer({})


# --- messages --------------------------------------------------------------------------------------
def message_list(call: Call) -> Answer:
    rows = messaging.listed(call.workspace, call.query)
    return Answer({"results": [messaging.representation(m) for m in rows]})


def message_send(call: Call) -> Answer:
    return Answer(messaging.representation(messaging.send(call.workspace, call.data)), 201)


# --- participant groups ----------------------------------------------------------------------------
def group_list(call: Call) -> Answer:
    return Answer({"results": [groups.representation(g) for g in groups.listed(call.workspace, call.query)]})


def group_create(call: Call) -> Answer:
    return Answer(groups.representation(groups.create(call.workspace, call.data)), 201)


def group_detail(call: Call) -> Answer:
    return Answer(groups.representation(groups.get(call.workspace, call.ids["group_id"])))


def group_update(call: Call) -> Answer:
    group = groups.get(call.workspace, call.ids["group_id"])
    for name in ("name", "description"):
        if name in call.data:
            if not isinstance(call.data[name], str) or (name == "name" and not call.data[name].strip()):
                raise field_error(name, "Not a valid string.")
            setattr(group, name, call.data[name][:10000])
    group.save()
    return Answer(groups.representation(group))


def group_delete(call: Call) -> Answer:
    groups.delete(groups.get(call.workspace, call.ids["group_id"]))
    return Answer(None, 204)


def group_members(call: Call) -> Answer:
    return Answer({"results": groups.member_rows(groups.get(call.workspace, call.ids["group_id"]))})


def group_add(call: Call) -> Answer:
    group = groups.get(call.workspace, call.ids["group_id"])
    groups.add(group, groups.participant_ids(call.data))
    return Answer({"results": groups.member_rows(group)})


def group_remove(call: Call) -> Answer:
    group = groups.get(call.workspace, call.ids["group_id"])
    groups.remove(group, groups.participant_ids(call.data))
    return Answer({"results": groups.member_rows(group)})


# --- hooks -----------------------------------------------------------------------------------------
def event_types(call: Call) -> Answer:
    return Answer(
        {"results": [{"event_type": name, "description": text} for name, text in hooks.EVENT_TYPES.items()]}
    )


def _workspace_param(call: Call, value: object) -> None:
    if value != call.workspace.id:
        raise field_error("workspace_id", "A workspace you belong to is required.")


def secret_list(call: Call) -> Answer:
    _workspace_param(call, call.query.get("workspace_id", call.workspace.id))
    secret = hooks.active_secret(call.workspace)
    rows = [secret] if secret else []
    return Answer({"results": [{"id": s.id, "value": s.value, "workspace_id": s.workspace_id} for s in rows]})


def secret_create(call: Call) -> Answer:
    _workspace_param(call, call.data.get("workspace_id"))
    secret = hooks.create_secret(call.workspace)
    return Answer({"id": secret.id, "value": secret.value, "workspace_id": secret.workspace_id}, 201)


def subscription_list(call: Call) -> Answer:
    _workspace_param(call, call.query.get("workspace_id", call.workspace.id))
    rows = call.workspace.hook_subscriptions.filter(is_deleted=False).order_by("created", "id")
    if call.query.get("is_enabled") in ("true", "false"):
        rows = rows.filter(is_enabled=call.query["is_enabled"] == "true")
    return Answer({"results": [representations.subscription(s) for s in rows]})


def subscription_create(call: Call) -> Answer:
    _workspace_param(call, call.data.get("workspace_id"))
    target = call.data.get("target_url")
    if not isinstance(target, str) or len(target) > 2000:
        raise field_error("target_url", "This field is required.")
    subscription = hooks.subscribe(
        call.workspace, event_type=str(call.data.get("event_type")), target_url=target
    )
    headers = {"X-Hook-Secret": subscription.confirmation_secret}
    return Answer(representations.subscription(subscription), 201, headers)


def _subscription(call: Call):
    found = call.workspace.hook_subscriptions.filter(pk=call.ids["subscription_id"], is_deleted=False).first()
    if found is None:
        raise NotFound("Subscription not found.")
    return found


def subscription_detail(call: Call) -> Answer:
    return Answer(representations.subscription(_subscription(call)))


def subscription_confirm(call: Call) -> Answer:
    secret = call.data.get("secret")
    if not isinstance(secret, str):
        raise field_error("secret", "This field is required.")
    return Answer(representations.subscription(hooks.confirm(_subscription(call), secret)))


def subscription_delete(call: Call) -> Answer:
    subscription = _subscription(call)
    subscription.is_deleted = True
    subscription.is_enabled = False
    subscription.save(update_fields=["is_deleted", "is_enabled"])
    return Answer(None, 204)


def subscription_events(call: Call) -> Answer:
    rows = _subscription(call).deliveries.all()
    return Answer({"results": [representations.delivery(d) for d in rows]})


# --- the endpoints -------------------------------------------------------------------------------
users_me = endpoint(GET=("users.me", me))
workspaces = endpoint(GET=("workspaces.list", workspace_list))
workspace = endpoint(GET=("workspaces.get", workspace_detail))
balance = endpoint(GET=("workspaces.balance", workspace_balance))
projects = endpoint(GET=("projects.list", project_list), POST=("projects.create", project_create))
project = endpoint(GET=("projects.get", project_detail))
study_collection = endpoint(GET=("studies.list", study_list), POST=("studies.create", study_create))
study = endpoint(
    GET=("studies.get", study_detail),
    PATCH=("studies.update", study_update),
    DELETE=("studies.delete", study_delete),
)
study_transition_endpoint = endpoint(POST=("studies.transition", study_transition))
study_submissions_endpoint = endpoint(GET=("studies.submissions", study_submissions))
submission_collection = endpoint(GET=("submissions.list", submission_list))
submission = endpoint(GET=("submissions.get", submission_detail))
submission_transition_endpoint = endpoint(POST=("submissions.transition", submission_transition))
submission_request_return_endpoint = endpoint(POST=("submissions.request_return", submission_request_return))
bulk_approve_endpoint = endpoint(POST=("submissions.bulk_approve", bulk_approve))
bonus_payments = endpoint(POST=("bonuses.set_up", bonus_set_up))
bonus_pay_endpoint = endpoint(POST=("bonuses.pay", bonus_pay))
messages = endpoint(GET=("messages.list", message_list), POST=("messages.send", message_send))
group_collection = endpoint(GET=("groups.list", group_list), POST=("groups.create", group_create))
group = endpoint(
    GET=("groups.get", group_detail),
    PATCH=("groups.update", group_update),
    DELETE=("groups.delete", group_delete),
)
group_participants = endpoint(
    GET=("groups.participants", group_members),
    POST=("groups.add_participants", group_add),
    DELETE=("groups.remove_participants", group_remove),
)
hook_event_types = endpoint(GET=("hooks.event_types", event_types))
hook_secrets = endpoint(GET=("hooks.secrets.list", secret_list), POST=("hooks.secrets.create", secret_create))
hook_subscriptions = endpoint(
    GET=("hooks.subscriptions.list", subscription_list),
    POST=("hooks.subscriptions.create", subscription_create),
)
hook_subscription = endpoint(
    GET=("hooks.subscriptions.get", subscription_detail),
    POST=("hooks.subscriptions.confirm", subscription_confirm),
    DELETE=("hooks.subscriptions.delete", subscription_delete),
)
hook_subscription_events = endpoint(GET=("hooks.subscriptions.events", subscription_events))


@csrf_exempt
def fault_control(request: HttpRequest) -> HttpResponse:
    """GET shows, POST replaces, DELETE clears injected faults; a 404 unless the test switch is on."""
    if not faults.http_control_enabled():
        return JsonResponse(NotFound("Not found.").body(), status=404)
    if request.method == "DELETE":
        faults.clear_faults()
    elif request.method == "POST":
        try:
            payload = json.loads(request.body or b"{}")
            if not isinstance(payload, dict):
                raise TypeError("the body must be a JSON object")
            faults.configure(payload)
        except (ValueError, TypeError, KeyError, RecursionError) as problem:
            return JsonResponse(BadRequest(f"Invalid fault settings: {problem}").body(), status=400)
    elif request.method != "GET":
        return JsonResponse({"error": "Use GET, POST or DELETE."}, status=405)
    return JsonResponse(faults.describe())
