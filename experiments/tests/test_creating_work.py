"""Creating work in the admin as a new researcher would: the form follows the kind, a batch's task
type settings are a real form checked on save, durations in their own units, and a preview of what
a worker will see before anything is published."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile

from experiments.models import Experiment
from experiments.tests.conftest import make_study
from hits.models import HIT
from hits.task_types import TaskType, _registry, check_config, register, task_type_choices, task_type_class
from platforms.models import PlatformAccount

EXPERIMENTS = "/admin/experiments/experiment/"
CSV = b"text\nThe soup was cold.\nLovely staff.\n"

pytestmark = pytest.mark.django_db


@pytest.fixture
def ada(client, researcher):
    client.force_login(researcher)
    return client


@pytest.fixture
def lab(researcher) -> PlatformAccount:
    """An account on the local MTurk that nothing here calls (no live server needed)."""
    return PlatformAccount.objects.create(owner=researcher, name="Ada's lab", environment="emulator")


def batch_form(account: PlatformAccount, **fields) -> dict:
    """What the add page of a batch of choice questions posts, filled in as a researcher would."""
    return {
        "name": "Reviews",
        "kind": "batch",
        "account": account.pk,
        "task_type": "categorical",
        "categorical__question": "Is this review positive?",
        "categorical__choices": "positive\r\nnegative",
        "items_file": SimpleUploadedFile("reviews.csv", CSV, content_type="text/csv"),
        "assignments_required": 3,
        "agreements_required": 2,
        "items_per_participant": 5,
        "task_config": "{}",
        "title": "Is this review positive?",
        "description": "Read a short review and say whether it is positive.",
        "keywords": "",
        "reward": "0.05",
        "duration_seconds_0": "10",
        "duration_seconds_1": "minutes",
        "lifetime_seconds_0": "7",
        "lifetime_seconds_1": "days",
        "auto_approval_delay_seconds_0": "3",
        "auto_approval_delay_seconds_1": "days",
        "qualification_requirements": "[]",
        "quality_threshold": 0,
        **fields,
    }


def errors_of(page) -> dict[str, list[str]]:
    form = page.context["adminform"].form
    return {name: [str(e) for e in errors] for name, errors in form.errors.items()}


# --- the task type registry --------------------------------------------------------------------
@pytest.mark.parametrize("key", [key for key, _ in task_type_choices(decides_by="consensus")])
def test_every_task_types_example_is_a_valid_filled_in_settings_form(key):
    cls = task_type_class(key)
    assert cls.help_text and cls.example
    form_class = cls.settings_form_class()
    data = {name: form_class.base_fields[name].prepare_value(value) for name, value in cls.example.items()}
    form = form_class(data=data)

    assert form.is_valid(), form.errors
    assert check_config(key, form.config()).html_form(cls.example_inputs).body


def test_a_researchers_own_task_type_gets_a_settings_form_from_its_example(monkeypatch):
    monkeypatch.setattr("hits.task_types._registry", dict(_registry))

    @register("test_rating")
    class Rating(TaskType):
        label = "Rating"
        example = {"question": "How good?", "scale": ["1", "2", "3"], "strict": True}

    form = Rating.settings_form_class()(data={"question": "Q", "scale": "a\nb", "strict": "on"})

    assert form.is_valid()
    assert form.config() == {"question": "Q", "scale": ["a", "b"], "strict": True}


# --- every invalid setting is a form error next to its field, never a 500 ----------------------
INVALID = [
    ({"task_type": ""}, "task_type"),
    ({"task_type": "choice"}, "task_type"),
    ({"categorical__choices": "only one"}, "categorical__choices"),
    ({"categorical__choices": "yes\r\nyes"}, "categorical__choices"),
    ({"categorical__choices": ""}, "categorical__choices"),
    ({"task_type": "number", "number__tolerance": "-1"}, "number__tolerance"),
    ({"task_type": "number", "number__tolerance": "a lot"}, "number__tolerance"),
    (
        {"task_type": "number", "number__tolerance": "0", "number__min": "5", "number__max": "1"},
        "number__max",
    ),
    ({"task_type": "template_batch", "template_batch__template": ""}, "template_batch__template"),
    (
        {"task_type": "template_batch", "template_batch__template": "<p>${text}</p>"},
        "template_batch__template",
    ),
    (
        {"task_type": "template_batch", "template_batch__template": '<p>$5 ${text}</p><input name="answer">'},
        "template_batch__template",
    ),
    (
        {
            "task_type": "template_batch",
            "template_batch__template": '<input name="answer">',
            "template_batch__answer_fields": "not a name!",
        },
        "template_batch__answer_fields",
    ),
    (
        {"task_type": "template_batch", "template_batch__template": '${city} <input name="answer">'},
        "items_file",
    ),
    ({"task_config": "{not json"}, "task_config"),
    ({"task_config": '{"choices": ["one"]}'}, "task_config"),
    ({"task_config": "[1, 2]"}, "task_config"),
    ({"task_type": "number", "task_config": '{"tolerance": "wide"}'}, "task_config"),
    ({"items_file": SimpleUploadedFile("empty.csv", b"text\n")}, "items_file"),
    ({"items_file": SimpleUploadedFile("bad.csv", b"\xff\xfe\x00")}, "items_file"),
    ({"agreements_required": 4}, "agreements_required"),
    ({"duration_seconds_0": "10", "duration_seconds_1": "seconds"}, "duration_seconds"),
    ({"duration_seconds_0": "-1"}, "duration_seconds"),
    ({"qualification_requirements": '[{"Comparator": "Exists"}]'}, "qualification_requirements"),
]


@pytest.mark.parametrize(("change", "field"), INVALID)
def test_an_invalid_setting_is_a_form_error_next_to_its_field(ada, lab, change, field):
    page = ada.post(f"{EXPERIMENTS}add/?kind=batch", batch_form(lab, **change))

    assert page.status_code == 200
    assert field in errors_of(page), errors_of(page)
    assert not Experiment.objects.exists()


def test_a_batch_of_choice_questions_saves_its_settings_from_the_form(ada, lab):
    page = ada.post(f"{EXPERIMENTS}add/?kind=batch", batch_form(lab))

    assert page.status_code == 302, errors_of(page)
    batch = Experiment.objects.get()
    assert batch.task_type == "categorical"
    assert batch.task_config == {"question": "Is this review positive?", "choices": ["positive", "negative"]}
    assert batch.duration_seconds == 600
    change = ada.get(f"{EXPERIMENTS}{batch.pk}/change/").content.decode()
    assert "positive\nnegative</textarea>" in change
    assert re.search(r'<option value="minutes" selected>', change)
    assert "task-settings-number collapse" in change  # other types' settings folded, even without JS
    assert "task-settings-categorical collapse" not in change


def test_the_json_under_advanced_replaces_the_form_and_keeps_settings_the_form_does_not_show(ada, lab):
    config = '{"question": "Which?", "choices": ["a", "b", "c"], "note": "kept"}'
    assert ada.post(f"{EXPERIMENTS}add/?kind=batch", batch_form(lab, task_config=config)).status_code == 302
    batch = Experiment.objects.get()
    assert batch.task_config == {"question": "Which?", "choices": ["a", "b", "c"], "note": "kept"}

    edit = batch_form(lab, task_config=config, categorical__choices="a\r\nb", items_file="")
    del edit["kind"]
    assert ada.post(f"{EXPERIMENTS}{batch.pk}/change/", edit).status_code == 302
    batch.refresh_from_db()
    assert batch.task_config == {
        "question": "Is this review positive?",
        "choices": ["a", "b"],
        "note": "kept",
    }


def test_durations_are_typed_in_their_units_and_a_plain_number_of_seconds_still_works(ada, lab):
    fields = batch_form(lab, lifetime_seconds_0="36", lifetime_seconds_1="hours")
    del fields["auto_approval_delay_seconds_0"], fields["auto_approval_delay_seconds_1"]
    fields["auto_approval_delay_seconds"] = "7200"
    assert ada.post(f"{EXPERIMENTS}add/?kind=batch", fields).status_code == 302

    batch = Experiment.objects.get()
    assert (batch.lifetime_seconds, batch.auto_approval_delay_seconds) == (36 * 3600, 7200)


# --- publishing: never a 500 ------------------------------------------------------------------
@pytest.mark.django_db(transaction=True)
def test_a_batch_made_in_the_form_publishes_one_hit_per_row(ada, account):
    assert ada.post(f"{EXPERIMENTS}add/?kind=batch", batch_form(account)).status_code == 302
    batch = Experiment.objects.get()
    url = f"{EXPERIMENTS}{batch.pk}/button/publish_button/"

    page = ada.get(url)
    assert b"2 items to post" in page.content
    nonce = re.search(rb'name="nonce" value="([^"]+)"', page.content).group(1).decode()
    assert ada.post(url, {"confirmed": "yes", "nonce": nonce}).status_code == 302

    questions = [hit.question for hit in HIT.objects.filter(outsourcer__experiment=batch).order_by("pk")]
    assert len(questions) == 2 and "The soup was cold." in questions[0]


@pytest.mark.parametrize(("task_type", "config"), [("choice", {"choices": ["a", "b"]}), ("categorical", {})])
def test_publishing_settings_saved_before_this_check_is_a_message_not_a_500(ada, lab, task_type, config):
    batch = Experiment.objects.create(
        owner=lab.owner, account=lab, name="Old", kind="batch", task_type=task_type, task_config=config
    )
    batch.items_file.save("items.csv", ContentFile(CSV))
    url = f"{EXPERIMENTS}{batch.pk}/button/publish_button/"
    nonce = re.search(rb'name="nonce" value="([^"]+)"', ada.get(url).content).group(1).decode()

    page = ada.post(url, {"confirmed": "yes", "nonce": nonce}, follow=True)

    assert page.status_code == 200
    assert "settings cannot work" in " ".join(str(m) for m in page.context["messages"])
    assert "No preview" in ada.get(f"{EXPERIMENTS}{batch.pk}/button/preview_button/").content.decode()


# --- the form follows the kind --------------------------------------------------------------------
def test_adding_asks_for_the_kind_first(ada, lab):
    page = ada.get(f"{EXPERIMENTS}add/").content.decode()

    assert 'href="?kind=otree"' in page and 'href="?kind=batch"' in page
    assert 'name="title"' not in page


def test_a_batch_shows_the_batch_section_and_hides_what_does_not_apply(ada, lab):
    page = ada.get(f"{EXPERIMENTS}add/?kind=batch").content.decode()

    for shown in ("task_type", "categorical__choices", "number__tolerance", "items_file", "task_config"):
        assert f'name="{shown}"' in page, shown
    for hidden in ("otree_site", "reject_unfinished", "num_participants", "participants-TOTAL_FORMS"):
        assert f'name="{hidden}"' not in page, hidden
    assert '<input type="hidden" name="kind" value="batch"' in page
    assert (
        'value="3" name="auto_approval_delay_seconds_0"' in page
        or 'name="auto_approval_delay_seconds_0"' in page
    )


def test_an_otree_study_shows_the_otree_section_and_its_inlines(ada, lab, researcher):
    page = ada.get(f"{EXPERIMENTS}add/?kind=otree").content.decode()

    for shown in ("otree_site", "session_config_name", "reject_unfinished", "participants-TOTAL_FORMS"):
        assert f'name="{shown}"' in page, shown
    for hidden in ("task_type", "items_file", "task_config", "agreements_required"):
        assert f'name="{hidden}"' not in page, hidden

    study = make_study(lab, None, num_participants=4)
    change = ada.get(f"{EXPERIMENTS}{study.pk}/change/").content.decode()
    assert 'name="otree_site"' in change and 'name="task_type"' not in change
    assert 'name="kind"' not in change  # the kind of a saved experiment stays


def test_a_single_account_is_chosen_already_and_two_are_left_to_choose(ada, lab, researcher):
    page = ada.get(f"{EXPERIMENTS}add/?kind=batch").content.decode()
    assert f'<option value="{lab.pk}" selected>' in page

    PlatformAccount.objects.create(owner=researcher, name="Second", environment="emulator")
    page = ada.get(f"{EXPERIMENTS}add/?kind=batch").content.decode()
    assert "selected>Ada" not in page and f'<option value="{lab.pk}" selected>' not in page


# --- a preview of what a worker will see --------------------------------------------------------
@pytest.mark.parametrize("key", [key for key, _ in task_type_choices(decides_by="consensus")])
def test_the_preview_shows_the_example_question_of_every_task_type(ada, lab, key):
    cls = task_type_class(key)
    batch = Experiment.objects.create(
        owner=lab.owner, account=lab, name="B", kind="batch", task_type=key, task_config=cls.example
    )

    page = ada.get(f"{EXPERIMENTS}{batch.pk}/button/preview_button/").content.decode()

    assert page.count("<iframe") == 1 and "sandbox" in page
    assert "an example item" in page
    body = cls(cls.example).html_form(cls.example_inputs).body
    assert re.sub(r"\s+", " ", _escaped(body)[:60]) in re.sub(r"\s+", " ", page)


def test_the_preview_of_a_batch_shows_its_first_csv_item_on_the_change_page_too(ada, lab):
    assert ada.post(f"{EXPERIMENTS}add/?kind=batch", batch_form(lab)).status_code == 302
    batch = Experiment.objects.get()

    preview = ada.get(f"{EXPERIMENTS}{batch.pk}/button/preview_button/").content.decode()
    change = ada.get(f"{EXPERIMENTS}{batch.pk}/change/").content.decode()

    for page in (preview, change):
        assert "the first item of your CSV file" in page
        assert "The soup was cold." in page and "value=&quot;negative&quot;" in page


def test_the_preview_of_an_otree_study_is_its_page_before_accepting(ada, lab):
    study = make_study(lab, None, description="Choose an effort level.")

    page = ada.get(f"{EXPERIMENTS}{study.pk}/button/preview_button/").content.decode()

    assert "before accepting" in page and "straight into oTree" in page
    assert "Choose an effort level." in page and "Accept the HIT to start the study." in page


# --- a confirmation URL opened with GET -----------------------------------------------------------
def test_a_get_on_a_confirmation_url_shows_the_confirmation_page_and_does_nothing(ada, lab):
    batch = Experiment.objects.create(
        owner=lab.owner,
        account=lab,
        name="B",
        kind="batch",
        task_type="categorical",
        task_config={"choices": ["a", "b"]},
        reward=Decimal("0.05"),
    )
    batch.items_file.save("items.csv", ContentFile(CSV))

    page = ada.get(f"{EXPERIMENTS}{batch.pk}/button/publish_button/")

    assert page.status_code == 200
    assert b'id="confirm-button"' in page.content and b"2 items to post" in page.content
    batch.refresh_from_db()
    assert batch.published_at is None


def _escaped(html: str) -> str:
    from django.utils.html import escape

    return escape(html)
