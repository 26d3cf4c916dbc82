"""The "otree_study" task type: HITs that send workers into an oTree session, decided by completion.

A submitted assignment is approved when oTree reports the worker's participant (label = worker id)
as finished and the assignment carries the right completion code: on MTurk the code crowdhr showed
on its done page for this assignment and worker; on Prolific, whose studies have one completion
code, the study's code (anyone can type a study-wide code, so the oTree finish is what counts). The
bonus is the participant's `payoff_in_real_world_currency`, paid once per worker and study.
"""

from __future__ import annotations

import hmac
import logging
from functools import cached_property
from typing import Any

from experiments import hosted
from experiments.completion import is_valid_completion_code
from experiments.models import Experiment
from experiments.services import (
    OtreeUnavailable,
    ServiceError,
    participant_after_decision,
    study_completion,
    study_results,
)
from hits.task_types import AssignmentDict, HitContent, Judgement, TaskType, register
from platforms import ExternalPage, PlatformError

logger = logging.getLogger(__name__)

COMPLETION_CODE_FIELD = "completion_code"


@register("otree_study")
class OtreeStudy(TaskType):
    """config: {"experiment_id": <pk>}; inputs: {"url": <crowdhr's landing for the study>}."""

    label = "oTree study (decided by completion)"
    decides_by = "completion"
    answer_fields = (COMPLETION_CODE_FIELD,)

    def validate_config(self) -> None:
        if not isinstance(self.config.get("experiment_id"), int):
            raise ValueError("An oTree study task needs the experiment it belongs to.")

    @cached_property
    def experiment(self):
        return Experiment.objects.select_related("otree_site", "account").get(pk=self.config["experiment_id"])

    # --- the HIT -------------------------------------------------------------------------------
    def create_hit_content(self, inputs: dict[str, Any], settings: dict[str, Any]) -> HitContent:
        content = self.standard_content(inputs, settings)
        content.destination = ExternalPage(inputs["url"])
        return content

    def question_html(self, inputs: dict[str, Any]) -> str:
        return ""

    # --- deciding ------------------------------------------------------------------------------
    @cached_property
    def session(self):
        """What oTree says about the study's participants: read once per review of the study."""
        try:
            return study_results(experiment=self.experiment)
        except OtreeUnavailable as error:
            # A PlatformError keeps the assignments undecided for the next cycle, HIT by HIT.
            raise PlatformError(str(error), code="OtreeUnavailable", permanent=False) from error

    def judge(self, assignment_dict: AssignmentDict) -> Judgement:
        experiment = self.experiment
        worker_id = assignment_dict["worker_id"]
        participant = self.session.participants.get(worker_id)
        code_ok = self.code_is_right(assignment_dict)
        if participant is not None and participant.finished and code_ok:
            return Judgement("approve", feedback=f"Thank you for taking part in {experiment.title}!")
        if participant is None:
            problem = f"oTree has no participant labelled {worker_id}."
        elif not participant.finished:
            problem = f"{worker_id} did not finish the oTree session."
        else:
            problem = "The completion code is missing or not the one crowdhr gave this worker."
        if experiment.reject_unfinished:
            return Judgement("reject", feedback=experiment.unfinished_feedback, problem=problem)
        return Judgement("review", problem=problem)

    def code_is_right(self, assignment_dict: AssignmentDict) -> bool:
        """The study's code (Prolific), or crowdhr's code for this assignment and worker (MTurk)."""
        given = assignment_dict.get(COMPLETION_CODE_FIELD)
        try:
            completion = study_completion(self.experiment, assignment_dict["assignment"].hit.hit_id)
        except ServiceError as error:
            raise PlatformError(str(error), code="CompletionUnknown", permanent=False) from error
        if completion is not None:
            return bool(completion.code) and hmac.compare_digest(completion.code, (given or "").strip())
        worker_id = assignment_dict["worker_id"]
        return is_valid_completion_code(
            self.experiment.pk, assignment_dict["assignment_id"], worker_id, given
        )

    def perform_additional_approval_tasks(self, assignment_dict: AssignmentDict) -> None:
        participant = self.session.participants.get(assignment_dict["worker_id"])
        participant_after_decision(
            experiment=self.experiment,
            assignment=assignment_dict["assignment"],
            otree_participant=participant,
            currency=self.session.currency,
            pay_bonus=self.experiment.pay_bonuses_automatically,
        )

    def perform_additional_rejection_tasks(self, assignment_dict: AssignmentDict) -> None:
        participant_after_decision(
            experiment=self.experiment,
            assignment=assignment_dict["assignment"],
            otree_participant=None,
            currency=self.session.currency,
            pay_bonus=False,
        )


@register("hosted_batch")
class HostedBatchSubmission(TaskType):
    """A participant's submission of a batch hosted on crowdhr's pages (Prolific), decided by its items.

    config: {"experiment_id": <pk>}; inputs: {"url": <crowdhr's first page of the batch>}. Each item
    the participant answered is decided by consensus on its own (and scored); the submission waits
    until all are decided and is approved when at least half agree (`experiments.hosted`). It is
    not scored itself: its items were.
    """

    label = "Hosted batch submission (decided by its items)"
    decides_by = "completion"
    scores_decisions = False
    answer_fields = (COMPLETION_CODE_FIELD,)

    def validate_config(self) -> None:
        if not isinstance(self.config.get("experiment_id"), int):
            raise ValueError("A hosted batch's study needs the experiment it belongs to.")

    @cached_property
    def experiment(self) -> Experiment:
        return Experiment.objects.select_related("account").get(pk=self.config["experiment_id"])

    def create_hit_content(self, inputs: dict[str, Any], settings: dict[str, Any]) -> HitContent:
        content = self.standard_content(inputs, settings)
        content.destination = ExternalPage(inputs["url"])
        return content

    def question_html(self, inputs: dict[str, Any]) -> str:
        return ""

    def judge(self, assignment_dict: AssignmentDict) -> Judgement:
        return hosted.judge_submission(experiment=self.experiment, assignment=assignment_dict["assignment"])

    def perform_additional_tasks(self, assignment_dict: AssignmentDict) -> None:
        hosted.tell_agreed_answers(experiment=self.experiment, assignment=assignment_dict["assignment"])
