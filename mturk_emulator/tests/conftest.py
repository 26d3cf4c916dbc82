"""Fixtures for the emulator's tests: real boto3 clients over HTTP, and HIT builders."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from botocore.config import Config

EXTERNAL_QUESTION = (
    '<ExternalQuestion xmlns="http://mechanicalturk.amazonaws.com/AWSMechanicalTurkDataSchemas/'
    '2006-07-14/ExternalQuestion.xsd"><ExternalURL>https://study.example.org/start</ExternalURL>'
    "<FrameHeight>600</FrameHeight></ExternalQuestion>"
)


def make_client(url: str, access_key_id: str, **config: Any):
    """A boto3 MTurk client for the emulator, as crowdhr's platform layer makes one."""
    return boto3.client(
        "mturk",
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id=access_key_id,
        aws_secret_access_key="not-checked",
        config=Config(**config) if config else None,
    )


@pytest.fixture
def mturk(emulator_url, transactional_db):
    """A researcher's MTurk client against the local emulator."""
    return make_client(emulator_url, "AKIDRESEARCHERONE")


@pytest.fixture
def other_mturk(emulator_url, transactional_db):
    """A second researcher with separate credentials."""
    return make_client(emulator_url, "AKIDRESEARCHERTWO")


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
