"""Prolific's error answers.

Prolific answers errors as `{"error": {"status", "error_code", "title", "detail", ...}}` (the
reference's Error schema names `detail` and an integer `error_code`; field errors come back as
a `detail` object of field -> messages, in the style of Django REST framework, which Prolific's
API is built on). The numeric codes below are the twin's own: Prolific does not publish its list.
"""

from __future__ import annotations

from typing import Any

TITLES = {
    400: "Bad request.",
    401: "Unauthorized.",
    403: "Forbidden.",
    404: "Not found.",
    405: "Method not allowed.",
    500: "Internal server error.",
    503: "Service unavailable.",
}


class ApiError(Exception):
    """An answer of the API that is not a success; `body()` is what the client sees."""

    status = 400
    error_code = 140000

    def __init__(self, detail: str | dict[str, list[str]]) -> None:
        super().__init__(str(detail))
        self.detail = detail

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "status": self.status,
                "error_code": self.error_code,
                "title": TITLES.get(self.status, "Error."),
                "detail": self.detail,
                "additional_information": f"/api/v1/errors/{self.error_code}",
            }
        }


class BadRequest(ApiError):
    status = 400
    error_code = 140001


class ValidationFailed(ApiError):
    """Field errors: `detail` maps each field to its messages."""

    status = 400
    error_code = 140002


class InvalidTransition(ApiError):
    status = 400
    error_code = 140003


class InsufficientFunds(ApiError):
    status = 400
    error_code = 140004


class Unauthorized(ApiError):
    status = 401
    error_code = 140100


class NotFound(ApiError):
    status = 404
    error_code = 140400


class MethodNotAllowed(ApiError):
    status = 405
    error_code = 140500


class ServerError(ApiError):
    status = 500
    error_code = 150000


class Unavailable(ApiError):
    status = 503
    error_code = 150300


def field_error(field: str, message: str) -> ValidationFailed:
    """A 400 naming one field."""
    return ValidationFailed({field: [message]})
