"""HTTP endpoints machines call: the requester API, the external submit, the fault control."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from mturk_emulator import faults, lifecycle, rate_limit
from mturk_emulator.accounts import SignedRequest, authenticate
from mturk_emulator.models import Account
from mturk_emulator.protocol import (
    CONTENT_TYPE,
    MTurkError,
    RequestError,
    ServiceFault,
    encode,
    operation_from_target,
    validate_input,
)
from mturk_emulator.requester import OPERATIONS

logger = logging.getLogger(__name__)

# The largest request body the emulator reads (a HIT's Question is at most a few hundred kilobytes).
MAX_BODY_BYTES = 1024 * 1024


def _answer(payload: dict[str, Any], status: int = 200) -> HttpResponse:
    response = HttpResponse(encode(payload), status=status, content_type=CONTENT_TYPE)
    response["x-amzn-RequestId"] = str(uuid.uuid4())
    return response


def _error(error: MTurkError) -> HttpResponse:
    return _answer(error.body(), error.status)


def _malformed(message: str) -> RequestError:
    return RequestError(message, "AWS.MechanicalTurk.MalformedRequest")


def _body(request: HttpRequest) -> bytes:
    """The request body, refused before it is read when it is larger than MAX_BODY_BYTES."""
    too_big = _malformed(f"The request body is larger than the {MAX_BODY_BYTES} bytes accepted.")
    try:
        declared = int(request.headers.get("Content-Length") or 0)
    except ValueError:
        raise _malformed("The Content-Length header is not a number.") from None
    if declared > MAX_BODY_BYTES:
        raise too_big
    try:
        body = request.body
    except RequestDataTooBig:
        raise too_big from None
    if len(body) > MAX_BODY_BYTES:
        raise too_big
    return body


def _caller(request: HttpRequest, body: bytes) -> Account:
    """The requester account whose SigV4 signature the request carries."""
    headers = {name.lower(): value for name, value in request.headers.items()}
    return authenticate(
        SignedRequest(
            method=request.method or "",
            path=request.path,
            query=request.META.get("QUERY_STRING", ""),
            headers=headers,
            body=body,
        )
    )


def _params(body: bytes) -> dict[str, Any]:
    try:
        params = json.loads(body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise _malformed("The request body is not valid JSON.") from None
    except RecursionError:
        raise _malformed("The request body is nested too deeply.") from None
    if not isinstance(params, dict):
        raise _malformed("The request body must be a JSON object.")
    return params


@csrf_exempt
def requester_api(request: HttpRequest) -> HttpResponse:
    """MTurk's requester API: POST, X-Amz-Target names the operation, JSON in and out."""
    try:
        if request.method != "POST":
            raise RequestError(
                "The MTurk requester API only answers POST requests.", "AWS.MechanicalTurk.BadMethod"
            )
        body = _body(request)
        account = _caller(request, body)
        rate_limit.take(account.access_key_id)
        operation = operation_from_target(request.headers.get("X-Amz-Target", ""))
        params = _params(body)
        validate_input(operation, params)
        fault = faults.draw(operation)
        lifecycle.process_due()
        with transaction.atomic():
            result = OPERATIONS[operation](account, params)
        if fault == faults.LOSE_ANSWER:
            raise faults.lost_answer(operation)
        return _answer(result)
    except MTurkError as error:
        return _error(error)
    except Exception:
        logger.exception("emulator: the requester API failed")
        return _error(ServiceFault("We encountered an internal error. Please try again."))


def fault_control_enabled() -> bool:
    """The fault endpoint answers only when MTURK_EMULATOR_FAULT_ENDPOINT is on (tests switch it on)."""
    return bool(getattr(settings, "MTURK_EMULATOR_FAULT_ENDPOINT", False))


@csrf_exempt
def fault_control(request: HttpRequest) -> HttpResponse:
    """GET shows, POST replaces, DELETE clears the faults the requester API injects (404 when off)."""
    if not fault_control_enabled():
        raise Http404("No fault control here.")
    if request.method == "DELETE":
        faults.clear_faults()
        return JsonResponse(faults.describe())
    if request.method == "POST":
        try:
            payload = json.loads(request.body or b"{}")
            if not isinstance(payload, dict):
                raise TypeError("the body must be a JSON object")
            faults.configure(payload)
        except (ValueError, TypeError, KeyError, RecursionError) as problem:
            return JsonResponse({"error": f"Invalid fault settings: {problem}"}, status=400)
        return JsonResponse(faults.describe())
    if request.method == "GET":
        return JsonResponse(faults.describe())
    return JsonResponse({"error": "Use GET, POST or DELETE."}, status=405)
