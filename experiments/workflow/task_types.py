"""The "hosted_tasks" task type: work that leads workers into crowdhr's own workflow, decided by it.

A submitted assignment (MTurk's assignment, Prolific's submission) is approved when the worker's
place in the workflow has ended in a way that is paid (completed all, stopped, left; a failed
qualification when the study pays it) and the completion code is right (as for oTree studies:
crowdhr's code for this assignment on MTurk, the study's code on Prolific). Nobody is rejected
for stopping: a place still open when the work is handed in ends as 'left' and is paid the same.
The follow-up pays the tasks completed as one bonus per place (`services.place_pay`).
"""

from __future__ import annotations

from functools import cached_property

from experiments.models import Experiment
from experiments.task_types import OtreeStudy
from experiments.workflow import services
from experiments.workflow.models import WorkerPlace
from hits.task_types import AssignmentDict, Judgement, register


@register(services.TASK_TYPE)
class HostedTasks(OtreeStudy):
    """config: {"experiment_id": <pk>}; inputs: {"url": <the study's hosted landing page>}."""

    label = "Hosted tasks (decided by crowdhr's workflow)"

    @cached_property
    def experiment(self) -> Experiment:
        return Experiment.objects.select_related("account").get(pk=self.config["experiment_id"])

    def place(self, worker_id: str) -> WorkerPlace | None:
        return (
            WorkerPlace.objects.filter(study__experiment=self.experiment, participant__worker_id=worker_id)
            .select_related("study__experiment", "participant")
            .first()
        )

    def judge(self, assignment_dict: AssignmentDict) -> Judgement:
        place = self.place(assignment_dict["worker_id"])
        if place is None:
            return Judgement("review", problem="The worker never reached the study's pages.")
        services.place_finish_unended(place=place)
        place.refresh_from_db()
        if not self.code_is_right(assignment_dict):
            return Judgement("review", problem="The completion code is missing or not the one crowdhr gave.")
        if not services.place_is_paid_for(place):
            return Judgement(
                "review",
                problem="Failed the qualification; the study pays nothing for that. A person decides.",
            )
        return Judgement("approve", feedback=f"Thank you for your work on {self.experiment.title}!")

    def perform_additional_approval_tasks(self, assignment_dict: AssignmentDict) -> None:
        place = self.place(assignment_dict["worker_id"])
        if place is not None:
            services.place_pay(place=place, assignment=assignment_dict["assignment"])

    def perform_additional_rejection_tasks(self, assignment_dict: AssignmentDict) -> None:
        """A person rejected it: the tasks are still paid (pay is for work done)."""
        self.perform_additional_approval_tasks(assignment_dict)
