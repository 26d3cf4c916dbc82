"""Requester accounts and how a request proves which one it comes from: AWS Signature Version 4.

An account exists only once it is created (`create_requester`, or `manage.py emulator_requester`).
Every requester API call must then carry the signature botocore computes: an `Authorization`
header `AWS4-HMAC-SHA256 Credential=AKID/YYYYMMDD/us-east-1/mturk-requester/aws4_request,
SignedHeaders=..., Signature=...` and an `X-Amz-Date` within 15 minutes of now. The emulator
recomputes the signature from the account's secret over the canonical request (method, path,
query, the signed headers, the SHA-256 of the body) and compares in constant time, refusing with
the errors AWS gives: UnrecognizedClientException for an unknown key, InvalidSignatureException
for a wrong or stale signature.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from urllib.parse import quote

from mturk_emulator.models import STARTING_BALANCE, Account
from mturk_emulator.protocol import (
    IncompleteSignature,
    InvalidSignature,
    MissingAuthenticationToken,
    UnrecognizedClient,
)

ALGORITHM = "AWS4-HMAC-SHA256"
REGION = "us-east-1"
SERVICE = "mturk-requester"
MAX_CLOCK_SKEW = timedelta(minutes=15)
TIMESTAMP_FORMAT = "%Y%m%dT%H%M%SZ"
_ACCESS_KEY = re.compile(r"^[A-Za-z0-9_.\-]{1,128}$")
_PARTS = re.compile(r"(Credential|SignedHeaders|Signature)=([^,\s]*)")


def create_requester(
    access_key_id: str, secret_access_key: str, *, balance: Decimal | None = None, sandbox: bool = True
) -> Account:
    """Open (or update) the requester account of an access key; calling it again changes nothing.

    `balance` sets a live account's available balance (default: $10,000.00 when it is opened; an
    existing account keeps its own). A sandbox account always has $10,000.00.
    """
    if not _ACCESS_KEY.match(access_key_id or ""):
        raise ValueError("the access key id must be 1 to 128 letters, digits, '_', '.' or '-'")
    if not secret_access_key or len(secret_access_key) > 128 or "\x00" in secret_access_key:
        raise ValueError("the secret access key must be 1 to 128 characters")
    if sandbox and balance is not None and balance != STARTING_BALANCE:
        raise ValueError("a sandbox account's balance is always $10,000.00; open a live account instead")
    account, _ = Account.objects.get_or_create(
        access_key_id=access_key_id,
        defaults={"secret_access_key": secret_access_key, "sandbox": sandbox, "balance": STARTING_BALANCE},
    )
    changed = {"secret_access_key": secret_access_key, "sandbox": sandbox}
    if sandbox:
        changed["balance"] = STARTING_BALANCE
    elif balance is not None:
        changed["balance"] = balance
    if any(getattr(account, field) != value for field, value in changed.items()):
        Account.objects.filter(pk=account.pk).update(**changed)
        account.refresh_from_db()
    return account


@dataclass(frozen=True)
class SignedRequest:
    """What a signature covers, as the server received it."""

    method: str
    path: str
    query: str
    headers: dict[str, str]  # lower-case name -> value; only what the request carried
    body: bytes


def authenticate(request: SignedRequest, now: datetime | None = None) -> Account:
    """The account whose secret signed `request`, or the AWS error explaining why not."""
    authorization = request.headers.get("authorization", "")
    if not authorization:
        raise MissingAuthenticationToken("Missing Authentication Token")
    key, date, region, service, signed_headers, signature = _parse_authorization(authorization)
    account = Account.objects.filter(access_key_id=key).first()
    if account is None or not account.secret_access_key:
        raise UnrecognizedClient("The security token included in the request is invalid.")
    stamp = _timestamp(request, signed_headers)
    _check_scope(date, region, service, stamp)
    _check_fresh(stamp, now or datetime.now(UTC))
    expected = signature_for(request, account.secret_access_key, stamp, signed_headers)
    if not hmac.compare_digest(expected.encode(), signature.encode()):
        raise InvalidSignature(
            "The request signature we calculated does not match the signature you provided. Check your AWS "
            "Secret Access Key and signing method. Consult the service documentation for details."
        )
    return account


def _parse_authorization(authorization: str) -> tuple[str, str, str, str, list[str], str]:
    algorithm, _, rest = authorization.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise IncompleteSignature(
            f"Unsupported AWS 'algorithm': '{algorithm}'. Only {ALGORITHM} is supported.",
        )
    parts = dict(_PARTS.findall(rest))
    missing = [name for name in ("Credential", "Signature", "SignedHeaders") if not parts.get(name)]
    if missing:
        raise IncompleteSignature(
            " ".join(f"Authorization header requires '{name}' parameter." for name in missing)
            + f" Authorization={authorization}"
        )
    scope = parts["Credential"].split("/")
    if len(scope) != 5 or scope[4] != "aws4_request":
        raise IncompleteSignature(
            f"Credential should have the form <key>/<date>/<region>/<service>/aws4_request, not "
            f"'{parts['Credential']}'."
        )
    signed_headers = parts["SignedHeaders"].split(";")
    return scope[0], scope[1], scope[2], scope[3], signed_headers, parts["Signature"]


def _timestamp(request: SignedRequest, signed_headers: list[str]) -> str:
    stamp = request.headers.get("x-amz-date", "")
    if not stamp or "x-amz-date" not in signed_headers or "host" not in signed_headers:
        raise IncompleteSignature(
            "Authorization header requires existence of a signed 'X-Amz-Date' header and a signed 'Host' "
            "header."
        )
    try:
        datetime.strptime(stamp, TIMESTAMP_FORMAT)
    except ValueError:
        raise IncompleteSignature(
            f"X-Amz-Date must be in the form YYYYMMDD'T'HHMMSS'Z', not '{stamp}'."
        ) from None
    return stamp


def _check_scope(date: str, region: str, service: str, stamp: str) -> None:
    if date != stamp[:8]:
        raise InvalidSignature(
            f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{date}' != '{stamp[:8]}', from '{stamp}'."
        )
    if region != REGION:
        raise InvalidSignature(f"Credential should be scoped to a valid region, not '{region}'. ")
    if service != SERVICE:
        raise InvalidSignature(f"Credential should be scoped to correct service: '{SERVICE}'. ")


def _check_fresh(stamp: str, now: datetime) -> None:
    signed_at = datetime.strptime(stamp, TIMESTAMP_FORMAT).replace(tzinfo=UTC)
    if signed_at < now - MAX_CLOCK_SKEW:
        raise InvalidSignature(
            f"Signature expired: {stamp} is now earlier than {_stamp(now - MAX_CLOCK_SKEW)} "
            f"({_stamp(now)} - 15 min.)"
        )
    if signed_at > now + MAX_CLOCK_SKEW:
        raise InvalidSignature(
            f"Signature not yet current: {stamp} is still later than {_stamp(now + MAX_CLOCK_SKEW)} "
            f"({_stamp(now)} + 15 min.)"
        )


def _stamp(moment: datetime) -> str:
    return moment.strftime(TIMESTAMP_FORMAT)


def signature_for(request: SignedRequest, secret: str, stamp: str, signed_headers: list[str]) -> str:
    """The hex SigV4 signature botocore computes for `request` with `secret` at `stamp`."""
    scope = f"{stamp[:8]}/{REGION}/{SERVICE}/aws4_request"
    string_to_sign = "\n".join(
        [
            ALGORITHM,
            stamp,
            scope,
            hashlib.sha256(canonical_request(request, signed_headers).encode()).hexdigest(),
        ]
    )
    key = _hmac(f"AWS4{secret}".encode(), stamp[:8])
    for part in (REGION, SERVICE, "aws4_request"):
        key = _hmac(key, part)
    return hmac.new(key, string_to_sign.encode(), hashlib.sha256).hexdigest()


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def canonical_request(request: SignedRequest, signed_headers: list[str]) -> str:
    """SigV4's canonical request, built as botocore's `SigV4Auth.canonical_request` builds it."""
    names = sorted({name.strip().lower() for name in signed_headers})
    lines = [f"{name}:{' '.join(request.headers.get(name, '').split())}" for name in names]
    return "\n".join(
        [
            request.method.upper(),
            quote(_remove_dot_segments(request.path), safe="/~"),
            _canonical_query(request.query),
            "\n".join(lines) + "\n",
            ";".join(names),
            hashlib.sha256(request.body).hexdigest(),
        ]
    )


def _canonical_query(query: str) -> str:
    if not query:
        return ""
    pairs = sorted(pair.partition("=")[::2] for pair in query.split("&"))
    return "&".join(f"{key}={value}" for key, value in pairs)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 dot-segment removal plus collapsing of repeated slashes, as botocore does."""
    if not path:
        return "/"
    kept: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if kept:
                kept.pop()
        elif segment and segment != ".":
            kept.append(segment)
    first = "/" if path.startswith("/") else ""
    last = "/" if path.endswith("/") and kept else ""
    return first + "/".join(kept) + last
