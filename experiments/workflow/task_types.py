"""The "hosted_tasks" task type: work that leads workers into crowdhr's own workflow, decided by it.

A submitted assignment (MTurk's assignment, Prolific's submission) needs the worker's place in
the workflow ended in a way that is paid (completed all, stopped, left; a failed qualification
when the study pays it) and the completion code right (as for oTree studies: crowdhr's code for
this assignment on MTurk, the study's code on Prolific). Nobody is rejected for stopping: a place
still open when the work is handed in ends as 'left' and is judged the same.

The worker's saved answers become assignments of their items' hosted HITs (`services.answers_store`),
decided by consensus with everyone else's in the normal review (and scored there). The assignment
waits until they all are decided, then follows the hosted batch's rule: approved when at least
half agree with the consensus, else rejected under the experiment's rejection policy. A worker
with no saved answers (a failed test the study pays, a stop before any task) is approved.
The follow-up pays the tasks completed as one bonus per place (`services.place_pay`), also after a
rejection: pay is for work done.
"""

from __future__ import annotations

from functools import cached_property

from experiments.models import Experiment
from experiments.task_types import OtreeStudy
from experiments.workflow import services
from experiments.workflow.models import WorkerPlace
from hits.models import Assignment
from hits.task_types import AssignmentDict, Judgement, get_task_type, register

DECIDED = (Assignment.Decision.APPROVED, Assignment.Decision.REJECTED)
#: the longest text of agreed answers a worker is told in feedback
MAX_TOLD = 3000


@register(services.TASK_TYPE)
class HostedTasks(OtreeStudy):
    """config: {"experiment_id": <pk>}; inputs: {"url": <the study's hosted landing page>}."""

    label = "Hosted tasks (decided by crowdhr's workflow)"
    #: the answers are scored one by one on their items' hosted HITs
    scores_decisions = False

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
        services.failed_tests_record(
            results=place.study.experiment.account.qualification_results.filter(
                worker_id=place.participant.worker_id
            )
        )
        place.refresh_from_db()
        if not self.code_is_right(assignment_dict):
            return Judgement("review", problem="The completion code is missing or not the one crowdhr gave.")
        if not services.place_is_paid_for(place):
            return Judgement(
                "review",
                problem="Failed the qualification; the study pays nothing for that. A person decides.",
            )
        thanks = f"Thank you for your work on \u201c{self.experiment.title}\u201d!"
        assignment: Assignment = assignment_dict["assignment"]
        items = services.answers_store(
            place=place, worker=assignment.worker, submission_id=assignment.assignment_id
        )
        if not items:
            return Judgement("approve", feedback=thanks)
        if any(item.decision not in DECIDED for _, item in items):
            return Judgement("wait")
        agreed = sum(item.decision == Assignment.Decision.APPROVED for _, item in items)
        told = self.agreed_answers(items)
        if agreed * 2 >= len(items):
            if agreed == len(items):
                return Judgement(
                    "approve", feedback=f"{thanks} All your answers agreed with the other workers'."
                )
            return Judgement(
                "approve",
                feedback=f"{thanks} {agreed} of your {len(items)} answers agreed with the other workers'. {told}",
            )
        return Judgement(
            "reject",
            feedback=(
                f"Fewer than half of your answers in \u201c{self.experiment.title}\u201d agreed with the answers "
                f"the other workers agreed on ({agreed} of {len(items)}). You are paid for every task you "
                f"saved all the same. {told}"
            ),
            problem=f"{agreed} of {len(items)} answers agreed with the consensus.",
        )

    @staticmethod
    def agreed_answers(items: list) -> str:
        """'Task 3: you answered "no"; the agreed answer was "yes".' per rejected answer."""
        lines = []
        for number, (task, item) in enumerate(items, start=1):
            if item.decision != Assignment.Decision.REJECTED:
                continue
            outsourcer = item.hit.outsourcer
            kind = get_task_type(outsourcer.task_type, outsourcer.task_config)
            given: AssignmentDict = {}
            kind.add_answers_to_assignment_dict(given, dict(task.answer or {}))
            answer = outsourcer.answer
            agreed = kind.describe_answer(answer) if isinstance(answer, dict) else "(none agreed yet)"
            lines.append(
                f"Task {number}: you answered \u201c{kind.describe_answer(given) or '(nothing)'}\u201d; "
                f"the agreed answer was \u201c{agreed}\u201d."
            )
        text = " ".join(lines)
        return text if len(text) <= MAX_TOLD else text[: MAX_TOLD - 1] + "\u2026"

    def perform_additional_approval_tasks(self, assignment_dict: AssignmentDict) -> None:
        place = self.place(assignment_dict["worker_id"])
        if place is not None:
            services.place_pay(place=place, assignment=assignment_dict["assignment"])

    def perform_additional_rejection_tasks(self, assignment_dict: AssignmentDict) -> None:
        """A person rejected it: the tasks are still paid (pay is for work done)."""
        self.perform_additional_approval_tasks(assignment_dict)
