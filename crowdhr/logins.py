"""Admin login throttling: django-axes counts failed logins per username and address.

After `AXES_FAILURE_LIMIT` failures the pair is locked out for `AXES_COOLOFF_TIME`; a success resets
the count. Only logins made over the web are counted (they carry a request): a call to `authenticate()`
without one (management commands, the test client's `login()`) has nothing to throttle.
"""

from __future__ import annotations

from typing import Any

from axes.backends import AxesStandaloneBackend
from django.http import HttpRequest


class LoginThrottle(AxesStandaloneBackend):
    def authenticate(self, request: HttpRequest | None = None, *args: Any, **kwargs: Any) -> None:
        if request is None:
            return None
        return super().authenticate(request, *args, **kwargs)
