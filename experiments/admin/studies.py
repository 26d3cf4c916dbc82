"""The researcher's admin for oTree sites and experiments: publish, add participants, expire, pay, message.

Every action and button calls `experiments.services` and ends with a count message; whatever spends
money or changes the platform shows a confirmation page first (see `crowdhr.admin_tools`). Researchers
see and choose only their own sites, accounts and experiments.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from crowdhr.admin_tools import (
    ObjectButtonsAdmin,
    OwnedAdmin,
    Summary,
    admin_url,
    button_for_action,
    confirmed_action,
    for_each,
    object_button,
)
from crowdhr.admin_tools.exports import csv_response, export_action, field_rows
from crowdhr.secrets import keep_blank_secrets
from experiments import batches, places, services
from experiments.admin.forms import (
    READONLY_FIELDS,
    ExperimentForm,
    experiment_fieldsets,
    fold_other_task_types,
    settings_fields,
)
from experiments.admin.preview import preview_frame, preview_page
from experiments.admin.scheduling import batch_cost, schedule_experiment_id, schedule_urls
from experiments.models import Experiment, OtreeSite, Participant
from hits.exports import results_rows
from hits.models import HIT, Payment
from hits.selectors import experiment_progress, hourly_wage, undecided_cost
from platforms import Capability
from platforms.admin import REFUSALS


# --- oTree sites -------------------------------------------------------------------------------
class OtreeSiteForm(forms.ModelForm[OtreeSite]):
    url = forms.URLField(
        assume_scheme="https",
        label="URL",
        help_text="The server's address, e.g. https://my-study.herokuapp.com",
    )

    class Meta:
        model = OtreeSite
        fields = ["name", "url", "rest_key"]

    def clean(self) -> dict[str, Any]:
        super().clean()
        data = self.cleaned_data
        keep_blank_secrets(self, ("rest_key",))
        if self.errors or not data.get("url"):
            return data
        try:
            self.instance.otree_version = services.otree_site_check(
                url=data["url"], rest_key=data.get("rest_key") or ""
            )
        except services.ServiceError as error:
            raise ValidationError(str(error)) from error
        return data


@admin.register(OtreeSite)
class OtreeSiteAdmin(OwnedAdmin):
    form = OtreeSiteForm
    list_display = ["name", "url", "otree_version", "created"]
    readonly_fields = ["otree_version"]
    search_fields = ["name", "url"]


# --- experiments: confirmations ------------------------------------------------------------------
def _otree(queryset: QuerySet[Experiment]) -> QuerySet[Experiment]:
    return queryset.filter(kind=Experiment.Kind.OTREE)


def publish_summary(modeladmin, request, experiments: QuerySet[Experiment]) -> Summary:
    lines, money, count, below_floor = [], Decimal("0.00"), 0, False
    for experiment in experiments.select_related("account"):
        if experiment.published_at and experiment.kind == Experiment.Kind.OTREE:
            lines.append(f"{experiment}: published already (skipped).")
            continue
        count += 1
        wage = hourly_wage(experiment_id=experiment.pk)
        lines.append(f"{experiment}: on rejection, {experiment.get_on_rejection_display().lower()}. {wage}")
        below_floor = below_floor or wage.below_floor
        if experiment.kind == Experiment.Kind.BATCH:
            line, batch_money = batch_cost(experiment)
            lines.append(line)
            money += batch_money
            continue
        cost = services.publish_cost(experiment=experiment)
        money += cost.total
        lines.append(
            f"{experiment}: an oTree session of {experiment.num_participants} participants, "
            f"{_places(experiment, cost)} at ${cost.reward} on {experiment.account} (${cost.rewards} "
            f"rewards + ${cost.fees} fees: {experiment.account.platform_type.label} charges {cost.fee_percent}; "
            f"+ ${cost.bonuses} in expected bonuses, fees included)."
        )
        if not cost.bonuses:
            lines.append(
                f"{experiment}: bonuses not estimated yet; state the most a participant can earn as "
                '"max_payoff" in the session config fields to include them.'
            )
    live = experiments.filter(account__environment="live").exists()
    warning = "Real money: a live platform account." if live else ""
    if below_floor:
        warning = f"{warning} Workers earn less than ${settings.MINIMUM_HOURLY_WAGE}/h so far.".strip()
    return Summary(
        "Publish experiments",
        count,
        noun="experiment",
        lines=lines,
        money=money,
        warning=warning,
        refuse="" if count else "Nothing to publish.",
    )


def _places(experiment: Experiment, cost: services.PublishCost) -> str:
    """MTurk posts micro-batches of HITs; Prolific one study with every place (its fee is per place)."""
    if len(cost.batches) == 1 and not experiment.account.supports(Capability.MICRO_BATCHES):
        return f"one study with {cost.assignments} places"
    return f"{cost.assignments} assignments as HITs of {' + '.join(map(str, cost.batches))}"


def _publishable(experiments: QuerySet[Experiment]) -> QuerySet[Experiment]:
    return experiments.filter(Q(published_at__isnull=True) | Q(kind=Experiment.Kind.BATCH))


@confirmed_action(description="Publish selected experiments", summarize=publish_summary)
def publish(modeladmin, request, experiments, data):
    def publish_one(experiment: Experiment) -> int:
        services.experiment_publish(experiment=experiment, by=request.user)
        return 1

    for_each(modeladmin, request, _publishable(experiments), "experiment(s) published", publish_one, REFUSALS)


class CountForm(forms.Form):
    count = forms.IntegerField(min_value=1, max_value=1000, label="More participants")


def add_participants_summary(modeladmin, request, experiments, data: dict | None = None) -> Summary:
    experiments = _otree(experiments).filter(published_at__isnull=False)
    if not data:
        return Summary(
            "Add participants",
            experiments.count(),
            noun="study",
            lines=[
                "New HITs of at most 9 assignments are posted; the oTree session must have unused places."
            ],
            refuse="" if experiments.exists() else "Only published oTree studies take more participants.",
        )
    lines, money = [], Decimal("0.00")
    for experiment in experiments:
        cost = services.publish_cost(experiment=experiment, assignments=data["count"])
        money += cost.total
        lines.append(f"{experiment}: {data['count']} more as HITs of {' + '.join(map(str, cost.batches))}.")
    return Summary("Add participants", experiments.count(), noun="study", lines=lines, money=money)


@confirmed_action(
    description="Add participants to selected studies",
    summarize=add_participants_summary,
    form_class=CountForm,
    review_input=True,
)
def add_participants(modeladmin, request, experiments, data):
    _each(
        modeladmin,
        request,
        _otree(experiments).filter(published_at__isnull=False),
        "HIT(s) posted",
        lambda e: len(
            services.experiment_add_participants(experiment=e, count=data["count"], by=request.user)
        ),
    )


def _live_hits(experiments) -> QuerySet[HIT]:
    return HIT.objects.filter(outsourcer__experiment__in=experiments, status=HIT.Status.LIVE)


class ExpirationForm(forms.Form):
    expire_at = forms.DateTimeField(
        label="New expiration", help_text="Date and time (UTC), e.g. 2026-12-01 18:00"
    )

    def clean_expire_at(self):
        value = self.cleaned_data["expire_at"]
        if value <= timezone.now():
            raise ValidationError("Choose a time in the future (use Expire HITs to stop now).")
        return value


def expiration_summary(modeladmin, request, experiments) -> Summary:
    hits = _live_hits(_otree(experiments)).count()
    return Summary(
        "Change expiration", hits, lines=["Every live HIT of the selected studies gets the new time."]
    )


@confirmed_action(
    description="Change expiration of selected studies' HITs",
    summarize=expiration_summary,
    form_class=ExpirationForm,
)
def change_expiration(modeladmin, request, experiments, data):
    _each(
        modeladmin,
        request,
        _otree(experiments).filter(published_at__isnull=False),
        "HIT(s) moved",
        lambda e: services.experiment_change_expiration(
            experiment=e, expire_at=data["expire_at"], by=request.user
        ),
    )


def expire_summary(modeladmin, request, experiments) -> Summary:
    hits = _live_hits(_otree(experiments)).filter(expired=False).count()
    return Summary("Expire HITs", hits, lines=["No new worker can accept; submitted work is still reviewed."])


@confirmed_action(description="Expire selected studies' HITs", summarize=expire_summary)
def expire_hits(modeladmin, request, experiments, data):
    _each(
        modeladmin,
        request,
        _otree(experiments).filter(published_at__isnull=False),
        "HIT(s) expired",
        lambda e: services.experiment_expire(experiment=e, by=request.user),
    )


def pay_bonuses_summary(modeladmin, request, experiments) -> Summary:
    lines, money, count, problems = [], Decimal("0.00"), 0, []
    for experiment in _otree(experiments).filter(published_at__isnull=False):
        try:
            due, currency = services.bonuses_due(experiment=experiment)
        except services.ServiceError as error:
            problems.append(f"{experiment}: {error}")
            continue
        if currency != services.BONUS_CURRENCY:
            problems.append(f"{experiment}: the oTree session pays in {currency}; crowdhr pays USD only.")
            continue
        for bonus in due:
            if bonus.already_paid:
                lines.append(f"{experiment}: {bonus.worker_id} ${bonus.amount} (paid already, skipped)")
                continue
            count += 1
            money += bonus.amount + bonus.fee
            lines.append(f"{experiment}: {bonus.worker_id} ${bonus.amount} + ${bonus.fee} fee")
    return Summary(
        "Pay bonuses",
        count,
        noun="bonus",
        lines=lines,
        money=money,
        warning=" ".join(problems),
        refuse="" if count else "No unpaid payoff to pay. " + " ".join(problems),
    )


@confirmed_action(description="Pay oTree payoffs as bonuses", summarize=pay_bonuses_summary)
def pay_bonuses(modeladmin, request, experiments, data):
    _each(
        modeladmin,
        request,
        _otree(experiments).filter(published_at__isnull=False),
        "bonus(es) paid",
        lambda e: len(services.experiment_pay_bonuses(experiment=e, by=request.user)),
    )


class MessageForm(forms.Form):
    subject = forms.CharField(max_length=200)
    body = forms.CharField(widget=forms.Textarea, max_length=4096, label="Message")


def message_summary(modeladmin, request, experiments) -> Summary:
    studies = list(_otree(experiments).select_related("account"))
    workers = sum(len(services.study_workers(e)) for e in studies)
    platforms = sorted({e.account.platform_type.label for e in studies})
    return Summary(
        "Message workers",
        workers,
        noun="worker",
        lines=[f"Everyone who took part, through {' and '.join(platforms) or 'their platform'}."],
    )


@confirmed_action(
    description="Message the workers of selected studies", summarize=message_summary, form_class=MessageForm
)
def message_workers(modeladmin, request, experiments, data):
    _each(
        modeladmin,
        request,
        _otree(experiments),
        "message(s) sent",
        lambda e: len(
            services.experiment_message_workers(
                experiment=e, subject=data["subject"], body=data["body"], by=request.user
            )
        ),
    )


class ExcludeForm(forms.Form):
    worker_id = forms.RegexField(regex=r"^[A-Z0-9]{1,64}$", label="Worker id")
    reason = forms.CharField(max_length=255, required=False)


def exclude_summary(modeladmin, request, experiments) -> Summary:
    return Summary(
        "Exclude a worker",
        _otree(experiments).count(),
        noun="study",
        lines=["The worker is asked to return the study's HITs; nothing more is recorded for them."],
    )


@confirmed_action(
    description="Exclude a worker from selected studies", summarize=exclude_summary, form_class=ExcludeForm
)
def exclude_worker(modeladmin, request, experiments, data):
    _each(
        modeladmin,
        request,
        _otree(experiments),
        "study(ies) exclude the worker",
        lambda e: bool(
            services.participant_exclude(
                experiment=e, worker_id=data["worker_id"], reason=data["reason"], by=request.user
            )
        ),
    )


def forced_import_summary(modeladmin, request, experiments) -> Summary:
    lines, money = [], Decimal("0.00")
    batches_ = experiments.filter(kind=Experiment.Kind.BATCH, published_at__isnull=False)
    for experiment in batches_.select_related("account"):
        line, cost = batch_cost(experiment, every_item=True)
        open_hits = HIT.objects.filter(outsourcer__experiment=experiment, outsourcer__active=True)
        approvals = undecided_cost(open_hits)
        lines.append(line)
        lines.append(
            f"{experiment}: {experiment.outsourcers.filter(active=True).count()} open Outsourcers are "
            f"deactivated, their HITs expired and their unreviewed assignments approved (${approvals})."
        )
        money += cost + approvals
    return Summary(
        "Forced import",
        batches_.count(),
        noun="batch",
        lines=lines,
        money=money,
        warning="Use it after changing the items or the instructions: every item is posted anew.",
        refuse="" if batches_.exists() else "Only a published batch can be imported again.",
    )


@confirmed_action(description="Forced import of selected batches", summarize=forced_import_summary)
def forced_import(modeladmin, request, experiments, data):
    _each(
        modeladmin,
        request,
        experiments.filter(kind=Experiment.Kind.BATCH, published_at__isnull=False),
        "item(s) posted anew",
        lambda e: len(batches.batch_publish(experiment=e, by=request.user, forced=True)),
    )


def _each(modeladmin, request, experiments, what: str, run) -> None:
    for_each(modeladmin, request, experiments, what, run, REFUSALS)


# --- experiments: the admin ------------------------------------------------------------------------
class ParticipantInline(admin.TabularInline):
    model = Participant
    extra = 0
    can_delete = False
    fields = (
        "worker_id",
        "assignment_id",
        "landed_at",
        "redirected_at",
        "completed_at",
        "submitted_at",
        "payoff",
        "excluded",
        "visits",
    )
    readonly_fields = fields
    verbose_name_plural = "Participants (one place per worker)"

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="Visits (screen, browser)")
    def visits(self, participant: Participant) -> str:
        return "; ".join(
            f"{v.landed_at:%m-%d %H:%M} {v.screen or '?'} {v.user_agent[:40]}"
            for v in participant.visits.all()[:5]
        )


class BonusInline(admin.TabularInline):
    model = Payment
    extra = 0
    can_delete = False
    fields = ("worker", "amount", "fee", "status", "done_at", "created", "triggered_by", "reason")
    readonly_fields = fields
    verbose_name_plural = "Bonuses paid (who, when, how much)"

    def get_queryset(self, request):
        return super().get_queryset(request).filter(kind=Payment.Kind.BONUS).select_related("worker")

    def has_add_permission(self, request, obj=None) -> bool:
        return False


PARTICIPANT_FIELDS = [
    "id", "experiment__name", "worker_id", "assignment_id", "hit_id", "verified", "excluded", "excluded_reason",
    "payoff", "landed_at", "redirected_at", "completed_at", "submitted_at",
]  # fmt: skip
EXPERIMENT_FIELDS = [
    "id", "name", "kind", "account__name", "task_type", "title", "reward", "assignments_required",
    "agreements_required", "on_rejection", "session_config_name", "num_participants", "otree_session_code",
    "published_at", "created",
]  # fmt: skip


@admin.register(Participant)
class ParticipantAdmin(OwnedAdmin):
    """Everyone who took a place in an oTree study (read-only; places are given on the landing page)."""

    list_display = [
        "worker_id",
        "experiment",
        "landed_at",
        "completed_at",
        "submitted_at",
        "payoff",
        "excluded",
    ]
    list_filter = [("experiment", admin.RelatedOnlyFieldListFilter), "excluded", "landed_at"]
    list_select_related = ["experiment"]
    search_fields = ["worker_id", "assignment_id"]
    show_full_result_count = False
    actions = [
        export_action(
            "participants.csv", field_rows(PARTICIPANT_FIELDS), "Download selected participants as CSV"
        )
    ]

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in Participant._meta.concrete_fields if f.name != "id"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Experiment)
class ExperimentAdmin(ObjectButtonsAdmin, OwnedAdmin):
    form = ExperimentForm
    list_display = ["name", "kind", "account", "environment", "published_at", "participants_count", "bonuses"]
    list_filter = ["kind", "published_at"]
    search_fields = ["name", "title"]
    readonly_fields = READONLY_FIELDS
    inlines = [ParticipantInline, BonusInline]
    actions = [
        publish,
        add_participants,
        change_expiration,
        expire_hits,
        pay_bonuses,
        message_workers,
        exclude_worker,
        forced_import,
        export_action(
            "experiments.csv", field_rows(EXPERIMENT_FIELDS), "Download selected experiments as CSV"
        ),
    ]
    #: the buttons of a published oTree study
    study_buttons = [
        "add_participants_button",
        "change_expiration_button",
        "expire_button",
        "pay_bonuses_button",
        "message_button",
        "exclude_button",
    ]
    #: the pages every experiment links to
    page_buttons = ["progress_button", "results_button", "schedule_button"]
    object_buttons = [
        "preview_button",
        "publish_button",
        *study_buttons,
        "forced_import_button",
        *page_buttons,
    ]
    publish_button = button_for_action(publish, name="publish_button", label="Publish")
    add_participants_button = button_for_action(
        add_participants, name="add_participants_button", label="Add participants"
    )
    change_expiration_button = button_for_action(
        change_expiration, name="change_expiration_button", label="Change expiration"
    )
    expire_button = button_for_action(expire_hits, name="expire_button", label="Expire HITs")
    pay_bonuses_button = button_for_action(pay_bonuses, name="pay_bonuses_button", label="Pay bonuses")
    message_button = button_for_action(message_workers, name="message_button", label="Message workers")
    exclude_button = button_for_action(exclude_worker, name="exclude_button", label="Exclude a worker")
    forced_import_button = button_for_action(
        forced_import, name="forced_import_button", label="Forced import"
    )
    change_form_template = "admin/experiments/experiment/change_form.html"

    class Media:
        js = ["admin_crowdhr/experiment_form.js"]

    # --- the form follows the kind -------------------------------------------------------------
    def kind_of(self, request: HttpRequest, obj: Experiment | None) -> str:
        """The experiment's kind; on the add page the one chosen first (?kind=), else none yet."""
        if obj is not None:
            return obj.kind
        kind = request.POST.get("kind") or request.GET.get("kind") or ""
        return kind if kind in Experiment.Kind.values else ""

    def add_view(self, request: HttpRequest, form_url: str = "", extra_context: dict | None = None):
        """First the kind (an oTree study or a batch of questions), then the form for that kind."""
        if request.method == "GET" and not self.kind_of(request, None):
            context = {
                **self.admin_site.each_context(request),
                "title": "Add experiment: what do you want to run?",
                "opts": self.model._meta,
                "kinds": Experiment.Kind.choices,
            }
            return TemplateResponse(request, "admin/experiments/experiment/choose_kind.html", context)
        if self.kind_of(request, None) == Experiment.Kind.HOSTED:  # a package, uploaded on its own page
            return HttpResponseRedirect(reverse("admin:workflow_hostedstudy_add"))
        return super().add_view(request, form_url, extra_context)

    def get_fieldsets(self, request: HttpRequest, obj: Experiment | None = None):
        kind = self.kind_of(request, obj) or Experiment.Kind.BATCH
        fieldsets = experiment_fieldsets(kind)
        if obj is not None and obj.task_type:
            fieldsets = fold_other_task_types(fieldsets, obj.task_type)
        if obj is None:
            other = next(
                value for value in Experiment.Kind.values if value not in (kind, Experiment.Kind.HOSTED)
            )
            label = Experiment.Kind(kind).label
            first = {
                **fieldsets[0][1],
                "description": f'<strong>{label}</strong> · <a href="?kind={other}" id="other-kind">'
                f"add a{'n' if other == 'otree' else ''} {Experiment.Kind(other).label} instead</a>",
            }
            fieldsets = [(None, first), *fieldsets[1:]]
        return fieldsets

    def get_inlines(self, request: HttpRequest, obj: Experiment | None):
        return self.inlines if self.kind_of(request, obj) == Experiment.Kind.OTREE else []

    def get_form(self, request: HttpRequest, obj=None, change=False, **kwargs: Any):
        base = type(self.form.__name__, (self.form,), {"user": request.user, **settings_fields()})
        form = super().get_form(request, obj, change=change, **{"form": base, **kwargs})
        if "kind" in form.base_fields:
            form.base_fields["kind"].widget = forms.HiddenInput()
        return form

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {**super().get_changeform_initial_data(request), "kind": self.kind_of(request, None)}

    def get_readonly_fields(self, request: HttpRequest, obj: Experiment | None = None):
        fixed = [
            "account",
            "otree_site",
            "session_config_name",
            "num_participants",
            "session_config_fields",
        ]
        return [
            *self.readonly_fields,
            *(["kind"] if obj else []),
            *(fixed if obj and obj.published_at else []),
        ]

    def get_object_buttons(self, request: HttpRequest, obj: Experiment):
        if obj.kind != Experiment.Kind.OTREE or not obj.published_at:
            names = ["preview_button", "publish_button"]
        else:
            names = ["preview_button", *self.study_buttons]
        if obj.kind == Experiment.Kind.BATCH and obj.published_at:
            names.append("forced_import_button")
        names += self.page_buttons
        return [getattr(self, name).object_button for name in names]

    def get_urls(self):
        return schedule_urls(self) + super().get_urls()

    def change_view(self, request, object_id, form_url="", extra_context=None):
        experiment = self.get_queryset(request).filter(pk=object_id).first() if object_id.isdigit() else None
        links = experiment_links(self, experiment) if experiment is not None else []
        return super().change_view(request, object_id, form_url, {**(extra_context or {}), "links": links})

    @object_button(label="Progress", methods=("GET",))
    def progress_button(self, request: HttpRequest, experiment: Experiment, data: dict) -> TemplateResponse:
        """How the work stands, as MTurk's "Batches in progress" shows a batch."""
        context = {
            **self.admin_site.each_context(request),
            "title": f"Progress of {experiment}",
            "opts": self.model._meta,
            "original": experiment,
            "progress": experiment_progress(experiment_id=experiment.pk),
            "participants": experiment.participants.count() if experiment.is_otree else None,
            "links": experiment_links(self, experiment),
        }
        return TemplateResponse(request, "admin/experiments/experiment/progress.html", context)

    @object_button(label="Download results", methods=("GET",))
    def results_button(self, request: HttpRequest, experiment: Experiment, data: dict) -> HttpResponseBase:
        """Each item's inputs, every worker's answers and the agreed answer (MTurk's "Download results")."""
        outsourcers = experiment.outsourcers.exclude(target=experiment.outsourcer_target)
        if experiment.is_otree:
            outsourcers = experiment.outsourcers.all()
        return csv_response(f"results-{experiment.pk}.csv", results_rows(outsourcers))

    @object_button(label="Schedule publishing", methods=("GET",))
    def schedule_button(self, request: HttpRequest, experiment: Experiment, data: dict) -> HttpResponse:
        return HttpResponseRedirect(f"{admin_url(self, 'schedule')}?experiment={experiment.pk}")

    @object_button(label="Preview", methods=("GET",))
    def preview_button(self, request: HttpRequest, experiment: Experiment, data: dict) -> TemplateResponse:
        """What a worker will see: the question form of the first item, or the study's landing page."""
        return preview_page(self, request, experiment)

    @admin.display(description="What a worker sees")
    def item_preview(self, experiment: Experiment) -> str:
        if not experiment.pk:
            return "Save to see the first item as a worker sees it."
        return preview_frame(experiment)

    @admin.display(description="Sandbox or live")
    def environment(self, experiment: Experiment) -> str:
        return experiment.account.get_environment_display() if experiment.account_id else "-"

    @admin.display(description="Participants")
    def participants_count(self, experiment: Experiment) -> int:
        return experiment.participants.count()

    @admin.display(description="Bonuses paid")
    def bonuses(self, experiment: Experiment) -> str:
        paid = experiment.payments.filter(kind=Payment.Kind.BONUS, status=Payment.Status.DONE)
        return f"${sum((p.amount for p in paid), Decimal('0.00'))}"

    @admin.display(description="oTree")
    def otree_links(self, experiment: Experiment) -> str:
        if not experiment.otree_session_wide_url:
            return "-"
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">session admin</a> · session-wide link: {}',
            experiment.otree_admin_url,
            experiment.otree_session_wide_url,
        )

    @admin.display(description="HIT landing page")
    def landing_link(self, experiment: Experiment) -> str:
        if not (experiment.pk and experiment.is_otree):
            return "-"
        # the reserve that keeps real workers from being turned away while forged claims hold places
        spare = places.spare_places(experiment)
        return (
            f"{services.landing_url(experiment)} · {spare} spare place{'' if spare == 1 else 's'} in reserve"
        )


def experiment_links(modeladmin: admin.ModelAdmin, experiment: Experiment) -> list[tuple[str, str, str]]:
    """Where the Experiment's work is: (label, count, url) for each related page."""
    site = modeladmin.admin_site.name
    pk = experiment.pk

    def changelist(model: str, query: str) -> str:
        return f"{reverse(f'{site}:{model}_changelist')}?{query}"

    schedules = [t for t in services.publish_schedules(experiment.owner) if schedule_experiment_id(t) == pk]
    return [
        ("Progress", "", modeladmin.button_url(experiment, "progress_button")),  # type: ignore[attr-defined]
        (
            "Outsourcers",
            str(experiment.outsourcers.count()),
            changelist("hits_outsourcer", f"experiment={pk}"),
        ),
        (
            "HITs",
            str(HIT.objects.filter(outsourcer__experiment=experiment).count()),
            changelist("hits_hit", f"experiment={pk}"),
        ),
        ("Assignments", "", changelist("hits_assignment", f"experiment={pk}")),
        (
            "Participants",
            str(experiment.participants.count()),
            changelist("experiments_participant", f"experiment__id__exact={pk}"),
        ),
        (
            "Payments",
            str(experiment.payments.count()),
            changelist("hits_payment", f"experiment__id__exact={pk}"),
        ),
        ("Schedules", str(len(schedules)), f"{admin_url(modeladmin, 'schedule')}?experiment={pk}"),
        ("Results (CSV)", "", modeladmin.button_url(experiment, "results_button")),  # type: ignore[attr-defined]
    ]
