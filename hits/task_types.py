"""The registry of task kinds: the contract a researcher implements for a kind of work.

A task type says how a HIT looks (`create_hit_content`), how a worker's answers are read
(`add_answers_to_assignment_dict`), when two workers agree (`assignments_agree`) and what to
do with the agreed answer (`process_answer`). Task types that decide by completion instead of
consensus (oTree studies) set `decides_by = "completion"` and implement `judge`.

Every HIT also asks the worker whether they were confused and for comments; the base class
adds those questions and reads them back in `create_assignment_dict`.

A task type also describes its settings for the researcher: `settings_form` (a `SettingsForm`
whose cleaned data is the config; without one, a form is built from `example`), `help_text`,
a ready-made `example` config and `example_inputs` (one item, for the preview). `validate_config`
raises `ConfigError`, naming the setting at fault, and `check_config` turns anything a config
could raise into one, so a bad setting is a form error and never a crash at publish time.
"""

from __future__ import annotations

import html
import math
import re
import string
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, ClassVar

from django import forms

from hits.consensus import Group
from platforms import Destination, HtmlForm

AssignmentDict = dict[str, Any]
CONFUSED_FIELD = "confused"
COMMENTS_FIELD = "comments"

_registry: dict[str, type[TaskType]] = {}


def register(key: str) -> Callable[[type[TaskType]], type[TaskType]]:
    """Class decorator: make a task type available under `key`."""

    def add(cls: type[TaskType]) -> type[TaskType]:
        cls.key = key
        _registry[key] = cls
        return cls

    return add


def get_task_type(key: str, config: dict[str, Any] | None = None) -> TaskType:
    """An instance of the registered task type, configured for one Outsourcer or Experiment."""
    try:
        cls = _registry[key]
    except KeyError as error:
        raise ValueError(f"unknown task type {key!r}") from error
    return cls(config or {})


def task_type_choices(decides_by: str | None = None) -> list[tuple[str, str]]:
    """(key, label) of every registered task type, or of those deciding by `decides_by` only."""
    return [
        (key, cls.label)
        for key, cls in sorted(_registry.items())
        if decides_by is None or cls.decides_by == decides_by
    ]


def task_type_class(key: str) -> type[TaskType]:
    try:
        return _registry[key]
    except KeyError as error:
        raise ConfigError(f"There is no task type {key!r}.", setting="task_type") from error


def scores_decisions(key: str) -> bool:
    """Whether deciding work of the task type `key` changes the worker's scores (unknown: yes)."""
    cls = _registry.get(key)
    return cls is None or cls.scores_decisions


def has_follow_ups(key: str) -> bool:
    """Whether deciding work of the task type `key` owes follow-ups (`hits.followups`): its class
    does something after a decision (unknown: yes, so nothing owed is ever skipped)."""
    cls = _registry.get(key)
    hooks = (
        "perform_additional_approval_tasks",
        "perform_additional_rejection_tasks",
        "perform_additional_tasks",
    )
    return cls is None or any(getattr(cls, hook) is not getattr(TaskType, hook) for hook in hooks)


class ConfigError(ValueError):
    """A researcher's settings cannot work; `setting` names the config key at fault, if one is."""

    def __init__(self, message: str, setting: str = "") -> None:
        super().__init__(message)
        self.setting = setting


def check_config(key: str, config: Any) -> TaskType:
    """The configured task type, or ConfigError: whatever a researcher typed, nothing else is raised."""
    cls = task_type_class(key)
    if not isinstance(config, dict):
        raise ConfigError('The settings must be a JSON object, e.g. {"question": "..."}.')
    try:
        return cls(config)
    except ConfigError:
        raise
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise ConfigError(str(error) or f"These settings do not work for {cls.label}.") from error


# --- the settings of a task type as a form ----------------------------------------------------
class ListField(forms.CharField):
    """A list of texts, edited one per line."""

    widget = forms.Textarea(attrs={"rows": 4})

    def prepare_value(self, value: Any) -> Any:
        return "\n".join(map(str, value)) if isinstance(value, list) else value

    def to_python(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().to_python(value) or ""
        return [line.strip() for line in text.splitlines() if line.strip()]


class SettingsForm(forms.Form):
    """The settings of one task type; its cleaned data (blank values left out) is the config."""

    def config(self) -> dict[str, Any]:
        return {name: value for name, value in self.cleaned_data.items() if value not in (None, "", [])}


def settings_form_from_example(example: dict[str, Any]) -> type[SettingsForm]:
    """A form for a task type that declares none: one field per key of its example config."""
    fields: dict[str, forms.Field] = {}
    for name, value in example.items():
        if isinstance(value, bool):
            fields[name] = forms.BooleanField(required=False)
        elif isinstance(value, int | float):
            fields[name] = forms.FloatField(required=False)
        elif isinstance(value, list):
            fields[name] = ListField(required=False, help_text="One per line.")
        elif isinstance(value, dict):
            fields[name] = forms.JSONField(required=False)
        else:
            fields[name] = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}))
    return type("ExampleSettingsForm", (SettingsForm,), fields)


@dataclass
class HitContent:
    """What `create_hit_content` returns: everything a HIT is posted with.

    `destination` is where the worker goes: `ExternalPage(url)` or this task's `HtmlForm`; each
    platform turns it into its own format (MTurk: ExternalQuestion / HTMLQuestion XML).
    """

    title: str
    description: str
    reward: Decimal
    destination: Destination
    duration_seconds: int = 3600
    auto_approval_delay_seconds: int = 3 * 24 * 3600
    lifetime_seconds: int = 7 * 24 * 3600
    keywords: str = ""


@dataclass
class Judgement:
    """A completion task type's verdict on one assignment."""

    verdict: str  # "approve", "reject", "review", or "wait" (ask again next cycle)
    feedback: str = ""
    problem: str = ""


class TaskType:
    """Base class of every task type. Override the methods marked 'required'."""

    key: ClassVar[str] = ""
    label: ClassVar[str] = ""
    decides_by: ClassVar[str] = "consensus"  # or "completion"
    #: whether a decision changes the worker's scores; False for work whose parts were scored
    #: already (a hosted batch's submission: its items are)
    scores_decisions: ClassVar[bool] = True
    answer_fields: ClassVar[tuple[str, ...]] = ("answer",)
    help_text: ClassVar[str] = ""
    example: ClassVar[dict[str, Any]] = {}
    example_inputs: ClassVar[dict[str, Any]] = {}
    settings_form: ClassVar[type[SettingsForm] | None] = None

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.validate_config()

    def validate_config(self) -> None:
        """Raise ConfigError (a ValueError) when the researcher's settings cannot work."""

    @classmethod
    def settings_form_class(cls) -> type[SettingsForm]:
        """The form of this type's settings: `settings_form`, else one built from `example`."""
        return cls.settings_form or settings_form_from_example(cls.example)

    # --- the HIT ---------------------------------------------------------------------------
    def create_hit_content(self, inputs: dict[str, Any], settings: dict[str, Any]) -> HitContent:
        """Required: title, description, reward and question for one item."""
        raise NotImplementedError

    def question_html(self, inputs: dict[str, Any]) -> str:
        """The body of the form for one item (the confused/comments questions are added)."""
        raise NotImplementedError

    def html_form(self, inputs: dict[str, Any]) -> HtmlForm:
        """The form the worker answers: this item's questions plus the confused and comments ones."""
        return HtmlForm(self.question_html(inputs) + feedback_questions_html())

    # --- reading answers ---------------------------------------------------------------
    def create_assignment_dict(self, assignment: Any) -> AssignmentDict:
        """The plain dict review works on: ids, times, the confused/comments answers, and answers."""
        raw = assignment.answers or {}
        assignment_dict: AssignmentDict = {
            "assignment": assignment,
            "assignment_id": assignment.assignment_id,
            "worker_id": assignment.worker.worker_id,
            CONFUSED_FIELD: raw.get(CONFUSED_FIELD, "").strip().lower() in {"yes", "on", "true", "1"},
            COMMENTS_FIELD: raw.get(COMMENTS_FIELD, "").strip(),
        }
        self.add_answers_to_assignment_dict(assignment_dict, raw)
        return assignment_dict

    def add_answers_to_assignment_dict(
        self, assignment_dict: AssignmentDict, raw_answers: dict[str, str]
    ) -> None:
        """Required: copy this task's answers from the raw form fields into the dict."""
        for name in self.answer_fields:
            assignment_dict[name] = raw_answers.get(name, "").strip()

    def answer_of(self, assignment_dict: AssignmentDict) -> dict[str, Any]:
        """The part of an assignment dict that is the answer (what is saved as data)."""
        return {name: assignment_dict.get(name) for name in self.answer_fields}

    # --- consensus ---------------------------------------------------------------------
    def assignments_agree(self, a: AssignmentDict, b: AssignmentDict) -> bool:
        """Required: do two workers' answers agree?"""
        raise NotImplementedError

    def answer_is_valid(self, answer: AssignmentDict, num_agreements: int) -> bool:
        """Is the agreed answer usable? An invalid one goes to human review."""
        return True

    def invalid_answer_problem(self, answer: AssignmentDict) -> str:
        return f"The workers agreed on an answer that is not valid: {self.describe_answer(answer)}"

    def secondary_majority_check(self, groups: list[Group[AssignmentDict]]) -> Group[AssignmentDict] | None:
        """A second chance when no group reached the agreements required. Default: none."""
        return None

    def process_answer(self, answer: AssignmentDict) -> None:
        """What to do with the agreed answer beyond saving it on the Outsourcer. Default: nothing.

        Runs at least once per agreement (again after a crash), so it must be safe to repeat.
        """

    def describe_answer(self, assignment_dict: AssignmentDict) -> str:
        return ", ".join(f"{v}" for v in self.answer_of(assignment_dict).values())

    def create_feedback_message(
        self, assignment_dict: AssignmentDict, answer: AssignmentDict | None = None, reject: bool = False
    ) -> str:
        if not reject:
            return "Thank you!"
        if answer is not None:
            return (
                "Your answer did not agree with the other workers. "
                f"You answered: {self.describe_answer(assignment_dict) or '(nothing)'}; "
                f"the agreed answer was: {self.describe_answer(answer)}."
            )
        return "Your answer did not agree with the answer the other workers agreed on."

    # --- completion ----------------------------------------------------------------------
    def judge(self, assignment_dict: AssignmentDict) -> Judgement:
        """Completion task types: approve, reject, send one assignment to review, or wait."""
        raise NotImplementedError

    # --- hooks and links -------------------------------------------------------------------
    def data_url(self, inputs: dict[str, Any]) -> str:
        """Where the researcher sees what the workers looked at (for checking answers by hand)."""
        return str(inputs.get("url", "")) if isinstance(inputs, dict) else ""

    def perform_additional_approval_tasks(self, assignment_dict: AssignmentDict) -> None:
        self.perform_additional_tasks(assignment_dict)

    def perform_additional_rejection_tasks(self, assignment_dict: AssignmentDict) -> None:
        self.perform_additional_tasks(assignment_dict)

    def perform_additional_tasks(self, assignment_dict: AssignmentDict) -> None:
        """Runs after both approvals and rejections. Default: nothing."""

    # --- shared helpers --------------------------------------------------------------------
    def standard_content(self, inputs: dict[str, Any], settings: dict[str, Any]) -> HitContent:
        """HIT content from the experiment's HIT settings and this type's HTML form."""
        return HitContent(
            title=settings["title"],
            description=settings["description"],
            reward=Decimal(str(settings["reward"])),
            destination=self.html_form(inputs),
            duration_seconds=settings.get("duration_seconds", 3600),
            auto_approval_delay_seconds=settings.get("auto_approval_delay_seconds", 3 * 24 * 3600),
            lifetime_seconds=settings.get("lifetime_seconds", 7 * 24 * 3600),
            keywords=settings.get("keywords", ""),
        )


# --- HTML for the form every HIT shows -------------------------------------------------------
def feedback_questions_html() -> str:
    return (
        "<fieldset><legend>Before you submit</legend>"
        f'<label><input type="checkbox" name="{CONFUSED_FIELD}" value="yes"> '
        "These instructions confused me</label>"
        f'<label>Comments (optional)<textarea name="{COMMENTS_FIELD}" rows="3"></textarea></label>'
        "</fieldset>"
    )


def normalise_text(value: Any) -> str:
    """Case and white space do not matter when comparing free text."""
    return " ".join(str(value or "").split()).casefold()


def _escaped(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _question(config: dict[str, Any]) -> None:
    if not isinstance(config.get("question", ""), str):
        raise ConfigError("The question must be text.", setting="question")


def _number(config: dict[str, Any], name: str, what: str) -> float | None:
    value = config.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ConfigError(f"The {what} must be a number.", setting=name)
    try:
        number = float(value)
    except ValueError as error:
        raise ConfigError(f"The {what} must be a number.", setting=name) from error
    if not math.isfinite(number):
        raise ConfigError(f"The {what} must be a finite number.", setting=name)
    return number


class QuestionForm(SettingsForm):
    question = forms.CharField(
        required=False,
        max_length=1000,
        help_text="Shown above each item, e.g. 'Is this review positive?'.",
    )


class ChoiceSettings(QuestionForm):
    choices = ListField(help_text="One choice per line; at least two.")


class NumberSettings(QuestionForm):
    tolerance = forms.FloatField(
        min_value=0, initial=0, help_text="How far apart two agreeing numbers may be, e.g. 0.5."
    )
    min = forms.FloatField(required=False, label="Lowest valid answer")
    max = forms.FloatField(required=False, label="Highest valid answer")

    def config(self) -> dict[str, Any]:
        return {**super().config(), "tolerance": self.cleaned_data["tolerance"]}


class TemplateSettings(SettingsForm):
    template = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8, "class": "vLargeTextField"}),
        help_text="HTML with ${column} placeholders, one per CSV column used.",
    )
    answer_fields = ListField(
        required=False, initial=["answer"], help_text="Names of the template's form fields, one per line."
    )


# --- built-in task types that need no Python -------------------------------------------------
@register("categorical")
class Categorical(TaskType):
    """Choose one option from a list; workers agree when they chose the same option.

    config: {"question": "...", "choices": ["a", "b", ...]}; inputs may carry "text" or "url".
    """

    label = "Choice from a list"
    help_text = (
        "Each worker picks one choice; an item is answered when enough workers picked the same one. "
        "Each CSV row shows its 'text' column (or a link to its 'url')."
    )
    example = {"question": "Is this review positive?", "choices": ["positive", "negative", "mixed"]}
    example_inputs = {"text": "The soup was cold but the staff were lovely."}
    settings_form = ChoiceSettings

    def validate_config(self) -> None:
        _question(self.config)
        choices = self.config.get("choices")
        if not isinstance(choices, list) or len(choices) < 2:
            raise ConfigError("A choice task needs a list of at least two choices.", setting="choices")
        if any(not isinstance(c, str | int | float) or not str(c).strip() for c in choices):
            raise ConfigError("Every choice must be a non-empty text.", setting="choices")
        if len({str(c).strip() for c in choices}) < len(choices):
            raise ConfigError("Each choice may appear only once.", setting="choices")

    def create_hit_content(self, inputs: dict[str, Any], settings: dict[str, Any]) -> HitContent:
        return self.standard_content(inputs, settings)

    def question_html(self, inputs: dict[str, Any]) -> str:
        options = "".join(
            f'<label><input type="radio" name="answer" value="{_escaped(choice)}" required> {_escaped(choice)}</label>'
            for choice in self.config["choices"]
        )
        return item_html(self.config.get("question", ""), inputs) + f"<fieldset>{options}</fieldset>"

    def assignments_agree(self, a: AssignmentDict, b: AssignmentDict) -> bool:
        return a["answer"] == b["answer"]

    def answer_is_valid(self, answer: AssignmentDict, num_agreements: int) -> bool:
        return answer["answer"] in [str(choice) for choice in self.config["choices"]]


@register("number")
class Number(TaskType):
    """A number; workers agree when their numbers differ by at most `tolerance`.

    config: {"question": "...", "tolerance": 0.5, "min": optional, "max": optional}
    """

    label = "Number (agree within a tolerance)"
    help_text = (
        "Each worker types a number; two workers agree when their numbers differ by at most the "
        "tolerance. An agreed number outside the lowest and highest goes to a person."
    )
    example = {"question": "How many people are in the photo?", "tolerance": 0, "min": 0}
    example_inputs = {"text": "(the photo of item 1)"}
    settings_form = NumberSettings

    def validate_config(self) -> None:
        _question(self.config)
        tolerance = _number(self.config, "tolerance", "tolerance")
        if tolerance is not None and tolerance < 0:
            raise ConfigError("The tolerance must be a number of at least 0.", setting="tolerance")
        low, high = (
            _number(self.config, "min", "lowest answer"),
            _number(self.config, "max", "highest answer"),
        )
        if low is not None and high is not None and low > high:
            raise ConfigError("The lowest valid answer is above the highest.", setting="max")

    def create_hit_content(self, inputs: dict[str, Any], settings: dict[str, Any]) -> HitContent:
        return self.standard_content(inputs, settings)

    def question_html(self, inputs: dict[str, Any]) -> str:
        return item_html(self.config.get("question", ""), inputs) + (
            '<label>Your answer <input type="text" inputmode="decimal" name="answer" required></label>'
        )

    def add_answers_to_assignment_dict(
        self, assignment_dict: AssignmentDict, raw_answers: dict[str, str]
    ) -> None:
        assignment_dict["answer"] = parse_number(raw_answers.get("answer", ""))

    def assignments_agree(self, a: AssignmentDict, b: AssignmentDict) -> bool:
        if a["answer"] is None or b["answer"] is None:
            return a["answer"] is None and b["answer"] is None
        return abs(a["answer"] - b["answer"]) <= float(self.config.get("tolerance", 0))

    def answer_is_valid(self, answer: AssignmentDict, num_agreements: int) -> bool:
        value = answer["answer"]
        if value is None:
            return False
        low, high = self.config.get("min"), self.config.get("max")
        return (low is None or value >= float(low)) and (high is None or value <= float(high))


def parse_number(text: str) -> float | None:
    """A worker's number: '1,234.5' and ' 12 ' are fine; anything else is no number."""
    cleaned = str(text).replace(",", "").strip()
    try:
        value = float(cleaned)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


@register("free_text")
class FreeText(TaskType):
    """Free text; workers agree when the texts match after normalising case and white space.

    config: {"question": "..."}
    """

    label = "Free text (case and spaces ignored)"
    help_text = "Each worker types a text; two workers agree when the texts match, ignoring case and spaces."
    example = {"question": "Type the words in the image."}
    example_inputs = {"url": "https://example.org/item-1.png"}
    settings_form = QuestionForm

    def validate_config(self) -> None:
        _question(self.config)

    def create_hit_content(self, inputs: dict[str, Any], settings: dict[str, Any]) -> HitContent:
        return self.standard_content(inputs, settings)

    def question_html(self, inputs: dict[str, Any]) -> str:
        return item_html(self.config.get("question", ""), inputs) + (
            '<label>Your answer <input type="text" name="answer" required size="60"></label>'
        )

    def assignments_agree(self, a: AssignmentDict, b: AssignmentDict) -> bool:
        return normalise_text(a["answer"]) == normalise_text(b["answer"])

    def answer_is_valid(self, answer: AssignmentDict, num_agreements: int) -> bool:
        return bool(normalise_text(answer["answer"]))


FIELD_NAME = re.compile(r"^[A-Za-z_][\w-]*$")


@register("template_batch")
class TemplateBatch(TaskType):
    """A researcher's HTML template with ${column} placeholders, one HIT per CSV row.

    config: {"template": "<p>${name}</p><input name='answer'>", "answer_fields": ["answer"]}.
    Workers agree when every answer field matches after normalising case and white space.
    """

    label = "Template batch (CSV + HTML template)"
    help_text = (
        "Your own HTML with ${column} placeholders, filled from each CSV row (values are escaped). "
        "Its form fields named in 'answer fields' are the answer; workers agree when all of them match."
    )
    example = {
        "template": (
            "<p>Is <strong>${name}</strong> a city in ${country}?</p>\n"
            '<label><input type="radio" name="answer" value="yes" required> yes</label>\n'
            '<label><input type="radio" name="answer" value="no"> no</label>'
        ),
        "answer_fields": ["answer"],
    }
    example_inputs = {"name": "Lyon", "country": "France"}
    settings_form = TemplateSettings

    @property
    def answer_fields(self) -> tuple[str, ...]:  # type: ignore[override]
        return tuple(self.config.get("answer_fields") or ("answer",))

    def validate_config(self) -> None:
        template = self.config.get("template", "")
        if not isinstance(template, str) or not template.strip():
            raise ConfigError("A template batch needs an HTML template.", setting="template")
        fields = self.config.get("answer_fields") or ["answer"]
        if not isinstance(fields, list) or any(
            not isinstance(f, str) or not FIELD_NAME.match(f) for f in fields
        ):
            raise ConfigError(
                "Answer fields are form field names (letters, digits, _ and -).", setting="answer_fields"
            )
        missing = [
            name for name in fields if f'name="{name}"' not in template and f"name='{name}'" not in template
        ]
        if missing:
            raise ConfigError(
                f"The template has no form field named {', '.join(missing)}.", setting="template"
            )
        if any(m.group("invalid") is not None for m in string.Template.pattern.finditer(template)):
            raise ConfigError(
                "A $ that is not a ${column} placeholder: write $$ for a dollar sign.", "template"
            )

    def placeholders(self) -> list[str]:
        names = [
            m.group("named") or m.group("braced")
            for m in string.Template.pattern.finditer(self.config["template"])
        ]
        return [name for name in names if name]

    def create_hit_content(self, inputs: dict[str, Any], settings: dict[str, Any]) -> HitContent:
        return self.standard_content(inputs, settings)

    def question_html(self, inputs: dict[str, Any]) -> str:
        values = {name: _escaped(inputs.get(name, "")) for name in self.placeholders()}
        return string.Template(self.config["template"]).safe_substitute(values)

    def assignments_agree(self, a: AssignmentDict, b: AssignmentDict) -> bool:
        return all(normalise_text(a.get(name)) == normalise_text(b.get(name)) for name in self.answer_fields)

    def answer_is_valid(self, answer: AssignmentDict, num_agreements: int) -> bool:
        return all(normalise_text(answer.get(name)) for name in self.answer_fields)


def item_html(question: str, inputs: dict[str, Any]) -> str:
    """The question and the item the worker looks at (its text, or a link)."""
    parts = [f"<p><strong>{_escaped(question)}</strong></p>"] if question else []
    if inputs.get("text"):
        parts.append(f"<blockquote>{_escaped(inputs['text'])}</blockquote>")
    if inputs.get("url"):
        url = str(inputs["url"])
        if re.match(r"^https?://", url):
            parts.append(f'<p><a href="{_escaped(url)}" target="_blank" rel="noopener">Open the item</a></p>')
    return "".join(parts)
