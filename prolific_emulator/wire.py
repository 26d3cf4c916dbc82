"""The API's plumbing: token auth, strict JSON bodies, faults, transactions, pagination, errors.

Every endpoint is an `endpoint(GET=("operation", handler), POST=...)`. Whatever goes wrong
reaches the client as Prolific's error body with a 4xx/5xx status, never a Django error page.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import RequestDataTooBig
from django.core.paginator import EmptyPage, Paginator
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse, QueryDict
from django.views.decorators.csrf import csrf_exempt

from prolific_emulator import accounts, faults, lifecycle
from prolific_emulator.errors import (
    ApiError,
    BadRequest,
    MethodNotAllowed,
    NotFound,
    ServerError,
    Unauthorized,
)
from prolific_emulator.models import Workspace

logger = logging.getLogger(__name__)

MAX_BODY_BYTES = 1_000_000
MAX_DEPTH = 20
PROLIFIC_ID = re.compile(r"^[0-9a-f]{24}$")
DEFAULT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 200


@dataclass
class Call:
    """What a handler gets: the authenticated workspace, the JSON body, the query, path ids."""

    request: HttpRequest
    workspace: Workspace
    data: dict[str, Any]
    query: QueryDict
    ids: dict[str, str]


@dataclass
class Answer:
    body: Any
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Call], Answer]


def endpoint(**methods: tuple[str, Handler]) -> Callable[..., HttpResponse]:
    """A view answering the given HTTP methods, each with an operation name and a handler."""

    @csrf_exempt
    def view(request: HttpRequest, **ids: str) -> HttpResponse:
        try:
            if request.method not in methods:
                raise MethodNotAllowed(f'Method "{request.method}" not allowed.')
            operation, handler = methods[request.method]
            return _serve(request, operation, handler, ids)
        except ApiError as error:
            return error_response(error)
        except Exception:
            logger.exception("prolific emulator: the API failed")
            return error_response(ServerError("An unexpected error occurred."))

    view.operations = {method: name for method, (name, _) in methods.items()}  # type: ignore[attr-defined]
    return view


def _serve(request: HttpRequest, operation: str, handler: Handler, ids: dict[str, str]) -> HttpResponse:
    _check_ids(ids)
    workspace = authenticate(request)
    call = Call(request, workspace, parse_body(request), checked_query(request), ids)
    rule = faults.draw(operation)
    if rule is not None:
        _before_work(rule, operation)
    lifecycle.process_due()
    with transaction.atomic():
        answer = handler(call)
    if rule is not None and rule.kind == faults.LOSE_ANSWER:
        raise faults.lost_answer(operation)
    return _response(answer)


def _before_work(rule: Any, operation: str) -> None:
    error = faults.error_for(rule, operation)
    if error is not None:
        raise error
    if rule.kind == faults.TIMEOUT:
        time.sleep(rule.seconds)


def _response(answer: Answer) -> HttpResponse:
    if answer.status == 204:
        response = HttpResponse(status=204)
    else:
        response = JsonResponse(answer.body, status=answer.status, safe=False)
    for name, value in answer.headers.items():
        response[name] = value
    return response


def error_response(error: ApiError) -> JsonResponse:
    return JsonResponse(error.body(), status=error.status)


def authenticate(request: HttpRequest) -> Workspace:
    """`Authorization: Token <token>` (Prolific's scheme) -> the token's workspace, or 401."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if not header:
        raise Unauthorized("Authentication credentials were not provided.")
    if scheme != "Token" or not token.strip():
        raise Unauthorized("Invalid token header. Use: Authorization: Token <your token>.")
    workspace = accounts.workspace_for_token(token.strip()) if accounts.TOKEN.match(token.strip()) else None
    if workspace is None:
        raise Unauthorized("Invalid token.")
    return workspace


def parse_body(request: HttpRequest) -> dict[str, Any]:
    """The JSON object of the body ({} when empty); anything else hostile or malformed is a 400."""
    try:
        raw = request.body
    except RequestDataTooBig:
        raise BadRequest("The request body is too large.") from None
    if len(raw) > MAX_BODY_BYTES:
        raise BadRequest("The request body is too large.")
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_no_constants)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise BadRequest("JSON parse error: the request body is not valid JSON.") from None
    if not isinstance(data, dict):
        raise BadRequest("The request body must be a JSON object.")
    _check_value(data, 0)
    return data


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _check_value(value: Any, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise BadRequest(f"The JSON body is nested more than {MAX_DEPTH} levels deep.")
    if isinstance(value, str) and "\x00" in value:
        raise BadRequest("Null characters are not allowed.")
    if isinstance(value, dict):
        for key, item in value.items():
            _check_value(key, depth + 1)
            _check_value(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_value(item, depth + 1)


def checked_query(request: HttpRequest) -> QueryDict:
    for key, values in request.GET.lists():
        if "\x00" in key or any("\x00" in value for value in values):
            raise BadRequest("Null characters are not allowed.")
    return request.GET


def _check_ids(ids: dict[str, str]) -> None:
    for value in ids.values():
        if not PROLIFIC_ID.match(value):
            raise NotFound("Not found.")


def paginated(request: HttpRequest, items: list[Any], show: Callable[[Any], Any]) -> dict[str, Any]:
    """Prolific's list shape: `results`, `_links` (self/next/previous/last) and `meta.count`."""
    size = _page_size(request.GET.get("page_size"))
    pages = Paginator(items, size)
    try:
        page = pages.page(request.GET.get("page", "1"))
    except EmptyPage:
        raise NotFound("Invalid page.") from None
    except Exception:
        raise NotFound("Invalid page.") from None
    return {
        "results": [show(item) for item in page.object_list],
        "_links": _links(request, page.number, pages.num_pages, page.has_next(), page.has_previous()),
        "meta": {"count": pages.count},
    }


def _page_size(given: str | None) -> int:
    if given is None:
        return DEFAULT_PAGE_SIZE
    if not given.isdigit() or not 1 <= int(given) <= MAX_PAGE_SIZE:
        raise BadRequest(f"page_size must be a whole number from 1 to {MAX_PAGE_SIZE}.")
    return int(given)


def _links(request: HttpRequest, number: int, last: int, more: bool, fewer: bool) -> dict[str, Any]:
    def href(page: int) -> dict[str, str]:
        query = request.GET.copy()
        query["page"] = str(page)
        return {"href": request.build_absolute_uri(f"{request.path}?{query.urlencode()}")}

    return {
        "self": {**href(number), "title": "Current"},
        "next": {**href(number + 1), "title": "Next"} if more else {"href": None, "title": "Next"},
        "previous": {**href(number - 1), "title": "Previous"}
        if fewer
        else {"href": None, "title": "Previous"},
        "last": {**href(last), "title": "Last"},
    }
