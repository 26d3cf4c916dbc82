"""MTurk's JSON 1.1 wire protocol, read from botocore's own service model.

The model (`mturk/2017-01-17`) says which operations exist, which parameters each requires and
what type, length, range, pattern or enumeration every value must have. Requests are checked
against it generically, so the emulator refuses exactly the shapes Amazon refuses.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import botocore

TARGET_PREFIX = "MTurkRequesterServiceV20170117."
CONTENT_TYPE = "application/x-amz-json-1.1"
_MODEL_PATH = Path(botocore.__file__).parent / "data" / "mturk" / "2017-01-17" / "service-2.json.gz"


class MTurkError(Exception):
    """An answer MTurk gives instead of a result: an error type, a message, an HTTP status."""

    error_type = "RequestError"
    status = 400

    def __init__(self, message: str, turk_error_code: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.turk_error_code = turk_error_code

    def body(self) -> dict[str, str]:
        body = {"__type": self.error_type, "Message": self.message}
        if self.turk_error_code:
            body["TurkErrorCode"] = self.turk_error_code
        return body


class RequestError(MTurkError):
    """The request was refused: bad input, wrong state, unknown id, no money."""


class ServiceFault(MTurkError):
    """MTurk failed internally (HTTP 500); repeating the call may succeed."""

    error_type = "ServiceFault"
    status = 500


class ThrottlingError(MTurkError):
    """Too many requests (HTTP 400 ThrottlingException); botocore retries it."""

    error_type = "ThrottlingException"


class MissingAuthenticationToken(MTurkError):
    """The request carries no Authorization header at all."""

    error_type = "MissingAuthenticationTokenException"


class IncompleteSignature(MTurkError):
    """The Authorization header or X-Amz-Date is malformed or incomplete."""

    error_type = "IncompleteSignatureException"


class UnrecognizedClient(MTurkError):
    """The access key id belongs to no requester account."""

    error_type = "UnrecognizedClientException"


class InvalidSignature(MTurkError):
    """The signature does not match the account's secret, or it is too old or too new."""

    error_type = "InvalidSignatureException"


class ServiceUnavailable(MTurkError):
    """MTurk is briefly unavailable (HTTP 503); botocore retries it."""

    error_type = "ServiceUnavailable"
    status = 503


@cache
def service_model() -> dict[str, Any]:
    """botocore's MTurk service model, parsed once per process."""
    with gzip.open(_MODEL_PATH) as handle:
        return json.load(handle)


def operation_names() -> list[str]:
    return sorted(service_model()["operations"])


def operation_from_target(target: str) -> str:
    """The operation named by an `X-Amz-Target` header, or a RequestError."""
    if not target:
        raise RequestError("The X-Amz-Target header is missing.", "AWS.MissingTarget")
    if not target.startswith(TARGET_PREFIX):
        raise RequestError(f"Unknown target {target!r}.", "AWS.UnknownOperation")
    name = target[len(TARGET_PREFIX) :]
    if name not in service_model()["operations"]:
        raise RequestError(f"Unknown operation {name!r}.", "AWS.UnknownOperation")
    return name


def validate_input(operation: str, params: Any) -> None:
    """Check `params` against the operation's input shape; raise RequestError naming the first fault."""
    op = service_model()["operations"][operation]
    if "input" not in op:
        return
    _check(op["input"]["shape"], params, "")


def _check(shape_name: str, value: Any, where: str) -> None:
    shape = service_model()["shapes"][shape_name]
    checker = _CHECKERS.get(shape["type"])
    if checker is not None:
        checker(shape, value, where or "request")


def _refuse(where: str, problem: str) -> RequestError:
    return RequestError(f"Value for {where} {problem}.", "AWS.MechanicalTurk.InvalidParameterValue")


def _check_structure(shape: dict, value: Any, where: str) -> None:
    if not isinstance(value, dict):
        raise _refuse(where, "must be a JSON object")
    members = shape.get("members", {})
    for name in shape.get("required", []):
        if value.get(name) is None:
            raise RequestError(
                f"The request is missing the required parameter {_join(where, name)}.",
                "AWS.MissingParameters",
            )
    for name, item in value.items():
        if name not in members:
            raise RequestError(
                f"Unknown parameter {_join(where, name)}.", "AWS.MechanicalTurk.UnknownParameter"
            )
        if item is not None:
            _check(members[name]["shape"], item, _join(where, name))


def _join(where: str, name: str) -> str:
    return f"{where}.{name}" if where and where != "request" else name


def _check_list(shape: dict, value: Any, where: str) -> None:
    if not isinstance(value, list):
        raise _refuse(where, "must be a list")
    _check_size(shape, len(value), where, "items")
    for index, item in enumerate(value):
        _check(shape["member"]["shape"], item, f"{where}[{index}]")


def _check_map(shape: dict, value: Any, where: str) -> None:
    if not isinstance(value, dict):
        raise _refuse(where, "must be a JSON object")
    for key, item in value.items():
        if not is_storable_text(key):
            raise _refuse(where, "must not have keys with NUL characters or unpaired surrogates")
        _check(shape["value"]["shape"], item, f"{where}[{key}]")


def _check_string(shape: dict, value: Any, where: str) -> None:
    if not isinstance(value, str):
        raise _refuse(where, "must be a string")
    if not is_storable_text(value):
        raise _refuse(where, "must not contain NUL characters or unpaired surrogates")
    _check_size(shape, len(value), where, "characters")
    if "enum" in shape and value not in shape["enum"]:
        raise _refuse(where, f"must be one of {', '.join(shape['enum'])}")
    if "pattern" in shape and not re.search(shape["pattern"], value):
        raise _refuse(where, f"{value!r} does not match the pattern {shape['pattern']}")


def _check_integer(shape: dict, value: Any, where: str) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise _refuse(where, "must be an integer")
    if "min" in shape and value < shape["min"]:
        raise _refuse(where, f"must be at least {shape['min']}")
    if "max" in shape and value > shape["max"]:
        raise _refuse(where, f"must be at most {shape['max']}")


def _check_boolean(shape: dict, value: Any, where: str) -> None:
    if not isinstance(value, bool):
        raise _refuse(where, "must be true or false")


def _check_timestamp(shape: dict, value: Any, where: str) -> None:
    try:
        parse_timestamp(value)
    except (TypeError, ValueError, OverflowError, OSError):
        raise _refuse(where, "must be a timestamp in seconds since the epoch") from None


def _check_size(shape: dict, size: int, where: str, unit: str) -> None:
    if "min" in shape and size < shape["min"]:
        raise _refuse(where, f"must have at least {shape['min']} {unit}")
    if "max" in shape and size > shape["max"]:
        raise _refuse(where, f"must have at most {shape['max']} {unit}")


_CHECKERS = {
    "structure": _check_structure,
    "list": _check_list,
    "map": _check_map,
    "string": _check_string,
    "integer": _check_integer,
    "long": _check_integer,
    "boolean": _check_boolean,
    "timestamp": _check_timestamp,
}


def parse_timestamp(value: Any) -> datetime:
    """A wire timestamp (epoch seconds, or ISO 8601) as an aware datetime."""
    if isinstance(value, bool):
        raise TypeError("a boolean is not a timestamp")
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, tz=UTC)
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise TypeError("not a timestamp")


def is_storable_text(value: str) -> bool:
    """Text without NUL characters or lone surrogates: what any database (and MTurk) can keep."""
    if "\x00" in value:
        return False
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _wire_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.timestamp()
    if isinstance(value, Decimal):
        return f"{value:.2f}"
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


def encode(payload: dict[str, Any]) -> str:
    """A result as MTurk's JSON: timestamps as epoch seconds, money as "0.00" strings."""
    return json.dumps(payload, default=_wire_value)


def page(items: Any, params: dict[str, Any], default_size: int = 10) -> tuple[Sequence[Any], str | None]:
    """One page of `items` (a list, or a query set: only the page is read) for MaxResults /
    NextToken, and the token of the next page.

    As on MTurk, every page with results carries a NextToken, the last one too; only the page
    after it comes back empty (NumResults 0) and without a NextToken. Clients loop until then.
    """
    size = params.get("MaxResults") or default_size
    if size > 100 or size < 1:
        raise _refuse("MaxResults", "must be between 1 and 100")
    start = _offset_from_token(params.get("NextToken"))
    chunk = items[start : start + size]
    return chunk, _token_for_offset(start + len(chunk)) if chunk else None


def _token_for_offset(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def _offset_from_token(token: str | None) -> int:
    if not token:
        return 0
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
        prefix, _, number = text.partition(":")
        if prefix != "offset" or not number.isdigit():
            raise ValueError(text)
        return int(number)
    except (ValueError, UnicodeDecodeError):
        raise RequestError("The NextToken is not valid.", "AWS.MechanicalTurk.InvalidNextToken") from None
