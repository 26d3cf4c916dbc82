"""As strict as Amazon: signatures, accounts, Question schemas, state errors and malformed input.

Everything a client can do goes through the real boto3 client over HTTP; what boto3 would never
send (bad signatures by hand, NUL bytes, deep nesting, huge bodies) goes through `requests`.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import botocore.auth
import pytest
import requests
from botocore.exceptions import ClientError
from django.core.management import call_command

from mturk_emulator import workers
from mturk_emulator.accounts import create_requester
from mturk_emulator.api import MAX_BODY_BYTES
from mturk_emulator.models import Account
from mturk_emulator.testing import register_requester
from mturk_emulator.tests.conftest import EXTERNAL_QUESTION, make_client, requester_client, signed_headers

HIT = {
    "Title": "Label pictures",
    "Description": "Say what the picture shows.",
    "Reward": "0.50",
    "MaxAssignments": 2,
    "LifetimeInSeconds": 3600,
    "AssignmentDurationInSeconds": 600,
}


def error_of(call) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as excinfo:
        call()
    response = excinfo.value.response
    return (
        response["Error"]["Code"],
        response["Error"]["Message"],
        response["ResponseMetadata"]["HTTPStatusCode"],
    )


def external_question(url: str, height: str = "<FrameHeight>600</FrameHeight>") -> str:
    return EXTERNAL_QUESTION.replace("https://study.example.org/start", url).replace(
        "<FrameHeight>600</FrameHeight>", height
    )


# --- Signatures and accounts ------------------------------------------------------------------


def test_an_unknown_access_key_is_refused_and_opens_no_account(emulator_url, transactional_db):
    stranger = make_client(emulator_url, "AKIDNOBODY", secret="whatever")

    code, message, status = error_of(stranger.get_account_balance)

    assert (code, status) == ("UnrecognizedClientException", 400)
    assert message == "The security token included in the request is invalid."
    assert not Account.objects.filter(access_key_id="AKIDNOBODY").exists()


def test_a_wrong_secret_is_refused(emulator_url, transactional_db):
    register_requester("AKIDSIGNER", "the-real-secret")
    impostor = make_client(emulator_url, "AKIDSIGNER", secret="a-guessed-secret")

    code, message, status = error_of(impostor.get_account_balance)

    assert (code, status) == ("InvalidSignatureException", 400)
    assert message.startswith(
        "The request signature we calculated does not match the signature you provided."
    )


def test_the_right_secret_is_accepted(emulator_url, transactional_db):
    register_requester("AKIDSIGNER", "the-real-secret")

    client = make_client(emulator_url, "AKIDSIGNER", secret="the-real-secret")

    assert client.get_account_balance()["AvailableBalance"] == "10000.00"


@pytest.mark.parametrize(("shift", "words"), [(-16, "Signature expired"), (16, "Signature not yet current")])
def test_a_signature_dated_more_than_15_minutes_away_is_refused(
    emulator_url, transactional_db, monkeypatch, shift, words
):
    client = requester_client(emulator_url, "AKIDCLOCK", retries={"total_max_attempts": 1})
    skewed = datetime.now(UTC).replace(tzinfo=None) + timedelta(minutes=shift)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: skewed)

    code, message, status = error_of(client.get_account_balance)

    assert (code, status) == ("InvalidSignatureException", 400)
    assert message.startswith(words)


def test_a_body_changed_after_signing_is_refused(emulator_url, transactional_db):
    register_requester("AKIDSIGNER", "the-real-secret")
    headers = signed_headers(emulator_url, b"{}", "GetAccountBalance", "AKIDSIGNER", secret="the-real-secret")

    response = requests.post(emulator_url, data=b'{"MaxResults": 5}', headers=headers, timeout=10)

    assert response.json()["__type"] == "InvalidSignatureException"


@pytest.mark.parametrize(
    ("authorization", "expected"),
    [
        ("", "MissingAuthenticationTokenException"),
        (
            "AWS4-HMAC-SHA256 Credential=AKIDSIGNER/20260101/us-east-1/mturk-requester/aws4_request",
            "IncompleteSignatureException",
        ),
        ("Basic dXNlcjpwYXNz", "IncompleteSignatureException"),
    ],
)
def test_unsigned_or_half_signed_requests_are_refused(
    emulator_url, transactional_db, authorization, expected
):
    register_requester("AKIDSIGNER", "the-real-secret")
    headers = signed_headers(emulator_url, b"{}", "GetAccountBalance", "AKIDSIGNER", secret="the-real-secret")
    headers["Authorization"] = authorization

    response = requests.post(emulator_url, data=b"{}", headers=headers, timeout=10)

    assert response.status_code == 400
    assert response.json()["__type"] == expected


def test_accounts_are_created_explicitly_and_idempotently(emulator_url, transactional_db, capsys):
    call_command("emulator_requester", "--access-key-id", "AKIDCOMMAND", "--secret", "s3cret")
    call_command("emulator_requester", "--access-key-id", "AKIDCOMMAND", "--secret", "s3cret")
    call_command("emulator_requester", "--access-key-id", "AKIDLIVE", "--secret", "s3cret", "--live")

    assert "s3cret" not in capsys.readouterr().out
    assert list(Account.objects.order_by("access_key_id").values_list("access_key_id", "sandbox")) == [
        ("AKIDCOMMAND", True),
        ("AKIDLIVE", False),
    ]
    first = create_requester("AKIDPY", "one", balance=Decimal("25.00"), sandbox=False)
    again = create_requester("AKIDPY", "one", sandbox=False)
    assert (again.pk, again.balance) == (first.pk, Decimal("25.00"))
    with pytest.raises(ValueError):
        create_requester("AKID\x00", "one")
    assert make_client(emulator_url, "AKIDCOMMAND", secret="s3cret").get_account_balance()


def test_the_admin_never_shows_a_secret(admin_client, transactional_db):
    account = create_requester("AKIDADMIN", "never-shown-secret", sandbox=False)

    listing = admin_client.get("/admin/mturk_emulator/account/").content.decode()
    page = admin_client.get(f"/admin/mturk_emulator/account/{account.pk}/change/").content.decode()

    assert "AKIDADMIN" in listing
    assert "never-shown-secret" not in listing + page


# --- Money: the sandbox never spends, a live account does ---------------------------------------


def test_sandbox_balance_stays_at_ten_thousand_while_live_spends(emulator_url, transactional_db):
    sandbox = requester_client(emulator_url, "AKIDSANDBOX", live=False)
    live = requester_client(emulator_url, "AKIDLIVE")

    for client in (sandbox, live):
        hit = client.create_hit(Question=EXTERNAL_QUESTION, **HIT)["HIT"]
        assignment_id = workers.work(hit["HITId"], "AWORKER1", {"label": "cat"})
        client.approve_assignment(AssignmentId=assignment_id)
        client.send_bonus(WorkerId="AWORKER1", AssignmentId=assignment_id, BonusAmount="1.00", Reason="Great")

    assert sandbox.get_account_balance()["AvailableBalance"] == "10000.00"
    # Two slots at $0.60 each, then a $1.00 bonus plus $0.20 fee.
    assert live.get_account_balance()["AvailableBalance"] == "9997.60"


def test_a_live_account_can_run_out_of_money(emulator_url, transactional_db):
    create_requester("AKIDPOOR", "poor-secret", balance=Decimal("1.00"), sandbox=False)
    poor = make_client(emulator_url, "AKIDPOOR", secret="poor-secret")

    code, message, _ = error_of(lambda: poor.create_hit(Question=EXTERNAL_QUESTION, **HIT))

    assert code == "RequestError" and "enough funds" in message


# --- Question XML against MTurk's schemas -------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "fragment"),
    [
        (external_question("http://study.example.org/start"), "https://"),
        (external_question("https://study.example.org/start", ""), "FrameHeight"),
        (
            external_question("https://study.example.org/start", "<FrameHeight>tall</FrameHeight>"),
            "FrameHeight",
        ),
        (
            EXTERNAL_QUESTION.replace("2006-07-14/ExternalQuestion.xsd", "2011-11-11/HTMLQuestion.xsd"),
            "namespace",
        ),
        (
            "<ExternalQuestion><ExternalURL>https://a.example.org/</ExternalURL>"
            "<FrameHeight>600</FrameHeight></ExternalQuestion>",
            "namespace",
        ),
        (
            '<HTMLQuestion xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/'
            '2011-11-11/HTMLQuestion.xsd"><HTMLContent><![CDATA[<p>Hi</p>]]></HTMLContent></HTMLQuestion>',
            "FrameHeight",
        ),
        (
            '<HTMLQuestion xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/'
            '2011-11-11/HTMLQuestion.xsd"><FrameHeight>0</FrameHeight></HTMLQuestion>',
            "HTMLContent",
        ),
    ],
)
def test_questions_mturk_would_refuse_are_refused(mturk, question, fragment):
    code, message, status = error_of(lambda: mturk.create_hit(Question=question, **HIT))

    assert (code, status) == ("RequestError", 400)
    assert fragment in message


@pytest.mark.parametrize("host", ["localhost:8000", "127.0.0.1:8000"])
def test_plain_http_on_localhost_only_with_the_development_setting(mturk, settings, host):
    question = external_question(f"http://{host}/study/1/")

    settings.MTURK_EMULATOR_ALLOW_PLAIN_HTTP_LOCALHOST = False
    assert "https://" in error_of(lambda: mturk.create_hit(Question=question, **HIT))[1]

    settings.MTURK_EMULATOR_ALLOW_PLAIN_HTTP_LOCALHOST = True
    assert mturk.create_hit(Question=question, **HIT)["HIT"]["HITStatus"] == "Assignable"
    elsewhere = external_question("http://study.example.org/start")
    assert "https://" in error_of(lambda: mturk.create_hit(Question=elsewhere, **HIT))[1]


def test_a_valid_html_question_with_frame_height_zero_is_accepted(mturk):
    question = (
        '<HTMLQuestion xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/'
        '2011-11-11/HTMLQuestion.xsd"><HTMLContent><![CDATA[<p>Hi</p>]]></HTMLContent>'
        "<FrameHeight>0</FrameHeight></HTMLQuestion>"
    )

    assert mturk.create_hit(Question=question, **HIT)["HIT"]["HITStatus"] == "Assignable"


# --- State errors in MTurk's words ------------------------------------------------------------


def test_a_repeated_delete_hit_is_refused_in_mturks_words(mturk):
    hit = mturk.create_hit(Question=EXTERNAL_QUESTION, **HIT)["HIT"]
    mturk.update_expiration_for_hit(HITId=hit["HITId"], ExpireAt=datetime(2020, 1, 1, tzinfo=UTC))
    mturk.delete_hit(HITId=hit["HITId"])

    code, message, _ = error_of(lambda: mturk.delete_hit(HITId=hit["HITId"]))

    assert code == "RequestError"
    assert message == (
        "This HIT is currently in the state 'Disposed'. This operation can be called with a status of: "
        "Reviewing, Reviewable"
    )


def test_deleting_an_assignable_hit_names_its_state(mturk):
    hit = mturk.create_hit(Question=EXTERNAL_QUESTION, **HIT)["HIT"]

    message = error_of(lambda: mturk.delete_hit(HITId=hit["HITId"]))[1]

    assert message.startswith("This HIT is currently in the state 'Assignable'.")


def test_list_operations_end_with_an_empty_page_without_next_token(mturk):
    for _ in range(3):
        mturk.create_hit(Question=EXTERNAL_QUESTION, **HIT)

    first = mturk.list_hits(MaxResults=5)
    last = mturk.list_hits(MaxResults=5, NextToken=first["NextToken"])

    assert first["NumResults"] == 3
    assert (last["NumResults"], last["HITs"], "NextToken" in last) == (0, [], False)
    blocks = mturk.list_worker_blocks()
    assert (blocks["NumResults"], blocks["WorkerBlocks"], "NextToken" in blocks) == (0, [], False)


# --- Malformed input: 400s, never 500s ----------------------------------------------------------


def raw(url: str, body: bytes, target: str = "ListHITs") -> requests.Response:
    return requests.post(url, data=body, headers=signed_headers(url, body, target), timeout=10)


@pytest.mark.parametrize(
    ("target", "body"),
    [
        ("GetHIT", b'{"HITId": "3ABC\\u0000"}'),
        ("CreateWorkerBlock", b'{"WorkerId": "AW1", "Reason": "nul \\u0000 inside"}'),
        ("CreateWorkerBlock", b'{"WorkerId": "AW1", "Reason": "lone \\ud800 surrogate"}'),
        ("ListHITs", b"{\x00}"),
        ("ListHITs", b"[" * 100_000 + b"]" * 100_000),
        ("ListHITs", b'{"MaxResults": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"),
        ("ListHITs", b'{"MaxResults": 1e999}'),
        ("ListHITs", b'{"MaxResults": true}'),
        ("GetHIT", b'{"HITId": ["3ABC"]}'),
        ("ListHITs", b"\xff\xfe"),
    ],
)
def test_malformed_requests_are_400s_not_500s(emulator_url, mturk, target, body):
    response = raw(emulator_url, body, target)

    assert response.status_code == 400, response.text
    assert response.json()["__type"] == "RequestError"


def test_an_oversized_body_is_refused_before_it_is_read(emulator_url, mturk):
    body = json.dumps({"Reason": "x" * (MAX_BODY_BYTES + 1), "WorkerId": "AW1"}).encode()

    response = raw(emulator_url, body, "CreateWorkerBlock")

    assert response.status_code == 400
    assert "larger than" in response.json()["Message"]


def test_nul_bytes_in_worker_facing_paths_and_forms_are_refused(live_server, mturk):
    for path in ("/emulator/hits/3ABC%00/", "/emulator/assignments/%00/", "/emulator/hits/3ABC%00/html/"):
        assert requests.get(f"{live_server.url}{path}", timeout=10).status_code == 404, path

    submitted = requests.post(
        f"{live_server.url}/emulator/mturk/externalSubmit",
        data={"assignmentId": "3ABC\x00", "answer": "x"},
        timeout=10,
    )
    assert submitted.status_code == 400
