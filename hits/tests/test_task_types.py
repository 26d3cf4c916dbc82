"""The built-in task types: what the worker sees, and when two workers agree."""

from __future__ import annotations

import pytest

from hits.task_types import TaskType, get_task_type, register, task_type_choices


def answers(**fields):
    return dict(fields)


def test_categorical_agrees_on_the_same_choice_and_refuses_unknown_ones():
    task = get_task_type("categorical", {"question": "Which?", "choices": ["cat", "dog"]})
    assert task.assignments_agree(answers(answer="cat"), answers(answer="cat"))
    assert not task.assignments_agree(answers(answer="cat"), answers(answer="dog"))
    assert task.answer_is_valid(answers(answer="dog"), 2)
    assert not task.answer_is_valid(answers(answer="horse"), 2)
    question = task.html_form({"text": "Look at <this>"}).body
    assert 'value="cat"' in question and "Look at &lt;this&gt;" in question
    assert 'name="confused"' in question and 'name="comments"' in question


def test_categorical_needs_choices():
    with pytest.raises(ValueError, match="two choices"):
        get_task_type("categorical", {"choices": ["only"]})


def test_numbers_agree_within_the_tolerance():
    task = get_task_type("number", {"tolerance": 0.5, "min": 0})
    read = {}
    task.add_answers_to_assignment_dict(read, {"answer": " 1,234.5 "})
    assert read["answer"] == 1234.5
    assert task.assignments_agree({"answer": 10.0}, {"answer": 10.5})
    assert not task.assignments_agree({"answer": 10.0}, {"answer": 10.6})
    assert not task.answer_is_valid({"answer": -1.0}, 2)
    assert not task.answer_is_valid({"answer": None}, 2)


def test_free_text_ignores_case_and_spaces():
    task = get_task_type("free_text", {"question": "Name the capital"})
    assert task.assignments_agree({"answer": "  New   York "}, {"answer": "new york"})
    assert not task.assignments_agree({"answer": "York"}, {"answer": "New York"})
    assert not task.answer_is_valid({"answer": "   "}, 2)


def test_template_batch_checks_its_answer_fields():
    with pytest.raises(ValueError, match="no form field named answer"):
        get_task_type("template_batch", {"template": "<p>${name}</p>"})
    task = get_task_type("template_batch", {"template": '<p>${name}</p><input name="answer">'})
    assert task.placeholders() == ["name"]


def test_rejection_feedback_names_the_agreed_answer():
    task = get_task_type("free_text", {})
    message = task.create_feedback_message({"answer": "Paris"}, answer={"answer": "Lyon"}, reject=True)
    assert "Paris" in message and "Lyon" in message
    assert task.create_feedback_message({"answer": "Lyon"}) == "Thank you!"


def test_a_researcher_registers_a_task_type_of_their_own():
    @register("test_yes_no")
    class YesNo(TaskType):
        label = "Yes or no"

        def assignments_agree(self, a, b):
            return a["answer"].lower() == b["answer"].lower()

    assert ("test_yes_no", "Yes or no") in task_type_choices()
    assert get_task_type("test_yes_no").assignments_agree({"answer": "YES"}, {"answer": "yes"})
    with pytest.raises(ValueError, match="unknown task type"):
        get_task_type("no_such_type")
