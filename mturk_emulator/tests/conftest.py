"""Fixtures for the emulator's tests: real boto3 clients over HTTP, and HIT builders."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.credentials import Credentials

from mturk_emulator.testing import register_requester, secret_for

EXTERNAL_QUESTION = (
    '<ExternalQuestion xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/'
    '2006-07-14/ExternalQuestion.xsd"><ExternalURL>https://study.example.org/start</ExternalURL>'
    "<FrameHeight>600</FrameHeight></ExternalQuestion>"
)


def make_client(url: str, access_key_id: str, *, secret: str | None = None, **config: Any):
    """A boto3 MTurk client for the emulator, as crowdhr's platform layer makes one.

    It signs with `secret` (by default the test secret of the key); the account must be registered.
    """
    return boto3.client(
        "mturk",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret or secret_for(access_key_id),
        config=Config(**config) if config else None,
    )


def requester_client(url: str, access_key_id: str, *, live: bool = True, **config: Any):
    """Register a requester (live by default, so money moves) and return its client."""
    register_requester(access_key_id, secret_for(access_key_id), live=live)
    return make_client(url, access_key_id, **config)


@pytest.fixture
def mturk(emulator_url, transactional_db):
    """A researcher's MTurk client against the local emulator (a live account: it spends)."""
    return requester_client(emulator_url, "AKIDRESEARCHERONE")


@pytest.fixture
def other_mturk(emulator_url, transactional_db):
    """A second researcher with separate credentials."""
    return requester_client(emulator_url, "AKIDRESEARCHERTWO")


@pytest.fixture
def create_hit(mturk) -> Callable[..., dict]:
    """Post a HIT with sensible defaults; keyword arguments override CreateHIT parameters."""

    def create(**overrides: Any) -> dict:
        params = {
            "Title": "Label pictures",
            "Description": "Say what the picture shows.",
            "Reward": "0.50",
            "MaxAssignments": 3,
            "LifetimeInSeconds": 3600,
            "AssignmentDurationInSeconds": 600,
            "AutoApprovalDelayInSeconds": 86400,
            "Question": EXTERNAL_QUESTION,
        } | overrides
        return mturk.create_hit(**params)["HIT"]

    return create


def signed_headers(
    url: str,
    body: bytes,
    target: str | None,
    access_key_id: str = "AKIDRESEARCHERONE",
    *,
    secret: str | None = None,
    method: str = "POST",
) -> dict[str, str]:
    """The headers botocore would send for a raw body: for requests botocore itself would not make."""
    headers = {"Content-Type": "application/x-amz-json-1.1"}
    if target is not None:
        headers["X-Amz-Target"] = f"MTurkRequesterServiceV20170117.{target}"
    request = AWSRequest(method=method, url=url, data=body, headers=headers)
    credentials = Credentials(access_key_id, secret or secret_for(access_key_id))
    SigV4Auth(credentials, "mturk-requester", "us-east-1").add_auth(request)
    return dict(request.headers.items())
