"""Settings for the local MTurk a benchmark serves: crowdhr's own, with the fault endpoint open so
the benchmark can set the emulator's request rate limit and latency over HTTP, and its throttled
answers (4xx) not logged one by one."""

from crowdhr.settings import *  # noqa: F403
from crowdhr.settings import LOGGING

MTURK_EMULATOR_FAULT_ENDPOINT = True
LOGGING = {**LOGGING, "loggers": {**LOGGING["loggers"], "django.request": {"level": "ERROR"}}}
