"""Hosted tasks: the study, its items, each worker's place in the workflow and what it records.

A hosted-tasks experiment is an `Experiment` of kind "hosted" with one `HostedStudy`: the
researcher's instructions, task template, qualification, training and pay. Each worker who lands
holds a `Participant` (the trust rules of `experiments.places` bind it to their browser); their
way through Intro -> Qualification -> Training -> Tasks is a `WorkerPlace`, and every item given
to them is a `Task`. Every status change of a place or a task is its own timestamped row
(`PlaceStatus`, `TaskStatus`), every page shown a `PageView` with the browser's tracking fields,
and anything else a page reports a `Metadata` row: no JSON blobs of history.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from crowdhr.ownership import OwnedQuerySet

HOSTED_KIND = "hosted"  # Experiment.Kind.HOSTED


class HostedStudyQuerySet(OwnedQuerySet["HostedStudy"]):
    owner_path = "experiment__owner"


class HostedStudy(models.Model):
    """The hosted-tasks settings of one experiment (what its package's manifest says)."""

    class OnFail(models.TextChoices):
        REWARD = "reward", "Pay the assignment reward (approved)"
        NOTHING = "nothing", "Pay nothing (asked to return the study)"

    experiment = models.OneToOneField(
        "experiments.Experiment", on_delete=models.CASCADE, related_name="hosted_study"
    )
    instructions = models.TextField(help_text="The intro page: instructions and consent (plain text).")
    consent = models.CharField(
        max_length=300, default="I have read the instructions and agree to take part.", blank=True
    )
    task_template = models.TextField(help_text="HTML with ${column} placeholders and the answer fields.")
    answer_fields = models.CharField(
        max_length=300, default="answer", help_text="The template's form fields, separated by commas."
    )
    qualification_name = models.CharField(
        max_length=100,
        blank=True,
        help_text="Workers who passed the test of this name on this account skip it (blank: no test).",
    )
    qualification_function = models.CharField(max_length=100, default="quiz")
    qualification_args = models.JSONField(default=dict, blank=True)
    qualification_valid_days = models.PositiveIntegerField(default=30)
    on_fail = models.CharField(max_length=10, choices=OnFail.choices, default=OnFail.REWARD)
    training_count = models.PositiveIntegerField(default=0, help_text="Training items each worker does.")
    training_paid = models.BooleanField(default=False)
    pay_per_task = models.DecimalField(
        max_digits=8, decimal_places=2, default=Decimal("0.05"), validators=[MinValueValidator(Decimal("0"))]
    )
    tasks_per_worker = models.PositiveIntegerField(default=10, validators=[MinValueValidator(1)])
    answers_per_item = models.PositiveIntegerField(
        default=3, validators=[MinValueValidator(1), MaxValueValidator(100)]
    )
    agreements_required = models.PositiveIntegerField(default=2, validators=[MinValueValidator(1)])
    #: the platform's exclusion list of workers who failed this test (MTurk: a qualification type
    #: required DoesNotExist; Prolific: a participant group used as a block list), set at publishing
    exclusion_list_id = models.CharField(max_length=100, blank=True, editable=False)
    #: bumped by every allotment: the write that serialises the queue (see `queue.next_task`)
    queue_turn = models.PositiveBigIntegerField(default=0, editable=False)

    objects = HostedStudyQuerySet.as_manager()

    class Meta:
        verbose_name = "hosted-tasks study"
        verbose_name_plural = "hosted-tasks studies"

    def __str__(self) -> str:
        return str(self.experiment)

    @property
    def fields(self) -> list[str]:
        return [name.strip() for name in self.answer_fields.split(",") if name.strip()]


class Item(models.Model):
    """One item of the study: a qualification question, a training task, or a real task."""

    class Kind(models.TextChoices):
        QUALIFICATION = "qualification", "Qualification"
        TRAINING = "training", "Training"
        TASK = "task", "Task"

    study = models.ForeignKey(HostedStudy, on_delete=models.CASCADE, related_name="items")
    kind = models.CharField(max_length=20, choices=Kind.choices)
    number = models.PositiveIntegerField(help_text="The item's row in its file (1 = the first).")
    inputs = models.JSONField(default=dict, help_text="The CSV row: one value per template placeholder.")
    expected = models.JSONField(
        null=True, blank=True, help_text="The known answer (qualification, training)."
    )
    explanation = models.TextField(blank=True, help_text="Why that answer is right (training).")
    outsourcer = models.OneToOneField(
        "hits.Outsourcer",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="hosted_item",
        help_text="A real task's hosted HIT: its answers are decided by consensus in the review.",
    )

    class Meta:
        ordering = ["study", "kind", "number"]
        constraints = [models.UniqueConstraint(fields=["study", "kind", "number"], name="one_item_per_row")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.number}"


class Stage(models.TextChoices):
    """Where a worker is in the workflow; the last five end their participation."""

    INTRO = "intro", "Intro"
    QUALIFICATION = "qualification", "Qualification"
    TRAINING = "training", "Training"
    TASKS = "tasks", "Tasks"
    COMPLETED = "completed", "Completed all"
    STOPPED = "stopped", "Stopped (pressed stop)"
    LEFT = "left", "Left"
    FAILED = "failed", "Failed the qualification"
    NOTHING_LEFT = "nothing_left", "No task left for them"


ENDED = (Stage.COMPLETED, Stage.STOPPED, Stage.LEFT, Stage.FAILED, Stage.NOTHING_LEFT)


class WorkerPlaceQuerySet(OwnedQuerySet["WorkerPlace"]):
    owner_path = "study__experiment__owner"


class WorkerPlace(models.Model):
    """One worker's way through the workflow of one study (their `Participant`'s)."""

    participant = models.OneToOneField(
        "experiments.Participant", on_delete=models.PROTECT, related_name="workflow_place"
    )
    study = models.ForeignKey(HostedStudy, on_delete=models.PROTECT, related_name="places")
    stage = models.CharField(max_length=20, choices=Stage.choices, default=Stage.INTRO, db_index=True)
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    qualification_score = models.FloatField(null=True, blank=True)
    pay_problem = models.CharField(
        max_length=300,
        blank=True,
        help_text="Pay crowdhr could not make (no assignment of the worker to pay it on): pay it by hand.",
    )

    objects = WorkerPlaceQuerySet.as_manager()

    def __str__(self) -> str:
        return f"{self.participant.worker_id} in {self.study}"

    @property
    def ended(self) -> bool:
        return self.stage in ENDED


class PlaceStatus(models.Model):
    """One change of a place's stage, when it happened and why."""

    place = models.ForeignKey(WorkerPlace, on_delete=models.CASCADE, related_name="history")
    stage = models.CharField(max_length=20, choices=Stage.choices)
    at = models.DateTimeField()
    note = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["at", "pk"]
        verbose_name_plural = "place statuses"

    def __str__(self) -> str:
        return f"{self.get_stage_display()} at {self.at:%Y-%m-%d %H:%M:%S}"


class Task(models.Model):
    """One item given to one worker: a qualification question, a training task or a real task."""

    class Status(models.TextChoices):
        ASSIGNED = "assigned", "Assigned"
        STARTED = "started", "Started"
        SAVED = "saved", "Saved"
        SKIPPED = "skipped", "Skipped"
        TIMED_OUT = "timed_out", "Timed out"
        STOPPED = "stopped", "Stopped"

    place = models.ForeignKey(WorkerPlace, on_delete=models.PROTECT, related_name="tasks")
    item = models.ForeignKey(Item, on_delete=models.PROTECT, related_name="tasks")
    kind = models.CharField(max_length=20, choices=Item.Kind.choices)
    position = models.PositiveIntegerField(help_text="The task's place in the worker's queue.")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ASSIGNED, db_index=True)
    answer = models.JSONField(null=True, blank=True)
    correct = models.BooleanField(null=True, blank=True, help_text="Qualification and training only.")
    assigned_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    saved_at = models.DateTimeField(null=True, blank=True)
    paid = models.BooleanField(default=False, help_text="Paid for through the ledger.")

    class Meta:
        ordering = ["place", "position"]
        constraints = [
            models.UniqueConstraint(fields=["place", "item"], name="no_item_twice_per_worker"),
            models.UniqueConstraint(fields=["place", "position"], name="one_task_per_queue_position"),
        ]
        indexes = [models.Index(fields=["item", "status"])]

    def __str__(self) -> str:
        return f"{self.item} for {self.place_id} ({self.status})"

    @property
    def open(self) -> bool:
        return self.status in (self.Status.ASSIGNED, self.Status.STARTED)


class TaskStatus(models.Model):
    """One change of a task's status, with its time."""

    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="history")
    status = models.CharField(max_length=20, choices=Task.Status.choices)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "pk"]
        verbose_name_plural = "task statuses"

    def __str__(self) -> str:
        return f"{self.status} at {self.at:%Y-%m-%d %H:%M:%S}"


class PageView(models.Model):
    """One page shown to a worker, with when it was shown and completed and what the browser said."""

    place = models.ForeignKey(WorkerPlace, on_delete=models.CASCADE, related_name="page_views")
    page = models.CharField(max_length=20, choices=Stage.choices)
    task = models.ForeignKey(Task, null=True, blank=True, on_delete=models.CASCADE, related_name="page_views")
    user_agent = models.CharField(max_length=500, blank=True)
    screen = models.CharField(max_length=30, blank=True, help_text="Screen resolution, e.g. 1920x1080.")
    window = models.CharField(max_length=30, blank=True, help_text="Window size, e.g. 1400x900.")
    shown_at = models.DateTimeField()
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["shown_at", "pk"]

    def __str__(self) -> str:
        return f"{self.page} at {self.shown_at:%Y-%m-%d %H:%M:%S}"


class Metadata(models.Model):
    """Anything else a page reported about the worker's browser (language, time zone), one row each."""

    place = models.ForeignKey(WorkerPlace, on_delete=models.CASCADE, related_name="metadata")
    name = models.CharField(max_length=50)
    value = models.CharField(max_length=500)
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "pk"]
        verbose_name_plural = "metadata"

    def __str__(self) -> str:
        return f"{self.name}={self.value}"


class QualificationResult(models.Model):
    """A worker's result in a named qualification test on one platform account ('ask if needed')."""

    account = models.ForeignKey(
        "platforms.PlatformAccount", on_delete=models.PROTECT, related_name="qualification_results"
    )
    name = models.CharField(max_length=100)
    worker_id = models.CharField(max_length=64)
    passed = models.BooleanField()
    score = models.FloatField()
    place = models.ForeignKey(WorkerPlace, null=True, on_delete=models.SET_NULL, related_name="+")
    at = models.DateTimeField()
    #: when a failure was recorded on the platform (the worker put on the study's exclusion list);
    #: None while it is still to do (`services.failed_tests_record` finishes it)
    recorded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-pk"]
        indexes = [models.Index(fields=["account", "name", "worker_id"])]

    def __str__(self) -> str:
        return f"{self.worker_id} {'passed' if self.passed else 'failed'} {self.name}"
