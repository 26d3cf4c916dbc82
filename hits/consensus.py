"""Agreement between workers: plain data in, a decision out. No Django here.

Assignments are grouped by an `agree(a, b)` function (each group keeps its first member as the
representative). A group with at least `agreements_required` members is the majority.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass
class Group(Generic[T]):
    """Assignments that agree with the representative (the first one seen)."""

    representative: T
    members: list[T] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.members)


@dataclass
class Agreement(Generic[T]):
    """The answer the majority agreed on, and who is accepted or rejected because of it."""

    answer: T
    accepted: list[T]
    rejected: list[T]
    num_agreements: int
    groups: list[Group[T]]


def group_assignments(assignments: Sequence[T], agree: Callable[[T, T], bool]) -> list[Group[T]]:
    """Put each assignment into the first group whose representative it agrees with."""
    groups: list[Group[T]] = []
    for assignment in assignments:
        for group in groups:
            if agree(group.representative, assignment):
                group.members.append(assignment)
                break
        else:
            groups.append(Group(representative=assignment, members=[assignment]))
    return groups


def majority_group(groups: Sequence[Group[T]], agreements_required: int) -> Group[T] | None:
    """The largest group with enough members, or None. Ties go to the group formed first."""
    best = max(groups, key=lambda group: group.size, default=None)
    if best is None or best.size < agreements_required:
        return None
    return best


def check_for_agreement(
    new: Sequence[T],
    old: Sequence[T],
    *,
    agree: Callable[[T, T], bool],
    agreements_required: int,
    secondary_majority_check: Callable[[list[Group[T]]], Group[T] | None] | None = None,
) -> tuple[Agreement[T] | None, list[Group[T]]]:
    """Look for agreement among the new assignments; judge old undecided ones against it.

    Returns the agreement (or None) and the groups found, which the admin shows.
    """
    groups = group_assignments(new, agree)
    majority = majority_group(groups, agreements_required)
    if majority is None and secondary_majority_check is not None:
        majority = secondary_majority_check(groups)
    if majority is None:
        return None, groups
    accepted = list(majority.members)
    rejected = [a for group in groups if group is not majority for a in group.members]
    for assignment in old:
        (accepted if agree(majority.representative, assignment) else rejected).append(assignment)
    agreement = Agreement(
        answer=majority.representative,
        accepted=accepted,
        rejected=rejected,
        num_agreements=majority.size,
        groups=groups,
    )
    return agreement, groups
