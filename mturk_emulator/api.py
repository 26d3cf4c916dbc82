"""HTTP endpoints machines call: the requester API, the external submit, the fault control."""

from __future__ import annotations

import json
import logging
import uuid
from typing import Any

from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from mturk_emulator import faults, lifecycle
from mturk_emulator.protocol import (
    CONTENT_TYPE,
    MTurkError,
    RequestError,
    ServiceFault,
    access_key_id,
    encode,
    operation_from_target,
    validate_input,
)
from mturk_emulator.requester import OPERATIONS, account_for

logger = logging.getLogger(__name__)


def _answer(payload: dict[str, Any], status: int = 200) -> HttpResponse:
    response = HttpResponse(encode(payload), status=status, content_type=CONTENT_TYPE)
    response["x-amzn-RequestId"] = str(uuid.uuid4())
    return response


def _error(error: MTurkError) -> HttpResponse:
    return _answer(error.body(), error.status)


def _params(request: HttpRequest) -> dict[str, Any]:
    try:
        params = json.loads(request.body or b"{}")
    except (ValueError, UnicodeDecodeError):
        raise RequestError(
            "The request body is not valid JSON.", "AWS.MechanicalTurk.MalformedRequest"
        ) from None
    if not isinstance(params, dict):
        raise RequestError("The request body must be a JSON object.", "AWS.MechanicalTurk.MalformedRequest")
    return params


@csrf_exempt
def requester_api(request: HttpRequest) -> HttpResponse:
    """MTurk's requester API: POST, X-Amz-Target names the operation, JSON in and out."""
    try:
        if request.method != "POST":
            raise RequestError(
                "The MTurk requester API only answers POST requests.", "AWS.MechanicalTurk.BadMethod"
            )
        operation = operation_from_target(request.headers.get("X-Amz-Target", ""))
        key = access_key_id(request.headers.get("Authorization", ""))
        params = _params(request)
        validate_input(operation, params)
        fault = faults.draw(operation)
        lifecycle.process_due()
        with transaction.atomic():
            result = OPERATIONS[operation](account_for(key), params)
        if fault == faults.LOSE_ANSWER:
            raise faults.lost_answer(operation)
        return _answer(result)
    except MTurkError as error:
        return _error(error)
    except Exception:
        logger.exception("emulator: the requester API failed")
        return _error(ServiceFault("We encountered an internal error. Please try again."))


@csrf_exempt
def fault_control(request: HttpRequest) -> HttpResponse:
    """GET shows, POST replaces, DELETE clears the faults the requester API injects."""
    if request.method == "DELETE":
        faults.clear_faults()
        return JsonResponse(faults.describe())
    if request.method == "POST":
        try:
            payload = json.loads(request.body or b"{}")
            if not isinstance(payload, dict):
                raise TypeError("the body must be a JSON object")
            faults.configure(payload)
        except (ValueError, TypeError, KeyError) as problem:
            return JsonResponse({"error": f"Invalid fault settings: {problem}"}, status=400)
        return JsonResponse(faults.describe())
    if request.method == "GET":
        return JsonResponse(faults.describe())
    return JsonResponse({"error": "Use GET, POST or DELETE."}, status=405)
