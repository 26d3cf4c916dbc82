"""For tests and benchmarks only: open requester accounts on the local Mechanical Turk.

The emulator, like MTurk, refuses requests signed with a key it does not know, so whatever
makes a platform account for it (a test fixture, a benchmark) registers the same key and secret
here first. Crowd platforms' production code never imports this module: the demo uses
`manage.py emulator_requester`.
"""

from __future__ import annotations

from mturk_emulator.accounts import create_requester
from mturk_emulator.models import Account

# What tests sign with when a platform account has no key of its own (the settings' defaults).
DEFAULT_ACCESS_KEY_ID = "AKIACROWDHRTESTDEFAULT"
DEFAULT_SECRET_ACCESS_KEY = "crowdhr-test-default-secret"


def register_requester(access_key_id: str, secret_access_key: str, *, live: bool = True) -> Account:
    """Open (idempotently) the account a test's platform account signs with.

    Tests default to a live account so money moves and can be checked; pass `live=False` for a
    sandbox account, whose balance stays $10,000.00.
    """
    return create_requester(access_key_id, secret_access_key, sandbox=not live)


def secret_for(access_key_id: str) -> str:
    """A made-up secret for a test's access key id (one place, so clients and accounts agree)."""
    return f"secret-of-{access_key_id}"
