"""The registry of task kinds: the contract a researcher implements for a kind of work.

A task type says how a HIT looks (`create_hit_content`), how a worker's answers are read
(`add_answers_to_assignment_dict`), when two workers agree (`assignments_agree`) and what to
do with the agreed answer (`process_answer`). Task types that decide by completion instead of
consensus (oTree studies) set `decides_by = "completion"` and implement `judge`.

Every HIT also asks the worker whether they were confused and for comments; the base class
adds those questions and reads them back in `create_assignment_dict`.
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


def task_type_choices() -> list[tuple[str, str]]:
    return [(key, cls.label) for key, cls in sorted(_registry.items())]


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

    verdict: str  # "approve", "reject" or "review"
    feedback: str = ""
    problem: str = ""


class TaskType:
    """Base class of every task type. Override the methods marked 'required'."""

    key: ClassVar[str] = ""
    label: ClassVar[str] = ""
    decides_by: ClassVar[str] = "consensus"  # or "completion"
    answer_fields: ClassVar[tuple[str, ...]] = ("answer",)

    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self.validate_config()

    def validate_config(self) -> None:
        """Raise ValueError when the researcher's settings cannot work."""

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
        """Completion task types: approve, reject or send one assignment to review."""
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


# --- built-in task types that need no Python -------------------------------------------------
@register("categorical")
class Categorical(TaskType):
    """Choose one option from a list; workers agree when they chose the same option.

    config: {"question": "...", "choices": ["a", "b", ...]}; inputs may carry "text" or "url".
    """

    label = "Choice from a list"

    def validate_config(self) -> None:
        choices = self.config.get("choices")
        if not isinstance(choices, list) or len(choices) < 2:
            raise ValueError("A choice task needs a list of at least two choices.")

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

    def validate_config(self) -> None:
        try:
            if float(self.config.get("tolerance", 0)) < 0:
                raise ValueError
        except (TypeError, ValueError) as error:
            raise ValueError("The tolerance must be a number of at least 0.") from error

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


@register("template_batch")
class TemplateBatch(TaskType):
    """A researcher's HTML template with ${column} placeholders, one HIT per CSV row.

    config: {"template": "<p>${name}</p><input name='answer'>", "answer_fields": ["answer"]}.
    Workers agree when every answer field matches after normalising case and white space.
    """

    label = "Template batch (CSV + HTML template)"

    @property
    def answer_fields(self) -> tuple[str, ...]:  # type: ignore[override]
        return tuple(self.config.get("answer_fields") or ("answer",))

    def validate_config(self) -> None:
        template = self.config.get("template", "")
        if not template.strip():
            raise ValueError("A template batch needs an HTML template.")
        fields = self.config.get("answer_fields") or ["answer"]
        missing = [
            name for name in fields if f'name="{name}"' not in template and f"name='{name}'" not in template
        ]
        if missing:
            raise ValueError(f"The template has no form field named {', '.join(missing)}.")

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
