"""The one error type for refusals: a request that cannot be done, said in the researcher's words.

Every app's service error is a `Refusal` (`hits.services.ServiceError`,
`workers.services.WorkerServiceError`, `experiments.services.ServiceError`), so an admin action
catches one set, `(Refusal, PlatformError)`, and shows the message instead of a traceback.
"""

from __future__ import annotations


class Refusal(Exception):
    """A request that cannot be done; the message says why, in the researcher's words."""
