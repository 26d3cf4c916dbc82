"""Qualification functions: what decides whether a worker passed a study's qualification test.

A function takes the worker's graded answers (one `Graded` per qualification item: what they
answered, what was expected, whether it matched) and the researcher's arguments, and says passed
or not with a score. Each is registered by name with its argument list (name -> what it means) and
a validation of those arguments; `check_args` runs it when the experiment is saved, so a bad
argument is a form error naming the argument, never a crash while a worker waits.

Built in: "quiz" (a share of right answers at least `pass_mark`). A researcher registers their own
in Python (e.g. in their app's `task_types.py`, which is imported at start-up)::

    @register_qualification("at_least_n", arguments={"n": "How many right answers pass."},
                            validate=lambda args: ...)
    def at_least_n(graded, args):
        right = sum(g.correct for g in graded)
        return Verdict(right >= args["n"], right)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from hits.task_types import normalise_text


class QualificationError(ValueError):
    """The qualification function or its arguments cannot work; `argument` names the one at fault."""

    def __init__(self, message: str, argument: str = "") -> None:
        super().__init__(message)
        self.argument = argument


@dataclass(frozen=True)
class Graded:
    """One qualification item as the worker answered it."""

    given: dict[str, str]
    expected: dict[str, str]

    @property
    def correct(self) -> bool:
        return answers_match(self.given, self.expected)


@dataclass(frozen=True)
class Verdict:
    passed: bool
    score: float


Decide = Callable[[Sequence[Graded], dict[str, Any]], Verdict]
Validate = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class QualificationFunction:
    name: str
    label: str
    arguments: dict[str, str]
    validate: Validate
    decide: Decide


_registry: dict[str, QualificationFunction] = {}


def register_qualification(
    name: str, *, label: str = "", arguments: dict[str, str], validate: Validate
) -> Callable[[Decide], Decide]:
    """Decorator: make `decide` available to researchers as the qualification function `name`."""

    def add(decide: Decide) -> Decide:
        _registry[name] = QualificationFunction(name, label or name, dict(arguments), validate, decide)
        return decide

    return add


def qualification_choices() -> list[tuple[str, str]]:
    return [(name, function.label) for name, function in sorted(_registry.items())]


def get_function(name: str) -> QualificationFunction:
    try:
        return _registry[name]
    except KeyError as error:
        known = ", ".join(sorted(_registry)) or "none"
        raise QualificationError(f"There is no qualification function {name!r} (known: {known}).") from error


def check_args(name: str, args: Any) -> None:
    """Raise QualificationError unless `args` are exactly the function's arguments and valid."""
    function = get_function(name)
    if not isinstance(args, dict):
        raise QualificationError(
            'The qualification arguments must be a JSON object, e.g. {"pass_mark": 0.8}.'
        )
    unknown = sorted(set(args) - set(function.arguments))
    if unknown:
        raise QualificationError(
            f"{name} takes no argument {', '.join(unknown)} (its arguments: {', '.join(function.arguments)}).",
            unknown[0],
        )
    missing = sorted(set(function.arguments) - set(args))
    if missing:
        raise QualificationError(f"{name} needs the argument {', '.join(missing)}.", missing[0])
    try:
        function.validate(args)
    except QualificationError:
        raise
    except (ValueError, TypeError, KeyError) as error:
        raise QualificationError(str(error) or f"These arguments do not work for {name}.") from error


def decide(name: str, graded: Sequence[Graded], args: dict[str, Any]) -> Verdict:
    return get_function(name).decide(graded, args)


def answers_match(given: dict[str, Any], expected: dict[str, Any]) -> bool:
    """Every expected field answered the same, case and white space aside."""
    return all(normalise_text(given.get(name)) == normalise_text(value) for name, value in expected.items())


# --- built in --------------------------------------------------------------------------------
def _validate_quiz(args: dict[str, Any]) -> None:
    mark = args["pass_mark"]
    if isinstance(mark, bool) or not isinstance(mark, int | float) or not 0 < mark <= 1:
        raise QualificationError(
            "pass_mark is the share of right answers that passes: above 0, at most 1.", "pass_mark"
        )


@register_qualification(
    "quiz",
    label="Quiz: a share of right answers passes",
    arguments={"pass_mark": "The share of right answers that passes, e.g. 0.8 for 4 of 5."},
    validate=_validate_quiz,
)
def quiz(graded: Sequence[Graded], args: dict[str, Any]) -> Verdict:
    if not graded:
        return Verdict(True, 1.0)
    score = sum(g.correct for g in graded) / len(graded)
    return Verdict(score >= float(args["pass_mark"]) - 1e-9, round(score, 4))
