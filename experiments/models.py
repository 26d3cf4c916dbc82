"""Experiments: what a researcher publishes (an oTree study, or a batch of small questions)."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from crowdhr.ownership import OwnedQuerySet
from crowdhr.secrets import EncryptedTextField
from experiments.otree import OtreeClient
from hits.models import RejectionPolicy


class OtreeSite(models.Model):
    """A researcher's oTree server, reached through its REST API with its REST key."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="otree_sites")
    name = models.CharField(max_length=100)
    url = models.URLField(help_text="The server's address, e.g. https://my-study.herokuapp.com")
    rest_key = EncryptedTextField(blank=True, help_text="The server's OTREE_REST_KEY.")
    otree_version = models.CharField("oTree version", max_length=40, blank=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        verbose_name = "oTree site"
        unique_together = [("owner", "name")]

    def __str__(self) -> str:
        return self.name

    def client(self):
        """The REST client for this server (the only way crowdhr talks to it)."""

        return OtreeClient(self.url, self.rest_key or "")


class Experiment(models.Model):
    """A researcher's study or batch, with the HIT settings its HITs are posted with."""

    class Kind(models.TextChoices):
        OTREE = "otree", "oTree study"
        BATCH = "batch", "Batch of questions"
        HOSTED = "hosted", "Hosted tasks"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="experiments")
    account = models.ForeignKey(
        "platforms.PlatformAccount", on_delete=models.PROTECT, related_name="experiments"
    )
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=Kind.choices, default=Kind.BATCH)
    task_type = models.CharField(max_length=50, blank=True, help_text="How answers are judged (batches).")
    task_config = models.JSONField(default=dict, blank=True)
    # HIT settings
    title = models.CharField(max_length=128)
    description = models.TextField(max_length=2000)
    keywords = models.CharField(max_length=1000, blank=True)
    reward = models.DecimalField(
        max_digits=8,
        decimal_places=2,
        default=Decimal("0.50"),
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    duration_seconds = models.PositiveIntegerField(default=3600, validators=[MinValueValidator(30)])
    lifetime_seconds = models.PositiveIntegerField(
        default=7 * 24 * 3600, validators=[MinValueValidator(30), MaxValueValidator(365 * 24 * 3600)]
    )
    auto_approval_delay_seconds = models.PositiveIntegerField(default=3 * 24 * 3600)
    assignments_required = models.PositiveIntegerField(default=3, help_text="Workers per item.")
    agreements_required = models.PositiveIntegerField(default=2, help_text="Workers who must agree.")
    qualification_requirements = models.JSONField(default=list, blank=True)
    quality_threshold = models.IntegerField(
        default=0, help_text="Workers need a Quality Score above this to take the HITs (a ban sets 0)."
    )
    items_file = models.FileField(
        upload_to="batches/",
        blank=True,
        help_text="Batches: a CSV file, one item per row, columns as placeholders.",
    )
    on_rejection = models.CharField(
        max_length=10,
        choices=RejectionPolicy.choices,
        default=RejectionPolicy.PAY_ANYWAY,
        help_text=(
            "Pay anyway (the default): a rejected worker is still paid on the platform, and only their "
            "Quality Score drops. Reject on the platform: the worker is not paid and their approval "
            "rate there suffers."
        ),
    )
    # oTree studies
    otree_site = models.ForeignKey(
        OtreeSite,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="experiments",
        verbose_name="oTree site",
    )
    session_config_name = models.CharField(max_length=100, blank=True, help_text="oTree session config.")
    num_participants = models.PositiveIntegerField(
        null=True, blank=True, help_text="Participants in the oTree session."
    )
    session_config_fields = models.JSONField(
        default=dict, blank=True, help_text='Modified session config fields, e.g. {"participation_fee": 1}.'
    )
    assignments_to_post = models.PositiveIntegerField(
        null=True, blank=True, help_text="Assignments to post on MTurk (default: the number of participants)."
    )
    exclude_previous_participants = models.BooleanField(
        default=True, help_text="Workers who took part in this study cannot accept its HITs again."
    )
    reject_unfinished = models.BooleanField(
        default=False,
        help_text="Reject submissions of workers who did not finish in oTree (else a person decides).",
    )
    unfinished_feedback = models.TextField(
        blank=True,
        default="We could not find a finished session of yours in this study.",
        help_text="What a rejected worker reads.",
    )
    items_per_participant = models.PositiveIntegerField(
        default=5,
        validators=[MinValueValidator(1)],
        help_text="Batches on a platform without HTML forms (Prolific): items one participant answers.",
    )
    pay_bonuses_automatically = models.BooleanField(
        default=True, help_text="Pay each worker's oTree payoff as a bonus when the assignment is approved."
    )
    otree_session_code = models.CharField("oTree session code", max_length=64, blank=True, editable=False)
    otree_session_wide_url = models.URLField(
        "oTree session-wide link", max_length=500, blank=True, editable=False
    )
    otree_admin_url = models.URLField("oTree admin page", max_length=500, blank=True, editable=False)
    previous_participants_qualification_id = models.CharField(max_length=64, blank=True, editable=False)
    publishing_since = models.DateTimeField(null=True, blank=True, editable=False)
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    #: the platform's last count of work in progress on the study's live HITs, shared by every web
    #: process so a process starting on a busy study does not ask the platform again
    #: (`experiments.in_progress`)
    in_progress_count = models.PositiveIntegerField(null=True, blank=True, editable=False)
    in_progress_counted_at = models.DateTimeField(null=True, blank=True, editable=False)
    created = models.DateTimeField(auto_now_add=True)

    objects = OwnedQuerySet.as_manager()

    def __str__(self) -> str:
        return self.name

    @property
    def is_otree(self) -> bool:
        return self.kind == self.Kind.OTREE

    @property
    def assignments_wanted(self) -> int:
        """How many assignments publishing posts: the exact number asked for, else one per participant."""
        return self.assignments_to_post or self.num_participants or 0

    @property
    def outsourcer_target(self) -> str:
        return f"experiment:{self.pk}"


class ParticipantQuerySet(OwnedQuerySet["Participant"]):
    owner_path = "experiment__owner"


class Participant(models.Model):
    """A worker's one place in an oTree study: the same on every visit, labelled with the worker id."""

    # no index of its own: the unique (experiment, worker_id) index serves every lookup by study, and
    # a second index on the study alone is what PostgreSQL picks before ANALYZE to find one worker
    experiment = models.ForeignKey(
        Experiment, on_delete=models.PROTECT, related_name="participants", db_index=False
    )
    worker_id = models.CharField(max_length=64)
    assignment_id = models.CharField(max_length=64, blank=True, help_text="The latest assignment seen.")
    hit_id = models.CharField(max_length=64, blank=True)
    turk_submit_to = models.CharField(max_length=200, blank=True)
    verified = models.BooleanField(default=False, help_text="The platform confirmed the assignment's worker.")
    browser_key = models.CharField(
        max_length=64, blank=True, help_text="The key of the browser holding the place (experiments.places)."
    )
    claim_expires_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="An unconfirmed claim holds the place until then (the assignment's duration).",
    )
    excluded = models.BooleanField(default=False, help_text="Told to return the HIT; nothing is recorded.")
    excluded_reason = models.CharField(max_length=255, blank=True)
    payoff = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    landed_at = models.DateTimeField(null=True, blank=True)
    redirected_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(
        null=True, blank=True, help_text="oTree confirmed the worker finished."
    )
    submitted_at = models.DateTimeField(null=True, blank=True)

    objects = ParticipantQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["experiment", "worker_id"], name="one_participant_per_worker")
        ]

    def __str__(self) -> str:
        return f"{self.worker_id} in {self.experiment}"

    @property
    def label(self) -> str:
        """The oTree participant label: the worker id, so landing needs no oTree call."""
        return self.worker_id

    @property
    def is_done(self) -> bool:
        """Submitted work (or excluded): such a worker is asked to return any further HIT."""
        return self.excluded or self.submitted_at is not None


class Visit(models.Model):
    """One browser's stay on one assignment: its landing (straight into oTree), with what the browser
    told us (its user agent; the screen, reported from the done page)."""

    participant = models.ForeignKey(Participant, on_delete=models.CASCADE, related_name="visits")
    assignment_id = models.CharField(max_length=64)
    user_agent = models.CharField(max_length=500, blank=True)
    screen = models.CharField(max_length=30, blank=True, help_text="Screen resolution, e.g. 1920x1080.")
    landed_at = models.DateTimeField()
    redirected_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["landed_at", "pk"]

    def __str__(self) -> str:
        return f"{self.participant.worker_id} at {self.landed_at:%Y-%m-%d %H:%M:%S}"


class HostedAnswer(models.Model):
    """One item of a batch that one participant answers on crowdhr's own question pages.

    Batches on a platform without HTML forms (Prolific) are one study: each participant is allotted
    a set of items on landing (never the same item twice), answers them one page each, and review
    turns each answer into an Assignment on the item's Outsourcer (`assignment`), so consensus
    decides items exactly as on MTurk. `session_id` is the platform's id of the participant's
    attempt (Prolific's SESSION_ID, the submission).
    """

    experiment = models.ForeignKey(Experiment, on_delete=models.PROTECT, related_name="hosted_answers")
    outsourcer = models.ForeignKey("hits.Outsourcer", on_delete=models.PROTECT, related_name="hosted_answers")
    worker_id = models.CharField(max_length=64)
    session_id = models.CharField(max_length=64, db_index=True)
    study_id = models.CharField(max_length=64)
    position = models.PositiveIntegerField(help_text="The item's place in the participant's set.")
    answers = models.JSONField(null=True, blank=True)
    allotted_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True, blank=True)
    assignment = models.OneToOneField(
        "hits.Assignment", null=True, blank=True, on_delete=models.PROTECT, related_name="hosted_answer"
    )

    class Meta:
        ordering = ["session_id", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["outsourcer", "worker_id"], name="one_answer_per_item_and_worker"
            ),
            models.UniqueConstraint(fields=["session_id", "position"], name="one_item_per_place_in_set"),
        ]

    def __str__(self) -> str:
        return f"{self.worker_id} on {self.outsourcer_id}"


class PlatformHooks(models.Model):
    """Hooks a platform account sends to crowdhr: where, and the secret that signs them (encrypted)."""

    account = models.OneToOneField(
        "platforms.PlatformAccount", on_delete=models.CASCADE, related_name="hooks"
    )
    secret = EncryptedTextField()
    target_url = models.URLField(max_length=500)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "platform hooks"
        verbose_name_plural = "platform hooks"

    def __str__(self) -> str:
        return f"hooks of {self.account}"


class ReceivedHook(models.Model):
    """A hook delivery crowdhr accepted, kept for the freshness window so a replay is refused."""

    account = models.ForeignKey("platforms.PlatformAccount", on_delete=models.CASCADE, related_name="+")
    signature = models.CharField(max_length=128, unique=True)
    event_type = models.CharField(max_length=100)
    resource_id = models.CharField(max_length=64)
    received_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"{self.event_type} {self.resource_id}"
