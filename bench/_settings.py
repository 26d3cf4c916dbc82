"""Settings for the local MTurk a benchmark serves: crowdhr's own, with the fault endpoint open so
the benchmark can set the emulator's request rate limit and latency over HTTP."""

from crowdhr.settings import *  # noqa: F403

MTURK_EMULATOR_FAULT_ENDPOINT = True
