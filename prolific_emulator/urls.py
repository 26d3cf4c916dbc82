"""The local Prolific under /emulator/prolific/: the REST API v1, the fault control, participant pages."""

from __future__ import annotations

from django.urls import path

from prolific_emulator import api, views

app_name = "prolific_emulator"

V1 = "api/v1/"

urlpatterns = [
    path(f"{V1}users/me/", api.users_me, name="users_me"),
    path(f"{V1}workspaces/", api.workspaces),
    path(f"{V1}workspaces/<str:workspace_id>/", api.workspace),
    path(f"{V1}workspaces/<str:workspace_id>/balance/", api.balance),
    path(f"{V1}workspaces/<str:workspace_id>/projects/", api.projects),
    path(f"{V1}projects/<str:project_id>/", api.project),
    path(f"{V1}studies/", api.study_collection, name="studies"),
    path(f"{V1}studies/<str:study_id>/", api.study),
    path(f"{V1}studies/<str:study_id>/transition/", api.study_transition_endpoint),
    path(f"{V1}studies/<str:study_id>/submissions/", api.study_submissions_endpoint),
    path(f"{V1}submissions/", api.submission_collection),
    path(f"{V1}submissions/bulk-approve/", api.bulk_approve_endpoint),
    path(f"{V1}submissions/bonus-payments/", api.bonus_payments),
    path(f"{V1}submissions/<str:submission_id>/", api.submission),
    path(f"{V1}submissions/<str:submission_id>/transition/", api.submission_transition_endpoint),
    path(f"{V1}submissions/<str:submission_id>/request-return/", api.submission_request_return_endpoint),
    path(f"{V1}bulk-bonus-payments/<str:bulk_id>/pay/", api.bonus_pay_endpoint),
    path(f"{V1}messages/", api.messages),
    path(f"{V1}participant-groups/", api.group_collection),
    path(f"{V1}participant-groups/<str:group_id>/", api.group),
    path(f"{V1}participant-groups/<str:group_id>/participants/", api.group_participants),
    path(f"{V1}hooks/event-types/", api.hook_event_types),
    path(f"{V1}hooks/secrets/", api.hook_secrets),
    path(f"{V1}hooks/subscriptions/", api.hook_subscriptions),
    path(f"{V1}hooks/subscriptions/<str:subscription_id>/", api.hook_subscription),
    path(f"{V1}hooks/subscriptions/<str:subscription_id>/events/", api.hook_subscription_events),
    path("faults/", api.fault_control, name="faults"),
    path("", views.home, name="home"),
    path("participant/", views.choose_participant, name="choose_participant"),
    path("participant/forget/", views.forget_participant, name="forget_participant"),
    path("studies/<str:study_id>/take-part/", views.take_part, name="take_part"),
    path("submissions/complete", views.complete, name="complete"),
    path("submissions/<str:submission_id>/return/", views.return_submission, name="return_submission"),
    path("me/", views.dashboard, name="dashboard"),
    path("messages/reply/", views.reply, name="reply"),
]
