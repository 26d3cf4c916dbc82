"""The experiment form: it follows the kind, and a batch's task type settings are a real form.

An oTree study shows its oTree section and review settings; a batch shows the batch section,
one settings section per task type (built from the task type registry, prefilled with the
type's example, so a researcher's own task type gets one too) and the raw settings as JSON
under "Advanced". Whatever is typed is checked by the task type's own `validate_config` on
save, and each problem is shown next to its field. Durations are typed in minutes, hours or
days; qualifications are chosen from the account's qualification types.
"""

from __future__ import annotations

import copy
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db.models import QuerySet

from crowdhr.admin_tools.fields import DurationInSeconds, preselect_single_choices
from experiments import services
from experiments.batches import check_template_fits, experiment_items, read_items
from experiments.models import Experiment, OtreeSite
from hits.models import RejectionPolicy
from hits.services import ServiceError
from hits.task_types import (
    ConfigError,
    SettingsForm,
    TaskType,
    check_config,
    task_type_choices,
    task_type_class,
)

Fieldset = tuple[str | None, dict[str, Any]]
OTREE_FIELDS = ("otree_site", "session_config_name", "num_participants")
JUDGED_BY_CONSENSUS = "consensus"
HIT_SETTINGS = (
    "HIT settings",
    {
        "fields": [
            "title",
            "description",
            "keywords",
            "reward",
            "duration_seconds",
            "lifetime_seconds",
            "auto_approval_delay_seconds",
            "qualification_requirements",
            "quality_threshold",
        ]
    },
)
OTREE_FIELDSETS: list[Fieldset] = [
    (None, {"fields": ["name", "kind", "account"]}),
    (
        "oTree study",
        {
            "fields": [
                "otree_site",
                "session_config_name",
                "num_participants",
                "session_config_fields",
                "assignments_to_post",
                "exclude_previous_participants",
            ]
        },
    ),
    HIT_SETTINGS,
    (
        "Review and pay",
        {
            "fields": [
                "reject_unfinished",
                "unfinished_feedback",
                "on_rejection",
                "pay_bonuses_automatically",
            ]
        },
    ),
    (
        "Published",
        {"fields": ["environment", "published_at", "otree_session_code", "otree_links", "landing_link"]},
    ),
]
BATCH_FIELDSETS: list[Fieldset] = [
    (None, {"fields": ["name", "kind", "account"]}),
    (
        "Batch of questions",
        {
            "fields": [
                "task_type",
                "items_file",
                "item_preview",
                "assignments_required",
                "agreements_required",
                "items_per_participant",
                "on_rejection",
            ]
        },
    ),
    # each task type's settings come here (`batch_fieldsets`)
    (
        "Advanced: the settings as JSON",
        {
            "classes": ["collapse"],
            "fields": ["task_config"],
            "description": "For experts. Edited here, the JSON replaces the settings above; it is "
            "checked the same way.",
        },
    ),
    HIT_SETTINGS,
    ("Published", {"fields": ["environment", "published_at"]}),
]
READONLY_FIELDS = [
    "environment",
    "published_at",
    "otree_session_code",
    "otree_links",
    "landing_link",
    "item_preview",
]


def batch_task_types() -> list[tuple[str, str]]:
    """The task types a batch can use: those judged by consensus (an oTree study decides by completion)."""
    return task_type_choices(decides_by=JUDGED_BY_CONSENSUS)


def settings_field_name(key: str, name: str) -> str:
    return f"{key}__{name}"


def settings_fieldset(key: str) -> tuple[str, dict[str, Any]]:
    """One task type's settings section, prefilled with its example; its help text describes it."""
    cls = task_type_class(key)
    names = [settings_field_name(key, name) for name in cls.settings_form_class().base_fields]
    return (
        f"Settings: {cls.label}",
        {
            "fields": names,
            "classes": ["task-settings", f"task-settings-{key}"],
            "description": cls.help_text or (cls.__doc__ or "").strip().split("\n")[0],
        },
    )


#: a hosted-tasks experiment: its tasks, test and pay are the study's (its own page, from a package)
HOSTED_FIELDSETS: list[Fieldset] = [
    (
        None,
        {
            "fields": ["name", "kind", "account"],
            "description": "Hosted tasks: the items, qualification test, training and pay per task are "
            "the hosted-tasks study's, on its own page (Hosted tasks > Hosted-tasks studies).",
        },
    ),
    HIT_SETTINGS,
]


def experiment_fieldsets(kind: str) -> list[Fieldset]:
    """The sections of the form for one kind of experiment: only the fields that apply to it."""
    if kind == Experiment.Kind.OTREE:
        return OTREE_FIELDSETS
    if kind == Experiment.Kind.HOSTED:
        return HOSTED_FIELDSETS
    settings = [settings_fieldset(key) for key, _ in batch_task_types()]
    return [*BATCH_FIELDSETS[:2], *settings, *BATCH_FIELDSETS[2:]]


def fold_other_task_types(fieldsets: list[Fieldset], task_type: str) -> list[Fieldset]:
    """The settings of task types other than `task_type` folded away (for pages without JavaScript)."""
    folded = []
    for title, options in fieldsets:
        classes = options.get("classes", [])
        if "task-settings" in classes and f"task-settings-{task_type}" not in classes:
            options = {**options, "classes": [*classes, "collapse"]}
        folded.append((title, options))
    return folded


def settings_fields() -> dict[str, forms.Field]:
    """Every task type's settings fields, named `<key>__<setting>`, none required by the page.

    Only the chosen type's fields are checked, by its own settings form (`ExperimentForm.clean`).
    """
    fields: dict[str, forms.Field] = {}
    for key, _ in batch_task_types():
        for name, field in task_type_class(key).settings_form_class().base_fields.items():
            page_field = copy.deepcopy(field)
            page_field.required = page_field.widget.is_required = False
            fields[settings_field_name(key, name)] = page_field
    return fields


def _settings_form(key: str, data: Any = None) -> SettingsForm:
    """The settings form of task type `key`, reading the experiment form's `<key>__<setting>` fields."""
    cls = task_type_class(key).settings_form_class()
    prefixed = type(cls.__name__, (cls,), {"add_prefix": lambda self, name: settings_field_name(key, name)})
    return prefixed(data=data, prefix=key)


class QualificationRequirementsField(forms.JSONField):
    """MTurk-style requirements as JSON (a list); checked for shape so publish cannot fail on it."""

    def clean(self, value: Any) -> Any:
        value = super().clean(value)
        if value in (None, ""):
            return []
        if not isinstance(value, list) or not all(isinstance(r, dict) for r in value):
            raise ValidationError('A list of requirements, e.g. [{"QualificationTypeId": "...", ...}].')
        for requirement in value:
            if not isinstance(requirement.get("QualificationTypeId"), str):
                raise ValidationError("Each requirement needs a QualificationTypeId.")
            if not isinstance(requirement.get("Comparator"), str):
                raise ValidationError("Each requirement needs a Comparator, e.g. GreaterThanOrEqualTo.")
        return value


class ExperimentForm(forms.ModelForm):
    """The session config is chosen from what the researcher's oTree site offers."""

    user = None  # set by ExperimentAdmin.get_form
    session_config_name = forms.ChoiceField(required=False, label="Session config")
    task_type = forms.ChoiceField(
        required=False,
        label="Task type",
        help_text="How each item is asked and when workers agree. Its settings follow below.",
    )
    duration_seconds = DurationInSeconds(
        label="Time allotted", min_seconds=30, max_seconds=7 * 24 * 3600, help_text="Per assignment."
    )
    lifetime_seconds = DurationInSeconds(
        label="Lifetime",
        min_seconds=30,
        max_seconds=365 * 24 * 3600,
        help_text="How long the HITs can be found and accepted.",
    )
    auto_approval_delay_seconds = DurationInSeconds(
        label="Auto-approval delay",
        max_seconds=30 * 24 * 3600,
        help_text="After this, the platform approves unreviewed work by itself.",
    )
    qualification_requirements = QualificationRequirementsField(
        required=False,
        initial=list,
        help_text="For experts: MTurk qualification requirements as JSON. The Quality Score requirement is "
        "added by itself.",
    )

    class Meta:
        model = Experiment
        fields: list[str] = []  # chosen per kind by ExperimentAdmin.get_fieldsets

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "session_config_name" in self.fields:
            self._offer_session_configs()
        if "task_type" in self.fields:
            self._offer_task_types()
        if "on_rejection" in self.fields:  # left out of a post: the model's default (pay anyway) or as it was
            self.fields["on_rejection"].required = False
        preselect_single_choices(self)

    # --- oTree studies -----------------------------------------------------------------------
    def _offer_session_configs(self) -> None:
        self.site_problems: dict[int, str] = {}
        self.configs: dict[int, set[str]] = {}
        choices: list[tuple[str, str]] = [("", "---------")]
        for site in self._sites():
            try:
                offered = services.session_config_names(site=site)
            except services.OtreeUnavailable as error:
                self.site_problems[site.pk] = str(error)
                continue
            self.configs[site.pk] = {name for name, _ in offered}
            choices += [(name, f"{label} ({site.name})") for name, label in offered]
        current = self.instance.session_config_name
        if current and current not in {value for value, _ in choices}:
            choices.append((current, current))
        field = self.fields["session_config_name"]
        field.choices = list(dict.fromkeys(choices))  # type: ignore[attr-defined]
        if self.site_problems:
            field.help_text = " ".join(self.site_problems.values())

    def _sites(self) -> QuerySet[OtreeSite]:
        if self.instance.otree_site_id:
            return OtreeSite.objects.filter(pk=self.instance.otree_site_id)
        return OtreeSite.objects.visible_to(self.user) if self.user else OtreeSite.objects.none()

    def _clean_otree(self, data: dict[str, Any]) -> None:
        for name in OTREE_FIELDS:
            if not data.get(name):
                self.add_error(name, "An oTree study needs this.")
        site, config = data.get("otree_site"), data.get("session_config_name")
        if site and config:
            if site.pk in self.site_problems:
                self.add_error("session_config_name", self.site_problems[site.pk])
            elif site.pk not in self.configs:
                self.add_error("session_config_name", f"Save once with {site} chosen to load its configs.")
            elif config not in self.configs[site.pk]:
                self.add_error("session_config_name", f"{site} has no session config {config!r}.")
        wanted, participants = data.get("assignments_to_post"), data.get("num_participants")
        if wanted and participants and wanted > participants:
            self.add_error("assignments_to_post", "Post at most one assignment per oTree participant.")

    # --- batches -------------------------------------------------------------------------------
    def _offer_task_types(self) -> None:
        field = self.fields["task_type"]
        field.choices = [("", "---------"), *batch_task_types()]  # type: ignore[attr-defined]
        current = self.instance.task_type or ("template_batch" if self.instance.pk else "")
        self.initial["task_type"] = current
        for key, _ in batch_task_types():
            cls = task_type_class(key)
            config = self.instance.task_config if key == current else cls.example
            for name in cls.settings_form_class().base_fields:
                if isinstance(config, dict) and name in config:
                    self.initial[settings_field_name(key, name)] = config[name]

    def _clean_batch(self, data: dict[str, Any]) -> None:
        key = data.get("task_type")
        self._forget_other_types_errors(key)
        if not key:
            self.add_error("task_type", "Choose how the items are asked and judged.")
            return
        config = self._config_of(key, data)
        if config is None:
            return
        try:
            task = check_config(key, config)
        except ConfigError as error:
            self._config_error(key, error)
            return
        data["task_config"] = config
        self._check_items(data, task)
        required, agreeing = data.get("assignments_required"), data.get("agreements_required")
        if required and agreeing and agreeing > required:
            self.add_error("agreements_required", "At most as many as the workers per item.")

    def _config_of(self, key: str, data: dict[str, Any]) -> dict[str, Any] | None:
        """The settings as JSON when an expert edited them, else from the type's settings form."""
        typed = data.get("task_config")
        self.config_from_json = "task_config" not in self.errors and typed != self.instance.task_config
        if self.config_from_json:
            return data.get("task_config")
        settings = _settings_form(key, self.data)
        if not settings.is_valid():
            for name, errors in settings.errors.items():
                self.add_error(settings_field_name(key, name) if name != "__all__" else None, errors)
            return None
        # Settings the form does not show (set as JSON before) are kept.
        kept = self.instance.task_config if self.instance.task_type == key else {}
        kept = {
            k: v for k, v in (kept or {}).items() if k not in settings.fields and k != "quality_threshold"
        }
        return {**kept, **settings.config()}

    def _config_error(self, key: str, error: ConfigError) -> None:
        field = settings_field_name(key, error.setting)
        if error.setting == "task_type":
            self.add_error("task_type", str(error))
        elif self.config_from_json:
            self.add_error("task_config", str(error))
        elif field in self.fields:
            self.add_error(field, str(error))
        else:
            self.add_error(None, str(error))

    def _forget_other_types_errors(self, key: str | None) -> None:
        """Unchosen task types' settings are not checked (the page sends them all)."""
        for name in list(self.errors):
            if "__" in name and not name.startswith(f"{key}__"):
                del self.errors[name]

    def _check_items(self, data: dict[str, Any], task: TaskType) -> None:
        """A new CSV must be readable; the template's placeholders must be among its columns."""
        upload = data.get("items_file")
        try:
            if isinstance(upload, UploadedFile):
                rows = read_items(upload.read())
                upload.seek(0)
            elif self.instance.items_file:
                rows = experiment_items(self.instance)
            else:
                return
            if task.key == "template_batch":
                check_template_fits(task.config, list(rows[0]))
        except ServiceError as error:
            self.add_error("items_file", str(error))
        except OSError:
            self.add_error("items_file", "The CSV file cannot be read; upload it again.")

    def clean_on_rejection(self) -> str:
        return self.cleaned_data.get("on_rejection") or RejectionPolicy.PAY_ANYWAY

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        kind = data.get("kind") or self.instance.kind
        if kind == Experiment.Kind.OTREE and "otree_site" in self.fields:
            self._clean_otree(data)
        elif kind == Experiment.Kind.BATCH and "task_type" in self.fields:
            self._clean_batch(data)
        return data
