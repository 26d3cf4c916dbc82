from __future__ import annotations

from hits.consensus import Group, check_for_agreement, group_assignments


def same(a: str, b: str) -> bool:
    return a.split(":")[1] == b.split(":")[1]


def test_two_of_three_agree_accepts_the_two_and_rejects_the_third():
    agreement, groups = check_for_agreement(
        ["w1:cat", "w2:dog", "w3:cat"], [], agree=same, agreements_required=2
    )
    assert agreement is not None
    assert agreement.answer == "w1:cat"
    assert agreement.accepted == ["w1:cat", "w3:cat"]
    assert agreement.rejected == ["w2:dog"]
    assert agreement.num_agreements == 2
    assert [g.size for g in groups] == [2, 1]


def test_no_majority_means_no_agreement():
    agreement, groups = check_for_agreement(["w1:a", "w2:b", "w3:c"], [], agree=same, agreements_required=2)
    assert agreement is None
    assert len(groups) == 3


def test_old_undecided_assignments_are_judged_against_the_new_agreement():
    agreement, _ = check_for_agreement(["w4:b", "w5:b"], ["w1:a", "w2:b"], agree=same, agreements_required=2)
    assert agreement.accepted == ["w4:b", "w5:b", "w2:b"]
    assert agreement.rejected == ["w1:a"]


def test_old_assignments_never_count_toward_the_majority():
    agreement, _ = check_for_agreement(["w3:a"], ["w1:a", "w2:a"], agree=same, agreements_required=2)
    assert agreement is None


def test_secondary_check_can_accept_a_smaller_group():
    def accept_any_single(groups: list[Group[str]]) -> Group[str] | None:
        return groups[0] if len(groups) == 1 else None

    agreement, _ = check_for_agreement(
        ["w1:x"], [], agree=same, agreements_required=2, secondary_majority_check=accept_any_single
    )
    assert agreement is not None and agreement.num_agreements == 1


def test_grouping_uses_the_first_member_as_representative():
    def close(a: int, b: int) -> bool:
        return abs(a - b) <= 1

    groups = group_assignments([10, 11, 12], close)
    assert [g.members for g in groups] == [[10, 11], [12]]
